"""The two engines (kombu_dash/engines/): the C engine is the Python engine's walks in C.

Both write the same data and decode the same values, with the same errors (message,
path, tag); a value enters an engine once and the JSON backend once; neither hands a
value to the other, so a failure inside an engine surfaces instead of turning into a
slower path; and the C engine survives what callbacks do to the tables and containers
it walks (threads meeting a class at once, a to_json that mutates its container).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
import starlette.datastructures as sd
from dash._utils import AttributeDict as DashAttributeDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kombu_dash import Codec, DecodeError, EncodeError, Tag, engines, wire
from kombu_dash.engines.python import is_plain
from kombu_dash.frameworks import FRAMEWORK_TAGS

from .harness import ENGINES, ROOT, codec_for, examples, same, with_pythonpath
from .strategies import SCALARS, TEXT, containers

# What the engines must agree on: plain data next to tuples, big ints, non-finite floats,
# "~" keys, typed values (AttributeDict, multi-dicts), at any depth.
EDGY_SCALARS = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(),
    st.sampled_from([2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
)
EDGY = st.recursive(st.one_of(EDGY_SCALARS, SCALARS), containers, max_leaves=30)
# Celery's message body (args, kwargs, embed)
BODIES = st.tuples(
    st.lists(EDGY, max_size=4).map(tuple),
    st.dictionaries(TEXT, EDGY, max_size=3),
    st.dictionaries(TEXT, EDGY, max_size=3),
)
# depth errors too: a codec whose limit hypothesis reaches
SHALLOW = {e: Codec(FRAMEWORK_TAGS, max_depth=4, engine=e) for e in ENGINES}


def _written(codec, value):
    try:
        return codec.dumpb(value)
    except EncodeError as exc:
        return ("EncodeError", str(exc), exc.path, exc.tag)


def _read(codec, data):
    try:
        return codec.loads(data)
    except DecodeError as exc:
        return ("DecodeError", str(exc), exc.path, exc.tag)


def test_this_process_has_the_engines_it_should():
    # A broken C build is optional for users (they get the Python engine), never for us.
    import os
    import shutil
    import sysconfig

    if os.environ.get("KOMBU_DASH_NO_SPEEDUPS"):
        assert ENGINES == ["python"] and engines.DEFAULT == "python"
    elif shutil.which(sysconfig.get_config_var("CC").split()[0] or "cc"):
        assert ENGINES == ["c", "python"], "kombu_dash._speedups did not build or import"
        assert engines.DEFAULT == "c"


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(EDGY, BODIES))
def test_engines_write_the_same_bytes_and_errors(value):
    for codecs in ({e: codec_for(e) for e in ENGINES}, SHALLOW):
        results = [_written(codec, value) for codec in codecs.values()]
        assert all(r == results[0] for r in results), results


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(EDGY, BODIES), shuffle=st.randoms(use_true_random=False))
def test_engines_decode_the_same_values_and_errors(value, shuffle):
    try:
        data = codec_for("python").dumpb(value)
    except EncodeError:
        return
    # the value, and a copy with two tag names swapped: payloads of the wrong shape, so
    # that errors (message, path, tag) are compared too
    tags = sorted({w.decode() for w in set(data.split(b'"')) if w.startswith(b"~")})
    hostile = data
    if len(tags) >= 2:
        a, b = shuffle.sample(tags, 2)
        hostile = data.replace(f'"{a}"'.encode(), b"\0").replace(
            f'"{b}"'.encode(), f'"{a}"'.encode()
        )
        hostile = hostile.replace(b"\0", f'"{b}"'.encode())
    for text in (data, hostile):
        results = [_read(codec_for(e), text) for e in ENGINES]
        for other in results[1:]:
            same(other, results[0])


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=EDGY)
def test_plain_data_is_handed_to_json_as_it_is(engine, value):
    # no copy of what needs no tag: is_plain() says exactly which values those are
    codec = codec_for(engine)
    try:
        data = codec.engine.encode(value)
    except EncodeError:
        assert not is_plain(value, codec.max_depth)
        return
    assert (data is value) == is_plain(value, codec.max_depth)


class _Counting:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def __call__(self, *args):
        self.calls += 1
        return self.inner(*args)


def test_a_typed_value_enters_the_engine_once_and_json_once(engine):
    codec = Codec(FRAMEWORK_TAGS, engine=engine)
    value = DashAttributeDict(args=sd.QueryParams("a=1&a=2"), grouping=[DashAttributeDict(id="x")])
    value["deep"] = [[[[(1, {2}, uuid.UUID(int=3))]]]] * 30
    walks, json = _Counting(codec.engine.encode), _Counting(codec._dumpb)
    codec.engine.encode, codec._dumpb = walks, json
    out = codec.loads(codec.dumpb(value))
    assert (walks.calls, json.calls) == (1, 1)
    same(out, value)


class _Broken(Exception):
    pass


class _BrokenCodec(Codec):
    """A bug in the codec's side of a walk: it must surface, not become another path."""

    def _write(self, value):
        if type(value) is uuid.UUID:
            raise _Broken("write")
        return super()._write(value)

    def _read(self, key, payload, budget):
        if key == "~uuid":
            raise _Broken("read")
        return super()._read(key, payload, budget)


