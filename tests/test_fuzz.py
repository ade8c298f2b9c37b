"""Hostile broker content: the decoder returns a value or raises DecodeError, and message
text never reaches an import, an attribute lookup or a constructor outside the registry.

The CI-sized run of fuzz/fuzz_decode.py (20,000 inputs, fixed seed) lives here; the
1,000,000-input run is `python fuzz/fuzz_decode.py -n 1000000 --jobs 2` (docs/security.rst).
"""

from __future__ import annotations

import base64
import builtins
import importlib
import importlib.util
import json
import sys
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kombu_dash
from kombu_dash import DecodeError

from .harness import cpu_limited, examples

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import fuzz_decode  # noqa: E402

CI_INPUTS = 20_000
#: CPU seconds each CI input may take (per MB, at least this): the slowest of the CI runs'
#: inputs took 0.22 s here, so a slower or loaded machine never reaches it. The full run
#: (fuzz/fuzz_decode.py) keeps its 1 s budget; a decoder gone quadratic exceeds both.
CI_BUDGET = 3.0


def _summary(stats) -> str:
    lines = [f"failures -- {fuzz_decode.failure_counts(stats)}"]
    for kind in fuzz_decode.FAILURE_KINDS:
        for data, detail, where in stats[kind][:5]:
            lines.append(f"  {kind}: {detail[:150]} at {where}  <- {data[:150]!r}")
    return "\n".join(lines)


def test_fuzz_ci_run_finds_no_escaping_slow_or_big_input():
    # each input in a forked child: 256 MB of address space, CI_BUDGET CPU seconds (RLIMIT_CPU
    # kills a C loop a Python timer cannot stop); 30% of inputs from the per-tag generators
    stats = fuzz_decode.run(CI_INPUTS, seed=0, max_seconds=CI_BUDGET, report=lambda _: None)
    print(
        f"CI fuzz run: {stats['inputs']} inputs ({stats['structured']} generated), "
        f"{stats['decoded']} decoded, {stats['decode_errors']} DecodeError; {fuzz_decode.failure_counts(stats)}"
    )
    assert stats["inputs"] == CI_INPUTS
    assert not any(stats[kind] for kind in fuzz_decode.FAILURE_KINDS), _summary(stats)
    # the mutations reach past the JSON parser: a good share still decodes
    assert stats["decoded"] > CI_INPUTS // 50
    assert stats["structured"] > CI_INPUTS // 5


def test_fuzz_under_warnings_as_errors_finds_nothing():
    # as under `python -W error`: a library's warning becomes an exception, which must
    # come out of loads as a DecodeError (the forked children inherit the filter)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = fuzz_decode.run(
            3_000, seed=3, max_seconds=CI_BUDGET, report=lambda _: None, structured=0.5
        )
    assert stats["inputs"] == 3_000
    assert not any(stats[kind] for kind in fuzz_decode.FAILURE_KINDS), _summary(stats)


class _Costly(kombu_dash.Tag):
    """A tag that misbehaves the way a library can: loops in C, or allocates a lot."""

    key = "test.costly"
    payload = str

    def to_python(self, payload):
        import decimal

        if payload == "loop":
            return int(decimal.Decimal("1e1000000"))  # ~20 s in C, deaf to signals
        if payload == "allocate":
            return bytearray(1 << 30)  # 1 GiB
        return payload


@pytest.mark.parametrize(
    "payload, outcome", [("loop", "too_slow"), ("allocate", "too_big"), ("ok", "decoded")]
)
def test_sandbox_counts_a_c_loop_as_too_slow_and_a_big_allocation_as_too_big(payload, outcome):
    box = fuzz_decode.sandbox.Sandbox(kombu_dash.Codec([_Costly]), max_seconds=1.0, memory_mb=256)
    try:
        result = box.run(json.dumps({"~test.costly": payload}).encode())
        assert result["outcome"] == outcome, result
        if outcome == "too_slow":  # the kernel's CPU limit stopped it, not a wall clock
            assert result["detail"].startswith("killed by RLIMIT_CPU"), result
        assert box.run(b"[1]")["outcome"] == "decoded"  # a fresh child carries on after a kill
    finally:
        box.close()


# -- Hypothesis: hostile JSON built from the registry's own tag names -----------------

_KEYS = sorted(kombu_dash.default_codec.tags()) + fuzz_decode.HOSTILE_TAGS
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(fuzz_decode.HOSTILE_STRINGS),
)
_json = st.recursive(
    _leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "a",
                    "items",
                    "last",
                    "dtype",
                    "shape",
                    "data",
                    "namespace",
                    "type",
                    "props",
                    "index",
                    "columns",
                    "name",
                    "~x",
                ]
            ),
            kids,
            max_size=4,
        ),
        st.builds(lambda k, v: {"~" + k: v}, st.sampled_from(_KEYS), kids),
    ),
    max_leaves=30,
)


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_hypothesis_tagged_json_raises_only_decode_error(obj):
    data = json.dumps(obj).encode()
    try:
        kombu_dash.loads(data)
    except DecodeError:
        pass


