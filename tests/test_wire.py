"""The wire format, pinned: one exact example per tag. Changing one of these breaks
every fleet that mixes versions, so a failure here means a format change, not a bug fix."""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import json
import math
import re
import uuid
import zoneinfo
from collections import Counter, OrderedDict
from pathlib import Path

import multidict
import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict

import kombu_dash
from kombu_dash import Headers, MultiDict, wire

from .harness import ROOT

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
def test_pinned_wire_form(codec, obj, wire):
    assert codec.dumps(obj) == wire
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


def test_plain_data_is_plain_json(codec):
    value = {"a": [1, 2.5, None, True, "é"], "b": {"c": "~not a tag key"}}
    assert codec.dumps(value) == '{"a":[1,2.5,null,true,"é"],"b":{"c":"~not a tag key"}}'


# -- one definition of the envelope ------------------------------------------------------


def _restated_rules(path: Path) -> list[str]:
    """Wire rules written again outside kombu_dash/wire.py: a string or bytes constant that
    starts with the tag prefix (a tag's wire key, the prefix itself), the depth limit, or
    the top of the integer range. Docstrings and f-string messages are prose."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    prose = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            prose.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            prose.update(id(part) for part in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in prose:
            value = node.value
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if isinstance(text, str) and text.lstrip('"')[:1] == wire.PREFIX:
                found.append(f"{path.name}:{node.lineno} {value!r}")
            spelled = ast.get_source_segment(source, node) or ""
            # a hexadecimal mask is a machine word (hash arithmetic), not the wire's range
            if (
                type(value) is int
                and value in (wire.MAX_DEPTH, wire.INT_MAX)
                and not spelled.startswith("0x")
            ):
                found.append(f"{path.name}:{node.lineno} {value}")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and isinstance(node.right, ast.Constant)
            and node.right.value == 64
        ):
            found.append(f"{path.name}:{node.lineno} 2**64")
    return found


def test_only_the_envelope_defines_the_wire():
    package = ROOT / "kombu_dash"
    restated = [
        hit
        for path in sorted(package.rglob("*.py"))
        if path.name != "wire.py"
        for hit in _restated_rules(path)
    ]
    assert restated == []
    # the C engine is handed the rules when a codec is built: its code names none
    source = (package / "_speedups.c").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)  # comments are prose
    assert re.findall(r"'~'|\"~|\b254\b|18446744073709551615|9223372036854775807", code) == []


def test_the_envelope_test_finds_a_restated_rule(tmp_path):
    # the check above can fail: each kind of restatement is found
    sample = tmp_path / "sample.py"
    sample.write_text(
        'KEYS = ("~set",)\nTEST = b\'"~\'\nDEPTH = 254\nTOP = 2**64 - 1\nok = f"~{1}"\n'
    )
    found = _restated_rules(sample)
    assert sorted(hit.split(":")[1].split()[0] for hit in found) == ["1", "2", "3", "4"], found
