"""A mixed Celery fleet on real brokers, as an operator upgrading to kombu_dash runs one.

Four kinds of worker (tests.celery_apps.fleet_app): ``configure(app)``, ``configure(app,
accept_only=True)``, a plain app on a host where kombu_dash is installed, and a plain app on
a host without it (a virtualenv holding only this Celery and kombu). They share a control
exchange and mingle, gossip and send heartbeats as production workers do; each consumes
its own queue, so every task has one known worker and one expected end. One fleet on Redis
and one on RabbitMQ, started side by side, each in both orders: one after the other, plain
ones first, then the plain ones restarted once the kombu_dash ones run (so every plain
worker starts both before and after every kombu_dash one).

What docs/operations.rst ("A mixed fleet") promises, checked on each fleet:

* every worker starts and stays up (a plain worker started next to a configured one used
  to stop in mingle: ``Unrecoverable error: ContentDisallowed``);
* a task ends in the documented state: one a worker accepts succeeds, and the client that
  sent it reads its result unchanged (a json client gets json, a kombu_dash client its
  types); a kombu_dash task sent to a worker that does not accept it is refused with
  Celery's ERROR line and stays PENDING; nothing else is lost;
* ``celery inspect ping`` / ``status`` from a plain app on the host without kombu_dash see
  every worker; a configured client's ``inspect`` gets typed answers from configured
  workers;
* ``python -m kombu_dash check`` says what every worker runs.

Then two rolling upgrades with traffic during each step: the documented order (accept-only
everywhere, then configure everywhere) on Redis, and the wrong one (a worker configured
first, a plain worker restarted next to it, then a producer switched while that plain
worker still runs) on RabbitMQ.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import werkzeug.datastructures as wd
from celery import Celery

import kombu_dash
from benchmarks.installs import uv_command

from ._celery_support import BROKER_URLS, delete_queue
from .harness import REDIS_URL, ROOT, CeleryWorker, same, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.usefixtures("celery_result_consumer_fix"),
]

#: Seconds any one wait may take before the test fails (only a failure waits this long).
WAIT = 90

#: kind: (KD_MODE, pool, host). Prefork where results are stored per task: in a pool child.
KINDS = {
    "configured": ("configured", "prefork", "kd"),
    "accept_only": ("accept_only", "prefork", "kd"),
    "plain": ("plain", "solo", "kd"),
    "plain_no_kd": ("plain", "solo", "no_kd"),
}
#: Started one by one in this order; then the plain ones again, after the kombu_dash ones.
ORDER = ("plain_no_kd", "plain", "accept_only", "configured")
RESTARTED = ("plain", "plain_no_kd")
#: the kinds that accept kombu_dash
ACCEPTING = ("configured", "accept_only")

REFUSAL = re.compile(
    r"ERROR/MainProcess\] Received invalid task message: Refusing to deserialize untrusted "
    r"content of type (kombu_dash \()?application/x-kombu-dash\+json"
)
#: what a worker must never log (a crash at start, an undecodable control message)
NEVER = ("Unrecoverable error", "CRITICAL/", "Cannot decode message", "Can't decode message")

#: A value a json client sends and reads back as it was.
JSON_VALUE = {"tags": ["a", "b"], "n": 1, "nested": [{"x": None, "y": 2.5}]}
#: The report's value: a kombu_dash client reads it back as itself from any worker that
#: accepts it (json would give {'tag': 'a'} and [1, 2]).
EXAMPLE = (wd.MultiDict([("tag", "a"), ("tag", "b")]), (1, 2))


# -- the two hosts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """Where a worker runs: its interpreter, working directory and PYTHONPATH."""

    python: str
    cwd: Path

    def env(self, **kd: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(PYTHONPATH=str(self.cwd), PYTHONUNBUFFERED="1")
        env.update({f"KD_{k.upper()}": v for k, v in kd.items()})
        return env


KD_HOST = Host(sys.executable, ROOT)


@pytest.fixture(scope="session")
def no_kd_host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    """A host where kombu_dash is not installed: a virtualenv with this Celery, kombu and
    redis only (uv makes it from its cache in seconds), and a copy of the app modules in a
    directory of their own (the checkout would put kombu_dash on the path)."""
    uv = uv_command()[0]  # RuntimeError naming `pip install uv` where there is none
    root = tmp_path_factory.mktemp("no-kd-host")
    venv, apps = root / "venv", root / "apps"
    pins = [
        f"celery[redis]=={importlib.metadata.version('celery')}",
        f"kombu=={importlib.metadata.version('kombu')}",
        f"redis=={importlib.metadata.version('redis')}",
    ]
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *pins]
    for argv in ([uv, "venv", "-q", "--python", sys.executable, str(venv)], install):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if done.returncode and argv is install:  # no index here: uv's cache may hold them
            done = subprocess.run([*argv, "--offline"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    (apps / "tests" / "celery_apps").mkdir(parents=True)
    (apps / "tests" / "__init__.py").write_text("")
    for name in ("__init__.py", "_env.py", "tasks.py", "fleet_app.py"):
        shutil.copy(ROOT / "tests" / "celery_apps" / name, apps / "tests" / "celery_apps" / name)
    host = Host(str(venv / "bin" / "python"), apps)
    found = subprocess.run(
        [host.python, "-c", "import importlib.util; print(importlib.util.find_spec('kombu_dash'))"],
        cwd=apps,
        env=host.env(),
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == "None", found  # truly absent there
    return host


# -- a fleet ---------------------------------------------------------------------------------


@dataclass
class Fleet:
    broker: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    workers: dict[str, CeleryWorker] = field(default_factory=dict)
    clients: dict[str, Celery] = field(default_factory=dict)

    @property
    def exchange(self) -> str:
        return f"kd-fleet-{self.token}-control"

    def settings(self, queue: str) -> dict[str, str]:
        return {
            "broker": BROKER_URLS[self.broker],
            "backend": REDIS_URL,
            "queue": queue,
            "control_exchange": self.exchange,
        }

    def worker(
        self,
        name: str,
        kind: str,
        host: Host,
        logdir: Path,
        queues: str | None = None,
        log_suffix: str = "",
        **kd: str,
    ) -> CeleryWorker:
        """A worker of ``kind`` named ``name``, consuming ``queues`` (default: its own);
        stopping it deletes the queues only it consumes (names ending in its name)."""
        mode, pool, _ = KINDS.get(kind, (kind, "solo", "kd"))
        queue = queues or f"kd-fleet-{self.token}-{name}"
        worker = CeleryWorker(
            "tests.celery_apps.fleet_app",
            queue,
            logdir / f"{self.token}-{name}{log_suffix}.log",
            pool=pool,
            name=f"{name}@{self.token}",
            env=host.env(mode=mode, **self.settings(queue.split(",")[0]), **kd),
            cwd=host.cwd,
            python=host.python,
            neighbours=True,
            broker=self.broker,
            on_stop=lambda: [
                delete_queue(self.broker, q) for q in queue.split(",") if q.endswith(name)
            ],
        )
        self.workers[name] = worker
        return worker

    def client(self, mode: str) -> Celery:
        """An app in this test process: "configured", "accept_only" or "plain"."""
        if mode not in self.clients:
            app = Celery(f"kd_fleet_client_{mode}", set_as_current=False)
            settings = self.settings("kd-fleet-unused")
            app.conf.update(
                broker_url=settings["broker"],
                result_backend=settings["backend"],
                control_exchange=settings["control_exchange"],
                result_expires=600,
            )
            if mode != "plain":
                kombu_dash.configure(app, accept_only=mode == "accept_only")
            self.clients[mode] = app
        return self.clients[mode]

    def nodes(self) -> list[str]:
        return sorted(w.name for w in self.workers.values() if w.exited() is None)

    def assert_up(self) -> None:
        for name, worker in self.workers.items():
            if worker.popen is None or (worker._out is not None and worker._out.closed):
                continue  # stopped by the test
            text = worker.text()
            assert worker.exited() is None, f"{name} exited:\n{text[-3000:]}"
            bad = [line for line in text.splitlines() if any(n in line for n in NEVER)]
            assert not bad, f"{name}: {bad}\n{text[-3000:]}"

    def stop(self) -> None:
        for worker in self.workers.values():  # signal all first: their shutdowns overlap
            if worker.popen is not None and worker.exited() is None:
                worker.signal(signal.SIGTERM)
        for worker in self.workers.values():
            worker.stop()
        for app in self.clients.values():
            app.close()


def start_in_order(fleet: Fleet, hosts: dict[str, Host], logdir: Path) -> None:
    """One after the other, each ready before the next starts, so each mingles with those
    already up; then each plain worker is restarted next to the kombu_dash ones."""
    for kind in ORDER:
        fleet.worker(kind, kind, hosts[KINDS[kind][2]], logdir).start().wait_ready(WAIT)
    for kind in RESTARTED:
        first = fleet.workers[kind]
        first.stop()
        assert not [n for n in NEVER if n in first.text()], first.text()[-3000:]
        again = fleet.worker(kind, kind, hosts[KINDS[kind][2]], logdir, log_suffix="-again")
        again.start().wait_ready(WAIT)


@pytest.fixture(scope="module")
def fleets(tmp_path_factory, no_kd_host) -> Iterator[dict[str, Fleet]]:
    """One fleet per broker, started side by side."""
    logdir = tmp_path_factory.mktemp("fleets")
    hosts = {"kd": KD_HOST, "no_kd": no_kd_host}
    made = {broker: Fleet(broker) for broker in BROKER_URLS}
    errors: list[BaseException] = []

    def start(fleet: Fleet) -> None:
        try:
            start_in_order(fleet, hosts, logdir)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(fleet,)) for fleet in made.values()]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        yield made
    finally:
        for fleet in made.values():
            fleet.stop()


@pytest.fixture(params=list(BROKER_URLS))
def fleet(request, fleets) -> Iterator[Fleet]:
    yield fleets[request.param]
    fleets[request.param].assert_up()


# -- tasks -----------------------------------------------------------------------------------


def refusals(worker: CeleryWorker) -> list[str]:
    return [line for line in worker.text().splitlines() if REFUSAL.search(line)]


def wait_refused(worker: CeleryWorker, markers: list[str]) -> None:
    """Each marker's task was refused by ``worker`` (its body, holding the marker, is
    dumped after the ERROR line)."""

    def all_seen() -> bool:
        text = worker.text()
        return all(m in text for m in markers) and len(refusals(worker)) >= len(markers)

    wait_for(all_seen, WAIT, 0.2, f"{worker.name} to refuse {markers}\n{worker.text()[-3000:]}")


def test_workers_start_next_to_each_other_in_any_order(fleet):
    """Every worker is up (the fixture started them one by one, then restarted the plain
    ones), went through mingle, and logged nothing critical; a configured worker logs its
    engine once, from its main process (not from each pool child)."""
    up = {name: w for name, w in fleet.workers.items() if w.exited() is None}
    assert sorted(up) == sorted(KINDS)
    for name, worker in fleet.workers.items():
        assert "mingle: searching for neighbors" in worker.text(), name
    for kind in RESTARTED:  # the second start, next to the kombu_dash workers
        assert fleet.workers[kind].log.name.endswith("-again.log")
    engine = str(kombu_dash.engine_info())
    for kind in ACCEPTING:
        lines = [line for line in fleet.workers[kind].text().splitlines() if engine in line]
        assert len(lines) == 1 and "INFO/MainProcess" in lines[0], lines


def test_tasks_end_in_the_documented_state(fleet):
    """Every client kind sends to every worker kind: accepted tasks come back as the client
    sent them, refused ones are refused loudly and stay PENDING."""
    sent: list[tuple[str, str, Any, Any, Any]] = []  # (client, worker, result, expected, marker)
    for kind, worker in fleet.workers.items():
        queue = worker.queue
        for mode in ("configured", "accept_only", "plain"):
            client = fleet.client(mode)
            marker = f"m-{uuid.uuid4().hex[:12]}"
            if mode == "configured":
                value = (marker, EXAMPLE[0])  # kombu_dash: a tuple, a multi-dict
                res = client.send_task("kd.fleet.pair", args=(value,), queue=queue)
                sent.append((mode, kind, res, (value, "builtins.tuple"), marker))
                if kind in ACCEPTING:  # the report's example, returned by the task
                    res = client.send_task("kd.fleet.example", queue=queue)
                    sent.append((mode, kind, res, EXAMPLE, None))
                # json by choice (the only way to reach a plain worker): read back as json
                res = client.send_task(
                    "kd.fleet.pair", args=([marker, JSON_VALUE],), queue=queue, serializer="json"
                )
                sent.append((mode, kind, res, [[marker, JSON_VALUE], "builtins.list"], None))
            else:  # json: lists, never a tuple
                res = client.send_task("kd.fleet.pair", args=([marker, JSON_VALUE],), queue=queue)
                sent.append((mode, kind, res, [[marker, JSON_VALUE], "builtins.list"], None))

    for mode, kind, res, expected, marker in sent:
        if mode == "configured" and marker and kind not in ACCEPTING:
            continue  # refused: below
        out = res.get(timeout=WAIT)
        try:
            same(out, expected)
        except AssertionError as exc:
            raise AssertionError(f"{mode} client -> {kind} worker: {out!r}: {exc}") from None

    for kind in ("plain", "plain_no_kd"):
        refused = [(res, m) for c, k, res, _, m in sent if c == "configured" and k == kind and m]
        worker = fleet.workers[kind]
        wait_refused(worker, [m for _, m in refused])
        assert all(res.state == "PENDING" for res, _ in refused)
        assert len(refusals(worker)) == len(refused), refusals(worker)


def celery_cli(host: Host, fleet: Fleet, *args: str) -> subprocess.Popen[str]:
    """``celery -A tests.celery_apps.fleet_app ARGS`` on ``host``, a plain app."""
    return subprocess.Popen(
        [host.python, "-m", "celery", "-A", "tests.celery_apps.fleet_app", *args],
        cwd=host.cwd,
        env=host.env(mode="plain", **fleet.settings("kd-fleet-unused")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def output(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=WAIT + 60)
    assert proc.returncode == 0, f"{proc.args}: {proc.returncode}\n{out}\n{err}"
    return out


def test_a_plain_app_on_a_host_without_kombu_dash_sees_every_worker(fleet, no_kd_host):
    """``celery inspect``/``status`` read every answer in json: a configured worker's too
    (it used to answer in kombu_dash, which this host cannot even decode)."""
    nodes = fleet.nodes()
    # -d: the answer is complete as soon as every one answered (never a race with a window)
    where = ("-d", ",".join(nodes), "--timeout", str(WAIT))
    procs = {
        "ping": celery_cli(no_kd_host, fleet, "inspect", "ping", *where),
        "status": celery_cli(no_kd_host, fleet, "status", *where),
        "stats": celery_cli(no_kd_host, fleet, "inspect", "stats", "--json", *where),
        "conf": celery_cli(no_kd_host, fleet, "inspect", "conf", "--json", *where),
    }
    out = {name: output(proc) for name, proc in procs.items()}
    for node in nodes:
        assert re.search(rf"->  {re.escape(node)}: OK\s+pong", out["ping"]), out["ping"]
        assert f"->  {node}: OK" in out["status"], out["status"]
    assert f"{len(nodes)} nodes online." in out["status"]
    stats = json.loads(out["stats"])
    assert sorted(stats) == nodes and all("total" in s for s in stats.values())
    conf = json.loads(out["conf"])
    for kind, worker in fleet.workers.items():
        entry = conf[worker.name].get("kombu_dash")
        if kind in ACCEPTING:  # what configure() reports, to any asker
            info = kombu_dash.engine_info()
            assert entry == {**info._asdict(), "accept_only": kind == "accept_only"}
        else:
            assert entry is None


def test_a_configured_client_gets_typed_answers(fleet):
    """``inspect`` from a configured app: a configured worker answers in kombu_dash (its
    ``stats()["total"]`` is a Counter), every other one in json."""
    nodes = fleet.nodes()
    inspect = fleet.client("configured").control.inspect(destination=nodes, timeout=WAIT)
    assert sorted(inspect.ping()) == nodes
    stats = inspect.stats()
    assert sorted(stats) == nodes
    for kind, worker in fleet.workers.items():
        total = stats[worker.name]["total"]
        assert type(total) is (Counter if kind == "configured" else dict), (kind, total)


def run_check(fleet: Fleet, queue: str, *, mode: str = "configured") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kombu_dash", "check", "-A", "tests.celery_apps.fleet_app:app"]
        + ["-Q", queue, "--timeout", "30"],
        cwd=ROOT,
        env=KD_HOST.env(mode=mode, **fleet.settings(queue)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(check: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = check.communicate(timeout=WAIT + 60)
    return check.returncode, out


def fleet_lines(fleet: Fleet, out: str) -> dict[str, str]:
    """``check``'s line for each worker of the fleet."""
    lines = {}
    for name, worker in fleet.workers.items():
        (line,) = [x for x in out.splitlines() if x.startswith(f"  {worker.name} (")]
        lines[name] = line
    return lines


