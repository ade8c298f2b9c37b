"""End to end: tasks per second through a real Celery worker on Redis, json vs kombu_dash.

    python -m benchmarks.e2e_celery [--tasks 5000] [--blocks 10]

Starts two workers (one per result serializer; each accepts json and kombu_dash) on
their own unique queues, then pushes N tasks per configuration and waits for every
result. Configurations, in alternating order per block (ABC, CBA, ...):

* ``json``: Dash's context as stock Celery can carry it (the plain twin);
* ``kombu_dash (plain)``: the same plain context through kombu_dash;
* ``kombu_dash (typed)``: the typed context (QueryParams, AttributeDicts), which json refuses.

Each task returns ``ctx["args"]`` so the result path is serialised too. Tasks per
second per phase (publish; worker: consume to last stored result), summed over blocks; read the ratios.
Broker: REDIS_URL (default redis://localhost:6379/4).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery

import kombu_dash

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/4")
SERIALIZER = os.environ.get("KD_BENCH_SERIALIZER", "json")
RESULTS = Path(__file__).resolve().parent / "results"


def make_app(result_serializer: str) -> Celery:
    app = Celery("kd_bench", broker=REDIS_URL, backend=REDIS_URL)
    kombu_dash.register()
    app.conf.update(
        task_serializer="json",
        result_serializer=result_serializer,
        accept_content=["json", "kombu_dash"],
        result_accept_content=["json", "kombu_dash"],
        result_expires=600,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    return app


# The worker imports this module with -A; KD_BENCH_SERIALIZER picks its result serializer.
app = make_app(SERIALIZER)


@app.task(name="kd_bench.handle")
def handle(ctx):
    return ctx["args"]


def start_worker(serializer: str, queue: str, concurrency: int, pool: str) -> subprocess.Popen:
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "KD_BENCH_SERIALIZER": serializer,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(root),
    }
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "benchmarks.e2e_celery:app",
        "worker",
        "-Q",
        f"{queue}-idle",
        "-n",
        f"{queue}@%h",
        "-P",
        pool,
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "warning",
    ]
    return subprocess.Popen(
        cmd, env=env, cwd=root, stdout=subprocess.DEVNULL
    )  # banner; errors: stderr


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time of a worker and its pool processes: far steadier than wall time when the
    machine is shared, since waiting for a CPU costs none."""
    import psutil

    main = psutil.Process(proc.pid)
    total = 0.0
    for p in (main, *main.children(recursive=True)):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def push(
    producer: Celery,
    decoders: dict,
    queue: str,
    serializer: str,
    ctx,
    n: int,
    worker_proc: subprocess.Popen,
) -> dict:
    """Publish n tasks to a queue no worker reads yet (the producer's rate), then let the
    worker consume it flat out and wait until every result is stored and decoded (the
    worker's rate): neither phase waits on the other, so contention shows less."""
    t0, c0 = time.perf_counter(), time.process_time()
    ids = [
        producer.send_task("kd_bench.handle", (ctx,), queue=queue, serializer=serializer).id
        for _ in range(n)
    ]
    t_pub, cpu_pub = time.perf_counter() - t0, time.process_time() - c0
    worker = [f"{queue}@{socket.gethostname()}"]
    w0 = cpu_seconds(worker_proc)
    t0 = time.perf_counter()
    ok = producer.control.add_consumer(queue, destination=worker, reply=True, timeout=60)
    if not ok:
        raise TimeoutError(f"worker {worker[0]} did not answer add_consumer")
    # The producer has no result backend: Celery's Redis backend would SUBSCRIBE once per
    # task on send, which costs more than the task itself. Poll the stored results instead.
    backend = decoders[serializer].backend
    keys = [backend.get_key_for_task(i) for i in ids]
    client = backend.client
    pending, values = keys, []
    while pending:
        head, rest = pending[:500], pending[500:]
        raw = client.mget(head)
        missing = [k for k, v in zip(head, raw) if v is None]
        values.extend(backend.decode_result(v)["result"] for v in raw if v is not None)
        if len(missing) == len(head):
            if time.perf_counter() - t0 > 600:
                raise TimeoutError(
                    f"{len(pending)} of {n} results missing after 600 s (worker down?)"
                )
            time.sleep(0.01)
        pending = missing + rest
    t_work = time.perf_counter() - t0
    cpu_work = cpu_seconds(worker_proc) - w0
    producer.control.cancel_consumer(queue, destination=worker, reply=True, timeout=60)
    client.delete(*keys)
    return {
        "publish_s": t_pub,
        "work_s": t_work,
        "publish_cpu": cpu_pub,
        "work_cpu": cpu_work,
        "sample": values[0],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument(
        "--blocks", type=int, default=10, help="tasks are sent in this many alternating blocks"
    )
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--pool", default="prefork")
    args = ap.parse_args(argv)

    from benchmarks.payloads import dash_context, same, to_plain

    typed = dash_context()
    plain = to_plain(typed)
    suffix = uuid.uuid4().hex[:8]
    queues = {"json": f"kd-bench-json-{suffix}", "kombu_dash": f"kd-bench-kd-{suffix}"}
    configs = [  # (label, serializer, payload)
        ("json", "json", plain),
        ("kombu_dash (plain)", "kombu_dash", plain),
        ("kombu_dash (typed)", "kombu_dash", typed),
    ]
    producer = Celery("kd_bench_producer", broker=REDIS_URL)
    producer.conf.update(
        accept_content=["json", "kombu_dash"], broker_connection_retry_on_startup=True
    )
    decoders = {"json": make_app("json"), "kombu_dash": make_app("kombu_dash")}
    workers = {s: start_worker(s, q, args.concurrency, args.pool) for s, q in queues.items()}
    out: dict[str, list] = {label: [] for label, _, _ in configs}
    try:
        deadline = time.monotonic() + 180
        for q in queues.values():  # control messages sent before a worker listens are lost
            while not producer.control.ping(
                destination=[f"{q}@{socket.gethostname()}"], timeout=1.0
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"worker for {q} did not start")
        for _label, s, payload in configs:  # both workers warm before timing
            push(producer, decoders, queues[s], s, payload, 50, workers[s])
        # Blocks of tasks, order alternating per block: a noisy neighbour hits every config.
        per_block = args.tasks // args.blocks
        for blk in range(args.blocks):
            order = configs if blk % 2 == 0 else configs[::-1]
            for label, s, payload in order:
                r = push(producer, decoders, queues[s], s, payload, per_block, workers[s])
                out[label].append(r)
                print(
                    f"block {blk + 1}/{args.blocks}: {label:20s} publish {per_block / r['publish_s']:6.0f}/s, "
                    f"worker {per_block / r['work_s']:6.0f}/s, worker CPU {r['work_cpu'] / per_block * 1e3:.2f} "
                    f"ms/task, producer CPU {r['publish_cpu'] / per_block * 1e3:.2f} ms/task",
                    flush=True,
                )
        # the typed result must come back typed (QueryParams), the plain one as sent
        assert same(out["kombu_dash (typed)"][0]["sample"], typed.args), (
            "typed result lost its type"
        )
    finally:
        for w in workers.values():
            w.terminate()
        for w in workers.values():
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        with producer.connection_for_write() as conn:
            client = conn.default_channel.client
            for q in queues.values():
                client.delete(q)

    # rates of a configuration: all its tasks over all its time, per phase
    rate = {}
    for label, rs in out.items():
        n = per_block * len(rs)
        pub, work = sum(r["publish_s"] for r in rs), sum(r["work_s"] for r in rs)
        rate[label] = {
            "worker": n / work,
            "publish": n / pub,
            "total": n / (pub + work),
            "spread": [per_block / r["work_s"] for r in rs],
            "worker_cpu": sum(r["work_cpu"] for r in rs) / n * 1e3,
            "publish_cpu": sum(r["publish_cpu"] for r in rs) / n * 1e3,
        }
    base = rate["json"]
    lines = [
        "# End to end: Celery tasks per second (Redis)",
        "",
        f"Command: `python -m benchmarks.e2e_celery --tasks {args.tasks} --blocks {args.blocks}`; "
        f"{args.tasks} tasks per configuration in {args.blocks} blocks of {per_block}, order alternating "
        f"per block; worker `-P {args.pool} -c {args.concurrency}`; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "Each block is published to a queue the worker does not read yet (*publish*: the producer's "
        "rate), then the worker is told to consume it (*worker*: receive, decode, run, encode and "
        "store the result; the client decodes every result).",
        "",
        "Wall-clock rates on a shared machine swing from block to block; CPU time per task "
        "(the worker with its pool processes; the producer process) does not wait for a CPU, "
        "so its ratio is the steadier figure: json's CPU ms / this one's = tasks per CPU-second × json.",
        "",
        "| configuration | worker tasks/s | × json | per block (min–max) | worker CPU ms/task "
        "| tasks per worker CPU-s × json | publish tasks/s | × json | producer CPU ms/task "
        "| publishes per CPU-s × json |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rate.items():
        lines.append(
            f"| {label} | {r['worker']:.0f} | {r['worker'] / base['worker']:.2f} | "
            f"{min(r['spread']):.0f}–{max(r['spread']):.0f} | {r['worker_cpu']:.2f} | "
            f"{base['worker_cpu'] / r['worker_cpu']:.2f} | {r['publish']:.0f} | "
            f"{r['publish'] / base['publish']:.2f} | {r['publish_cpu']:.2f} | "
            f"{base['publish_cpu'] / r['publish_cpu']:.2f} |"
        )
    lines += [
        "",
        "Goal (issue 4): kombu_dash at least 1.0× json. "
        "Ratios from one run on a shared machine; absolute rates are not comparable across runs.",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "e2e_celery.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
