"""Round trips for the optional frameworks: Django, yarl, pandas and numpy.

One table; each row builds its value (a QueryDict needs Django settings, configured by
the fixture below) and names how to compare it: type identity first, then equality with
the library's own assertion where it has one (pandas.testing, numpy.testing).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import yarl
from django.conf import settings

import kombu_dash
from kombu_dash import DecodeError, EncodeError, MultiDict

from .harness import same


@pytest.fixture(scope="module", autouse=True)
def django_settings():
    # Django reads DEFAULT_CHARSET and DATA_UPLOAD_MAX_NUMBER_FIELDS when building a QueryDict.
    if not settings.configured:
        settings.configure()


def query_dict(qs="", *, mutable=False, encoding=None, extra=()):
    from django.http import QueryDict

    q = QueryDict(qs, mutable=True, encoding=encoding)
    for key, values in extra:
        q.setlist(key, values)
    q._mutable = mutable
    return q


def multi_value_dict(data):
    from django.utils.datastructures import MultiValueDict

    return MultiValueDict(data)


# -- how to compare --------------------------------------------------------------------


def django_same(out, obj):
    assert type(out) is type(obj)
    assert list(out.lists()) == list(obj.lists()) or dict(out.lists()) == dict(obj.lists())
    for key in obj:
        assert out[key] == obj[key]  # the last value, as Django's [] gives
        same(out.getlist(key), obj.getlist(key))
    if hasattr(obj, "encoding"):
        assert out.encoding == obj.encoding
        assert out._mutable == obj._mutable


def frame_same(out, obj):
    assert type(out) is type(obj)
    pd.testing.assert_frame_equal(
        out, obj, check_exact=True, check_freq=True, check_index_type=True, check_column_type=True
    )
    assert type(out.index) is type(obj.index) and type(out.columns) is type(obj.columns)


def series_same(out, obj):
    assert type(out) is type(obj)
    pd.testing.assert_series_equal(
        out, obj, check_exact=True, check_freq=True, check_index_type=True
    )
    assert type(out.index) is type(obj.index)


def categorical_same(out, obj):
    assert type(out) is type(obj)
    assert (
        out.dtype == obj.dtype
        and list(out.categories) == list(obj.categories)
        and out.ordered == obj.ordered
    )
    pd.testing.assert_extension_array_equal(out, obj, check_exact=True)


def scalar_same(out, obj):
    assert type(out) is type(obj)
    if obj is pd.NaT or obj is pd.NA:
        assert out is obj
        return
    assert out == obj
    assert out.unit == obj.unit
    if isinstance(obj, pd.Timestamp):
        assert str(out.tz) == str(obj.tz) and out.utcoffset() == obj.utcoffset()


def array_same(out, obj):
    assert type(out) is type(obj)
    assert out.dtype == obj.dtype and out.shape == obj.shape
    np.testing.assert_array_equal(out, obj, strict=True)


def numpy_scalar_same(out, obj):
    assert type(out) is type(obj)
    assert out.dtype == obj.dtype
    if obj != obj:  # NaN / NaT
        assert out != out
    else:
        assert out == obj


def url_same(out, obj):
    assert type(out) is type(obj)
    assert out == obj and str(out) == str(obj)


PARIS = "Europe/Paris"


def _frame_all_dtypes():
    frame = pd.DataFrame(
        {
            "int8": np.array([1, -2, 3], dtype="int8"),
            "uint64": np.array([0, 2**64 - 1, 7], dtype="uint64"),
            "float32": np.array([1.5, np.nan, -np.inf], dtype="float32"),
            "float64": [0.1, np.nan, 1e300],
            "bool": [True, False, True],
            "str": ["a", None, "é"],
            "object": pd.Series([(1, 2), {"k": dt.date(2024, 1, 1)}, None], dtype=object),
            "naive": pd.to_datetime(
                ["2024-01-01 00:00:00.000000001", None, "1970-01-01 00:00:00.000000000"]
            ),
            "aware": pd.date_range("2024-03-30 12:00", periods=3, freq="12h", tz=PARIS),
            "delta": pd.to_timedelta([1, None, -3], unit="ms"),
            "category": pd.Categorical(["x", "y", "x"], categories=["y", "x"], ordered=True),
            "Int64": pd.array([1, None, 3], dtype="Int64"),
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "string": pd.array(["a", None, "c"], dtype="string"),
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )
    return frame


ROWS = [
    # -- Django --------------------------------------------------------------------
    ("django-QueryDict-immutable", lambda: query_dict("tag=a&tag=b&empty=&q=%C3%A9"), django_same),
    ("django-QueryDict-mutable", lambda: query_dict("a=1", mutable=True), django_same),
    (
        "django-QueryDict-latin-1",
        lambda: query_dict("name=%E9", encoding="iso-8859-1"),
        django_same,
    ),
    ("django-QueryDict-empty", lambda: query_dict(), django_same),
    (
        "django-QueryDict-python-values",
        lambda: query_dict(mutable=True, extra=[("n", [1, (2, 3)]), ("none", [])]),
        django_same,
    ),
    (
        "django-MultiValueDict",
        lambda: multi_value_dict({"a": ["1", "2"], "b": [dt.date(2024, 1, 1)]}),
        django_same,
    ),
    (
        "django-MultiValueDict-empty-list",
        lambda: multi_value_dict({"a": [], "b": ["x"]}),
        django_same,
    ),
    # -- yarl ----------------------------------------------------------------------
    (
        "yarl-URL",
        lambda: yarl.URL("https://user:pw@example.com:8443/p a/ä?tag=a&tag=b&x=%2F#frag"),
        url_same,
    ),
    ("yarl-URL-relative", lambda: yarl.URL("/path?q=1"), url_same),
    # -- pandas --------------------------------------------------------------------
    ("pandas-DataFrame-all-dtypes", _frame_all_dtypes, frame_same),
    (
        "pandas-DataFrame-range-index",
        lambda: pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        frame_same,
    ),
    ("pandas-DataFrame-empty", lambda: pd.DataFrame(), frame_same),
    (
        "pandas-DataFrame-multiindex",
        lambda: pd.DataFrame(
            {"v": [1.0, 2.0]},
            index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"]),
        ),
        frame_same,
    ),
    (
        "pandas-DataFrame-duplicate-and-int-columns",
        lambda: pd.DataFrame([[1, 2, 3]], columns=["a", "a", 7]),
        frame_same,
    ),
    (
        "pandas-DataFrame-datetime-index-freq",
        lambda: pd.DataFrame(
            {"v": [1, 2, 3]}, index=pd.date_range("2024-01-01", periods=3, freq="D", name="day")
        ),
        frame_same,
    ),
    (
        "pandas-DataFrame-categorical-index",
        lambda: pd.DataFrame(
            {"v": [1, 2]}, index=pd.CategoricalIndex(["lo", "hi"], categories=["lo", "hi"])
        ),
        frame_same,
    ),
    ("pandas-Series-of-lists", lambda: pd.Series([[1, 2], [3, 4]], name="pairs"), series_same),
    ("pandas-Series-of-one-list", lambda: pd.Series([[1, 2]]), series_same),
    (
        "pandas-Series",
        lambda: pd.Series([1.5, np.nan], index=["a", "b"], name=("tuple", "name")),
        series_same,
    ),
    (
        "pandas-Series-aware",
        lambda: pd.Series(pd.date_range("2023-10-29", periods=4, freq="h", tz=PARIS)),
        series_same,
    ),
    (
        "pandas-Series-timedelta-index",
        lambda: pd.Series([1, 2], index=pd.timedelta_range("1s", periods=2, freq="s")),
        series_same,
    ),
    (
        "pandas-Categorical",
        lambda: pd.Categorical(["a", "b", None], categories=["b", "a", "z"], ordered=True),
        categorical_same,
    ),
    ("pandas-Categorical-int", lambda: pd.Categorical([3, 1, 3]), categorical_same),
    (
        "pandas-Timestamp-naive-ns",
        lambda: pd.Timestamp("2024-02-29 23:59:59.999999999"),
        scalar_same,
    ),
    (
        "pandas-Timestamp-zone-ambiguous",
        lambda: pd.Timestamp("2023-10-29 02:30").tz_localize(PARIS, ambiguous=False),
        scalar_same,
    ),
    (
        "pandas-Timestamp-offset",
        lambda: pd.Timestamp("2024-01-01 12:00", tz=dt.timezone(dt.timedelta(hours=-5))),
        scalar_same,
    ),
    (
        "pandas-Timestamp-utc-seconds",
        lambda: pd.Timestamp("2024-01-01", tz="UTC").as_unit("s"),
        scalar_same,
    ),
    ("pandas-Timedelta", lambda: pd.Timedelta("-1 days 3ns"), scalar_same),
    ("pandas-Timedelta-ms", lambda: pd.Timedelta(milliseconds=1500).as_unit("ms"), scalar_same),
    ("pandas-NaT", lambda: pd.NaT, scalar_same),
    ("pandas-NA", lambda: pd.NA, scalar_same),
    # -- numpy (kombu_dash/frameworks/numpy.py) -------------------------------------
    ("numpy-float64-2d", lambda: np.arange(6, dtype="float64").reshape(2, 3) / 7, array_same),
    ("numpy-int8-3d", lambda: np.arange(24, dtype="int8").reshape(2, 3, 4), array_same),
    ("numpy-bool", lambda: np.array([True, False]), array_same),
    ("numpy-uint64-max", lambda: np.array([2**64 - 1], dtype="uint64"), array_same),
    ("numpy-float32-nan", lambda: np.array([np.nan, np.inf, -0.0], dtype="float32"), array_same),
    ("numpy-complex", lambda: np.array([1 + 2j], dtype="complex128"), array_same),
    (
        "numpy-datetime64",
        lambda: np.array(["2024-01-01T00:00:00.000000001", "NaT"], dtype="datetime64[ns]"),
        array_same,
    ),
    ("numpy-timedelta64", lambda: np.array([1, -2], dtype="timedelta64[s]"), array_same),
    ("numpy-unicode", lambda: np.array(["a", "héllo"]), array_same),
    ("numpy-big-endian", lambda: np.array([1, 2], dtype=">i4"), array_same),
    ("numpy-fortran-order", lambda: np.asfortranarray(np.arange(6).reshape(2, 3)), array_same),
    ("numpy-non-contiguous", lambda: np.arange(10)[::3], array_same),
    ("numpy-empty", lambda: np.zeros((0, 3), dtype="float64"), array_same),
    ("numpy-0d", lambda: np.array(5, dtype="int16"), array_same),
    (
        "numpy-structured",
        lambda: np.array([(1, 2.5)], dtype=[("a", "i4"), ("b", "f8")]),
        array_same,
    ),
    ("numpy-object", lambda: np.array([(1, 2), "x", None], dtype=object), array_same),
    ("numpy-float64-scalar", lambda: np.float64(0.1), numpy_scalar_same),
    ("numpy-float32-scalar", lambda: np.float32(1.5), numpy_scalar_same),
    ("numpy-int32-scalar", lambda: np.int32(-7), numpy_scalar_same),
    ("numpy-uint8-scalar", lambda: np.uint8(255), numpy_scalar_same),
    ("numpy-bool-scalar", lambda: np.bool_(True), numpy_scalar_same),
    ("numpy-nan-scalar", lambda: np.float64("nan"), numpy_scalar_same),
    ("numpy-datetime64-scalar", lambda: np.datetime64("2024-01-01T12:00", "m"), numpy_scalar_same),
    ("numpy-timedelta64-scalar", lambda: np.timedelta64(3, "D"), numpy_scalar_same),
    ("numpy-str-scalar", lambda: np.str_("héllo"), numpy_scalar_same),
    ("numpy-bytes-scalar", lambda: np.bytes_(b"\x00ab"), numpy_scalar_same),
]

IDS = [row[0] for row in ROWS]


@pytest.mark.parametrize("make, check", [row[1:] for row in ROWS], ids=IDS)
def test_round_trip(make, check):
    obj = make()
    out = kombu_dash.loads(kombu_dash.dumps(obj))
    check(out, obj)


@pytest.mark.parametrize("make, check", [row[1:] for row in ROWS], ids=IDS)
def test_round_trip_inside_a_task_body(make, check):
    # As a Celery body holds it: inside args and kwargs, next to plain data.
    obj = make()
    body = [[1, {"deep": [obj]}], {"kw": obj}, {"callbacks": None}]
    out = kombu_dash.loads(kombu_dash.dumpb(body))
    check(out[0][1]["deep"][0], obj)
    check(out[1]["kw"], obj)


@pytest.mark.parametrize("make", [row[1] for row in ROWS], ids=IDS)
def test_wire_is_plain_json(make):
    # Any JSON parser reads it; only kombu_dash knows what the ~tags mean.
    text = kombu_dash.dumps(make())
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


# -- pinned wire forms -----------------------------------------------------------------


def test_query_dict_wire_form():
    text = kombu_dash.dumps(query_dict("tag=a&tag=b"))
    assert (
        text
        == '{"~django.QueryDict":[{"mutable":false,"encoding":"utf-8"},["tag","a"],["tag","b"]]}'
    )


def test_multi_value_dict_wire_form():
    assert (
        kombu_dash.dumps(multi_value_dict({"a": ["1", "2"]}))
        == '{"~django.MultiValueDict":[["a","1"],["a","2"]]}'
    )
    assert (
        kombu_dash.dumps(multi_value_dict({"a": []}))
        == '{"~django.MultiValueDict":[{"empty":["a"]}]}'
    )


def test_series_wire_form():
    text = kombu_dash.dumps(pd.Series([1, 2], name="n"))
    assert json.loads(text) == {
        "~pandas.Series": {
            "index": {"range": [0, 2, 1], "name": None},
            "name": "n",
            "data": {"dtype": "int64", "values": [1, 2]},
        }
    }


def test_timestamp_wire_form():
    text = kombu_dash.dumps(pd.Timestamp("2024-07-14 09:30:00.000000001", tz=PARIS))
    assert (
        text == '{"~pandas.Timestamp":["2024-07-14T09:30:00.000000001+02:00","Europe/Paris","ns"]}'
    )


def test_yarl_wire_form():
    assert kombu_dash.dumps(yarl.URL("http://x/ä?q=1")) == '{"~yarl.URL":"http://x/%C3%A4?q=1"}'


# -- semantics users rely on -------------------------------------------------------------


def test_query_dict_getitem_is_last_value_and_immutability_kept():
    out = kombu_dash.loads(kombu_dash.dumps(query_dict("tag=a&tag=b")))
    assert out["tag"] == "b" and out.getlist("tag") == ["a", "b"]
    from django.utils.datastructures import MultiValueDictKeyError  # noqa: F401  (Django's own API)

    with pytest.raises(AttributeError, match="immutable"):
        out["tag"] = "c"
    copy = out.copy()
    copy["tag"] = "c"
    assert copy.urlencode() == "tag=c"


def test_bare_pairs_from_a_stand_in_decode_as_immutable_query_dict():
    out = kombu_dash.loads('{"~django.QueryDict":[["a","1"],["a","2"]]}')
    assert out.getlist("a") == ["1", "2"] and out["a"] == "2"
    assert out.encoding == "utf-8" and out._mutable is False


def test_pandas_subclass_is_refused_not_downgraded():
    class GeoLike(pd.DataFrame):
        pass

    with pytest.raises(EncodeError, match="subclass of pandas.*DataFrame"):
        kombu_dash.dumps(GeoLike({"a": [1]}))


def test_unsupported_pandas_dtype_names_dtype_and_column():
    frame = pd.DataFrame({"when": pd.period_range("2024-01", periods=2, freq="M")})
    with pytest.raises(EncodeError, match=r"period\[M\].*\['frame'\]\['when'\]"):
        kombu_dash.dumps({"frame": frame})


@pytest.mark.parametrize(
    "text, match",
    [
        (
            '{"~pandas.Series": {"index": {"range": [0, 1, 1]}, "name": null, "data": {"dtype": "V8", "values": [1]}}}',
            "not one kombu_dash writes",
        ),
        (
            '{"~pandas.Series": {"index": {"range": [0, 2, 1]}, "name": null, "data": {"dtype": "int64", "values": [1]}}}',
            "pandas.Series",
        ),
        (
            '{"~pandas.DataFrame": {"index": {"range": [0, 1, 1]}, "columns": {"range": [0, 2, 1]}, "data": []}}',
            "2 column labels for 0 columns",
        ),
        ('{"~pandas.Timestamp": ["now", null, "ns"]}', "ISO date"),
        ('{"~pandas.Timedelta": [5, "ns"]}', "ISO duration"),
        ('{"~pandas.Categorical": {"dtype": "int64", "values": []}}', "category"),
        ('{"~django.QueryDict": [{"mutable": "yes", "encoding": "utf-8"}]}', "mutable"),
        ('{"~django.QueryDict": [{"evil": 1}]}', "unknown options"),
        ('{"~django.MultiValueDict": [["a"]]}', "pairs"),
        ('{"~yarl.URL": 5}', "string"),
        (
            '{"~pandas.Timestamp": ["2020-01-01T00:00:00+00:00", "dateutil//etc/passwd", "ns"]}',
            "unknown time zone",
        ),
        (
            '{"~pandas.Series": {"index": {"range": [0, 1, 1]}, "name": null, '
            '"data": {"dtype": "datetime64[ns, dateutil//etc/passwd]", "values": [1]}}}',
            "unknown time zone",
        ),
        (
            '{"~pandas.Series": {"index": {"range": [0, 1, 1]}, "name": null, '
            '"data": {"dtype": "' + "9" * 5000 + 'i4", "values": [1]}}}',
            "not one kombu_dash writes",
        ),
    ],
    ids=[
        "bad-dtype",
        "length-mismatch",
        "column-count",
        "timestamp-now",
        "timedelta-int",
        "categorical-shape",
        "querydict-options",
        "querydict-unknown-option",
        "mvd-not-pairs",
        "url-not-str",
        "timestamp-zone-path",
        "dtype-zone-path",
        "dtype-huge-repeat",
    ],
)
def test_malformed_payloads_are_decode_errors(text, match):
    with pytest.raises(DecodeError, match=match):
        kombu_dash.loads(text)


# -- where the library is missing, in a fresh interpreter ------------------------------------


def run_python(code: str, env_extra=None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_query_dict_without_django_is_a_last_wins_stand_in_sent_on_as_query_dict():
    wire = kombu_dash.dumps(query_dict("tag=a&tag=b"))
    proc = run_python(f"""
        import sys
        sys.modules["django"] = None  # Django is not installed here
        import kombu_dash
        out = kombu_dash.loads({wire!r})
        assert isinstance(out, kombu_dash.MultiDict), type(out)
        assert out["tag"] == "b" and out.getlist("tag") == ["a", "b"]
        assert out.encoding == "utf-8" and out.mutable is False
        print(kombu_dash.dumps(out))
    """)
    assert proc.returncode == 0, proc.stderr
    sent_on = proc.stdout.strip()
    assert (
        sent_on
        == wire
        == '{"~django.QueryDict":[{"mutable":false,"encoding":"utf-8"},["tag","a"],["tag","b"]]}'
    )
    back = kombu_dash.loads(sent_on)
    assert type(back).__name__ == "QueryDict" and back.getlist("tag") == ["a", "b"]


def test_query_dict_without_django_settings_decodes_to_stand_in():
    # A worker with Django installed but no DJANGO_SETTINGS_MODULE must not reject the task.
    wire = kombu_dash.dumps(query_dict("tag=a&tag=b"))
    proc = run_python(f"""
        import kombu_dash
        out = kombu_dash.loads({wire!r})
        assert isinstance(out, kombu_dash.MultiDict) and out["tag"] == "b", out
        assert kombu_dash.dumps(out) == {wire!r}
        import django.utils.datastructures as d
        mvd = kombu_dash.loads('{{"~django.MultiValueDict":[["a","1"]]}}')
        assert type(mvd) is d.MultiValueDict, type(mvd)  # needs no settings
        print("ok")
    """)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_query_dict_with_broken_settings_module_is_a_clear_decode_error():
    wire = kombu_dash.dumps(query_dict("a=1"))
    proc = run_python(
        f"""
        import kombu_dash
        try:
            kombu_dash.loads({wire!r})
        except kombu_dash.DecodeError as exc:
            print(exc)
    """,
        {"DJANGO_SETTINGS_MODULE": "no_such_settings_module_kd"},
    )
    assert (
        "Django settings cannot be loaded here" in proc.stdout
        and "no_such_settings_module_kd" in proc.stdout
    ), proc.stdout + proc.stderr


def test_pandas_value_without_pandas_is_a_clear_decode_error():
    wire = kombu_dash.dumps({"frame": pd.DataFrame({"a": [1]}), "t": pd.Timestamp("2024-01-01")})
    proc = run_python(f"""
        import sys
        sys.modules["pandas"] = None  # pandas is not installed here
        import kombu_dash
        try:
            kombu_dash.loads({wire!r})
        except kombu_dash.DecodeError as exc:
            print(exc)
    """)
    assert (
        "~pandas.DataFrame needs pandas, which is not installed in this process at value['frame']"
        in proc.stdout
    ), proc.stdout + proc.stderr


def test_yarl_url_without_yarl_is_its_text():
    wire = kombu_dash.dumps(yarl.URL("http://x/?a=1"))
    proc = run_python(f"""
        import sys
        sys.modules["yarl"] = None
        import kombu_dash
        print(repr(kombu_dash.loads({wire!r})))
    """)
    assert proc.stdout.strip() == "'http://x/?a=1'", proc.stderr


def test_importing_kombu_dash_imports_none_of_these_frameworks():
    proc = run_python("""
        import sys, kombu_dash
        kombu_dash.loads(kombu_dash.dumps({"a": (1, 2)}))
        print(sorted(m for m in ("django", "pandas", "numpy", "yarl") if m in sys.modules))
    """)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_stand_in_is_a_multidict():
    # The fallback is kombu_dash's public MultiDict, with Django's [] (last value).
    md = MultiDict([("a", "1"), ("a", "2")], last=True, stand_in_for="django.QueryDict")
    assert kombu_dash.dumps(md) == '{"~django.QueryDict":[["a","1"],["a","2"]]}'


def test_uploaded_file_is_refused_naming_the_key():
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = multi_value_dict({"doc": [SimpleUploadedFile("a.txt", b"x")]})
    with pytest.raises(
        EncodeError, match=r"key 'doc' holds a SimpleUploadedFile.*\['files'\]\['doc'\]"
    ):
        kombu_dash.dumps({"files": files})
