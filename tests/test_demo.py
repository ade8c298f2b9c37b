"""``python -m kombu_dash demo``: started as a user starts it, driven over HTTP.

The demo runs in its own process (uvicorn for FastAPI and Quart, werkzeug for Flask); the
test POSTs the same callback requests the page sends (the page query ``?tag=a&tag=b``
forwarded, as the page template does) and compares the two panels' rows.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
import requests

from kombu_dash import demo

pytestmark = pytest.mark.timeout(180)

PAGE_QUERY = [("tag", "a"), ("tag", "b")]
DASH_VERSION = tuple(int(x) for x in version("dash").split(".")[:2])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A command in its own process group, output in a log file; stopped by its pid."""

    def __init__(self, argv, env, log: Path, cwd=None):
        self.log = log
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log.open("wb"),
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.popen.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"{pattern!r} not seen (exit {self.popen.poll()}):\n{self.text()[-3000:]}")

    def stop(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, 15)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, 9)
                self.popen.wait(15)


def wait_http(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/_dash-layout", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base} did not answer within {timeout}s")
        time.sleep(0.3)


def callback_body(output: str, clicks: int = 1, search: str = "?tag=a&tag=b") -> dict:
    """What the renderer POSTs for the demo's two callbacks (same inputs, one output)."""
    comp, prop = output.split(".")
    return {
        "output": output,
        "outputs": {"id": comp, "property": prop},
        "inputs": [{"id": "run", "property": "n_clicks", "value": clicks}],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["run.n_clicks"],
    }


def post(base, payload, params):
    return requests.post(base + "/_dash-update-component", params=params, json=payload, timeout=30)


def drive_demo(base: str, params=PAGE_QUERY, timeout: float = 90):
    """Run both callbacks as one click does; return (sync rows, background rows, progress values)."""
    sync = post(base, callback_body("sync-view.data"), params)
    assert sync.status_code == 200, sync.text
    sync_rows = sync.json()["response"]["sync-view"]["data"]

    payload = callback_body("background-view.data")
    started = post(base, payload, params)
    assert started.status_code == 200, started.text
    handles = started.json()
    assert {"cacheKey", "job", "cancel"} <= handles.keys(), handles
    poll = list(params) + [("cacheKey", handles["cacheKey"]), ("job", handles["job"])]
    progress = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = post(base, payload, poll)
        assert r.status_code in (200, 202), f"{r.status_code}: {r.text[:2000]}"
        data = r.json() if r.content else {}
        if "progress" in data:
            progress.append(data["progress"]["progress.value"])
        if "response" in data:
            return sync_rows, data["response"]["background-view"]["data"], progress
        time.sleep(0.2)
    raise AssertionError(f"background callback did not finish in {timeout}s")


def start_demo(tmp_path, *args, env=None) -> tuple[Proc, str]:
    port = free_port()
    env = dict(os.environ if env is None else env)
    proc = Proc([sys.executable, "-m", "kombu_dash", "demo", "--port", str(port), *args], env,
                tmp_path / f"demo-{port}.log")
    try:
        url = proc.wait_for(r"Open (http://\S+)").group(1)
        assert url == f"http://127.0.0.1:{port}/?tag=a&tag=b"
        wait_http(f"http://127.0.0.1:{port}")
    except BaseException:
        proc.stop()
        raise
    return proc, f"http://127.0.0.1:{port}"


def rows_by_expr(rows) -> dict:
    return {expr: seen for expr, seen in rows}


ARGS_TYPE = {
    "fastapi": "starlette.datastructures.QueryParams",
    "quart": "werkzeug.datastructures.structures.ImmutableMultiDict",
    "flask": "werkzeug.datastructures.structures.ImmutableMultiDict",
}


@pytest.mark.slow  # starts the demo server and drives it over HTTP
@pytest.mark.parametrize("backend", ["fastapi", "flask", "quart"])
def test_embedded_demo_background_sees_what_sync_sees(tmp_path, backend):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # embedded diskcache mode
    proc, base = start_demo(tmp_path, "--backend", backend, env=env)
    try:
        assert "kombu_dash.dash_managers.DiskcacheManager" in proc.text()
        sync_rows, bg_rows, progress = drive_demo(base)
    finally:
        proc.stop()
    assert bg_rows == sync_rows
    seen = rows_by_expr(bg_rows)
    assert seen["type(ctx.args)"] == ARGS_TYPE[backend]
    assert seen['ctx.args.getlist("tag")'] == "['a', 'b']"
    assert seen['ctx.args_grouping["clicks"].value'] == "1"
    assert seen['ctx.custom_data["demo"]["tags"]'] == "set: {'a', 'b'}"
    assert seen['ctx.custom_data["demo"]["pair"]'] == "tuple: (2, 'tags')"
    assert seen['ctx.custom_data["demo"]["price"]'] == "decimal.Decimal: Decimal('19.99')"
    assert seen['ctx.custom_data["demo"]["started"]'].startswith("datetime.datetime: ")
    assert progress and set(progress) <= {str(i) for i in range(demo.STEPS + 1)}


@pytest.mark.slow
def test_dash_managers_flag_shows_what_dash_alone_loses(tmp_path):
    """The comparison the demo offers: Dash's own DiskcacheManager hands the worker a dict."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc, base = start_demo(tmp_path, "--backend", "fastapi", "--dash-managers", env=env)
    try:
        sync_rows, bg_rows, _ = drive_demo(base)
    finally:
        proc.stop()
    sync, bg = rows_by_expr(sync_rows), rows_by_expr(bg_rows)
    assert sync['ctx.args.getlist("tag")'] == "['a', 'b']"
    if DASH_VERSION >= (4, 3):  # dash PR 3817: dict(args) before dispatch
        assert bg["type(ctx.args)"] == "dict"
        assert bg['ctx.args.getlist("tag")'].startswith("AttributeError")
    else:  # dash 4.2 hands a forked child the request's own object
        assert bg == sync


def test_describe_context_shows_errors_and_sorted_sets():
    class Ctx:
        args = {"tag": "b"}
        args_grouping = {"clicks": {"value": 1}, "search": {"value": ""}}
        triggered_id = "run"
        custom_data = {"demo": {"tags": {"b", "a"}}}

    seen = rows_by_expr(demo.describe_context(Ctx()))
    assert seen["type(ctx.args)"] == "dict"
    assert seen['ctx.args.getlist("tag")'] == "AttributeError: 'dict' object has no attribute 'getlist'"
    assert seen['ctx.args_grouping["clicks"].value'] == "AttributeError: 'dict' object has no attribute 'value'"
    assert seen['ctx.custom_data["demo"]["tags"]'] == "set: {'a', 'b'}"


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--backend", "--port", "--host", "--dash-managers", "REDIS_URL"):
        assert option in out


def test_missing_packages_are_named_with_the_pip_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert demo.main(["--backend", "fastapi"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "dash[fastapi]"' in err and 'kombu_dash[demo]' in err
