"""``kombu_dash.configure(app)``: the settings it writes; what it adds for a mixed fleet
(kombu_dash.fleet), checked in this process on kombu's in-memory transport and Celery's
in-memory result backend: control questions in json and answers in what each asker reads,
each result stored in its task's serializer, in any order with ``app.control`` and
``app.backend``; and a ``celery worker`` (prefork) set up with it on Redis and RabbitMQ:
result_extended keeps the types of the stored args/kwargs, and the control mailbox (ping,
revoke, revoke with terminate) works. tests/test_celery_fleet.py runs mixed fleets of real
workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import pickle
import socket
import threading
import uuid
from collections import Counter
from typing import Any

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from celery import Celery
from celery.app.control import Control as CeleryControl

import kombu_dash

from ._celery_support import BROKER_URLS, BROKERS, celery_worker, make_app, unique
from .harness import same, wait_for

pytestmark = pytest.mark.usefixtures("celery_result_consumer_fix")

TIMEOUT = 30


def test_configure_sets_serializers_and_keeps_json_accepted():
    app = Celery("kd_conf", set_as_current=False)
    assert kombu_dash.configure(app) is app
    conf = app.conf
    assert conf.task_serializer == conf.result_serializer == "kombu_dash"
    assert conf.accept_content == ["json", "kombu_dash"]
    assert conf.result_accept_content == ["json", "kombu_dash"]
    # the control mailbox answers in kombu_dash those that read it, and reads json
    assert app.control.mailbox.serializer == "kombu_dash"
    assert set(app.control.mailbox.accept) == {"json", "kombu_dash"}
    # what `inspect conf` reports (python -m kombu_dash check reads it)
    assert conf.kombu_dash == {**kombu_dash.engine_info()._asdict(), "accept_only": False}


def test_configure_is_idempotent_and_keeps_what_was_accepted():
    app = Celery("kd_conf2", set_as_current=False)
    app.conf.update(accept_content=["json", "msgpack"], result_accept_content=["msgpack"])
    kombu_dash.configure(kombu_dash.configure(app))
    assert app.conf.accept_content == ["json", "msgpack", "kombu_dash"]
    assert app.conf.result_accept_content == ["msgpack", "kombu_dash", "json"]


def test_configure_after_the_backend_was_made_writes_kombu_dash_results():
    # CeleryManager(app), or any use of app.backend, makes the result backend before
    # configure(app) runs: it must not go on writing json (found by the compose stack).
    from werkzeug.datastructures import MultiDict

    app = Celery("kd_conf_backend", backend="redis://127.0.0.1:1/0", set_as_current=False)
    made = app.backend  # no connection is opened until it is used
    assert made.serializer == "json"
    kombu_dash.configure(app)
    assert app.backend is made and made.serializer == "kombu_dash"
    value = {"args": MultiDict([("tag", "a"), ("tag", "b")])}
    stored = made.encode(value)
    assert type(made.decode(stored)["args"]) is MultiDict
    assert set(made.accept) == {"application/json", kombu_dash.CONTENT_TYPE}


def test_configure_without_json():
    app = kombu_dash.configure(Celery("kd_conf3", set_as_current=False), keep_json=False)
    # a fresh app's accept_content is ("json",): keep_json=False does not remove it, only
    # does not add it
    assert "kombu_dash" in app.conf.accept_content


# -- the control plane of a mixed fleet, on kombu's in-memory transport -----------------------


def memory_app(mode: str, name: str = "kd_memory", **conf) -> Celery:
    """An app on the in-memory broker: "configured", "accept_only", "plain", or "by_hand"
    (task_serializer kombu_dash in its settings, as an older kombu_dash's configure left it:
    it asks in kombu_dash and says nothing about what it reads)."""
    app = Celery(f"{name}_{mode}", broker="memory://", set_as_current=False)
    app.conf.update(control_exchange="kd-memory", broker_transport_options=POLL, **conf)
    if mode == "by_hand":
        app.conf.update(task_serializer="kombu_dash", accept_content=["json", "kombu_dash"])
    elif mode != "plain":
        kombu_dash.configure(app, accept_only=mode == "accept_only")
    return app


#: the in-memory transport looks for messages once a second by default
POLL = {"polling_interval": 0.01}
REPLY = (1, Counter(a=1))  # what a configured worker answers with: a tuple, a Counter


@contextlib.contextmanager
def memory_node(app: Celery, answer=REPLY):
    """The app's control Node (a worker's end of the mailbox) answering ``answer`` to the
    command ``answer``, in a thread; yields the content types of the questions it got."""
    asked: list[str] = []
    conn = app.connection_for_write()
    node = app.control.mailbox(conn).Node("node@kd", handlers={"answer": lambda state: answer})
    node.channel = conn.channel()
    seen = node.handle_message

    def handle(body, message):
        asked.append(message.content_type)
        return seen(body, message)

    node.listen(channel=node.channel, callback=handle)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with contextlib.suppress(socket.timeout):
                conn.drain_events(timeout=0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield asked
    finally:
        stop.set()
        thread.join(5)
        conn.release()


def ask(app: Celery) -> Any:
    with app.connection_for_write() as conn:
        replies = app.control.broadcast("answer", reply=True, timeout=5, limit=1, connection=conn)
    assert len(replies) == 1, replies
    return replies[0]["node@kd"]


@pytest.mark.parametrize(
    "worker, asker, answer",
    [
        ("configured", "plain", [1, {"a": 1}]),  # json: what a plain asker reads
        ("configured", "configured", REPLY),  # kombu_dash: it reads it, types kept
        ("configured", "accept_only", REPLY),
        ("configured", "by_hand", REPLY),  # asked in kombu_dash, answered in it
        ("accept_only", "configured", [1, {"a": 1}]),  # its own serializer is json
        ("plain", "configured", [1, {"a": 1}]),  # a stock worker answers in json
        ("plain", "accept_only", [1, {"a": 1}]),
    ],
)
def test_control_questions_in_json_and_answers_as_the_asker_reads(worker, asker, answer):
    """Stock Celery asks and answers in task_serializer: a plain worker next to a configured
    one then died in mingle on a kombu_dash answer. Every question a configured app asks is
    json (which a plain worker reads), and every answer is in a content type its asker
    accepts."""
    with memory_node(memory_app(worker)) as asked:
        got = ask(memory_app(asker))
    same(got, answer)
    assert asked == ["application/x-kombu-dash+json" if asker == "by_hand" else "application/json"]


def test_control_answer_json_cannot_write_goes_as_its_repr():
    # `inspect active` lists the running tasks' arguments as they are: a plain asker gets
    # the repr of what json cannot write instead of no answer at all
    answer = {"args": ({3}, sd.QueryParams("a=1&a=2")), "ok": [1]}
    with memory_node(memory_app("configured"), answer):
        assert ask(memory_app("plain")) == {"args": ["{3}", repr(answer["args"][1])], "ok": [1]}
        same(ask(memory_app("configured")), answer)


class OwnControl(CeleryControl):
    """An app's own Control class (``Celery(control=...)``)."""


