"""kombu_dash.CeleryManager / DiskcacheManager as objects: drop-in constructors, the
serializer and accept lists they set, and what their Celery messages look like on the
broker (read raw from Redis: no worker consumes these queues)."""

from __future__ import annotations

import base64
import inspect
import json
import subprocess
import sys
import uuid

import pytest

import kombu_dash


def test_import_kombu_dash_does_not_import_dash():
    code = "import sys, kombu_dash; kombu_dash.dumps({'a': (1,)}); print('dash' in sys.modules, 'diskcache' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_managers_are_drop_in_subclasses():
    import dash

    assert issubclass(kombu_dash.CeleryManager, dash.CeleryManager)
    assert issubclass(kombu_dash.DiskcacheManager, dash.DiskcacheManager)
    for ours, theirs in [(kombu_dash.CeleryManager, dash.CeleryManager),
                         (kombu_dash.DiskcacheManager, dash.DiskcacheManager)]:
        assert inspect.signature(ours.__init__) == inspect.signature(theirs.__init__)


def test_diskcache_manager_creates_a_tagged_json_cache(tmp_path):
    import diskcache

    manager = kombu_dash.DiskcacheManager()
    try:
        assert type(manager.handle.disk) is kombu_dash.TaggedJSONDisk
    finally:
        manager.handle.close()
        __import__("shutil").rmtree(manager.handle.directory, ignore_errors=True)
    mine = diskcache.Cache(str(tmp_path))  # a user's own cache is kept as given
    assert kombu_dash.DiskcacheManager(mine).handle is mine


@pytest.fixture
def celery_app(redis_url):
    from celery import Celery

    app = Celery(f"kd-{uuid.uuid4().hex[:6]}", broker=redis_url, backend=redis_url)
    yield app
    app.close()


def _raw_messages(redis_url, queue):
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        # kombu LPUSHes and BRPOPs: the oldest message is last
        return [json.loads(m) for m in reversed(client.lrange(queue, 0, -1))]
    finally:
        client.delete(queue)
        client.close()


def test_celery_manager_extends_accept_content_and_keeps_app_defaults(celery_app):
    assert celery_app.conf.task_serializer == "json"
    kombu_dash.CeleryManager(celery_app)
    assert list(celery_app.conf.accept_content) == ["json", "kombu_dash"]
    # the app's other tasks, results and the control mailbox keep json
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.result_serializer == "json"


def test_dash_task_is_kombu_dash_other_tasks_json_and_secrets_stay_in_the_body(celery_app, redis_url, unique_name):
    """Issue 5 item 7: the request's cookies and headers never reach argsrepr/kwargsrepr."""
    from werkzeug.datastructures import ImmutableMultiDict

    from dash._utils import AttributeDict

    @celery_app.task(name=f"{unique_name}.plain")
    def plain(x):
        return x

    manager = kombu_dash.CeleryManager(celery_app)
    job_fn = manager.make_job_fn(lambda n: n, False, key=unique_name)
    assert job_fn.serializer == "kombu_dash" and plain.serializer == "json"  # per task
    cookie, token = f"sess-{uuid.uuid4().hex}", f"Bearer tok-{uuid.uuid4().hex}"
    context = AttributeDict(
        args=ImmutableMultiDict([("tag", "a"), ("tag", "b")]),
        cookies={"session": cookie},
        headers={"Authorization": token, "Cookie": f"session={cookie}"},
        args_grouping=[AttributeDict(id="btn", property="n_clicks", value=1)],
    )
    manager.call_job_fn("cache-key", job_fn.s().set(queue=unique_name), [1], context)
    plain.apply_async((1,), queue=unique_name)

    dash_msg, plain_msg = _raw_messages(redis_url, unique_name)
    assert dash_msg["content-type"] == kombu_dash.CONTENT_TYPE
    assert plain_msg["content-type"] == "application/json"

    body = base64.b64decode(dash_msg["body"]) if dash_msg["properties"]["body_encoding"] == "base64" else dash_msg["body"]
    args, kwargs, _ = kombu_dash.loads(body)
    sent = args[3]
    assert type(sent["args"]) is ImmutableMultiDict and sent["args"].getlist("tag") == ["a", "b"]
    assert sent["args_grouping"][0].value == 1  # AttributeDict, attribute access intact
    assert sent["cookies"] == {"session": cookie}  # the worker still gets them...

    outside = json.dumps({k: v for k, v in dash_msg.items() if k != "body"})
    for secret in (cookie, token, "tok-"):  # ...but nothing outside the body shows them
        assert secret not in outside
    assert dash_msg["headers"]["argsrepr"].startswith("('cache-key', 'cache-key-progress', '<1 callback args>'")
    assert dash_msg["headers"]["kwargsrepr"] == "{}"


def test_job_ending_between_result_and_running_checks_is_not_taken_for_cancelled(tmp_path):
    """Dash polls get_result, then job_running: a job that writes its result and exits in
    between looked cancelled (204, output never shown). Deterministic replay of that order."""
    import dash
    import diskcache

    proc = subprocess.Popen([sys.executable, "-c", "pass"])  # exits and is reaped: not running
    proc.wait()
    job = str(proc.pid)
    for manager_cls, expected_running in [(dash.DiskcacheManager, False), (kombu_dash.DiskcacheManager, True)]:
        cache = diskcache.Cache(str(tmp_path / manager_cls.__module__), disk=kombu_dash.TaggedJSONDisk)
        manager = manager_cls(cache)
        assert manager.get_result("key", job) is manager.UNDEFINED  # poll: not written yet...
        cache.set("key", "the output")                               # ...the job writes and exits
        assert bool(manager.job_running(job)) is expected_running   # dash's own: "cancelled"
        if expected_running:
            assert manager.get_result("key", None) == "the output"  # the next poll shows it
