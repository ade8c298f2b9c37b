"""Hostile or malformed input is a kombu_dash.DecodeError: never another exception,
never a crash, never more than a second for a megabyte, the same with or without orjson."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kombu_dash
from kombu_dash import Codec, DecodeError

from .harness import ENGINES, JSON_BACKENDS, codec_for, cpu_limited, examples

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
@pytest.mark.parametrize("parser", JSON_BACKENDS)
def test_hostile_input_is_a_decode_error(data, parser):
    with pytest.raises(DecodeError):
        codec_for("python", json=parser).loads(data)


def test_hostile_inputs_cost_little_cpu():
    # each takes milliseconds (0.1 s for all of them, both parsers, both engines): a CPU
    # second each, counted by the kernel in a child, is two orders of magnitude over
    inputs = [
        (name, data) if isinstance(data, str) else (name, {"b64": base64.b64encode(data).decode()})
        for name, data in HOSTILE
    ]
    out = cpu_limited(
        f"""
import base64, json, sys
from kombu_dash import Codec, DecodeError
from kombu_dash.frameworks import FRAMEWORK_TAGS
codecs = [Codec(FRAMEWORK_TAGS, engine=e, json=j) for e in {ENGINES!r} for j in {JSON_BACKENDS!r}]
for codec in codecs:
    codec.loads('[1, {{"~tuple": []}}]')
inputs = json.load(sys.stdin)
for codec in codecs:
    for name, data in inputs:
        print(codec.engine.name, codec.json, name, flush=True)
        limit_cpu(1)
        try:
            codec.loads(data if isinstance(data, str) else base64.b64decode(data["b64"]))
        except DecodeError:
            pass
