"""``python -m kombu_dash demo``: started as a user starts it, driven over HTTP.

The demo runs in its own process (uvicorn for FastAPI and Quart, werkzeug for Flask); the
test POSTs the same callback requests the page sends (the page query ``?tag=a&tag=b``
forwarded and the demo cookie set, as the page template does) and compares the columns'
rows: synchronous, kombu_dash's manager, Dash's own manager.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest
import requests

from kombu_dash.cli import demo
from kombu_dash.cli.demo import app as demo_app
from kombu_dash.cli.demo import settings

from .harness import Proc, free_port

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parent.parent
PAGE_QUERY = [("tag", "a"), ("tag", "b")]
COOKIES = {settings.COOKIE_NAME: settings.COOKIE_VALUE}
DASH_VERSION = tuple(int(x) for x in version("dash").split(".")[:2])
# What kombu's json refuses first in Dash's own CeleryManager task: dash 4.2 hands it the
# QueryParams of a FastAPI request (seeds/000); from 4.3 that is a dict, and the set in
# custom_data is refused instead.
DASH_OWN_CELERY_ERROR = (
    "the task was not sent: kombu.exceptions.EncodeError: Object of type "
    + ("set" if DASH_VERSION >= (4, 3) else "QueryParams")
    + " is not JSON serializable"
)


def wait_http(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/_dash-layout", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a first request slowed by imports on a busy machine
        if time.monotonic() > deadline:
            raise AssertionError(f"{base} did not answer within {timeout}s")
        time.sleep(0.3)


def callback_body(output: str, clicks: int = 1, search: str = "?tag=a&tag=b") -> dict:
    """What the renderer POSTs for the demo's three callbacks (same inputs, one output)."""
    comp, prop = output.split(".")
    return {
        "output": output,
        "outputs": {"id": comp, "property": prop},
        "inputs": [{"id": "run", "property": "n_clicks", "value": clicks}],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["run.n_clicks"],
    }


def post(base, payload, params):
    return requests.post(
        base + "/_dash-update-component", params=params, json=payload, cookies=COOKIES, timeout=30
    )


def run_sync(base: str, params=PAGE_QUERY) -> list:
    sync = post(base, callback_body("sync-view.data"), params)
    assert sync.status_code == 200, sync.text
    return sync.json()["response"]["sync-view"]["data"]["rows"]


def run_background(base: str, store: str, params=PAGE_QUERY, timeout: float = 90):
    """Dispatch one background callback and poll it; return (rows, progress values)."""
    payload = callback_body(f"{store}.data")
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
            return data["response"][store]["data"]["rows"], progress
        time.sleep(0.2)
    raise AssertionError(f"background callback {store} did not finish in {timeout}s")


def drive_demo(base: str, params=PAGE_QUERY, timeout: float = 90):
    """Run the synchronous and kombu_dash's background callback as one click does;
    return (sync rows, background rows, progress values)."""
    sync_rows = run_sync(base, params)
    bg_rows, progress = run_background(base, "background-view", params, timeout)
    return sync_rows, bg_rows, progress


def start_demo(tmp_path, *args, env=None) -> tuple[Proc, str]:
    port = free_port()
    env = dict(os.environ if env is None else env)
    proc = Proc(
        [sys.executable, "-m", "kombu_dash", "demo", "--port", str(port), *args],
        tmp_path / f"demo-{port}.log",
        env=env,
    )
    try:
        url = proc.wait_for_text(r"Open (http://\S+)").group(1)
        assert url == f"http://127.0.0.1:{port}/?tag=a&tag=b"
        wait_http(f"http://127.0.0.1:{port}")
    except BaseException:
        proc.stop()
        raise
    return proc, f"http://127.0.0.1:{port}"


def embedded_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "REDIS_URL"}


def rows_by_expr(rows) -> dict:
    return {expr: seen for expr, seen in rows}