def test_check_reports_every_worker_and_each_queue(fleets):
    """On each fleet: ``check`` on the accept-only worker's queue (exit 0, the full probe)
    and on the plain one's (exit 5), all run side by side."""
    runs = {
        (broker, kind): run_check(fleet, fleet.workers[kind].queue)
        for broker, fleet in fleets.items()
        for kind in ("accept_only", "plain_no_kd")
    }
    results = {key: finished(proc) for key, proc in runs.items()}
    engine = str(kombu_dash.engine_info())
    for broker, fleet in fleets.items():
        rc, out = results[broker, "accept_only"]
        assert f"fleet: {len(KINDS)} worker(s) answered" in out, out
        lines = fleet_lines(fleet, out)
        assert lines["configured"].endswith(f": {engine}, configure(app)"), out
        assert lines["accept_only"].endswith(f": {engine}, configure(app, accept_only=True)"), out
        for kind in ("plain", "plain_no_kd"):
            assert lines[kind].endswith(": not running kombu_dash (accept_content=['json'])"), out
        assert "warning" not in out, out
        # an accept-only worker returns a kombu_dash task's result as kombu_dash: full probe
        assert rc == 0 and "came back intact through kombu_dash" in out, out

        rc, out = results[broker, "plain_no_kd"]
        assert rc == 5, out
        name = fleet.workers["plain_no_kd"].name
        assert f"worker {name}: does NOT accept application/x-kombu-dash+json" in out, out


