"""Serializer benchmark: kombu_dash against kombu json, stdlib json, pickle, msgpack,
jsonpickle and orjson alone, on the same payloads in the same run.

    python -m benchmarks.run               # full run: prints the tables, writes benchmarks/results/
    python -m benchmarks.run --quick       # CI smoke: every payload x serializer twice, checks round trips
    python -m benchmarks.run --no-installs # this environment only (skips the four installs)

All timings are interleaved (one sample of every serializer per round), so the noise of
a shared machine hits all of them alike: read the *ratios*, not the absolute times.

Two parts. First every serializer in this environment (a development install). Then
kombu_dash *as installed*: the four ways pip can leave it (benchmarks/installs.py: the
binary wheel with orjson, the sdist without a compiler, each with and without orjson),
each made in a virtualenv of its own and measured there against kombu json (and pickle)
in the same rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

from benchmarks.payloads import build, same

RESULTS = Path(__file__).resolve().parent / "results"
KD, KJ, ORJSON, JSONPICKLE = "kombu_dash", "kombu json", "orjson", "jsonpickle"
# kombu json on a typed payload's plain twin, timed in the typed payload's own rounds: the
# ratio of the two then comes from the same moments of a noisy machine
KJ_TWIN = "kombu json on the plain twin (same rounds)"
ORDER = [KD, KJ, "stdlib json", "pickle", "msgpack", JSONPICKLE, ORJSON]


def serializers(only=None) -> dict:
    """name -> (encode, decode); kombu ones go through kombu.serialization like Celery does."""
    import kombu.serialization as ks

    import kombu_dash

    kombu_dash.register()

    def via_kombu(name):
        content_type, encoding, _ = ks.registry._encoders[name]
        accept = {content_type}

        def enc(obj):
            return ks.dumps(obj, serializer=name)[2]

        def dec(data):
            return ks.loads(data, content_type, encoding, accept=accept)

        return enc, dec

    out = {KD: via_kombu("kombu_dash"), KJ: via_kombu("json")}
    if only is not None and "pickle" in only:
        import pickle

        out["pickle"] = (lambda o: pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads)
    if only is None:
        import pickle

        import jsonpickle
        import msgpack
        import orjson

        out["stdlib json"] = (json.dumps, json.loads)
        out["pickle"] = (lambda o: pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads)
        out["msgpack"] = (msgpack.packb, msgpack.unpackb)
        # jsonpickle 4 warns on every call that its default will change; the default is what we time
        warnings.filterwarnings("ignore", "keys will default", DeprecationWarning)
        out[JSONPICKLE] = (jsonpickle.encode, jsonpickle.decode)
        out[ORJSON] = (orjson.dumps, orjson.loads)
    return out


def status(enc, dec, obj):
    """('ok'|'lossy'|'refuses'|'fails', encoded, message)."""
    try:
        data = enc(obj)
    except Exception as exc:  # a serializer refusing a type is a result, not a crash
        return "refuses", None, f"{type(exc).__name__}: {exc}"[:120]
    try:
        back = dec(data)
    except Exception as exc:
        return "fails", data, f"{type(exc).__name__}: {exc}"[:120]
    return ("ok" if same(obj, back) else "lossy"), data, ""


def _batch(fn, arg, number) -> float:
    """Per-call ns of ``number`` calls, gc off (the payloads are frozen: gc.collect is cheap).

    CPU time of this thread: on a machine shared with other jobs, the time the OS gives
    them is not counted (wall-clock samples moved by 2x from one minute to the next)."""
    gc.collect(0)
    gc.disable()
    try:
        t0 = time.thread_time_ns()
        for _ in range(number):
            fn(arg)
        return (time.thread_time_ns() - t0) / number
    finally:
        gc.enable()


def decode_peak(dec, data) -> int:
    """Peak bytes traced while decoding (input already allocated, result counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = dec(data)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del out
    return peak


def measure(obj, sers: dict, *, quick: bool, budget_s: float, twin=None) -> dict:
    """Encode/decode/round-trip medians (ns) of every serializer that carries ``obj``;
    with ``twin`` (the plain twin of a payload kombu json refuses), kombu json on the
    twin as one more participant of the same rounds (KJ_TWIN)."""
    res, live = {}, {}
    participants = [(name, enc, dec, obj) for name, (enc, dec) in sers.items()]
    if twin is not None and KJ in sers:
        participants.append((KJ_TWIN, *sers[KJ], twin))
    for name, enc, dec, source in participants:
        st, data, msg = status(enc, dec, source)
        if name == KJ_TWIN and st not in ("ok", "lossy"):
            continue
        res[name] = {"status": st, "message": msg, "size": len(data) if data is not None else None}
        if st in ("ok", "lossy"):
            live[name] = (enc, dec, data, source)
    if KJ_TWIN in live and res[KJ]["status"] in ("ok", "lossy"):
        del live[KJ_TWIN], res[KJ_TWIN]  # json carries the payload itself: no twin needed
    if quick:  # smoke: two single-call samples each, so every code path runs; no calibration
        number = {n: 1 for n in live}
        rounds, limit = 2, {n: 2 for n in live}
    else:
        # Calibrate: calls per sample so one sample takes >= 2 ms (timer noise negligible).
        number, cost = {}, {}
        for name, (enc, dec, _data, source) in live.items():
            t0 = time.perf_counter()
            dec(enc(source))
            rt = time.perf_counter() - t0
            number[name] = max(1, int(0.002 / max(rt, 1e-7)))
            cost[name] = number[name] * rt
        # jsonpickle, 5-20x slower than the rest, must not starve them of rounds: it gets
        # what is left of the budget (at least one round), the others at least five.
        fast = sum(c for n, c in cost.items() if n != JSONPICKLE)
        rounds = int(min(60, max(5, budget_s / max(fast, 1e-9))))
        limit = {
            n: rounds if n != JSONPICKLE else max(1, min(rounds, int(budget_s / 2 / c)))
            for n, c in cost.items()
        }
    samples = {n: {"encode": [], "decode": [], "roundtrip": []} for n in live}
    for i in range(rounds):
        for name, (enc, dec, data, source) in live.items():  # interleaved: noise hits all
            if i >= limit[name]:
                continue
            s, k = samples[name], number[name]
            s["encode"].append(_batch(enc, source, k))
            s["decode"].append(_batch(dec, data, k))
            # round trip = encode then decode, of the same round
            s["roundtrip"].append(s["encode"][-1] + s["decode"][-1])
    for name, (_enc, dec, data, _source) in live.items():
        r = res[name]
        for what, vals in samples[name].items():
            r[what] = statistics.median(vals)
        r["rounds"], r["number"] = len(samples[name]["encode"]), number[name]
        rts = samples[name]["roundtrip"]
        if len(rts) >= 4:  # the noise: interquartile range of the round trips / their median
            q1, _, q3 = statistics.quantiles(rts, n=4)
            r["spread"] = (q3 - q1) / statistics.median(rts)
        r["decode_peak"] = decode_peak(dec, data)
    return res


def run_all(quick: bool, only=None, budget_s: float = 4.0, names=None) -> dict:
    """Every payload (or those in ``names``) through every serializer (or those in ``only``)."""
    sers = serializers(only)
    out = {}
    built = build(quick)
    gc.collect()
    gc.freeze()  # millions of payload objects: keep them out of every later collection
    twins = {payload.plain_of: obj for payload, obj in built if payload.plain_of}
    for payload, obj in built:
        if names is not None and payload.name not in names:
            continue
        t0 = time.perf_counter()
        out[payload.name] = {
            "title": payload.title,
            "plain_of": payload.plain_of,
            "results": measure(
                obj, sers, quick=quick, budget_s=budget_s, twin=twins.get(payload.name)
            ),
        }
        print(f"  {payload.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return out


# The table: each install's kombu_dash against kombu json (pickle for containers).
AS_INSTALLED = [
    ("celery_small", "small add(1, 2) body", KJ, 1.0),
    ("dash_context", "typed Dash context", KJ, 1.0),
    ("celery_body", "its Celery body", KJ, 1.0),
    ("requests_300", "300 containers / pickle", "pickle", None),
    ("table_10k", "10k-row table", KJ, 0.5),
]


def child(quick: bool, budget_s: float) -> dict:
    """What one install measures (run inside it by benchmarks/installs.py)."""
    import kombu

    import kombu_dash

    info = kombu_dash.engine_info()
    payloads = [name for name, *_ in AS_INSTALLED]
    data = run_all(quick, only=(KD, KJ, "pickle"), budget_s=budget_s, names=payloads)
    return {
        "engine": info._asdict(),
        "engine_text": str(info),
        "python": platform.python_version(),
        "kombu": kombu.__version__,
        "kombu_dash_file": kombu_dash.__file__,
        "payloads": data,
    }


def install_ratios(entry: dict) -> dict[str, float | None]:
    """payload -> round trip of kombu_dash / its reference, in one install's own rounds."""
    data = entry["payloads"]
    out: dict[str, float | None] = {}
    for payload, _title, ref, _goal in AS_INSTALLED:
        if ref == KJ:
            out[payload] = _ratio_to_json(data, payload)
        else:
            kd = data[payload]["results"][KD].get("roundtrip")
            other = data[payload]["results"][ref].get("roundtrip")
            out[payload] = kd / other if kd and other else None
    return out


def installs_table(installs: dict) -> str:
    head = " | ".join(title for _p, title, _r, _g in AS_INSTALLED)
    lines = [
        f"| install | engine, JSON backend (as reported there) | {head} |",
        "|---|---|" + "---:|" * len(AS_INSTALLED),
    ]
    for label, entry in installs.items():
        ratios = install_ratios(entry)
        e = entry["engine"]
        engine = (
            f"{'C' if e['engine'] == 'c' else 'Python'} engine, {e['json']} {e['json_version']}"
        )
        cells = " | ".join("—" if r is None else f"{r:.2f}×" for r in ratios.values())
        lines.append(f"| **{label}**: {entry['how']} | {engine} | {cells} |")
    lines += [
        "",
        "Each row is a virtualenv made by the runner: `pip install` of this checkout's wheel "
        "(built here) or of its sdist, with no compiler on PATH; with orjson as pip resolves it, "
        "or without it (`--no-deps`, then kombu). Ratios are round trips of kombu_dash over "
        "kombu json in the same rounds of the same process (the typed context and body against "
        "kombu json on their plain twins; the containers against pickle).",
    ]
    return "\n".join(lines)


def installed_goals(installs: dict) -> list[tuple[str, str, str, str]]:
    """The issue's bar for the default install (the wheel with orjson)."""
    entry = installs.get("C + orjson")
    if entry is None:
        return []
    ratios = install_ratios(entry)
    out = []
    for payload, title, _ref, goal in AS_INSTALLED:
        if goal is None or ratios[payload] is None:
            continue
        r = ratios[payload]
        out.append(
            (
                f"as installed (wheel + orjson): {title} vs kombu json",
                f"≤ {goal:.2f}×",
                f"{r:.2f}×",
                _met(r, goal),
            )
        )
    return out


# -- reporting ------------------------------------------------------------------------


def _us(ns):
    if ns is None:
        return "—"
    us = ns / 1000
    return f"{us:,.0f}" if us >= 100 else f"{us:.3g}"


def _mb(b):
    return "—" if b is None else f"{b / 1e6:.2f}"


def reference(data: dict, payload: str, name: str = KD):
    """kombu json's result for this payload, or for its plain twin where json refuses."""
    entry = data[payload]
    kj = entry["results"].get(KJ)
    if kj and kj["status"] in ("ok", "lossy"):
        return kj, payload
    if KJ_TWIN in entry["results"]:  # timed in this payload's own rounds
        twin = next(p for p, e in data.items() if e["plain_of"] == payload)
        return entry["results"][KJ_TWIN], twin
    twin = next((p for p, e in data.items() if e["plain_of"] == payload), None)
    if twin:
        return data[twin]["results"][KJ], twin
    return None, None


def table(data: dict) -> str:
    lines = [
        "| payload | serializer | carries it? | wire KB | encode µs | decode µs | round trip µs "
        "| round trip × kombu json | decode peak MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for payload, entry in data.items():
        res = entry["results"]
        for name in ORDER:
            r = res.get(name)
            if r is None:
                continue
            ref, ref_payload = (res.get(KJ), payload)
            if not ref or ref["status"] not in ("ok", "lossy"):
                twin = next((p for p, e in data.items() if e["plain_of"] == payload), None)
                same_rounds = res.get(KJ_TWIN)
                ref, ref_payload = (
                    (same_rounds or data[twin]["results"].get(KJ), twin) if twin else (None, None)
                )
            ratio = "—"
            if r.get("roundtrip") and ref and ref.get("roundtrip"):
                ratio = f"{r['roundtrip'] / ref['roundtrip']:.2f}" + (
                    " †" if ref_payload != payload else ""
                )
            size = "—" if r["size"] is None else f"{r['size'] / 1000:,.1f}"
            lines.append(
                f"| {entry['title']} | {name} | {r['status']} | {size} | {_us(r.get('encode'))} | "
                f"{_us(r.get('decode'))} | {_us(r.get('roundtrip'))} | {ratio} | {_mb(r.get('decode_peak'))} |"
            )
    lines.append("")
    lines.append(
        "*ok*: same value and same type at every level; *lossy*: decodes, but to other types "
        "or values (timed anyway); *refuses*: the encoder raises. † kombu json refuses this "
        "payload: the ratio is to kombu json on the plain twin (same information, plain types), "
        "timed in the same interleaved rounds as the typed payload. "
        "On the Celery bodies every JSON serializer is *lossy* only because tuples come back as "
        "lists, which Celery tolerates."
    )
    return "\n".join(lines)


def _ratio_to_json(data: dict, payload: str, name: str = KD, ref_name: str = KJ):
    """Round trip of ``name`` on ``payload`` / kombu json's on its plain twin (or on
    itself where json carries it), both from this run."""
    twin = next((p for p, e in data.items() if e["plain_of"] == payload), payload)
    kd = data[payload]["results"].get(name, {}).get("roundtrip")
    same_rounds = {KJ: KJ_TWIN}.get(ref_name)
    kj = data[payload]["results"].get(same_rounds, {}).get("roundtrip") or (
        data[twin]["results"].get(ref_name, {}).get("roundtrip")
    )
    return kd / kj if kd and kj else None


def _met(ratio: float, must: float, target: float | None = None) -> str:
    text = "yes" if ratio <= must else "**no**"
    if target is None:
        return text
    return f"must: {text}; target: {'yes' if ratio <= target else 'no'}"


def goals(data: dict) -> list[tuple[str, str, str, str]]:
    """(goal, target, measured, met): the goals for this environment, each ratio from this run."""
    rt = lambda p, n: data[p]["results"][n].get("roundtrip")  # noqa: E731
    out = []
    for payload, label, must, target in [
        ("celery_small", "Celery body of add(1, 2) vs kombu json", 1.0, 0.8),
        ("dash_context", "Typed Dash context vs kombu json on its plain twin", 1.0, 0.64),
        (
            "celery_body",
            "Celery body holding the typed context vs kombu json on its plain twin",
            1.0,
            None,
        ),
    ]:
        r = _ratio_to_json(data, payload)
        goal = f"≤ {must:.2f}× (must)" + (f", ≤ {target:.2f}× (target)" if target else "")
        out.append((label, goal, f"{r:.2f}×", _met(r, must, target)))
    for payload in ("containers", "requests_300"):
        r = rt(payload, KD) / rt(payload, "pickle")
        out.append(
            (
                f"{data[payload]['title']} vs pickle",
                "≤ 2.0× (must), ≤ 1.5× (target)",
                f"{r:.2f}×",
                _met(r, 2.0, 1.5),
            )
        )
    r = rt("table_10k", KD) / rt("table_10k", KJ)
    out.append(("10k-row table vs kombu json", "≤ 0.50×", f"{r:.2f}×", _met(r, 0.5)))
    r = rt("dash_context_plain", KD) / rt("dash_context_plain", KJ)
    out.append(("(context) Dash context, plain twin on both sides", "—", f"{r:.2f}×", "—"))
    big = data["table_100k"]["results"]
    r = big[KD]["decode_peak"] / big[ORJSON]["decode_peak"]
    out.append(
        ("(context) decoding the 100k-row table: peak memory vs orjson", "—", f"{r:.2f}×", "—")
    )
    return out


def noise(data: dict) -> str:
    spreads = sorted(
        r["spread"]
        for e in data.values()
        for n, r in e["results"].items()
        if n in (KD, KJ, "pickle") and "spread" in r
    )
    if not spreads:
        return ""
    return (
        f"Noise: the interquartile range of a serializer's round-trip samples was "
        f"{statistics.median(spreads):.0%} of their median (median over kombu_dash, kombu json "
        f"and pickle on every payload; worst {spreads[-1]:.0%})."
    )


def goals_table(rows) -> str:
    lines = ["| goal | target | measured | met |", "|---|---|---|---|"]
    for g, t, m, met in rows:
        lines.append(f"| {g} | {t} | {m} | {met} |")
    return "\n".join(lines)


def chart(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ORDER
    colors = {"ok": "#1f77b4", "lossy": "#ff7f0e"}
    payloads = list(data)
    ratios = []
    for payload in payloads:
        for name in names:
            r = data[payload]["results"].get(name) or {}
            ref, _ = reference(data, payload)
            if r.get("roundtrip") and ref and ref.get("roundtrip"):
                ratios.append(r["roundtrip"] / ref["roundtrip"])
    xmax = max([10.0, *ratios]) * 4  # room for the value labels
    ncols = 4
    nrows = -(-len(payloads) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(19, 4.3 * nrows), sharey=True)
    for ax, payload in zip(axes.flat, payloads):
        res = data[payload]["results"]
        ys = range(len(names))
        for y, name in zip(ys, names):
            r = res.get(name)
            ref = res.get(KJ)
            if not ref or not ref.get("roundtrip"):
                twin = next((p for p, e in data.items() if e["plain_of"] == payload), None)
                same_rounds = res.get(KJ_TWIN)
                ref = same_rounds or (data[twin]["results"].get(KJ) if twin else None)
            if r is None or not r.get("roundtrip") or not ref:
                label = "refuses" if r and r["status"] == "refuses" else "not run"
                ax.text(1.0, y, f"  {label}", va="center", fontsize=9, color="grey")
                continue
            ratio = r["roundtrip"] / ref["roundtrip"]
            ax.barh(
                y,
                ratio,
                color=colors.get(r["status"], "grey"),
                hatch="//" if r["status"] == "lossy" else None,
                edgecolor="#d62728" if name.startswith(KD) else "none",
                linewidth=1.5,
            )
            ax.text(ratio, y, f" {ratio:.2f}", va="center", fontsize=8)
        ax.axvline(1.0, color="black", lw=0.8)
        ax.axvline(0.5, color="green", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(0.05, xmax)
        typed = any(e["plain_of"] == payload for e in data.values())
        ax.set_title(data[payload]["title"] + (" †" if typed else ""), fontsize=10)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(names, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel("round trip time / kombu json (log; lower is faster)", fontsize=8)
    from matplotlib.patches import Patch

    fig.legend(
        handles=[
            Patch(color=colors["ok"], label="carries it exactly"),
            Patch(facecolor=colors["lossy"], hatch="//", label="lossy (other types come back)"),
            plt.Line2D([], [], color="black", label="kombu json = 1"),
            plt.Line2D([], [], color="green", ls="--", label="goal 0.5×"),
        ],
        loc="lower center",
        ncol=4,
        fontsize=9,
    )
    fig.suptitle(
        "Serializer round trip relative to kombu json (same run; † payloads json refuses are "
        "compared with json on their plain twin)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def environment() -> str:
    import kombu

    import kombu_dash

    try:  # which code was measured: the codec changes while it is being optimised
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return (
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"commit {rev or 'unknown'}; "
        f"kombu {kombu.__version__}, {kombu_dash.engine_info()} (a development install); "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke mode: round trips only, no timing")
    ap.add_argument(
        "--budget", type=float, default=4.0, help="seconds of sampling per payload (full mode)"
    )
    ap.add_argument(
        "--no-installs",
        action="store_true",
        help="skip the four installs (virtualenvs made and measured one by one)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        help="where to write the table and chart "
        "(default: benchmarks/results; --quick writes only if given)",
    )
    ap.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._child:  # inside one install (benchmarks/installs.py)
        Path(args._out).write_text(json.dumps(child(args.quick, args.budget)))
        return 0

    print("measuring (stderr shows progress)...", file=sys.stderr)
    data = run_all(args.quick, budget_s=args.budget)
    installs = {}
    if not args.no_installs:
        from benchmarks.installs import measure_all

        child_argv = ["--_child", "--budget", str(args.budget)] + (
            ["--quick"] if args.quick else []
        )
        installs = measure_all(child_argv)

    bad = [
        (f"{where}: {p}", n, r["message"])
        for where, payloads in [("this environment", data)]
        + [(label, entry["payloads"]) for label, entry in installs.items()]
        for p, e in payloads.items()
        for n, r in e["results"].items()
        if n.startswith(KD) and r["status"] != "ok"
    ]
    if args.quick:
        for p, e in data.items():
            print(p, {n: r["status"] for n, r in e["results"].items()})
        for label, entry in installs.items():
            print(f"{label}: {entry['engine_text']}")
        if bad:
            print("kombu_dash did not round-trip:", bad, file=sys.stderr)
            return 1
        print("quick mode: every payload round-tripped through kombu_dash (timings meaningless)")
        if not args.out:
            return 0

    out_dir = args.out or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    md = [
        "# Serializer benchmark"
        + (" (QUICK SMOKE RUN: timings meaningless)" if args.quick else ""),
        "",
        environment(),
        "",
        "Command: `python -m benchmarks.run`. Medians of interleaved samples of the thread's CPU "
        "time, gc disabled while timing; read the ratios (one run), not the absolute times "
        "(shared, noisy machine).",
        "",
        "## As installed",
        "",
        installs_table(installs) if installs else "(not measured: --no-installs)",
        "",
        "## Goals",
        "",
        goals_table(installed_goals(installs) + goals(data)),
        "",
        noise(data),
        "",
        "## All results",
        "",
        table(data),
        "",
        "![round trip relative to kombu json](benchmarks.png)",
        "",
    ]
    text = "\n".join(md)
    (out_dir / "benchmarks.md").write_text(text)
    (out_dir / "benchmarks.json").write_text(
        json.dumps({"environment": data, "installs": installs}, indent=1)
    )
    chart(data, out_dir / "benchmarks.png")
    print(text)
    if bad:
        print("kombu_dash did not round-trip:", bad, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
