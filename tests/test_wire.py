"""The wire format, pinned: one exact example per tag. Changing one of these breaks
every fleet that mixes versions, so a failure here means a format change, not a bug fix."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
import zoneinfo
from collections import Counter, OrderedDict

import multidict
import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict

import kombu_dash
from kombu_dash import Headers, MultiDict

WIRE = [
    ("tuple", (1, "a"), '{"~tuple":[1,"a"]}'),
    ("set", {3}, '{"~set":[3]}'),
    ("frozenset", frozenset({"x"}), '{"~frozenset":["x"]}'),
    ("dict-non-str-keys", {1: "a", (2, 3): "b"}, '{"~dict":[[1,"a"],[{"~tuple":[2,3]},"b"]]}'),
    ("dict-escape", {"~tuple": [1]}, '{"~dict":[["~tuple",[1]]]}'),
    ("OrderedDict", OrderedDict(a=1), '{"~OrderedDict":[["a",1]]}'),
    ("Counter", Counter(a=2), '{"~Counter":{"a":2}}'),
    ("Counter-int-keys", Counter({1: 2}), '{"~Counter":{"~dict":[[1,2]]}}'),
    (
        "kombu_dash.Error",
        kombu_dash.EncodeError("no", path=["file", 0], root="result"),
        '{"~kombu_dash.Error":{"kind":"EncodeError","message":"no","root":"result","path":["file",0],"tag":null}}',
    ),
    ("bytes", b"\x00\xff", '{"~bytes":"AP8="}'),
    ("bytearray", bytearray(b"hi"), '{"~bytearray":"aGk="}'),
    (
        "float",
        [math.nan, math.inf, -math.inf],
        '[{"~float":"nan"},{"~float":"inf"},{"~float":"-inf"}]',
    ),
    ("int", 2**64, '{"~int":"18446744073709551616"}'),
    ("decimal", decimal.Decimal("1.10"), '{"~decimal":"1.10"}'),
    ("uuid", uuid.UUID(int=1), '{"~uuid":"00000000-0000-0000-0000-000000000001"}'),
    ("datetime", dt.datetime(2024, 1, 2, 3, 4, 5, 6), '{"~datetime":"2024-01-02T03:04:05.000006"}'),
    (
        "datetime-utc",
        dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
        '{"~datetime":"2024-01-02T00:00:00+00:00"}',
    ),
    (
        "datetime-zone",
        dt.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        '{"~datetime":"2024-07-01T12:00:00+02:00[Europe/Paris]"}',
    ),
    ("date", dt.date(2024, 1, 2), '{"~date":"2024-01-02"}'),
    ("time", dt.time(3, 4, 5, 6), '{"~time":"03:04:05.000006"}'),
    ("timedelta", dt.timedelta(days=1, seconds=2, microseconds=3), '{"~timedelta":[1,2,3]}'),
    (
        "starlette.QueryParams",
        sd.QueryParams("a=1&a=2"),
        '{"~starlette.QueryParams":[["a","1"],["a","2"]]}',
    ),
    (
        "starlette.ImmutableMultiDict",
        sd.ImmutableMultiDict([("a", "1")]),
        '{"~starlette.ImmutableMultiDict":[["a","1"]]}',
    ),
    ("starlette.MultiDict", sd.MultiDict([("a", "1")]), '{"~starlette.MultiDict":[["a","1"]]}'),
    ("starlette.FormData", sd.FormData([("f", "v")]), '{"~starlette.FormData":[["f","v"]]}'),
    (
        "starlette.Headers",
        sd.Headers(raw=[(b"x", b"1"), (b"x", b"2")]),
        '{"~starlette.Headers":[["x","1"],["x","2"]]}',
    ),
    (
        "starlette.MutableHeaders",
        sd.MutableHeaders(raw=[(b"x", b"1")]),
        '{"~starlette.MutableHeaders":[["x","1"]]}',
    ),
    ("starlette.URL", sd.URL("http://h/p?q=1"), '{"~starlette.URL":"http://h/p?q=1"}'),
    (
        "werkzeug.MultiDict",
        wd.MultiDict([("a", "1"), ("a", "2")]),
        '{"~werkzeug.MultiDict":[["a","1"],["a","2"]]}',
    ),
    (
        "werkzeug.ImmutableMultiDict",
        wd.ImmutableMultiDict([("a", "1")]),
        '{"~werkzeug.ImmutableMultiDict":[["a","1"]]}',
    ),
    (
        "werkzeug.CombinedMultiDict",
        wd.CombinedMultiDict([wd.MultiDict([("a", "1")])]),
        '{"~werkzeug.CombinedMultiDict":[{"~werkzeug.MultiDict":[["a","1"]]}]}',
    ),
    ("werkzeug.Headers", wd.Headers([("X-A", "1")]), '{"~werkzeug.Headers":[["X-A","1"]]}'),
    (
        "werkzeug.TypeConversionDict",
        wd.TypeConversionDict(a="1"),
        '{"~werkzeug.TypeConversionDict":{"a":"1"}}',
    ),
    (
        "werkzeug.ImmutableTypeConversionDict",
        wd.ImmutableTypeConversionDict(a="1"),
        '{"~werkzeug.ImmutableTypeConversionDict":{"a":"1"}}',
    ),
    ("werkzeug.ImmutableDict", wd.ImmutableDict(a="1"), '{"~werkzeug.ImmutableDict":{"a":"1"}}'),
    (
        "multidict.MultiDict",
        multidict.MultiDict([("a", "1")]),
        '{"~multidict.MultiDict":[["a","1"]]}',
    ),
    (
        "multidict.CIMultiDict",
        multidict.CIMultiDict([("A", "1")]),
        '{"~multidict.CIMultiDict":[["A","1"]]}',
    ),
    (
        "multidict.MultiDictProxy",
        multidict.MultiDictProxy(multidict.MultiDict([("a", "1")])),
        '{"~multidict.MultiDictProxy":[["a","1"]]}',
    ),
    (
        "multidict.CIMultiDictProxy",
        multidict.CIMultiDictProxy(multidict.CIMultiDict([("A", "1")])),
        '{"~multidict.CIMultiDictProxy":[["A","1"]]}',
    ),
    ("dash.AttributeDict", DashAttributeDict(a=1), '{"~dash.AttributeDict":{"a":1}}'),
    (
        "kombu_dash.MultiDict",
        MultiDict([("a", 1)]),
        '{"~kombu_dash.MultiDict":{"items":[["a",1]],"last":false}}',
    ),
    ("kombu_dash.Headers", Headers([("A", "1")]), '{"~kombu_dash.Headers":[["A","1"]]}'),
]


@pytest.mark.parametrize("obj, wire", [(o, w) for _, o, w in WIRE], ids=[i for i, _, _ in WIRE])
def test_pinned_wire_form(obj, wire):
    assert kombu_dash.dumps(obj) == wire
    json.loads(wire)  # and it is plain JSON any language can parse


def test_every_core_tag_has_a_pinned_example():
    pinned = {i.split("-")[0] for i, _, _ in WIRE}
    core_modules = {"kombu_dash.tags"} | {
        f"kombu_dash.frameworks.{m}"
        for m in ("starlette", "werkzeug", "aiohttp_multidict", "dash", "own")
    }
    # other framework modules (Dash components, numpy, Django...) pin theirs in their own tests
    core = {
        key
        for key, tag in kombu_dash.default_codec.tags().items()
        if type(tag).__module__ in core_modules
    }
    assert core and core - pinned == set()


def test_plain_data_is_plain_json():
    value = {"a": [1, 2.5, None, True, "é"], "b": {"c": "~not a tag key"}}
    assert kombu_dash.dumps(value) == '{"a":[1,2.5,null,true,"é"],"b":{"c":"~not a tag key"}}'
