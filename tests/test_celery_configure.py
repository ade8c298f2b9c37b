"""``kombu_dash.configure(app)``: the settings it writes, and a ``celery worker`` (prefork)
set up with it on Redis and RabbitMQ: result_extended keeps the types of the stored
args/kwargs, and the control mailbox (ping, revoke, revoke with terminate) works with
kombu_dash as the task serializer.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from celery import Celery

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
    # the control mailbox (revoke, terminate) follows task_serializer and accept_content
    assert app.control.mailbox.serializer == "kombu_dash"
    assert set(app.control.mailbox.accept) == {"json", "kombu_dash"}


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
    assert app.control.ping(destination=[node], timeout=10) == [{node: {"ok": "pong"}}]

    multi = wd.MultiDict([("tag", "a"), ("tag", "b")])
    running = app.tasks["kd.sleep"].delay(120, multi)
    wait_for(lambda: running.state == "STARTED", TIMEOUT, 0.2, "the long task to start")
    # acks_late + prefetch 1: this one stays in the broker until the worker is free
    queued = app.tasks["kd.echo"].delay(multi)

    # the replies come back through kombu_dash as well
    replies = app.control.revoke(queued.id, destination=[node], reply=True, timeout=10)
    assert [list(r) for r in replies] == [[node]]
    assert queued.id in replies[0][node]["ok"] and "revoked" in replies[0][node]["ok"]

    replies = app.control.revoke(
        running.id, terminate=True, signal="SIGTERM", destination=[node], reply=True, timeout=10
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
