"""kombu_dash.TaggedJSONDisk: diskcache values and keys as tagged JSON.

Round trips keep the type; keys are canonical; the cache survives fork and spawn
children; a corrupted entry is a miss with a warning (issue 5 item 6); processes
writing the same keys at once leave no corrupt entry.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import pickle
import sqlite3
import warnings
from pathlib import Path

import diskcache
import pytest

import kombu_dash
from kombu_dash.diskcache_disk import CorruptEntryError, CorruptEntryWarning, TaggedJSONDisk

from .harness import same

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def cache(tmp_path):
    with diskcache.Cache(str(tmp_path / "c"), disk=TaggedJSONDisk) as c:
        yield c


def _dash_values():
    import numpy as np
    import plotly.graph_objects as go
    from dash import dcc, html, no_update
    from werkzeug.datastructures import ImmutableMultiDict

    return [
        ("html.B in progress", [html.B("step 1", id="b")]),
        (
            "component tree",
            html.Div([html.Span("x"), dcc.Input(value=3, id="i")], id="d", **{"data-k": "v"}),
        ),
        ("figure", go.Figure(go.Scatter(x=[1, 2], y=np.array([1.5, 2.5])))),
        ("numpy float", np.arange(6, dtype="<f4").reshape(2, 3)),
        ("numpy datetime", np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[D]")),
        ("numpy scalar", np.int32(7)),
        ("no_update", no_update),
        ("no_update marker dict", {"_dash_no_update": "_dash_no_update"}),
        ("signing secret", os.urandom(32)),
        ("set_props", {"side": {"children": html.I("x")}}),
        ("multidict", ImmutableMultiDict([("tag", "a"), ("tag", "b")])),
        (
            "codec values",
            {
                "t": (1, 2),
                "s": {1, 2},
                "when": dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
                "d": decimal.Decimal("1.10"),
                "k": {1: "int key"},
            },
        ),
        ("str", "plain text"),
        ("None", None),
        ("int", 42),
        ("float", 2.5),
    ]


@pytest.mark.parametrize("name,value", _dash_values(), ids=[n for n, _ in _dash_values()])
def test_round_trip_keeps_type(cache, name, value):
    cache.set("k", value)
    out = cache.get("k", default=KeyError)
    same(out, value)


def test_values_are_tagged_json_on_disk_not_pickles(cache):
    from dash import html

    cache.set("k", [html.B("x")])
    cache.set("big", "x" * 100_000)  # goes to a file
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    (raw,) = con.execute("SELECT value FROM Cache WHERE key = 'k'").fetchone()
    (filename,) = con.execute("SELECT filename FROM Cache WHERE key = 'big'").fetchone()
    con.close()
    assert bytes(raw).startswith(b"kd1:")
    assert (
        bytes(raw)[13:]
        == b'[{"~dash.Component":{"namespace":"dash_html_components","type":"B","props":{"children":"x"}}}]'
    )
    assert Path(cache.directory, filename).read_bytes()[13:] == b'"' + b"x" * 100_000 + b'"'


def test_equal_keys_find_the_same_entry(cache):
    cache[("a", {"x": 1, "y": 2})] = "dict key"
    assert cache[("a", {"y": 2, "x": 1})] == "dict key"
    cache[frozenset(["p", "q", "r", "s"])] = "set key"
    assert cache[frozenset(["s", "r", "q", "p"])] == "set key"
    cache[True] = "bool"
    assert cache[1] == "bool"
    cache[(1.0, 2)] = "float in tuple"
    assert cache[(1, 2)] == "float in tuple"
    cache[b"raw"] = "bytes key"
    assert cache[b"raw"] == "bytes key" and "raw" not in cache
    assert sorted(map(repr, cache.iterkeys())) == sorted(
        map(repr, [("a", {"x": 1, "y": 2}), frozenset("pqrs"), 1, (1, 2), b"raw"])
    )


def test_incr_and_native_numbers(cache):
    cache.set("n", 1)
    assert cache.incr("n", 5) == 6 and cache.get("n") == 6


def test_cache_pickles_with_its_disk(cache):
    cache.set("k", (1, 2))
    clone = pickle.loads(pickle.dumps(cache))
    try:
        assert type(clone.disk) is TaggedJSONDisk and clone.get("k") == (1, 2)
    finally:
        clone.close()


def _child_writes(cache, key):
    # module-level: a spawn child imports it by name
    import numpy as np
    from dash import html

    cache.set(key, {"progress": [html.B("from child")], "array": np.arange(3), "pid": os.getpid()})


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocess_children_write_what_the_parent_reads(cache, method):
    import multiprocess
    import numpy as np

    proc = multiprocess.get_context(method).Process(target=_child_writes, args=(cache, method))
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0
    got = cache.get(method)
    assert type(got["progress"][0]).__name__ == "B" and got["progress"][0].children == "from child"
    assert got["array"].dtype == np.arange(3).dtype and got["array"].tolist() == [0, 1, 2]
    assert got["pid"] != os.getpid()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]


@pytest.mark.parametrize("where", ["header", "body", "last byte"])
def test_corrupt_entry_in_the_database_is_a_miss_with_a_warning(cache, where):
    cache.set("k", {"n": 12345, "tags": ("a", "b")})
    db = os.path.join(cache.directory, "cache.db")
    con = sqlite3.connect(db)
    (raw,) = con.execute("SELECT value FROM Cache WHERE key = 'k'").fetchone()
    at = {"header": 2, "body": 20, "last byte": len(raw) - 2}[where]
    con.execute("UPDATE Cache SET value = ? WHERE key = 'k'", (_flip(bytes(raw), at),))
    con.commit()
    con.close()
    with pytest.warns(CorruptEntryWarning, match="read as a miss"):
        assert cache.get("k", default="miss") == "miss"


def test_corrupt_entry_in_a_file_is_a_miss_with_a_warning(cache):
    cache.set("big", ["x" * 50_000, 1])
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    (filename,) = con.execute("SELECT filename FROM Cache WHERE key = 'big'").fetchone()
    con.close()
    path = Path(cache.directory, filename)
    path.write_bytes(_flip(path.read_bytes(), 30_000))  # one flipped bit inside a string
    with pytest.warns(CorruptEntryWarning):
        assert cache.get("big") is None


def test_corrupt_result_never_crashes_the_dash_manager(cache):
    manager = kombu_dash.DiskcacheManager(cache)
    cache.set("result-key", {"out": "value"})
    cache.set("result-key-progress", ["50%"])
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    for key in ("result-key", "result-key-progress"):
        (raw,) = con.execute("SELECT value FROM Cache WHERE key = ?", (key,)).fetchone()
        con.execute("UPDATE Cache SET value = ? WHERE key = ?", (_flip(bytes(raw), 15), key))
    con.commit()
    con.close()
    with pytest.warns(CorruptEntryWarning):
        assert manager.get_progress("result-key") is None
        assert manager.result_ready("result-key") is False
        assert manager.get_result("result-key", None) is manager.UNDEFINED


def _payload(writer: int, i: int) -> dict:
    # every 4th value is large enough to go to a file instead of the database
    size = 40_000 if i % 4 == 0 else 50
    return {"writer": writer, "i": i, "tuple": (writer, i), "blob": f"{writer}:{i}:" * (size // 8)}


def _hammer(directory: str, writer: int, rounds: int) -> int:
    """Write and read the same keys as the other writers; count bad reads."""
    cache = diskcache.Cache(directory, disk=TaggedJSONDisk)
    bad = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(rounds):
            cache.set(f"key-{i % 5}", _payload(writer, i))
            try:
                got = cache.get(f"key-{(i + writer) % 5}")
            except Exception:  # a CorruptEntryWarning raised as an error, or anything else
                bad += 1
                continue
            if got is not None and got != _payload(got["writer"], got["i"]):
                bad += 1
    cache.close()
    return bad


def test_concurrent_writers_leave_no_corrupt_entry(tmp_path):
    import multiprocess

    directory = str(tmp_path / "shared")
    diskcache.Cache(directory, disk=TaggedJSONDisk).close()
    with multiprocess.get_context("fork").Pool(4) as pool:
        bad = pool.starmap(_hammer, [(directory, w, 150) for w in range(4)])
    assert bad == [0, 0, 0, 0]
    with diskcache.Cache(directory, disk=TaggedJSONDisk) as cache, warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(5):
            got = cache[f"key-{k}"]
            assert got == _payload(got["writer"], got["i"])


# -- rows TaggedJSONDisk did not write (issue 9 item 1): someone with write access to the
# cache directory forges them. Each must read as a miss: never a pickle, never a file the
# database names, never a bare value, and iteration must survive a forged key.


class _RunsCode:
    """Unpickling this writes a marker file: proof that reading the cache ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _forge(cache, key, *, mode, value=None, filename=None):
    cache.set(key, "honest value")  # a real row, then rewritten as an attacker would
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    con.execute(
        "UPDATE Cache SET mode = ?, value = ?, filename = ? WHERE key = ?",
        (mode, value, filename, key),
    )
    con.commit()
    con.close()


