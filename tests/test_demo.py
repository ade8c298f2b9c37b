"""``python -m kombu_dash demo``: started as a user starts it, driven over HTTP.

The demo runs in its own process (uvicorn for FastAPI and Quart, werkzeug for Flask); the
test POSTs the same callback requests the page sends (the page query ``?tag=a&tag=b``
forwarded and the demo cookie set, as the page template does) and compares the columns'
rows: synchronous, kombu_dash's manager, Dash's own manager. Each background column is
one job for the request's rows and one per custom_data value (report.PARTS).
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
from kombu_dash.cli.demo import report, settings

from .harness import PATIENCE, CeleryWorker, Proc, free_port, give_up_at

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parent.parent
PAGE_QUERY = [("tag", "a"), ("tag", "b")]
COOKIES = {settings.COOKIE_NAME: settings.COOKIE_VALUE}
DASH_VERSION = tuple(int(x) for x in version("dash").split(".")[:2])
NOT_SENT = "the task was not sent: kombu.exceptions.EncodeError: Object of type {} is not JSON serializable"
NO_GETLIST = "AttributeError: 'dict' object has no attribute 'getlist'"
NO_VALUE = "AttributeError: 'dict' object has no attribute 'value'"


def wait_http(base: str, timeout: float = 90) -> None:
    deadline = give_up_at(timeout)
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
    """What the renderer POSTs for the demo's callbacks (same inputs, one output)."""
    comp, prop = output.split(".")
    state = [{"id": "url", "property": "search", "value": search}]
    if comp.startswith("view-") and not comp.endswith("-request"):
        state.append({"id": comp, "property": "id", "value": comp})  # a custom_data job's
    return {
        "output": output,
        "outputs": {"id": comp, "property": prop},
        "inputs": [{"id": "run", "property": "n_clicks", "value": clicks}],
        "state": state,
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


class Job:
    """One background callback: dispatched, then polled until it answers."""

    def __init__(self, base: str, store: str, params=PAGE_QUERY):
        self.base, self.store, self.params = base, store, list(params)
        self.payload = callback_body(f"{store}.data")
        started = post(base, self.payload, self.params)
        assert started.status_code == 200, started.text
        handles = started.json()
        assert {"cacheKey", "job", "cancel"} <= handles.keys(), handles
        self.poll_params = self.params + [
            ("cacheKey", handles["cacheKey"]),
            ("job", handles["job"]),
        ]
        self.progress: list = []
        self.rows: list | None = None

    def poll(self) -> bool:
        """One poll; True once the job's rows are in."""
        r = post(self.base, self.payload, self.poll_params)
        assert r.status_code in (200, 202), f"{r.status_code}: {r.text[:2000]}"
        data = r.json() if r.content else {}
        if "progress" in data:
            self.progress.append(data["progress"]["progress.value"])
        if "response" in data:
            self.rows = data["response"][self.store]["data"]["rows"]
        return self.rows is not None


def run_jobs(base: str, stores: list[str], params=PAGE_QUERY, timeout: float = 90) -> list[Job]:
    """Dispatch every store's job (as one click does), then poll them all until done."""
    jobs = [Job(base, store, params) for store in stores]
    deadline = give_up_at(timeout)
    while time.monotonic() < deadline:
        if all([job.rows is not None or job.poll() for job in jobs]):
            return jobs
        time.sleep(0.2)
    waiting = [job.store for job in jobs if job.rows is None]
    raise AssertionError(f"background callbacks {waiting} did not finish in {timeout}s")


def run_column(base: str, column: str, params=PAGE_QUERY, timeout: float = 90):
    """Every job of one background column ("kd" or "dash"); return (rows in table order,
    progress values)."""
    jobs = run_jobs(base, [report.store_id(column, part) for part in report.PARTS], params, timeout)
    return [row for job in jobs for row in job.rows], jobs[0].progress


def drive_demo(base: str, params=PAGE_QUERY, timeout: float = 90):
    """Run the synchronous callback and kombu_dash's column as one click does; return
    (sync rows, background rows, progress values)."""
    sync_rows = run_sync(base, params)
    bg_rows, progress = run_column(base, "kd", params, timeout)
    return sync_rows, bg_rows, progress


def start_demo(tmp_path, *args, env=None, sigint_ignored=False) -> tuple[Proc, str]:
    """The demo on a free port, serving. ``sigint_ignored``: started as a shell script's
    background job is, with SIGINT ignored (exec keeps the pid and the disposition)."""
    port = free_port()
    env = dict(os.environ if env is None else env)
    argv = [sys.executable, "-m", "kombu_dash", "demo", "--port", str(port), *args]
    if sigint_ignored:
        argv = ["sh", "-c", 'trap \'\' INT; exec "$0" "$@"', *argv]
    proc = Proc(
        argv,
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


def start_worker(tmp_path, command: str, env: dict) -> CeleryWorker:
    """The worker the demo's printed command starts (its -A target and queue)."""
    target = re.search(r"celery -A (\S+) worker", command).group(1)
    queue = env["KOMBU_DASH_DEMO_QUEUE"]
    worker = CeleryWorker(
        target, queue, tmp_path / "worker.log", pool="prefork", concurrency=2, env=env
    )
    worker.start()
    return worker.wait_ready()


ARGS_TYPE = {
    "fastapi": "starlette.datastructures.QueryParams",
    "quart": "werkzeug.datastructures.structures.ImmutableMultiDict",
    "flask": "werkzeug.datastructures.structures.ImmutableMultiDict",
}
# What Dash's own DiskcacheManager hands its background callback on FastAPI (dash >= 4.3).
DASH_OWN_LOSES = {"type(ctx.args)": "dict", 'ctx.args.getlist("tag")': NO_GETLIST}
TAGS = report.value_expr("tags")
PAIR = report.value_expr("pair")


def assert_what_kombu_dash_keeps(seen: dict, backend: str, base: str) -> None:
    assert seen["type(ctx.args)"] == ARGS_TYPE[backend]
    assert seen['ctx.args.getlist("tag")'] == "['a', 'b']"
    assert seen["keys of ctx.args"].split()[-2:] == ["tag", "tag"]
    assert seen['ctx.args_grouping["clicks"].value'] == "1"
    assert seen[TAGS] == "set: {'a', 'b'}"
    assert seen[PAIR] == "tuple: (2, 'tags')"
    assert seen[report.value_expr("price")] == "decimal.Decimal: Decimal('19.99')"
    assert seen[report.value_expr("started")].startswith("datetime.datetime: ")
    # Headers and cookies: Dash stores dict(headers) and dict(cookies); they match.
    assert seen["type(ctx.headers)"] == "dict"
    assert seen['ctx.headers["host"] (any case)'] == repr(base.split("//")[1])
    assert seen[f'ctx.cookies["{settings.COOKIE_NAME}"]'] == repr(settings.COOKIE_VALUE)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["fastapi", "flask", "quart"])
def test_embedded_demo_three_columns_from_one_click(tmp_path, backend):
    proc, base = start_demo(tmp_path, "--backend", backend, env=embedded_env())
    try:
        assert "kombu_dash.dash_managers.DiskcacheManager beside Dash's own" in proc.text()
        sync_rows, bg_rows, progress = drive_demo(base)
        own_rows, _ = run_column(base, "dash")
    finally:
        proc.stop()
    assert bg_rows == sync_rows
    seen = rows_by_expr(bg_rows)
    assert_what_kombu_dash_keeps(seen, backend, base)
    assert progress and set(progress) <= {str(i) for i in range(demo.STEPS + 1)}

    # The third column: Dash's own DiskcacheManager, same click, same request.
    own = rows_by_expr(own_rows)
    assert list(own) == list(seen)
    if DASH_VERSION >= (4, 3) and backend == "fastapi":
        # dash PR 3817: dict(args) before dispatch (QueryParams is no dict).
        for expr, value in DASH_OWN_LOSES.items():
            assert own[expr] == value
        assert own["keys of ctx.args"].split()[-1:] == ["tag"]  # one per key
        assert own['ctx.args["tag"]'] == "'b'"  # dict(QueryParams): the last value
    else:
        # werkzeug's ImmutableMultiDict is a dict subclass, which Dash leaves alone, and
        # a forked child gets the object itself (dash 4.2: on every backend).
        assert own == seen
    # What Dash keeps: headers, cookies, custom_data (no serialisation under fork).
    for expr in seen:
        if "headers" in expr or "cookies" in expr or "custom_data" in expr:
            assert own[expr] == seen[expr], expr


@pytest.mark.slow
@pytest.mark.broker
@pytest.mark.parametrize("backend", ["fastapi", "flask", "quart"])
def test_celery_mode_each_row_of_dash_own_column_stands_on_its_own(
    tmp_path, redis_url, unique_name, backend
):
    """Under Celery, Dash's own CeleryManager sends json: the set in custom_data cannot be
    sent, and only its row says so; the request's rows still reach the worker and show
    the multi-dict lost (getlist gone), the tuple row a list. kombu_dash's column keeps
    everything. One worker, started with the command the demo prints, runs both."""
    env = dict(os.environ, REDIS_URL=redis_url, KOMBU_DASH_DEMO_QUEUE=unique_name)
    proc, base = start_demo(tmp_path, "--backend", backend, env=env)
    worker = None
    try:
        command = re.search(r"Start the worker with:\n\s+(.+)\n", proc.text()).group(1)
        assert command == (
            f"REDIS_URL={redis_url} KOMBU_DASH_DEMO_QUEUE={unique_name} "
            "celery -A kombu_dash.cli.demo:celery_app worker --loglevel=INFO"
        )
        worker = start_worker(tmp_path, command, env)  # the target and environment printed
        sync_rows = run_sync(base)
        kd_rows, _ = run_column(base, "kd")
        own_rows, _ = run_column(base, "dash")
    finally:
        if worker is not None:
            worker.stop()
        proc.stop()
    assert kd_rows == sync_rows
    assert_what_kombu_dash_keeps(rows_by_expr(kd_rows), backend, base)
    sync, own = rows_by_expr(sync_rows), rows_by_expr(own_rows)
    assert list(own) == list(sync)
    if DASH_VERSION < (4, 3) and backend == "fastapi":
        # dash 4.2 hands kombu's json the QueryParams itself: no job of Dash's is sent.
        assert set(own.values()) == {NOT_SENT.format("QueryParams")}
        return
    assert own[TAGS] == NOT_SENT.format("set")  # this row only
    assert own["type(ctx.args)"] == "dict"
    assert own['ctx.args.getlist("tag")'] == NO_GETLIST
    assert own["keys of ctx.args"].split()[-1:] == ["tag"]
    assert own['ctx.args_grouping["clicks"].value'] == NO_VALUE
    assert own[PAIR] == "list: [2, 'tags']"
    same = [expr for expr in sync if own[expr] == sync[expr]]
    assert same == [
        'ctx.args["tag"]',  # werkzeug's first value, starlette's last: what dict() keeps
        "ctx.triggered_id",
        "type(ctx.headers)",
        "len(ctx.headers)",
        'ctx.headers["host"] (any case)',
        f'ctx.cookies["{settings.COOKIE_NAME}"]',
        report.value_expr("started"),  # kombu's json carries datetimes and Decimals
        report.value_expr("price"),
    ]


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


def test_redis_url_without_a_redis_is_reported_before_any_url(capsys, monkeypatch):
    """With no Redis, Dash's dispatch would wait on the broker and the page would stay
    blank after Run: the demo says so and stops instead."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("REDIS_URL", url)
    code = demo.main(["--port", str(free_port())])
    out, err = capsys.readouterr()
    assert code == settings.NO_REDIS == 4
    assert err.startswith(f"kombu_dash demo: no Redis answers at REDIS_URL={url} (")
    assert "Connection refused" in err and "unset REDIS_URL" in err
    assert out == ""


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
    job processes, removes /tmp/kombu-dash-demo-* and exits 0. Ctrl-C reaches a demo
    started with SIGINT ignored (as a background job is): on Flask it used to be ignored."""
    proc, base = start_demo(
        tmp_path, "--backend", backend, env=embedded_env(), sigint_ignored=sig == signal.SIGINT
    )
    try:
        cache = Path(re.search(r"diskcache in (\S+)", proc.text()).group(1))
        assert cache.name.startswith("kombu-dash-demo-") and cache.is_dir()
        started = post(base, callback_body(report.store_id("kd", "request") + ".data"), PAGE_QUERY)
        assert started.status_code == 200, started.text
        demo_process = psutil.Process(proc.popen.pid)
        jobs = demo_process.children(recursive=True)
        assert jobs, "no background job process to stop"
        os.kill(proc.popen.pid, sig)  # the demo alone, not its process group
        assert proc.popen.wait(30 * PATIENCE) == 0, proc.text()
        # Its job processes ended with it (not left running, orphaned, in the removed dir).
        assert not [j.pid for j in jobs if j.is_running() and j.status() != psutil.STATUS_ZOMBIE]
    finally:
        proc.stop()
    assert not cache.exists(), sorted(p.name for p in cache.rglob("*"))
    assert "kombu_dash demo stopped." in proc.text()
    assert "Traceback" not in proc.text(), proc.text()


def _stubborn_job(ready) -> None:
    # what a job forked from the demo can be: one that does not end on SIGTERM (it caught
    # what the inherited handler raised, or it waits on a lock held at the fork)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    while True:
        time.sleep(1)


def test_stopping_kills_a_job_that_outlives_sigterm():
    """The demo joins its job processes on the way out; one that ignores SIGTERM is
    killed rather than left holding the exit (multiprocess joins children at exit, with no
    timeout)."""
    import multiprocess

    from kombu_dash.cli.demo import runner

    ready = multiprocess.Event()
    job = multiprocess.Process(target=_stubborn_job, args=(ready,))
    job.start()
    try:
        assert ready.wait(30 * PATIENCE)
        runner.stop_jobs()
        assert not job.is_alive() and job.exitcode == -signal.SIGKILL
    finally:
        if job.is_alive():
            job.kill()


# --- the page's logic, without a server ----------------------------------------------------


def view(run, rows):
    return {"run": run, "rows": [list(r) for r in rows]}


def fake_rows(part: str, **changed: str) -> list[list[str]]:
    """Rows of one part, each value named after its expression; ``changed`` overrides."""
    return [[expr, changed.get(expr, f"seen {expr}")] for expr in report.expressions(part)]


SYNC = [row for part in report.PARTS for row in fake_rows(part)]
ROWS = len(SYNC)  # 11 request rows + 4 custom_data values
NAMES = ["kombu_dash.DiskcacheManager", "dash.DiskcacheManager"]
GETLIST = 'ctx.args.getlist("tag")'


def column(run, **parts) -> dict:
    """A background column: every part's view for ``run``, ``parts`` overriding some."""
    views = {part: view(run, fake_rows(part)) for part in report.PARTS}
    views.update(parts)
    return views


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
    own = column(3, request=view(3, fake_rows("request", **{GETLIST: "AttributeError: x"})))
    table, verdict, why = demo_app.comparison(view(3, SYNC), [column(3), own], None, NAMES)
    rows = cells(table)
    assert len(rows) == ROWS  # the counts below are over the rows the table shows
    by_expr = {row[0][0]: row for row in rows}
    assert by_expr[GETLIST] == [
        (GETLIST, None),
        (f"seen {GETLIST}", None),
        (f"seen {GETLIST}", "kd-same"),
        ("AttributeError: x", "kd-differs"),
    ]
    assert {row[2][1] for row in rows} == {"kd-same"}
    assert [row[0][0] for row in rows if row[3][1] == "kd-differs"] == [GETLIST]
    assert verdict == (
        f"Run 3 · kombu_dash's manager: ✔ same as synchronous (all {ROWS} rows) · "
        f"Dash's own manager: ✘ 1 of {ROWS} rows differ"
    )
    assert why == ""  # Dash's own lost something: the table says what


def test_a_value_one_manager_cannot_send_marks_only_its_own_row():
    error = Exception(
        "An error occurred inside a background callback: the task was not sent: "
        "kombu.exceptions.EncodeError: Object of type set is not JSON serializable\nTraceback"
    )
    tags = demo_app._error_view("tags")(error)
    assert tags == {"run": None, "rows": [[TAGS, NOT_SENT.format("set")]]}
    own = column(2, request=view(2, fake_rows("request", **{GETLIST: NO_GETLIST})), tags=tags)
    table, verdict, _ = demo_app.comparison(view(2, SYNC), [column(2), own], None, NAMES)
    differs = {row[0][0]: row[3][0] for row in cells(table) if row[3][1] == "kd-differs"}
    assert differs == {GETLIST: NO_GETLIST, TAGS: NOT_SENT.format("set")}
    assert f"Dash's own manager: ✘ 2 of {ROWS} rows differ" in verdict
    # A request job that fails fills the request's rows with its error, and no others.
    failed = demo_app._error_view("request")(Exception("boom"))
    assert failed["rows"] == [[expr, "boom"] for expr in report.expressions("request")]


def test_comparison_while_running_and_after_cancel():
    # Run 2 started: the background columns still hold run 1, greyed, unmarked.
    table, verdict, _ = demo_app.comparison(view(2, SYNC), [column(1), {}], None, NAMES)
    assert verdict == (
        "Run 2 · kombu_dash's manager: running… (grey: run 1) · Dash's own manager: running…"
    )
    assert {c[1] for row in cells(table) for c in row[2:]} == {"kd-stale"}
    # The quick custom_data jobs of run 2 are back, the request job still runs: those
    # rows are marked, the request's rows stay grey.
    partly = column(1, **{p: view(2, fake_rows(p)) for p in report.VALUES})
    table, verdict, _ = demo_app.comparison(view(2, SYNC), [partly, {}], None, NAMES)
    marks = {row[0][0]: row[2][1] for row in cells(table)}
    assert marks[TAGS] == "kd-same" and marks[GETLIST] == "kd-stale"
    assert "kombu_dash's manager: running… (grey: run 1)" in verdict
    # Cancel pressed during run 2: a visible cancelled state, not an empty status.
    _, verdict, _ = demo_app.comparison(view(2, SYNC), [column(1), {}], 2, NAMES)
    assert verdict.startswith("Cancelled: the background jobs were stopped. Run 2 · ")
    assert "kombu_dash's manager: cancelled (grey: run 1)" in verdict
    assert "Dash's own manager: cancelled" in verdict
    # The first run cancelled: the columns say so instead of "(not run yet)".
    table, verdict, _ = demo_app.comparison(view(1, SYNC), [{}, {}], 1, NAMES)
    assert "not run yet" not in verdict and verdict.count("cancelled") == 2
    assert [c[0] for c in cells(table)[0]][2:] == ["—", "—"]


def test_before_the_first_run_the_table_says_click_run():
    table, verdict, why = demo_app.comparison(None, [{}, {}], None, NAMES)
    assert verdict == why == ""
    assert cells(table) == [[("(not run yet: click Run)", None)]]


@pytest.mark.parametrize(
    ("celery", "own_differs", "why"),
    [(False, False, demo_app.FORK_NOTE), (False, True, ""), (True, False, "")],
    ids=["diskcache-no-loss", "diskcache-loss", "celery"],
)
def test_the_page_says_why_dash_own_diskcache_manager_loses_nothing(celery, own_differs, why):
    changed = {GETLIST: NO_GETLIST} if own_differs else {}
    own = column(1, request=view(1, fake_rows("request", **changed)))
    _, _, said = demo_app.comparison(view(1, SYNC), [column(1), own], None, NAMES, celery=celery)
    assert said == why
    assert "fork" in demo_app.FORK_NOTE and len(demo_app.FORK_NOTE.splitlines()) == 1


def text_of(children) -> str:
    """The text of a list of Dash children, as the browser shows it."""
    parts = []
    for child in children:
        if isinstance(child, str):
            parts.append(child)
        else:
            parts.append(
                text_of(child.children if isinstance(child.children, list) else [child.children])
            )
    return "".join(parts)


@pytest.mark.parametrize(
    ("search", "said", "offers_the_demo_query"),
    [
        (None, "This page has no query, so ctx.args holds only Dash's own keys.", True),
        ("", "This page has no query", True),
        ("?endId=x&job=y", "This page has no query", True),
        (
            "?tag=a&tag=b",
            "The page's query (?tag=a&tag=b) is forwarded to each callback request, so "
            "ctx.args holds the repeated key tag (2 times).",
            False,
        ),
        (
            "?x=1",
            "The page's query (?x=1) is forwarded to each callback request; it repeats no key.",
            True,
        ),
        ("?a=1&b=2&a=3&b=4", "holds the repeated keys a (2 times) and b (2 times).", False),
    ],
    ids=["none", "empty", "dash-keys-only", "demo-query", "no-repeat", "two-repeated"],
)
def test_the_query_line_says_what_ctx_args_gets(search, said, offers_the_demo_query):
    note = demo_app.query_note(search)
    text = text_of(note)
    assert said in text
    assert "(none)" not in text
    links = [c for c in note if getattr(c, "href", None)]
    assert bool(links) is offers_the_demo_query  # no "Try ?tag=a&tag=b" while on it
    if links:
        assert links[0].href == "?tag=a&tag=b"


def test_each_store_renders_the_table_on_its_own(tmp_path):
    """One render callback per store, each with that store as its only Input: Dash's
    renderer holds a callback back while any of its inputs is pending, so the synchronous
    column shows at once, whatever the background jobs are doing."""
    from kombu_dash.cli.demo.managers import diskcache_managers

    app = demo_app.build_app("flask", diskcache_managers(str(tmp_path)))
    triggers = [
        [i["id"] for i in cb["inputs"]]
        for output, cb in app.callback_map.items()
        if "table.children" in output
    ]
    stores = ["sync-view", *(report.store_id(c, p) for c in ("kd", "dash") for p in report.PARTS)]
    assert sorted(triggers) == sorted([store] for store in [*stores, "cancelled-run"])


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
        custom_data = {"demo": {"tags": {"b", "a"}, "pair": (0, "tags")}}

    seen = rows_by_expr(demo.describe_context(Ctx()))
    assert list(seen) == [e for part in report.PARTS for e in report.expressions(part)]
    assert seen["type(ctx.args)"] == "dict"
    assert seen["keys of ctx.args"] == "tag"
    no_attribute = "AttributeError: 'dict' object has no attribute"
    assert seen['ctx.args.getlist("tag")'] == f"{no_attribute} 'getlist'"
    assert seen['ctx.args_grouping["clicks"].value'] == f"{no_attribute} 'value'"
    assert seen['ctx.headers["host"] (any case)'] == "'example:1'"
    assert seen["len(ctx.headers)"] == "2"
    assert seen['ctx.cookies["kombu_dash_demo"]'] == "KeyError: 'kombu_dash_demo'"
    assert seen[TAGS] == "set: {'a', 'b'}"
    assert seen[PAIR] == "tuple: (0, 'tags')"
    assert seen[report.value_expr("price")] == "KeyError: 'price'"
    # One part: only its rows.
    assert demo.describe(Ctx(), "tags") == [[TAGS, "set: {'a', 'b'}"]]
    assert [e for e, _ in demo.describe(Ctx(), "request")] == report.expressions("request")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (set(), "set()"),
        (frozenset(), "frozenset()"),
        ({"b", "a"}, "{'a', 'b'}"),
        (frozenset({"b", "a"}), "frozenset({'a', 'b'})"),
        ({}, "{}"),
        ((2, "tags"), "(2, 'tags')"),
    ],
)
def test_values_show_as_python_writes_them_sets_sorted(value, shown):
    assert report.show(value) == shown