ARGS_TYPE = {
    "fastapi": "starlette.datastructures.QueryParams",
    "quart": "werkzeug.datastructures.structures.ImmutableMultiDict",
    "flask": "werkzeug.datastructures.structures.ImmutableMultiDict",
}
# What Dash's own DiskcacheManager hands its background callback on FastAPI (dash >= 4.3).
DASH_OWN_LOSES = {
    "type(ctx.args)": "dict",
    'ctx.args.getlist("tag")': "AttributeError: 'dict' object has no attribute 'getlist'",
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["fastapi", "flask", "quart"])
def test_embedded_demo_three_columns_from_one_click(tmp_path, backend):
    proc, base = start_demo(tmp_path, "--backend", backend, env=embedded_env())
    try:
        assert "kombu_dash.dash_managers.DiskcacheManager beside Dash's own" in proc.text()
        sync_rows, bg_rows, progress = drive_demo(base)
        own_rows, _ = run_background(base, "dash-view")
    finally:
        proc.stop()
    assert bg_rows == sync_rows
    seen = rows_by_expr(bg_rows)
    assert seen["type(ctx.args)"] == ARGS_TYPE[backend]
    assert seen['ctx.args.getlist("tag")'] == "['a', 'b']"
    assert seen["keys of ctx.args"].strip("'").split()[-2:] == ["tag", "tag"]
    assert seen['ctx.args_grouping["clicks"].value'] == "1"
    assert seen['ctx.custom_data["demo"]["tags"]'] == "set: {'a', 'b'}"
    assert seen['ctx.custom_data["demo"]["pair"]'] == "tuple: (2, 'tags')"
    assert seen['ctx.custom_data["demo"]["price"]'] == "decimal.Decimal: Decimal('19.99')"
    assert seen['ctx.custom_data["demo"]["started"]'].startswith("datetime.datetime: ")
    # Headers and cookies: Dash stores dict(headers) and dict(cookies); they match.
    assert seen["type(ctx.headers)"] == "dict"
    assert seen['ctx.headers["host"] (any case)'] == repr(base.split("//")[1])
    assert seen[f'ctx.cookies["{settings.COOKIE_NAME}"]'] == repr(settings.COOKIE_VALUE)
    assert progress and set(progress) <= {str(i) for i in range(demo.STEPS + 1)}

    # The third column: Dash's own DiskcacheManager, same click, same request.
    own = rows_by_expr(own_rows)
    assert own.keys() == seen.keys()
    if DASH_VERSION >= (4, 3) and backend == "fastapi":
        # dash PR 3817: dict(args) before dispatch (QueryParams is no dict).
        for expr, value in DASH_OWN_LOSES.items():
            assert own[expr] == value
        assert own["keys of ctx.args"].strip("'").split()[-1:] == ["tag"]  # one per key
    else:
        # werkzeug's ImmutableMultiDict is a dict subclass, which Dash leaves alone, and
        # a forked child gets the object itself (dash 4.2: on every backend).
        assert own == seen
    # What Dash keeps: headers, cookies, custom_data (no serialisation under fork).
    for expr in seen:
        if "headers" in expr or "cookies" in expr or "custom_data" in expr:
            assert own[expr] == seen[expr], expr


@pytest.mark.slow
def test_dash_managers_flag_is_accepted_and_says_it_is_not_needed(tmp_path):
    proc, base = start_demo(tmp_path, "--backend", "fastapi", "--dash-managers", env=embedded_env())
    try:
        sync_rows, bg_rows, _ = drive_demo(base)
    finally:
        proc.stop()
    assert "--dash-managers is no longer needed" in proc.text()
    assert bg_rows == sync_rows  # the middle column still runs on kombu_dash's manager


@pytest.mark.slow
@pytest.mark.broker
def test_celery_mode_dash_own_column_shows_the_task_dash_cannot_send(
    tmp_path, redis_url, unique_name
):
    """Under Celery, Dash's own CeleryManager sends json: the set in custom_data makes
    kombu refuse the task. The column shows that error (Dash alone answers HTTP 500)."""
    env = dict(os.environ, REDIS_URL=redis_url, KOMBU_DASH_DEMO_QUEUE=unique_name)
    proc, base = start_demo(tmp_path, "--backend", "fastapi", env=env)
    try:
        own_rows, _ = run_background(base, "dash-view", timeout=30)
    finally:
        proc.stop()
    command = f"KOMBU_DASH_DEMO_QUEUE={unique_name} celery -A kombu_dash.demo:celery_app"
    assert command in proc.text()
    assert own_rows == [["(the background job)", DASH_OWN_CELERY_ERROR]]


