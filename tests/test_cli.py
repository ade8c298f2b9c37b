"""`python -m kombu_dash check` and `decode`, run as a user runs them: as processes,
against real Redis and real Celery workers. One test per exit code of `check`, hostile
control replies and message bodies. (Mixed fleets, the rolling upgrade of
docs/operations.rst and what `check` says about each worker: tests/test_celery_fleet.py.)

Everything runs on ``REDIS_URL`` (its database holds the broker, the result backend and
the control mailbox): workers of concurrent test runs on other databases never answer
these checks."""

from __future__ import annotations

import base64
import bz2
import io
import json
import re
import subprocess
import sys
import zlib

import pytest
import redis

import kombu_dash
from kombu_dash import Tag
from kombu_dash.cli import check, decode
from tests._celery_support import app_env
from tests._celery_support import reliability_worker as Worker
from tests.celery_apps.reliability_app import make_app
from tests.conftest import REDIS_URL
from tests.harness import ROOT, Proc, free_port, wait_for

# Most of these need no service and run in the quick tier; those that need Redis, RabbitMQ
# or real workers are marked broker and slow.


#: Seconds after which a command still running counts as hung. `check` ends within its
#: --timeout (at most 10 s in these tests) plus starting Python and Celery: this is an order
#: of magnitude past that, which no load reaches, and far short of "for ever".
HANG = 120


