"""Flower (PyPI ``flower``) monitoring a kombu_dash fleet: a real ``celery flower`` process
and a real prefork worker, both on tests.celery_apps.configured_app (``kombu_dash.configure``),
checked over HTTP the way a user looks at them.

Flower builds its worker pages from the control mailbox (``inspect stats``, ``registered``,
``active``, ...): a configured worker answers a Flower on a configured app in kombu_dash, and
one whose app accepts only json (``celery --broker=URL flower`` without ``-A``) in json, so
both list it (the last test). Its task pages come from worker events (``-E``; events stay
json).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import random
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import werkzeug.datastructures as wd
from celery.utils.saferepr import saferepr

from ._celery_support import celery_worker, make_app, unique
from .harness import CeleryWorker, Proc, free_port, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(240)]

APP = "tests.celery_apps.configured_app"
TIMEOUT = 30


def flower_port() -> int:
    """A free port; within KD_TEST_PORTS ("44000-44999") when set, for machines that share
    port ranges between test runs."""
    spec = os.environ.get("KD_TEST_PORTS")
    if not spec:
        return free_port()
    low, high = (int(part) for part in spec.split("-"))
    for port in random.sample(range(low, high + 1), high + 1 - low):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in KD_TEST_PORTS={spec}")


class Flower(Proc):
    """``celery -A APP flower`` on a free port, persistence off; ready on ``with``."""

    def __init__(
        self,
        logdir: Path,
        env: Mapping[str, str],
        *,
        app: str = APP,
        inspect_timeout_ms: int = 3000,
    ) -> None:
        self.port = flower_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "flower",
            f"--port={self.port}",
            "--address=127.0.0.1",
            "--persistent=False",
            # Flower waits this long for replies (default 1 s): generous for a
            # busy CI machine
            f"--inspect_timeout={inspect_timeout_ms}",
        ]
        # Flower 2 answers its REST API without authentication only when told to;
        # cwd: a fresh directory, so no flowerconfig.py is picked up
        super().__init__(
            argv,
            logdir / f"flower-{self.port}.log",
            env={**env, "FLOWER_UNAUTHENTICATED_API": "true"},
            cwd=logdir,
            start=False,
        )

    def __enter__(self) -> Flower:
        self.start()

        def up() -> bool:
            assert self.exited() is None, f"flower exited:\n{self.text()}"
            try:
                return self.get("/healthcheck") == "OK"
            except OSError:
                return False

        try:
            wait_for(up, TIMEOUT, 0.2, "flower to answer /healthcheck")
        except BaseException:
            self.stop()
            raise
        return self

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=TIMEOUT) as response:
            text: str = response.read().decode()
            return text

    def api(self, path: str) -> Any:
        return json.loads(self.get(path))


@pytest.fixture(scope="module")
def flower_fleet(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, CeleryWorker, Path]]:
    """A prefork worker sending task events, and a producer app, on one private queue."""
    logdir = tmp_path_factory.mktemp("flower")
    queue = unique("flower")
    worker = celery_worker(
        APP,
        "redis",
        queue,
        logdir,
        pool="prefork",
        concurrency=1,
        extra_args=("-E", "--prefetch-multiplier", "1"),
    )
    app = make_app("kd_flower_producer", "redis", queue)
    with worker:
        yield app, worker, logdir
    app.close()


@pytest.fixture(scope="module")
def flower(flower_fleet: tuple[Any, CeleryWorker, Path]) -> Iterator[Flower]:
    _, worker, logdir = flower_fleet
    assert worker.env is not None
    with Flower(logdir, worker.env) as running:
        yield running


def worker_name(flower: Flower) -> str:
    """The one worker Flower's inspect finds on this run's private control exchange."""
    names = wait_for(
        lambda: list(flower.api("/api/workers?refresh=1")),
        TIMEOUT,
        0.5,
        f"a worker in Flower's /api/workers\n{flower.text()[-3000:]}",
    )
    assert len(names) == 1, names
    return str(names[0])


def task_info(flower: Flower, task_id: str, state: str) -> dict[str, Any]:
    def seen() -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = flower.api(f"/api/task/info/{task_id}")
        except urllib.error.HTTPError as exc:  # 404 until Flower has the task's events
            if exc.code == 404:
                return None
            raise
        return info if info.get("state") == state else None

    found: dict[str, Any] = wait_for(seen, TIMEOUT, 0.3, f"task {task_id} {state} in Flower")
    return found


def test_finished_task_shows_its_args_and_result(flower_fleet: Any, flower: Flower) -> None:
    app, _, _ = flower_fleet
    multi = wd.MultiDict([("tag", "a"), ("tag", "b")])
    res = app.send_task("kd.echo", args=(multi,))
    out = res.get(timeout=TIMEOUT)
    assert type(out[1]) is wd.MultiDict and out[1].getlist("tag") == ["a", "b"]
    kept = app.send_task("kd.identity", args=(("kept", "a tuple"),))
    assert kept.get(timeout=TIMEOUT) == ("kept", "a tuple")

    # Flower shows Celery's saferepr: of the args as the producer sent them, and of the
    # result as the worker returned it. saferepr prints any dict subclass as a dict, so a
    # MultiDict reads {'tag': 'a'} there; the worker's type name and a tuple show what the
    # worker really had (json would have given it a dict and a list).
    info = task_info(flower, res.id, "SUCCESS")
    assert info["name"] == "kd.echo"
    assert info["args"] == saferepr((multi,))
    result_repr = saferepr(["werkzeug.datastructures.structures.MultiDict", multi])
    assert info["result"] == result_repr
    assert task_info(flower, kept.id, "SUCCESS")["result"] == "('kept', 'a tuple')"
    listed = flower.api("/api/tasks?taskname=kd.echo&state=SUCCESS&limit=1000")
    assert listed[res.id]["result"] == result_repr

    # the result backend holds kombu_dash: Flower reads it through its app's accept list,
    # and shows the repr of what JSON cannot hold (on json the worker would send a string)
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)
    stored_id = app.send_task("kd.identity", args=(when,)).id
    stored = flower.api(f"/api/task/result/{stored_id}?timeout={TIMEOUT}")
    assert stored["state"] == "SUCCESS"
    assert stored["result"] == repr(when)

    page = html.unescape(flower.get(f"/task/{res.id}"))
    assert "SUCCESS" in page
    assert saferepr((multi,)) in page and result_repr in page


def test_worker_shows_stats_registered_and_active_tasks(flower_fleet: Any, flower: Flower) -> None:
    app, worker, _ = flower_fleet
    app.send_task("kd.add", args=(1, 2)).get(timeout=TIMEOUT)
    name = worker_name(flower)
    running = app.send_task("kd.sleep", args=(60,), kwargs={"payload": ("kept", "a tuple")})
    try:

        def active() -> dict[str, Any] | None:
            info: dict[str, Any] = flower.api(f"/api/workers?workername={name}&refresh=1")[name]
            ids = [task["id"] for task in info.get("active") or ()]
            return info if running.id in ids and "stats" in info else None

        info = wait_for(active, TIMEOUT, 0.5, f"kd.sleep active in Flower\n{flower.text()[-3000:]}")

        # inspect stats: the worker's own figures, Counter of tasks run included
        stats = info["stats"]
        assert stats["pid"] == worker.pid
        assert stats["pool"]["max-concurrency"] == 1
        assert stats["total"]["kd.add"] >= 1
        assert stats["broker"]["transport"] == "redis"
        assert {"kd.echo", "kd.sleep", "kd.add"} <= set(info["registered"])
        (task,) = [t for t in info["active"] if t["id"] == running.id]
        assert task["name"] == "kd.sleep"
        # Flower asks for active(safe=True): the producer's saferepr of the arguments
        assert task["kwargs"] == saferepr({"payload": ("kept", "a tuple")})
        assert info["conf"]["task_serializer"] == "kombu_dash"
        assert any(q["name"] == worker.queue for q in info["active_queues"])

        page = html.unescape(flower.get(f"/worker/{name}"))
        for shown in ("kd.echo", "kd.sleep", running.id, str(worker.pid)):
            assert shown in page, f"{shown!r} not on Flower's worker page"
    finally:
        app.control.revoke(running.id, terminate=True)


def test_flower_whose_app_accepts_only_json_sees_the_worker_too(
    flower_fleet: Any, flower: Flower
) -> None:
    """Flower on an app that accepts only json (what ``celery --broker=URL flower`` without
    ``-A`` gets): the configured worker answers it in json, so it is listed with its stats."""
    _, worker, logdir = flower_fleet
    name = worker_name(flower)
    with Flower(logdir, worker.env, app="tests.celery_apps.json_only_app") as json_only:
        workers = wait_for(
            lambda: json_only.api("/api/workers?refresh=1"),
            TIMEOUT,
            0.5,
            f"a worker in the json-only Flower\n{json_only.text()[-3000:]}",
        )
        assert list(workers) == [name]
        assert workers[name]["stats"]["pid"] == worker.pid
        assert workers[name]["conf"]["task_serializer"] == "kombu_dash"
        assert "Refusing to deserialize" not in json_only.text()
