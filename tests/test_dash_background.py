"""Inside a background callback, dash.callback_context equals what a synchronous
callback sees for the same request: each backend x manager, over real HTTP.

Real parts: the app served by werkzeug's server (Flask) or uvicorn (FastAPI, Quart) on
loopback, Dash's callback protocol driven over HTTP (dispatch, then poll with
cacheKey/job), a real Celery worker on Redis, DiskcacheManager children under fork and
spawn. The query string repeats a key (?tag=a&tag=b).
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import dash
import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent / "dash_apps"))
import harness  # noqa: E402

import kombu_dash  # noqa: E402

# real servers, a Celery worker on Redis, multiprocess children
pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(240)]

# harness.BACKENDS leaves out FastAPI and Quart on dash < 4.2.0, which has no such backends.
MANAGERS = ["celery", "diskcache-fork", "diskcache-spawn"]
QUERY = [("tag", "a"), ("tag", "b")]
EXPECTED_ARGS_TYPE = {
    "flask": ("werkzeug.", "ImmutableMultiDict"),
    "fastapi": ("starlette.", "QueryParams"),
    "quart": ("werkzeug.", "ImmutableMultiDict"),
}
# callback_context.args exists from dash 4 (dash 3 has the query string in ctx.path only).
HAS_CTX_ARGS = hasattr(dash.callback_context.__class__, "args")
# werkzeug's [] gives the first value of a repeated key, starlette's the last.
EXPECTED_ITEM = {"flask": "a", "fastapi": "b", "quart": "a"}


@pytest.fixture(scope="module")
def dash_stack(tmp_path_factory, redis_url):
    """Start servers (and one Celery worker) on first use; stop them all at the end."""
    logs = tmp_path_factory.mktemp("dash-stack")
    queue = f"kd-dash-parity-{uuid.uuid4().hex[:8]}"
    started = {}

    def get(backend, manager, stock=False):
        key = (backend, manager, stock)
        if key in started:
            return started[key]
        kind, _, method = manager.partition("-")
        env = harness.child_env(
            KD_BACKEND=backend,
            KD_MANAGER=kind,
            KD_START_METHOD=method or "fork",
            KD_QUEUE=queue,
            REDIS_URL=redis_url,
            KD_STOCK="1" if stock else "",
            KD_CACHE_DIR=logs / f"cache-{backend}-{manager}-{int(stock)}",
        )
        if kind == "celery" and "worker" not in started:
            # One worker serves every backend: the job function does not depend on it.
            started["worker"] = harness.Worker("parity_app", queue, env, logs / "worker.log")
        name = "-".join([backend, manager] + (["stock"] if stock else []))
        started[key] = harness.Server("parity_app", env, logs / f"server-{name}.log")
        return started[key]

    yield get
    for proc in started.values():
        proc.stop()


def _views(server, path_suffix=""):
    """The sync and the background callback's view of one request, decoded."""
    nonce = uuid.uuid4().hex  # also keeps the background cache key unique per run
    headers = {"X-Nonce": nonce, "Origin": server.base, "Authorization": f"Bearer tok-{nonce}"}
    cookies = {"session": f"sess-{nonce}"}
    # Same-length output ids, so both requests carry the same Content-Length header.
    sync = harness.post(
        server.base, harness.body("out-sync.children", state=nonce), QUERY, headers, cookies
    )
    assert sync.status_code == 200, sync.text[-3000:]
    _, final, _ = harness.run_background(
        server.base, harness.body("out-back.children", state=nonce), QUERY, headers, cookies
    )
    assert final is not None, "background callback closed without a result"
    sync_view = kombu_dash.loads(sync.json()["response"]["out-sync"]["children"])
    back_view = kombu_dash.loads(final["response"]["out-back"]["children"])
    return nonce, sync_view, back_view


def _differences(sync_view: dict, back_view: dict) -> list:
    diffs = []
    for key in sorted(set(sync_view) | set(back_view)):
        a, b = sync_view.get(key, "<absent>"), back_view.get(key, "<absent>")
        if key == "outputs_list":  # the two callbacks write different outputs
            b = {**b, "id": "out-sync"} if isinstance(b, dict) else b
        if type(a) is not type(b) or a != b:
            diffs.append(
                f"{key}: sync {type(a).__qualname__} {a!r:.200} != background {type(b).__qualname__} {b!r:.200}"
            )
    return diffs


