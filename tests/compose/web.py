"""The compose stack's web service: three servers, one process each.

    :8050  the demo, ``python -m kombu_dash demo --backend fastapi`` (what a user opens)
    :8051  tests/dash_apps/parity_app.py on Flask (werkzeug's server)
    :8052  tests/dash_apps/parity_app.py on FastAPI (uvicorn)

If one server exits, the others are stopped and the service exits with its code, so a
broken server shows in ``docker compose ps`` instead of hiding behind a live one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PARITY = {"flask": 8051, "fastapi": 8052}


def serve_parity(backend: str, port: int) -> None:
    os.environ["KD_BACKEND"] = backend  # read by parity_app at import
    os.environ.setdefault("KD_MANAGER", "celery")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dash_apps"))
    import parity_app

    if backend == "flask":
        from werkzeug.serving import make_server

        make_server("0.0.0.0", port, parity_app.app.server, threaded=True).serve_forever()
    else:
        import uvicorn

        uvicorn.run(parity_app.app.server, host="0.0.0.0", port=port, log_level="warning")


def main() -> int:
    if sys.argv[1:2] == ["--parity"]:
        serve_parity(sys.argv[2], int(sys.argv[3]))
        return 0
    commands = [
        [
            sys.executable,
            "-m",
            "kombu_dash",
            "demo",
            "--backend",
            "fastapi",
            "--host",
            "0.0.0.0",
            "--port",
            "8050",
        ]
    ]
    commands += [
        [sys.executable, "-m", "tests.compose.web", "--parity", backend, str(port)]
        for backend, port in PARITY.items()
    ]
    children = [subprocess.Popen(argv) for argv in commands]
    stopping = []

    def stop(*_: object) -> None:
        stopping.append(True)
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()  # a server exited: stop the others
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
    if len(stopping) > 1:  # asked to stop (docker stop): not a failure
        return 0
    return next((c.returncode for c in children if c.returncode), 1)


if __name__ == "__main__":
    sys.exit(main())
