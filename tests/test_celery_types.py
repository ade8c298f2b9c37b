"""What Celery itself sends through the task, result, control and event serializers
(issue 10's audit, reproduced by ``python -m tests.celery_census``) comes back as Celery
needs it: canvas built from generators, ``inspect stats`` with its Counter, every inspect
reply, and events when ``event_serializer`` is kombu_dash. Types are asserted, not only
equality: the differences from json (tuples stay tuples) are stated here as behaviour.
"""

from __future__ import annotations

import signal
import socket
from collections import Counter

import pytest
from celery import Celery, chain, chord, group, signature
from celery.canvas import Signature
from kombu.utils import json as kombu_json

import kombu_dash

from ._celery_support import (
    app_conf,
    celery_worker,
    events_received,
    in_process_worker,
    make_app,
    unique,
)
from .harness import wait_for

# results are awaited in this process: Celery 5.3 needs its result-consumer fix here
pytestmark = pytest.mark.usefixtures("celery_result_consumer_fix")

TIMEOUT = 30


@pytest.fixture(scope="module")
def add():
    app = Celery("kd_types_canvas", broker="memory://", set_as_current=False)
    kombu_dash.configure(app)

    @app.task(name="kd.add", shared=False)
    def add(a, b=0):
        return a + b

    return add


def _linked(sig, callback):
    sig.link(callback)
    return sig


# Each builds a fresh signature: a generator is consumed once.
SHAPES = [
    ("issue-10-repro", lambda add: add.s(2, 2) | add.s(4) | group(add.s(i) for i in range(4))),
    ("group-generator", lambda add: group(add.s(i) for i in range(3))),
    ("group-list", lambda add: group([add.s(1), add.s(2)])),
    ("chord-generator-header", lambda add: chord((add.s(i) for i in range(3)), add.s())),
    (
        "chain-chord-generator",
        lambda add: add.si(0) | chord((add.si(i) for i in range(2)), add.s()),
    ),
    ("group-of-chains", lambda add: group(chain(add.s(i), add.s(1)) for i in range(2))),
    ("nested-groups", lambda add: group(group(add.si(i, j) for j in range(2)) for i in range(2))),
    ("map-iterator", lambda add: add.map(iter([1, 2]))),
    ("starmap-generator", lambda add: add.starmap((i, i) for i in range(2))),
    ("chunks-zip", lambda add: add.chunks(zip(range(4), range(4)), 2)),
    ("chain-chunks", lambda add: add.si(0) | add.chunks(zip(range(4), range(4)), 2)),
    ("link-group-generator", lambda add: _linked(add.s(1), group(add.s() for _ in range(2)))),
]