def test_an_engine_failure_surfaces(engine):
    codec = _BrokenCodec(FRAMEWORK_TAGS, engine=engine)
    with pytest.raises(_Broken, match="write"):
        codec.dumpb({"a": [1, (2, uuid.UUID(int=1))]})
    with pytest.raises(_Broken, match="read"):
        codec.loads('{"a":[{"~uuid":"00000000-0000-0000-0000-000000000001"}]}')


def test_a_malformed_fast_table_entry_is_an_error_not_a_crash(engine):
    codec = Codec(FRAMEWORK_TAGS, engine=engine)
    codec._write_fast[uuid.UUID] = "not a (key, write) pair"  # type: ignore[assignment]
    with pytest.raises((TypeError, ValueError)):
        codec.dumpb([uuid.UUID(int=1)])
    codec._read_fast["~tuple"] = ["not", "a", "pair"]  # type: ignore[assignment]
    with pytest.raises((TypeError, ValueError)):
        codec.loads('[{"~tuple":[1]}]')


# -- what callbacks may do while an engine walks ---------------------------------------


class _Grabby:
    """A value whose tag's to_json changes the container holding it."""

    def __init__(self, parent, change):
        self.parent, self.change = parent, change


class _GrabbyTag(Tag):
    key = "test.Grabby"
    types = (_Grabby,)
    payload = str

    def to_json(self, value):
        value.change(value.parent)
        return "x"

    def to_python(self, payload):
        return payload


_MUTATIONS = {
    "list-append": ([], lambda c: c.append(1)),
    "list-pop": ([1, 2], lambda c: c.pop()),
    "list-clear": ([1, 2], lambda c: c.clear()),
    "dict-add": ({"a": 1}, lambda c: c.__setitem__("new", 2)),
    "dict-pop": ({"a": 1, "b": 2}, lambda c: c.pop("a")),
}


@pytest.mark.parametrize("name", _MUTATIONS)
def test_a_to_json_that_changes_its_container_is_an_error_on_both_engines(name):
    results = []
    for engine in ENGINES:
        start, change = _MUTATIONS[name]
        container = start.copy()
        grabby = _Grabby(container, change)
        if type(container) is list:
            container.append(grabby)
        else:
            container["g"] = grabby
        codec = Codec([_GrabbyTag], engine=engine)
        with pytest.raises(EncodeError, match="changed size while it was written") as exc:
            codec.dumpb({"outer": [container]})
        results.append((str(exc.value), exc.value.path))
    assert all(r == results[0] for r in results)
    assert results[0][1] == ["outer", 0]  # the container that changed


@pytest.mark.parametrize("depth", [252, 253, 254, 255])
def test_engines_agree_at_the_depth_limit(depth):
    # a plain tag (signal.Signals is written as its int) stays at its container's level;
    # a tagged value is one level more; nesting counts containers only
    for leaf in (signal.SIGTERM, 7, (7,), "s"):
        value = leaf
        for _ in range(depth):
            value = [value]
        results = [_written(codec_for(e), value) for e in ENGINES]
        assert all(r == results[0] for r in results), (leaf, depth, results)
        # {"~tuple": [7]}: the tag's object and its payload's array are two levels more
        expect_ok = depth + (2 if type(leaf) is tuple else 0) <= wire.MAX_DEPTH
        assert type(results[0]) is bytes if expect_ok else results[0][0] == "EncodeError"


class _Counted:
    pass


def _counting_codec(engine, limit=5):
    built = []

    class CountedTag(Tag):
        key = "test.Counted"
        types = (_Counted,)
        payload = int
        costly = limit

        def to_json(self, value):
            return 1

        def to_python(self, payload):
            built.append(payload)
            return _Counted()

    return Codec([CountedTag], engine=engine), built


def test_a_tag_is_checked_before_its_payload_is_built(engine):
    # An unknown tag, or a payload of the wrong JSON type, is refused before anything
    # inside it is built (in C too): hostile input costs no more than the check.
    codec, built = _counting_codec(engine, limit=10**6)
    inner = ",".join(['{"~test.Counted":1}'] * 1000)
    for text, error in (
        (f'{{"a":[{{"~nope":[{inner}]}}]}}', "unknown tag '~nope'"),
        (f'{{"a":[{{"~uuid":[{inner}]}}]}}', "payload must be a string, got an array"),
        (f'{{"a":[{{"~test.Counted":[{inner}]}}]}}', "payload must be an integer"),
    ):
        with pytest.raises(DecodeError, match=error) as exc:
            codec.loads(text)
        assert exc.value.path == ["a", 0]
        assert built == []


