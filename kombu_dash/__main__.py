"""``python -m kombu_dash <command>``: demo, check, decode.

Each command lives in its own module and is imported only when run.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "demo": ("kombu_dash.demo", "run the Dash demo: a background callback sees what a synchronous one sees"),
    "check": ("kombu_dash.check", "send a probe task and report whether workers accept kombu_dash"),
    "decode": ("kombu_dash.decode", "decode a message body (stdin or a file) and print the value"),
}


def usage() -> str:
    lines = ["usage: python -m kombu_dash <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())