# -- nothing named in a message is imported, looked up, or called -----------------------

HOSTILE = [
    {"~os.system": "echo pwned"},
    {"~posix.system": "echo pwned"},
    {"~builtins.eval": "__import__('os').system('echo pwned')"},
    {"~__builtins__": {"eval": "1"}},
    {"~__import__": "os"},
    {"~__class__": {"~__subclasses__": []}},
    {"~tuple.__class__": []},
    {"~tuple": {"~__reduce__": ["os.system", ["echo"]]}},
    {"~subprocess.Popen": [["id"]]},
    {"~importlib.import_module": "os"},
    {"~pickle.loads": "gASVAAAAAAAAAAA="},
    {"~kombu_dash.codec.Codec": {}},
    {"~kombu_dash.tags.Tag": []},
    {"~celery.canvas.Signature": {"task": "os.system"}},
    {"~werkzeug.datastructures.MultiDict": []},
    {"~werkzeug.MultiDict.__init__": []},
    [{"~tuple": [{"~os.system": "x"}]}],
    {"~dict": [["__class__", {"~os.system": "x"}]]},
    {"~dash.Component": {"namespace": "os", "type": "system", "props": {"command": "echo"}}},
    {"~dash.Component": {"namespace": "builtins", "type": "eval", "props": {}}},
    {"~dash.Component": {"namespace": "dash_html_components", "type": "__class__", "props": {}}},
    {
        "~dash.Component": {
            "namespace": "dash_html_components",
            "type": "B",
            "props": {"__class__": "x"},
        }
    },
    {"~numpy.ndarray": {"dtype": "O", "shape": [1], "data": [{"~os.system": "x"}]}},
    {"~numpy.ndarray": {"dtype": "os.system", "shape": [1], "data": "AA=="}},
    {"~numpy.scalar": {"dtype": "|O", "data": "AAAAAAAAAAA="}},
    {"~datetime": "2024-01-01T00:00:00+00:00[../../../../etc/passwd]"},
    {"~datetime": "2024-01-01T00:00:00+00:00[/etc/passwd]"},
    {"~datetime": "2024-01-01T00:00:00+00:00[os.system]"},
    {"~datetime": "2024-01-01T00:00:00+00:00[os/system]"},
    # found by this fuzzer, fixed in kombu_dash/frameworks/pandas.py (commit 64e8dec):
    # the zone went to dateutil, which opened the named file; the dtype reached ast.literal_eval
    {"~pandas.Timestamp": ["2020-01-01T00:00:00+00:00", "dateutil//etc/passwd", "ns"]},
    {"~pandas.Timestamp": ["2020-01-01T00:00:00+00:00", "/etc/passwd", "ns"]},
    {
        "~pandas.Series": {
            "index": {"range": [0, 1, 1], "name": None},
            "name": "s",
            "data": {"dtype": "9" * 5000 + "i4", "values": [1]},
        }
    },
    {
        "~pandas.Series": {
            "index": {"range": [0, 1, 1], "name": None},
            "name": "s",
            "data": {"dtype": "(2,)i4, (3,)os.system", "values": [1]},
        }
    },
    # found by the 1,000,000-input run, fixed in kombu_dash/frameworks/numpy.py: same literal_eval
    {"~numpy.ndarray": {"dtype": "9" * 5000 + "i4", "shape": [1], "data": "AAAAAA=="}},
    {"~numpy.scalar": {"dtype": "(2,)i4, (3,)os.system", "data": "AAAAAA=="}},
    {"~plotly.Figure": {"data": [{"type": "os.system", "x": [1]}]}},
    {
        "~plotly.Figure": {
            "data": [{"type": "scatter", "__class__": "x"}],
            "layout": {"__init__": 1},
        }
    },
]

# Called anywhere during a decode, these would mean message text reached code or imports.
# (imports are watched by the import spy: our own spy calls the real __import__)
FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "literal_eval",
    "system",
    "Popen",
    "find_class",
    "load_module",
    "exec_module",
    "getattr_static",
}
FORBIDDEN_EVENTS = (
    "import",
    "exec",
    "compile",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "subprocess.Popen",
    "ctypes.",
    "pickle.find_class",
    "marshal.loads",
    "code.__new__",
    "function.__new__",
    "object.__setattr__",
    "builtins.input",
    "socket.",
)


_REGISTRY_WORDS = {
    p for key in kombu_dash.default_codec.tags() for p in ("~" + key, key, *key.split("."))
}