@pytest.mark.parametrize("manager", MANAGERS)
@pytest.mark.parametrize("backend", harness.BACKENDS)
def test_background_context_equals_sync_context(dash_stack, backend, manager):
    server = dash_stack(backend, manager)
    nonce, sync_view, back_view = _views(server)

    assert _differences(sync_view, back_view) == []
    # ...and what they agree on is the request, not a shared mistake:
    for view in (sync_view, back_view):
        assert ("args" in view) == HAS_CTX_ARGS
        if HAS_CTX_ARGS:
            package, name = EXPECTED_ARGS_TYPE[backend]
            assert view["args.type"].startswith(package) and view["args.type"].endswith("." + name)
            assert view["args.getlist(tag)"] == ["a", "b"]
            assert view["args[tag]"] == EXPECTED_ITEM[backend]
        assert view["args_grouping.attrs"] == [
            ("btn", "n_clicks", 1, True),
            ("inp", "children", nonce, False),
        ]
        assert view["triggered_id"] == "btn"
        assert view["path"].endswith("?tag=a&tag=b")
        assert view["cookies"] == {"session": f"sess-{nonce}"}
        assert type(view["args_grouping"][0]).__name__ == "AttributeDict"
        if "custom_data" in view:  # dash.hooks: dash >= 3.0
            kd = view["custom_data"]["kd"]
            assert kd["pair"] == (1, "two") and kd["tags"] == {"x", "y"}
            assert str(kd["price"]) == "10.10" and kd["when"].year == 2024 and kd["nonce"] == nonce


def test_stock_dash_manager_and_repeated_keys(dash_stack):
    """The control: what Dash's own DiskcacheManager gives the same comparison, so that the
    parity test above can see the bug it guards against. dash >= 4.3 turns FastAPI's
    QueryParams into dict(args) before dispatch: repeated keys are lost. Older Dash does not
    flatten (a forked job inherits the request's value): the views agree there too."""
    backend = "fastapi" if "fastapi" in harness.BACKENDS else "flask"  # dash 3: Flask only
    nonce, sync_view, back_view = _views(dash_stack(backend, "diskcache-fork", stock=True))
    if "args" not in sync_view:  # dash 3: callback_context has no args to lose
        assert _differences(sync_view, back_view) == []
        return
    assert sync_view["args.getlist(tag)"] == ["a", "b"]
    if harness.DASH_VERSION >= (4, 3, 0):
        assert _differences(sync_view, back_view) != []
        assert back_view["args.type"] == "builtins.dict"
        assert back_view["args.getlist(tag)"] == "<no getlist>"
    else:
        assert _differences(sync_view, back_view) == []
        assert back_view["args.getlist(tag)"] == ["a", "b"]


# -- every other background feature keeps working ----------------------------------------

# One backend for the feature tests (FastAPI where this dash has it), every manager.
FEATURE_BACKEND = "fastapi" if "fastapi" in harness.BACKENDS else "flask"


@pytest.fixture(params=MANAGERS)
def feature_server(request, dash_stack):
    return dash_stack(FEATURE_BACKEND, request.param)


def _nonce():
    return uuid.uuid4().hex


def _component(type_, children):
    namespace = "dash_html_components"
    return {"props": {"children": children}, "type": type_, "namespace": namespace}


def _plotly_array(value):
    # plotly >= 6 writes numpy arrays as typed arrays: {"dtype": "f8", "bdata": base64}
    if isinstance(value, dict) and "bdata" in value:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def test_progress_progress_default_running_set_props(feature_server):
    nonce = _nonce()
    payload = harness.body(
        "graph.figure",
        state=nonce,
        inputs=[{"id": "btn-progress", "property": "n_clicks", "value": 1}],
    )
    started, final, answers = harness.run_background(feature_server.base, payload)

    assert started["progressDefault"] == {"progress.children": _component("I", "idle")}
    progress = [data["progress"] for _, data in answers if "progress" in data]
    assert progress, "no progress reached the poll"
    assert all(p["progress.children"]["type"] == "B" for p in progress)
    assert {p["progress.children"]["props"]["children"] for p in progress} <= {
        "step 0",
        "step 1",
        "step 2",
    }
    side = [data["sideUpdate"] for _, data in answers if "sideUpdate" in data]
    # dash's CeleryManager never deletes the set_props entry, so it repeats on every poll
    assert side and all(
        u == {"side": {"children": _component("Span", f"side {nonce}")}} for u in side
    )
    figure = final["response"]["graph"]["figure"]
    assert figure["data"][0]["type"] == "scatter"
    assert _plotly_array(figure["data"][0]["y"]) == [1.5, 2.5, 3.5]

    deps = requests.get(feature_server.base + "/_dash-dependencies", timeout=10).json()
    (spec,) = [d for d in deps if d["output"] == "graph.figure"]
    assert spec["running"], spec  # the renderer's running=[...] states are served