print("done")
""",
        stdin=json.dumps(inputs),
    )
    assert out.splitlines()[-1] == "done"


@pytest.mark.parametrize("data", [d for _, d in HOSTILE], ids=[i for i, _ in HOSTILE])
def test_hostile_input_gets_the_same_error_from_both_walks(data):
    errors = []
    for engine in ENGINES:
        with pytest.raises(DecodeError) as info:
            codec_for(engine).loads(data)
        errors.append((str(info.value), info.value.path, info.value.tag))
    assert errors == [errors[0]] * len(errors)


def test_big_valid_input_is_quick():
    data = kombu_dash.dumpb([{"t": (i, "x" * 10), "s": {i}} for i in range(20_000)])
    assert len(data) > MB // 2
    # 0.04-0.13 s measured (C or Python engine): 5 CPU seconds, counted by the kernel in a
    # child, catch anything worse than linear
    out = cpu_limited(
        "import sys, kombu_dash\ndata = sys.stdin.read()\nkombu_dash.loads('[1]')\n"
        "limit_cpu(5)\nprint(len(kombu_dash.loads(data)))",
        stdin=data.decode(),
    )
    assert out.strip() == "20000"


def test_depth_is_configurable():
    shallow = Codec(max_depth=5)
    assert shallow.loads("[[[[1]]]]") == [[[[1]]]]
    with pytest.raises(DecodeError, match="max_depth=5"):
        shallow.loads("[[[[[[1]]]]]]")
    with pytest.raises(DecodeError, match="max_depth=5"):
        shallow.loads('[[[[[{"~tuple":[1]}]]]]]')
    with pytest.raises(kombu_dash.EncodeError, match="max_depth=5"):
        shallow.dumps([[[[[[1]]]]]])


def _nested(inner: str, depth: int) -> str:
    """``inner`` as the innermost value of ``depth - 1`` nested lists."""
    return "[" * (depth - 1) + inner + "]" * (depth - 1)


@pytest.mark.parametrize(
    "inner",
    ['{"~plotly.Figure": {}}', "18446744073709551615", '{"~tuple": []}'],
    ids=["empty-figure", "u64-max", "tuple"],
)
def test_what_decodes_at_the_nesting_limit_also_re_encodes(inner):
    # found by the full fuzzer run: an empty figure came back as {"data": [], "layout": {}},
    # one level deeper than it arrived, and failed to re-encode at the limit
    depth = 254 - inner.count("{")  # the innermost container at max_depth
    value = kombu_dash.loads(_nested(inner, depth))
    assert kombu_dash.loads(kombu_dash.dumps(value)) == value


@pytest.mark.parametrize("parser", JSON_BACKENDS)
def test_an_integer_beyond_64_bits_counts_the_level_it_is_written_with(parser, engine):
    # {"~int": "..."} is one level more than the literal: at the limit such a literal
    # would decode and then not re-encode, so it is refused
    codec = codec_for(engine, json=parser)
    big = str(2**64)  # in 254 lists, its {"~int": ...} would be the 255th level
    with pytest.raises(DecodeError, match="max_depth=254"):
        codec.loads(_nested(big, 255))
    value = codec.loads(_nested(big, 254))
    assert codec.loads(codec.dumps(value)) == value


def test_an_integer_tagged_past_the_limit_is_a_clear_encode_error():
    value: object = 2**64
    for _ in range(254):
        value = [value]
    with pytest.raises(kombu_dash.EncodeError, match=r"max_depth=254.* at value\[0\]"):
        kombu_dash.dumps(value)  # was orjson's "Recursion limit reached", with no path


def test_deep_values_never_make_orjson_write_past_its_buffer():
    # Found by the fuzzer: orjson 3.13 overflowed its output buffer when handed a
    # Fragment inside more than ~64 levels (heap corruption, "free(): invalid next size"
    # at exit). The engines hand it plain data only; Python's debug allocator checks
    # every buffer's guard bytes when it is freed, and aborts the child if one was hit.
    child = textwrap.dedent("""
        import kombu_dash
        for size in range(1, 40000, 37):
            deep = "x" * size
            for _ in range(200):
                deep = {"a": deep}
            value = {1: deep}  # an int key: ~dict, so the walk runs from the top
            assert kombu_dash.loads(kombu_dash.dumpb(value)) == value
        print("ok")
    """)
    for mode in ENGINES:
        env = dict(os.environ, PYTHONMALLOC="debug")
        env.pop("KOMBU_DASH_NO_SPEEDUPS", None)
        if mode == "python":
            env["KOMBU_DASH_NO_SPEEDUPS"] = "1"
        done = subprocess.run(
            [sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0 and done.stdout.strip() == "ok", (mode, done.stderr[-2000:])


def test_non_canonical_but_valid_json_still_decodes():
    # Another producer's JSON (spaces, escapes, exponents): parsed by the strict parser.
    text = '{ "a" : [1.0E2, "\\u00e9", {"\\u007etuple": [1, 2]}], "big": 18446744073709551616 }'
    assert kombu_dash.loads(text) == {"a": [100.0, "é", (1, 2)], "big": 18446744073709551616}


JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.sampled_from(["~tuple", "~dict", "~set", "~"]),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(st.text(max_size=4), c, max_size=3),
        st.dictionaries(
            st.sampled_from(["~tuple", "~set", "~dict", "~bytes"]), c, min_size=1, max_size=1
        ),
    ),
    max_leaves=12,
)


def _outcome(text, parser):
    try:
        return ("ok", repr(codec_for("python", json=parser).loads(text)))
    except DecodeError:
        return ("DecodeError", None)


# too_slow: Hypothesis times its own data generation, which a loaded machine slows down
@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH, st.sampled_from([{}, {"indent": 1}, {"ensure_ascii": True}]))
def test_both_parsers_agree_on_arbitrary_json(value, style):
    # Any JSON text, canonical or not, decodes to the same thing (or the same error).
    text = json.dumps(value, **style)
    outcomes = [_outcome(text, parser) for parser in JSON_BACKENDS]
    assert outcomes == [outcomes[0]] * len(outcomes)


@pytest.mark.parametrize(
    "descr",
    [
        "9" * 5000 + "i4",
        "(2,)i4,(3,)f8",
        "i4,f8",
        "[('a','<i4')]",
        "__import__('os')",
        ["x"],
        [["a", "(2,)i4"]],
        [],
    ],
)
def test_numpy_dtype_text_never_reaches_numpys_parser(descr):
    # numpy's comma/tuple dtype strings go through ast.literal_eval: refuse them first.
    message = json.dumps({"~numpy.ndarray": {"dtype": descr, "shape": [1], "data": "AAAAAA=="}})
    with pytest.raises(DecodeError, match="numpy.ndarray"):
        kombu_dash.loads(message)


# -- issue 9, second pass: tags outside numpy/pandas --------------------------------------
# Each test below failed on the code before the fix (see docs/security.rst, "Findings").

import warnings  # noqa: E402

from kombu_dash import Tag  # noqa: E402


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (its own imports and Django settings)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _tag_raising(exc_factory):
    class Raising(Tag):
        key = "test.raising"
        payload = list

        def to_python(self, payload):
            raise exc_factory()

    return Codec([Raising])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Exception("bare"),
        lambda: LookupError("unknown encoding: bogus"),
        lambda: MemoryError(),
        lambda: SystemError("bad code point"),
        lambda: NotImplementedError("float16"),
        lambda: kombu_dash.EncodeError("a tag re-encoding"),
        lambda: ArithmeticError("sNaN"),
    ],
    ids=[
        "Exception",
        "LookupError",
        "MemoryError",
        "SystemError",
        "NotImplementedError",
        "EncodeError",
        "ArithmeticError",
    ],
)
def test_any_exception_from_a_tag_is_a_decode_error_with_tag_and_path(make):
    codec = _tag_raising(make)
    with pytest.raises(DecodeError) as info:
        codec.loads('{"a": [0, {"~test.raising": []}]}')
    assert info.value.tag == "test.raising" and info.value.path == ["a", 1]
    assert isinstance(info.value.__cause__, type(make()))


def test_a_warning_raised_as_an_error_is_a_decode_error():
    class Warns(Tag):
        key = "test.warns"
        payload = list

        def to_python(self, payload):
            warnings.warn("dtype '|a1' is deprecated", DeprecationWarning, stacklevel=1)
            return payload

    codec = Codec([Warns])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under python -W error
        with pytest.raises(DecodeError, match="DeprecationWarning") as info:
            codec.loads('[{"~test.warns": []}]')
    assert info.value.tag == "test.warns" and info.value.path == [0]


def test_dash_component_explicit_args_is_a_decode_error():
    # was a bare Exception("Variable _explicit_args should not be set.") from Dash
    with pytest.raises(DecodeError, match="_explicit_args"):
        kombu_dash.loads(
            '{"~dash.Component": {"namespace": "dash_html_components", "type": "B", '
            '"props": {"_explicit_args": []}}}'
        )


# item 4: a figure costs a fixed ~0.2 ms (it was ~1 ms plus 40 KB with the default template)


def _figures(n: int) -> bytes:
    return b"[" + b",".join([b'{"~plotly.Figure":{}}'] * n) + b"]"


def test_100kb_of_empty_figures_is_refused_quickly_and_small():
    kombu_dash.loads(_figures(1))  # plotly imported first: not the message's cost
    data = _figures(4_500)
    assert len(data) > 99_000
    with pytest.raises(DecodeError, match="more than 1000 units of costly objects") as info:
        kombu_dash.loads(data)
    # refused at the 1,001st: 1,000 figures built, not 4,500 (was 9.2 s and 171 MB)
    assert info.value.path == [1000]


def test_a_thousand_figures_decode_without_the_default_template():
    import plotly.graph_objects as go

    out = kombu_dash.loads(_figures(1000))
    assert len(out) == 1000 and all(type(f) is go.Figure for f in out)
    # the payload comes back exactly: no default template added on the way (and the empty
    # "data" and "layout" plotly's to_dict() lists are left out)
    assert kombu_dash.dumps(out[0]) == '{"~plotly.Figure":{}}'
    # a figure made here keeps the template it had, as before
    fig = go.Figure(go.Bar(x=[1], y=[2]), layout={"title": {"text": "t"}})
    back = kombu_dash.loads(kombu_dash.dumps(fig))
    assert back == fig and back.layout.template == fig.layout.template


# item 6: a value that decodes must be writable by Dash (plotly.io.json.to_json_plotly)


@pytest.mark.parametrize(
    "inner",
    [
        '{"~set": [1]}',
        '{"~frozenset": [1]}',
        '{"~bytes": "YQ=="}',
        '{"~timedelta": [1, 0, 0]}',
        '{"~int": "18446744073709551616"}',
        '{"~dict": [[{"~tuple": [1, 2]}, 3]]}',
        '{"~kombu_dash.MultiDict": {"items": []}}',
        '{"~numpy.ndarray": {"dtype": "|S1", "shape": [1], "data": "YQ=="}}',
        '{"~numpy.ndarray": {"dtype": "O", "shape": [1], "data": [{"~set": [1]}]}}',
    ],
    ids=[
        "set",
        "frozenset",
        "bytes",
        "timedelta",
        "int-over-64-bits",
        "tuple-key",
        "multidict",
        "bytes-array",
        "set-in-object-array",
    ],
)
@pytest.mark.parametrize("where", ["figure", "component"])
def test_a_value_dash_cannot_write_is_refused_inside_figures_and_components(inner, where):
    if where == "figure":
        text = (
            '{"~plotly.Figure": {"data": [{"type": "scatter", "customdata": [[' + inner + "]]}]}}"
        )
    else:
        text = (
            '{"~dash.Component": {"namespace": "dash_html_components", "type": "Div", '
            '"props": {"children": [{"a": ' + inner + "}]}}}"
        )
    kombu_dash.loads(inner)  # valid on its own
    with pytest.raises(DecodeError, match="cannot write"):
        kombu_dash.loads(text)


# plotly's two engines; its orjson engine only where orjson is installed (not the no-orjson row)
PLOTLY_ENGINES = ["json"] + (["orjson"] if importlib.util.find_spec("orjson") else [])


@pytest.mark.parametrize("engine", PLOTLY_ENGINES)
def test_every_value_a_figure_may_hold_is_written_by_plotlys_encoder(engine):
    import datetime as dt
    import decimal

    import numpy as np
    import pandas as pd
    from dash import html
    from plotly.io.json import to_json_plotly

    held = [
        (1, "a"),
        None,
        2**63,
        -(2**63),
        1.5,
        float("nan"),
        dt.datetime(2024, 1, 1),
        dt.date(2024, 1, 1),
        dt.time(1, 2),
        decimal.Decimal("1.5"),
        pd.Timestamp("2024-01-01"),
        {1: "int key", None: "x"},
        np.arange(3.0),
        np.arange(3),
        np.array([True]),
        np.array(["a"]),
        np.array(["2024-01-01"], dtype="M8[ns]"),
        np.array([1], dtype="m8[ns]"),
        np.array([1, "a", None], dtype=object),
        np.zeros(2, dtype=[("a", "<i4")]),
        np.zeros((2, 2)),
        np.float16(1),
        np.int64(3),
        np.datetime64("2024-01-01"),
        np.str_("a"),
        np.bool_(True),
        html.B("x"),
    ]
    for value in held:
        payload = kombu_dash.dumps({"data": [{"type": "scatter", "customdata": [value]}]})
        fig = kombu_dash.loads('{"~plotly.Figure":' + payload + "}")
        to_json_plotly(fig, engine=engine)  # what Dash's encoder does with an output


# item 7: refuse instead of coercing


@pytest.mark.parametrize(
    "text",
    [
        '{"~starlette.QueryParams": [["a", 1]]}',
        '{"~starlette.QueryParams": [[1, "a"]]}',
        '{"~starlette.FormData": [["a", true]]}',
        '{"~starlette.Headers": [["a", 1]]}',
        '{"~werkzeug.Headers": [["A", 1]]}',
        '{"~werkzeug.Headers": [["A", {"~set": [1]}]]}',
    ],
    ids=[
        "qp-int-value",
        "qp-int-key",
        "formdata-bool",
        "starlette-headers",
        "werkzeug-headers-int",
        "werkzeug-headers-set",
    ],
)
def test_non_strings_where_the_library_would_apply_str_are_refused(text):
    with pytest.raises(DecodeError, match="strings"):
        kombu_dash.loads(text)


def test_starlette_multidicts_keep_their_values_unchanged():
    import starlette.datastructures as sd

    out = kombu_dash.loads('{"~starlette.ImmutableMultiDict": [["a", 1]]}')
    assert type(out) is sd.ImmutableMultiDict and out["a"] == 1


_STAND_IN_WIRES = [
    '{"~plotly.Figure":{"data":[{"type":"bar","x":[1]}],"layout":{"title":{"text":"t"}}}}',
    '{"~dash.NoUpdate":{}}',
    '{"~yarl.URL":"http://x/%C3%A4?a=1&a=2"}',
    '{"~starlette.URL":"http://h/p?q=1"}',
    '{"~django.QueryDict":[{"mutable":true,"encoding":"iso-8859-1","empty":["e",""]},["a","1"],["","2"]]}',
    '{"~django.QueryDict":[["a","1"]]}',
    '{"~django.MultiValueDict":[{"empty":["e"]},["a","1"]]}',
]


def test_stand_ins_keep_tag_and_payload_where_the_library_is_missing():
    out = json.loads(
        _python(f"""
        import sys, json
        for name in ("plotly", "dash", "yarl", "starlette", "django"):
            sys.modules[name] = None  # not installed here
        import kombu_dash
        values = [kombu_dash.loads(w) for w in {_STAND_IN_WIRES!r}]
        fig, no_update, yurl, surl, qd, bare, mvd = values
        print(json.dumps({{
            "rewire": [kombu_dash.dumps(v) for v in values],
            "read": [fig["layout"]["title"]["text"], dict(no_update), yurl + "", surl.startswith("http"),
                     [qd.encoding, qd.mutable, qd.empty, qd["a"], qd.getlist("")],
                     [bare.encoding, bare.mutable], mvd.empty],
        }}))
    """)
    )
    assert out["rewire"] == _STAND_IN_WIRES  # written back exactly as they arrived
    assert out["read"] == [
        "t",
        {"_dash_no_update": "_dash_no_update"},
        "http://x/%C3%A4?a=1&a=2",
        True,
        ["iso-8859-1", True, ["e", ""], "1", ["2"]],
        ["utf-8", False],
        ["e"],
    ]


def test_django_stand_in_without_settings_is_written_back_with_its_options():
    wire = _STAND_IN_WIRES[4]
    out = _python(f"""
        import kombu_dash
        out = kombu_dash.loads({wire!r})  # Django installed, settings not configured
        print(type(out).__name__, kombu_dash.dumps(out))
    """)
    assert out == f"QueryDictStandIn {wire}"
    # and a process with settings gets the QueryDict back, options included
    back = _python(f"""
        from django.conf import settings
        settings.configure()
        import kombu_dash
        qd = kombu_dash.loads({wire!r})
        print(type(qd).__name__, qd.encoding, qd._mutable, dict(qd.lists()))
    """)
    assert back == "QueryDict iso-8859-1 True {'e': [], '': ['2'], 'a': ['1']}"


# item 8 (and 5): the QueryDict encoding comes from a fixed list


@pytest.mark.parametrize(
    "encoding", ["bogus", "hex", "uu_codec", "rot13", "zlib", "mbcs", "utf-8 ", "UTF\u0130-8"]
)
def test_query_dict_encoding_outside_the_list_is_refused_and_never_imported(encoding):
    wire = json.dumps(
        {"~django.QueryDict": [{"mutable": False, "encoding": encoding}, [{"~bytes": "YQ=="}, "1"]]}
    )
    out = _python(f"""
        import sys
        from django.conf import settings
        settings.configure()
        import kombu_dash
        before = set(sys.modules)
        try:
            kombu_dash.loads({wire!r})
            print("decoded")
        except kombu_dash.DecodeError as exc:
            print("DecodeError", sorted(m for m in set(sys.modules) - before if m.startswith("encodings")))
    """)
    assert out == "DecodeError []"  # was LookupError, after importing encodings.<name>


def test_query_dict_with_bytes_is_refused_not_decoded():
    out = _python("""
        from django.conf import settings
        settings.configure()
        import kombu_dash
        for wire in ('{"~django.QueryDict":[{"mutable":false,"encoding":"utf-8"},[{"~bytes":"YQ=="},"1"]]}',
                     '{"~django.QueryDict":[{"mutable":false,"encoding":"utf-8"},["a",{"~bytes":"YQ=="}]]}'):
            try:
                print(dict(kombu_dash.loads(wire).lists()))
            except kombu_dash.DecodeError as exc:
                print("DecodeError", "no bytes" in str(exc))
    """)
    assert out.splitlines() == ["DecodeError True", "DecodeError True"]


def test_every_listed_query_dict_encoding_is_a_text_codec_and_unlisted_ones_are_refused_on_encode():
    import codecs

    from kombu_dash.frameworks.django import ENCODINGS

    for name in ENCODINGS:
        assert codecs.lookup(name)._is_text_encoding, name
    out = _python("""
        from django.conf import settings
        settings.configure()
        from django.http import QueryDict
        import kombu_dash
        try:
            kombu_dash.dumps(QueryDict("a=1", encoding="cp037"))
        except kombu_dash.EncodeError as exc:
            print("EncodeError", "cp037" in str(exc))
    """)
    assert out == "EncodeError True"


def test_starlette_url_that_cannot_be_parsed_is_refused_at_decode():
    # found by the structured fuzzer: it decoded, then repr() and .path raised ValueError
    with pytest.raises(DecodeError, match="starlette.URL"):
        kombu_dash.loads('{"~starlette.URL": "http://[::1"}')


def test_yarl_url_with_a_port_out_of_range_is_refused_at_decode():
    # found by the structured fuzzer: it decoded, then str() (sending it on) raised
    with pytest.raises(DecodeError, match="yarl.URL"):
        kombu_dash.loads('{"~yarl.URL": "http://x:99999999999/"}')


def test_figure_frames_count_against_the_costly_budget():
    # found by the structured fuzzer: each frame costs what a figure costs (~0.13 ms);
    # 1,000 figures of 50 frames took 4 s
    one = '{"~plotly.Figure": {"frames": [' + ",".join(['{"data": []}'] * 50) + "]}}"
    kombu_dash.loads(one)
    with pytest.raises(DecodeError, match="more than 1000 units of costly objects") as info:
        kombu_dash.loads("[" + ",".join([one] * 1000) + "]")
    # a figure and its 50 frames count 51: refused at the 20th figure, 19 of 1,000 built
    assert info.value.path == [19]


def test_each_framework_tag_names_its_class_once_and_decodes_to_what_it_encodes():
    # issue 11 item 3: the class a tag writes and the class it rebuilds come from one
    # (module, name) pair, so they cannot drift apart
    import importlib

    from kombu_dash.frameworks import FRAMEWORK_TAGS
    from kombu_dash.frameworks._base import FrameworkTag

    checked = 0
    for tag_cls in FRAMEWORK_TAGS:
        if not issubclass(tag_cls, FrameworkTag):
            continue
        tag = tag_cls()
        assert tag.types[0] == f"{tag.module}:{tag.name}", tag
        module, _, qualname = tag.types[0].partition(":")
        expected = getattr(importlib.import_module(module), qualname)
        assert tag.load() is expected, tag
        assert kombu_dash.default_codec._tag_for(expected).key == tag.key, tag
        checked += 1
    assert checked >= 20


def test_pandas_objects_count_against_the_costly_budget():
    # found by the structured fuzzer after the numpy/pandas budgets: a Series with a
    # two-level MultiIndex costs ~1 ms for 200 bytes, 250 KB of them 1.2-1.7 CPU s
    one = (
        '{"~pandas.Series": {"index": {"levels": [{"dtype": "bool", "values": []}, '
        '{"dtype": "datetime64[s, UTC]", "values": []}], "names": [null, "b"]}, "name": null, '
        '"data": {"dtype": "bool", "values": []}}}'
    )
    kombu_dash.loads(one)
    data = "[" + ",".join([one] * 1250) + "]"
    assert len(data) > 250_000
    with pytest.raises(DecodeError, match="costly objects") as info:
        kombu_dash.loads(data)
    assert info.value.path == [100]  # ten units each: 100 of 1,250 built
    assert len(kombu_dash.loads("[" + ",".join([one] * 100) + "]")) == 100
