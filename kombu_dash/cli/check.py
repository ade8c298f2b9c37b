"""``python -m kombu_dash check -A module:app``: is this fleet ready for kombu_dash?

Celery hides a serializer mismatch: a worker that does not accept a message's content
type rejects it with a log line and the caller's task stays PENDING forever. This
command makes that loud, within ``--timeout`` seconds, with one exit code per cause.

It registers nothing in the user's app. Workers are asked through the control mailbox
(``ping``, ``active_queues``, ``conf``), always in plain json so a worker that does not
know kombu_dash can still answer; the probe is Celery's built-in ``celery.accumulate``
task (present in every worker), sent with ``serializer="kombu_dash"`` and carrying
tagged values, so its result proves the whole round trip: producer, broker, worker
decode, worker encode, result backend, client decode.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid

__all__ = ["main", "OK", "PROBE_FAILED", "USAGE", "BROKER_UNREACHABLE", "NO_WORKER",
           "NOT_ACCEPTED", "BACKEND_UNREACHABLE"]

OK = 0
PROBE_FAILED = 1
USAGE = 2
BROKER_UNREACHABLE = 3
NO_WORKER = 4
NOT_ACCEPTED = 5
BACKEND_UNREACHABLE = 6

EXIT_CODES = {
    OK: "OK: a worker consuming the queue accepts kombu_dash and the probe came back intact",
    PROBE_FAILED: "the probe was sent but no correct result came back in time",
    USAGE: "bad arguments, or the app could not be loaded",
    BROKER_UNREACHABLE: "the broker is unreachable",
    NO_WORKER: "no worker consumes the queue (none answered, and the probe was not run)",
    NOT_ACCEPTED: "a worker consuming the queue does not accept application/x-kombu-dash+json",
    BACKEND_UNREACHABLE: "the result backend is unreachable",
}

PROBE_TASK = "celery.accumulate"


def _probe_value():
    # Tagged values a plain-json worker could not bring back as themselves.
    import datetime as dt

    from .. import MultiDict

    return {
        "tuple": (1, "two"),
        "multidict": MultiDict([("a", "1"), ("a", "2")]),
        "when": dt.datetime(2024, 3, 31, 2, 30, tzinfo=dt.timezone.utc),
        "set": {3},
    }


def _parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {text}" for code, text in sorted(EXIT_CODES.items()))
    p = argparse.ArgumentParser(
        prog="python -m kombu_dash check",
        description="Send a probe task through the kombu_dash serializer and report whether "
                    "the broker, the workers and the result backend are ready for it.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-A", "--app", required=True, metavar="MODULE:APP",
                   help="the Celery app, as for `celery -A` (module, module:attribute)")
    p.add_argument("-Q", "--queue", default=None,
                   help="queue the probe goes to (default: the app's task_default_queue)")
    p.add_argument("--timeout", type=float, default=15.0,
                   help="seconds for the whole check (default: 15)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final line")
    return p


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self, floor: float = 0.2) -> float:
        return max(floor, self.end - time.monotonic())


def _in_thread(fn, timeout: float):
    """Run ``fn`` with a hard timeout: some backends retry for minutes on a dead server."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # reported to the caller, not lost in the thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"no answer within {timeout:.1f}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def load_app(name: str):
    from celery.app.utils import find_app

    if os.getcwd() not in sys.path:  # as `celery -A` does
        sys.path.insert(0, os.getcwd())
    return find_app(name)


def _accepts(accept) -> bool:
    from .. import CONTENT_TYPE, SERIALIZER

    return any(str(a) in (SERIALIZER, CONTENT_TYPE) for a in (accept or ()))


def _control(app, timeout: float):
    # The app's own mailbox speaks its task_serializer: a worker that does not accept
    # kombu_dash would drop our question and look absent. Ask in json; read replies in
    # anything the worker may answer with.
    from celery.app.control import Control

    from .. import SERIALIZER, register

    register()
    control = Control(app)
    control.mailbox.serializer = "json"
    control.mailbox.accept = ["json", SERIALIZER]

    def ask(command, destination=None, **arguments):
        # With a destination the answer is complete once each named worker replied.
        replies = control.broadcast(command, arguments=arguments, reply=True, timeout=timeout,
                                    destination=destination,
                                    limit=len(destination) if destination else None) or []
        # one {hostname: answer} dict per reply (workers need distinct -n names)
        return [(host, answer) for reply in replies for host, answer in reply.items()]

    return ask


def _backend_check(app, timeout: float):
    """None if the result backend answers (or there is none), else an error text."""
    from celery.backends.base import DisabledBackend

    backend = app.backend
    if isinstance(backend, DisabledBackend) or type(backend).__name__ == "RPCBackend":
        return None  # none, or the broker itself (rpc://), already checked
    client = getattr(backend, "client", None)
    try:
        if client is not None and callable(getattr(client, "ping", None)):
            _in_thread(client.ping, timeout)  # redis
        else:
            _in_thread(lambda: backend.get_task_meta(f"kombu-dash-check-{uuid.uuid4()}"), timeout)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if hasattr(a, "items") and hasattr(a, "getlist"):
        return list(a.items(multi=True)) == list(b.items(multi=True))
    return a == b


