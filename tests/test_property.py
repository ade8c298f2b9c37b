"""Property: any nesting of every supported type, tag look-alikes included, round-trips
to the same types and values, on both engines; the bytes are the same with orjson and
with the standard library's json module. (tests/test_engines.py holds the two engines
to the same data, values and errors.)"""

from __future__ import annotations

import decimal
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kombu_dash import _json

from .harness import codec_for, examples, same
from .strategies import VALUES


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_any_value_round_trips(codec, value):
    wire = codec.dumpb(value)
    same(codec.loads(wire), value)


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_same_bytes_and_values_with_the_json_module(engine, value):
    # Mixed fleets (orjson on some hosts, the json module on others) agree byte for byte
    # (on the no-orjson row the default backend is the json module itself).
    wire = codec_for(engine).dumpb(value)
    stdlib = codec_for(engine, json="json")
    assert stdlib.dumpb(value) == wire
    same(stdlib.loads(wire), value)


@settings(max_examples=examples(3000), deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_matches_orjson(x):
    assert _json.stdlib_dumpb([x, {"k": x}]) == _json.dumpb([x, {"k": x}])
    assert float(_json.stdlib_dumpb(x)) == x or (
        x == 0 and math.copysign(1, x) == math.copysign(1, float(_json.stdlib_dumpb(x)))
    )


@settings(max_examples=examples(1000), deadline=None)
@given(st.text())
def test_string_text_matches_orjson(s):
    assert _json.stdlib_dumpb({s: [s]}) == _json.dumpb({s: [s]})


def test_decimal_exponents_survive(codec):
    for text in ("1E+2", "-0.000", "123456789.987654321E-40"):
        value = decimal.Decimal(text)
        out = codec.loads(codec.dumps(value))
        assert out.as_tuple() == value.as_tuple()  # digits and exponent, not just the value
