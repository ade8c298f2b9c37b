"""A census of what Celery hands to the kombu_dash serializer (issue 10's audit).

Runs a real prefork worker (tests.celery_apps.census_app, events on, event_serializer
kombu_dash) and a producer, both with the serializer wrapped so that every value it is given
is walked first: each type that is not plain JSON (dict, list, str, int, float, bool, None)
is recorded with the channel (task, result, control, event) and the path where it sat. Then
it sends every canvas shape, stores group results, fails tasks, and calls every inspect and
control command while tasks are active, reserved and scheduled. Prints the census as a
table; errors the serializer raised are listed too.

    REDIS_URL=redis://localhost:6379/3 python -m tests.celery_census [--json] [census.json]

``--json``: the same scenarios with Celery's json everywhere, for comparison.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_PLAIN = (str, int, float, bool, type(None), list, dict)
_CHANNELS = (  # innermost frame first: the first file that matches names the channel
    ("celery/events/", "event"),
    ("celery/backends/", "result"),
    ("celery/app/amqp.py", "task"),
    ("celery/app/control.py", "control"),
    ("celery/worker/control.py", "control"),
    ("celery/worker/pidbox.py", "control"),
    ("kombu/pidbox.py", "control"),
)


def _channel() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        for part, channel in _CHANNELS:
            if part in name:
                if channel == "control" and "reply" in frame.f_code.co_name:
                    return "control reply"
                return channel
        frame = frame.f_back
    return "?"


def walk(value: Any, path: str, seen: dict, depth: int = 0) -> None:
    """Record ``type -> first path`` for every value that is not exactly a JSON type."""
    t = type(value)
    if t not in _PLAIN:
        seen.setdefault(f"{t.__module__}.{t.__qualname__}", path)
    if depth > 60:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if type(k) is not str:
                seen.setdefault(f"key {type(k).__module__}.{type(k).__qualname__}", path)
            walk(v, f"{path}[{k!r}]" if len(repr(k)) < 40 else f"{path}[...]", seen, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)) or (
        hasattr(value, "__iter__")
        and type(value).__module__.startswith(("celery", "collections"))
        and not isinstance(value, (str, bytes))
    ):
        for i, v in enumerate(value):
            walk(v, f"{path}[{i}]", seen, depth + 1)


def _generic(path: str) -> str:
    # [3] -> [i] and task ids -> [id]: one row per place, not per index
    path = re.sub(r"\[\d+\]", "[i]", path)
    return re.sub(r"\['[0-9a-f-]{36}'\]", "[id]", path)


def install(out: str) -> None:
    """Wrap the registered kombu_dash encoder: census lines go to ``out`` (appended)."""
    from kombu.serialization import register, registry

    import kombu_dash
    from kombu_dash import serializer

    kombu_dash.register()
    encode = serializer.encode

    def census_encode(obj):
        seen: dict = {}
        walk(obj, "value", seen)
        channel = _channel()
        error = None
        try:
            return encode(obj)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if True:  # every message: the channels seen count too
                line = json.dumps(
                    {
                        "pid": os.getpid(),
                        "channel": channel,
                        "error": error,
                        "types": {k: _generic(v) for k, v in seen.items()},
                    }
                )
                with open(out, "a") as fh:
                    fh.write(line + "\n")

    register(
        serializer.SERIALIZER,
        census_encode,
        serializer.decode,
        content_type=serializer.CONTENT_TYPE,
        content_encoding=serializer.CONTENT_ENCODING,
    )
    assert registry._encoders[serializer.SERIALIZER].encoder is census_encode


def _scenarios(app, node: str, log) -> None:
    from celery import chain, chord, group

    t = app.tasks
    add, identity, collect, sleep = t["kd.add"], t["kd.identity"], t["kd.collect"], t["kd.sleep"]
    timeout = 30

    def run(name, fn):
        try:
            out = fn()
            log(name, "ok", out)
        except Exception as exc:
            log(name, "error", f"{type(exc).__name__}: {exc}")

    # -- canvas shapes ----------------------------------------------------------------
    run("chain", lambda: (add.s(2, 2) | add.s(4)).delay().get(timeout=timeout))
    run(
        "group from a list",
        lambda: group([add.s(i, i) for i in range(3)]).delay().get(timeout=timeout),
    )
    run(
        "group from a generator",
        lambda: group(add.s(i, i) for i in range(3)).delay().get(timeout=timeout),
    )
    run(
        "issue 10 repro: chain | group(generator)",
        lambda: (
            (add.s(2, 2) | add.s(4) | group(add.s(i) for i in range(4)))
            .delay()
            .get(timeout=timeout)
        ),
    )
    run(
        "chord, generator header",
        lambda: chord(add.s(i, i) for i in range(3))(collect.s()).get(timeout=timeout),
    )
    run(
        "chord in a chain",
        lambda: (
            chain(add.s(1, 1), chord([add.s(i) for i in range(3)], collect.s()))
            .delay()
            .get(timeout=timeout)
        ),
    )
    run(
        "group of chains",
        lambda: group(chain(add.s(i, i), add.s(1)) for i in range(3)).delay().get(timeout=timeout),
    )
    run(
        "chain, group, chain (group_chord_group_chain)",
        lambda: (
            chain(
                add.si(1, 1),
                group(add.si(2, 2), add.si(3, 3)),
                collect.s(),
                group(add.si(4, 4), add.si(5, 5)),
            )
            .delay()
            .get(timeout=timeout)
        ),
    )
    run(
        "nested chord",
        lambda: (
            chord([chord([add.s(1, 1)], collect.s()), add.s(2, 2)], collect.s())
            .delay()
            .get(timeout=timeout)
        ),
    )
    run("xmap", lambda: identity.map([1, (2,), {3}]).delay().get(timeout=timeout))
    run("xstarmap", lambda: add.starmap([(1, 2), (3, 4)]).delay().get(timeout=timeout))
    run("chunks", lambda: add.chunks(zip(range(4), range(4)), 2).delay().get(timeout=timeout))
    run(
        "chunks as group",
        lambda: add.chunks(zip(range(4), range(4)), 2).group().delay().get(timeout=timeout),
    )
    run(
        "link and link_error",
        lambda: add.apply_async((1, 1), link=identity.s(), link_error=identity.si("err")).get(
            timeout=timeout
        ),
    )
    run(
        "chain | chunks(zip)",
        lambda: (
            (add.si(0, 0) | add.chunks(zip(range(4), range(4)), 2)).delay().get(timeout=timeout)
        ),
    )
    run(
        "chain | map(generator)",
        lambda: (add.si(0, 0) | identity.map(i for i in range(3))).delay().get(timeout=timeout),
    )
    run(
        "chain | starmap(generator)",
        lambda: (add.si(0, 0) | add.starmap((i, i) for i in range(3))).delay().get(timeout=timeout),
    )
    run(
        "chain | chord(generator header)",
        lambda: (
            (add.si(0, 0) | chord((add.si(i, i) for i in range(3)), collect.s()))
            .delay()
            .get(timeout=timeout)
        ),
    )
    run(
        "link=group(generator)",
        lambda: add.apply_async((1, 1), link=group(identity.s() for _ in range(2))).get(
            timeout=timeout
        ),
    )
    run(
        "group(generator) of groups(generator)",
        lambda: (
            group(group(add.si(i, j) for j in range(2)) for i in range(2))
            .delay()
            .get(timeout=timeout)
        ),
    )
    run(
        "immutable + options",
        lambda: add.si(1, 2).set(countdown=0.1, priority=3).delay().get(timeout=timeout),
    )

    def saved_group():
        res = group(add.s(i, i) for i in range(2)).delay()
        res.get(timeout=timeout)
        res.save()
        back = app.GroupResult.restore(res.id)
        return [type(res.as_tuple()).__name__, back.id == res.id, [r.id for r in back.results]]

    run("GroupResult.save/restore", saved_group)
    run(
        "failure result",
        lambda: t["kd.fail"].delay("custom", {"s": {1, 2}}).get(timeout=timeout, propagate=False),
    )

    # -- control and inspect while the worker is busy ---------------------------------
    busy = [sleep.delay(60, {"n": i}) for i in range(2)]  # terminated below  # both pool processes
    queued = [t["kd.echo"].delay((i,)) for i in range(2)]  # reserved (prefetched) behind them
    later = t["kd.echo"].apply_async(((9,),), countdown=30)  # scheduled (eta)
    gone = t["kd.echo"].apply_async(((8,),), countdown=30)
    # both running (task_track_started) before the questions: "revoke terminate" below then
    # always meets running tasks (its task-revoked event carries the signal number)
    end = time.monotonic() + 120
    while not all(b.state == "STARTED" for b in busy):
        if time.monotonic() > end:
            raise AssertionError(f"the busy tasks never started: {[b.state for b in busy]}")
        time.sleep(0.2)
    app.control.revoke(gone.id, destination=[node])
    i = app.control.inspect(destination=[node], timeout=5)
    for name in (
        "ping",
        "stats",
        "registered",
        "active",
        "scheduled",
        "reserved",
        "revoked",
        "conf",
        "active_queues",
        "report",
        "clock",
        "memsample",
    ):
        run(f"inspect {name}", getattr(i, name))
    run("inspect registered with info", lambda: i.registered("rate_limit", "time_limit"))
    run("inspect active safe", lambda: i.active(safe=True))
    run("inspect conf with_defaults", lambda: i.conf(with_defaults=True))
    run("inspect query_task", lambda: i.query_task(*[r.id for r in busy + queued + [later]]))
    run("inspect revoked_headers", lambda: i._request("revoked_headers"))
    run("hello (mingle)", lambda: i.hello("other@host", revoked=[later.id]))
    c = app.control
    run(
        "control rate_limit",
        lambda: c.rate_limit("kd.add", "100/m", destination=[node], reply=True),
    )
    run(
        "control time_limit",
        lambda: c.time_limit("kd.add", soft=50, hard=60, destination=[node], reply=True),
    )
    run("control enable_events", lambda: c.enable_events(destination=[node], reply=True))
    run(
        "control add_consumer",
        lambda: c.add_consumer("kd-census-extra", destination=[node], reply=True),
    )
    run(
        "control cancel_consumer",
        lambda: c.cancel_consumer("kd-census-extra", destination=[node], reply=True),
    )
    run("control pool_grow", lambda: c.pool_grow(1, destination=[node], reply=True))
    run("control pool_shrink", lambda: c.pool_shrink(1, destination=[node], reply=True))
    run("control autoscale", lambda: c.autoscale(3, 1, destination=[node], reply=True))
    run(
        "control revoke_by_stamped_headers",
        lambda: c.revoke_by_stamped_headers({"stamp": "x"}, destination=[node], reply=True),
    )
    run("control heartbeat", lambda: c.heartbeat(destination=[node]))
    # (not "election": a made-up election kills a 5.7 worker with gossip on, IndexError)
    run(
        "control revoke terminate",
        lambda: c.revoke(
            [b.id for b in busy], terminate=True, destination=[node], reply=True, timeout=10
        ),
    )
    for r in busy[1:] + queued:
        # (on Celery 5.3 the queued ones may never run after this sequence, with json too)
        run("drain", lambda r=r: r.get(timeout=10, propagate=False))


def main(argv: list[str]) -> int:
    from celery import Celery

    import kombu_dash

    from ._celery_support import app_conf, celery_worker, events_received, unique
    from .celery_apps.tasks import define_tasks
    from .harness import patch_celery_result_consumer

    patch_celery_result_consumer()  # as under pytest: Celery 5.3's result consumer can hang
    # ...and still can when the collector runs AsyncResult.__del__ inside a SUBSCRIBE
    # (celery#10477; seen here on 5.3.6 in the nested-group scenario): no cyclic GC in this
    # short-lived script
    import gc

    gc.disable()

    import faulthandler

    faulthandler.dump_traceback_later(300, exit=True)  # a hang shows where, then exits
    as_json = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    out = Path(argv[1]) if len(argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        census = os.path.join(tmp, "census.jsonl")
        queue = unique("census")
        worker = celery_worker(
            "tests.celery_apps.census_app",
            "redis",
            queue,
            Path(tmp),
            pool="prefork",
            concurrency=2,
            extra_args=("-E",),
            env={"KD_CENSUS": census, **({"KD_CENSUS_JSON": "1"} if as_json else {})},
            ready_timeout=60,
        )
        # mingle, gossip and heartbeats on: their messages are in the census too
        worker.argv = [
            a
            for a in worker.argv
            if a not in ("--without-gossip", "--without-mingle", "--without-heartbeat")
        ]
        app = Celery("kd_census_producer", set_as_current=False)
        app.conf.update(app_conf("redis", queue))
        app.conf.update(result_extended=True, task_send_sent_event=True)
        if not as_json:
            app.conf.event_serializer = "kombu_dash"
            kombu_dash.configure(app)
        define_tasks(app)
        install(census)
        Path(census).touch()
        outcomes: list = []

        def log(name, status, value):
            outcomes.append({"scenario": name, "status": status, "value": repr(value)[:300]})

        # what a monitor (Flower) decodes: the event types and their non-JSON values
        with events_received(app) as events, worker:
            node = worker.hostname.replace("%h", socket.gethostname())
            _scenarios(app, node, log)
            time.sleep(1)
            worker_log = worker.text()
        lines = [json.loads(x) for x in Path(census).read_text().splitlines()]
    rows: dict = {}
    for line in lines:
        for cls, path in line["types"].items():
            rows.setdefault((cls, line["channel"]), set()).add(path)
    errors = sorted({(x["channel"], x["error"]) for x in lines if x["error"]})
    import celery
    import kombu

    print(
        f"celery {celery.__version__}, kombu {kombu.__version__}, python {sys.version.split()[0]}"
    )
    print("\nscenarios:")
    for o in outcomes:
        print(f"  {o['status']:5} {o['scenario']}: {o['value'][:160]}")
    print("\ntypes the serializer was given (class, channel: paths):")
    for (cls, channel), paths in sorted(rows.items()):
        shown = sorted(paths, key=len)[:4]
        print(f"  {cls:50} {channel:14} {', '.join(shown)}")
    channels: dict = {}
    for line in lines:
        channels[line["channel"]] = channels.get(line["channel"], 0) + 1
    print("\nmessages encoded per channel:", channels)
    received: dict = {}
    for ev in events:
        seen: dict = {}
        walk(ev, "event", seen)
        for cls, path in seen.items():
            received.setdefault((ev.get("type"), cls), _generic(path))
    print("events received:", len(events), sorted({e.get("type") for e in events}))
    for (etype, cls), path in sorted(received.items()):
        print(f"  decoded {etype:20} {cls:40} {path}")
    print("\nserializer errors:")
    for channel, error in errors:
        print(f"  {channel}: {error[:300]}")
    for x in worker_log.splitlines():
        if "ERROR/" in x or "CRITICAL/" in x or "WARNING/" in x:
            print("  worker:", x[:300])
    bad = [x for x in worker_log.splitlines() if "EncodeError" in x or "DecodeError" in x]
    print("\nworker log lines with Encode/DecodeError:", len(bad))
    for x in bad[:20]:
        print("  ", x[:300])
    if out:
        out.write_text(
            json.dumps(
                {
                    "outcomes": outcomes,
                    "errors": errors,
                    "types": [
                        {"class": c, "channel": ch, "paths": sorted(p)}
                        for (c, ch), p in sorted(rows.items())
                    ],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
