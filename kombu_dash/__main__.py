"""``python -m kombu_dash <command>``: demo, check, decode.

The commands live in :mod:`kombu_dash.cli`, each imported only when run.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from .cli import COMMANDS


def usage() -> str:
    lines = ["usage: python -m kombu_dash <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    code: int = module.main(rest)
    return code


if __name__ == "__main__":
    sys.exit(main())
