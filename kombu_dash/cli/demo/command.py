"""``python -m kombu_dash demo``: parse the options, check what is needed, run."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from collections.abc import Sequence

from .settings import BACKENDS, CANNOT_LISTEN, DEFAULT_PORT, DEMO_QUERY, NO_REDIS, OK, USAGE

EPILOG = (
    f"exit codes: {OK} stopped (Ctrl-C or SIGTERM); {USAGE} bad arguments or a missing "
    f"package (the pip line is printed); {CANNOT_LISTEN} the port is taken or the host "
    f"cannot be bound; {NO_REDIS} REDIS_URL is set but no Redis answers there."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kombu_dash demo",
        description="A Dash page that runs one callback three ways (synchronously, on "
        "kombu_dash's background manager, on Dash's own) and shows side by side "
        "what each saw of the request. Set REDIS_URL to run the background "
        "callbacks on Celery instead of diskcache.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--backend", choices=BACKENDS, default="fastapi", help="Dash backend (default fastapi)"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    opts = parser().parse_args(sys.argv[1:] if argv is None else argv)
    from .runner import missing

    celery = bool(os.environ.get("REDIS_URL"))
    needed = missing([opts.backend, "celery" if celery else "diskcache"])
    if needed:
        print(
            f"The demo needs more packages: pip install {' '.join(needed)}\n"
            '(or: pip install "kombu_dash[demo]")',
            file=sys.stderr,
        )
        return USAGE
    from .runner import CannotListen, Stopped, listen, redis_problem, stop_jobs, stop_on_signals

    if celery:
        # Checked before anything is served: with no Redis, Dash's dispatch would wait on
        # the broker and the page would show nothing at all after Run.
        problem = redis_problem(os.environ["REDIS_URL"])
        if problem:
            print(
                f"kombu_dash demo: no Redis answers at REDIS_URL={os.environ['REDIS_URL']} "
                f"({problem}). Start Redis there, or unset REDIS_URL to run the background "
                "callbacks on diskcache.",
                file=sys.stderr,
            )
            return NO_REDIS

    try:
        sock = listen(opts.host, opts.port)
    except CannotListen as exc:
        print(
            f"kombu_dash demo: {exc}. Is another demo or server running there? "
            "Choose another port with --port.",
            file=sys.stderr,
        )
        return CANNOT_LISTEN
    with sock, stop_on_signals():
        try:
            if celery:
                _run(opts, sock, None)
            else:
                with tempfile.TemporaryDirectory(
                    prefix="kombu-dash-demo-", ignore_cleanup_errors=True
                ) as tmp:
                    try:
                        _run(opts, sock, tmp)
                    finally:
                        stop_jobs()
        except (KeyboardInterrupt, Stopped):
            pass
    print("kombu_dash demo stopped.", flush=True)
    return OK


def _run(opts: argparse.Namespace, sock: socket.socket, tmp: str | None) -> None:
    import kombu_dash  # the public call, loaded by now; where it lives is the codec's concern

    from .app import build_app
    from .managers import celery_managers, diskcache_managers, redis_url, worker_command
    from .report import type_name
    from .runner import serve

    command = None
    if tmp is None:
        managers = celery_managers()
        command = worker_command()
        print(
            f"Background callbacks run on Celery ({redis_url()}). "
            f"Start the worker with:\n    {command}",
            flush=True,
        )
    else:
        managers = diskcache_managers(tmp)
    label = (
        f"kombu_dash demo · backend {opts.backend} · {type_name(managers.kombu_dash)} "
        f"beside Dash's own {managers.kind} · {managers.where} · {kombu_dash.engine_info()}"
    )
    app = build_app(opts.backend, managers, label=label, worker_command=command)
    host = "127.0.0.1" if opts.host in ("0.0.0.0", "::") else opts.host
    port = sock.getsockname()[1]
    print(f"{label}\nOpen http://{host}:{port}/?{DEMO_QUERY} and click Run.", flush=True)
    serve(app, opts.backend, sock)