def _getitem(cache, key):
    try:
        return cache[key]
    except KeyError:
        return "miss"


def _pickle_row(marker):
    return sqlite3.Binary(pickle.dumps(_RunsCode(str(marker))))


@pytest.mark.parametrize(
    "read", ["get", "getitem", "pop", "peekitem", "manager result", "manager progress"]
)
def test_forged_pickle_row_never_runs_code(cache, tmp_path, read):
    marker = tmp_path / "marker"
    key = "result-key-progress" if read == "manager progress" else "result-key"
    _forge(cache, key, mode=4, value=_pickle_row(marker))
    manager = kombu_dash.DiskcacheManager(cache)
    readers = {
        "get": lambda: cache.get(key, default="miss"),
        "getitem": lambda: _getitem(cache, key),
        "pop": lambda: cache.pop(key, default="miss"),
        "manager result": lambda: (
            "miss" if manager.get_result("result-key", None) is manager.UNDEFINED else "hit"
        ),
        "manager progress": lambda: manager.get_progress("result-key") or "miss",
    }
    if read == "peekitem":
        # diskcache's peekitem re-reads a row after a miss, forever: a clear error instead
        with (
            pytest.warns(CorruptEntryWarning, match="mode 4"),
            pytest.raises(CorruptEntryError, match="read 50 times in a row"),
        ):
            cache.peekitem()
    else:
        with pytest.warns(CorruptEntryWarning, match="mode 4 row not written by TaggedJSONDisk"):
            assert readers[read]() == "miss"
    assert not marker.exists(), "reading the cache unpickled a forged row"


