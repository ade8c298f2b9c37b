"""Hostile or malformed input is a kombu_dash.DecodeError: never another exception,
never a crash, never more than a second for a megabyte, the same with or without orjson."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kombu_dash
from kombu_dash import Codec, DecodeError, _json

MB = 1 << 20

HOSTILE = [
    ("deep-arrays-100k", "[" * 100_000 + "]" * 100_000),
    ("deep-objects-50k", '{"a":' * 50_000 + "1" + "}" * 50_000),
    ("deep-tags", '{"~tuple":[' * 5_000 + "]}" * 5_000),
    ("unterminated-deep", "[" * MB),
    ("duplicate-keys", '{"a":1,"a":2}'),
    ("duplicate-keys-in-tag-payload", '{"~dash.AttributeDict":{"x":1,"x":2}}'),
    ("nan", "[NaN]"),
    ("infinity", '{"x":-Infinity}'),
    ("float-overflow", "[1e400]"),
    ("float-overflow-digits", "[" + "9" * 400 + ".0]"),
    ("int-over-4300-digits", "[" + "7" * 5_000 + "]"),
    ("int-1mb", "7" * MB),
    ("invalid-utf8", b'["\xff\xfe"]'),
    ("overlong-utf8", b'["\xc0\xaf"]'),
    ("utf16", "[1]".encode("utf-16")),
    ("lone-surrogate-escape", '["\\ud800"]'),
    ("unknown-tag", '{"~os.system":"echo hi"}'),
    ("zone-path", '{"~datetime":"2024-01-01T00:00:00+00:00[../../etc/passwd]"}'),
    ("zone-not-listed", '{"~datetime":"2024-01-01T00:00:00+00:00[os.system]"}'),
    ("dunder-tag", '{"~__class__":{"~__subclasses__":[]}}'),
    ("tag-payload-shape", '{"~starlette.Headers":"x"}'),
    ("decimal-huge", '{"~decimal":"' + "9" * 10_000 + '"}'),
    ("int-tag-huge", '{"~int":"' + "9" * 10_000 + '"}'),
    ("many-tags", "[" + ",".join(['{"~nope":1}'] * 50_000) + "]"),
    ("trailing-garbage", "[1] x"),
    ("empty", ""),
    ("not-json", "<xml/>"),
]


@pytest.mark.parametrize("data", [d for _, d in HOSTILE], ids=[i for i, _ in HOSTILE])
@pytest.mark.parametrize("parser", ["orjson", "stdlib"])
def test_hostile_input_is_a_decode_error(data, parser):
    patch = {"loadb": _json.loadb} if parser == "orjson" else {"loadb": _json.stdlib_loadb, "HAVE_ORJSON": False}
    with mock.patch.multiple(_json, **patch):
        started = time.process_time()
        with pytest.raises(DecodeError):
            kombu_dash.loads(data)
        # CPU seconds, generous: each of these takes milliseconds
        assert time.process_time() - started < 1.0


def test_big_valid_input_is_quick():
    data = kombu_dash.dumpb([{"t": (i, "x" * 10), "s": {i}} for i in range(20_000)])
    assert len(data) > MB // 2
    started = time.process_time()  # CPU time: a loaded CI machine does not count against us
    kombu_dash.loads(data)
    assert time.process_time() - started < 2.0


def test_depth_is_configurable():
    shallow = Codec(max_depth=5)
    assert shallow.loads("[[[[1]]]]") == [[[[1]]]]
    with pytest.raises(DecodeError, match="max_depth=5"):
        shallow.loads("[[[[[[1]]]]]]")
    with pytest.raises(DecodeError, match="max_depth=5"):
        shallow.loads('[[[[[{"~tuple":[1]}]]]]]')
    with pytest.raises(kombu_dash.EncodeError, match="max_depth=5"):
        shallow.dumps([[[[[[1]]]]]])


def test_non_canonical_but_valid_json_still_decodes():
    # Another producer's JSON (spaces, escapes, exponents): parsed by the strict parser.
    text = '{ "a" : [1.0E2, "\\u00e9", {"\\u007etuple": [1, 2]}], "big": 18446744073709551616 }'
    assert kombu_dash.loads(text) == {"a": [100.0, "é", (1, 2)], "big": 18446744073709551616}


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=5), st.sampled_from(["~tuple", "~dict", "~set", "~"])),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3),
                        st.dictionaries(st.sampled_from(["~tuple", "~set", "~dict", "~bytes"]), c,
                                        min_size=1, max_size=1)),
    max_leaves=12,
)


def _outcome(text):
    try:
        return ("ok", repr(kombu_dash.loads(text)))
    except DecodeError:
        return ("DecodeError", None)


@settings(max_examples=1500, deadline=None)
@given(JSONISH, st.sampled_from([{}, {"indent": 1}, {"ensure_ascii": True}]))
def test_both_parsers_agree_on_arbitrary_json(value, style):
    # Any JSON text, canonical or not, decodes to the same thing (or the same error).
    text = json.dumps(value, **style)
    fast = _outcome(text)
    with mock.patch.multiple(_json, loadb=_json.stdlib_loadb, HAVE_ORJSON=False):
        assert _outcome(text) == fast


@pytest.mark.parametrize(
    "descr",
    ["9" * 5000 + "i4", "(2,)i4,(3,)f8", "i4,f8", "[('a','<i4')]", "__import__('os')", ["x"], [["a", "(2,)i4"]], []],
)
def test_numpy_dtype_text_never_reaches_numpys_parser(descr):
    # numpy's comma/tuple dtype strings go through ast.literal_eval: refuse them first.
    message = json.dumps({"~numpy.ndarray": {"dtype": descr, "shape": [1], "data": "AAAAAA=="}})
    with pytest.raises(DecodeError, match="numpy.ndarray"):
        kombu_dash.loads(message)
