"""kombu_dash.CeleryManager around the result store, run twice: on fakeredis (the quick
tier, no services) and on the real Redis at REDIS_URL (marked ``broker``).

A job is dispatched exactly as Dash dispatches it (``call_job_fn``), the task message is
taken off the broker and decoded as a worker would, and the job function runs in this
process; what it writes (result, progress, set_props) is read back through the manager.
The broker is kombu's in-memory transport: no worker consumes it, and the message a
worker would get is the one inspected.
"""

from __future__ import annotations

import inspect
import json
import uuid

import pytest

import kombu_dash


@pytest.fixture(
    params=[
        pytest.param("fakeredis", id="fakeredis"),
        pytest.param("redis", id="redis", marks=pytest.mark.broker),
    ]
)
def celery_app(request, monkeypatch, redis_url):
    from celery import Celery
    from celery.backends.redis import RedisBackend

    if request.param == "fakeredis":
        import fakeredis

        server = fakeredis.FakeServer()
        monkeypatch.setattr(
            RedisBackend,
            "_create_client",
            lambda self, **params: fakeredis.FakeRedis(server=server),
        )
        backend = "redis://fake-host:6379/0"  # never connected to: the client is patched
    else:
        backend = redis_url
    app = Celery(
        f"kd-{uuid.uuid4().hex[:6]}", broker="memory://", backend=backend, set_as_current=False
    )
    yield app
    app.close()


def _unique(name: str) -> str:
    # task names are process-wide (Celery's shared tasks): one per test run, or a later app
    # finalizes two callables under one name (DuplicateTaskNameWarning, an error here)
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _take_message(app, queue: str):
    """The task message as a worker receives it: kombu decodes the body by content type."""
    with app.connection_for_write() as conn:
        message = conn.default_channel.basic_get(queue)
    assert message is not None, f"no message on {queue}"
    return message


def _dispatch_and_run(app, fn, user_args, context, *, progress=False):
    """Dash's dispatch, then the worker's side in-process. Returns (manager, key, message)."""
    manager = kombu_dash.CeleryManager(app)
    key = f"kd-{uuid.uuid4().hex[:8]}"
    queue = f"q-{key}"
    job_fn = manager.make_job_fn(fn, progress, key=key)
    manager.call_job_fn(key, job_fn.s().set(queue=queue), user_args, context)
    message = _take_message(app, queue)
    args, kwargs, _embed = message.decode()  # the kombu_dash decoder, by content type
    job_fn(*args, **kwargs)  # the worker would run the same call
    return manager, key, message


def _context(**extra):
    from dash._utils import AttributeDict
    from werkzeug.datastructures import ImmutableMultiDict

    base = dict(
        args=ImmutableMultiDict([("tag", "a"), ("tag", "b")]),
        cookies={"session": "sess-secret"},
        headers={"Authorization": "Bearer tok-secret"},
        args_grouping=[AttributeDict(id="btn", property="n_clicks", value=1)],
        inputs_list=[],
        states_list=[],
        outputs_list=[],
        triggered_inputs=[],
        path="/?tag=a&tag=b",
        custom_data={"when": (1, 2)},
    )
    base.update(extra)
    return AttributeDict(base)


def test_celery_manager_extends_accept_content_and_keeps_app_defaults(celery_app):
    assert celery_app.conf.task_serializer == "json"
    kombu_dash.CeleryManager(celery_app)
    assert list(celery_app.conf.accept_content) == ["json", "kombu_dash"]
    # the app's other tasks, results and the control mailbox keep json
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.result_serializer == "json"


def test_only_the_dash_task_is_kombu_dash(celery_app):
    @celery_app.task(name="plain", shared=False)
    def plain(x):
        return x

    manager = kombu_dash.CeleryManager(celery_app)
    job_fn = manager.make_job_fn(lambda n: n, False, key=_unique("only-dash"))
    assert job_fn.serializer == "kombu_dash" and plain.serializer == "json"  # per task
    queue = _unique("q-plain")
    plain.apply_async((1,), queue=queue)
    assert _take_message(celery_app, queue).content_type == "application/json"