def test_forged_pickle_file_row_never_runs_code(cache, tmp_path):
    marker = tmp_path / "marker"
    cache.set("big", "x" * 100_000)  # a real file row: reuse its own-looking file name
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    (filename,) = con.execute("SELECT filename FROM Cache WHERE key = 'big'").fetchone()
    con.execute("UPDATE Cache SET mode = 4 WHERE key = 'big'")
    con.commit()
    con.close()
    Path(cache.directory, filename).write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with pytest.warns(CorruptEntryWarning):
        assert cache.get("big", default="miss") == "miss"
    assert not marker.exists()


@pytest.mark.parametrize("mode", [2, 3])
@pytest.mark.parametrize("read", [False, True])
def test_forged_file_name_outside_the_cache_is_never_opened(cache, tmp_path, mode, read):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"kd1:00000000:" + b'"not for the cache reader"')
    _forge(cache, "k", mode=mode, filename=str(secret))
    with pytest.warns(CorruptEntryWarning, match="not written by TaggedJSONDisk"):
        got = cache.get("k", default="miss", read=read)
    assert got == "miss"


@pytest.mark.parametrize("name", ["../../x/y/zz.val", "ab/cd/../../../etc.val", "ab/cd/e.val"])
def test_forged_relative_file_names_are_refused(cache, name):
    _forge(cache, "k", mode=2, filename=name)
    with pytest.warns(CorruptEntryWarning):
        assert cache.get("k", default="miss") == "miss"


@pytest.mark.parametrize("how", ["delete", "pop", "expire"])
def test_forged_file_name_is_never_removed(cache, tmp_path, how):
    victim = tmp_path / "victim" / "keep.txt"
    victim.parent.mkdir()
    victim.write_text("must survive")
    _forge(cache, "k", mode=2, filename=str(victim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorruptEntryWarning)
        if how == "delete":
            del cache["k"]
        elif how == "pop":
            cache.pop("k")
        else:
            cache.touch("k", expire=-1)
            cache.expire()
    assert victim.read_text() == "must survive"
    assert "k" not in cache


@pytest.mark.parametrize(
    "value",
    ["a text value", b"no header at all", None, 2**70 // 2**10 * 1.5],
    ids=["text", "bytes without header", "null", "float forged as text-mode"],
)
def test_forged_bare_values_are_misses(cache, value):
    mode = 3 if type(value) is float else 1
    _forge(cache, "k", mode=mode, value=value)
    with pytest.warns(CorruptEntryWarning):
        assert cache.get("k", default="miss") == "miss"


def test_forged_crc_is_not_authentication_but_yields_only_data(cache, tmp_path):
    # The checksum catches damage, not forgery: a valid forged entry reads as the data it
    # holds (docs/diskcache.rst says so). What it can hold is codec data, nothing that runs.
    import zlib

    body = b'{"~tuple":[1,2]}'
    _forge(cache, "k", mode=1, value=sqlite3.Binary(b"kd1:%08x:%s" % (zlib.crc32(body), body)))
    assert cache.get("k") == (1, 2)


@pytest.mark.parametrize("raw_key", [b"not json", b'{"~no.such.tag": 1}', "text key"])
def test_forged_key_does_not_break_iteration_and_can_be_deleted(cache, raw_key):
    cache["good"] = 1
    cache[("tuple", "key")] = 2
    con = sqlite3.connect(os.path.join(cache.directory, "cache.db"))
    key = sqlite3.Binary(raw_key) if type(raw_key) is bytes else raw_key
    con.execute("UPDATE Cache SET key = ?, raw = 0 WHERE key = 'good'", (key,))
    con.commit()
    con.close()
    with pytest.warns(CorruptEntryWarning, match="unreadable cache key"):
        keys = list(cache)
    assert ("tuple", "key") in keys and len(keys) == 2
    (bad,) = [k for k in keys if isinstance(k, kombu_dash.diskcache_disk.UnreadableKey)]
    assert bad.raw == raw_key
    del cache[bad]
    assert list(cache) == [("tuple", "key")]
