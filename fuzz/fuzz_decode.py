"""Fuzz the kombu_dash decoder: whatever arrives from the broker, ``loads`` returns a
value or raises ``kombu_dash.DecodeError``, nothing else, and quickly.

Seeds are valid messages (at least one per registered tag, built from real values where
we know how, otherwise a payload of the tag's declared shape) plus hostile ones; each
input is a seed put through a few mutations, at the byte level (flips, splices, deep
nesting, truncation, invalid UTF-8) or at the JSON level (tag names swapped, including
names of modules, builtins and dunders; payload shapes changed; huge numbers;
duplicate keys; NaN/Infinity literals). A share of the inputs (``--structured``) comes
from per-tag generators that know each tag's wire form and fill it with what is costly
(fuzz/fuzz_generators.py: dtype grammar, exponents, ranges, shapes, encodings, counts).

Each input is decoded in a forked child under an address-space limit and a CPU limit
(fuzz/fuzz_sandbox.py), then printed and re-encoded. Failures are counted by kind:
escaping exceptions (anything but DecodeError), too slow (over --max-seconds of CPU, or
killed by RLIMIT_CPU), too big (an allocation over --memory-mb), breaks on use (the
decoded value's repr or re-encoding raised) and crashed (the child died otherwise).

Run it (outside CI)::

    python fuzz/fuzz_decode.py -n 1000000 --jobs 2    # deterministic, seeds 0 and 1
    python fuzz/fuzz_decode.py -n 20000 --only numpy-pandas     # only those generators
    python fuzz/fuzz_decode.py -n 5000 --only collisions        # hash flooding only
    python fuzz/fuzz_decode.py --atheris              # coverage-guided, needs `pip install atheris`

Each run prints inputs tried, outcomes, the slowest input, and every failure (the input
is written under fuzz/crashes/ so it can be replayed with ``--replay FILE``). Exit status
is 1 if any input failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import random
import sys
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import fuzz_generators as generators
import fuzz_sandbox as sandbox

import kombu_dash
from kombu_dash import DecodeError, EncodeError

HOSTILE_TAGS = [
    "os.system",
    "posix.system",
    "subprocess.Popen",
    "builtins.eval",
    "builtins.exec",
    "__builtins__",
    "__import__",
    "__class__",
    "__subclasses__",
    "__globals__",
    "__init__",
    "__reduce__",
    "__dict__",
    "tuple.__class__",
    "kombu_dash.codec.Codec",
    "importlib.import_module",
    "pickle.loads",
    "celery.canvas.Signature",
    "celery.Signature",
    "",
    "~",
    "~tuple",
    "tuple ",
    "TUPLE",
    "tuple\x00",
    "dash.Component.__init__",
    "numpy.load",
    "pandas.read_pickle",
]

HOSTILE_STRINGS = [
    "",
    "\x00",
    "\ud800",
    "../../../../etc/passwd",
    "/etc/passwd",
    "dateutil//etc/passwd",
    "os.system",
    "__class__",
    "x" * 5000,
    "9" * 5000,
    "-" + "9" * 5000,
    "1e999999",
    "NaN",
    "Europe/Paris",
    "[Europe/Paris]",
    "O",
    "|O",
    "<f8",
    "V1000000000",
    "object",
    "nan",
    "-inf",
]

HOSTILE_NUMBERS = [
    0,
    -0,
    1,
    -1,
    2**63,
    2**64,
    -(2**63) - 1,
    2**64 - 1,
    10**30,
    1e308,
    -1e308,
    5e-324,
    0.1,
    2**31,
    10**4300,
    10**4301,
]

LITERALS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1e999",
    b"1" * 5000,
    b"-0",
    b"0.0e-999999",
    b"1E+400",
    b"true",
    b"null",
    b'"\\ud800"',
    b'"\\u0000"',
    b'"\\u007etuple"',
]


def _sample_values() -> list:
    """Real values of every type we know how to build here; each becomes a seed."""
    md = kombu_dash.MultiDict
    values = [
        (1, "a", None),
        {1, 2},
        frozenset({"x"}),
        OrderedDict(a=1),
        {1: "int key"},
        {"~tuple": "a dict that looks like a tag"},
        b"\x00\xffbytes",
        bytearray(b"ba"),
        float("nan"),
        float("inf"),
        float("-inf"),
        2**70,
        -(2**70),
        decimal.Decimal("1.10"),
        uuid.UUID(int=7),
        dt.datetime(2024, 3, 31, 2, 30),
        dt.date(2024, 2, 29),
        dt.time(1, 2, 3, 4),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
        dt.timedelta(days=-1, seconds=5),
        md([("a", "1"), ("a", "2")]),
        md([("a", "1")], last=True),
        kombu_dash.Headers([("Set-Cookie", "a")]),
        kombu_dash.AttributeDict(value=1, nested={"x": (1,)}),
        [[(1,), {2}], {"k": [b"v", {"~x": 1}]}],
        (((), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})),
    ]
    try:
        import zoneinfo

        values.append(
            dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
        )
    except Exception:  # no tz database here
        pass
    optional = {
        "werkzeug.datastructures": lambda m: [
            m.MultiDict([("a", "1"), ("a", "2")]),
            m.Headers([("A", "b")]),
            m.CombinedMultiDict([m.MultiDict([("a", "1")])]),
            m.ImmutableDict(a=1),
            m.TypeConversionDict(a="1"),
        ],
        "starlette.datastructures": lambda m: [
            m.QueryParams("a=1&a=2"),
            m.Headers(raw=[(b"a", b"1")]),
            m.URL("http://x/?a=1"),
            m.FormData([("f", "v")]),
        ],
        "multidict": lambda m: [m.MultiDict([("a", "1"), ("a", "2")]), m.CIMultiDict(A="1")],
        "numpy": lambda np: [
            np.arange(6, dtype="<i4").reshape(2, 3),
            np.float32(1.5),
            np.array([1, "a", None], dtype=object),
        ],
        "pandas": lambda pd: [
            pd.DataFrame({"a": [1, 2], "b": ["x", None]}),
            pd.Series([1.5], name="s"),
            pd.Timestamp("2024-01-01", tz="UTC"),
            pd.Timedelta("1s"),
            pd.NaT,
            pd.Categorical(["a", "b", "a"]),
        ],
        "yarl": lambda m: [m.URL("http://x/?a=1&a=2")],
        "dash.html": lambda m: [m.B("bold", id="x")],
    }
    import importlib

    for module, make in optional.items():
        try:
            values.extend(make(importlib.import_module(module)))
        except Exception:  # library missing here or not usable without setup: seeds cover the tag
            pass
    return values


_GENERIC = {
    list: [["a", "1"], ["a", "2"]],
    dict: {"a": 1, "items": [["a", "1"]], "last": False},
    str: "2024-01-01",
    int: 1,
    type(None): None,
    float: 1.5,
    bool: True,
}


def seeds(codec=None) -> list[bytes]:
    """Valid messages covering every tag the codec knows, plus a few hostile ones."""
    codec = codec or kombu_dash.default_codec
    out = []
    for value in _sample_values():
        try:
            out.append(codec.dumpb(value))
        except EncodeError:
            pass
    for key, tag in sorted(codec.tags().items()):
        # Every tag, even ones we cannot build a value for here: a payload of its shape.
        out.append(json.dumps({"~" + key: _GENERIC.get(tag.payload, [])}).encode())
        out.append(json.dumps([{"~" + key: _GENERIC.get(tag.payload, [])}, 1]).encode())
    for name in HOSTILE_TAGS:
        out.append(json.dumps({"~" + name: "echo pwned"}).encode())
    out += [
        b"[]",
        b"{}",
        b'"~tuple"',
        b"[" * 300 + b"]" * 300,
        b'{"a":1,"a":2}',
        b'{"~tuple":[],"~set":[]}',
    ]
    return out


def tag_keys(codec=None) -> list[str]:
    return sorted((codec or kombu_dash.default_codec).tags())


class Mutator:
    def __init__(self, rng: random.Random, corpus: list[bytes], keys: list[str]):
        self.rng, self.corpus, self.keys = rng, corpus, keys
        self.byte_ops = [
            self.flip,
            self.replace_byte,
            self.insert_special,
            self.delete_chunk,
            self.duplicate_chunk,
            self.splice,
            self.truncate,
            self.nest,
            self.swap_tag_text,
            self.insert_literal,
            self.invalid_utf8,
        ]
        self.tree_ops = [
            self.tree_swap_tag,
            self.tree_replace_value,
            self.tree_wrap_tag,
            self.tree_duplicate_key,
            self.tree_reshape_payload,
        ]

    def mutate(self, data: bytes) -> bytes:
        for _ in range(self.rng.choice((1, 1, 1, 2, 3, 5))):
            if self.rng.random() < 0.45:
                data = self.tree(data)
            else:
                data = self.rng.choice(self.byte_ops)(data)
            if len(data) > 200_000:
                data = data[:200_000]
        return data

    # -- byte level ----------------------------------------------------------------

    def _pos(self, data, end=False):
        return self.rng.randint(0, len(data)) if end or not data else self.rng.randrange(len(data))

    def flip(self, d):
        if not d:
            return d
        i = self._pos(d)
        return d[:i] + bytes([d[i] ^ (1 << self.rng.randrange(8))]) + d[i + 1 :]

    def replace_byte(self, d):
        if not d:
            return d
        i = self._pos(d)
        return (
            d[:i]
            + bytes([self.rng.choice(b'{}[]":,~\\0123456789-+.eE ntfu\x00\x7f\x80\xc0\xff')])
            + d[i + 1 :]
        )

    def insert_special(self, d):
        i = self._pos(d, end=True)
        piece = self.rng.choice(
            [
                b'"~',
                b"~",
                b'{"~tuple":',
                b"[",
                b"]",
                b"{",
                b"}",
                b",",
                b":",
                b'"',
                b"\\",
                b"\\u007e",
                b"\\ud800",
                b"-",
                b"e9999",
                b'{"~dict":[[',
                b"null",
            ]
        )
        return d[:i] + piece + d[i:]

    def delete_chunk(self, d):
        if not d:
            return d
        i = self._pos(d)
        return d[:i] + d[i + self.rng.randint(1, 16) :]

    def duplicate_chunk(self, d):
        if not d:
            return d
        i = self._pos(d)
        j = min(len(d), i + self.rng.randint(1, 64))
        return d[:j] + d[i:j] * self.rng.randint(1, 8) + d[j:]

    def splice(self, d):
        other = self.rng.choice(self.corpus)
        i, j = self._pos(d, end=True), self._pos(other, end=True)
        return d[:i] + other[j:]

    def truncate(self, d):
        return d[: self._pos(d, end=True)]

    def nest(self, d):
        n = self.rng.choice((50, 199, 200, 201, 1000, 5000, 100_000))
        opener, closer = self.rng.choice(
            (
                (b"[", b"]"),
                (b'{"~tuple":[', b"]}"),
                (b'{"a":', b"}"),
                (b'{"~dash.AttributeDict":{"a":', b"}}"),
            )
        )
        return opener * n + d + closer * n

    def swap_tag_text(self, d):
        if b'"~' not in d:
            return d
        new = self.rng.choice(self.keys + HOSTILE_TAGS).encode("utf-8", "surrogatepass")
        i = d.index(b'"~') + 2
        j = d.find(b'"', i)
        return d[:i] + new + d[j if j >= 0 else len(d) :]

    def insert_literal(self, d):
        i = self._pos(d, end=True)
        return d[:i] + self.rng.choice(LITERALS) + d[i:]

    def invalid_utf8(self, d):
        i = self._pos(d, end=True)
        return (
            d[:i]
            + self.rng.choice(
                [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
            )
            + d[i:]
        )

    # -- JSON level ----------------------------------------------------------------

    def tree(self, data: bytes) -> bytes:
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            return self.rng.choice(self.byte_ops)(data)
        op = self.rng.choice(self.tree_ops)
        try:
            obj = op(obj)
            return json.dumps(obj, ensure_ascii=self.rng.random() < 0.3, allow_nan=True).encode(
                "utf-8", "surrogatepass"
            )
        except (RecursionError, ValueError):
            return data

    def _nodes(self, obj, depth=0, out=None):
        out = [] if out is None else out
        out.append(obj)
        if depth < 40:
            if isinstance(obj, dict):
                for v in obj.values():
                    self._nodes(v, depth + 1, out)
            elif isinstance(obj, list):
                for v in obj:
                    self._nodes(v, depth + 1, out)
        return out

    def _random_json(self, depth=0):
        r = self.rng.random()
        if depth > 3 or r < 0.5:
            return self.rng.choice(
                HOSTILE_STRINGS
                + HOSTILE_NUMBERS
                + [None, True, False, float("nan"), float("inf"), [], {}]
            )
        if r < 0.75:
            return [self._random_json(depth + 1) for _ in range(self.rng.randint(0, 4))]
        if r < 0.9:
            return {"~" + self.rng.choice(self.keys + HOSTILE_TAGS): self._random_json(depth + 1)}
        return {
            self.rng.choice(
                HOSTILE_STRINGS[:8] + ["a", "items", "last", "dtype", "shape", "data"]
            ): self._random_json(depth + 1)
            for _ in range(self.rng.randint(0, 3))
        }

    def tree_swap_tag(self, obj):
        tagged = [
            n
            for n in self._nodes(obj)
            if isinstance(n, dict) and len(n) == 1 and next(iter(n)).startswith("~")
        ]
        if not tagged:
            return self.tree_wrap_tag(obj)
        node = self.rng.choice(tagged)
        ((key, value),) = node.items()
        node.clear()
        node["~" + self.rng.choice(self.keys + HOSTILE_TAGS)] = value
        return obj

    def tree_replace_value(self, obj):
        containers = [n for n in self._nodes(obj) if isinstance(n, (dict, list)) and n]
        if not containers:
            return self._random_json()
        node = self.rng.choice(containers)
        if isinstance(node, list):
            node[self.rng.randrange(len(node))] = self._random_json()
        else:
            node[self.rng.choice(list(node))] = self._random_json()
        return obj

    def tree_wrap_tag(self, obj):
        return {"~" + self.rng.choice(self.keys + HOSTILE_TAGS): obj}

    def tree_duplicate_key(self, obj):
        # json.dumps cannot write duplicate keys: emit them by hand around the object
        return {"~dict": [[1, obj]]} if self.rng.random() < 0.5 else obj

    def tree_reshape_payload(self, obj):
        tagged = [n for n in self._nodes(obj) if isinstance(n, dict) and len(n) == 1]
        if not tagged:
            return obj
        node = self.rng.choice(tagged)
        ((key, value),) = node.items()
        shapes = [
            value,
            [value],
            {"a": value},
            str(value)[:50],
            1,
            None,
            [[value, value]],
            {"items": value, "last": True},
            {"dtype": "O", "shape": [1], "data": [value]},
            {"namespace": "dash_html_components", "type": "B", "props": {"children": value}},
            {"dtype": "|O", "shape": [10**18, 0], "data": []},
        ]
        node[key] = self.rng.choice(shapes)
        return obj


def check_one(data: bytes, codec=None):
    """None if ``data`` decodes or raises DecodeError; else the unexpected exception."""
    codec = codec or kombu_dash.default_codec
    try:
        codec.loads(data)
    except DecodeError:
        return None
    except BaseException as exc:  # the finding: anything but DecodeError
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc
    return None


FAILURE_KINDS = sandbox.FAILURES


def run(
    n: int,
    seed: int = 0,
    max_seconds: float = 1.0,
    report=print,
    stop_after: int = 20,
    crash_dir: Path | None = None,
    *,
    structured: float = 0.3,
    only: tuple[str, ...] | None = None,
    isolate: bool = True,
    memory_mb: int = 256,
    use: bool = True,
) -> dict:
    """Decode ``n`` inputs; each failure kind (see fuzz/fuzz_sandbox.py) is counted and kept.

    ``structured`` is the share of inputs made by the per-tag generators (fuzz/fuzz_generators.py;
    ``only`` limits them to some tag keys, and then every input is generated); ``isolate``
    runs each input in a forked child under ``memory_mb`` of address space and a CPU limit.
    """
    rng = random.Random(seed)
    corpus = seeds()
    keys = tag_keys()
    mut = Mutator(rng, corpus, keys)
    stats = {
        "inputs": 0,
        "decoded": 0,
        "decode_errors": 0,
        "structured": 0,
        "slowest": (0.0, b""),
        "seconds": 0.0,
        "seeds": len(corpus),
        **{kind: [] for kind in FAILURE_KINDS},
    }
    codec = kombu_dash.default_codec
    for (
        data
    ) in corpus:  # first use imports the tags' libraries: not the input's cost (nor the child's)
        check_one(data, codec)
    box = (
        sandbox.Sandbox(codec, max_seconds=max_seconds, memory_mb=memory_mb, use=use)
        if isolate
        else None
    )
    start = time.perf_counter()
    n_seeds = 0 if only else len(corpus)
    try:
        for i in range(n):
            if i < n_seeds:
                data = corpus[i]
            elif only or rng.random() < structured:
                data = generators.generate(rng, keys, only)
                stats["structured"] += 1
                if rng.random() < 0.2:
                    data = mut.mutate(data)
            else:
                data = mut.mutate(rng.choice(corpus))
            result = box.run(data) if box else sandbox.decode_once(codec, data, max_seconds, use)
            outcome, took = result["outcome"], result["seconds"]
            stats["inputs"] += 1
            if took > stats["slowest"][0]:
                stats["slowest"] = (took, data)
            if outcome == "decoded":
                stats["decoded"] += 1
                # grow the corpus with inputs that still decode: deeper mutations from there
                if (
                    i >= n_seeds
                    and len(corpus) < 5000
                    and rng.random() < 0.05
                    and len(data) < 20_000
                ):
                    corpus.append(data)
                continue
            if outcome == "decode_error":
                stats["decode_errors"] += 1
                continue
            stats[outcome].append((data, result["detail"], result.get("where", "")))
            if crash_dir is not None:
                crash_dir.mkdir(parents=True, exist_ok=True)
                (crash_dir / f"{outcome}-{seed}-{i}.bin").write_bytes(data)
            report(
                f"{outcome.upper()} input #{i}: {result['detail'][:200]}\n  input: {data[:300]!r}"
            )
            if sum(len(stats[k]) for k in FAILURE_KINDS) >= stop_after:
                break
    finally:
        if box is not None:
            stats["children"], stats["recovered"] = box.children, box.recovered
            box.close()
    stats["seconds"] = time.perf_counter() - start
    # compatibility: "failures" are the escaping exceptions, "slow" the inputs over budget
    stats["failures"], stats["slow"] = stats["escaped"], stats["too_slow"]
    return stats


def failure_counts(stats: dict) -> str:
    return "  ".join(f"{kind.replace('_', ' ')}: {len(stats[kind])}" for kind in FAILURE_KINDS)


def _job(args):
    n, seed, max_seconds, crash_dir, stop_after, options = args
    return run(
        n,
        seed,
        max_seconds,
        crash_dir=crash_dir,
        stop_after=stop_after,
        report=lambda _: None,
        **options,
    )


def _atheris_main(argv):
    import atheris

    codec = kombu_dash.default_codec

    def test_one_input(data: bytes):
        try:
            codec.loads(data)
        except DecodeError:
            pass

    corpus_dir = Path(__file__).parent / "corpus"
    corpus_dir.mkdir(exist_ok=True)
    for i, s in enumerate(seeds()):
        (corpus_dir / f"seed-{i:04d}").write_bytes(s)
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], str(corpus_dir), *argv], test_one_input)
    atheris.Fuzz()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="fuzz kombu_dash.loads (see the module docstring)")
    p.add_argument("-n", "--inputs", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="processes (each gets seed+k)")
    p.add_argument(
        "--max-seconds",
        type=float,
        default=1.0,
        help="an input taking more CPU seconds than this is a failure (too slow)",
    )
    p.add_argument(
        "--memory-mb",
        type=int,
        default=256,
        help="address space an input may add before its allocation fails (too big)",
    )
    p.add_argument(
        "--structured",
        type=float,
        default=0.3,
        help="share of inputs made by the per-tag generators (fuzz/fuzz_generators.py)",
    )
    p.add_argument(
        "--only",
        default="",
        help="comma-separated tag keys: generate only for these "
        "('numpy-pandas' for numpy, pandas and decimal; 'collisions' for hash flooding)",
    )
    p.add_argument("--no-isolate", action="store_true", help="decode in this process (no limits)")
    p.add_argument(
        "--stop-after", type=int, default=1000, help="stop a job after this many failures"
    )
    p.add_argument(
        "--replay", metavar="FILE", help="decode one saved input and show what it raises"
    )
    p.add_argument(
        "--atheris", action="store_true", help="coverage-guided fuzzing with atheris (libFuzzer)"
    )
    args, rest = p.parse_known_args(argv)
    if args.atheris:
        _atheris_main(rest)
        return 0
    if args.replay:
        data = Path(args.replay).read_bytes()
        t0 = time.perf_counter()
        try:
            print(repr(kombu_dash.loads(data))[:2000])
        except DecodeError as exc:
            print(f"DecodeError: {str(exc)[:2000]}")
        first = time.perf_counter() - t0
        t0 = time.process_time()  # again, now that the tag's library is imported
        check_one(data)
        again = time.process_time() - t0
        print(f"first decode {first:.3f}s (imports included), second {again:.3f} CPU s")
        return 0
    only = None
    if args.only:
        groups = {
            "numpy-pandas": generators.NUMPY_PANDAS,
            "collisions": tuple(generators.COLLIDING),
        }
        only = tuple(k for part in args.only.split(",") for k in groups.get(part, (part,)))
    options = {
        "structured": args.structured,
        "only": only,
        "isolate": not args.no_isolate,
        "memory_mb": args.memory_mb,
    }
    crash_dir = Path(__file__).parent / "crashes"
    jobs = [
        (
            -(-args.inputs // args.jobs),
            args.seed + k,
            args.max_seconds,
            crash_dir,
            args.stop_after,
            options,
        )
        for k in range(args.jobs)
    ]
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            parts = pool.map(_job, jobs)
    else:
        parts = [_job(jobs[0])]
    total = {
        k: sum(p[k] for p in parts)
        for k in ("inputs", "decoded", "decode_errors", "structured", "seconds")
    }
    merged = {kind: [f for p in parts for f in p[kind]] for kind in FAILURE_KINDS}
    slowest = max((p["slowest"] for p in parts), key=lambda s: s[0])
    print(
        f"inputs: {total['inputs']:,} ({total['structured']:,} from the per-tag generators)  "
        f"decoded: {total['decoded']:,}  DecodeError: {total['decode_errors']:,}"
    )
    print(
        f"failures -- {failure_counts(merged)}  (budget: {args.max_seconds} CPU s, "
        f"{args.memory_mb} MB of address space per input)"
    )
    print(
        f"seeds: {parts[0]['seeds']} (tags: {len(tag_keys())})  "
        f"seconds (summed over jobs): {total['seconds']:.1f}  "
        f"slowest input: {slowest[0] * 1000:.1f} ms ({len(slowest[1])} bytes: {slowest[1][:80]!r})"
    )
    kinds = {}
    for kind in FAILURE_KINDS:
        for data, detail, where in merged[kind]:
            kinds.setdefault((kind, detail.split(":")[0][:60], where), (data, detail))
    recovered = sum(p.get("recovered", 0) for p in parts)
    print(f"RLIMIT_CPU kills not repeated in a fresh child (not counted): {recovered}")
    print(f"distinct failures (kind, first words, innermost frame): {len(kinds)}")
    for (kind, _, where), (data, detail) in kinds.items():
        print(f"--- {kind}: {detail[:200]}\n    at {where}\n    input: {data[:200]!r}")
    return 1 if any(merged.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