def _hostile_strings(obj) -> set[str]:
    """Every string in a message, and each dotted part of it, except the registry's own
    tag names (their fixed modules are the registry's, not the message's, to load)."""
    return _strings(obj) - _REGISTRY_WORDS


def _strings(obj, out=None) -> set[str]:
    out = set() if out is None else out
    if isinstance(obj, str):
        out.add(obj)
        out.update(p for p in obj.replace("~", "").replace("/", ".").split(".") if p)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _strings(k, out), _strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _strings(v, out)
    return out


class Spy:
    """Audit events, imports, getattr names and called functions during one decode."""

    def __init__(self):
        self.events, self.imports, self.getattrs, self.calls = [], [], [], set()
        self.active = False

    def audit(self, event, args):
        if self.active:
            self.events.append((event, args))

    def profile(self, frame, event, arg):
        if event == "c_call":
            self.calls.add(getattr(arg, "__name__", ""))
        elif event == "call":
            self.calls.add(frame.f_code.co_name)


@pytest.fixture(scope="module")
def spy():
    # Decode every valid seed first: the registry's own modules (fixed names) are imported
    # once here, so any import seen later could only come from a message.
    for data in fuzz_decode.seeds():
        fuzz_decode.check_one(data)
    for msg in HOSTILE:
        fuzz_decode.check_one(json.dumps(msg).encode())
    s = Spy()
    sys.addaudithook(s.audit)  # cannot be removed: it records only while active
    return s


@pytest.mark.parametrize("message", HOSTILE, ids=[json.dumps(m)[:60] for m in HOSTILE])
def test_message_text_reaches_no_import_lookup_or_constructor(message, spy, monkeypatch):
    data = json.dumps(message).encode()
    names = _hostile_strings(message)
    real_import, real_import_module, real_getattr = (
        builtins.__import__,
        importlib.import_module,
        builtins.getattr,
    )

    # A function-level `import x` of a module already loaded is a dict lookup; what must
    # never happen is a new module loaded, or a module named by the message.
    # zoneinfo's own fallback for a zone missing from TZPATH reads the `tzdata` package's
    # resources (`tzdata.zoneinfo.Europe`): confined to that package, documented in security.rst.
    def suspicious(name):
        if name == "tzdata" or name.startswith("tzdata.zoneinfo"):
            return False
        return spy.active and (
            name not in sys.modules or name in names or name.split(".")[-1] in names
        )

    def spy_import(name, globals=None, locals=None, fromlist=(), level=0):
        full = name
        if level and globals:  # `from .x import y` inside a library: resolve it
            full = importlib.util.resolve_name("." * level + name, globals.get("__package__") or "")
        if suspicious(full.rstrip(".")):
            spy.imports.append(full)
        return real_import(name, globals, locals, fromlist, level)

    def spy_import_module(name, package=None):
        full = importlib.util.resolve_name(name, package) if name.startswith(".") else name
        if suspicious(full):
            spy.imports.append(full)
        return real_import_module(name, package)

    def spy_getattr(obj, name, *default):
        if spy.active:
            spy.getattrs.append(name)
        return real_getattr(obj, name, *default)

    monkeypatch.setattr(builtins, "__import__", spy_import)
    monkeypatch.setattr(importlib, "import_module", spy_import_module)
    monkeypatch.setattr(builtins, "getattr", spy_getattr)
    spy.events.clear(), spy.imports.clear(), spy.getattrs.clear(), spy.calls.clear()
    sys.setprofile(spy.profile)
    spy.active = True
    try:
        value = kombu_dash.loads(data)
    except DecodeError as exc:
        value = exc
    finally:
        spy.active = False
        sys.setprofile(None)

    tz_roots = tuple(str(p) for p in zoneinfo.TZPATH)
    bad_events = [
        (e, a)
        for e, a in spy.events
        if e.startswith(FORBIDDEN_EVENTS) and not (e == "import" and str(a[0]).startswith("tzdata"))
    ]
    opened = [
        a[0]
        for e, a in spy.events
        if e == "open" and not (isinstance(a[0], str) and a[0].startswith(tz_roots))
    ]
    assert not bad_events, bad_events
    assert not opened, f"message made the decoder open {opened}"
    assert not spy.imports, f"message made the decoder import {spy.imports}"
    assert not (set(map(str, spy.getattrs)) & names), f"getattr with message text: {spy.getattrs}"
    assert not (spy.calls & FORBIDDEN_CALLS), spy.calls & FORBIDDEN_CALLS
    # What came back is made of JSON types and registered classes only.
    _assert_registry_types(value)


