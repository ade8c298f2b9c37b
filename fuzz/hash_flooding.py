"""Figures for hash flooding: a ~1 MB message per hashed tag, colliding and collision-free.

Each message is decoded in a fresh child process (per engine: the C walk, and the Python
walk with KOMBU_DASH_NO_SPEEDUPS=1) under RLIMIT_CPU, and its CPU seconds are printed next
to those of a collision-free message of about the same size. The colliding values come
from fuzz_generators.py (the hash functions inverted; probe chains searched for)::

    python fuzz/hash_flooding.py                       # the kombu_dash on sys.path
    PYTHONPATH=/path/to/older/checkout python fuzz/hash_flooding.py --limit 60

The probe chains take a few minutes to search for the first time; they are cached in
the system's temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import fuzz_generators as g

HERE = Path(__file__).resolve().parent
TARGET = 1_000_000  # bytes


def _chain(table: str, bits: int) -> list[int]:
    cache = Path(tempfile.gettempdir()) / f"kombu_dash-chain-{table}-{bits}.pickle"
    if cache.exists():
        return list(pickle.loads(cache.read_bytes()))
    keys = g.probe_chain_ints(table, bits, random.Random(0))
    cache.write_bytes(pickle.dumps(keys))
    return keys


def _fill(make: Any, rng: random.Random) -> list[Any]:
    """As many values as fill about TARGET bytes as a JSON list."""
    one = len(json.dumps(make(1, rng))) + 2
    return list(make(max(9, TARGET // one), rng))


def messages() -> dict[str, tuple[Any, Any]]:
    """name -> (colliding message, collision-free message), as JSON data."""
    rng = random.Random(1)

    def uuids(n: int, r: random.Random, clean: bool = False) -> list[Any]:
        if clean:
            return [{"~uuid": f"{r.getrandbits(128):032x}"} for _ in range(n)]
        return [{"~uuid": u} for u in g.equal_hash_uuids(n, r)]

    def decimals(n: int, r: random.Random, clean: bool = False) -> list[Any]:
        if clean:
            return [{"~decimal": f"{r.getrandbits(61)}.5"} for _ in range(n)]
        return [{"~decimal": d} for d in g.equal_hash_decimals(n, r)]

    def pairs(n: int, r: random.Random, clean: bool = False) -> list[Any]:
        if clean:
            return [{"~tuple": [r.getrandbits(61), r.getrandbits(61)]} for _ in range(n)]
        return [{"~tuple": p} for p in g.equal_hash_pairs(n, r)]

    def ints(n: int, r: random.Random) -> list[int]:
        return [r.getrandbits(61) for _ in range(n)]

    out: dict[str, tuple[Any, Any]] = {}
    for name, make in (("UUIDs", uuids), ("Decimals", decimals), ("2-tuples of ints", pairs)):
        bad = _fill(make, rng)
        good = make(len(bad), rng, True)
        out[f"~set of {name}, one hash"] = ({"~set": bad}, {"~set": good})
    bad = _fill(pairs, rng)
    good = pairs(len(bad), rng, True)
    out["~frozenset of 2-tuples, one hash"] = ({"~frozenset": bad}, {"~frozenset": good})
    bad = _fill(decimals, rng)
    good = decimals(len(bad), rng, True)
    for tag in ("dict", "OrderedDict"):
        out[f"~{tag} keyed by Decimals, one hash"] = (
            {f"~{tag}": [[k, 0] for k in bad]},
            {f"~{tag}": [[k, 0] for k in good]},
        )
    out["~Counter of Decimals, one hash"] = (
        {"~Counter": {"~dict": [[k, 1] for k in bad]}},
        {"~Counter": {"~dict": [[k, 1] for k in good]}},
    )
    for tag in ("werkzeug.MultiDict", "starlette.ImmutableMultiDict", "django.MultiValueDict"):
        out[f"~{tag} keyed by Decimals, one hash"] = (
            {f"~{tag}": [[k, "v"] for k in bad]},
            {f"~{tag}": [[k, "v"] for k in good]},
        )
    chain = _chain("set", 15)
    out[f"~set of probe-chain ints ({len(chain)})"] = (
        {"~set": chain},
        {"~set": ints(len(chain), rng)},
    )
    chain = _chain("dict", 16)
    out[f"~dict keyed by probe-chain ints ({len(chain)})"] = (
        {"~dict": [[k, 0] for k in chain]},
        {"~dict": [[k, 0] for k in ints(len(chain), rng)]},
    )
    n = 50_000
    column = {"dtype": "int64", "values": g.pandas_equal_hash_int64(n, rng)}
    clean = {"dtype": "int64", "values": [rng.getrandbits(62) for _ in range(n)]}

    def categorical(c: Any) -> Any:
        return {
            "~pandas.Categorical": {
                "dtype": "category",
                "categories": c,
                "ordered": False,
                "codes": list(range(n)),
            }
        }

    out["~pandas.Categorical, int64 khash"] = (categorical(column), categorical(clean))
    strings = g.x31_colliding_strings(n // 2, rng)
    good_strings = [f"{rng.getrandbits(136):034x}" for _ in strings]

    def level(values: list[str]) -> Any:
        return {
            "~pandas.Series": {
                "index": {"levels": [{"dtype": "object", "values": values}], "names": [None]},
                "name": None,
                "data": {"dtype": "int64", "values": [0] * len(values)},
            }
        }

    out["~pandas.Series, MultiIndex of X31 strings"] = (level(strings), level(good_strings))
    return out


_CHILD = """
import json, resource, sys, time
import numpy, pandas, kombu_dash
text = sys.stdin.read()
kombu_dash.loads('{"~set": [1]}')
used = resource.getrusage(resource.RUSAGE_SELF)
limit = int(used.ru_utime + used.ru_stime) + int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
start = time.process_time()
try:
    kombu_dash.loads(text)
    result = "decoded"
except kombu_dash.DecodeError as exc:
    result = "DecodeError: " + str(exc)[:70]
print(json.dumps({"cpu": time.process_time() - start, "result": result,
                  "engine": kombu_dash.engine_info().engine}))
"""


def decode(text: str, engine: str, limit: int) -> str:
    env = dict(os.environ)
    env.pop("KOMBU_DASH_NO_SPEEDUPS", None)
    if engine == "python":
        env["KOMBU_DASH_NO_SPEEDUPS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(limit)],
        input=text,
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        return f"> {limit} s (killed)"
    out = json.loads(proc.stdout)
    assert out["engine"] == engine, out
    refused = " refused" if out["result"].startswith("DecodeError") else ""
    return f"{out['cpu']:.3f} s{refused}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit", type=int, default=120, help="CPU seconds per decode")
    p.add_argument("--only", default="", help="messages whose name contains this")
    args = p.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    t0 = time.time()
    rows = messages()
    print(f"messages built in {time.time() - t0:.0f} s")
    for name, (bad, good) in rows.items():
        if args.only not in name:
            continue
        bad_text, good_text = json.dumps(bad), json.dumps(good)
        cells = []
        for engine in ("c", "python"):
            cells.append(
                f"{engine}: {decode(bad_text, engine, args.limit)} vs "
                f"{decode(good_text, engine, args.limit)}"
            )
        print(f"{name} ({len(bad_text) / 1e6:.2f} MB / {len(good_text) / 1e6:.2f} MB): ")
        print("    " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