def test_the_costly_budget_is_spent_once(engine):
    codec, built = _counting_codec(engine, limit=5)
    text = "[" + ",".join(['{"~test.Counted":1}'] * 50) + "]"
    with pytest.raises(DecodeError, match="more than 5 units") as exc:
        codec.loads(text)
    assert exc.value.path == [5]
    assert len(built) == 5  # one walk: nothing built again


# -- threads: the C engine holds what it uses ---------------------------------------------

_RACE = textwrap.dedent(
    """
    import sys, threading
    from kombu_dash import Codec, Tag

    engine, rounds = sys.argv[1], int(sys.argv[2])
    sys.setswitchinterval(1e-6)  # a thread switch at nearly every bytecode
    codec = Codec(engine=engine) if engine != "default" else Codec()
    for r in range(rounds):
        # a class no thread has met: eight threads fill the fast table for it at the
        # same moment (as a threaded server does at start-up), while a ninth clears the
        # tables (as register_tag does)
        cls = type(f"New{r}", (), {})

        class NewTag(Tag):
            key = f"test.New{r}"
            types = (cls,)
            payload = list

            def to_json(self, value):
                return [str(i) for i in range(20)]  # Python code: a switch point

            def to_python(self, payload):
                return cls()

        codec.register_tag(NewTag)
        start = threading.Barrier(9)
        values = [cls(), (1, 2)]

        def encode():
            start.wait()
            for _ in range(3):
                codec.dumpb(values)

        def clear():
            start.wait()
            for _ in range(20):
                getattr(codec, "_write_fast", {}).clear()

        threads = [threading.Thread(target=encode) for _ in range(8)]
        threads.append(threading.Thread(target=clear))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print("rounds", rounds)
    """
)


def run_race(engine: str, rounds: int, root=ROOT, env=None) -> subprocess.CompletedProcess[str]:
    """The race in a child (a crash there is a failed test, not a dead pytest)."""
    return subprocess.run(
        [sys.executable, "-c", _RACE, engine, str(rounds)],
        env=with_pythonpath(env, root),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("engine_name", ENGINES)
def test_threads_meeting_a_new_class_at_once(engine_name):
    # Bounded work: 1,000 new classes, each met by 8 threads at once. The C engine that
    # borrowed a fast-table entry across its to_json call crashed here (use after free)
    # in most runs of this size.
    done = run_race(engine_name, 1000)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "rounds 1000" in done.stdout


_EMPTIES = textwrap.dedent(
    """
    import sys
    from kombu_dash import Codec, Tag

    engine = sys.argv[1]
    codec = Codec(engine=engine) if engine != "default" else Codec()
    tables = lambda: [getattr(codec, n, {}) for n in ("_write_fast", "_read_fast")]

    class Rude:
        pass

    class RudeTag(Tag):
        key = "test.Rude"
        types = (Rude,)
        payload = list
        calls = 0

        def to_json(self, value):
            # every other call (so that it is a call made through a fast-table entry)
            # empties the tables and registers a tag, as an import might
            RudeTag.calls += 1
            if RudeTag.calls % 2 == 0:
                for table in tables():
                    table.clear()
                codec.register_tag(type("Other", (Tag,), {"key": "test.Other"}))
            return ["x" * 40, 1]

        def to_python(self, payload):
            RudeTag.calls += 1
            if RudeTag.calls % 2 == 0:
                for table in tables():
                    table.clear()
            return Rude()

    codec.register_tag(RudeTag)
    data = codec.dumpb([Rude() for _ in range(200)])
    assert data == b"[" + b",".join([b'{"~test.Rude":["' + b"x" * 40 + b'",1]}'] * 200) + b"]"
    out = codec.loads(data)
    assert len(out) == 200 and all(type(v) is Rude for v in out)
    print("ok")
    """
)


def test_a_to_json_that_empties_the_tables_mid_walk(engine):
    # The same hazard without threads, every time: a call the engine made through a
    # fast-table entry removes that entry. Under the debug allocator freed memory is
    # overwritten, so an engine still reading the entry crashes the child.
    env = with_pythonpath(None, ROOT, PYTHONMALLOC="debug")
    done = subprocess.run(
        [sys.executable, "-c", _EMPTIES, engine],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout == "ok\n", (done.returncode, done.stderr[-2000:])
