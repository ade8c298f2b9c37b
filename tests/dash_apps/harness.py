"""Start real servers and Celery workers for the Dash tests, and speak Dash's callback
protocol over HTTP (what the renderer does, without a browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
DASH_VERSION = tuple(int(p) for p in __import__("dash").__version__.split(".")[:3] if p.isdigit())
# FastAPI and Quart backends exist from dash 4.2.0; older dash serves Flask only.
BACKENDS = ["flask", "fastapi", "quart"] if DASH_VERSION >= (4, 2, 0) else ["flask"]
# Async callbacks: dash >= 3.1 and, on Flask, asgiref (dash[async]).
ASYNC_CALLBACKS = DASH_VERSION >= (3, 1, 0) and (
    BACKENDS != ["flask"] or __import__("importlib").util.find_spec("asgiref") is not None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Proc:
    """A child process whose output goes to a log file we can show on failure."""

    def __init__(self, argv, env, log: Path):
        self.log = log
        self._fh = open(log, "wb")
        self.popen = subprocess.Popen(argv, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                      cwd=str(HERE), start_new_session=True)

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)  # the server and its job children
                self.popen.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(10)
        self._fh.close()


class Server(Proc):
    def __init__(self, module: str, env: dict, log: Path, timeout: float = 60):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, str(HERE / "serve.py"), module, str(self.port)], env, log)
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"server exited ({self.popen.returncode}):\n{self.text()}")
            try:
                if requests.get(self.base + "/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer within {timeout}s:\n{self.text()}")
            time.sleep(0.3)


class Worker(Proc):
    """``celery -A module:celery_app worker`` on one queue, as the user starts it.

    prefork: Dash's cancel terminates the task's child process, which solo cannot do."""

    def __init__(self, module: str, queue: str, env: dict, log: Path, timeout: float = 90):
        argv = [sys.executable, "-m", "celery", "-A", f"{module}:celery_app", "worker", "-Q", queue,
                "-P", "prefork", "-c", "2", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "-n", f"{queue}@%h"]
        super().__init__(argv, env, log)
        deadline = time.monotonic() + timeout
        while "ready." not in self.text():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker did not start:\n{self.text()}")
            time.sleep(0.3)


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
    return requests.post(base + "/_dash-update-component", params=params, json=payload,
                         headers=headers, cookies=cookies, timeout=timeout)


def run_background(base, payload, params=None, headers=None, cookies=None, timeout=60, on_poll=None):
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
    deadline = time.monotonic() + timeout
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
