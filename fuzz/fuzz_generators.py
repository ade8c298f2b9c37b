"""Per-tag generators of valid-looking but hostile payloads.

Byte and JSON mutations rarely produce a payload that gets past a tag's shape checks
*and* asks for something expensive. These generators know each tag's wire form (read
from the tags as they are, see kombu_dash/frameworks/) and fill it with what hurts:
dtype grammar (sizes, sub-array shapes, object fields), exponents and digits, ranges
and shapes whose product is huge, encodings, non-string values where strings are meant,
values Dash cannot write, counts (many costly objects in one message), and hash flooding
(values whose hashes collide, built by inverting the hash functions, and ints whose
probes run through the same slots of CPython's tables).

``generate(rng, keys)`` returns one input (bytes). Every generator returns plain JSON
data (tags written as ``{"~key": payload}`` dicts), so the input is ``json.dumps`` of it.
"""

from __future__ import annotations

import base64
import functools
import json
import random
from collections.abc import Callable
from typing import Any

# -- building blocks --------------------------------------------------------------------

BIG_INTS = [
    0,
    1,
    -1,
    7,
    2**31,
    2**32,
    2**53 + 1,
    2**62,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    10**9,
    10**12,
    10**18,
    -(10**18),
    134217728,
]
DECIMALS = [
    "1e3000000",
    "1e999999999",
    "-1e1000000",
    "1e300000000",
    "1E+400",
    "sNaN",
    "-sNaN",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e-999999999",
    "0e999999999",
    "9" * 4300,
    "1" + "0" * 4299,
    "1.5",
    "0",
    "-0",
    "123.456e7",
]
SIZES = [
    "",
    "0",
    "1",
    "2",
    "4",
    "8",
    "16",
    "1000",
    "134217728",
    "1000000000",
    "4294967296",
    "99999999999",
]
KINDS = list("biufcUSVOMma?") + ["b1", "f2"]
ORDERS = ["", "<", ">", "|", "="]
UNITS = ["", "[ns]", "[s]", "[D]", "[Y]", "[generic]", "[as]", "[10ns]", "[999999999Y]"]
SUBSHAPES = [[1], [2, 3], [134217728], [1000000000], [0], [65536, 65536], [2] * 32]
SHAPES = [
    [1],
    [0],
    [20],
    [3, 2],
    [],
    [10**9],
    [2**31, 2**31],
    [10**18, 0],
    [0, 10**18],
    [3, 10**6],
    [2**63],
    [1] * 40,
    [-1],
    ["1"],
    [1.5],
]
ENCODINGS = [
    "utf-8",
    "latin-1",
    "bogus",
    "hex",
    "uu_codec",
    "rot13",
    "zlib",
    "mbcs",
    "idna",
    "punycode",
    "utf-8 ",
    "UTF\u0130-8",
    "",
    "a" * 200,
    "base64",
    "cp037",
    "utf-7",
]
ISO_TEXTS = [
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00Z+02:00",
    "9999-12-31T23:59:59.999999+14:00",
    "0001-01-01T00:00:00-23:59",
    "2024-02-30T00:00:00",
    "+002024-01-01",
    "2024-01-01T24:00:00",
    "2024-W01-1",
    "2024-01-01T00:00:00+00:00[Europe/Paris]",
    "20240101T000000",
    "now",
    "NaT",
]
DURATIONS = [
    "PT1H",
    "PT1HPT1HPT1H",
    "P999999999D",
    "-P1D",
    "P1Y",
    "PT0.000000001S",
    "P" + "9" * 400 + "D",
    "PT1H1H",
    "P1DT",
    "",
    "1 days",
    "NaT",
]
ZONES = [
    "UTC",
    "Europe/Paris",
    "posix/Europe/Paris",
    "right/UTC",
    "dateutil//etc/passwd",
    "/etc/passwd",
    "../../etc/passwd",
    "UTC+02:00",
    "tzlocal()",
    "",
    None,
    "Etc/GMT+12",
    "x" * 300,
]
STRINGS = ["", "a", "\x00", "False", "True", "123", "1.9", "NaN", "\ud800", "é", "x" * 1000]
PANDAS_DTYPES = [
    "int64",
    "int8",
    "uint64",
    "float16",
    "float64",
    "bool",
    "object",
    "Int64",
    "Float64",
    "boolean",
    "string",
    "datetime64[ns]",
    "timedelta64[ns]",
    "datetime64[s, UTC]",
    "datetime64[ns, Europe/Paris]",
    "category",
    "V8",
    "|a1",
    "i4,f8",
    "float128",
]


