"""What a message can make kombu_dash and its users print is bounded and escaped.

A decoded ``~kombu_dash.Error`` used to explode when printed: its ``str()`` showed each
path element's ``repr()``, an error's ``repr()`` was ``repr(str(self))``, so quote escaping
doubled at each level of errors nested in paths (2.5 KB of message, 134 million
characters of text). Each place such text is made is reproduced here under CPU and
memory limits and held to a documented bound (docs/security.rst, "Printed size"):
``str()``/``repr()`` of an error, ``python -m kombu_dash decode``, a Celery worker logging
a task that came without ``argsrepr``, ``AsyncResult.get()`` of a forged result then
``logging.exception``, and ``python -m kombu_dash check`` given a hostile control reply.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

import kombu_dash
from kombu_dash import DecodeError, EncodeError
from kombu_dash.cli import check
from kombu_dash.cli.decode import MAX_OUTPUT
from kombu_dash.errors import ERROR_MAX_CHARS

from ._celery_support import ROOT, app_env, celery_worker, make_app
from .harness import REDIS_URL, give_up_at

sys.path.insert(0, str(ROOT / "tests"))
from fake_control_worker import error, nested_errors  # noqa: E402

NESTED = json.dumps(nested_errors())  # 2.9 KB: 25 levels of errors in each other's path
# what can make str() long: a big message full of what a terminal acts on, a long path
BIG = error("\x1b[2J'\"\n\u202e\\" * 20_000, ["\x1b]0;x\x07" * 10] * 5_000)
REPR_MAX = 2 * ERROR_MAX_CHARS + len("DecodeError()")


def limits(cpu: int = 60, memory_mb: int = 1024):
    """preexec_fn for a child: at most ``cpu`` CPU seconds and ``memory_mb`` MB of address
    space more than Python needs to start (RLIMIT_CPU, RLIMIT_AS)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        size = (512 + memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


# -- str() and repr() of an error --------------------------------------------------------


def _hostile_errors() -> dict[str, Exception]:
    deep: Exception = DecodeError("x")
    for _ in range(30):  # errors in errors' paths, 40 wide: made by code, not decoded
        deep = DecodeError("'\"\\", path=[deep] * 40)
    return {
        "decoded, 20,000 escapes and 5,000 path elements": kombu_dash.loads(json.dumps(BIG)),
        "a path of a million ints": EncodeError("m", path=range(1_000_000), root="result"),
        "a root full of ESC": EncodeError("m", root="\x1b[31m" * 100_000),
        "errors nested in paths": deep,
        "kombu's EncodeError around one": __import__("kombu.exceptions").exceptions.EncodeError(
            kombu_dash.loads(json.dumps(BIG))
        ),
    }


@pytest.mark.parametrize("name", list(_hostile_errors()))
def test_an_errors_text_is_bounded_and_escaped(name):
    exc = _hostile_errors()[name]
    text, shown = str(exc), repr(exc)
    assert len(text) <= ERROR_MAX_CHARS and len(shown) <= REPR_MAX + len("EncodeError()")
    assert text.isprintable() and shown.isprintable()  # no ESC, no newline, no bidi override
    if "decoded" in name:
        assert text.startswith("\\x1b[2J'\"\\n\\u202e\\\\") and "…" in text


def test_formatting_an_errors_path_looks_at_its_ends_only():
    seen = []

    class Key:
        def __init__(self, i: int) -> None:
            self.i = i

        def __repr__(self) -> str:
            seen.append(self.i)
            return f"Key({self.i})"

    text = str(EncodeError("m", path=[Key(i) for i in range(100_000)]))
    assert (
        len(seen) == 32
        and seen[:16] == list(range(16))
        and seen[16:] == list(range(99_984, 100_000))
    )
    assert "[…99968 more…]" in text


def test_errors_nested_in_paths_are_refused_when_decoded(codec):
    with pytest.raises(DecodeError) as info:
        codec.loads(NESTED)
    assert info.value.tag == "kombu_dash.Error"
    assert "path elements are strings, numbers, booleans or null" in str(info.value)
    assert len(str(info.value)) <= ERROR_MAX_CHARS


_EXACT = {"kind": "DecodeError", "message": "m", "root": "args", "path": [0, "k"], "tag": "set"}


@pytest.mark.parametrize(
    "change, said",
    [
        ({"extra": 1}, "expected exactly the keys"),
        ({"kind": None}, "kind is one of"),
        ({"kind": "SystemExit"}, "kind is one of"),
        ({"message": ["m"]}, "message and root strings"),
        ({"root": 5}, "message and root strings"),
        ({"path": "k"}, "a path array"),
        ({"path": [[0]]}, "path elements are strings"),
        ({"path": [{"~tuple": [1]}]}, "path elements are strings"),
        ({"tag": 5}, "a tag string or null"),
    ],
)
def test_the_error_payload_is_exact(codec, change, said):
    payload = {"~kombu_dash.Error": {**_EXACT, **change}}
    with pytest.raises(DecodeError, match=said):
        codec.loads(json.dumps(payload))
    missing = {k: v for k, v in _EXACT.items() if k != "tag"}
    with pytest.raises(DecodeError, match="expected exactly the keys"):
        codec.loads(json.dumps({"~kombu_dash.Error": missing}))
    out = codec.loads(json.dumps({"~kombu_dash.Error": _EXACT}))
    assert type(out) is DecodeError and out.path == [0, "k"] and out.root == "args"
    assert str(out) == "m at args[0]['k']"


def test_a_path_key_json_cannot_hold_travels_as_its_repr():
    exc = EncodeError("m", path=[("a", 1), 2.5, None, "k"])
    out = kombu_dash.loads(kombu_dash.dumps(exc))
    assert out.path == ["('a', 1)", 2.5, None, "k"] and str(out) == str(exc).replace(
        "[('a', 1)]", "[\"('a', 1)\"]"
    )


# -- python -m kombu_dash decode ----------------------------------------------------------


def decode_cli(path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kombu_dash", "decode", *args, str(path)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        preexec_fn=limits(cpu=60),
    )


def test_decode_refuses_nested_errors_in_a_line(tmp_path):
    # it printed 268 MB from this 2.9 KB file
    path = tmp_path / "nested.json"
    path.write_text(NESTED)
    proc = decode_cli(path)
    assert proc.returncode == 1 and not proc.stdout, proc
    assert b"path elements are strings" in proc.stderr and len(proc.stderr) < 2 * ERROR_MAX_CHARS


@pytest.mark.parametrize("form", ["repr", "json"])
def test_decode_prints_at_most_max_output_characters(tmp_path, form):
    # 2.4 MB of message whose repr is 30 MB; --json of 254 nested lists indents each line
    path = tmp_path / "big.json"
    if form == "repr":
        path.write_text(json.dumps([BIG] * 3 + ["\x1b" * 1000] * 10_000))
    else:
        deep: object = ["\x1b" * 10] * 10
        for _ in range(250):
            deep = [deep, deep] if _ < 12 else [deep]
        path.write_text(json.dumps(deep))
    proc = decode_cli(path, *(["--json"] if form == "json" else []))
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.decode()
    assert MAX_OUTPUT <= len(out) <= MAX_OUTPUT + 2 and out.rstrip("\n").endswith("…")
    assert "\x1b" not in out and f"output cut at {MAX_OUTPUT} characters" in proc.stderr.decode()


# -- python -m kombu_dash check, given a hostile control reply ---------------------------


@pytest.fixture
def fake_worker(tmp_path):
    procs = []

    def start(queue: str, mode: str) -> None:
        log = tmp_path / f"fake-{mode}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "tests" / "fake_control_worker.py"),
                    REDIS_URL,
                    queue,
                    mode,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        procs.append(proc)
        deadline = give_up_at(60)
        while b"ready" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(30)


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.parametrize(
    "mode, said",
    [
        ("nested-errors", "an undecodable reply"),  # 15 s, then MemoryError, before
        ("error-list", "not a list of queues: [DecodeError("),
    ],
)
def test_check_formats_a_hostile_reply_within_its_limit(fake_worker, mode, said):
    queue = f"kd-printing-{uuid.uuid4().hex[:8]}"
    fake_worker(queue, mode)
    env = app_env(queue=queue, broker=REDIS_URL, backend=REDIS_URL)
    proc = subprocess.run(
        [sys.executable, "-m", "kombu_dash", "check", "-A", "tests.celery_apps.reliability_app:app"]
        + ["--timeout", "5"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        preexec_fn=limits(cpu=60),
    )
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == check.PROBE_FAILED, out[-3000:]
    assert said in out and "Traceback" not in out, out[-3000:]
    assert len(out) < 4 * ERROR_MAX_CHARS and "\x1b" not in out, out[-3000:]


# -- a Celery worker, and a client reading a result ---------------------------------------


@pytest.mark.broker
@pytest.mark.slow
def test_a_worker_logs_a_hostile_task_within_bounds(tmp_path):
    """Messages sent without ``argsrepr`` (Celery then formats the arguments itself, for
    the task-received event and the success log): the nested errors are refused, with one
    bounded CRITICAL line; big errors are echoed and logged within bounds; the worker stays
    responsive throughout (before: a pool child 42 s in saferepr, then MemoryError)."""
    queue = f"kd-printing-{uuid.uuid4().hex[:8]}"
    app = make_app("kd_printing", "redis", queue)
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    nested = json.dumps([[nested_errors()], {}, embed])  # written raw: it does not decode
    big = kombu_dash.dumps(([[kombu_dash.loads(json.dumps(BIG))] * 3], {}, embed))
    with celery_worker(
        "tests.celery_apps.configured_app", "redis", queue, tmp_path, extra_args=("-E",)
    ) as worker:
        with app.producer_or_acquire() as producer:
            for body in (nested, big):
                _send_raw(producer, queue, body)
        result = app.send_task("kd.identity", args=["after"], queue=queue)
        assert result.get(timeout=120) == "after"
        # the worker logs a success after storing its result: wait for both lines
        worker.wait_for_text(r"succeeded(.|\n)*succeeded", 60)
        log = worker.text()
    assert "Can't decode message body" in log and "path elements are strings" in log, log[-3000:]
    assert log.count("succeeded") == 2, log[-3000:]
    assert len(log) < 100_000 and "\x1b" not in log, log[-3000:]
    assert max(map(len, log.splitlines())) < 4 * ERROR_MAX_CHARS + 2000


def _send_raw(producer, queue: str, body: str) -> None:
    """A task message as Celery's protocol 2 has it, without argsrepr/kwargsrepr."""
    task_id = str(uuid.uuid4())
    headers = {
        "lang": "py",
        "task": "kd.echo",
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        "expires": None,
        "timelimit": [None, None],
        "origin": "test",
    }
    producer.publish(
        body.encode(),
        exchange="",
        routing_key=queue,
        headers=headers,
        content_type="application/x-kombu-dash+json",
        content_encoding="utf-8",
        correlation_id=task_id,
        serializer=None,
    )


_CLIENT = textwrap.dedent("""
    import io, json, logging, sys, uuid
    from celery import Celery
    import kombu_dash, redis
    app = Celery("kd_client", set_as_current=False)
    app.conf.update(broker_url=sys.argv[1], result_backend=sys.argv[1])
    kombu_dash.configure(app)
    client = redis.Redis.from_url(sys.argv[1])
    stream = io.StringIO()
    logging.basicConfig(stream=stream, level=logging.INFO)
    given = json.loads(sys.stdin.read())
    for name, exc_message in (("nested", given["nested"]), ("big", given["big"])):
        task_id = str(uuid.uuid4())
        meta = {"status": "FAILURE", "traceback": None, "children": [], "date_done": None,
                "task_id": task_id, "result": {"exc_type": "EncodeError",
                "exc_module": "kombu.exceptions", "exc_message": [exc_message]}}
        client.set("celery-task-meta-" + task_id, json.dumps(meta))
        try:
            app.AsyncResult(task_id).get(timeout=10)
        except Exception:
            logging.exception("the task failed")
        client.delete("celery-task-meta-" + task_id)
        print(json.dumps({"name": name, "logged": len(stream.getvalue()),
                          "escaped": "\\x1b" not in stream.getvalue()}))
        stream.seek(0)
        stream.truncate()
""")


@pytest.mark.broker
def test_a_forged_failure_logs_within_bounds():
    # AsyncResult.get() of a forged result, then logging.exception: 1.9 s and 426 MB before
    proc = subprocess.run(
        [sys.executable, "-c", _CLIENT, REDIS_URL],
        input=json.dumps({"nested": json.loads(NESTED), "big": BIG}),
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limits(cpu=60),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in proc.stdout.splitlines():
        out = json.loads(line)
        # the error's text, and a traceback of a few frames per level the decode went down
        # (a refused message: at most max_depth levels)
        frames = 300 * kombu_dash.Codec().max_depth
        assert out["logged"] < 2 * REPR_MAX + frames and out["escaped"], out