def test_cancel_stops_the_job(feature_server, redis_url):
    nonce = _nonce()
    payload = harness.body("slow.children", state=nonce)
    first = harness.post(feature_server.base, payload)
    started = first.json()
    assert started["cancel"] == [{"id": "cancel", "property": "n_clicks"}]
    time.sleep(1.5)  # let it start
    cancel = {
        "output": "cancel.id",
        "outputs": {"id": "cancel", "property": "id"},
        "inputs": [{"id": "cancel", "property": "n_clicks", "value": 1}],
        "state": [],
        "changedPropIds": ["cancel.n_clicks"],
    }
    answer = harness.post(feature_server.base, cancel, [("cancelJob", started["job"])])
    # the cancel callback returns no_update: 204, or 200 with nothing to update
    assert answer.status_code == 204 or answer.json()["response"] == {}, answer.text[-2000:]

    job = str(started["job"]).split("~")[0]  # dash >= 4.4 signs it: "value~signature"
    deadline = time.monotonic() + 20
    params = [("cacheKey", started["cacheKey"]), ("job", started["job"])]
    while True:  # polling closes with 204 (no update), long before the 30 s sleep ends
        r = harness.post(feature_server.base, payload, params)
        if r.status_code == 204:
            break
        assert r.status_code == 200 and "response" not in r.json(), r.text[-2000:]
        assert time.monotonic() < deadline, "cancelled job still reported running"
        time.sleep(0.3)
    if job.isdigit():  # diskcache: the job's process is gone
        import psutil

        assert (
            not psutil.pid_exists(int(job))
            or psutil.Process(int(job)).status() == psutil.STATUS_ZOMBIE
        )
    else:  # celery: the task was revoked
        from celery import Celery

        assert Celery(broker=redis_url, backend=redis_url).AsyncResult(job).state == "REVOKED"


def test_error_reaches_on_error(feature_server):
    nonce = _nonce()
    _, final, _ = harness.run_background(
        feature_server.base, harness.body("failing.children", state=nonce)
    )
    text = final["response"]["failing"]["children"]
    assert text.startswith("handled: An error occurred inside a background callback: boom " + nonce)


def test_prevent_update_and_no_update(feature_server):
    nonce = _nonce()
    _, final, answers = harness.run_background(
        feature_server.base, harness.body("prevented.children", state=nonce)
    )
    assert final is None and answers[-1][0] == 204

    payload = harness.body("x.children", state=nonce)
    payload["output"] = "..partial-a.children...partial-b.children.."
    payload["outputs"] = [
        {"id": "partial-a", "property": "children"},
        {"id": "partial-b", "property": "children"},
    ]
    _, final, _ = harness.run_background(feature_server.base, payload)
    assert final["response"] == {"partial-b": {"children": f"b {nonce}"}}


@pytest.mark.skipif(
    not harness.ASYNC_CALLBACKS, reason="async callbacks need dash >= 3.1 with dash[async]"
)
def test_async_callback(feature_server):
    nonce = _nonce()
    _, final, _ = harness.run_background(
        feature_server.base, harness.body("async-out.children", state=nonce), QUERY
    )
    text = final["response"]["async-out"]["children"]
    prefix = f"async {nonce} "
    assert text.startswith(prefix)
    if HAS_CTX_ARGS:
        assert kombu_dash.loads(text[len(prefix) :])["args.getlist(tag)"] == ["a", "b"]


def test_cache_by_returns_the_cached_result(feature_server):
    # Dash starts a job on every dispatch and serves the cached result to the first poll
    # (the callback sleeps 2 s, so that poll comes long before the new job could finish).
    nonce = _nonce()
    payload = harness.body("cached.children", state=nonce)
    _, first, _ = harness.run_background(feature_server.base, payload)
    _, second, _ = harness.run_background(feature_server.base, payload)
    assert first["response"]["cached"]["children"].startswith(nonce)
    assert second == first