def run(app, queue: str | None, timeout: float, say) -> int:
    from kombu.exceptions import OperationalError

    from .. import CONTENT_TYPE, SERIALIZER, register

    register()
    deadline = _Deadline(timeout)
    queue = queue or app.conf.task_default_queue

    # 1. broker
    conn = app.connection_for_write()
    try:
        _in_thread(lambda: conn.ensure_connection(max_retries=1, timeout=deadline.left()), deadline.left())
    except Exception as exc:
        say(f"broker unreachable: {conn.as_uri()} ({type(exc).__name__}: {exc})")
        return BROKER_UNREACHABLE
    finally:
        conn.release()
    say(f"broker ok: {app.connection_for_write().as_uri()}")

    # 2. result backend
    error = _backend_check(app, deadline.left())
    if error:
        say(f"result backend unreachable: {app.backend.as_uri()} ({error})")
        return BACKEND_UNREACHABLE
    has_backend = type(app.backend).__name__ != "DisabledBackend"
    say(f"result backend ok: {app.backend.as_uri()}" if has_backend else "no result backend configured")

    # 3. who consumes the queue, and what do they accept
    # broadcast replies are collected for the whole window: a loaded worker answers late
    ask_for = min(max(2.0, deadline.left() / 3), 5.0)
    try:
        ask = _control(app, ask_for)
        queues = dict(ask("active_queues"))
        consuming = sorted(w for w, qs in queues.items() if any(q.get("name") == queue for q in qs or ()))
        confs = dict(ask("conf", destination=consuming, with_defaults=True)) if consuming else {}
    except OperationalError as exc:
        say(f"broker unreachable: {exc}")
        return BROKER_UNREACHABLE
    if queues and not consuming:
        say(f"no worker consumes queue {queue!r}; workers answering: {', '.join(sorted(queues))}")
        return NO_WORKER
    refusing, json_results = [], []
    for worker in consuming:
        conf = confs.get(worker)
        if conf is None:
            say(f"worker {worker}: no answer to `inspect conf`")
            continue
        accept = conf.get("accept_content")
        result_serializer = conf.get("result_serializer")
        if _accepts(accept):
            say(f"worker {worker}: accepts {CONTENT_TYPE} (accept_content={list(accept)}, "
                f"result_serializer={result_serializer!r})")
            if result_serializer != SERIALIZER:
                json_results.append(worker)
        else:
            refusing.append(worker)
            say(f"worker {worker}: does NOT accept {CONTENT_TYPE} (accept_content={list(accept or [])}); "
                f"it would reject kombu_dash tasks and leave them PENDING")
    if refusing:
        say(f"{len(refusing)} of {len(consuming)} worker(s) on {queue!r} refuse kombu_dash: "
            "add it to their accept_content (kombu_dash.configure(app)) before switching producers")
        return NOT_ACCEPTED
    if json_results:
        # Rolling upgrade, step 1: such workers decode kombu_dash but write results in
        # their own serializer, which cannot carry tagged values: probe decoding only.
        say(f"note: {', '.join(json_results)} write results with another serializer: "
            "only the probe's decoding is checked, tagged values in results would not round-trip")
    if not has_backend:
        if consuming:
            say("OK (no result backend: the probe's round trip was not run)")
            return OK
        say(f"no worker consumes queue {queue!r} (none answered the control mailbox)")
        return NO_WORKER

    # 4. the probe: the real path a task takes, through kombu_dash both ways
    token, sent = f"kombu-dash-probe-{uuid.uuid4().hex}", _probe_value()
    kwargs, expected = ({"index": 0}, token) if json_results else ({}, (token, sent))
    try:
        result = app.send_task(PROBE_TASK, args=(token, sent), kwargs=kwargs, queue=queue,
                               serializer=SERIALIZER, expires=max(1.0, deadline.left()))
    except OperationalError as exc:
        say(f"broker unreachable while sending the probe: {exc}")
        return BROKER_UNREACHABLE
    try:
        got = _in_thread(lambda: result.get(timeout=deadline.left(), propagate=False,
                                            disable_sync_subtasks=False), deadline.left() + 1)
    except Exception as exc:
        got = exc
    state = result.state
    result.forget()
    if isinstance(got, BaseException) or state != "SUCCESS":
        why = got if isinstance(got, BaseException) else f"state {state}: {got!r}"
        if not consuming:
            say(f"no worker consumes queue {queue!r}: none answered, and the probe {result.id} "
                f"got no result in {timeout:g}s")
            return NO_WORKER
        say(f"probe {result.id} sent to {queue!r} but no correct result came back: {why}")
        return PROBE_FAILED
    if not _same(got, expected):
        say(f"probe came back changed: expected {expected!r}, got {got!r}")
        return PROBE_FAILED
    say(f"probe {PROBE_TASK} {result.id} came back intact through {SERIALIZER}")
    say("OK")
    return OK


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    lines = []

    def say(text):
        lines.append(text)
        if not args.quiet:
            print(text, flush=True)

    try:
        app = load_app(args.app)
    except Exception as exc:
        print(f"cannot load app {args.app!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return USAGE
    code = run(app, args.queue, args.timeout, say)
    if args.quiet and lines:
        print(lines[-1])
    return code
