"""`python -m kombu_dash check` and `decode`, run as a user runs them: as processes,
against real Redis and real Celery workers. One test per exit code of `check`, and the
rolling-upgrade recipe of docs/operations.rst walked through with real workers."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest
import redis

import kombu_dash
from kombu_dash import check
from tests._celery_support import app_env
from tests._celery_support import reliability_worker as Worker
from tests.celery_apps.reliability_app import make_app
from tests.harness import ROOT, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def run_cli(*args, env=None, stdin: bytes | None = None, timeout: float = 120):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kombu_dash", *args], cwd=ROOT, env=env or app_env(),
                          input=stdin, capture_output=True, timeout=timeout)
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode(), time.monotonic() - start


def run_check(queue, timeout=20, **kd):
    kd.setdefault("queue", queue)
    return run_cli("check", "-A", "tests.celery_apps.reliability_app:app", "--timeout", str(timeout), env=app_env(**kd))


@pytest.fixture
def rdb(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# -- decode ----------------------------------------------------------------------------


SAMPLE = [(1, "a"), {"q": kombu_dash.MultiDict([("tag", "a"), ("tag", "b")])}, {2, 3}]


def test_decode_reads_a_body_from_a_file_and_from_stdin(tmp_path):
    path = tmp_path / "body.json"
    path.write_bytes(kombu_dash.dumpb(SAMPLE))
    for args, stdin in (((str(path),), None), ((), path.read_bytes()), (("-",), path.read_bytes())):
        rc, out, _ = run_cli("decode", *args, stdin=stdin)
        assert rc == 0, out
        assert out.strip() == repr(SAMPLE)


def test_decode_json_prints_the_tagged_wire_form(tmp_path):
    rc, out, _ = run_cli("decode", "--json", stdin=kombu_dash.dumpb(SAMPLE))
    assert rc == 0, out
    assert json.loads(out) == json.loads(kombu_dash.dumps(SAMPLE))
    assert '"~tuple"' in out and "\n  " in out  # tagged and indented


@pytest.mark.parametrize("body, why", [
    (b'{"~os.system": "echo pwned"}', "unknown tag '~os.system'"),
    (b'[1, {"~tuple": {"a": 1}}]', "~tuple payload must be an array"),
    (b'{"a": [1, 2', "malformed JSON"),
], ids=["unknown-tag", "wrong-payload", "truncated"])
def test_decode_refuses_what_a_worker_refuses_and_says_why(body, why):
    rc, out, _ = run_cli("decode", stdin=body)
    assert rc == 1
    assert why in out and "Traceback" not in out


def test_decode_missing_file_is_a_usage_error(tmp_path):
    rc, out, _ = run_cli("decode", str(tmp_path / "nope.json"))
    assert rc == 2 and "cannot read" in out


def test_decode_reads_a_queued_redis_envelope(unique_name, rdb, redis_url):
    # No worker consumes this queue: the message waits in Redis exactly as kombu stored it.
    app = make_app("kombu_dash", broker=redis_url, backend=redis_url, queue=unique_name)
    value = (kombu_dash.MultiDict([("a", "1"), ("a", "2")]), b"\x00bytes")
    res = app.send_task("kd.echo", args=(value,), queue=unique_name)
    try:
        raw = rdb.lindex(unique_name, 0)
        assert raw is not None
        rc, out, _ = run_cli("decode", stdin=raw)
        assert rc == 0, out
        assert f"task=kd.echo id={res.id}" in out
        assert out.startswith(f"(({value!r},),\n {{}},")  # (args, kwargs, embed), args a tuple
        # compressed bodies are unwrapped too
        res2 = app.send_task("kd.echo", args=(value,), queue=unique_name, compression="zlib")
        raw2 = next(m for m in rdb.lrange(unique_name, 0, -1) if res2.id.encode() in m)
        assert json.loads(raw2)["headers"]["compression"] == "application/x-gzip"  # kombu's name for zlib
        rc, out2, _ = run_cli("decode", stdin=raw2)
        assert rc == 0 and repr(value) in out2, out2
    finally:
        rdb.delete(unique_name)


def test_decode_envelope_with_another_content_type_is_not_decoded():
    env = {"body": base64.b64encode(b"\x80\x04pickle").decode(), "content-encoding": "binary",
           "content-type": "application/x-python-serialize", "headers": {},
           "properties": {"body_encoding": "base64"}}
    rc, out, _ = run_cli("decode", stdin=json.dumps(env).encode())
    assert rc == 1 and "neither kombu_dash nor json" in out


# -- check: one real situation per exit code -------------------------------------------


def test_check_help_documents_every_exit_code():
    rc, out, _ = run_cli("check", "--help")
    assert rc == 0
    for code, text in check.EXIT_CODES.items():
        assert f"{code}  {text}" in out


def test_check_exit_codes_are_distinct():
    codes = [check.OK, check.PROBE_FAILED, check.USAGE, check.BROKER_UNREACHABLE, check.NO_WORKER,
             check.NOT_ACCEPTED, check.BACKEND_UNREACHABLE]
    assert len(set(codes)) == len(codes) == len(check.EXIT_CODES)


def test_check_unloadable_app_is_a_usage_error():
    rc, out, _ = run_cli("check", "-A", "no_such_module_kd:app", "--timeout", "5")
    assert rc == check.USAGE and "cannot load app" in out


def test_check_broker_unreachable(unique_name):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    rc, out, took = run_check(unique_name, timeout=8, broker=closed)
    assert rc == check.BROKER_UNREACHABLE, out
    assert "broker unreachable" in out and took < 8 + 10


def test_check_broker_unreachable_amqp(unique_name):
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    rc, out, took = run_check(unique_name, timeout=8, broker=closed)
    assert rc == check.BROKER_UNREACHABLE, out
    assert took < 8 + 10


def test_check_result_backend_unreachable(unique_name):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    rc, out, took = run_check(unique_name, timeout=8, backend=closed)
    assert rc == check.BACKEND_UNREACHABLE, out
    assert "result backend unreachable" in out and took < 8 + 10


def test_check_no_worker_consuming(unique_name):
    rc, out, took = run_check(unique_name, timeout=8)
    assert rc == check.NO_WORKER, out
    assert f"no worker consumes queue {unique_name!r}" in out and took < 8 + 10


@pytest.fixture
def workers(tmp_path, unique_name):
    started = []

    def start(mode, queue=None, name=None):
        w = Worker(name or f"{mode}-{unique_name}", queue or f"{unique_name}-{mode}",
                   tmp_path / f"{mode}-{len(started)}.log", concurrency=1, mode=mode)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def test_check_worker_without_kombu_dash_and_a_good_worker(workers, unique_name):
    old = workers("json")
    new = workers("kombu_dash")
    old.wait_ready(), new.wait_ready()

    rc, out, _ = run_check(old.queue)
    assert rc == check.NOT_ACCEPTED, out
    assert f"worker {old.name}: does NOT accept application/x-kombu-dash+json" in out

    rc, out, _ = run_check(new.queue)
    assert rc == check.OK, out
    assert "came back intact through kombu_dash" in out


def test_rolling_upgrade_recipe_with_real_workers(workers, unique_name, rdb, redis_url):
    """docs/operations.rst: 1. every worker (and result reader) accepts both; 2. switch
    serializers. Before step 1, a kombu_dash message is rejected by the old worker,
    never mis-decoded, and `check` says so."""
    queue, key = unique_name, f"{unique_name}:done"
    producer = {m: make_app(m, broker=redis_url, backend=redis_url, queue=queue) for m in ("json", "kombu_dash")}

    # Step 0: the old fleet, json everywhere.
    old = workers("json", queue=queue, name=f"old-{unique_name}").wait_ready()
    assert producer["json"].send_task("kd.record", args=(key, 0)).get(timeout=60) == 0

    # The mistake the recipe avoids: switching a producer first.
    early = producer["kombu_dash"].send_task("kd.record", args=(key, 1, (1, 2)))
    deadline = time.monotonic() + 30
    while "Refusing to deserialize untrusted content of type kombu_dash" not in old.text():
        assert time.monotonic() < deadline, old.text()[-3000:]
        time.sleep(0.2)
    time.sleep(1)
    assert not rdb.sismember(key, 1)          # never ran: not decoded as something else
    assert rdb.llen(queue) == 0                # rejected, not requeued in a loop
    assert early.state == "PENDING"            # ...which is why `check` exists:
    rc, out, _ = run_check(queue, mode="kombu_dash")
    assert rc == check.NOT_ACCEPTED, out

    # Step 1: workers accept both (still writing json); json producers are unaffected.
    both = workers("both", queue=queue, name=f"both-{unique_name}").wait_ready()
    old.stop()
    assert producer["json"].send_task("kd.record", args=(key, 2)).get(timeout=60) == 2
    rc, out, _ = run_check(queue, mode="kombu_dash")
    assert rc == check.OK, out
    # a kombu_dash task is decoded as sent (its result still travels as json)
    assert producer["kombu_dash"].send_task("kd.record", args=(key, 3, (1, 2))).get(timeout=60) == 3

    # Step 2: switch serializers: workers write kombu_dash results, producers send kombu_dash.
    # A json task still queued from before the switch is run by the new worker too.
    both.stop()
    pending_json = producer["json"].send_task("kd.record", args=(key, 4))
    new = workers("kombu_dash", queue=queue, name=f"new-{unique_name}").wait_ready()
    assert pending_json.get(timeout=60) == 4
    value = (1, kombu_dash.MultiDict([("a", "1"), ("a", "2")]), {"when": {5}})
    got = producer["kombu_dash"].send_task("kd.reliability.echo", args=(value,)).get(timeout=60)
    assert got == value and type(got) is tuple and type(got[1]) is kombu_dash.MultiDict
    rc, out, _ = run_check(queue, mode="kombu_dash")
    assert rc == check.OK and "came back intact" in out, out
    assert {int(x) for x in rdb.smembers(key)} == {0, 2, 3, 4}
    rdb.delete(key, key + ":runs")
    new.stop()
