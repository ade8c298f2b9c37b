"""Where kombu_dash spends its time: cProfile of encode and decode per payload.

    python -m benchmarks.profile [dash_context containers table_10k ...] [--calls N]

Prints the top functions by own time (tottime) and by cumulative time, for encode
and decode separately, through kombu.serialization as in the benchmark.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

from benchmarks.payloads import build


def profile(fn, arg, calls: int, top: int) -> str:
    fn(arg)  # warm caches (dispatch, lazy imports) first
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn(arg)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("payloads", nargs="*", default=["dash_context", "table_10k"])
    ap.add_argument(
        "--calls", type=int, default=0, help="calls per profile (default: by payload size)"
    )
    ap.add_argument("--top", type=int, default=18)
    args = ap.parse_args(argv)

    import kombu.serialization as ks

    import kombu_dash

    kombu_dash.register()
    ct = kombu_dash.CONTENT_TYPE

    def enc(obj):
        return ks.dumps(obj, serializer="kombu_dash")[2]

    def dec(data):
        return ks.loads(data, ct, "utf-8", accept={ct})

    for payload, obj in build():
        if payload.name not in args.payloads:
            continue
        data = enc(obj)
        calls = args.calls or max(3, min(2000, 2_000_000 // len(data)))
        for what, fn, arg in (("encode", enc, obj), ("decode", dec, data)):
            print(f"===== {payload.name} ({len(data):,} bytes): {what}, {calls} calls =====")
            print(profile(fn, arg, calls, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
