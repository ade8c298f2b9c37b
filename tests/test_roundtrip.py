"""The round-trip table: every type kombu_dash carries comes back as the same type and value.

Adding a type = one Tag class + one row here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
import zoneinfo
from collections import Counter, OrderedDict

import multidict
import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict

from kombu_dash import Headers, MultiDict

from .harness import same

UTC = dt.timezone.utc
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _ambiguous_second():
    # 02:30 happens twice in Paris on 2023-10-29; fold=1 is the second, UTC+1
    return dt.datetime(2023, 10, 29, 2, 30, tzinfo=PARIS, fold=1)


ROWS = [
    # -- JSON's own types stay themselves --------------------------------------
    ("str", 'héllo \u2028 \x00 "q" \\'),
    ("int", 42),
    ("int-64-bit-edges", [2**63 - 1, -(2**63), 2**64 - 1]),
    ("float", 0.1),
    ("float-negative-zero", -0.0),
    ("float-small", 1.5e-05),
    ("bool", True),
    ("none", None),
    ("list", [1, "a", None, [2.5]]),
    ("dict", {"a": 1, "b": {"c": [1, 2]}}),
    ("empty-containers", [[], {}, "", ()]),
    # -- Python values JSON loses ----------------------------------------------
    ("tuple", (1, "a", (2, 3))),
    ("empty-tuple", ()),
    ("set", {1, "a", (2, 3)}),
    ("frozenset", frozenset({1, 2})),
    ("bytes", b"\x00\xffbinary"),
    ("bytearray", bytearray(b"abc")),
    ("datetime-naive", dt.datetime(2024, 2, 29, 23, 59, 59, 123456)),
    ("datetime-utc", dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
    (
        "datetime-offset",
        dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    ),
    ("datetime-zoneinfo", dt.datetime(2024, 7, 14, 9, 30, tzinfo=PARIS)),
    ("datetime-zoneinfo-fold", _ambiguous_second()),
    (
        "datetime-zoneinfo-posix",
        dt.datetime(2024, 7, 14, 9, 30, tzinfo=zoneinfo.ZoneInfo("posix/Europe/Paris")),
    ),
    ("date", dt.date(1999, 12, 31)),
    ("time", dt.time(23, 59, 1, 999)),
    ("time-aware", dt.time(8, 0, tzinfo=UTC)),
    ("timedelta", dt.timedelta(days=-3, seconds=5, microseconds=7)),
    ("decimal", decimal.Decimal("3.14159265358979323846264338327950288")),
    (
        "decimal-special",
        [decimal.Decimal("-0"), decimal.Decimal("Infinity"), decimal.Decimal("1E+30")],
    ),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("dict-int-keys", {1: "a", 2: "b"}),
    ("dict-mixed-keys", {1: "a", "1": "b", (1, 2): "c", None: "d", False: "e", 2.5: "f"}),
    ("ordered-dict", OrderedDict([("b", 1), ("a", (2,))])),
    ("counter", Counter({"kd.add": 3, "kd.echo": 1})),
    ("counter-odd-keys", Counter({1: 2, (1, 2): 1, "~x": 5})),
    ("float-nan-inf", [math.inf, -math.inf]),
    ("int-big", [2**64, -(2**63) - 1, 10**100]),
    # -- data that looks like a tag stays data ----------------------------------
    ("lookalike-tag", {"~tuple": [1, 2]}),
    ("lookalike-escape", {"~dict": [["a", 1]]}),
    ("lookalike-unknown", {"~": 1}),
    ("lookalike-two-keys", {"~tuple": [1], "x": 2}),
    ("lookalike-nested", [{"~set": {"~tuple": []}}]),
    ("tilde-strings", ["~tuple", {"k": "~set"}]),
    # -- web frameworks' containers --------------------------------------------
    ("werkzeug-MultiDict", wd.MultiDict([("tag", "a"), ("tag", "b"), ("x", (1, 2))])),
    ("werkzeug-ImmutableMultiDict", wd.ImmutableMultiDict([("tag", "a"), ("tag", "b")])),
    (
        "werkzeug-CombinedMultiDict",
        wd.CombinedMultiDict(
            [wd.ImmutableMultiDict([("a", "1")]), wd.ImmutableMultiDict([("a", "2"), ("b", "3")])]
        ),
    ),
    ("werkzeug-Headers", wd.Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Y", "z")])),
    ("werkzeug-TypeConversionDict", wd.TypeConversionDict({"n": "1"})),
    ("werkzeug-ImmutableTypeConversionDict", wd.ImmutableTypeConversionDict({"n": "1"})),
    ("werkzeug-ImmutableDict", wd.ImmutableDict({"n": "1"})),
    ("starlette-QueryParams", sd.QueryParams("tag=a&tag=b&empty=")),
    ("starlette-ImmutableMultiDict", sd.ImmutableMultiDict([("a", "1"), ("a", "2")])),
    ("starlette-MultiDict", sd.MultiDict([("a", "1"), ("a", "2")])),
    (
        "starlette-Headers",
        sd.Headers(raw=[(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-latin", b"\xe9")]),
    ),
    ("starlette-MutableHeaders", sd.MutableHeaders(raw=[(b"x-a", b"1"), (b"x-a", b"2")])),
    ("starlette-FormData", sd.FormData([("name", "x"), ("name", "y")])),
    ("starlette-URL", sd.URL("https://example.com:8443/p/a?tag=a&tag=b#frag")),
    ("multidict-MultiDict", multidict.MultiDict([("a", "1"), ("a", "2")])),
    ("multidict-CIMultiDict", multidict.CIMultiDict([("Accept", "1"), ("accept", "2")])),
    (
        "multidict-MultiDictProxy",
        multidict.MultiDictProxy(multidict.MultiDict([("a", "1"), ("a", "2")])),
    ),
    (
        "multidict-CIMultiDictProxy",
        multidict.CIMultiDictProxy(multidict.CIMultiDict([("A", "1"), ("a", "2")])),
    ),
    (
        "dash-AttributeDict",
        DashAttributeDict(id="btn", property="n_clicks", value=DashAttributeDict(x=(1, 2))),
    ),
    # -- kombu_dash's own stand-ins ----------------------------------------------
    ("kombu_dash-MultiDict", MultiDict([("a", 1), ("a", 2)])),
    ("kombu_dash-MultiDict-last", MultiDict([("a", 1), ("a", 2)], last=True)),
    ("kombu_dash-Headers", Headers([("X-A", "1"), ("x-a", "2")])),
]


@pytest.mark.parametrize("obj", [row[1] for row in ROWS], ids=[row[0] for row in ROWS])
def test_round_trip(codec, obj):
    out = codec.loads(codec.dumps(obj))
    same(out, obj)


@pytest.mark.parametrize("obj", [row[1] for row in ROWS], ids=[row[0] for row in ROWS])
def test_round_trip_nested_in_plain_data(codec, obj):
    # The same value deep inside ordinary JSON data, as a Celery body would hold it.
    wrapped = [{"args": [1, {"deep": [obj]}], "kwargs": {}}]
    out = codec.loads(codec.dumpb(wrapped))
    same(out[0]["args"][1]["deep"][0], obj)


def test_nan_round_trips(codec):
    out = codec.loads(codec.dumps([math.nan, {"x": math.nan}]))
    assert type(out[0]) is float and math.isnan(out[0]) and math.isnan(out[1]["x"])


@pytest.mark.parametrize(
    "md, key, first_or_last",
    [
        (wd.MultiDict([("k", "1"), ("k", "2")]), "k", "1"),
        (sd.QueryParams("k=1&k=2"), "k", "2"),
        (multidict.MultiDict([("k", "1"), ("k", "2")]), "k", "1"),
    ],
    ids=["werkzeug-first", "starlette-last", "multidict-first"],
)
def test_getitem_semantics_survive(codec, md, key, first_or_last):
    out = codec.loads(codec.dumps(md))
    assert out[key] == md[key] == first_or_last
    getall = getattr(out, "getlist", None) or out.getall
    assert getall(key) == ["1", "2"]


def test_attribute_access_survives(codec):
    ctx = DashAttributeDict(
        args_grouping=DashAttributeDict(value=DashAttributeDict(id="a", value=3))
    )
    out = codec.loads(codec.dumps(ctx))
    assert out.args_grouping.value.value == 3


def test_environ_headers_come_back_as_headers(codec):
    environ = {"HTTP_X_TOKEN": "t", "CONTENT_TYPE": "text/plain", "wsgi.input": None}
    headers = wd.EnvironHeaders(environ)
    out = codec.loads(codec.dumps(headers))
    assert type(out) is wd.Headers
    assert out["X-Token"] == "t" and out["Content-Type"] == "text/plain"


def test_bytes_and_str_inputs_decode_alike(codec):
    data = codec.dumpb({"t": (1, 2)})
    for form in (data, data.decode(), bytearray(data), memoryview(data)):
        assert codec.loads(form) == {"t": (1, 2)}
