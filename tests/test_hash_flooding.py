"""Hash flooding: every tag that builds a hash table from a payload refuses, in linear time,
values whose hashes collide (docs/security.rst, "Decode budgets"; kombu_dash/budgets.py).

The attacks are built from the hash functions (fuzz/fuzz_generators.py): distinct values
with one hash (multiples of 2**61-1, Decimals and UUIDs hashing as those ints, floats
``m * 2**(61*k)``, 2-tuples of 64-bit ints from CPython's tuple hash inverted, two-int
frozensets from the frozenset hash inverted, pandas' khash and X31 inverted) and distinct
ints whose probes run through the same slots of a CPython set or dict. Hostile decodes run
in a child process under RLIMIT_CPU and RLIMIT_AS, once per engine (KOMBU_DASH_NO_SPEEDUPS=1
for the Python walk); the bounds are asserted by work done (comparisons counted on an
instrumented type, a DecodeError before the table is built) or against a collision-free
message of the same size decoded in the same child, never by this machine's seconds.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kombu_dash import DecodeError, budgets
from kombu_dash.budgets import HASH_MAX_EQUAL, HASH_MAX_PROBES

from .harness import ENGINES

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))
import fuzz_generators as attacks  # noqa: E402

# -- the child ----------------------------------------------------------------------------

_CHILD = textwrap.dedent("""
    import json, os, random, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    import fuzz_generators as g
    import numpy, pandas, kombu_dash
    from kombu_dash import DecodeError

    COUNT = {"eq": 0, "hash": 0}

    class Key:
        '''A hashable value whose hash the message chooses, counting the work done on it.'''
        __slots__ = ("h", "i")
        def __init__(self, h, i):
            self.h, self.i = h, i
        def __hash__(self):
            COUNT["hash"] += 1
            return self.h
        def __eq__(self, other):
            COUNT["eq"] += 1
            return isinstance(other, Key) and self.i == other.i

    @kombu_dash.register_tag
    class KeyTag(kombu_dash.Tag):
        key = "test.Key"
        types = (Key,)
        def to_json(self, value):
            return [value.h, value.i]
        def to_python(self, payload):
            return Key(*payload)

    def containers(vals):
        keyed = [[v, "x"] for v in vals]
        return {
            "set": {"~set": vals},
            "frozenset": {"~frozenset": vals},
            "dict": {"~dict": [[v, i] for i, v in enumerate(vals)]},
            "OrderedDict": {"~OrderedDict": [[v, i] for i, v in enumerate(vals)]},
            "Counter": {"~Counter": {"~dict": [[v, 1] for v in vals]}},
            "werkzeug.MultiDict": {"~werkzeug.MultiDict": keyed},
            "starlette.ImmutableMultiDict": {"~starlette.ImmutableMultiDict": keyed},
            "django.MultiValueDict": {"~django.MultiValueDict": keyed},
            "kombu_dash.MultiDict": {"~kombu_dash.MultiDict": {"items": keyed, "last": False}},
        }

    def decode(text):
        '''(outcome, CPU seconds per decode): decoded again and again for at least 0.1 s,
        this kernel's CPU clock ticking in 4 ms steps'''
        runs, start = 0, time.process_time()
        while True:
            try:
                kombu_dash.loads(text)
                outcome = {"result": "decoded"}
            except DecodeError as exc:
                outcome = {"result": "DecodeError", "tag": exc.tag, "path": exc.path[:4],
                           "message": exc.message[:200]}
            runs += 1
            spent = time.process_time() - start
            if spent >= 0.1 and runs >= 2:
                return outcome, spent / runs

    kombu_dash.loads(json.dumps(containers([{"~decimal": "1"}, {"~uuid": "0" * 32}])["set"]))
    def vm_bytes():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
    limit = vm_bytes() + 1024 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    exec(sys.stdin.read())
