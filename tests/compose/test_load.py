"""1,000 Celery tasks through the stack's Redis, spread over the three worker containers:
werkzeug and starlette multi-dicts and headers, tuples, aware datetimes, Decimals and
100 KB tables (tests/test_load.py's payloads). Every result is the value sent, of the same
types; each worker container ran some (the counts are printed)."""

from __future__ import annotations

import collections
import time

import pytest

from tests.compose.conftest import figure
from tests.test_faults import collect
from tests.test_load import payload, same

pytestmark = pytest.mark.timeout(600)

N = 1000


def test_1000_tasks_over_three_worker_containers(stack_app, workers, docker):
    sent = [payload(i) for i in range(N)]
    t0 = time.monotonic()
    # a few ms per task, so the three containers share the run instead of one racing ahead
    ids = [stack_app.send_task("kd.stack.echo", args=(value, 0.01)).id for value in sent]
    t_sent = time.monotonic() - t0
    metas = collect(stack_app, ids, timeout=300)
    elapsed = time.monotonic() - t0

    assert len(metas) == N, f"{N - len(metas)} of {N} tasks have no result"
    failed = [m for m in metas.values() if m["status"] != "SUCCESS"]
    assert not failed, failed[:3]
    hosts = [metas[t]["result"][0] for t in ids]
    wrong = [i for i, t in enumerate(ids) if not same(metas[t]["result"][1], sent[i])]
    assert not wrong, (
        f"{len(wrong)} results differ; first: sent {sent[wrong[0]]!r:.300}, "
        f"got {metas[ids[wrong[0]]]['result'][1]!r:.300}"
    )
    counts = collections.Counter(hosts)
    names = {host: c["Names"][0].lstrip("/") for host, c in workers.items()}
    figure(
        "compose-load",
        tasks=N,
        seconds=round(elapsed, 1),
        send_seconds=round(t_sent, 1),
        tables_100kb=sum(1 for i in range(N) if i % 20 == 7),
        per_worker={names.get(h, h): n for h, n in sorted(counts.items())},
    )
    assert set(counts) == set(workers), f"tasks per worker container: {dict(counts)}"
    logs = "".join(docker.logs(c["Id"]) for c in workers.values())
    assert "DecodeError" not in logs and "Can't decode message body" not in logs
