"""Dash background callbacks through the stack: web container -> Redis container -> a
worker container, on the FastAPI and the Flask backend, with ``?tag=a&tag=b``.

The web service serves tests/dash_apps/parity_app.py (Flask on :8051, FastAPI on :8052)
and the demo (:8050); the worker containers run tests/compose/stack.py.
"""

from __future__ import annotations

import time
import uuid

import pytest

import kombu_dash
from tests.test_dash_background import (
    EXPECTED_ARGS_TYPE,
    EXPECTED_ITEM,
    QUERY,
    _differences,
    harness,
)

pytestmark = pytest.mark.timeout(240)

PORTS = {"flask": 8051, "fastapi": 8052}


def ran_on(docker, workers, job: str, timeout: float = 20) -> str:
    """The worker container whose log says it ran ``job`` (a task id)."""
    end = time.monotonic() + timeout
    while True:
        hits = [host for host, c in workers.items() if f"[{job}] succeeded" in docker.logs(c["Id"])]
        if hits:
            return hits[0]
        if time.monotonic() > end:
            pytest.fail(f"no worker container logged task {job} as succeeded")
        time.sleep(0.5)


@pytest.mark.parametrize("backend", ["fastapi", "flask"])
def test_background_context_equals_sync_context(backend, web, workers, docker):
    base = f"{web}:{PORTS[backend]}"
    nonce = uuid.uuid4().hex
    headers = {"X-Nonce": nonce, "Origin": base, "Authorization": f"Bearer tok-{nonce}"}
    cookies = {"session": f"sess-{nonce}"}
    sync = harness.post(
        base, harness.body("out-sync.children", state=nonce), QUERY, headers, cookies
    )
    assert sync.status_code == 200, sync.text[-3000:]
    started, final, _ = harness.run_background(
        base, harness.body("out-back.children", state=nonce), QUERY, headers, cookies
    )
    assert final is not None, "background callback closed without a result"
    sync_view = kombu_dash.loads(sync.json()["response"]["out-sync"]["children"])
    back_view = kombu_dash.loads(final["response"]["out-back"]["children"])

    assert _differences(sync_view, back_view) == []
    for view in (sync_view, back_view):
        package, name = EXPECTED_ARGS_TYPE[backend]
        assert view["args.type"].startswith(package) and view["args.type"].endswith("." + name)
        assert view["args.getlist(tag)"] == ["a", "b"]
        assert view["args[tag]"] == EXPECTED_ITEM[backend]
        # args_grouping by attribute, as a synchronous callback reads it
        assert view["args_grouping.attrs"] == [
            ("btn", "n_clicks", 1, True),
            ("inp", "children", nonce, False),
        ]
        assert view["path"].endswith("?tag=a&tag=b")
        kd = view["custom_data"]["kd"]
        assert kd["pair"] == (1, "two") and kd["tags"] == {"x", "y"} and kd["nonce"] == nonce
        assert str(kd["price"]) == "10.10" and kd["when"].tzinfo is not None
        assert view["custom_data.type"].endswith("AttributeDict")
    # ...and the background one ran in a worker container, not in the web one.
    job = str(started["job"]).split("~")[0]  # dash >= 4.4 signs it: "value~signature"
    assert ran_on(docker, workers, job) in workers


def test_cancel_stops_the_job_in_its_worker_container(web, workers, docker, stack_app):
    base = f"{web}:{PORTS['fastapi']}"
    nonce = uuid.uuid4().hex
    payload = harness.body("slow.children", state=nonce)
    started = harness.post(base, payload).json()
    job = str(started["job"]).split("~")[0]
    end = time.monotonic() + 30
    while stack_app.AsyncResult(job).state != "STARTED" and not any(
        f"[{job}] received" in docker.logs(c["Id"]) for c in workers.values()
    ):
        assert time.monotonic() < end, "the slow job never reached a worker"
        time.sleep(0.3)
    cancel = {
        "output": "cancel.id",
        "outputs": {"id": "cancel", "property": "id"},
        "inputs": [{"id": "cancel", "property": "n_clicks", "value": 1}],
        "state": [],
        "changedPropIds": ["cancel.n_clicks"],
    }
    answer = harness.post(base, cancel, [("cancelJob", started["job"])])
    assert answer.status_code == 204 or answer.json()["response"] == {}, answer.text[-2000:]

    params = [("cacheKey", started["cacheKey"]), ("job", started["job"])]
    end = time.monotonic() + 20
    while True:  # polling closes with 204 long before the job's 30 s sleep would end
        r = harness.post(base, payload, params)
        if r.status_code == 204:
            break
        assert r.status_code == 200 and "response" not in r.json(), r.text[-2000:]
        assert time.monotonic() < end, "cancelled job still reported running"
        time.sleep(0.3)
    assert stack_app.AsyncResult(job).state == "REVOKED"
    # a worker container received it and terminated it: Celery logs "Terminating <id>"
    end = time.monotonic() + 20
    while not [
        line
        for c in workers.values()
        for line in docker.logs(c["Id"]).splitlines()
        if f"Terminating {job}" in line
    ]:
        assert time.monotonic() < end, f"no worker container logged terminating {job}"
        time.sleep(0.5)
    assert f"finished {nonce}" not in "".join(docker.logs(c["Id"]) for c in workers.values())


def test_demo_page_runs_its_background_callback_on_a_worker_container(web, workers):
    from tests.test_demo import drive_demo

    sync_rows, bg_rows, progress = drive_demo(f"{web}:8050")
    assert bg_rows == sync_rows
    assert ['ctx.args.getlist("tag")', "['a', 'b']"] in bg_rows
    assert progress, "no progress reached the page"
