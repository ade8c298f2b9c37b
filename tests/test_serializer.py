"""The kombu binding and Celery configuration, without a broker (the broker tests
live in test_celery_*.py)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest
import werkzeug.datastructures as wd
from celery import Celery
from kombu import serialization
from kombu.exceptions import ContentDisallowed

import kombu_dash


def test_public_names():
    assert kombu_dash.SERIALIZER == "kombu_dash"
    assert kombu_dash.CONTENT_TYPE == "application/x-kombu-dash+json"


def test_entry_point_is_declared_and_loads_the_serializer():
    (ep,) = [ep for ep in entry_points(group="kombu.serializers") if ep.name == "kombu_dash"]
    encoder, decoder, content_type, encoding = ep.load()
    assert (content_type, encoding) == (kombu_dash.CONTENT_TYPE, "utf-8")
    # a fresh interpreter that never imports kombu_dash itself still has the serializer
    code = (
        "from celery import Celery; Celery('x'); from kombu import serialization as s; "
        "ct, enc, body = s.dumps({'t': (1, 2)}, serializer='kombu_dash'); "
        "print(ct, body.decode(), s.loads(body, ct, enc, accept=[ct]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "application/x-kombu-dash+json",
        '{"t":{"~tuple":[1,2]}}',
        "{'t':",
        "(1,",
        "2)}",
    ]


def test_register_is_idempotent():
    kombu_dash.register()
    before = dict(serialization.registry._encoders)
    kombu_dash.register()
    assert serialization.registry._encoders == before
    ct, enc, body = serialization.dumps(
        wd.MultiDict([("a", "1"), ("a", "2")]), serializer="kombu_dash"
    )
    out = serialization.loads(body, ct, enc, accept=[ct])
    assert type(out) is wd.MultiDict and out.getlist("a") == ["1", "2"]


def test_content_outside_accept_is_refused():
    ct, enc, body = serialization.dumps([1], serializer="kombu_dash")
    with pytest.raises(ContentDisallowed):
        serialization.loads(body, ct, enc, accept=["application/json"])


@pytest.mark.parametrize(
    "given, accept",
    [
        ({}, ["json", "kombu_dash"]),
        ({"accept_content": ["json", "msgpack"]}, ["json", "msgpack", "kombu_dash"]),
        ({"accept_content": ["application/json"]}, ["application/json", "kombu_dash", "json"]),
    ],
    ids=["defaults", "msgpack-kept", "content-type-names"],
)
def test_configure(given, accept):
    app = Celery("t", set_as_current=False)
    app.conf.update(given)
    assert kombu_dash.configure(app) is app
    assert app.conf.task_serializer == app.conf.result_serializer == "kombu_dash"
    assert app.conf.accept_content == accept
    assert app.conf.result_accept_content == accept
    assert app.conf.event_serializer == "json"  # events (Flower) keep their own format


def test_configure_can_drop_json():
    app = kombu_dash.configure(Celery("t", set_as_current=False), keep_json=False)
    assert app.conf.accept_content == ["kombu_dash"]


def test_celery_task_body_round_trips_with_embedded_signatures():
    # What Celery's protocol 2 puts in a body: (args, kwargs, embed) with canvas signatures.
    app = Celery("t", set_as_current=False)
    sig = app.signature("tasks.add", args=(1, 2))
    body = ((wd.MultiDict([("a", "1")]),), {"k": {1, 2}}, {"callbacks": [sig], "chain": None})
    out = kombu_dash.loads(kombu_dash.dumpb(body))
    assert type(out) is tuple and type(out[0][0]) is wd.MultiDict and out[1] == {"k": {1, 2}}
    # signatures travel as plain dicts, exactly as with Celery's json; Celery rebuilds them
    assert type(out[2]["callbacks"][0]) is dict and out[2]["callbacks"][0] == dict(sig)
    assert out[2]["callbacks"][0]["args"] == (1, 2)


def test_configure_after_tasks_were_bound():
    # Using a task (its name, .delay) binds it and copies task_serializer into it.
    app = Celery("t", set_as_current=False)

    @app.task
    def add(x, y):
        return x + y

    assert add.name and add.serializer == "json"
    kombu_dash.configure(app)
    assert add.serializer == "kombu_dash"
    assert app.tasks[add.name].serializer == "kombu_dash"


def test_configure_accept_only_is_step_one_of_an_upgrade():
    app = kombu_dash.configure(Celery("t", set_as_current=False), accept_only=True)
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
    assert app.conf.accept_content == app.conf.result_accept_content == ["json", "kombu_dash"]