def run_cli(*args, env=None, stdin: bytes | None = None, timeout: float = HANG):
    """``python -m kombu_dash ARGS``: (exit code, output). A run past ``timeout`` fails the
    test with subprocess.TimeoutExpired: the command hung."""
    proc = subprocess.run(
        [sys.executable, "-m", "kombu_dash", *args],
        cwd=ROOT,
        env=env or app_env(),
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode()


def run_check(queue, timeout=20, *, proc_timeout: float = HANG, **kd):
    kd.setdefault("queue", queue)
    kd.setdefault("broker", REDIS_URL)
    kd.setdefault("backend", REDIS_URL)
    return run_cli(
        "check",
        "-A",
        "tests.celery_apps.reliability_app:app",
        "--timeout",
        str(timeout),
        env=app_env(**kd),
        timeout=proc_timeout,
    )


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
        rc, out = run_cli("decode", *args, stdin=stdin)
        assert rc == 0, out
        assert out.strip() == repr(SAMPLE)


def test_decode_json_prints_the_tagged_wire_form(tmp_path):
    rc, out = run_cli("decode", "--json", stdin=kombu_dash.dumpb(SAMPLE))
    assert rc == 0, out
    assert json.loads(out) == json.loads(kombu_dash.dumps(SAMPLE))
    assert '"~tuple"' in out and "\n  " in out  # tagged and indented


@pytest.mark.parametrize(
    "body, why",
    [
        (b'{"~os.system": "echo pwned"}', "unknown tag '~os.system'"),
        (b'[1, {"~tuple": {"a": 1}}]', "~tuple payload must be an array"),
        (b'{"a": [1, 2', "malformed JSON"),
    ],
    ids=["unknown-tag", "wrong-payload", "truncated"],
)
def test_decode_refuses_what_a_worker_refuses_and_says_why(body, why):
    rc, out = run_cli("decode", stdin=body)
    assert rc == 1
    assert why in out and "Traceback" not in out


def test_decode_missing_file_is_a_usage_error(tmp_path):
    rc, out = run_cli("decode", str(tmp_path / "nope.json"))
    assert rc == 2 and "cannot read" in out


@pytest.mark.broker
@pytest.mark.slow
def test_decode_reads_a_queued_redis_envelope(unique_name, rdb, redis_url):
    # No worker consumes this queue: the message waits in Redis exactly as kombu stored it.
    app = make_app("kombu_dash", broker=redis_url, backend=redis_url, queue=unique_name)
    value = (kombu_dash.MultiDict([("a", "1"), ("a", "2")]), b"\x00bytes")
    res = app.send_task("kd.echo", args=(value,), queue=unique_name)
    try:
        raw = rdb.lindex(unique_name, 0)
        assert raw is not None
        rc, out = run_cli("decode", stdin=raw)
        assert rc == 0, out
        assert f"task=kd.echo id={res.id}" in out
        assert out.startswith(f"(({value!r},),\n {{}},")  # (args, kwargs, embed), args a tuple
        # compressed bodies are unwrapped too
        res2 = app.send_task("kd.echo", args=(value,), queue=unique_name, compression="zlib")
        raw2 = next(m for m in rdb.lrange(unique_name, 0, -1) if res2.id.encode() in m)
        # kombu's name for zlib
        assert json.loads(raw2)["headers"]["compression"] == "application/x-gzip"
        rc, out2 = run_cli("decode", stdin=raw2)
        assert rc == 0 and repr(value) in out2, out2
    finally:
        rdb.delete(unique_name)


def test_decode_envelope_with_another_content_type_is_not_decoded():
    env = {
        "body": base64.b64encode(b"\x80\x04pickle").decode(),
        "content-encoding": "binary",
        "content-type": "application/x-python-serialize",
        "headers": {},
        "properties": {"body_encoding": "base64"},
    }
    rc, out = run_cli("decode", stdin=json.dumps(env).encode())
    assert rc == 1 and "neither kombu_dash nor json" in out


# -- check: one real situation per exit code -------------------------------------------


def test_check_help_documents_every_exit_code():
    rc, out = run_cli("check", "--help")
    assert rc == 0
    for code, text in check.EXIT_CODES.items():
        assert f"{code}  {text}" in out


def test_check_exit_codes_are_distinct():
    codes = [
        check.OK,
        check.PROBE_FAILED,
        check.USAGE,
        check.BROKER_UNREACHABLE,
        check.NO_WORKER,
        check.NOT_ACCEPTED,
        check.BACKEND_UNREACHABLE,
    ]
    assert len(set(codes)) == len(codes) == len(check.EXIT_CODES)


def test_check_unloadable_app_is_a_usage_error():
    rc, out = run_cli("check", "-A", "no_such_module_kd:app", "--timeout", "5")
    assert rc == check.USAGE and "cannot load app" in out


@pytest.mark.slow  # waits out an 8-second --timeout (a hang fails at HANG seconds)
def test_check_broker_unreachable(unique_name):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    rc, out = run_check(unique_name, timeout=8, broker=closed)
    assert rc == check.BROKER_UNREACHABLE, out
    assert "broker unreachable" in out


@pytest.mark.slow  # waits out an 8-second --timeout
def test_check_broker_unreachable_amqp(unique_name):
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    rc, out = run_check(unique_name, timeout=8, broker=closed)
    assert rc == check.BROKER_UNREACHABLE, out


@pytest.mark.broker
@pytest.mark.slow
def test_check_result_backend_unreachable(unique_name):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    rc, out = run_check(unique_name, timeout=8, backend=closed)
    assert rc == check.BACKEND_UNREACHABLE, out
    assert "result backend unreachable" in out


@pytest.mark.broker
@pytest.mark.slow
def test_check_no_worker_consuming(unique_name, rdb):
    rc, out = run_check(unique_name, timeout=8)
    assert rc == check.NO_WORKER, out
    assert "no worker took the probe" in out and f"on queue {unique_name!r}" in out
    assert "it expires unrun" in out
    rdb.delete(unique_name)


@pytest.fixture
def workers(tmp_path, unique_name):
    started = []

    def start(mode, queue=None, name=None):
        w = Worker(
            name or f"{mode}-{unique_name}",
            queue or f"{unique_name}-{mode}",
            tmp_path / f"{mode}-{len(started)}.log",
            concurrency=1,
            mode=mode,
            broker=REDIS_URL,
            backend=REDIS_URL,
            record=REDIS_URL,
        )
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.mark.broker
@pytest.mark.slow
def test_check_worker_without_kombu_dash_and_a_good_worker(workers, unique_name):
    old = workers("json")
    new = workers("kombu_dash")
    old.wait_ready(), new.wait_ready()

    rc, out = run_check(old.queue)
    assert rc == check.NOT_ACCEPTED, out
    assert f"worker {old.name}: does NOT accept application/x-kombu-dash+json" in out

    rc, out = run_check(new.queue)
    assert rc == check.OK, out
    assert "came back intact through kombu_dash" in out


# -- decode: hostile bodies cost bounded memory, cannot drive the terminal, never a traceback


#: 801 bytes of bz2 that expand to 1 GiB: "[", 2**30 spaces, "]" (valid JSON: an empty list).
BZ2_BOMB = base64.b64decode(
    "QlpoOTFBWSZTWYQoeocFfjgSAMAAAAgACCAAUGYE1I3EVAS6kkgqrahUBLzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZ"
    "CoCWpCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1m1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQq"
    "AlzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVk"
    "mU1m1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZtSJ"
    "lvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1m1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWbUiZb8BX44"
    "QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1m1ImW/AV+OEADAAAA"
    "IIAAwgE1GQqAlqQqAlzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIB"
    "NRkKgJakKgJcxQVkmU1m1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCW"
    "pCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1m1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQqAlzF"
    "BWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZtSJlvwFfjhAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1m"
    "1ImW/AV+OEADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWbUiZb8BX44QAMAAAAggADCATUZCoCWpCoCXMUFZJlNZy0cmKgC"
    "KUxoAwAAABAACAAggAFBmmgUqPTKJEhvqVUqi3lEiQ4XckU4UJAb8PvT"
)


def envelope(body: bytes, content_type="application/x-kombu-dash+json", **headers) -> bytes:
    """A message as kombu's Redis transport stores it (what `redis-cli LINDEX` prints)."""
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": content_type,
            "headers": headers,
            "properties": {"body_encoding": "base64"},
        }
    ).encode()


