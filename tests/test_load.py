"""Load: many tasks with mixed payloads through Redis and a real worker; every result is
the value sent, of the same types, nothing lost, no decode error in the worker's log.

CI sends KD_LOAD_TASKS tasks (default 500); ``KD_FULL=1`` sends 10,000.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import time
import uuid
import zoneinfo

import pytest
from starlette.datastructures import Headers as StarletteHeaders
from starlette.datastructures import QueryParams
from werkzeug.datastructures import Headers as WerkzeugHeaders
from werkzeug.datastructures import MultiDict as WerkzeugMultiDict

import kombu_dash
from tests._celery_support import reliability_worker as Worker
from tests.celery_apps.reliability_app import make_app
from tests.harness import OwnRedis
from tests.harness import is_same as same
from tests.test_faults import collect, figure

pytestmark = [pytest.mark.broker, pytest.mark.slow]

FULL = os.environ.get("KD_FULL") == "1"
N = int(os.environ.get("KD_LOAD_TASKS", 10_000 if FULL else 500))
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

try:  # ~dash.AttributeDict decodes to Dash's own class where Dash is installed
    from dash._utils import AttributeDict
except ImportError:
    AttributeDict = kombu_dash.AttributeDict


def table(i: int) -> list:
    # ~100 KB of rows, as a Dash callback's table data would be
    return [
        {"row": r, "name": f"item-{i}-{r}", "price": r * 1.25, "tags": ["a", "b"], "ok": r % 2 == 0}
        for r in range(1300)
    ]


def payload(i: int):
    kind = i % 10
    if kind == 0:
        return {"args": WerkzeugMultiDict([("tag", "a"), ("tag", str(i)), ("q", "x")])}
    if kind == 1:
        return {
            "query": QueryParams(f"tag=a&tag={i}&empty="),
            "headers": StarletteHeaders(
                raw=[(b"set-cookie", b"a=1"), (b"set-cookie", f"b={i}".encode()), (b"x-id", b"7")]
            ),
        }
    if kind == 2:
        return (
            i,
            ("nested", (1, 2)),
            [3, (4,)],
            WerkzeugHeaders([("Authorization", "Bearer t"), ("X", str(i))]),
        )
    if kind == 3:
        return {
            "when": dt.datetime(2024, 10, 27, 2, 30, fold=i % 2, tzinfo=PARIS),
            "utc": dt.datetime(2024, 1, 1, 12, 0, i % 60, 123456, tzinfo=dt.timezone.utc),
            "day": dt.date(2024, 2, 29),
            "span": dt.timedelta(days=i, microseconds=7),
        }
    if kind == 4:
        return {frozenset({i, "x"}), (1, 2)}, {1: "int key", (2, 3): "tuple key"}
    if kind == 5:
        return {
            "money": decimal.Decimal(f"{i}.10"),
            "id": uuid.UUID(int=i),
            "blob": bytes(range(256)),
            "big": 2**80 + i,
            "inf": float("inf"),
        }
    if kind == 6:
        return AttributeDict(value=i, props=AttributeDict(id="x", n=[i]))
    if kind == 7 and i % 20 == 7:
        return {"table": table(i), "page": (0, 50)}
    if kind == 8:
        return {"~tuple": "plain dict that looks like a tag", "ok": [{"~set": [i]}]}
    return [
        {"k": i, "v": [None, True, 1.5, "é€😀"]},
        kombu_dash.MultiDict([("a", "1"), ("a", str(i))], last=True),
    ]


def test_same_is_strict():
    assert same(payload(0), payload(0)) and not same(payload(0), payload(10))
    assert not same((1, 2), [1, 2]) and not same({"a": (1,)}, {"a": [1]})
    assert not same(
        kombu_dash.MultiDict([("a", "1"), ("a", "2")]), kombu_dash.MultiDict([("a", "1")])
    )


def test_load_mixed_payloads_through_redis(tmp_path):
    server = OwnRedis(tmp_path, appendonly=False).start()
    queue = f"kd-load-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    app = make_app("kombu_dash", broker=server.url, backend=server.url, queue=queue)
    worker = Worker(
        f"load-{queue}",
        queue,
        tmp_path / "worker.log",
        concurrency=2,
        mode="kombu_dash",
        broker=server.url,
        backend=server.url,
    ).wait_ready()
    try:
        sent = [payload(i) for i in range(N)]
        t0 = time.monotonic()
        ids = [app.send_task("kd.reliability.echo", args=(value,)).id for value in sent]
        t_sent = time.monotonic() - t0
        metas = collect(app, ids, timeout=max(300, N / 5))
        elapsed = time.monotonic() - t0

        assert len(metas) == N, f"{N - len(metas)} of {N} tasks lost"
        failed = {t: m for t, m in metas.items() if m["status"] != "SUCCESS"}
        assert not failed, list(failed.values())[:3]
        wrong = [i for i, t in enumerate(ids) if not same(metas[t]["result"], sent[i])]
        assert not wrong, (
            f"{len(wrong)} results differ, first: sent {sent[wrong[0]]!r:.300} got {metas[ids[wrong[0]]]['result']!r:.300}"
        )
        log = worker.text()
        decode_errors = log.count("Can't decode message body") + log.count("DecodeError")
        assert decode_errors == 0
        body_bytes = sum(len(kombu_dash.dumpb(((v,), {}, {}))) for v in sent)
        figure(
            "load-redis",
            tasks=N,
            results=len(metas),
            equal=N - len(wrong),
            decode_errors=decode_errors,
            tables_100kb=sum(1 for i in range(N) if i % 20 == 7),
            body_megabytes=round(body_bytes / 1e6, 1),
            send_seconds=round(t_sent, 1),
            total_seconds=round(elapsed, 1),
            tasks_per_second=round(N / elapsed),
        )
    finally:
        worker.stop()
        server.stop()
