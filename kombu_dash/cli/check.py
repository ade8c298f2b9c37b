"""``python -m kombu_dash check -A module:app``: is this fleet ready for kombu_dash?

Celery hides a serializer mismatch: a worker that does not accept a message's content
type rejects it with a log line and the caller's task stays PENDING forever. This
command makes that loud, within ``--timeout`` seconds, with one exit code per cause.

It runs four steps, each of which can end the check with its exit code:

* **broker**: can we connect? (3)
* **backend**: does the result backend answer? (6)
* **workers**: what every worker answering the control mailbox runs (kombu_dash's
  version, engine and JSON backend, from the ``kombu_dash`` entry configure() puts in its
  ``inspect conf``; a warning when versions differ), who consumes the queue, and do they
  accept kombu_dash? (4, 5; 1 for a control reply no Celery worker would send)
* **probe**: does a task carrying tagged values come back intact? (1; 4 when no worker
  answered and none took the probe)

It registers nothing in the user's app. Workers are asked through the control mailbox
(``active_queues``, ``conf``), always in plain json so a worker that does not know
kombu_dash can still answer (and a configured one answers in json); the probe is Celery's built-in ``celery.accumulate`` task
(present in every worker), sent with ``serializer="kombu_dash"`` and carrying tagged
values, so its result proves the whole round trip: producer, broker, worker decode,
worker encode, result backend, client decode. A probe nobody answered expires unrun
and is revoked.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..engines import EngineInfo

if TYPE_CHECKING:
    from celery import Celery

__all__ = [
    "BACKEND_UNREACHABLE",
    "BROKER_UNREACHABLE",
    "NOT_ACCEPTED",
    "NO_WORKER",
    "OK",
    "PROBE_FAILED",
    "USAGE",
    "main",
    "run",
]

OK = 0
PROBE_FAILED = 1
USAGE = 2
BROKER_UNREACHABLE = 3
NO_WORKER = 4
NOT_ACCEPTED = 5
BACKEND_UNREACHABLE = 6

EXIT_CODES = {
    OK: "OK: a worker consuming the queue accepts kombu_dash and the probe came back intact",
    PROBE_FAILED: "the probe failed: no correct result came back in time, or a control reply "
    "was malformed",
    USAGE: "bad arguments, or the app could not be loaded",
    BROKER_UNREACHABLE: "the broker is unreachable",
    NO_WORKER: "no worker consumes the queue: those that answered consume others, or none "
    "answered and none took the probe (it expires unrun)",
    NOT_ACCEPTED: "a worker consuming the queue does not accept application/x-kombu-dash+json",
    BACKEND_UNREACHABLE: "the result backend is unreachable",
}

PROBE_TASK = "celery.accumulate"
#: The ``inspect conf`` entry configure() adds (kombu_dash.fleet imports celery: not here).
CONF_KEY = "kombu_dash"
#: A control reply larger than this is not decoded (a real ``conf`` reply is ~20 KB).
MAX_REPLY_BYTES = 1 << 20
#: Replies kept per question; a flood beyond this is malformed.
MAX_REPLIES = 1000
#: Seconds kept back from the probe's wait to revoke and forget it within --timeout.
CLEANUP = 0.5

Say = Callable[[str], None]
T = TypeVar("T")


def _probe_value() -> dict[str, Any]:
    # Tagged values a plain-json worker could not bring back as themselves.
    import datetime as dt

    from ..standins import MultiDict

    return {
        "tuple": (1, "two"),
        "multidict": MultiDict([("a", "1"), ("a", "2")]),
        "when": dt.datetime(2024, 3, 31, 2, 30, tzinfo=dt.timezone.utc),
        "set": {3},
    }


def _seconds(text: str) -> float:
    """``--timeout``: a finite, positive number of seconds (``inf`` would mean "never")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 86400:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most 86400, not {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {text}" for code, text in sorted(EXIT_CODES.items()))
    p = argparse.ArgumentParser(
        prog="python -m kombu_dash check",
        description="Send a probe task through the kombu_dash serializer and report whether\n"
        "the broker, the workers and the result backend are ready for it.\n"
        "Steps: broker, backend, workers, probe; each can end the check with\n"
        "its exit code. The probe expires unrun if no worker takes it in time.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-A",
        "--app",
        required=True,
        metavar="MODULE:APP",
        help="the Celery app, as for `celery -A` (module, module:attribute)",
    )
    p.add_argument(
        "-Q",
        "--queue",
        default=None,
        help="queue the probe goes to (default: the app's task_default_queue)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=15.0,
        help="seconds for the whole check, every wait included (default: 15)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final line")
    return p


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, keep: float = 0.0) -> float:
        # Never 0: for sockets and some clients a zero timeout means "do not wait at all"
        # or "wait forever".
        return max(0.05, self.end - keep - time.monotonic())