class Request:
    """What a custom_data hook receives: the context Dash is building."""

    def __init__(self, output_id, tags=("a", "b")):
        from werkzeug.datastructures import ImmutableMultiDict

        self.args = ImmutableMultiDict([("tag", t) for t in tags])
        self.outputs_list = {"id": output_id, "property": "data"}

    def get(self, name, default=None):
        return getattr(self, name, default)


def test_each_background_job_carries_only_its_own_custom_data_value():
    everything = report.demo_custom_data(Request("sync-view"))
    assert everything["tags"] == {"a", "b"} and everything["pair"] == (2, "tags")
    assert set(everything) == set(report.VALUES)
    for column_key in ("kd", "dash"):
        assert report.demo_custom_data(Request(report.store_id(column_key, "request"))) == {}
        for name in report.VALUES:
            own = report.demo_custom_data(Request(report.store_id(column_key, name)))
            assert own == {name: everything[name]}
    # An empty query: an empty set, shown as Python writes it.
    empty = report.demo_custom_data(Request("sync-view", tags=()))
    assert f"set: {report.show(empty['tags'])}" == "set: set()"


def docs_recipe() -> list[str]:
    text = (ROOT / "docs" / "dash.rst").read_text(encoding="utf-8")
    block = re.search(r"\.\. code-block:: javascript\n\n((?:    .*\n|\n)+)", text).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_page_template_has_dash_placeholders_styles_and_the_documented_recipe():
    page = demo_app.index_string()
    for placeholder in ("{%app_entry%}", "{%config%}", "{%scripts%}", "{%renderer%}"):
        assert placeholder in page
    assert "@@" not in page
    assert ".kd-table { border-collapse: collapse; width: 100%; table-layout: fixed; }" in page
    lines = [line.strip() for line in page.splitlines()]
    recipe = docs_recipe()
    start = lines.index(recipe[0])
    assert lines[start : start + len(recipe)] == recipe  # the demo runs the recipe as written
    keys = '["' + '", "'.join(settings.DASH_KEYS) + '"]'
    assert f"var dashKeys = {keys};" in recipe
    assert "kombu_dash_demo=hello" in page


def test_help_lists_the_options_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for option in ("--backend", "--port", "--host", "REDIS_URL"):
        assert option in out
    assert "--dash-managers" not in out  # no option kept for old scripts in a first release
    assert "exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 bad arguments" in out
    assert "3 the port is taken" in out
    assert "4 REDIS_URL is set but no Redis answers there" in out
    with pytest.raises(SystemExit) as exc:
        demo.main(["--dash-managers"])
    assert (
        exc.value.code == 2 and "unrecognized arguments: --dash-managers" in capsys.readouterr().err
    )


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


def test_importing_the_demo_loads_no_web_framework():
    code = (
        "import sys, kombu_dash.cli.demo as d; d.main; "
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