""")
CPU_SECONDS = 120


def run_child(engine: str, body: str) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("KOMBU_DASH_NO_SPEEDUPS", None)
    if engine == "python":
        env["KOMBU_DASH_NO_SPEEDUPS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(FUZZ), str(CPU_SECONDS)],
        input=textwrap.dedent(body),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"the child was killed (returncode {proc.returncode}: over {CPU_SECONDS} s of CPU "
        f"or its memory limit?)\n{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.splitlines()[-1])


# -- every construction in every hashed container, both engines --------------------------

N = 4000  # the code before these bounds took 1-30 s of CPU on each of these messages
CONSTRUCTIONS = ["ints", "decimals", "uuids", "floats", "tuples", "frozensets", "probe-chain"]
CONTAINERS = [
    "set",
    "frozenset",
    "dict",
    "OrderedDict",
    "Counter",
    "werkzeug.MultiDict",
    "starlette.ImmutableMultiDict",
    "django.MultiValueDict",
    "kombu_dash.MultiDict",
]
#: the colliding message's CPU per byte may be at most this many times the collision-free
#: one's: ten times the worst measured (7.5, the C engine on a set's probe chains, whose
#: replay walks each hash's 13 jumps in Python); equal hashes cost 100-1,000 times more
#: before these bounds
FACTOR = 75

_FLOOD = f"""
    rng = random.Random(7)
    N = {N}
    def values(kind, clean):
        if kind == "ints":
            return [rng.getrandbits(61) for _ in range(N)] if clean else g.equal_hash_ints(N, rng)
        if kind == "decimals":
            if clean:
                return [{{"~decimal": str(rng.getrandbits(61)) + ".5"}} for _ in range(N)]
            return [{{"~decimal": d}} for d in g.equal_hash_decimals(N, rng)]
        if kind == "uuids":
            if clean:
                return [{{"~uuid": "%032x" % rng.getrandbits(128)}} for _ in range(N)]
            return [{{"~uuid": u}} for u in g.equal_hash_uuids(N, rng)]
        if kind == "floats":
            if clean:
                return [rng.random() * 2.0 ** rng.randrange(900) for _ in range(N)]
            return g.equal_hash_floats(N, rng)
        if kind == "tuples":
            if clean:
                return [{{"~tuple": [rng.getrandbits(61), rng.getrandbits(61)]}} for _ in range(N)]
            return [{{"~tuple": p}} for p in g.equal_hash_pairs(N, rng)]
        if kind == "frozensets":
            if clean:
                return [{{"~frozenset": [rng.getrandbits(61), rng.getrandbits(61)]}}
                        for _ in range(N)]
            return [{{"~frozenset": p}} for p in g.equal_hash_frozensets(N, rng)]
        raise AssertionError(kind)

    def chain(table, clean):
        keys = g.probe_chain_ints(table, 13 if table == "set" else 12, random.Random(0))
        return [rng.getrandbits(61) for _ in keys] if clean else keys

    out = {{}}
    for kind in {CONSTRUCTIONS!r}:
        if kind == "probe-chain":
            pairs = {{}}
            for table in ("set", "dict"):
                bad, good = containers(chain(table, False)), containers(chain(table, True))
                for name in bad:
                    if (name in ("set", "frozenset")) == (table == "set"):
                        pairs[name] = bad[name], good[name]
        else:
            bad, good = containers(values(kind, False)), containers(values(kind, True))
            pairs = {{name: (bad[name], good[name]) for name in bad}}
        for name, (bad, good) in pairs.items():
            bad, good = json.dumps(bad), json.dumps(good)
            outcome, bad_cpu = decode(bad)
            clean, good_cpu = decode(good)
            outcome["clean"] = clean["result"]
            outcome["ratio"] = (bad_cpu / len(bad)) / max(good_cpu / len(good), 1e-9)
            out[kind + " in " + name] = outcome
    print(json.dumps(out))