def test_port_clash_is_reported_before_any_url(capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = demo.main(["--port", str(port)])
    out, err = capsys.readouterr()
    assert code == settings.CANNOT_LISTEN == 3
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert "--port" in err
    assert "Open http" not in out and out == ""


def test_unknown_host_is_reported(capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    code = demo.main(["--host", "no-such-host.invalid", "--port", str(free_port())])
    assert code == settings.CANNOT_LISTEN
    assert "cannot listen on no-such-host.invalid:" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["fastapi", "flask"])  # uvicorn (quart too), werkzeug
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_removes_the_temporary_directory(tmp_path, backend, sig):
    """Stopped mid-job by a signal to its pid (``kill PID`` or Ctrl-C), the demo ends its
    job processes, removes /tmp/kombu-dash-demo-* and exits 0."""
    proc, base = start_demo(tmp_path, "--backend", backend, env=embedded_env())
    try:
        cache = Path(re.search(r"diskcache in (\S+)", proc.text()).group(1))
        assert cache.name.startswith("kombu-dash-demo-") and cache.is_dir()
        started = post(base, callback_body("background-view.data"), PAGE_QUERY)
        assert started.status_code == 200, started.text
        demo_process = psutil.Process(proc.popen.pid)
        jobs = demo_process.children(recursive=True)
        assert jobs, "no background job process to stop"
        os.kill(proc.popen.pid, sig)  # the demo alone, not its process group
        assert proc.popen.wait(30) == 0, proc.text()
        # Its job processes ended with it (not left running, orphaned, in the removed dir).
        assert not [j.pid for j in jobs if j.is_running() and j.status() != psutil.STATUS_ZOMBIE]
    finally:
        proc.stop()
    assert not cache.exists(), sorted(p.name for p in cache.rglob("*"))
    assert "kombu_dash demo stopped." in proc.text()
    assert "Traceback" not in proc.text(), proc.text()


# --- the page's logic, without a server ----------------------------------------------------


def view(run, rows):
    return {"run": run, "rows": [list(r) for r in rows]}


SYNC = [
    ("type(ctx.args)", "werkzeug.datastructures.structures.ImmutableMultiDict"),
    ('ctx.args.getlist("tag")', "['a', 'b']"),
]
OWN = [
    ("type(ctx.args)", "dict"),
    ('ctx.args.getlist("tag")', "AttributeError: 'dict' object has no attribute 'getlist'"),
]
NAMES = ["kombu_dash.DiskcacheManager", "dash.DiskcacheManager"]


def cells(table) -> list[list[tuple[str, str | None]]]:
    """(text, class) per cell of each body row of a rendered comparison table."""

    def text(children) -> str:
        if isinstance(children, str):
            return children
        return "".join(c for c in children if isinstance(c, str))

    body = table.children[2].children
    return [
        [(text(td.children), getattr(td, "className", None)) for td in tr.children] for tr in body
    ]


def test_comparison_marks_each_cell_against_the_synchronous_one():
    table, verdict = demo_app.comparison(view(3, SYNC), [view(3, SYNC), view(3, OWN)], None, NAMES)
    rows = cells(table)
    assert rows[0] == [
        ("type(ctx.args)", None),
        ("werkzeug.datastructures.structures.ImmutableMultiDict", None),
        ("werkzeug.datastructures.structures.ImmutableMultiDict", "kd-same"),
        ("dict", "kd-differs"),
    ]
    assert [c[1] for c in rows[1]][2:] == ["kd-same", "kd-differs"]
    assert verdict == (
        "Run 3 · kombu_dash's manager: ✔ same as synchronous (all 2 rows) · "
        "Dash's own manager: ✘ 2 of 2 rows differ"
    )


def test_comparison_while_running_and_after_cancel():
    # Run 2 started: the background columns still hold run 1, greyed, unmarked.
    table, verdict = demo_app.comparison(view(2, SYNC), [view(1, SYNC), None], None, NAMES)
    assert verdict == (
        "Run 2 · kombu_dash's manager: running… (grey: run 1) · Dash's own manager: running…"
    )
    assert {c[1] for row in cells(table) for c in row[2:]} == {"kd-stale"}
    # Cancel pressed during run 2: a visible cancelled state, not an empty status.
    _, verdict = demo_app.comparison(view(2, SYNC), [view(1, SYNC), None], 2, NAMES)
    assert verdict.startswith("Cancelled: the background jobs were stopped. Run 2 · ")
    assert "kombu_dash's manager: cancelled (grey: run 1)" in verdict
    assert "Dash's own manager: cancelled" in verdict
    # The first run cancelled: the columns say so instead of "(not run yet)".
    table, verdict = demo_app.comparison(view(1, SYNC), [None, None], 1, NAMES)
    assert "not run yet" not in verdict and verdict.count("cancelled") == 2
    assert [c[0] for c in cells(table)[0]][2:] == ["—", "—"]


def test_comparison_shows_an_error_row_in_its_own_column():
    error = [["(the background job)", "the task was not sent: kombu.exceptions.EncodeError: x"]]
    table, verdict = demo_app.comparison(
        view(1, SYNC), [view(1, SYNC), view(None, error)], None, NAMES
    )
    rows = cells(table)
    assert rows[0] == [
        ("(the background job)", None),
        ("—", None),
        ("—", "kd-same"),
        (error[0][1], "kd-differs"),
    ]  # first, where it is seen
    assert [c[1] for c in rows[1]][2:] == ["kd-same", "kd-differs"]
    assert "kombu_dash's manager: ✔ same as synchronous (all 2 rows)" in verdict
    assert "Dash's own manager: ✘ 2 of 2 rows differ" in verdict


def test_before_the_first_run_the_table_says_click_run():
    table, verdict = demo_app.comparison(None, [None, None], None, NAMES)
    assert verdict == ""
    assert cells(table) == [[("(not run yet: click Run)", None)]]


def test_long_class_names_break_at_their_dots():
    parts = demo_app.breakable("werkzeug.datastructures.structures.ImmutableMultiDict")
    texts = [p for p in parts if isinstance(p, str)]
    assert texts == ["werkzeug.", "datastructures.", "structures.", "ImmutableMultiDict"]
    assert sum(type(p).__name__ == "Wbr" for p in parts) == 3
    assert demo_app.breakable("Decimal('19.99')") == "Decimal('19.99')"


def test_describe_context_shows_errors_headers_cookies_and_sorted_sets():
    class Ctx:
        args = {"tag": "b"}
        args_grouping = {"clicks": {"value": 1}, "search": {"value": ""}}
        triggered_id = "run"
        headers = {"Host": "example:1", "User-Agent": "x"}
        cookies: dict = {}
        custom_data = {"demo": {"tags": {"b", "a"}}}

    seen = rows_by_expr(demo.describe_context(Ctx()))
    assert seen["type(ctx.args)"] == "dict"
    no_attribute = "AttributeError: 'dict' object has no attribute"
    assert seen['ctx.args.getlist("tag")'] == f"{no_attribute} 'getlist'"
    assert seen['ctx.args_grouping["clicks"].value'] == f"{no_attribute} 'value'"
    assert seen['ctx.headers["host"] (any case)'] == "'example:1'"
    assert seen["len(ctx.headers)"] == "2"
    assert seen['ctx.cookies["kombu_dash_demo"]'] == "KeyError: 'kombu_dash_demo'"
    assert seen['ctx.custom_data["demo"]["tags"]'] == "set: {'a', 'b'}"


def test_page_template_has_dash_placeholders_styles_and_the_query_forwarding():
    page = demo_app.index_string()
    for placeholder in ("{%app_entry%}", "{%config%}", "{%scripts%}", "{%renderer%}"):
        assert placeholder in page
    assert "@@" not in page
    assert ".kd-table { border-collapse: collapse; width: 100%; table-layout: fixed; }" in page
    assert '["endId", "cacheKey", "job", "oldJob", "cancelJob"].forEach' in page
    assert "kombu_dash_demo=hello" in page


def test_help_lists_the_options_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for option in ("--backend", "--port", "--host", "--dash-managers", "REDIS_URL"):
        assert option in out
    assert "exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 bad arguments" in out
    assert "3 the port is taken" in out


def test_missing_packages_are_named_with_the_pip_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert demo.main(["--backend", "fastapi"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "dash[fastapi]"' in err and "kombu_dash[demo]" in err


def test_old_module_path_still_works():
    """``kombu_dash.demo`` stays importable: scripts and ``-A kombu_dash.demo:celery_app``."""
    import kombu_dash.demo as old

    assert old.main is demo.main
    assert old.STEPS == demo.STEPS
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        old.nope  # noqa: B018


def test_importing_the_demo_loads_no_web_framework():
    code = (
        "import sys, kombu_dash.demo, kombu_dash.cli.demo as d; d.main; "
        "print(sorted(m for m in ('dash', 'celery', 'flask', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_an_installed_wheel_ships_the_page_template(tmp_path):
    """Built as a wheel (not editable), the package carries index.html and styles.css and
    the demo reads them from there."""
    from setuptools import build_meta

    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "setup.py", "pyproject.toml", "README.rst"):
        (src / name).write_bytes((ROOT / name).read_bytes())
    subprocess.run(["cp", "-r", str(ROOT / "kombu_dash"), str(src)], check=True)
    out = tmp_path / "dist"
    out.mkdir()
    cwd = os.getcwd()
    os.chdir(src)
    try:
        wheel = out / build_meta.build_wheel(str(out))
    finally:
        os.chdir(cwd)
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(installed)
    assert "kombu_dash/cli/demo/index.html" in names
    assert "kombu_dash/cli/demo/styles.css" in names
    code = (
        "import kombu_dash.cli.demo.app as a; print(a.__file__); "
        "print('{%app_entry%}' in a.index_string() and '.kd-table' in a.index_string())"
    )
    env = dict(os.environ, PYTHONPATH=str(installed))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    where, ok = done.stdout.split()
    assert where.startswith(str(installed)) and ok == "True"