def _no_tuples(value):
    """What json makes of a value: tuples become lists (the one difference expected)."""
    if isinstance(value, (list, tuple)):
        return [_no_tuples(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_tuples(v) for k, v in value.items()}
    return value


def _types(value, found=None):
    found = set() if found is None else found
    found.add(type(value))
    if isinstance(value, dict):
        for v in value.values():
            _types(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _types(v, found)
    return found


@pytest.mark.parametrize("make", [s[1] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_canvas_comes_back_as_json_gives_it_with_tuples_kept(add, make):
    sig = make(add)
    out = kombu_dash.loads(kombu_dash.dumps(sig))
    # signatures are written as plain objects, _regen as the list it holds: only JSON types
    # and tuples come back, nothing of Celery's
    assert _types(out) <= {dict, list, tuple, str, int, bool, type(None)}
    assert _no_tuples(out) == kombu_json.loads(kombu_json.dumps(make(add)))
    # the worker rebuilds the canvas json would have given it (xmap, xstarmap and chunks
    # have no subtask_type: both rebuild a Signature of Celery's map/starmap/chunks task)
    as_json = kombu_json.loads(kombu_json.dumps(make(add)))
    rebuilt = signature(out, app=add.app)
    # (signature() rebuilds nested signatures in place: give it its own copy)
    assert type(rebuilt) is type(
        signature(kombu_json.loads(kombu_json.dumps(as_json)), app=add.app)
    )
    assert isinstance(rebuilt, Signature) and isinstance(sig, type(rebuilt))
    assert _no_tuples(kombu_json.loads(kombu_json.dumps(rebuilt))) == as_json


def test_group_from_a_generator_keeps_its_tasks_in_a_list(add):
    out = kombu_dash.loads(kombu_dash.dumps(group(add.s(i) for i in range(3))))
    tasks = out["kwargs"]["tasks"]
    assert type(tasks) is list and [t["args"] for t in tasks] == [(0,), (1,), (2,)]


def test_a_users_list_subclass_is_still_refused():
    class Rows(list):
        pass

    with pytest.raises(
        kombu_dash.EncodeError, match="a subclass of builtins.list that no tag writes"
    ):
        kombu_dash.dumps({"rows": Rows([1])})


def test_counter_round_trips_as_counter():
    stats = {"total": Counter({"kd.add": 3, "kd.echo": 1}), "odd": Counter({1: 2, (1, 2): 1})}
    out = kombu_dash.loads(kombu_dash.dumps(stats))
    assert type(out["total"]) is Counter and out["total"] == stats["total"]
    assert type(out["odd"]) is Counter and out["odd"] == stats["odd"]
    assert out["total"].most_common(1) == [("kd.add", 3)]


def test_signal_is_written_as_its_number():
    # Celery's task-revoked event carries signum; json writes the int, and so do we
    wire = kombu_dash.dumps({"signum": signal.SIGTERM})
    assert wire == f'{{"signum":{int(signal.SIGTERM)}}}'
    out = kombu_dash.loads(wire)["signum"]
    assert type(out) is int and out == signal.SIGTERM


# -- through a real worker ------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_app():
    app = make_app("kd_types_worker", "redis", unique("types"))
    with in_process_worker(app):
        yield app


@pytest.mark.broker
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda add, c: add.s(2, 2) | add.s(4) | group(add.s(i) for i in range(4)), [8, 9, 10, 11]),
        (
            lambda add, c: add.si(0, 0) | c.app.tasks["kd.identity"].map(i for i in range(3)),
            [0, 1, 2],
        ),
        (lambda add, c: add.si(0, 0) | add.starmap((i, i) for i in range(3)), [0, 2, 4]),
        (
            lambda add, c: add.si(1, 1) | group(add.s(i) for i in range(2)) | c.s(),
            (["builtins.int", "builtins.int"], (2, 3)),
        ),
        (
            lambda add, c: chain(
                add.si(1, 1),
                group(add.si(2, 2), add.si(3, 3)),
                c.s(),
                group(add.si(4, 4), add.si(5, 5)),
            ),
            [8, 10],
        ),
    ],
    ids=[
        "issue-10-repro",
        "chain-map",
        "chain-starmap",
        "chain-group-chord",
        "group-chord-group-chain",
    ],
)
def test_canvas_runs_on_a_worker(worker_app, make, expected):
    add, collect = worker_app.tasks["kd.add"], worker_app.tasks["kd.collect"]
    out = make(add, collect).delay().get(timeout=TIMEOUT)
    assert out == expected
    assert type(out) is type(expected)  # a chord callback's tuple stays a tuple


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_chain_into_chunks_returns_the_group_as_a_tuple(worker_app):
    from celery.result import GroupResult, result_from_tuple

    add = worker_app.tasks["kd.add"]
    out = (add.si(0, 0) | add.chunks(zip(range(4), range(4)), 2)).delay().get(timeout=TIMEOUT)
    # chunks returns its GroupResult's as_tuple(): tuples with kombu_dash, lists with json
    assert type(out) is tuple and type(out[0]) is tuple
    # and Celery reads it back (on Celery 5.3 these chunk tasks never run, with json too)
    back = result_from_tuple(out, app=worker_app)
    assert isinstance(back, GroupResult) and back.id == out[0][0]
    assert [r.id for r in back.results] == [r[0][0] for r in out[1]] and len(back.results) == 2


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_link_to_a_group_from_a_generator(worker_app):
    add, identity = worker_app.tasks["kd.add"], worker_app.tasks["kd.identity"]
    res = add.apply_async((1, 1), link=group(identity.s() for _ in range(2)))
    assert res.get(timeout=TIMEOUT) == 2
    children = wait_for(lambda: res.children, TIMEOUT, 0.2, "the linked group")
    assert [r.get(timeout=TIMEOUT) for r in children[0].results] == [2, 2]


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_group_result_as_tuple_comes_back_as_tuples(worker_app):
    add = worker_app.tasks["kd.add"]
    res = group(add.s(i, i) for i in range(2)).delay()
    res.get(timeout=TIMEOUT)
    res.save()
    meta = worker_app.backend.get_key_for_group(res.id)
    stored = kombu_dash.loads(worker_app.backend.get(meta))["result"]
    assert stored == res.as_tuple() and type(stored) is tuple and type(stored[1][0]) is tuple
    back = worker_app.GroupResult.restore(res.id)
    assert [r.id for r in back.results] == [r.id for r in res.results]


# -- control and events against a prefork worker ---------------------------------------


@pytest.fixture(scope="module")
def busy_worker(tmp_path_factory):
    """census_app (kombu_dash for tasks, results, control and events) as a prefork worker with
    one process and prefetch two: one task active, one reserved, one scheduled (eta)."""
    queue = unique("types-inspect")
    worker = celery_worker(
        "tests.celery_apps.census_app",
        "redis",
        queue,
        tmp_path_factory.mktemp("inspect"),
        pool="prefork",
        concurrency=1,
        extra_args=("-E", "--prefetch-multiplier", "2"),
    )
    with worker:
        app = Celery("kd_types_inspect", set_as_current=False)
        app.conf.update(app_conf("redis", queue))
        app.conf.update(event_serializer="kombu_dash")
        kombu_dash.configure(app)
        from .celery_apps.tasks import define_tasks

        define_tasks(app)
        node = worker.hostname.replace("%h", socket.gethostname())
        later = app.tasks["kd.echo"].apply_async(((9,),), countdown=120)  # fetched first: scheduled
        running = app.tasks["kd.sleep"].delay(60, {"n": (1, 2)})
        waiting = app.tasks["kd.echo"].delay((1, 2))
        inspect = app.control.inspect(destination=[node], timeout=30)

        def settled():
            active = (inspect.active() or {}).get(node)
            return (
                active
                and (inspect.reserved() or {}).get(node)
                and (inspect.scheduled() or {}).get(node)
            )

        wait_for(settled, TIMEOUT, 0.5, "an active, a reserved and a scheduled task")
        yield {
            "app": app,
            "node": node,
            "inspect": inspect,
            "later": later,
            "running": running,
            "waiting": waiting,
            "worker": worker,
        }
        app.control.revoke([running.id, later.id], terminate=True, destination=[node])


def _reply(replies, node):
    assert replies is not None and list(replies) == [node], replies
    return replies[node]


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_inspect_stats_holds_a_counter(busy_worker):
    stats = _reply(busy_worker["inspect"].stats(), busy_worker["node"])
    assert type(stats["total"]) is Counter and stats["total"]["kd.sleep"] == 1
    pool = stats["pool"]
    assert pool["max-concurrency"] == 1 and type(pool["processes"]) is list
    assert type(pool["timeouts"]) is tuple  # json: a list
    assert type(stats["rusage"]) is dict and type(stats["broker"]) is dict


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_inspect_task_lists(busy_worker):
    i, node = busy_worker["inspect"], busy_worker["node"]
    (active,) = _reply(i.active(), node)
    assert active["id"] == busy_worker["running"].id
    assert active["args"] == (60, {"n": (1, 2)}) and type(active["args"]) is tuple  # json: lists
    (reserved,) = _reply(i.reserved(), node)
    assert reserved["id"] == busy_worker["waiting"].id and reserved["args"] == ((1, 2),)
    (scheduled,) = _reply(i.scheduled(), node)
    assert scheduled["request"]["id"] == busy_worker["later"].id and type(scheduled["eta"]) is str
    queried = _reply(i.query_task(busy_worker["running"].id, busy_worker["waiting"].id), node)
    state, info = queried[busy_worker["running"].id]
    assert type(queried[busy_worker["running"].id]) is tuple and state == "active"
    assert info["args"] == (60, {"n": (1, 2)})
    assert queried[busy_worker["waiting"].id][0] == "reserved"
    (safe,) = _reply(i.active(safe=True), node)
    assert safe["args"] == "(60, {'n': (1, 2)})"  # Celery's own repr, unchanged


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_inspect_registered_conf_queues_revoked_ping_report(busy_worker):
    i, node, app = busy_worker["inspect"], busy_worker["node"], busy_worker["app"]
    registered = _reply(i.registered(), node)
    assert (
        type(registered) is list
        and "kd.echo" in registered
        and all(type(n) is str for n in registered)
    )
    with_info = _reply(i.registered("serializer"), node)  # the item names travel as a tuple
    assert "kd.echo [serializer=kombu_dash]" in with_info
    conf = _reply(i.conf(), node)
    assert conf["task_serializer"] == "kombu_dash" and conf["accept_content"] == [
        "json",
        "kombu_dash",
    ]
    assert type(conf["accept_content"]) is list
    (queue,) = _reply(i.active_queues(), node)
    assert queue["name"] == app.conf.task_default_queue and type(queue["exchange"]) is dict
    assert _reply(i.ping(), node) == {"ok": "pong"}
    assert "kombu_dash" in _reply(i.report(), node)["ok"]
    gone = app.tasks["kd.echo"].apply_async((1,), countdown=300)
    app.control.revoke(gone.id, destination=[node])
    revoked = wait_for(lambda: _reply(i.revoked(), node), TIMEOUT, 0.2, "the revoked id")
    assert gone.id in revoked and type(revoked) is list


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_events_with_kombu_dash_event_serializer(busy_worker):
    app, node = busy_worker["app"], busy_worker["node"]
    victim = None
    try:
        with events_received(app) as events, app.events.default_dispatcher() as dispatcher:
            # Events are broadcast: one sent before the receiver is bound is lost to it. Our
            # own event, sent until it arrives, proves the binding (Celery 5.3's busy worker
            # sent no heartbeat to wait for instead).
            def probe_arrived():
                dispatcher.send("kd-probe", pair=(1, 2))
                return [e for e in events if e["type"] == "kd-probe"]

            probe = wait_for(probe_arrived, TIMEOUT, 0.5, "our own event")[0]
            assert probe["pair"] == (1, 2) and type(probe["pair"]) is tuple  # json: a list
            victim = app.tasks["kd.sleep"].delay(60)
            # the running task is busy_worker's: terminate it; the victim is then fetched
            # (a worker of prefetch two holding two tasks may not fetch it before)
            app.control.revoke(
                busy_worker["running"].id, terminate=True, signal="SIGTERM", destination=[node]
            )
            revoked = wait_for(
                lambda: [e for e in events if e["type"] == "task-revoked"],
                TIMEOUT,
                0.2,
                "task-revoked",
            )
            wait_for(
                lambda: any(
                    e["type"] == "task-received" and e["uuid"] == victim.id for e in events
                ),
                TIMEOUT,
                0.2,
                "task-received",
            )
    finally:
        if victim is not None:
            app.control.revoke(victim.id, terminate=True, destination=[node])
    # signal.Signals on the worker: the int json would give
    assert revoked[0]["signum"] == signal.SIGTERM and type(revoked[0]["signum"]) is int
    assert revoked[0]["terminated"] is True


# -- the census: every class Celery hands the serializer is one documented ------------

#: docs/celery.rst, "Celery's own classes", plus the types the census's own tasks send
DOCUMENTED = {
    "builtins.tuple",
    "celery.utils.functional._regen",
    "collections.Counter",
    "signal.Signals",
}
SCENARIO_DATA = {"builtins.set"}  # the census sends sets as task arguments itself


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_census_of_what_celery_sends(tmp_path):
    """``python -m tests.celery_census``: a prefork worker, every canvas shape, result kind,
    inspect/control command, and events; the serializer records each class it is given."""
    import json
    import os
    import subprocess
    import sys

    from ._celery_support import ROOT

    out = tmp_path / "census.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "tests.celery_census", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=380,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    census = json.loads(out.read_text())
    assert census["errors"] == [], census["errors"]  # nothing Celery sent was refused
    classes = {row["class"] for row in census["types"]}
    canvas = {c for c in classes if c.startswith("celery.canvas.")}
    assert classes - canvas <= DOCUMENTED | SCENARIO_DATA, classes
    assert {"celery.canvas.Signature", "celery.canvas.group"} <= canvas
    # the scenarios reached what the fixes are for
    assert {"celery.utils.functional._regen", "collections.Counter", "signal.Signals"} <= classes, (
        done.stdout
    )
    failed = [o for o in census["outcomes"] if o["status"] == "error" and o["scenario"] != "drain"]
    assert failed == []