def tag(key: str, payload: Any) -> dict[str, Any]:
    return {"~" + key: payload}


def b64(n: int, rng: random.Random) -> str:
    n = min(n, 4096)
    fill = rng.choice([b"\x00", b"\xff", b"\x7f", bytes([rng.randrange(256)])])
    return base64.b64encode(fill * n).decode("ascii")


def hostile_scalar(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.25:
        return tag("decimal", rng.choice(DECIMALS))
    if r < 0.4:
        return rng.choice(BIG_INTS)
    if r < 0.55:
        return rng.choice(STRINGS)
    if r < 0.65:
        return tag("float", rng.choice(["nan", "inf", "-inf"]))
    if r < 0.75:
        return rng.choice([True, False, None, 1.9, -0.0, 1e308])
    if r < 0.85:
        return tag("int", rng.choice(["9" * 4000, "18446744073709551616", "-" + "9" * 30]))
    return tag(rng.choice(["set", "tuple", "frozenset"]), [1])


# -- numpy --------------------------------------------------------------------------------


def descr(rng: random.Random, depth: int = 0) -> Any:
    if depth < 2 and rng.random() < 0.3:
        fields = []
        for i in range(rng.choice([1, 1, 2, 3])):
            field: list[Any] = [rng.choice([f"f{i}", "", "a", "a"]), descr(rng, depth + 1)]
            if rng.random() < 0.4:
                field.append(rng.choice(SUBSHAPES))
            fields.append(field)
        return fields
    kind = rng.choice(KINDS)
    text = rng.choice(ORDERS) + kind + rng.choice(SIZES)
    if kind in "Mm":
        text = rng.choice(ORDERS) + kind + "8" + rng.choice(UNITS)
    return text


def gen_ndarray(rng: random.Random) -> Any:
    shape = rng.choice(SHAPES)
    d = rng.choice([descr(rng), "|O", [["a", "|O", rng.choice(SUBSHAPES)]], "<f8", "<U1", "<f2"])
    count = _product(shape)
    if "O" in json.dumps(d) and rng.random() < 0.7:
        # object dtypes carry a list of prod(shape) values: get past that check
        n = count if 0 <= count <= 50 else rng.choice([0, 1, 20])
        data: Any = [hostile_scalar(rng) for _ in range(n)]
    elif rng.random() < 0.2:
        data = [hostile_scalar(rng) for _ in range(rng.choice([0, 1, 2, 20]))]
    else:
        data = b64(rng.choice([0, 1, 4, 8, 80, 4096]), rng)
    return tag("numpy.ndarray", {"dtype": d, "shape": shape, "data": data})


def _product(shape: list[Any]) -> int:
    out = 1
    for n in shape:
        if type(n) is not int:
            return -1
        out *= n
    return out


def gen_scalar(rng: random.Random) -> Any:
    d = rng.choice([descr(rng), "<U1", "<U2", "<f2", "<M8[ns]", "<m8[as]", "|V8", "|S1", "|a1"])
    return tag(
        "numpy.scalar",
        {"dtype": d, "data": rng.choice(["/////w==", "AAAAAA==", b64(8, rng), b64(2, rng), ""])},
    )


# -- pandas -------------------------------------------------------------------------------


def column(rng: random.Random, n: int | None = None) -> Any:
    n = rng.choice([0, 1, 2, 3]) if n is None else n
    name = rng.choice(PANDAS_DTYPES)
    if name == "category" and rng.random() < 0.7:
        return {
            "dtype": "category",
            "categories": column(rng),
            "ordered": rng.choice([True, False, 1]),
            "codes": [rng.choice([0, -1, 1, 2**40]) for _ in range(n)],
        }
    return {"dtype": name, "values": [hostile_scalar(rng) for _ in range(n)]}


def index(rng: random.Random, n: int) -> Any:
    r = rng.random()
    if r < 0.45:
        start, stop, step = rng.choice(
            [
                (0, n, 1),
                (0, 10**18, 1),
                (0, 2**63, 1),
                (-(2**63), 2**63 - 1, 1),
                (0, 10**18, 10**9),
                (0, n, 0),
                (n, 0, -1),
                (0, 1, 2**63),
            ]
        )
        return {"range": [start, stop, step], "name": rng.choice([None, "i", 1])}
    if r < 0.6:
        return {"levels": [column(rng, n), column(rng, n)], "names": [None, "b"]}
    return {"values": column(rng, n), "name": None}


def gen_series(rng: random.Random) -> Any:
    n = rng.choice([0, 1, 2, 3])
    return tag(
        "pandas.Series",
        {"index": index(rng, n), "name": rng.choice([None, "s"]), "data": column(rng, n)},
    )


def gen_frame(rng: random.Random) -> Any:
    n, k = rng.choice([0, 1, 2]), rng.choice([0, 1, 2])
    return tag(
        "pandas.DataFrame",
        {
            "index": index(rng, n),
            "columns": index(rng, k),
            "data": [column(rng, n) for _ in range(k)],
        },
    )


def gen_categorical(rng: random.Random) -> Any:
    col = column(rng)
    col["dtype"] = "category"
    col.setdefault("categories", column(rng))
    col.setdefault("ordered", False)
    col.setdefault("codes", [0])
    col.pop("values", None)
    return tag("pandas.Categorical", col)


def gen_timestamp(rng: random.Random) -> Any:
    return tag(
        "pandas.Timestamp",
        [rng.choice(ISO_TEXTS), rng.choice(ZONES), rng.choice(["ns", "s", "D", 1])],
    )


def gen_timedelta(rng: random.Random) -> Any:
    return tag("pandas.Timedelta", [rng.choice(DURATIONS), rng.choice(["ns", "s", "ms", "Y"])])


# -- stdlib scalars -------------------------------------------------------------------------


def gen_decimal(rng: random.Random) -> Any:
    return tag("decimal", rng.choice(DECIMALS))


def gen_datetime(rng: random.Random) -> Any:
    text = rng.choice(ISO_TEXTS)
    if rng.random() < 0.4:
        text += "[" + str(rng.choice(ZONES)) + "]"
    return tag(rng.choice(["datetime", "date", "time"]), text)


def gen_timedelta_std(rng: random.Random) -> Any:
    return tag("timedelta", [rng.choice(BIG_INTS) for _ in range(rng.choice([2, 3, 3, 4]))])


def gen_int(rng: random.Random) -> Any:
    return tag(
        "int",
        rng.choice(["9" * 4300, "9" * 4301, "-" + "9" * 4300, "18446744073709551616", "0" * 5000]),
    )


# -- web containers -------------------------------------------------------------------------


def pair_values(rng: random.Random) -> list[Any]:
    return [
        [
            rng.choice(["a", "", 1, {"~bytes": "YQ=="}]),
            rng.choice(["1", 1, None, True, {"~bytes": "YQ=="}, {"~set": [1]}, "x\r\ny"]),
        ]
        for _ in range(rng.choice([1, 2, 3]))
    ]


def gen_pairs(rng: random.Random) -> Any:
    key = rng.choice(
        [
            "starlette.QueryParams",
            "starlette.FormData",
            "starlette.Headers",
            "starlette.MutableHeaders",
            "werkzeug.Headers",
            "werkzeug.MultiDict",
            "multidict.CIMultiDict",
            "django.MultiValueDict",
            "kombu_dash.Headers",
        ]
    )
    return tag(key, pair_values(rng))


def gen_query_dict(rng: random.Random) -> Any:
    options: dict[str, Any] = {
        "mutable": rng.choice([True, False]),
        "encoding": rng.choice(ENCODINGS),
    }
    if rng.random() < 0.3:
        options["empty"] = [rng.choice(["e", {"~bytes": "YQ=="}, [1]])]
    return tag("django.QueryDict", [options, *pair_values(rng)])


def gen_url(rng: random.Random) -> Any:
    text = rng.choice(
        [
            "http://x/?a=1",
            "http://[::1",
            "http://x:99999999999/",
            "http://" + "a." * 200 + "com",
            "http://xn--" + "a" * 300 + ".com",
            "\x00",
            "",
            "//",
            "http://x/%ZZ",
            "http://é.com/",
        ]
    )
    return tag(rng.choice(["yarl.URL", "starlette.URL"]), text)


# -- Dash and plotly ----------------------------------------------------------------------------


def deep(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"a": [value]}
    return value


def gen_figure(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.3:
        return tag("plotly.Figure", {})
    if r < 0.6:
        bad = rng.choice(
            [
                {"~set": [1]},
                {"~bytes": "YQ=="},
                {"~timedelta": [1, 0, 0]},
                {"~int": "1" + "0" * 25},
                {"~decimal": rng.choice(DECIMALS)},
                {"~kombu_dash.MultiDict": {"items": []}},
            ]
        )
        return tag(
            "plotly.Figure",
            {"data": [{"type": "scatter", "customdata": deep(bad, rng.randrange(8))}]},
        )
    if r < 0.8:
        return tag(
            "plotly.Figure",
            {
                "layout": {
                    rng.choice(["title", "x" * rng.choice([10, 5000]), "template"]): rng.choice(
                        [{"text": "t"}, {}, 1, None]
                    )
                }
            },
        )
    return tag(
        "plotly.Figure",
        {
            "data": [{"type": rng.choice(["bar", "scatter", "os.system", "x" * 3000])}],
            "frames": [{"data": []}] * rng.choice([0, 1, 50]),
        },
    )


def gen_component(rng: random.Random) -> Any:
    props: dict[str, Any] = {}
    r = rng.random()
    if r < 0.2:
        props["_explicit_args"] = []
    elif r < 0.4:
        props["children"] = deep(rng.choice([{"~set": [1]}, {"~bytes": "YQ=="}]), rng.randrange(6))
    elif r < 0.55:
        props["x" * rng.choice([1, 5000])] = 1
    elif r < 0.7:
        props["id"] = rng.choice([{"a": {"~set": [1]}}, {"~tuple": [1]}, {"a": [1]}])
    elif r < 0.85:
        props["style"] = tag("plotly.Figure", {})
    else:
        props["children"] = [
            tag("dash.Component", {"namespace": "dash_html_components", "type": "B", "props": {}})
        ] * rng.choice([1, 100])
    return tag(
        "dash.Component",
        {
            "namespace": rng.choice(["dash_html_components", "dash_core_components"]),
            "type": rng.choice(["Div", "B", "Graph", "Store"]),
            "props": props,
        },
    )


def gen_no_update(rng: random.Random) -> Any:
    return tag("dash.NoUpdate", rng.choice([{}, {"a": 1}, {"_dash_no_update": "_dash_no_update"}]))


def gen_bytes(rng: random.Random) -> Any:
    return tag(rng.choice(["bytes", "bytearray"]), b64(rng.choice([1, 4096]), rng))


# -- hash flooding: values whose hashes collide, built from the hash functions -----------
# Python randomises only str and bytes hashes. Each construction below is checked with
# hash() itself, so a Python whose hash differs yields fewer values rather than wrong ones.

MERSENNE = (1 << 61) - 1  # CPython hashes an int (Decimal, UUID, float) modulo this prime
_M64 = (1 << 64) - 1
_XXP1, _XXP2, _XXP5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def equal_hash_ints(n: int, rng: random.Random) -> list[int]:
    """``n`` distinct ints, one hash: multiples of 2**61-1 (hash 0), shifted by one offset."""
    offset = rng.randrange(MERSENNE)
    return [offset + k * MERSENNE for k in range(n)]


def equal_hash_decimals(n: int, rng: random.Random) -> list[str]:
    """``~decimal`` texts of distinct Decimals with one hash: a fraction (0.5 hashes as
    2**-1 modulo 2**61-1) plus multiples of the prime."""
    frac = rng.choice(["", ".5", ".25", ".125"])
    return [f"{k * MERSENNE}{frac}" for k in range(n)]


def equal_hash_uuids(n: int, rng: random.Random) -> list[str]:
    """``~uuid`` texts: a UUID hashes as its 128-bit int."""
    import uuid

    offset = rng.randrange(MERSENNE)
    return [str(uuid.UUID(int=offset + k * MERSENNE)) for k in range(n)]


def equal_hash_floats(n: int, rng: random.Random) -> list[float]:
    """Floats hashing alike: ``m * 2**(61*k)`` hashes as ``m`` (2**61 is 1 modulo the
    prime); 17 per ``m`` fit in a double, so ``n`` spans several hashes, each > 8 times."""
    out: list[float] = []
    m = rng.randrange(1, 1 << 20)
    while len(out) < n:
        out.extend(float(m) * 2.0 ** (61 * k) for k in range(16))
        m += 1
    return out[:n]


def _rotr31(x: int) -> int:  # undoes the rotate left by 31 of CPython's tuple hash
    return ((x >> 31) | (x << 33)) & _M64


def _int_with_hash(h: int) -> int | None:
    """An int whose hash() is the 64-bit ``h``, if an int can have it."""
    signed = h - (1 << 64) if h >> 63 else h
    if 0 <= signed < MERSENNE:
        return signed
    if -MERSENNE < signed < -2:  # hash(-1) is -2: -2 itself is hash(-2)
        return signed
    return None


def equal_hash_pairs(n: int, rng: random.Random) -> list[list[int]]:
    """2-tuples of plain 64-bit ints sharing one hash: CPython's tuple hash (xxHash lanes,
    Objects/tupleobject.c) inverted for the second lane."""
    target = None
    out: list[list[int]] = []
    length_mix = 2 ^ (_XXP5 ^ 3527539)
    inv_p1, inv_p2 = pow(_XXP1, -1, 1 << 64), pow(_XXP2, -1, 1 << 64)
    while len(out) < n:
        a = rng.randrange(MERSENNE)
        acc = (_XXP5 + a * _XXP2) & _M64
        acc = (((acc << 31) | (acc >> 33)) & _M64) * _XXP1 & _M64
        if target is None:
            target = hash((a, rng.randrange(MERSENNE))) & _M64
        want = _rotr31(((target - length_mix) & _M64) * inv_p1 & _M64)
        b = _int_with_hash(((want - acc) & _M64) * inv_p2 & _M64)
        if b is not None and hash((a, b)) & _M64 == target:
            out.append([a, b])
    return out


def _shuffle_bits(h: int) -> int:  # Objects/setobject.c, the frozenset hash's mixer
    return (((h ^ 89869747) ^ (h << 16)) * 3644798167) & _M64


def _unshuffle_bits(x: int) -> int:
    y = (x * pow(3644798167, -1, 1 << 64)) & _M64 ^ 89869747
    return (y ^ (y << 16) ^ (y << 32) ^ (y << 48)) & _M64  # undoes h ^ (h << 16)


def equal_hash_frozensets(n: int, rng: random.Random) -> list[list[int]]:
    """Two-int frozensets sharing one hash: the hash xors the shuffled hashes of the
    members, so a second member is solved for from the first."""
    out: list[list[int]] = []
    first = rng.randrange(MERSENNE)
    x = _shuffle_bits(first) ^ _shuffle_bits(rng.randrange(MERSENNE))
    target = None
    while len(out) < n:
        a = rng.randrange(MERSENNE)
        b = _int_with_hash(_unshuffle_bits(x ^ _shuffle_bits(a)))
        if b is None or a == b:
            continue
        h = hash(frozenset((a, b)))
        target = h if target is None else target
        if h == target:
            out.append([a, b])
    return out


def probe_chain_ints(table: str, bits: int, rng: random.Random) -> list[int]:
    """Distinct ints (distinct hashes) whose probes all run through the same slots of a
    CPython ``set`` or ``dict`` of ``2**bits`` slots: the first fill a run along the cycle
    ``j -> 5*j + 1`` every walk ends on; each of the others is found by a search over its
    hash, five bits per jump (``perturb >>= 5``), for a walk that stays on taken slots until
    its bits are spent inside that run, which it then walks to the end. Insertion cost
    grows with the number of values: quadratic. Cached: the search takes a second."""
    return list(_probe_chain_ints(table, bits, rng.randrange(4)))


@functools.lru_cache(maxsize=16)
def _probe_chain_ints(table: str, bits: int, seed: int) -> tuple[int, ...]:
    rng = random.Random(seed)
    linear = 9 if table == "set" else 0  # setobject.c LINEAR_PROBES
    size, mask = 1 << bits, (1 << bits) - 1
    taken = bytearray(size)

    def full(j: int) -> bool:
        end = j + linear if j + linear <= mask else j
        return taken.find(0, j, end + 1) < 0

    run = [rng.randrange(size)]  # positions along the cycle, in order; all full but the last
    keys: list[int] = []
    # a set holds 3/5 of its slots, a dict 2/3 (and a set of 2**bits slots holds more
    # than 4/15 of them, or it would be smaller)
    start, stop = (0.45, 0.59) if table == "set" else (0.3, 0.65)
    while len(keys) < start * size:  # the run: each slot filled by the int equal to it
        j = run[-1]
        for k in range(j, (j + linear if j + linear <= mask else j) + 1):
            if not taken[k]:
                taken[k] = 1
                keys.append(k)
        run.append((j * 5 + 1) & mask)
    misses = 0
    while len(keys) < stop * size and misses < 2000:
        found = _search(rng, bits, linear, taken, full, run)
        if found is None:
            misses += 1
            continue
        h, land = found
        taken[land] = 1
        keys.append(h)
        while full(run[-1]):
            run.append((run[-1] * 5 + 1) & mask)
    return tuple(keys)


def _search(
    rng: random.Random,
    bits: int,
    linear: int,
    taken: bytearray,
    full: Callable[[int], bool],
    run: list[int],
) -> tuple[int, int] | None:
    """A 61-bit hash (an int hashes as itself below 2**61-1) whose walk passes only full
    positions while its bits last, then walks the run: (hash, the slot it lands in)."""
    mask = (1 << bits) - 1
    need = len(run) // 4  # a walk at least a quarter of the run long
    stack = [(j, j, 1) for j in (run[rng.randrange(len(run) - 1)] for _ in range(4))]
    for _ in range(4000):
        if not stack:
            return None
        h, j, t = stack.pop()
        low = bits + 5 * (t - 1)  # the hash's bits this jump reads for the first time
        if low >= 61:
            walked, perturb = 0, h >> (5 * (t - 1))
            while full(j):
                perturb >>= 5
                j = (j * 5 + perturb + 1) & mask
                walked += 1
            if walked >= need and h < MERSENNE:
                end = j + linear if j + linear <= mask else j
                return h, taken.find(0, j, end + 1)
            continue
        width = min(5, 61 - low)
        for b in rng.sample(range(1 << width), 1 << width):
            h2 = h | (b << low)
            j2 = (j * 5 + ((h2 >> (5 * t)) & mask) + 1) & mask
            if full(j2):
                stack.append((h2, j2, t + 1))
    return None


def colliding(rng: random.Random, n: int) -> list[Any]:
    """``n`` decoded-as-hashable payload values that collide, of one construction."""
    kind = rng.choice(["int", "decimal", "uuid", "float", "tuple", "frozenset"])
    if kind == "int":
        return list(equal_hash_ints(n, rng))
    if kind == "decimal":
        return [tag("decimal", d) for d in equal_hash_decimals(n, rng)]
    if kind == "uuid":
        return [tag("uuid", u) for u in equal_hash_uuids(n, rng)]
    if kind == "float":
        return list(equal_hash_floats(n, rng))
    if kind == "tuple":
        return [tag("tuple", p) for p in equal_hash_pairs(n, rng)]
    return [tag("frozenset", p) for p in equal_hash_frozensets(n, rng)]


def _flood_values(rng: random.Random, table: str) -> list[Any]:
    if rng.random() < 0.5:
        return colliding(rng, rng.choice([9, 100, 2000, 6000]))
    bits = rng.choice([10, 12, 13] if table == "set" else [10, 11, 12])
    return list(probe_chain_ints(table, bits, rng))


def gen_colliding_set(rng: random.Random) -> Any:
    return tag(rng.choice(["set", "frozenset"]), _flood_values(rng, "set"))


def gen_colliding_dict(rng: random.Random) -> Any:
    pairs = [[k, i] for i, k in enumerate(_flood_values(rng, "dict"))]
    key = rng.choice(
        [
            "dict",
            "OrderedDict",
            "werkzeug.MultiDict",
            "werkzeug.ImmutableMultiDict",
            "starlette.ImmutableMultiDict",
            "django.MultiValueDict",
            "kombu_dash.Headers",
        ]
    )
    return tag(key, pairs)


def gen_colliding_counter(rng: random.Random) -> Any:
    return tag("Counter", tag("dict", [[k, 1] for k in _flood_values(rng, "dict")]))


def pandas_equal_hash_int64(n: int, rng: random.Random) -> list[int]:
    """int64 values with one khash hash, ``(k >> 33) ^ k ^ (k << 11)`` truncated to 32
    bits: any high bits, the low 32 solved for (bit 32 is never read)."""
    target = rng.randrange(1 << 32)
    out = []
    for a in rng.sample(range(1, 1 << 29), n):
        y = (target ^ a) & 0xFFFFFFFF
        out.append((a << 33) | ((y ^ (y << 11) ^ (y << 22)) & 0xFFFFFFFF))
    return out


def x31_colliding_strings(n: int, rng: random.Random) -> list[str]:
    """Strings with one X31 hash (``h = 31*h + byte``, pandas' factorize of strings):
    "Aa" and "BB" hash alike, so does any sequence of them."""
    width = max(1, (n - 1).bit_length())
    picks = rng.sample(range(1 << width), n)
    return ["".join("BB" if p >> b & 1 else "Aa" for b in range(width)) for p in picks]


def gen_colliding_pandas(rng: random.Random) -> Any:
    n = rng.choice([9, 500, 5000])
    kind = rng.choice(["int64", "object", "str"])
    if kind == "int64":
        values: dict[str, Any] = {"dtype": "int64", "values": pandas_equal_hash_int64(n, rng)}
    elif kind == "object":
        values = {"dtype": "object", "values": equal_hash_ints(n, rng)}
    else:
        values = {"dtype": "object", "values": x31_colliding_strings(n, rng)}
    where = rng.choice(["categories", "levels", "index"])
    if where == "categories":
        codes = list(range(n))
        return tag(
            "pandas.Categorical",
            {"dtype": "category", "categories": values, "ordered": False, "codes": codes},
        )
    index = (
        {"levels": [values], "names": [None]}
        if where == "levels"
        else {"values": values, "name": None}
    )
    return tag(
        "pandas.Series",
        {"index": index, "name": None, "data": {"dtype": "int64", "values": [0] * n}},
    )


#: hash flooding generators, each for a tag (the key after "collide:")
COLLIDING: dict[str, Callable[[random.Random], Any]] = {
    "collide:set": gen_colliding_set,
    "collide:dict": gen_colliding_dict,
    "collide:Counter": gen_colliding_counter,
    "collide:pandas.Series": gen_colliding_pandas,
}

#: tag key prefix -> generator (a key the codec lacks is skipped)
GENERATORS: dict[str, Callable[[random.Random], Any]] = {
    "numpy.ndarray": gen_ndarray,
    "numpy.scalar": gen_scalar,
    "pandas.Series": gen_series,
    "pandas.DataFrame": gen_frame,
    "pandas.Categorical": gen_categorical,
    "pandas.Timestamp": gen_timestamp,
    "pandas.Timedelta": gen_timedelta,
    "decimal": gen_decimal,
    "datetime": gen_datetime,
    "timedelta": gen_timedelta_std,
    "int": gen_int,
    "starlette.QueryParams": gen_pairs,
    "django.QueryDict": gen_query_dict,
    "yarl.URL": gen_url,
    "plotly.Figure": gen_figure,
    "dash.Component": gen_component,
    "dash.NoUpdate": gen_no_update,
    "bytes": gen_bytes,
}

#: generators whose tags belong to numpy/pandas and the stdlib scalars they carry
NUMPY_PANDAS = (
    "numpy.ndarray",
    "numpy.scalar",
    "pandas.Series",
    "pandas.DataFrame",
    "pandas.Categorical",
    "pandas.Timestamp",
    "pandas.Timedelta",
    "decimal",
)


def generate(rng: random.Random, keys: list[str], only: tuple[str, ...] | None = None) -> bytes:
    """One input: a generated payload, alone, repeated (counts) or inside Celery's body."""
    menu = {**GENERATORS, **COLLIDING}
    names = [k for k in menu if k.removeprefix("collide:") in keys and (only is None or k in only)]
    value = menu[rng.choice(names)](rng)
    r = rng.random()
    if r < 0.15:  # counts: many of one costly object in a message of at most ~250 KB
        one = len(json.dumps(value, allow_nan=False))
        value = [value] * min(rng.choice([10, 100, 1001, 4500]), max(1, 250_000 // one))
    elif r < 0.35:  # where Celery puts it: (args, kwargs, embed)
        value = [[value], {"k": value}, {"callbacks": None}]
    return json.dumps(value, allow_nan=False).encode("utf-8", "surrogatepass")
