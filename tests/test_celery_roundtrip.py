"""Values through real Celery workers on real brokers (Redis and RabbitMQ), both legs:
the task message (task_serializer) and the result (result_serializer, Redis backend).

The worker is Celery's own embedded test worker (celery.contrib.testing.worker), one per
broker for the whole module; the app is set up with ``kombu_dash.configure(app)``.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from celery import chain, chord, group

from ._celery_support import BROKERS, in_process_worker, make_app, unique
from .celery_apps.tasks import KDTaskError, type_name
from .harness import same
from .test_roundtrip import ROWS

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("celery_result_consumer_fix"),
]

TIMEOUT = 30


@pytest.fixture(scope="module", params=BROKERS)
def app(request):
    broker = request.param
    app = make_app(f"kd_roundtrip_{broker}", broker, unique(f"roundtrip-{broker}"))
    with in_process_worker(app):
        yield app


def task(app, name):
    return app.tasks[f"kd.{name}"]


# The types this file promises to carry through workers; the rows themselves live in
# test_roundtrip.ROWS so that a new tag's row is sent through Celery too.
PROMISED = {
    "tuple",
    "set",
    "frozenset",
    "bytes",
    "bytearray",
    "datetime-naive",
    "datetime-offset",
    "date",
    "time",
    "timedelta",
    "decimal",
    "uuid",
    "dict-int-keys",
    "dict-mixed-keys",
    "float-nan-inf",
    "int-big",
    "lookalike-tag",
    "werkzeug-MultiDict",
    "werkzeug-ImmutableMultiDict",
    "werkzeug-CombinedMultiDict",
    "werkzeug-Headers",
    "starlette-QueryParams",
    "starlette-Headers",
    "starlette-FormData",
    "starlette-URL",
    "multidict-CIMultiDict",
    "dash-AttributeDict",
    "counter",
}


def test_the_table_still_holds_every_promised_type():
    assert PROMISED <= {row[0] for row in ROWS}


@pytest.mark.parametrize("obj", [row[1] for row in ROWS], ids=[row[0] for row in ROWS])
def test_value_round_trips_through_a_worker(app, obj):
    seen_by_worker, out = task(app, "echo").delay(obj).get(timeout=TIMEOUT)
    assert seen_by_worker == type_name(obj)
    same(out, obj)


def test_nan_through_a_worker(app):
    _, out = task(app, "echo").delay([math.nan, {"x": math.nan}]).get(timeout=TIMEOUT)
    assert type(out[0]) is float and math.isnan(out[0]) and math.isnan(out[1]["x"])


def test_args_and_kwargs_of_every_type_in_one_message(app):
    values = [row[1] for row in ROWS]
    kwargs = {f"k{i}": v for i, v in enumerate(values)}
    out = task(app, "echo_all").delay(*values, **kwargs).get(timeout=TIMEOUT)
    assert len(out["args"]) == len(values)
    for got, sent in zip(out["args"], values):
        same(got, sent)
    assert list(out["kwargs"]) == list(kwargs)
    for key, sent in kwargs.items():
        same(out["kwargs"][key], sent)


@pytest.mark.parametrize(
    "multi",
    [
        wd.MultiDict([("tag", "a"), ("tag", "b"), ("page", "2")]),
        sd.QueryParams("tag=a&tag=b&page=2"),
    ],
    ids=["werkzeug-MultiDict", "starlette-QueryParams"],
)
def test_repeated_keys_reach_the_worker(app, multi):
    # ?tag=a&tag=b: Celery's json keeps one value (werkzeug) or refuses the value (starlette)
    out = task(app, "getlist").delay(multi, "tag").get(timeout=TIMEOUT)
    assert out == {"type": type_name(multi), "values": multi.getlist("tag"), "item": multi["tag"]}
    assert out["values"] == ["a", "b"]


SAMPLE = [
    ("tuple", (1, (2, 3))),
    ("set", {1, 2}),
    ("datetime", dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)),
    ("QueryParams", sd.QueryParams("tag=a&tag=b")),
    ("werkzeug-MultiDict", wd.MultiDict([("tag", "a"), ("tag", "b")])),
    ("dict-int-keys", {1: b"x"}),
]


def test_chain_passes_typed_results_between_tasks(app):
    # each link's result is the next task's argument: it travels in a new message
    add, identity, getlist = task(app, "add"), task(app, "identity"), task(app, "getlist")
    assert chain(add.s((1, 2), (3,)), add.s((4,))).delay().get(timeout=TIMEOUT) == (1, 2, 3, 4)
    out = (
        chain(identity.s(sd.QueryParams("tag=a&tag=b")), getlist.s("tag"))
        .delay()
        .get(timeout=TIMEOUT)
    )
    assert out == {
        "type": "starlette.datastructures.QueryParams",
        "values": ["a", "b"],
        "item": "b",
    }


def test_group_results_keep_their_types(app):
    identity = task(app, "identity")
    out = group(identity.s(v) for _, v in SAMPLE).delay().get(timeout=TIMEOUT)
    for got, (_, sent) in zip(out, SAMPLE):
        same(got, sent)


def test_chord_callback_gets_typed_header_results(app):
    # the header's results come back from the Redis backend into the callback's message
    identity, collect = task(app, "identity"), task(app, "collect")
    names, values = chord(identity.s(v) for _, v in SAMPLE)(collect.s()).get(timeout=TIMEOUT)
    assert names == [type_name(v) for _, v in SAMPLE]
    same(values, tuple(v for _, v in SAMPLE))


def test_retry_resends_the_same_typed_arguments(app):
    multi = wd.MultiDict([("tag", "a"), ("tag", "b")])
    value = {"md": multi, "when": dt.date(2024, 1, 2), "pair": (1, 2)}
    out = task(app, "retry").delay(value, 2).get(timeout=TIMEOUT)
    assert out["retries"] == 2
    same(out["value"], value)


def test_failed_task_result_is_the_exception(app):
    res = task(app, "fail").delay("value", (1, 2))
    exc = res.get(timeout=TIMEOUT, propagate=False)
    assert type(exc) is ValueError and str(exc) == "bad value: (1, 2)"
    assert res.state == "FAILURE" and isinstance(res.result, ValueError)
    assert "ValueError: bad value: (1, 2)" in res.traceback
    with pytest.raises(ValueError, match=r"bad value: \(1, 2\)"):
        res.get(timeout=TIMEOUT)


def test_failed_task_keeps_a_user_exception_type_and_typed_args(app):
    res = task(app, "fail").delay("custom", (1, 2))
    exc = res.get(timeout=TIMEOUT, propagate=False)
    assert type(exc) is KDTaskError
    assert exc.args == ("custom failure", (1, 2))
    assert "KDTaskError" in res.traceback


def test_countdown_delays_the_task(app):
    qp = sd.QueryParams("tag=a&tag=b")
    sent = time.time()
    out = task(app, "request_info").apply_async((qp,), countdown=1.5).get(timeout=TIMEOUT)
    assert out["eta"] is not None
    assert out["ran_at"] >= sent + 1.4
    same(out["value"], qp)


def test_eta_with_an_aware_datetime(app):
    eta = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)
    out = task(app, "request_info").apply_async(((eta,),), eta=eta).get(timeout=TIMEOUT)
    assert out["ran_at"] >= eta.timestamp() - 0.1
    assert dt.datetime.fromisoformat(out["eta"]) == eta
    same(out["value"], (eta,))


@pytest.mark.parametrize("compression", ["zlib", "bzip2"])
def test_compressed_messages(app, compression):
    # kombu compresses the kombu_dash bytes; the worker sees the header and the same values
    value = {"md": wd.MultiDict([("tag", "a"), ("tag", "b")]), "blob": b"x" * 10_000, "t": (1,)}
    out = (
        task(app, "request_info")
        .apply_async((value,), compression=compression)
        .get(timeout=TIMEOUT)
    )
    from kombu.compression import get_encoder

    assert out["compression"] == get_encoder(compression)[1]
    same(out["value"], value)