"""


@pytest.fixture(scope="module", params=ENGINES)
def floods(request) -> tuple[str, dict]:
    return request.param, run_child(request.param, _FLOOD)


#: the tag whose payload the error names (a Counter's keys are its ~dict's)
_TAG = {"Counter": "dict", "django.MultiValueDict": "django.MultiValueDict"}
#: where in the payload the offending key sits, after its index
_KEY_PATH = {
    "set": [],
    "frozenset": [],
    "Counter": [0],
    "kombu_dash.MultiDict": [0],
}


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("kind", CONSTRUCTIONS)
def test_colliding_keys_are_refused_in_linear_time(floods, kind, container):
    engine, results = floods
    out = results[f"{kind} in {container}"]
    assert out["clean"] == "decoded", out
    assert out["result"] == "DecodeError", out
    assert "hash flooding" in out["message"], out
    assert out["tag"] == _TAG.get(container, container), out
    index = 1 if container == "kombu_dash.MultiDict" else 0  # {"items": [...]}: after "items"
    if container == "kombu_dash.MultiDict":
        assert out["path"][0] == "items", out
    assert type(out["path"][index]) is int, out
    assert out["path"][index + 1 :] == _KEY_PATH.get(container, [0]), out
    assert out["ratio"] < FACTOR, f"{engine} engine: {out}"


# -- work done, counted on a type whose hash the message chooses ---------------------------

_COUNTED = """
    N = 3000
    out = {}
    for name, shape in (("equal hashes", lambda i: [0, i]), ("distinct hashes", lambda i: [i, i]),
                        ("one value repeated", lambda i: [0, 0])):
        for container, payload in containers([{"~test.Key": shape(i)} for i in range(N)]).items():
            COUNT["eq"] = COUNT["hash"] = 0
            try:
                kombu_dash.loads(json.dumps(payload))
                outcome = {"result": "decoded"}
            except DecodeError as exc:
                outcome = {"result": "DecodeError", "message": exc.message}
            out[name + " in " + container] = dict(outcome, eq=COUNT["eq"], hash=COUNT["hash"])
    print(json.dumps(out))
"""


@pytest.fixture(scope="module", params=ENGINES)
def counted(request) -> tuple[str, dict]:
    return request.param, run_child(request.param, _COUNTED)


@pytest.mark.parametrize("container", CONTAINERS)
def test_equal_hashes_cost_a_bounded_number_of_comparisons(counted, container):
    engine, results = counted
    n = 3000
    flood = results[f"equal hashes in {container}"]
    assert flood["result"] == "DecodeError", flood
    # refused once HASH_MAX_EQUAL+1 met: at most 1+2+...+HASH_MAX_EQUAL comparisons per walk
    # (the C walk's failure makes the Python walk run again), against n**2/2 before
    walks = 2 if engine == "c" else 1
    assert flood["eq"] <= walks * HASH_MAX_EQUAL * (HASH_MAX_EQUAL + 1), flood
    assert flood["hash"] <= walks * 2 * n, flood  # each value hashed once or twice per walk
    distinct = results[f"distinct hashes in {container}"]
    assert distinct["result"] == "decoded" and distinct["eq"] == 0, distinct
    repeated = results[f"one value repeated in {container}"]
    assert repeated["result"] == "decoded", repeated
    # each repeat is compared with the one value before it: the check's and the build's
    assert repeated["eq"] <= 3 * n, repeated


# -- pandas ---------------------------------------------------------------------------------

_PANDAS = """
    rng = random.Random(3)
    N = 5000
    def frames(values, dtype):
        column = {"dtype": dtype, "values": values}
        series = lambda index: {"~pandas.Series": {"index": index, "name": None,
                                "data": {"dtype": "int64", "values": [0] * len(values)}}}
        return {
            "categories": {"~pandas.Categorical": {"dtype": "category", "categories": column,
                           "ordered": False, "codes": list(range(len(values)))}},
            "index": series({"values": column, "name": None}),
            "MultiIndex level": series({"levels": [column], "names": [None]}),
        }
    kinds = {
        "int64 khash": ("int64", g.pandas_equal_hash_int64(N, rng),
                        [rng.getrandbits(62) for _ in range(N)]),
        "object ints": ("object", g.equal_hash_ints(N, rng),
                        [rng.getrandbits(61) for _ in range(N)]),
        "X31 strings": ("object", g.x31_colliding_strings(N, rng),
                        ["%026x" % rng.getrandbits(100) for _ in range(N)]),
    }
    out = {}
    for kind, (dtype, bad, good) in kinds.items():
        bad, good = frames(bad, dtype), frames(good, dtype)
        for where in bad:
            b, c = json.dumps(bad[where]), json.dumps(good[where])
            outcome, bad_cpu = decode(b)
            clean, good_cpu = decode(c)
            outcome["clean"] = clean["result"]
            outcome["ratio"] = (bad_cpu / len(b)) / max(good_cpu / len(c), 1e-9)
            out[kind + " as " + where] = outcome
    print(json.dumps(out))