@pytest.mark.parametrize("made", ["before", "after", "custom-class"])
def test_control_adopted_whenever_it_was_made(made):
    app = Celery("kd_made", broker="memory://", set_as_current=False)
    app.conf.update(control_exchange="kd-memory", broker_transport_options=POLL)
    if made == "custom-class":
        app.control_cls = OwnControl
    if made == "before":
        assert app.control.mailbox.serializer == "json"  # a stock mailbox, made now
    kombu_dash.configure(app)
    assert app.control.mailbox.serializer == "kombu_dash"
    if made == "custom-class":
        assert type(app.control) is OwnControl  # the app's own class is kept
    kombu_dash.configure(app)  # again: nothing changes
    with memory_node(memory_app("configured")):
        same(ask(app), REPLY)
    with memory_node(app) as asked:
        assert ask(memory_app("plain")) == [1, {"a": 1}]
    assert asked == ["application/json"]
    # the app still pickles (the prefork pool and `celery multi` may send it)
    assert pickle.loads(pickle.dumps(app)).conf.task_serializer == "kombu_dash"


def test_keep_json_false_still_reads_json_questions():
    app = kombu_dash.configure(
        Celery("kd_nojson", broker="memory://", set_as_current=False), keep_json=False
    )
    app.conf.update(
        control_exchange="kd-memory", broker_transport_options=POLL, accept_content=["kombu_dash"]
    )
    kombu_dash.configure(app, keep_json=False)
    with memory_node(app):
        assert ask(memory_app("plain")) == [1, {"a": 1}]


