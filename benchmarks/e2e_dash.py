"""End to end: Dash background-callback round trip, kombu_dash's CeleryManager vs Dash's own.

    python -m benchmarks.e2e_dash [--calls 200]

Starts, for each manager, a real Celery worker (Redis, unique queue) and a real Dash
server (Flask backend on werkzeug) running benchmarks/e2e_dash_app.py, then drives the
Dash HTTP protocol as the browser does: POST ``/_dash-update-component?tag=a&tag=b``
with the callback body, then POST again with ``cacheKey``/``job`` until the answer
holds ``response``. Latency = dispatch -> result. The client polls every 5 ms (the
browser waits ``interval``, 1 s by default, which would hide everything else).
Calls alternate between the two stacks, one at a time. Read the ratio.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/4")
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
MANAGERS = ("dash", "kombu_dash")


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free port; from KD_BENCH_PORTS ("first-last") if set (shared machines), else any."""
    first, _, last = os.environ.get("KD_BENCH_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last) + 1):
        if port and port in _HANDED_OUT:  # handed out, its server maybe not listening yet
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(s.getsockname()[1])
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in KD_BENCH_PORTS={first}-{last}")


class Stack:
    """One Dash server + one Celery worker, both importing the app with one manager."""

    def __init__(self, manager: str):
        self.manager = manager
        self.queue = f"kd-bench-dash-{manager}-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "KD_BENCH_MANAGER": manager,
            "KD_BENCH_QUEUE": self.queue,
            "REDIS_URL": REDIS_URL,
            "PYTHONPATH": str(ROOT),
        }
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "benchmarks.e2e_dash_app:celery_app",
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}@%h",
                "-P",
                "prefork",
                "-c",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )  # banner; errors go to stderr
        self.server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.e2e_dash_app", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = requests.Session()
        self.http.trust_env = False  # localhost: never through a proxy from the environment

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http.get(f"{self.url}/_dash-layout", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or still importing
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.manager} server did not start")

    def call(self, n: int, timeout=120) -> tuple[float, str]:
        """One background callback, dispatch to result: (seconds, the callback's output)."""
        body = {
            "output": "status.children",
            "outputs": {"id": "status", "property": "children"},
            "inputs": [{"id": "run-button", "property": "n_clicks", "value": n}],
            "changedPropIds": ["run-button.n_clicks"],
            "state": [],
        }
        url = f"{self.url}/_dash-update-component"
        t0 = time.perf_counter()
        r = self.http.post(url, params=[("tag", "a"), ("tag", "b")], json=body, timeout=30)
        r.raise_for_status()
        handles = r.json()
        params = {"cacheKey": handles["cacheKey"], "job": handles["job"]}
        while True:
            r = self.http.post(url, params=params, json=body, timeout=30)
            if r.status_code == 200 and r.content:
                data = r.json()
                if "response" in data:
                    return time.perf_counter() - t0, data["response"]["status"]["children"]
            elif r.status_code not in (202, 204):
                raise RuntimeError(f"{self.manager}: HTTP {r.status_code}: {r.text[:300]}")
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"{self.manager}: no result after {timeout} s")
            time.sleep(0.005)

    def close(self):
        for p in (self.server, self.worker):
            p.terminate()
        for p in (self.server, self.worker):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        import redis

        redis.Redis.from_url(REDIS_URL).delete(self.queue)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="timed calls per manager")
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args(argv)

    stacks = {m: Stack(m) for m in MANAGERS}
    lat: dict[str, list[float]] = {m: [] for m in MANAGERS}
    outputs = {}
    try:
        for s in stacks.values():
            s.wait_ready()
        n = 0
        for i in range(args.warmup + args.calls):
            order = MANAGERS if i % 2 == 0 else MANAGERS[::-1]  # alternate who goes first
            for m in order:
                n += 1  # a fresh n_clicks: a fresh cache key, no cached result reused
                secs, out = stacks[m].call(n)
                outputs[m] = out
                if i >= args.warmup:
                    lat[m].append(secs)
    finally:
        for s in stacks.values():
            s.close()

    stats = {
        m: {"p50": statistics.median(v), "p95": pct(v, 95), "mean": statistics.fmean(v)}
        for m, v in lat.items()
    }
    base = stats["dash"]
    lines = [
        "# End to end: Dash background callback round trip (dispatch → result)",
        "",
        f"Command: `python -m benchmarks.e2e_dash --calls {args.calls}`; dash 4.4.1 CeleryManager vs "
        f"kombu_dash.CeleryManager, Flask backend on werkzeug, Celery worker `-P prefork -c 2` on Redis, "
        f"calls alternating, client polling every 5 ms; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| manager | p50 ms | p95 ms | p50 × Dash's | p95 × Dash's | callback saw `ctx.args.getlist('tag')` |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for m in MANAGERS:
        st = stats[m]
        lines.append(
            f"| {m} | {st['p50'] * 1e3:.1f} | {st['p95'] * 1e3:.1f} | {st['p50'] / base['p50']:.2f} | "
            f"{st['p95'] / base['p95']:.2f} | `{outputs[m].split(':', 1)[1]}` |"
        )
    lines += [
        "",
        "Goal (issue 4): kombu_dash p50 at most 1.05× Dash's own. The query was `?tag=a&tag=b`: "
        "Dash's own manager hands the worker `dict(args)` (one value), kombu_dash's the multi-dict.",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "e2e_dash.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