"""


@pytest.fixture(scope="module", params=ENGINES)
def pandas_floods(request) -> tuple[str, dict]:
    return request.param, run_child(request.param, _PANDAS)


@pytest.mark.parametrize("where", ["categories", "index", "MultiIndex level"])
@pytest.mark.parametrize("kind", ["int64 khash", "object ints", "X31 strings"])
def test_colliding_pandas_labels_are_refused(pandas_floods, kind, where):
    engine, results = pandas_floods
    out = results[f"{kind} as {where}"]
    assert out["clean"] == "decoded", out
    if kind == "X31 strings" and where != "MultiIndex level":
        # only factorize hashes strings with X31; lookups use str's randomised hash
        assert out["result"] == "decoded", out
        return
    assert out["result"] == "DecodeError" and "hash flooding" in out["message"], out
    expected = {
        "categories": ["categories", "values"],
        "index": ["index", "values", "values"],
        "MultiIndex level": ["index", "levels", 0, "values"],
    }[where]
    assert out["path"][: len(expected)] == expected[:4], out
    assert out["ratio"] < FACTOR, f"{engine} engine: {out}"


# -- the replay is CPython's own table ------------------------------------------------------


def _reference(values: list, table: str) -> int:
    """Slot by slot, the probes CPython makes once perturb is spent (setobject.c,
    dictobject.c), over a whole build: what budgets._Build counts with its union-find."""
    hashes = list(map(hash, values))
    linear = 9 if table == "set" else 0
    m64 = (1 << 64) - 1

    def walk(owner: list, i: int, compare: bool) -> tuple[int, int]:
        h, mask = hashes[i], len(owner) - 1
        j, perturb, spent = h & mask, h & m64, 0
        while True:
            for k in range(j, (j + linear if j + linear <= mask else j) + 1):
                o = owner[k]
                if o == -1:
                    return k, spent
                if compare and hashes[o] == h and values[o] == values[i]:
                    return -2, spent
            perturb >>= 5
            j = (j * 5 + perturb + 1) & mask
            spent += not perturb

    spent, owner = 0, [-1] * 8
    if table == "set":
        fill = 0
        for i in range(len(values)):
            j, s = walk(owner, i, True)
            spent += s
            if j == -2:
                continue
            owner[j], fill = i, fill + 1
            if fill * 5 >= (len(owner) - 1) * 3:
                old, owner = owner, [-1] * (1 << (fill * (2 if fill > 50000 else 4)).bit_length())
                for k in (k for k in old if k != -1):
                    j, s = walk(owner, k, False)
                    owner[j], spent = k, spent + s
        return spent
    order: list[int] = []
    for i in range(len(values)):
        j, s = walk(owner, i, True)
        spent += s
        if j == -2:
            continue
        if len(order) == (len(owner) << 1) // 3:
            owner = [-1] * (len(owner) << 1)
            for k in order:
                j, s = walk(owner, k, False)
                owner[j], spent = k, spent + s
        j, s = walk(owner, i, False)
        owner[j], spent = i, spent + s
        order.append(i)
    return spent


def _replayed(values: list, table: str) -> budgets._Build:
    build = budgets._Build(values, list(map(hash, values)), "value", table)
    build.allowed = 1 << 62  # count, never refuse
    build.set() if table == "set" else build.dict()
    return build


def _inputs() -> dict[str, list]:
    rng = random.Random(11)
    return {
        "random": [rng.getrandbits(61) for _ in range(20000)],
        "i << 24": [i << 24 for i in range(20000)],
        "i << 50": [i << 50 for i in range(20000)],
        "repeats": [rng.randrange(600) << 30 for _ in range(20000)],
        "negative": [-i for i in range(3000)],
        "floats": [rng.random() for _ in range(20000)],
        "set chain": attacks.probe_chain_ints("set", 13, random.Random(0)),
        "dict chain": attacks.probe_chain_ints("dict", 12, random.Random(0)),
    }


@pytest.mark.parametrize("table", ["set", "dict"])
@pytest.mark.parametrize("name", list(_inputs()))
def test_the_replay_counts_what_a_slot_by_slot_walk_counts(name, table):
    values = _inputs()[name]
    assert _replayed(values, table).spent == _reference(values, table)


@pytest.mark.parametrize("table", ["set", "dict"])
def test_the_replay_grows_its_table_as_cpython_does(table):
    # the replay's table for n values has the size CPython's has, read with getsizeof
    sizes: dict[int, int] = {}
    for n in [*range(9, 3000, 7), 19660, 19661, 50000, 78642, 78643, 87381, 87382]:
        real = set(range(n)) if table == "set" else dict.fromkeys(range(n))
        build = _replayed(list(range(n)), table)
        assert build.last is not None
        sizes.setdefault(sys.getsizeof(real), build.last.mask + 1)
        assert sizes[sys.getsizeof(real)] == build.last.mask + 1, n
    if table == "set":  # 16 bytes a slot
        for size, slots in sizes.items():
            assert size - sys.getsizeof(set(range(5))) == 16 * (slots - 32)


@pytest.mark.parametrize("table", ["set", "dict"])
def test_the_probe_chains_are_quadratic_for_cpython(table):
    keys = attacks.probe_chain_ints(table, 13 if table == "set" else 12, random.Random(0))
    # hundreds of probes per key: each key walks the run of the ones before it
    assert _replayed(keys, table).spent > 50 * len(keys)
    assert _replayed([k + 1 for k in keys], table).spent < len(keys)  # shifted: no chain


_REAL = """
    out = {}
    for table, build in (("set", set), ("dict", dict.fromkeys)):
        keys = g.probe_chain_ints(table, 13 if table == "set" else 12, random.Random(0))
        clean = [random.Random(1).getrandbits(61) for _ in keys]
        times = {}
        for name, values in (("chain", keys), ("clean", clean)):
            runs, start = 0, time.process_time()
            while time.process_time() - start < 0.2 or runs < 2:
                build(values)
                runs += 1
            times[name] = (time.process_time() - start) / runs
        out[table] = times["chain"] / max(times["clean"], 1e-9)
    print(json.dumps(out))
