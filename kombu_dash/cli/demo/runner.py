"""Serving the demo: the listening socket first, then the URL, then the server; the
temporary directory removed however the process is stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import socket
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

#: What each mode imports, and the pip line that provides it.
_NEEDS = {
    "fastapi": (("fastapi", "uvicorn"), '"dash[fastapi]"'),
    "quart": (("quart", "uvicorn"), '"dash[quart]" uvicorn'),
    "flask": (("flask",), "dash"),
    "diskcache": (("diskcache", "multiprocess", "psutil"), '"dash[diskcache]"'),
    "celery": (("celery", "redis"), '"celery[redis]"'),
}


def missing(modes: list[str]) -> list[str]:
    """pip arguments for the modes whose modules are not importable."""
    lines = [] if importlib.util.find_spec("dash") else ["dash"]
    for mode in modes:
        modules, pip = _NEEDS[mode]
        if not all(importlib.util.find_spec(m) for m in modules):
            lines.append(pip)
    return lines


def redis_problem(url: str, timeout: float = 3.0) -> str | None:
    """Why no Redis answers a PING at ``url`` (the exception, in one line), or None."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any reason is reported, none is a traceback
        return f"{type(exc).__name__}: {exc}"
    return None


class CannotListen(Exception):
    """The address is taken (another demo or server) or cannot be bound."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, made before anything is printed, so a port
    clash is reported as such and not after "Open http://…"."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock = socket.socket(family, kind, proto)
    # As uvicorn and werkzeug do: a previous run's TIME_WAIT is not a clash (on Linux,
    # SO_REUSEADDR still refuses a port another socket listens on).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason}") from exc
    return sock


class Stopped(Exception):
    """SIGTERM arrived: unwind so every ``with`` block (the temporary directory) exits."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stopped()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM unwind; the previous handlers are restored after.

    Ctrl-C is handled explicitly, as uvicorn does for the other backends: Python leaves
    SIGINT ignored when the process started with it ignored (a script's ``demo &``, a
    test runner started in the background), and werkzeug's server would then never stop
    on it."""
    previous = (
        signal.signal(signal.SIGTERM, _on_sigterm),
        signal.signal(signal.SIGINT, signal.default_int_handler),
    )
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def stop_jobs() -> None:
    """End the diskcache jobs still running: they write into the temporary directory.

    A job that outlives SIGTERM is killed: it inherited this process's SIGTERM handler at
    the fork (the job's own code may catch what the handler raises). Left alive, it would
    hold the exit forever (multiprocess joins its children at exit, without a timeout)."""
    if "multiprocess" not in sys.modules:
        return
    import multiprocess

    children = multiprocess.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join(5)


def serve(app: Any, backend: str, sock: socket.socket) -> None:
    """Serve ``app.server`` on ``sock`` the way a user deploys it: uvicorn (ASGI) or
    werkzeug (WSGI)."""
    if backend == "flask":
        from werkzeug.serving import make_server

        host, port = sock.getsockname()[:2]
        server = make_server(host, port, app.server, threaded=True, fd=sock.fileno())
        server.serve_forever()
    else:
        import uvicorn

        # uvicorn handles SIGINT/SIGTERM itself, shuts down, then raises the signal
        # again for the handlers it found (ours).
        uvicorn.Server(uvicorn.Config(app.server, log_level="warning")).run(sockets=[sock])