def _assert_registry_types(value, depth=0):
    if isinstance(value, DecodeError):
        return
    allowed = (
        dict,
        list,
        str,
        int,
        float,
        bool,
        type(None),
        tuple,
        set,
        frozenset,
        bytes,
        bytearray,
        kombu_dash.MultiDict,
        kombu_dash.AttributeDict,
    )
    t = type(value)
    if t.__module__.split(".")[0] in (
        "dash",
        "numpy",
        "kombu_dash",
        "datetime",
        "werkzeug",
        "starlette",
    ):
        pass
    else:
        assert isinstance(value, allowed), t
    if isinstance(value, dict):
        assert t in (dict, kombu_dash.AttributeDict) or t.__module__.startswith(
            ("dash", "werkzeug")
        ), t
        for v in value.values():
            _assert_registry_types(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _assert_registry_types(v, depth + 1)


def test_dunder_keys_stay_data():
    # An AttributeDict whose keys are dunder names: data, not attributes of the object.
    value = kombu_dash.loads(
        b'{"~dash.AttributeDict": {"__class__": "os.system", "__dict__": 1, "x": 2}}'
    )
    assert type(value).__name__ == "AttributeDict"
    assert value["__class__"] == "os.system" and value.x == 2
    assert not isinstance(value.__class__, str)


# -- 1 MB of hostile input: decoded or refused within a CPU budget ----------------------


def _megabyte_inputs():
    row = b'{"~tuple":[1,"a",{"~set":[1,2]},{"~datetime":"2024-01-01T00:00:00"}]},'
    many_tags = b"[" + row * (1_000_000 // len(row)) + b"1]"
    yield "many-tags", many_tags
    yield "unknown-tag-at-the-end", many_tags[:-2] + b'{"~os.system":"x"}]'
    yield "bad-payload-at-the-end", many_tags[:-2] + b'{"~tuple":{"a":1}}]'
    yield (
        "duplicate-keys",
        b"{" + b",".join(b'"k%d":1' % (i % 50_000) for i in range(90_000)) + b"}",
    )
    yield "deep-arrays", b"[" * 500_000 + b"]" * 500_000
    yield "deep-tags", b'{"~tuple":[' * 80_000 + b"]}" * 80_000
    yield "long-number", b"[" + b"9" * 1_000_000 + b"]"
    yield "long-int-tag", b'{"~int":"' + b"9" * 1_000_000 + b'"}'
    yield "long-decimal-tag", b'{"~decimal":"' + b"9" * 1_000_000 + b'"}'
    yield (
        "many-multidict-pairs",
        b'{"~werkzeug.MultiDict":[' + b'["k","v"],' * 95_000 + b'["k","v"]]}',
    )
    yield "big-bytes", b'{"~bytes":"' + b"QUFB" * 250_000 + b'"}'
    yield "invalid-utf8-at-the-end", many_tags[:-2] + b'"\xff"]'
    yield "plotly-long-property", b'{"~plotly.Figure": {"' + b"1" * 1_000_000 + b'": {}}}'
    yield (
        "plotly-long-nested-property",
        b'{"~plotly.Figure": {"layout": {"' + b"x" * 1_000_000 + b'": 1}}}',
    )


_DECODE_EACH = """
import base64, json, sys
import kombu_dash
kombu_dash.loads(b'[{"~plotly.Figure": {"data": []}}, {"~werkzeug.MultiDict": []}]')  # imports
for name, data in json.load(sys.stdin):
    print(name, flush=True)
    limit_cpu(BUDGET)
    try:
        kombu_dash.loads(base64.b64decode(data))
    except kombu_dash.DecodeError:
        pass
print("done")
"""


def decode_each_within(budget: int, inputs) -> None:
    """Decode each (name, data) in a child that grants each ``budget`` CPU seconds,
    counted by the kernel (tests.harness.cpu_limited)."""
    sent = [(name, base64.b64encode(data).decode()) for name, data in inputs]
    out = cpu_limited(_DECODE_EACH.replace("BUDGET", str(budget)), stdin=json.dumps(sent))
    assert out.splitlines()[-1] == "done"


def test_megabyte_inputs_are_decoded_or_refused_within_a_cpu_budget():
    # linear: 0.2 CPU s at most for each measured here (C or Python engine, orjson or not);
    # a budget of two CPU seconds each is an order of magnitude over, and quadratic work on
    # a megabyte takes minutes
    inputs = list(_megabyte_inputs())
    assert all(len(data) >= 900_000 for _, data in inputs)
    decode_each_within(2, inputs)


# Found by the 1,000,000-input run, fixed in kombu_dash/frameworks/plotly.py (23c8368):
# go.Figure's error for an invalid property name cost ~0.35 ms of CPU per character
# (8 KB -> 2.8 s, 16 KB -> 5.9 s); now 20 KB takes milliseconds.
def test_plotly_figure_with_a_long_bad_property_is_refused_within_a_cpu_budget():
    decode_each_within(
        1, [("long-property", b'{"~plotly.Figure": {"' + b"1" * 20_000 + b'": {}}}')]
    )