"""


def test_the_probe_chains_hurt_cpython_itself():
    # CPython's own set() and dict.fromkeys() on the chains, without kombu_dash (measured
    # 30-60 times slower than on as many random ints): the replay models a real cost
    ratios = run_child("python", _REAL)
    assert ratios["set"] > 5 and ratios["dict"] > 5, ratios


# -- ordinary data decodes, in both engines -------------------------------------------------


def _ordinary() -> dict[str, object]:
    import datetime as dt
    import decimal
    import uuid

    rng = random.Random(5)
    n = 5000
    return {
        "ints i << 24": {i << 24 for i in range(n)},
        "floats": frozenset(rng.random() for _ in range(n)),
        "Decimal cents": {decimal.Decimal(i).scaleb(-2) for i in range(n)},
        "uuid4": {uuid.UUID(int=rng.getrandbits(128)) for _ in range(n)},
        "tuples": {(i // 70, i % 70) for i in range(n)},
        "timedeltas": {dt.timedelta(seconds=i) for i in range(n)},
        "int-keyed dict": {i << 32: i for i in range(n)},
        "one hash, 8 values": {_same_hash(k) for k in range(HASH_MAX_EQUAL)},
        "negative ints (-1 and -2 hash alike)": {-i for i in range(n)},
    }


def _same_hash(k: int) -> int:
    """The k-th int with the hash of 12345 (12345 + k * (2**61 - 1))."""
    return 12345 + k * attacks.MERSENNE


@pytest.mark.parametrize("name", list(_ordinary()))
def test_ordinary_data_decodes(name, codec):
    value = _ordinary()[name]
    out = codec.loads(codec.dumps(value))
    assert type(out) is type(value) and out == value


def test_a_multi_dict_may_repeat_a_key_any_number_of_times(codec):
    from werkzeug.datastructures import MultiDict

    value = MultiDict([(k % 3 << 40, i) for i, k in enumerate(range(20000))])
    out = codec.loads(codec.dumps(value))
    assert type(out) is MultiDict and out == value and len(out.getlist(0)) > 6000


def test_one_more_value_with_the_same_hash_is_refused_and_named(codec):
    many = {"~set": [_same_hash(k) for k in range(HASH_MAX_EQUAL + 1)]}
    with pytest.raises(DecodeError) as info:
        codec.loads(json.dumps({"task": [1, many]}))
    exc = info.value
    assert exc.tag == "set" and exc.path == ["task", 1, HASH_MAX_EQUAL]
    assert f"more than {HASH_MAX_EQUAL} distinct values share one hash" in str(exc)
    assert "at value['task'][1][8]" in str(exc)


def test_the_bounds_are_the_documented_ones():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "security.rst").read_text()
    assert f"``HASH_MAX_EQUAL`` = {HASH_MAX_EQUAL}" in doc
    assert f"``HASH_MAX_PROBES`` = {HASH_MAX_PROBES}" in doc