# -- two more workers: settings by hand, another kombu_dash version ---------------------------


def test_check_flags_settings_by_hand_and_mixed_versions(fleets, tmp_path):
    """A worker that only lists kombu_dash in its accept settings (the shortcut the docs no
    longer offer) returns the report's example changed, and ``check`` warns about it; a
    worker reporting another kombu_dash version makes ``check`` warn about the mix. The
    version is simulated: KD_FAKE_VERSION sets ``kombu_dash._version.__version__`` in that worker
    before ``configure(app)``, so its ``engine_info()`` reports it."""
    fleet = fleets["redis"]
    extra = {
        "by_hand": fleet.worker("by_hand", "by_hand", KD_HOST, tmp_path),
        "older": fleet.worker("older", "configured", KD_HOST, tmp_path, fake_version="0.0.1"),
    }
    try:
        for w in extra.values():
            w.start()
        for w in extra.values():
            w.wait_ready(WAIT)
        client = fleet.client("configured")
        got = client.send_task("kd.fleet.example", queue=extra["by_hand"].queue).get(timeout=WAIT)
        assert got == [{"tag": "a"}, [1, 2]]  # json's loss, which check warns about
        assert client.send_task("kd.fleet.example", queue=extra["older"].queue).get(
            timeout=WAIT
        ) == (EXAMPLE[0], (1, 2))

        rc, out = finished(run_check(fleet, extra["by_hand"].queue))
        assert rc == 0, out
        lines = fleet_lines(fleet, out)
        assert lines["by_hand"].endswith(
            "accepts kombu_dash, reports no engine (its settings alone, or a kombu_dash "
            "older than check's; result_serializer='json')"
        ), out
        assert "0.0.1 (C engine" in lines["older"] or "0.0.1 (Python engine" in lines["older"]
        version = kombu_dash.__version__
        configured = sorted(fleet.workers[k].name for k in ACCEPTING)
        assert (
            "warning: the fleet mixes kombu_dash versions: "
            f"0.0.1 on {extra['older'].name}; {version} on {', '.join(configured)}"
        ) in out, out
        assert (
            f"warning: {extra['by_hand'].name} returns kombu_dash tasks' results as 'json': "
            "a returned tuple comes back a list"
        ) in out, out
    finally:
        for name, w in extra.items():
            w.stop()
            del fleet.workers[name]


