"""Per-tag generators of valid-looking but hostile payloads.

Byte and JSON mutations rarely produce a payload that gets past a tag's shape checks
*and* asks for something expensive. These generators know each tag's wire form (read
from the tags as they are, see kombu_dash/frameworks/) and fill it with what hurts:
dtype grammar (sizes, sub-array shapes, object fields), exponents and digits, ranges
and shapes whose product is huge, encodings, non-string values where strings are meant,
values Dash cannot write, and counts (many costly objects in one message).

``generate(rng, keys)`` returns one input (bytes). Every generator returns plain JSON
data (tags written as ``{"~key": payload}`` dicts), so the input is ``json.dumps`` of it.
"""

from __future__ import annotations

import base64
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
    names = [k for k in GENERATORS if k in keys and (only is None or k in only)]
    value = GENERATORS[rng.choice(names)](rng)
    r = rng.random()
    if r < 0.15:  # counts: many of one costly object in a message of at most ~250 KB
        one = len(json.dumps(value, allow_nan=False))
        value = [value] * min(rng.choice([10, 100, 1001, 4500]), max(1, 250_000 // one))
    elif r < 0.35:  # where Celery puts it: (args, kwargs, embed)
        value = [[value], {"k": value}, {"callbacks": None}]
    return json.dumps(value, allow_nan=False).encode("utf-8", "surrogatepass")
