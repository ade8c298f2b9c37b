"""Property: any nesting of every supported type, tag look-alikes included, round-trips
to the same types and values; the bytes are the same with and without orjson; and the
encoder's fast path (kombu_dash/_fastpath.py) writes exactly the walk's bytes."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
from unittest import mock

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kombu_dash
from kombu_dash import Codec, DecodeError, EncodeError, _fastpath, _json
from kombu_dash._fastpath import plain_bytes
from kombu_dash.frameworks import FRAMEWORK_TAGS

from .harness import SPEEDUPS_MODES, examples, same, speedups

TAG_LOOKALIKES = st.sampled_from(
    ["~", "~tuple", "~dict", "~set", "~float", "~nope", "~~", "~starlette.QueryParams"]
)
TEXT = st.one_of(st.text(max_size=12), TAG_LOOKALIKES)

HASHABLE = st.one_of(
    TEXT,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
    st.uuids(),
    st.binary(max_size=8),
)

SCALARS = st.one_of(
    HASHABLE,
    st.builds(bytearray, st.binary(max_size=8)),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.datetimes(
        timezones=st.builds(
            dt.timezone,
            st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
        )
    ),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=False),
)

PAIRS = st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=4)


def containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(TEXT, children, max_size=4),
        st.dictionaries(HASHABLE, children, max_size=3),
        st.frozensets(HASHABLE, max_size=3),
        st.sets(HASHABLE, max_size=3),
        st.dictionaries(st.text(max_size=5), children, max_size=3).map(DashAttributeDict),
        PAIRS.map(wd.MultiDict),
        PAIRS.map(sd.QueryParams),
        PAIRS.map(
            lambda p: sd.Headers(
                raw=[(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in p]
            )
        ),
        st.lists(st.tuples(st.text(max_size=5), children), max_size=3).map(wd.MultiDict),
    )


VALUES = st.recursive(SCALARS, containers, max_leaves=25)


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_any_value_round_trips(value):
    wire = kombu_dash.dumpb(value)
    same(kombu_dash.loads(wire), value)


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_same_bytes_and_values_without_orjson(value):
    # Mixed fleets (some hosts with the "fast" extra, some without) agree byte for byte.
    wire = kombu_dash.dumpb(value)
    with mock.patch.multiple(
        _json, HAVE_ORJSON=False, Fragment=None, dumpb=_json.stdlib_dumpb, loadb=_json.stdlib_loadb
    ):
        assert kombu_dash.dumpb(value) == wire
        same(kombu_dash.loads(wire), value)


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


def test_decimal_exponents_survive():
    for text in ("1E+2", "-0.000", "123456789.987654321E-40"):
        value = decimal.Decimal(text)
        out = kombu_dash.loads(kombu_dash.dumps(value))
        assert out.as_tuple() == value.as_tuple()  # digits and exponent, not just the value


# -- the fast path writes the walk's bytes ------------------------------------------------


def _stdlib_json():
    return mock.patch.multiple(
        _json, HAVE_ORJSON=False, Fragment=None, dumpb=_json.stdlib_dumpb, loadb=_json.stdlib_loadb
    )


# Both backends where orjson is installed; the no-orjson nox row has only the stdlib.
BACKENDS = [
    pytest.param(contextlib.nullcontext, id="orjson"),
    pytest.param(_stdlib_json, id="stdlib"),
]
if not _json.HAVE_ORJSON:
    BACKENDS = [pytest.param(contextlib.nullcontext, id="stdlib")]

# What the fast path must get right or decline: plain data next to tuples, big ints,
# non-finite floats, "~" keys, typed values (AttributeDict, multi-dicts), at any depth.
EDGY_SCALARS = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(),
    st.sampled_from([2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
)
EDGY = st.recursive(st.one_of(EDGY_SCALARS, SCALARS), containers, max_leaves=30)
# Celery's message body (args, kwargs, embed), which the fast path tags itself
BODIES = st.tuples(
    st.lists(EDGY, max_size=4).map(tuple),
    st.dictionaries(TEXT, EDGY, max_size=3),
    st.dictionaries(TEXT, EDGY, max_size=3),
)
SHALLOW = Codec(FRAMEWORK_TAGS, max_depth=4)  # declines and errors for depth too


def _walk_bytes(codec, value):
    """What the walk alone writes: ``scan_at`` beyond reach turns the fast path off."""
    try:
        return codec._enc(value, 1, math.inf)
    except EncodeError as exc:
        return exc


@pytest.mark.parametrize("mode", SPEEDUPS_MODES)
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(EDGY, BODIES))
def test_fast_path_writes_the_walks_bytes(backend, mode, value):
    with backend(), speedups(mode):
        for codec in (kombu_dash.default_codec, SHALLOW):
            wire = _walk_bytes(codec, value)
            if isinstance(wire, EncodeError):
                with pytest.raises(EncodeError):
                    codec.dumpb(value)
                continue
            walk = _json.dumpb(wire)
            assert codec.dumpb(value) == walk
            fast = plain_bytes(value, codec.max_depth, codec._writer)
            assert type(fast) is int or fast == walk  # declines, or the very same bytes


@pytest.mark.parametrize("mode", SPEEDUPS_MODES)
def test_typed_values_take_the_fast_path(mode):
    # what README promises: AttributeDicts and multi-dicts are written in one call of the
    # JSON library, by the C walk or (with orjson) by the scan with its default= callback
    value = DashAttributeDict(args=sd.QueryParams("a=1&a=2"), grouping=[DashAttributeDict(id="x")])
    codec = kombu_dash.default_codec
    walk = _json.dumpb(codec._enc(value, 1, math.inf))
    with speedups(mode):
        fast = plain_bytes(value, codec.max_depth, codec._writer)
    if mode == "c" or _json.HAVE_ORJSON:
        assert fast == walk
    else:  # the stdlib writes dict subclasses itself, so typed values need the walk
        assert type(fast) is int
        with speedups(mode):
            assert codec.dumpb(value) == walk


@speedups("python")
def test_celery_body_is_read_without_the_walk():
    body = ((1, "two", None), {"x": [1.5]}, {"callbacks": None, "chain": None})
    wire = kombu_dash.dumpb(body)
    walk = Codec._dec

    def no_walk(self, obj, depth, left):
        assert left[0] <= 0, "walked"  # at 0 tags left, _dec returns its input at once
        return walk(self, obj, depth, left)

    with mock.patch.object(Codec, "_dec", no_walk):
        same(kombu_dash.loads(wire), body)
        with pytest.raises(AssertionError, match="walked"):  # the check itself can fail
            kombu_dash.loads(kombu_dash.dumpb(((1,), {"t": (2,)}, {})))
    # another tag anywhere, or a string starting with "~", and the walk runs as usual
    for other in (((1,), {"t": (2,)}, {}), ((1,), {"s": "~x"}, {})):
        same(kombu_dash.loads(kombu_dash.dumpb(other)), other)


# -- the optional C walks (kombu_dash/_speedups.c) decode what the Python walk decodes ------


def _decoded(mode, wire):
    with speedups(mode):
        try:
            return kombu_dash.loads(wire)
        except DecodeError as exc:
            return (str(exc), exc.path, exc.tag)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(EDGY, BODIES), shuffle=st.randoms(use_true_random=False))
def test_both_walks_decode_the_same_values_and_errors(backend, value, shuffle):
    with backend():
        try:
            wire = kombu_dash.dumpb(value)
        except EncodeError:
            return
        # the value, and a copy with two tag names swapped: payloads of the wrong shape,
        # so that errors (message, path, tag) are compared too
        tags = sorted({w.decode() for w in set(wire.split(b'"')) if w.startswith(b"~")})
        hostile = wire
        if len(tags) >= 2:
            a, b = shuffle.sample(tags, 2)
            hostile = wire.replace(f'"{a}"'.encode(), b"\0").replace(
                f'"{b}"'.encode(), f'"{a}"'.encode()
            )
            hostile = hostile.replace(b"\0", f'"{b}"'.encode())
        for data in (wire, hostile):
            results = [_decoded(mode, data) for mode in SPEEDUPS_MODES]
            for other in results[1:]:
                same(other, results[0])


def test_the_accelerator_is_built_where_a_compiler_is():
    # a broken C build is optional for users (they get the Python walks), never for us
    import os
    import shutil
    import sysconfig

    if os.environ.get("KOMBU_DASH_NO_SPEEDUPS"):
        assert _fastpath.SPEEDUPS is None
    elif shutil.which(sysconfig.get_config_var("CC").split()[0] or "cc"):
        assert _fastpath.SPEEDUPS is not None, "kombu_dash._speedups did not build"