# -- rolling upgrades -------------------------------------------------------------------------


@contextlib.contextmanager
def upgrade_fleet(broker: str) -> Iterator[tuple[Fleet, str]]:
    """A fleet whose workers share one queue (and each has its own too)."""
    fleet = Fleet(broker)
    queue = f"kd-fleet-{fleet.token}-shared"
    try:
        yield fleet, queue
    finally:
        fleet.stop()
        delete_queue(broker, queue)


def traffic(fleet: Fleet, queue: str, modes: tuple[str, ...], n: int = 4) -> list[tuple]:
    """``n`` tasks from each client mode to ``queue`` (the shared one): whoever takes each."""
    sent = []
    for mode in modes:
        for _ in range(n):
            marker = f"m-{uuid.uuid4().hex[:12]}"
            if mode == "configured":
                value: Any = (marker, EXAMPLE[0])
                expected: Any = (value, "builtins.tuple")
            else:
                value, expected = [marker, JSON_VALUE], [[marker, JSON_VALUE], "builtins.list"]
            res = fleet.client(mode).send_task("kd.fleet.pair", args=(value,), queue=queue)
            sent.append((mode, res, expected, marker))
    return sent


def assert_intact(sent: list[tuple]) -> None:
    for _, res, expected, _ in sent:
        same(res.get(timeout=WAIT), expected)