def _in_thread(fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` with a hard timeout: some backends retry for minutes on a dead server."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # reported to the caller, not lost in the thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"no answer within {timeout:.1f}s")
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class AppError(Exception):
    """``-A`` names nothing that is a Celery app."""


def load_app(name: str) -> Celery:
    from celery import Celery
    from celery.app.utils import find_app

    if os.getcwd() not in sys.path:  # as `celery -A` does
        sys.path.insert(0, os.getcwd())
    try:
        app = find_app(name)
    except Exception as exc:
        raise AppError(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(app, Celery):
        raise AppError(f"{name} is a {type(app).__name__}, not a Celery app")
    return app


def _accepts(accept: Sequence[str]) -> bool:
    from ..serializer import CONTENT_TYPE, SERIALIZER

    return any(a in (SERIALIZER, CONTENT_TYPE) for a in accept)


class MalformedReply(Exception):
    """A control reply no Celery worker would send."""


class _Mailbox:
    """Questions to the workers, with every wait bounded.

    Celery's ``broadcast`` restarts its wait at each reply (a reply every second holds it
    forever) and lets any decode error or odd shape escape; here each question has one
    window, replies are size-checked before they are decoded, and their shape is
    checked before it is used.
    """

    def __init__(self, app: Celery) -> None:
        from celery.app.control import Control

        from ..serializer import SERIALIZER, register

        register()
        self.app = app
        # The app's own mailbox speaks its task_serializer: a worker that does not accept
        # kombu_dash would drop our question and look absent. Ask in json; read replies
        # in what a worker answers with (its own task_serializer).
        self.mailbox = Control(app).mailbox
        self.accept = ["json", SERIALIZER]

    def ask(
        self,
        command: str,
        window: float,
        destination: Sequence[str] | None = None,
        **arguments: Any,
    ) -> list[tuple[str, Any]]:
        """``[(worker, answer)]`` received within ``window`` seconds (sooner when every
        ``destination`` answered). Raises MalformedReply, or OperationalError."""
        replies: list[tuple[str, Any]] = []
        bad: list[str] = []
        end = time.monotonic() + window
        wanted = set(destination or ())

        def on_message(message: Any) -> None:  # a kombu Message (unannotated)
            if message.headers.get("ticket") != ticket:
                return  # an answer to someone else's question
            if len(replies) + len(bad) >= MAX_REPLIES:
                bad.append(f"more than {MAX_REPLIES} replies")
                return
            try:
                body = _decode_reply(message, self.accept)
            except MalformedReply as exc:
                bad.append(str(exc))
                return
            replies.extend(body.items())

        ticket = uuid.uuid4().hex

        def collect(conn: Any) -> None:  # a kombu Connection (unannotated)
            from kombu.messaging import Consumer

            consumer: Any = Consumer  # unannotated, like the rest of kombu's API
            mailbox = self.mailbox(conn)
            chan = conn.default_channel
            queue = mailbox.reply_queue
            mailbox._publish(
                command,
                arguments,
                destination=list(destination or ()) or None,
                reply_ticket=ticket,
                channel=chan,
                timeout=window,
                serializer="json",
            )
            with consumer(chan, [queue], on_message=on_message, no_ack=True, accept=self.accept):
                while (left := end - time.monotonic()) > 0 and not bad:
                    if wanted and wanted <= {host for host, _ in replies}:
                        break
                    try:
                        conn.drain_events(timeout=min(left, 0.5))
                    except TimeoutError:  # socket.timeout
                        pass
            chan.after_reply_message_received(queue.name)  # as kombu's own _collect does

        # Its own connection in a daemon thread: a thread left behind at the deadline
        # (a broker that stops mid-question) cannot take the caller down with it.
        conn = self.app.connection_for_write()
        try:
            _in_thread(lambda: collect(conn), window + 0.5)
        except TimeoutError:
            pass  # the window is over: what arrived is the answer
        finally:
            threading.Thread(target=conn.release, daemon=True).start()
        if bad:
            raise MalformedReply(f"to `{command}`: {bad[0]}")
        return list(replies)


def _decode_reply(message: Any, accept: list[str]) -> dict[str, Any]:
    body = message.body
    if len(body) > MAX_REPLY_BYTES:
        raise MalformedReply(f"a reply of {len(body)} bytes (limit {MAX_REPLY_BYTES})")
    try:
        decoded = message.decode()
    except Exception as exc:
        raise MalformedReply(
            f"an undecodable reply ({message.content_type!r}: {type(exc).__name__}: {exc})"
        ) from None
    # A worker answers {its hostname: answer}.
    if not (isinstance(decoded, dict) and decoded and all(isinstance(k, str) for k in decoded)):
        raise MalformedReply(f"a reply that is not {{worker: answer}}: {_short(decoded)}")
    return decoded


def _short(value: Any, limit: int = 120) -> str:
    # a reply may be hostile: formatted no further than the limit, and escaped
    from ..printing import bounded_repr, printable

    return printable(bounded_repr(value, limit))


def _queue_names(worker: str, answer: Any) -> list[str]:
    if not (
        isinstance(answer, list)
        and all(isinstance(q, dict) and isinstance(q.get("name"), str) for q in answer)
    ):
        raise MalformedReply(
            f"to `active_queues` from {worker}: not a list of queues: {_short(answer)}"
        )
    return [q["name"] for q in answer]


class _Conf(NamedTuple):
    """What check reads from a worker's ``inspect conf`` answer."""

    accept: list[str]
    result_serializer: str | None
    #: the entry configure() adds (kombu_dash.fleet.CONF_KEY), None on a worker without it
    kombu_dash: EngineInfo | None
    accept_only: bool


def _conf(worker: str, answer: Any) -> _Conf:
    accept = answer.get("accept_content") if isinstance(answer, dict) else None
    result = answer.get("result_serializer") if isinstance(answer, dict) else None
    if not (
        isinstance(accept, (list, tuple))
        and all(isinstance(a, str) for a in accept)
        and (result is None or isinstance(result, str))
    ):
        raise MalformedReply(f"to `conf` from {worker}: no accept_content list: {_short(answer)}")
    entry = answer.get(CONF_KEY)
    if entry is None:
        return _Conf(list(accept), result, None, False)
    fields = EngineInfo._fields
    if not (
        isinstance(entry, dict)
        and all(isinstance(entry.get(f), str) for f in fields)
        and isinstance(entry.get("accept_only", False), bool)
    ):
        raise MalformedReply(f"to `conf` from {worker}: a {CONF_KEY!r} entry {_short(entry)}")
    info = EngineInfo(*(entry[f] for f in fields))
    return _Conf(list(accept), result, info, bool(entry.get("accept_only", False)))


def _runs(conf: _Conf) -> str:
    """What a worker runs, as check reports it."""
    if conf.kombu_dash is not None:
        how = "configure(app, accept_only=True)" if conf.accept_only else "configure(app)"
        return f"{conf.kombu_dash}, {how}"
    if _accepts(conf.accept):
        return (
            "accepts kombu_dash, reports no engine (its settings alone, or a kombu_dash "
            f"older than check's; result_serializer={conf.result_serializer!r})"
        )
    return f"not running kombu_dash (accept_content={conf.accept})"


def _backend_check(app: Celery, timeout: float) -> str | None:
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


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if hasattr(a, "items") and hasattr(a, "getlist"):
        return list(a.items(multi=True)) == list(b.items(multi=True))
    return bool(a == b)


class _Check:
    """The steps of one check. Each returns None to go on, or the exit code to end with."""

    def __init__(self, app: Celery, queue: str | None, timeout: float, say: Say) -> None:
        self.app, self.timeout, self.say = app, timeout, say
        self.queue: str = queue or app.conf.task_default_queue
        self.deadline = _Deadline(timeout)
        self.has_backend = type(app.backend).__name__ != "DisabledBackend"
        self.consuming: list[str] = []  # workers that said they consume the queue
        # ...and those among them that write results in another serializer: {worker: name}
        self.json_results: dict[str, str | None] = {}

    def broker(self) -> int | None:
        """3 if the broker cannot be reached."""
        conn = self.app.connection_for_write()
        try:
            _in_thread(
                lambda: conn.ensure_connection(max_retries=1, timeout=self.deadline.left()),
                self.deadline.left(),
            )
        except Exception as exc:
            self.say(f"broker unreachable: {conn.as_uri()} ({type(exc).__name__}: {exc})")
            return BROKER_UNREACHABLE
        finally:
            threading.Thread(target=conn.release, daemon=True).start()
        self.say(f"broker ok: {conn.as_uri()}")
        return None

    def backend(self) -> int | None:
        """6 if the result backend does not answer."""
        error = _backend_check(self.app, self.deadline.left())
        if error:
            self.say(f"result backend unreachable: {self.app.backend.as_uri()} ({error})")
            return BACKEND_UNREACHABLE
        self.say(
            f"result backend ok: {self.app.backend.as_uri()}"
            if self.has_backend
            else "no result backend configured"
        )
        return None

    def workers(self) -> int | None:
        """4 if workers answer but none consumes the queue, 5 if one of those refuses
        kombu_dash, 1 if a reply is malformed, 3 if the broker went away. Reports every
        worker that answers (what it runs), and warns when they run different
        kombu_dash versions."""
        from kombu.exceptions import OperationalError

        from ..serializer import CONTENT_TYPE, SERIALIZER

        # Replies are collected for the whole window: a loaded worker answers late. The
        # probe keeps at least half of what is left.
        window = min(max(min(2.0, self.deadline.left() / 4), self.deadline.left() / 6), 5.0)
        try:
            mailbox = _Mailbox(self.app)
            queues = {w: _queue_names(w, a) for w, a in mailbox.ask("active_queues", window)}
            self.consuming = sorted(w for w, names in queues.items() if self.queue in names)
            confs = (
                {
                    w: _conf(w, a)
                    for w, a in mailbox.ask(
                        "conf", window, destination=sorted(queues), with_defaults=True
                    )
                }
                if queues
                else {}
            )
        except (OperationalError, OSError) as exc:
            self.say(f"broker unreachable: {type(exc).__name__}: {exc}")
            return BROKER_UNREACHABLE
        except MalformedReply as exc:
            self.say(
                f"malformed control reply {exc}: no Celery worker answers that; "
                "is something else listening on the control mailbox?"
            )
            return PROBE_FAILED
        self._fleet(queues, confs)
        if queues and not self.consuming:
            self.say(
                f"no worker consumes queue {self.queue!r}; workers answering: "
                f"{', '.join(sorted(queues))}"
            )
            return NO_WORKER
        refusing = []
        for worker in self.consuming:
            if worker not in confs:
                self.say(f"worker {worker}: no answer to `inspect conf`")
                continue
            conf = confs[worker]
            if _accepts(conf.accept):
                self.say(
                    f"worker {worker}: accepts {CONTENT_TYPE} (accept_content={conf.accept}, "
                    f"result_serializer={conf.result_serializer!r})"
                )
                # configure() stores each result in its task's serializer: kombu_dash here
                if conf.kombu_dash is None and conf.result_serializer != SERIALIZER:
                    self.json_results[worker] = conf.result_serializer
            else:
                refusing.append(worker)
                self.say(
                    f"worker {worker}: does NOT accept {CONTENT_TYPE} "
                    f"(accept_content={conf.accept}); it would reject kombu_dash tasks and "
                    "leave them PENDING"
                )
        if refusing:
            self.say(
                f"{len(refusing)} of {len(self.consuming)} worker(s) on {self.queue!r} "
                "refuse kombu_dash: run kombu_dash.configure(app, accept_only=True) there "
                "before switching producers"
            )
            return NOT_ACCEPTED
        if self.json_results:
            # Accepted by settings alone (or Dash's CeleryManager, which stores its outputs
            # itself): the probe checks decoding only.
            self.say(
                "warning: "
                + ", ".join(
                    f"{w} returns kombu_dash tasks' results as {s!r}"
                    for w, s in self.json_results.items()
                )
                + ": a returned tuple comes back a list, a multi-dict with one value per "
                "key. Run kombu_dash.configure(app, accept_only=True) (or configure(app)) "
                "in its app. The probe checks decoding only (fine for Dash's "
                "CeleryManager, which stores outputs itself)"
            )
        return None

    def _fleet(self, queues: dict[str, list[str]], confs: dict[str, _Conf]) -> None:
        """One line per worker that answered: which kombu_dash it runs, if any."""
        if not queues:
            return
        self.say(f"fleet: {len(queues)} worker(s) answered")
        for worker in sorted(queues):
            where = "consumes" if worker in self.consuming else "does not consume"
            runs = _runs(confs[worker]) if worker in confs else "no answer to `inspect conf`"
            self.say(f"  {worker} ({where} {self.queue!r}): {runs}")
        versions: dict[str, list[str]] = {}
        for worker, conf in sorted(confs.items()):
            if conf.kombu_dash is not None:
                versions.setdefault(conf.kombu_dash.version, []).append(worker)
        if len(versions) > 1:
            self.say(
                "warning: the fleet mixes kombu_dash versions: "
                + "; ".join(f"{v} on {', '.join(ws)}" for v, ws in sorted(versions.items()))
                + " (upgrade every worker to one version)"
            )

    def probe(self) -> int | None:
        """1 if the probe does not come back intact; 4 if no worker answered and none
        took it (it then expires unrun, and is revoked)."""
        from kombu.exceptions import OperationalError

        from ..serializer import SERIALIZER

        if not self.has_backend:
            if self.consuming:
                self.say("OK (no result backend: the probe's round trip was not run)")
                return OK
            self.say(
                f"no worker consumes queue {self.queue!r} (none answered the control "
                "mailbox, and with no result backend no probe was sent)"
            )
            return NO_WORKER
        token, sent = f"kombu-dash-probe-{uuid.uuid4().hex}", _probe_value()
        kwargs, expected = ({"index": 0}, token) if self.json_results else ({}, (token, sent))
        wait = self.deadline.left(keep=CLEANUP)
        try:
            # `expires`: a worker that takes it after we gave up discards it unrun.
            result = _in_thread(
                lambda: self.app.send_task(
                    PROBE_TASK,
                    args=(token, sent),
                    kwargs=kwargs,
                    queue=self.queue,
                    serializer=SERIALIZER,
                    expires=wait,
                ),
                wait,
            )
        except OperationalError as exc:
            self.say(f"broker unreachable while sending the probe: {exc}")
            return BROKER_UNREACHABLE
        except TimeoutError:
            self.say(f"the probe could not be sent within --timeout {self.timeout:g}s")
            return PROBE_FAILED
        try:
            got: Any = _in_thread(
                lambda: result.get(
                    timeout=self.deadline.left(keep=CLEANUP),
                    propagate=False,
                    disable_sync_subtasks=False,
                ),
                self.deadline.left(keep=CLEANUP),
            )
            state = result.state
        except Exception as exc:
            got, state = exc, "UNKNOWN"
        if isinstance(got, BaseException) or state != "SUCCESS":
            self._give_up(result.id)
            why = got if isinstance(got, BaseException) else f"state {state}: {_short(got)}"
            if not self.consuming:
                self.say(
                    f"no worker took the probe {result.id} on queue {self.queue!r} in "
                    f"{self.timeout:g}s (and none answered the control mailbox); it "
                    "expires unrun"
                )
                return NO_WORKER
            self.say(
                f"probe {result.id} sent to {self.queue!r} but no correct result came back: {why}"
            )
            return PROBE_FAILED
        self._forget(result)
        if not _same(got, expected):
            self.say(
                f"probe came back changed: expected {_short(expected, 400)}, got {_short(got, 400)}"
            )
            return PROBE_FAILED
        self.say(f"probe {PROBE_TASK} {result.id} came back intact through {SERIALIZER}")
        return None

    def _give_up(self, task_id: str) -> None:
        # `expires` already stops a later worker from running it; revoking also stops a
        # worker that holds it reserved right now. Best effort, within the kept-back time.
        def revoke() -> None:
            conn = self.app.connection_for_write()
            try:
                _Mailbox(self.app).mailbox(conn)._broadcast(
                    "revoke", {"task_id": task_id}, serializer="json"
                )
            finally:
                conn.release()

        try:
            _in_thread(revoke, max(0.05, self.deadline.end - time.monotonic()))
        except Exception:
            pass

    def _forget(self, result: Any) -> None:
        try:
            _in_thread(result.forget, max(0.05, self.deadline.end - time.monotonic()))
        except Exception:
            pass  # only tidiness: the result would expire anyway


def run(app: Celery, queue: str | None, timeout: float, say: Say) -> int:
    """The check, step by step; the first step that finds a problem gives the exit code."""
    from ..serializer import register

    register()
    check = _Check(app, queue, timeout, say)
    for step in (check.broker, check.backend, check.workers, check.probe):
        code = step()
        if code is not None:
            return code
    say("OK")
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        if not args.quiet:
            print(text, flush=True)

    try:
        app = load_app(args.app)
    except AppError as exc:
        print(f"cannot load app {args.app!r}: {exc}", file=sys.stderr)
        return USAGE
    code = run(app, args.queue, args.timeout, say)
    if args.quiet and lines:
        print(lines[-1])
    return code
