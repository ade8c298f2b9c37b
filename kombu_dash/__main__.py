"""``python -m kombu_dash <command>``: demo, check, decode; ``--version``.

The commands live in :mod:`kombu_dash.cli`, each imported only when run.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Sequence

from .cli import COMMANDS

#: The exit code of a command whose output was closed early (``... | head -1``): what a
#: shell reports for a Unix tool that SIGPIPE ended.
CLOSED_PIPE = 128 + signal.SIGPIPE


def usage() -> str:
    lines = ["usage: python -m kombu_dash <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    lines += [
        "",
        "options:",
        "  --version  print kombu_dash's version, engine and JSON backend",
        "  -h, --help print this help",
        "",
        "A command whose output is closed early (| head) stops quietly with exit code "
        f"{CLOSED_PIPE}.",
    ]
    return "\n".join(lines)


def version() -> str:
    """``kombu_dash 0.1.0 (C engine, orjson 3.11.4)``: what this interpreter runs."""
    import kombu_dash  # the public call, loaded by now; where it lives is the codec's concern

    return str(kombu_dash.engine_info())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except BrokenPipeError:
        return _output_closed()
    return code


def _run(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(version())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    code: int = module.main(rest)
    return code


def _output_closed() -> int:
    # Like other Unix tools when the reader goes away (`| head`): no traceback, no
    # message. Whatever is still buffered goes nowhere, so Python's final flush at exit
    # cannot fail and print "Exception ignored ... BrokenPipeError".
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CLOSED_PIPE


if __name__ == "__main__":
    sys.exit(main())