def join(fleet: Fleet, name: str, kind: str, host: Host, logdir: Path, queue: str):
    """A worker of ``kind`` on the shared ``queue`` and on its own (``QUEUE-NAME``)."""
    return fleet.worker(name, kind, host, logdir, queues=f"{queue},{queue}-{name}").start()


def test_rolling_upgrade_in_the_documented_order(tmp_path):
    """docs/operations.rst on Redis: 1. ``configure(app, accept_only=True)`` on workers and
    producers; 2. ``configure(app)`` everywhere, in any order. Tasks flow at every step and
    each comes back as its client sent it, whichever worker took it."""
    with upgrade_fleet("redis") as (fleet, queue):
        old = join(fleet, "old", "plain", KD_HOST, tmp_path, queue).wait_ready(WAIT)
        assert_intact(traffic(fleet, queue, ("plain",)))

        # 1. the worker replaced by an accept-only one (no gap), producers still on json;
        # then producers accept-only too
        join(fleet, "accepting", "accept_only", KD_HOST, tmp_path, queue).wait_ready(WAIT)
        old.stop()
        assert_intact(traffic(fleet, queue, ("plain", "accept_only")))
        rc, out = finished(run_check(fleet, queue, mode="accept_only"))
        assert rc == 0 and "came back intact" in out, out

        # 2. configure, in any order: here a producer first...
        assert_intact(traffic(fleet, queue, ("configured", "accept_only")))
        # ...then the worker, the new one up before the old one stops: while both run, a
        # kombu_dash task on the accept-only worker comes back whole, a json one on the
        # configured worker comes back as json (each worker also served on its own queue)
        join(fleet, "configured", "configured", KD_HOST, tmp_path, queue).wait_ready(WAIT)
        both = traffic(fleet, queue, ("configured", "accept_only"))
        for name in ("accepting", "configured"):
            both += traffic(fleet, f"{queue}-{name}", ("configured", "accept_only"), n=1)
        assert_intact(both)
        fleet.workers["accepting"].stop()
        assert_intact(traffic(fleet, queue, ("configured", "accept_only", "plain")))
        rc, out = finished(run_check(fleet, queue))
        assert rc == 0 and "came back intact" in out, out
        fleet.assert_up()


