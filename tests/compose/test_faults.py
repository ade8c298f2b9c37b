"""Faults against the containers, driven through the engine's API from this tests container
(it decides the moment: mid-run, once a share of the tasks is done).

* ``docker kill`` one worker container mid-run: kd.stack.echo is acks_late with
  reject_on_worker_lost, so the messages it held come back after the Redis transport's
  visibility timeout and the other two finish every task (docs/operations.rst: on Redis at
  most the one message a SIGKILL catches between BRPOP and its unacked record is lost).
* The Redis container stopped and started again mid-run: a producer gets an error after a
  few connection attempts instead of hanging, the workers reconnect, tasks sent after the restart all
  complete. This Redis persists nothing (docker-compose.yml), so what was queued when it
  stopped is gone (docs/operations.rst: queued tasks survive only if Redis persists them).
"""

from __future__ import annotations

import collections
import time

import pytest
from kombu.exceptions import OperationalError

from tests.compose.conftest import figure, worker_hosts
from tests.compose.stack import VISIBILITY
from tests.test_faults import MAX_ATTEMPTS, collect, connection_attempts

pytestmark = pytest.mark.timeout(600)


def done_count(app, ids: list[str]) -> int:
    client, backend = app.backend.client, app.backend
    return sum(1 for raw in client.mget([backend.get_key_for_task(t) for t in ids]) if raw)


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def test_docker_kill_one_worker_mid_run(stack_app, workers, docker):
    n = 400
    ids = [stack_app.send_task("kd.stack.echo", args=(i, 0.05)).id for i in range(n)]
    wait_for(lambda: done_count(stack_app, ids) >= n // 4, 120, "a quarter of the tasks")
    victim, container = sorted(workers.items())[0]
    policy = docker.inspect(container["Id"])["HostConfig"]["RestartPolicy"]["Name"]
    docker.restart_policy(container["Id"], "no")  # it stays dead until this test starts it
    docker.kill(container["Id"])
    t_kill = time.monotonic()
    try:
        done_at_kill = done_count(stack_app, ids)
        metas = collect(stack_app, ids, timeout=VISIBILITY + 150)
        recovered = time.monotonic() - t_kill
        results = {t: m["result"] for t, m in metas.items() if m["status"] == "SUCCESS"}
        lost = [i for i, t in enumerate(ids) if t not in results]
        counts = collections.Counter(host for host, _ in results.values())
        figure(
            "compose-docker-kill",
            tasks=n,
            killed=container["Names"][0].lstrip("/"),
            done_when_killed=done_at_kill,
            lost=lost,
            seconds_kill_to_all_results=round(recovered, 1),
            per_worker=dict(counts),
        )
        assert len(lost) <= 1, f"tasks without a result: {lost[:20]}"
        assert all(results[ids[i]][1] == i for i in range(n) if i not in lost)
        # the survivors finished the run: results written after the kill came from them
        assert set(counts) - {victim}, counts
        assert victim not in worker_hosts(stack_app)
    finally:
        docker.restart_policy(container["Id"], policy)
        docker.start(container["Id"])  # the stack has three workers again
        wait_for(lambda: victim in worker_hosts(stack_app), 120, "the restarted worker")


def test_redis_container_restarted_mid_run(stack_app, workers, docker, project):
    (redis_container,) = docker.containers(project, "redis")
    half = 200
    before = [stack_app.send_task("kd.stack.echo", args=(i, 0.05)).id for i in range(half)]
    wait_for(
        lambda: done_count(stack_app, before) >= half // 4, 120, "some tasks done before the outage"
    )

    docker.stop(redis_container["Id"], seconds=0)  # mid-run: tasks queued, running, being stored
    try:
        # the retry policy bounds the producer's attempts (counted, not timed)
        with connection_attempts() as attempts, pytest.raises(OperationalError):
            stack_app.send_task("kd.stack.echo", args=(-1,))
    finally:
        docker.start(redis_container["Id"])
    docker.wait_healthy(redis_container["Id"])
    assert len(attempts) <= MAX_ATTEMPTS, attempts

    # every worker container reconnects by itself, or exits and is started again by its
    # restart policy (docker-compose.yml: a Celery/kombu crash on reconnect, counted here)
    wait_for(lambda: set(workers) <= worker_hosts(stack_app), 120, "all workers answering again")
    restarts = {host: docker.inspect(c["Id"])["RestartCount"] for host, c in workers.items()}
    after = [stack_app.send_task("kd.stack.echo", args=(i, 0.01)).id for i in range(half, 2 * half)]
    metas = collect(stack_app, after, timeout=300)
    assert len(metas) == len(after), (
        f"{len(after) - len(metas)} tasks sent after the restart never finished"
    )
    assert [metas[t]["result"][1] for t in after] == list(range(half, 2 * half))
    # Before the outage: nothing persisted, so the queue and finished results went with
    # Redis; a task that ran on has its result only if it was stored after the restart.
    metas_before = collect(stack_app, before, timeout=15)
    assert all(
        m["result"][1] == before.index(t)
        for t, m in metas_before.items()
        if m["status"] == "SUCCESS"
    )
    figure(
        "compose-redis-restart",
        producer_error="OperationalError",
        producer_connection_attempts=len(attempts),
        after_restart=len(after),
        results_after=len(metas),
        before_outage=half,
        results_before_surviving=len(metas_before),
        worker_restarts=restarts,
    )
