"""The suite's plumbing, once: ports, waiting, child processes, Celery workers, a private
Redis, and the deep-equality assertion every round-trip test uses.

A child process runs in its own process group with its output in a log file (never a pipe
nobody reads), so stopping it reaches its children too (a server's job processes, a
worker's pool) and a failure shows the log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import zoneinfo
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kombu_dash import _json, engines

ROOT = Path(__file__).resolve().parent.parent

#: The quick tier (``-m "not broker and not slow"``, ``nox -s quick``): set by conftest
QUICK = False


def examples(full: int) -> int:
    """Hypothesis example count: ``full`` in the full tier, a tenth (at least 100) in the
    quick tier, so the contributor's loop stays under two minutes."""
    return max(100, full // 10) if QUICK else full


# The shared services (README "Development"); tests that need an isolated Redis start their own.
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")

#: How many times longer than on an idle machine a test waits for a process, a page or a
#: reply before it gives up. A wait ends as soon as what it waits for happens, so this
#: costs time only when a test fails; it is what keeps a loaded machine from failing tests.
#: (A bound on work, not on time, is what a test asserts: see cpu_limited.)
PATIENCE = 4


def give_up_at(seconds: float) -> float:
    """The monotonic time at which a wait of ``seconds`` (on an idle machine) gives up."""
    return time.monotonic() + seconds * PATIENCE


AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672//")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns something truthy; AssertionError after ``timeout``
    (times PATIENCE)."""
    deadline = give_up_at(timeout)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def with_pythonpath(
    env: Mapping[str, str] | None, *dirs: Path | str, **extra: Any
) -> dict[str, str]:
    """``env`` (default: this process's) with ``dirs`` first on PYTHONPATH and ``extra`` set."""
    out = dict(os.environ if env is None else env)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [*map(str, dirs), out.get("PYTHONPATH")]))
    out.update({k: str(v) for k, v in extra.items()})
    return out