def test_rolling_upgrade_in_the_wrong_order(tmp_path, no_kd_host):
    """On RabbitMQ: a worker configured first while producers still send json (their
    results stay json), an old worker (host without kombu_dash) restarted next to it (it
    starts), then a producer switched while that old worker runs: what the old worker takes
    is refused loudly and stays PENDING, and ``check`` names it."""
    with upgrade_fleet("amqp") as (fleet, queue):
        old = join(fleet, "old", "plain", KD_HOST, tmp_path, queue).wait_ready(WAIT)
        join(fleet, "configured", "configured", KD_HOST, tmp_path, queue).wait_ready(WAIT)
        old.stop()
        json_only = traffic(fleet, queue, ("plain",))
        json_only += traffic(fleet, f"{queue}-configured", ("plain",), n=2)
        assert_intact(json_only)

        # the old worker restarted (a deploy, a crash) next to the configured one
        old = join(fleet, "old_again", "plain", no_kd_host, tmp_path, queue).wait_ready(WAIT)

        # a producer switched while it runs: each task runs intact or is refused by it
        sent = traffic(fleet, queue, ("configured",), n=6)
        direct = traffic(fleet, f"{queue}-old_again", ("configured",), n=1)

        def settled() -> bool:
            ran = sum(1 for r in sent if r[1].ready())
            return ran + len(refusals(old)) >= len(sent) + len(direct)

        wait_for(settled, WAIT, 0.3, f"every task run or refused\n{old.text()[-3000:]}")
        for _, res, expected, marker in sent:
            if res.ready():
                same(res.get(timeout=WAIT), expected)
            else:  # refused, by name (its body is in the ERROR report), and still PENDING
                assert marker in old.text() and res.state == "PENDING"
        wait_refused(old, [m for *_, m in direct])
        assert direct[0][1].state == "PENDING"
        assert len(refusals(old)) == sum(1 for r in sent if not r[1].ready()) + len(direct)

        rc, out = finished(run_check(fleet, queue))
        assert rc == 5 and f"worker {old.name}: does NOT accept" in out, out

        # the upgrade finished: from now on every task comes back whole
        old.stop()
        assert_intact(traffic(fleet, queue, ("configured", "plain")))
        fleet.assert_up()
