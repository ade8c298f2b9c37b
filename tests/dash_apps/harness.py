"""Start real servers and Celery workers for the Dash tests, and speak Dash's callback
protocol over HTTP (what the renderer does, without a browser)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

from tests.harness import CeleryWorker, Proc, free_port, give_up_at, with_pythonpath

HERE = Path(__file__).resolve().parent
DASH_VERSION = tuple(int(p) for p in __import__("dash").__version__.split(".")[:3] if p.isdigit())
# FastAPI and Quart backends exist from dash 4.2.0; older dash serves Flask only.
BACKENDS = ["flask", "fastapi", "quart"] if DASH_VERSION >= (4, 2, 0) else ["flask"]
# Async callbacks: dash >= 3.1 and, on Flask, asgiref (dash[async]).
ASYNC_CALLBACKS = DASH_VERSION >= (3, 1, 0) and (
    BACKENDS != ["flask"] or __import__("importlib").util.find_spec("asgiref") is not None
)


def child_env(**extra) -> dict:
    return with_pythonpath(None, HERE, **extra)


class Server(Proc):
    """``serve.py MODULE PORT``: the test app on its backend's real HTTP server."""

    def __init__(self, module: str, env: dict, log: Path, timeout: float = 60):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [sys.executable, str(HERE / "serve.py"), module, str(self.port)], log, env=env, cwd=HERE
        )
        deadline = give_up_at(timeout)
        while True:
            if self.exited() is not None:
                raise RuntimeError(f"server exited ({self.exited()}):\n{self.text()[-4000:]}")
            try:
                if requests.get(self.base + "/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"server did not answer within {timeout}s:\n{self.text()[-4000:]}"
                )
            time.sleep(0.3)


def Worker(module: str, queue: str, env: dict, log: Path, timeout: float = 90) -> CeleryWorker:
    """``celery -A module:celery_app worker`` on one queue, as the user starts it, ready.

    prefork: Dash's cancel terminates the task's child process, which solo cannot do."""
    worker = CeleryWorker(
        f"{module}:celery_app",
        queue,
        log,
        pool="prefork",
        concurrency=2,
        env=env,
        cwd=HERE,
        ready_timeout=timeout,
    )
    worker.start()
    return worker.wait_ready()


def body(output: str, n_clicks=1, state=None, inputs=None) -> dict:
    """The JSON the renderer POSTs for a callback with Input btn.n_clicks, State inp.children."""
    comp, prop = output.split(".")
    return {
        "output": output,
        "outputs": {"id": comp, "property": prop},
        "inputs": inputs or [{"id": "btn", "property": "n_clicks", "value": n_clicks}],
        "state": [{"id": "inp", "property": "children", "value": state}],
        "changedPropIds": ["btn.n_clicks"],
    }


def post(base, payload, params=None, headers=None, cookies=None, timeout=30):
    return requests.post(
        base + "/_dash-update-component",
        params=params,
        json=payload,
        headers=headers,
        cookies=cookies,
        timeout=timeout,
    )


def run_background(
    base, payload, params=None, headers=None, cookies=None, timeout=60, on_poll=None
):
    """Dispatch a background callback, then poll with cacheKey/job until ``response``.

    Returns (dispatch answer, final answer, every poll answer); the final answer is
    None when the server closed the loop with 204 (PreventUpdate, no_update, cancel)."""
    first = post(base, payload, params, headers, cookies)
    assert first.status_code == 200, first.text
    started = first.json()
    assert "cacheKey" in started and "job" in started, started
    poll_params = list((params or {}).items()) if isinstance(params, dict) else list(params or [])
    poll_params += [("cacheKey", started["cacheKey"]), ("job", started["job"])]
    answers = []
    deadline = give_up_at(timeout)
    while time.monotonic() < deadline:
        r = post(base, payload, poll_params, headers, cookies)
        data = r.json() if r.status_code == 200 and r.content else {}
        answers.append((r.status_code, data))
        if on_poll:
            on_poll(r.status_code, data)
        if "response" in data:
            return started, data, answers
        if r.status_code == 204:  # finished without an update (a running job answers 200)
            return started, None, answers
        if r.status_code not in (200, 202):
            raise AssertionError(f"poll answered {r.status_code}: {r.text[:2000]}")
        time.sleep(0.2)
    raise AssertionError(f"no response within {timeout}s; last answers: {answers[-3:]}")