def test_result_written_by_the_job_is_what_the_manager_returns(celery_app):
    from dash._callback_context import context_value

    def callback(n):
        # the context the job function installs (dash 3's ctx has no .args property)
        ctx = context_value.get()
        return {
            "n": n,
            "tags": ctx.args.getlist("tag"),
            "value": ctx.args_grouping[0].value,
            "custom": list(ctx.custom_data["when"]),
        }

    manager, key, _ = _dispatch_and_run(celery_app, callback, [3], _context())
    assert manager.result_ready(key)
    assert manager.get_result(key, None) == {
        "n": 3,
        "tags": ["a", "b"],
        "value": 1,
        "custom": [1, 2],
    }


def test_progress_and_set_props_keys(celery_app):
    from dash import set_props

    def callback(set_progress, n):
        set_progress(("half", n))
        set_props("side", {"children": "from the job"})
        return n

    manager, key, _ = _dispatch_and_run(celery_app, callback, [7], _context(), progress=True)
    assert manager.get_progress(key) == ["half", 7]
    # Dash's own get_updated_props deletes the *result* key (dash 4.4.1), so read it first
    assert manager.get_result(key, None) == 7
    assert manager.get_updated_props(key) == {"side": {"children": "from the job"}}


def test_task_message_is_kombu_dash_and_its_repr_hides_the_context(celery_app):
    manager, key, message = _dispatch_and_run(celery_app, lambda n: n, [1], _context())
    assert message.content_type == kombu_dash.CONTENT_TYPE
    outside = json.dumps({k: v for k, v in message.headers.items()}, default=str)
    for secret in ("sess-secret", "tok-secret", "tag=a"):
        assert secret not in outside
    assert (
        message.headers["argsrepr"]
        == f"({key!r}, {key + '-progress'!r}, '<1 callback args>', '<callback_context: redacted>')"
    )
    assert message.headers["kwargsrepr"] == "{}"


def test_cache_by_keys_reuse_the_stored_result(celery_app):
    calls = []

    def callback(n):
        calls.append(n)
        return n * 10

    manager = kombu_dash.CeleryManager(celery_app, cache_by=[lambda: "v1"], expire=60)
    # dash >= 4 hashes the triggering input too; older Dash takes three arguments
    triggered = (
        ["btn.n_clicks"]
        if "triggered" in inspect.signature(manager.build_cache_key).parameters
        else []
    )
    key_a = manager.build_cache_key(callback, [1], [], *triggered)
    key_b = manager.build_cache_key(callback, [1], [], *triggered)
    key_c = manager.build_cache_key(callback, [2], [], *triggered)
    assert key_a == key_b != key_c
    job_fn = manager.make_job_fn(callback, False, key=_unique("cached"))
    queue = _unique("q-cached")
    manager.call_job_fn(key_a, job_fn.s().set(queue=queue), [1], _context())
    args, kwargs, _ = _take_message(celery_app, queue).decode()
    job_fn(*args, **kwargs)
    assert manager.result_ready(key_b) and manager.get_result(key_b, None) == 10
    # Dash keeps a result under cache_by (expire set) instead of deleting it once read
    assert manager.get_result(key_a, None) == 10 and calls == [1]


def test_a_job_that_finishes_between_dash_s_two_polls_is_not_cancelled(celery_app):
    # Dash polls get_result, then job_running; with no worker the task stays PENDING, and
    # a task id that is unknown reads as not running: the result written in between wins.
    manager = kombu_dash.CeleryManager(celery_app)
    job = str(uuid.uuid4())
    assert manager.get_result("race-key", job) is manager.UNDEFINED
    celery_app.backend.set("race-key", json.dumps("the output"))
    assert manager.job_running(job)  # reported running once, so the next poll shows it
    assert manager.get_result("race-key", None) == "the output"