# -- results: stored in the serializer their task arrived in ----------------------------------


def stored_bytes(app: Celery, task_id: str) -> bytes:
    backend = app.backend
    raw = backend.get(backend.get_key_for_task(task_id))
    return raw if isinstance(raw, bytes) else raw.encode()


@pytest.mark.parametrize("mode", ["configured", "accept_only"])
@pytest.mark.parametrize(
    "arrived, written",
    [("application/json", b"[1,2]"), (kombu_dash.CONTENT_TYPE, b'{"~tuple":[1,2]}'), (None, None)],
    ids=["json-task", "kombu_dash-task", "no-task"],
)
def test_result_stored_in_the_serializer_its_task_arrived_in(mode, arrived, written):
    from celery.app.task import Context

    from kombu_dash.fleet import TASK_CONTENT_TYPE

    app = kombu_dash.configure(
        Celery("kd_results", backend="cache+memory://", set_as_current=False),
        accept_only=mode == "accept_only",
    )
    tid = uuid.uuid4().hex  # the in-memory backend is process-wide, and keeps a success
    request = Context({"id": tid, TASK_CONTENT_TYPE: arrived} if arrived else {"id": tid})
    app.backend.store_result(tid, (1, 2), "SUCCESS", request=request)
    raw = stored_bytes(app, tid)
    if written is None:  # no task: result_serializer
        written = b'{"~tuple":[1,2]}' if mode == "configured" else b"[1, 2]"
    assert written.replace(b" ", b"") in raw.replace(b" ", b""), raw
    # ...and read back by this app (kombu_dash's decoder reads json results as they are)
    expected = (1, 2) if b"~tuple" in written else [1, 2]
    assert app.AsyncResult(tid).result == expected
    assert app.backend.serializer == app.conf.result_serializer  # only while storing


def test_amqp_message_properties_name_the_content_type_too():
    from celery.app.task import Context

    app = kombu_dash.configure(
        Celery("kd_props", backend="cache+memory://", set_as_current=False), accept_only=True
    )
    t2 = uuid.uuid4().hex
    request = Context({"id": t2, "properties": {"content_type": kombu_dash.CONTENT_TYPE}})
    app.backend.store_result(t2, (1, 2), "SUCCESS", request=request)
    assert app.AsyncResult(t2).result == (1, 2)


def test_result_serializer_of_another_task_in_another_thread_is_untouched():
    """A backend may be shared by threads (result_backend_thread_safe): while one thread
    stores a json task's result, another still sees the app's serializer."""
    from celery.app.task import Context

    from kombu_dash.fleet import TASK_CONTENT_TYPE

    app = Celery("kd_threads", backend="cache+memory://", set_as_current=False)
    app.conf.result_backend_thread_safe = True
    kombu_dash.configure(app)
    backend = app.backend
    seen: list[str] = []
    inside, done = threading.Event(), threading.Event()
    store = backend.set

    def slow_set(key, value, *args, **kwargs):
        inside.set()
        done.wait(5)
        return store(key, value, *args, **kwargs)

    backend.set = slow_set
    t3 = uuid.uuid4().hex
    request = Context({"id": t3, TASK_CONTENT_TYPE: "application/json"})
    worker = threading.Thread(
        target=backend.store_result, args=(t3, (1, 2), "SUCCESS"), kwargs={"request": request}
    )
    worker.start()
    assert inside.wait(5)
    seen.append(app.backend.serializer)  # the same backend object, from this thread
    done.set()
    worker.join(5)
    assert app.backend is backend and seen == ["kombu_dash"]
    assert app.AsyncResult(t3).result == [1, 2]