# The command's own peak, read from /proc at its exit: the new image's VmHWM. (A forked
# child's ru_maxrss also counts the pytest process's pages it shared before exec, so it grew
# with the test session: 182-210 MiB after a full run, 95 MiB alone.)
_MEASURED = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write("\\nVmHWM-KiB %s\\n" % kb)
atexit.register(peak)
sys.argv = ["kombu_dash", *sys.argv[1:]]
runpy.run_module("kombu_dash", run_name="__main__")
"""


def run_measured(*args, stdin: bytes) -> tuple[int, str, int]:
    """(exit code, output, peak RSS in MiB) of `python -m kombu_dash ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=120,
    )
    err = proc.stderr.decode(errors="replace")
    kib = int(re.search(r"VmHWM-KiB (\d+)", err).group(1))
    out = proc.stdout.decode(errors="replace") + err
    return proc.returncode, out, kib // 1024


def test_decode_caps_the_decompressed_size():
    assert len(BZ2_BOMB) == 801
    rc, out, rss = run_measured("decode", stdin=envelope(BZ2_BOMB, compression="application/x-bz2"))
    assert rc == 1, out
    assert f"larger than {decode.DEFAULT_MAX_SIZE} bytes once decompressed (--max-size)" in out
    assert "Traceback" not in out
    assert rss < 64 + 64, f"{rss} MiB for an 801-byte message"  # the cap plus the interpreter
    # --max-size sets the cap; under it a compressed body still decodes
    small = kombu_dash.dumpb(SAMPLE)
    for compression, packed in (
        ("application/x-bz2", bz2.compress(small)),
        ("application/x-gzip", zlib.compress(small)),
    ):
        rc, out = run_cli(
            "decode", "--max-size", str(len(small)), stdin=envelope(packed, compression=compression)
        )
        assert rc == 0 and repr(SAMPLE) in out, out
        rc, out = run_cli(
            "decode",
            "--max-size",
            str(len(small) - 1),
            stdin=envelope(packed, compression=compression),
        )
        assert rc == 1 and "--max-size" in out, out


def test_decode_refuses_a_compression_it_cannot_bound():
    rc, out = run_cli("decode", stdin=envelope(b"(\xb5/\xfd", compression="application/zstd"))
    assert rc == 1 and "compression 'application/zstd' is not one decode can bound" in out, out


TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    "args, message, expected",
    [
        (
            (),
            envelope(kombu_dash.dumpb([1]), task="x\x1b]0;owned\x07", id="\x1b[2J"),
            "task=x\\x1b]0;owned\\x07 id=\\x1b[2J",
        ),
        ((), envelope(b"[1]", content_type="text/\x1b[31mred"), "content-type text/\\x1b[31mred"),
        (("--json",), kombu_dash.dumpb(["\x1b[2J\u009b31m\u202eevil"]), "\\u009b31m\\u202eevil"),
        ((), kombu_dash.dumpb(["\x1b[2J\u009b31m\u202eevil"]), "\\x9b31m\\u202eevil"),
        ((), b'{"~\\u001b[2J": 1}', "\\x1b[2J"),
    ],
    ids=["envelope-headers", "envelope-content-type", "json-output", "repr-output", "error"],
)
def test_decode_escapes_control_characters_in_everything_it_prints(args, message, expected):
    proc = subprocess.run(
        [sys.executable, "-m", "kombu_dash", "decode", *args],
        cwd=ROOT,
        input=message,
        capture_output=True,
        timeout=120,
    )
    out = (proc.stdout + proc.stderr).decode()
    assert not TERMINAL_CONTROL.search(out), repr(out)
    assert expected in out, out
    assert "Traceback" not in out


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class _UnprintableTag(Tag):
    key = "test.unprintable"
    types = (_Unprintable,)
    payload = int

    def to_json(self, value):
        return 0

    def to_python(self, payload):
        return _Unprintable()


def test_decode_value_whose_repr_raises_is_exit_1_without_traceback(monkeypatch, capsys):
    codec = kombu_dash.Codec()
    codec.register_tag(_UnprintableTag)
    monkeypatch.setattr(decode, "_codec", lambda: codec)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'[{"~test.unprintable": 0}]')))
    assert decode.main([]) == 1
    err = capsys.readouterr().err
    assert "cannot decode or print this message: RuntimeError: repr exploded" in err


# -- check: bad input is a usage error; hostile replies are a failed probe, in bounded time


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1", "1e9", "soon"])
def test_check_bad_timeout_is_a_usage_error(value):
    rc, out = run_cli("check", "-A", "tests.celery_apps.reliability_app:app", f"--timeout={value}")
    assert rc == check.USAGE, out
    assert "argument --timeout" in out and "unreachable" not in out and "Traceback" not in out


@pytest.mark.parametrize("name", ["os:path", "os:sep", "json"])
def test_check_app_that_is_not_a_celery_app_is_a_usage_error(name):
    rc, out = run_cli("check", "-A", name, "--timeout", "5")
    assert rc == check.USAGE, out
    assert f"cannot load app {name!r}" in out and "Traceback" not in out


@pytest.fixture
def fake_worker(tmp_path):
    """A process on the control mailbox answering as a hostile node would (see
    tests/fake_control_worker.py). A real Celery worker cannot be made to send these
    replies, and publishing on the asker's reply queue needs its ticket and queue name,
    which only a node on the mailbox learns: so the test runs such a node."""
    procs = []

    def start(queue, mode):
        proc = Proc(
            [
                sys.executable,
                str(ROOT / "tests" / "fake_control_worker.py"),
                REDIS_URL,
                queue,
                mode,
            ],
            tmp_path / f"fake-{mode}.log",
        )
        procs.append(proc)
        proc.wait_for_text("ready", 60)
        return proc

    yield start
    for proc in procs:
        proc.kill()


@pytest.mark.parametrize(
    "mode, said",
    [
        (
            "not-a-dict",
            "to `active_queues`: a reply that is not {worker: answer}: ['not', 'a', 'dict']",
        ),
        ("queues-not-a-list", "to `active_queues` from fake@kd: not a list of queues: 5"),
        ("conf-not-a-dict", "to `conf` from fake@kd: no accept_content list: 'not a dict'"),
        (
            "accept-not-a-list",
            "to `conf` from fake@kd: no accept_content list: {'accept_content': 5",
        ),
        (
            "undecodable",
            "to `active_queues`: an undecodable reply "
            "('application/x-kombu-dash+json': DecodeError",
        ),
        ("huge", "to `active_queues`: a reply of 2097167 bytes (limit 1048576)"),
    ],
)
@pytest.mark.broker
@pytest.mark.slow
def test_check_malformed_control_reply_is_a_failed_probe(fake_worker, unique_name, mode, said):
    fake_worker(unique_name, mode)
    rc, out = run_check(unique_name, timeout=10)
    assert rc == check.PROBE_FAILED, out
    assert f"malformed control reply {said}" in out and "Traceback" not in out


@pytest.mark.broker
@pytest.mark.slow
def test_check_reply_stream_cannot_hold_it_past_timeout(fake_worker, unique_name):
    # Celery's broadcast restarts its wait at each reply: a reply every 0.3 s held it for ever.
    fake_worker(unique_name, "drip")
    try:
        rc, out = run_check(unique_name, timeout=8, proc_timeout=HANG)
    except subprocess.TimeoutExpired:
        pytest.fail(f"check --timeout 8 still running after {HANG}s")
    assert rc == check.NO_WORKER, out
    assert "workers answering: drip-1@kd" in out


@pytest.mark.broker
@pytest.mark.slow
def test_unanswered_probe_never_runs_on_a_later_worker(workers, unique_name, rdb):
    """`check` with no worker: "no worker took the probe"; a worker started afterwards
    receives the probe and discards it unrun (it expired, and was revoked)."""
    rc, out = run_check(unique_name, timeout=6)
    assert rc == check.NO_WORKER, out
    probe_id = re.search(r"no worker took the probe ([0-9a-f-]{36}) on queue", out).group(1)
    assert rdb.llen(unique_name) == 1  # still queued: only expiry stops it now

    late = workers("kombu_dash", queue=unique_name).wait_ready()

    def discarded() -> list[str]:
        lines = [line for line in late.text().splitlines() if probe_id in line]
        gone = any("expired" in line or "revoked" in line.lower() for line in lines)
        return lines if gone and not rdb.llen(unique_name) else []

    # the worker says it discarded the probe (once it has, nothing runs it later)
    lines = wait_for(discarded, 60, 0.2, f"the probe discarded\n{late.text()[-3000:]}")
    assert not any("succeeded" in line for line in lines), lines
    meta = rdb.get(f"celery-task-meta-{probe_id}")
    assert meta is None or json.loads(meta)["status"] == "REVOKED", meta
    rdb.delete(f"celery-task-meta-{probe_id}")
