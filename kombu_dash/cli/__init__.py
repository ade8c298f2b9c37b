"""The ``python -m kombu_dash`` commands, one module each, imported only when run.

``check`` (is a Celery fleet ready for kombu_dash?), ``decode`` (print what a queued
message holds) and ``demo`` (the Dash demo, a package of its own).
"""

from __future__ import annotations

#: command name -> (module, one-line help). The names are a contract.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "kombu_dash.cli.demo",
        "run the Dash demo: a background callback sees what a synchronous one sees",
    ),
    "check": (
        "kombu_dash.cli.check",
        "send a probe task and report whether workers accept kombu_dash",
    ),
    "decode": (
        "kombu_dash.cli.decode",
        "decode a message body (stdin or a file) and print the value",
    ),
}

__all__ = ["COMMANDS"]