def test_backend_made_in_another_thread_after_configure_is_adopted():
    app = kombu_dash.configure(
        Celery("kd_thread_backend", backend="cache+memory://", set_as_current=False),
        accept_only=True,
    )
    made: list[Any] = []
    thread = threading.Thread(target=lambda: made.append(app.backend))
    thread.start()
    thread.join(5)
    (backend,) = made
    assert backend is not app.backend  # Celery's backends are per thread
    assert backend.serializer == "json" and backend.content_type == kombu_dash.CONTENT_TYPE
    # it pickles as Celery's own class
    assert type(pickle.loads(pickle.dumps(backend))).__name__ == "CacheBackend"


def fleet_workers(logdir, request):
    """For conftest's ``fleet``: configured_app on both brokers, prefork, one process,
    prefetch one, so a second task waits in the broker while the first runs."""
    return {
        broker: celery_worker(
            "tests.celery_apps.configured_app",
            broker,
            unique(f"configured-{broker}"),
            logdir,
            pool="prefork",
            concurrency=1,
            extra_args=("--prefetch-multiplier", "1"),
        )
        for broker in BROKER_URLS
    }


@pytest.fixture(params=BROKERS)
def worker(request, fleet):
    return fleet[request.param]


def producer(worker):
    return make_app(
        f"kd_configured_producer_{worker.queue}", worker.broker, worker.queue, result_extended=True
    )


def hostname(worker) -> str:
    return worker.hostname.replace("%h", socket.gethostname())


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_result_extended_stores_args_and_kwargs_with_their_types(worker):
    app = producer(worker)
    args = (wd.MultiDict([("tag", "a"), ("tag", "b")]), (1, 2), {3, 4})
    kwargs = {"qp": sd.QueryParams("tag=a&tag=b"), "when": dt.datetime(2024, 1, 2, 3, 4, 5, 6)}
    res = app.tasks["kd.echo_all"].apply_async(args, kwargs)
    out = res.get(timeout=TIMEOUT)
    same(out, {"args": list(args), "kwargs": kwargs})
    # read back from the backend: the worker re-encoded them with the result serializer
    fresh = app.AsyncResult(res.id)
    assert fresh.name == "kd.echo_all"
    assert len(fresh.args) == len(args)
    for got, sent in zip(fresh.args, args):
        same(got, sent)
    same(fresh.kwargs, kwargs)


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_control_mailbox_ping_revoke_and_terminate(worker):
    app = producer(worker)
    node = hostname(worker)
    assert app.control.ping(destination=[node], timeout=30) == [{node: {"ok": "pong"}}]

    multi = wd.MultiDict([("tag", "a"), ("tag", "b")])
    running = app.tasks["kd.sleep"].delay(120, multi)
    wait_for(lambda: running.state == "STARTED", TIMEOUT, 0.2, "the long task to start")
    # acks_late + prefetch 1: this one stays in the broker until the worker is free
    queued = app.tasks["kd.echo"].delay(multi)

    # the replies come back through kombu_dash as well
    replies = app.control.revoke(queued.id, destination=[node], reply=True, timeout=30)
    assert [list(r) for r in replies] == [[node]]
    assert queued.id in replies[0][node]["ok"] and "revoked" in replies[0][node]["ok"]

    replies = app.control.revoke(
        running.id, terminate=True, signal="SIGTERM", destination=[node], reply=True, timeout=30
    )
    assert [list(r) for r in replies] == [[node]]
    assert replies[0][node]["ok"] == f"terminate: {running.id}"
    wait_for(lambda: running.state == "REVOKED", TIMEOUT, 0.2, "the running task to be terminated")
    # the queued one reaches the worker now and is dropped without running
    wait_for(lambda: queued.state == "REVOKED", TIMEOUT, 0.2, "the queued task to be revoked")
    assert f"kd.echo[{queued.id}] succeeded" not in worker.text()

    after = app.tasks["kd.echo"].delay(multi)  # the worker carries on
    _, out = after.get(timeout=TIMEOUT)
    same(out, multi)