class Proc:
    """A command in its own process group, its output in ``log``."""

    def __init__(
        self,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        start: bool = True,
    ):
        self.argv, self.log, self.env, self.cwd = list(argv), Path(log), env, cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._out: Any = None
        if start:
            self.start()

    def start(self) -> Proc:
        self._out = open(self.log, "ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def exited(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def wait_for_text(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        """The first match of ``pattern`` in the log; fails if the process exits first."""
        deadline = give_up_at(timeout)
        while True:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.exited() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} not seen in {self.argv[:4]} (exit {self.exited()}):\n"
                    f"{self.text()[-3000:]}"
                )
            time.sleep(0.2)

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the whole group: a crash, no cleanup."""
        self.signal(signal.SIGKILL)
        assert self.popen is not None
        self.popen.wait(30 * PATIENCE)

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the group, SIGKILL after ``grace`` seconds; safe to call twice."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.signal(signal.SIGKILL)  # orphans of a main process that already died
        if self._out is not None and not self._out.closed:
            self._out.close()

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CeleryWorker(Proc):
    """``python -m celery -A APP worker`` on one queue, as a user starts it; ``start()``
    then ``wait_ready()``, or use it as a context manager (ready on entry)."""

    def __init__(
        self,
        app: str,
        queue: str,
        log: Path,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | str = ROOT,
        extra_args: Sequence[str] = (),
        ready_timeout: float = 90,
        broker: str | None = None,
        on_stop: Callable[[], None] | None = None,
        python: str = sys.executable,
        neighbours: bool = False,
    ):
        """``neighbours``: mingle with, gossip to and send heartbeats to the other workers
        on its control exchange, as a production worker does (off by default: a test's
        lone worker has no neighbours, and mingle costs a second at start). ``python``:
        the interpreter (a virtualenv without kombu_dash, for an old host)."""
        #: ``broker`` is the test's name for the broker it runs on ("redis", "amqp")
        self.queue, self.hostname, self.broker = queue, name or f"{queue}@%h", broker
        self.name = self.hostname  # the node name, as `celery inspect` reports it
        self.ready_timeout, self.on_stop = ready_timeout, on_stop
        argv = [
            python,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "-Q",
            queue,
            "-n",
            self.hostname,
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-l",
            "INFO",
            *(
                ()
                if neighbours
                else ("--without-gossip", "--without-mingle", "--without-heartbeat")
            ),
            *extra_args,
        ]
        super().__init__(argv, log, env=env, cwd=cwd, start=False)

    def wait_ready(self, timeout: float | None = None) -> CeleryWorker:
        try:
            self.wait_for_text(r" ready\.", timeout or self.ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 3) -> None:
        # Nothing here needs a warm shutdown, and an idle worker on RabbitMQ only notices
        # SIGTERM when its event loop next wakes (up to ~10 s): a short grace, then SIGKILL.
        already = self._out is None or self._out.closed
        super().stop(grace)
        if not already and self.on_stop is not None:
            self.on_stop()

    def __enter__(self) -> CeleryWorker:
        if self.popen is None:
            self.start()
        return self.wait_ready()


@contextlib.contextmanager
def running(workers: Mapping[Any, CeleryWorker]) -> Iterator[Mapping[Any, CeleryWorker]]:
    """Start every worker, then wait for each (their start-ups overlap); stop all at the end."""
    try:
        for worker in workers.values():
            worker.start()
        for worker in workers.values():
            worker.wait_ready()
        yield workers
    finally:
        for worker in workers.values():  # signal all first: their shutdowns overlap
            if worker.exited() is None:
                worker.signal(signal.SIGTERM)
        for worker in workers.values():
            worker.stop()


class OwnRedis(Proc):
    """A redis-server on its own port (the shared one is never stopped by a test)."""

    def __init__(self, workdir: Path, port: int | None = None, appendonly: bool = True):
        self.workdir, self.appendonly = Path(workdir), appendonly
        self.port = port or free_port()
        self._fixed_port = port is not None
        super().__init__(self._argv(), self.workdir / f"redis-{self.port}.log", start=False)

    def _argv(self) -> list[str]:
        # appendonly: a restart keeps queued and unacked messages, as a production Redis would
        return [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
            "--dir",
            str(self.workdir),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        """Start it and wait until it answers. The first start takes another free port when
        something took this one between free_port() and the bind (a race with whatever else
        runs here); a restart keeps its port (a test restarts the same server)."""
        first = self.popen is None
        for _ in range(5):
            super().start()
            try:
                return self._wait_answers()
            except AssertionError:
                if not (first and not self._fixed_port and "Address already in use" in self.text()):
                    raise
            self.stop()
            self.port = free_port()
            self.argv, self.log = self._argv(), self.workdir / f"redis-{self.port}.log"
        raise AssertionError(f"no free port for redis-server after 5 tries:\n{self.text()}")

    def _wait_answers(self) -> OwnRedis:
        import redis

        def answers() -> bool:
            if self.exited() is not None:
                raise AssertionError(f"redis-server on port {self.port} exited:\n{self.text()}")
            client = redis.Redis(port=self.port, socket_connect_timeout=1)
            try:  # ours, not another server that holds the port
                return client.info("server")["process_id"] == self.pid
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        wait_for(answers, 20, what=f"redis-server on port {self.port}")
        return self


def patch_celery_result_consumer() -> Callable[[], None] | None:
    """Celery < 5.7's Redis result consumer can deadlock when the garbage collector runs
    ``AsyncResult.__del__`` in the middle of a SUBSCRIBE (celery#10477, fixed upstream by
    making ``cancel_for`` idempotent, celery PR #10497; seen here as a chord test hanging on
    Celery 5.3.6). Puts that fix in place on a Celery without it and returns the undo, or
    None where Celery has its own fix."""
    from celery.backends.redis import ResultConsumer

    if hasattr(ResultConsumer, "_flush_pending_unsubscribe"):
        return None
    original = ResultConsumer.cancel_for

    def cancel_for(self: Any, task_id: str) -> Any:
        if self._get_key_for_task(task_id) not in self.subscribed_to:
            return None  # already unsubscribed: a second UNSUBSCRIBE re-enters redis-py's lock
        return original(self, task_id)

    ResultConsumer.cancel_for = cancel_for

    def undo() -> None:
        ResultConsumer.cancel_for = original

    return undo


# -- CPU budgets, checked by the kernel ---------------------------------------------------

_CPU_CHILD = """
import resource


def limit_cpu(seconds):
    \"\"\"From now on this process may use ``seconds`` more CPU seconds (whole seconds, as
    RLIMIT_CPU counts them); beyond that the kernel stops it with SIGXCPU. Callable again
    to grant a fresh budget.\"\"\"
    used = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (int(used.ru_utime + used.ru_stime) + 1 + seconds, hard))


"""


def cpu_limited(code: str, *, stdin: str = "", hang: float = 600) -> str:
    """Run ``code`` in a fresh Python (this one, from the checkout) that calls
    ``limit_cpu(seconds)`` before the work it measures; return its output.

    For "this costs little CPU" without a clock in the test: the kernel counts the child's
    CPU time and stops it past the budget, whatever else the machine runs (CPU time does not
    grow with load; a budget an order of magnitude over the measured cost absorbs what
    does). The test fails naming the limit; ``code`` should print what it starts, so the
    output names the culprit. ``hang`` (wall seconds) only ends a child that blocks."""
    proc = subprocess.run(
        [sys.executable, "-c", _CPU_CHILD + code],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=with_pythonpath(None, ROOT, OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1),
        timeout=hang,
    )
    over = proc.returncode == -signal.SIGXCPU
    assert proc.returncode == 0, (
        "over its CPU budget (SIGXCPU)" if over else f"exit {proc.returncode}"
    ) + f"; last output:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


# -- equality -------------------------------------------------------------------------------


def same(out: Any, obj: Any) -> None:
    """Assert ``out`` equals ``obj`` and has its type, at every depth we can look into:
    containers item by item, multi-dicts pair by pair, numpy arrays by dtype and shape,
    plotly figures and Dash components by their JSON, aware datetimes by zone."""
    assert type(out) is type(obj), f"{type(out)!r} is not {type(obj)!r}"
    t = type(obj)
    if t in (list, tuple):
        assert len(out) == len(obj), f"{len(out)} items, expected {len(obj)}"
        for a, b in zip(out, obj, strict=True):
            same(a, b)
    elif t in (dict, OrderedDict, Counter) or (
        isinstance(obj, dict) and not hasattr(obj, "getlist")
    ):
        assert list(out) == list(obj), "key order"
        for k in obj:
            same(out[k], obj[k])
    elif t is float and math.isnan(obj):
        assert math.isnan(out)
    elif hasattr(obj, "raw") and hasattr(obj, "getlist"):  # starlette Headers: bytes pairs
        assert out.raw == obj.raw
    elif hasattr(obj, "multi_items"):  # starlette QueryParams/FormData, kombu_dash stand-ins
        assert list(out.multi_items()) == list(obj.multi_items())
        assert out == obj
    elif t.__module__.startswith("werkzeug") and hasattr(obj, "items"):
        try:  # MultiDict and its kin; Headers.items() is already every pair
            assert list(out.items(multi=True)) == list(obj.items(multi=True))
        except TypeError:
            assert list(out.items()) == list(obj.items())
    elif t.__module__.startswith("numpy") and hasattr(obj, "dtype") and hasattr(obj, "shape"):
        import numpy as np

        assert out.dtype == obj.dtype and out.shape == obj.shape
        assert np.array_equal(out, obj, equal_nan=obj.dtype.kind in "fc")
    elif hasattr(obj, "to_plotly_json"):  # a plotly figure or a Dash component
        from plotly.io.json import to_json_plotly

        assert to_json_plotly(out) == to_json_plotly(obj)
    else:
        assert out == obj, f"{out!r} != {obj!r}"
        if isinstance(obj, dt.datetime) and obj.tzinfo is not None:
            assert type(out.tzinfo) is type(obj.tzinfo)
            assert out.utcoffset() == obj.utcoffset()
            if obj.replace(fold=1 - obj.fold).utcoffset() != obj.utcoffset():  # ambiguous
                assert out.fold == obj.fold
            if isinstance(obj.tzinfo, zoneinfo.ZoneInfo):
                assert out.tzinfo.key == obj.tzinfo.key


def is_same(out: Any, obj: Any) -> bool:
    """:func:`same` as a predicate, for counting mismatches over many results."""
    try:
        same(out, obj)
    except AssertionError:
        return False
    return True


# -- the two engines ------------------------------------------------------------------------

#: "c" where this process has the C engine (built, and KOMBU_DASH_NO_SPEEDUPS unset), and
#: always "python" (the reference): every codec test runs on each (conftest's ``codec``)
ENGINES = (["c"] if engines.SPEEDUPS is not None else []) + ["python"]

#: the JSON backends this process has: both where orjson is installed
JSON_BACKENDS = (["orjson"] if _json.HAVE_ORJSON else []) + ["json"]

_CODECS: dict[tuple[str, str | None], Any] = {}


def codec_for(engine: str, json: str | None = None) -> Any:
    """A codec with every framework's tags on ``engine`` (one per engine and backend)."""
    from kombu_dash import Codec
    from kombu_dash.frameworks import FRAMEWORK_TAGS

    key = (engine, json)
    if key not in _CODECS:
        _CODECS[key] = Codec(FRAMEWORK_TAGS, engine=engine, json=json)
    return _CODECS[key]
