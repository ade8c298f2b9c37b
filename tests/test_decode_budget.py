"""The decode budgets for numpy, pandas, Decimal, dates and Counter counts.

One test per finding of the adversarial review, each with the payload that broke the old
decoder. Hostile decodes that cost CPU or memory run in a child process under an
address-space limit and a CPU-time limit (RLIMIT_AS, RLIMIT_CPU): the test asserts a
DecodeError came back inside them, never a wall-clock time on a busy machine.
The budgets themselves are listed in docs/security.rst, "Decode budgets".
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import os
import subprocess
import sys
import textwrap
import zoneinfo
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import kombu_dash
from kombu_dash import DecodeError, EncodeError
from kombu_dash.tags import COUNTER_MAX, COUNTER_MIN

# -- a sandbox for hostile decodes -----------------------------------------------------

# Libraries are imported (and one value decoded) before the limits are set: their cost is
# not the message's. Then the child gets EXTRA_MB more address space than it has mapped and
# CPU_SECONDS more CPU time than it has used; SIGXCPU (or SIGKILL) ends it beyond that.
_SANDBOX = textwrap.dedent("""
    import json, resource, sys, time, warnings
    import numpy, pandas, kombu_dash
    kombu_dash.loads('{"~pandas.Series": {"index": {"range": [0, 1, 1], "name": null}, '
                     '"name": null, "data": {"dtype": "int64", "values": [1]}}}')
    payload = sys.stdin.read()
    def vm_bytes():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
    limit = vm_bytes() + int(sys.argv[1]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    warnings.simplefilter("error")
    start = time.process_time()
    try:
        kombu_dash.loads(payload)
        result = "decoded"
    except kombu_dash.DecodeError as exc:
        result = "DecodeError: " + str(exc)
    except BaseException as exc:
        result = type(exc).__name__ + ": " + str(exc)[:200]
    print(json.dumps({"result": result, "cpu": time.process_time() - start}))
""")
CPU_SECONDS = 10
EXTRA_MB = 256


def decode_in_sandbox(payload: str) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", _SANDBOX, str(EXTRA_MB), str(CPU_SECONDS)],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"the decode was killed (returncode {proc.returncode}: over {CPU_SECONDS} s of CPU "
        f"or {EXTRA_MB} MB of memory?)\n{proc.stderr[-2000:]}"
    )
    return json.loads(proc.stdout.splitlines()[-1])


def series(data: dict, index: dict | None = None) -> str:
    n = len(data.get("values", data.get("codes", [])))
    index = index or {"range": [0, n, 1], "name": None}
    return json.dumps({"~pandas.Series": {"index": index, "name": None, "data": data}})


def refused(text: str, match: str | None = None) -> DecodeError:
    with pytest.raises(DecodeError, match=match) as info:
        kombu_dash.loads(text)
    return info.value


# -- item 2: no message escapes the budget ---------------------------------------------

BIG = {"~decimal": "1e1000000"}  # numpy turned it into an int with int() in C: 30 s of CPU


@pytest.mark.parametrize("dtype", ["int64", "datetime64[ns]", "timedelta64[ns]", "Int64", "uint8"])
def test_decimal_in_an_integer_column_is_refused_before_numpy_sees_it(dtype):
    out = decode_in_sandbox(series({"dtype": dtype, "values": [BIG]}))
    assert out["result"].startswith("DecodeError"), out
    assert "at value['data']['values'][0]" in out["result"] or "column holds" in out["result"]


def test_decimal_exponent_and_digits_are_bounded():
    # 26 bytes that decoded; f"{d:f}" then built 300 MB and int(d) never returned
    refused('{"~decimal": "1e300000000"}', r"exponent 300000000 beyond \+-4300")
    refused('{"~decimal": "1e-300000000"}', "exponent")
    refused(json.dumps({"~decimal": "9" * 4301}), "longer than 4300")
    # the bounds themselves decode, and ordinary use of them stays small
    for text in ("1e4300", "-1E-4300", "9" * 4300):
        value = kombu_dash.loads(json.dumps({"~decimal": text}))
        assert value == decimal.Decimal(text)
        assert len(f"{value:f}") < 9000
    # what would not decode is not written either
    with pytest.raises(EncodeError, match="exponent"):
        kombu_dash.dumps(decimal.Decimal("1e4301"))


@pytest.mark.parametrize("stop", [10**18, 2**63], ids=["1e18-rows", "2**63-rows"])
def test_range_index_without_data_is_bounded(stop):
    frame = {
        "~pandas.DataFrame": {
            "index": {"range": [0, stop, 1], "name": None},
            "columns": {"range": [0, 0, 1], "name": None},
            "data": [],
        }
    }
    out = decode_in_sandbox(json.dumps(frame))
    assert out["result"].startswith("DecodeError"), out


def test_range_index_labels_exactly_its_data():
    refused(
        series({"dtype": "int64", "values": [1]}, {"range": [0, 10**18, 1], "name": None}),
        "labels for 1 values",
    )
    refused(
        json.dumps(
            {
                "~pandas.DataFrame": {
                    "index": {"range": [0, 1, 1], "name": None},
                    "columns": {"range": [0, 10**18, 1], "name": None},
                    "data": [{"dtype": "int64", "values": [1]}],
                }
            }
        ),
        "column labels for 1 columns",
    )
    # a frame without columns keeps its rows up to the budget, both ways
    from kombu_dash.frameworks.pandas import PANDAS_MAX_EMPTY_ROWS

    empty = pd.DataFrame(index=pd.RangeIndex(PANDAS_MAX_EMPTY_ROWS))
    out = kombu_dash.loads(kombu_dash.dumps(empty))
    pd.testing.assert_frame_equal(out, empty, check_index_type=True)
    with pytest.raises(EncodeError, match="PANDAS_MAX_EMPTY_ROWS"):
        kombu_dash.dumps(pd.DataFrame(index=pd.RangeIndex(PANDAS_MAX_EMPTY_ROWS + 1)))


# -- item 3: numpy dtypes --------------------------------------------------------------

# 76 bytes: 1 GiB resident with shape [1], a MemoryError with shape [20]
OBJECT_FIELD = (
    '{"~numpy.ndarray": {"dtype": [["a", "|O", [134217728]]], "shape": [%d], "data": [0]}}'
)


@pytest.mark.parametrize("n", [1, 20])
def test_object_field_in_a_structured_dtype_is_refused_before_allocation(n):
    out = decode_in_sandbox(OBJECT_FIELD % n)
    assert out["result"].startswith("DecodeError") and "object field" in out["result"], out


def test_structured_dtype_with_object_fields_is_not_written():
    value = np.zeros(1, dtype=[("a", "O"), ("b", "i4")])
    with pytest.raises(EncodeError, match="object field"):
        kombu_dash.dumps(value)


@pytest.mark.parametrize(
    "descr",
    [[["v", "|V1", [1000000000]]], [["v", "|V999999999"]], [["a", [["b", "<f8", [4096]]], [4096]]]],
    ids=["subarray", "void", "nested"],
)
def test_itemsize_is_bounded_even_for_an_empty_array(descr):
    payload = {"~numpy.ndarray": {"dtype": descr, "shape": [0], "data": ""}}
    refused(json.dumps(payload), "NUMPY_MAX_ITEMSIZE")


def test_dimensions_are_bounded():
    payload = {"~numpy.ndarray": {"dtype": "<f8", "shape": [1] * 33, "data": "AAAAAAAAAAA="}}
    refused(json.dumps(payload), "at most 32")


def test_raw_bool_bytes_are_zero_or_one():
    # numpy holds byte 2 as a bool that is neither True nor False in comparisons
    refused('{"~numpy.ndarray": {"dtype": "|b1", "shape": [2], "data": "AQI="}}', "bool")
    refused('{"~numpy.scalar": {"dtype": "|b1", "data": "Ag=="}}', "bool")


# -- item 5: only DecodeError leaves loads ---------------------------------------------

SNAN = {"~decimal": "sNaN"}


@pytest.mark.parametrize(
    "column",
    [
        {
            "dtype": "category",
            "categories": {"dtype": "object", "values": [SNAN]},
            "ordered": False,
            "codes": [0],
        },
        {"dtype": "string", "values": [SNAN]},
        {"dtype": "Int64", "values": [SNAN]},
        {"dtype": "Float64", "values": [SNAN]},
        {"dtype": "object", "values": [SNAN]},  # decoded, then could not be printed
    ],
    ids=["Categorical", "string", "Int64", "Float64", "object"],
)
def test_signalling_nan_is_a_decode_error(column):
    refused(series(column), "signalling NaN")


def test_signalling_nan_is_not_written():
    with pytest.raises(EncodeError, match="signalling NaN"):
        kombu_dash.dumps(decimal.Decimal("sNaN"))
    assert kombu_dash.loads(kombu_dash.dumps(decimal.Decimal("NaN"))).is_qnan()


def test_float16_index_is_a_decode_error():
    # pandas raises NotImplementedError for it, as an index and as categories
    cat = {"dtype": "category", "categories": {"dtype": "float16", "values": []}, "ordered": False}
    refused(series(dict(cat, codes=[])), "float16")
    refused(
        series(
            {"dtype": "int64", "values": [1]},
            {"values": {"dtype": "float16", "values": [1.0]}, "name": None},
        ),
        "float16",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"~numpy.scalar": {"dtype": "<U1", "data": "/////w=="}},
        {"~numpy.ndarray": {"dtype": ">U1", "shape": [2], "data": "AAAAYf////8="}},
        {
            "~numpy.ndarray": {
                "dtype": [["n", "<i2"], ["s", "<U1", [2]]],
                "shape": [1],
                "data": "AQBhAAAAAAARAA==",
            }
        },
    ],
    ids=["scalar", "array-big-endian", "structured-field"],
)
def test_invalid_code_points_are_a_decode_error(payload):
    # str() of such an element raised SystemError (from loads itself, for a scalar)
    refused(json.dumps(payload), "U\\+10FFFF")


@pytest.mark.parametrize(
    "payload",
    [
        # found by the full fuzzer run: each decoded, then repr() and str() raised
        {"~numpy.scalar": {"dtype": "<M8", "data": "BQAAAAAAAAA="}},
        {"~numpy.ndarray": {"dtype": "<M8", "shape": [1], "data": "BQAAAAAAAAA="}},
        {"~numpy.scalar": {"dtype": ">M8[10ns]", "data": "f39/f39/f38="}},
        {"~numpy.scalar": {"dtype": [["f0", "<M8"]], "data": "BQAAAAAAAAA="}},
    ],
    ids=["generic-unit-scalar", "generic-unit-array", "unit-overflow", "structured-field"],
)
def test_datetime64_values_numpy_cannot_print_are_a_decode_error(payload):
    # refused exactly where this numpy cannot print the value (numpy 2 raises OverflowError
    # for the [10ns] one; numpy 1.26 prints it, wrapped around, so there it decodes)
    spec = next(iter(payload.values()))
    fields = spec["dtype"]
    dtype = np.dtype([tuple(f) for f in fields] if isinstance(fields, list) else fields)
    raw = np.frombuffer(base64.b64decode(spec["data"]), dtype=dtype)
    try:
        repr(raw)
    except (ValueError, OverflowError):
        refused(json.dumps(payload), "numpy cannot convert")
    else:
        value = kombu_dash.loads(json.dumps(payload))
        assert repr(value) and str(value)  # what decodes, prints


def test_datetime64_values_that_print_still_round_trip():
    for value in (
        np.array(["NaT", "2026-12-06"], dtype="M8[D]"),
        np.datetime64("2026-12-06T05:00:00.000000010"),
        np.array([0, 2**40], dtype="M8[10ns]"),
    ):
        back = kombu_dash.loads(kombu_dash.dumps(value))
        assert repr(back) == repr(value) and back.dtype == value.dtype


def test_deprecated_dtype_alias_is_a_decode_error_under_w_error():
    # numpy 1.x warns on "a" (DeprecationWarning), an exception under -W error
    payload = '{"~numpy.ndarray": {"dtype": "|a1", "shape": [1], "data": "YQ=="}}'
    code = (
        "import sys, kombu_dash\n"
        "try:\n"
        "    kombu_dash.loads(sys.argv[1])\n"
        "except kombu_dash.DecodeError as exc:\n"
        "    print('DecodeError', exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, payload],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "not one numpy's descr writes" in proc.stdout, (
        proc.stdout + proc.stderr
    )


# -- item 7: refuse instead of coercing ------------------------------------------------


@pytest.mark.parametrize(
    "dtype, values, match",
    [
        ("bool", ["False"], "bool"),  # became True
        ("int64", [1.9], "int"),  # became 1
        ("int64", [True], "not bool"),  # became 1
        ("int64", ["123"], "not str"),  # became 123
        ("int8", [300], "outside"),
        ("float32", [0.1], "cannot hold exactly"),
        ("Int64", [1.0], "int"),  # became 1
        ("boolean", [0], "bool"),
        ("string", [5], "not int"),  # became "5"
        ("datetime64[ns]", [1.5], "int"),
        ("int64", [None], "not null"),  # null only where the dtype has NA
    ],
    ids=lambda v: str(v).replace(" ", ""),
)
def test_column_values_have_exactly_their_dtype_s_json_type(dtype, values, match):
    refused(series({"dtype": dtype, "values": values}), match)


def test_category_codes_are_integers_in_range():
    cat = {
        "dtype": "category",
        "categories": {"dtype": "object", "values": ["a", "b"]},
        "ordered": False,
    }
    refused(series(dict(cat, codes=[True])), "codes")  # became "b"
    refused(series(dict(cat, codes=[2])), "codes")


@pytest.mark.parametrize("utc", [2**63 - 1, -(2**63) + 1], ids=["max", "min+1"])
def test_zoned_datetimes_near_the_int64_limits_are_refused(utc):
    # found by the structured fuzzer: it decoded, then repr() raised OutOfBoundsDatetime
    refused(series({"dtype": "datetime64[ns, Europe/Paris]", "values": [utc]}), "int64 limits")
    cat = {"dtype": "datetime64[ns, Europe/Paris]", "values": [utc]}
    refused(
        series({"dtype": "category", "categories": cat, "ordered": False, "codes": [0]}),
        "int64 limits",
    )


def test_string_arrays_hold_strings_only():
    # numpy 2's StringDType applied str(): [1, null] became ["1", "None"]
    refused(
        '{"~numpy.ndarray": {"dtype": "T", "shape": [2], "data": [1, null]}}',
        "strings only|needs numpy 2",
    )


def test_string_dtype_arrays_round_trip():
    if not hasattr(getattr(np, "dtypes", None), "StringDType"):  # numpy 1.x (the oldest row)
        wire = '{"~numpy.ndarray": {"dtype": "T", "shape": [1], "data": ["a"]}}'
        refused(wire, f"needs numpy 2 \\(numpy {np.__version__} here\\)")
        return
    value = np.array([["a", "héllo"], ["", "x" * 40]], dtype=np.dtypes.StringDType())
    wire = kombu_dash.dumps(value)
    assert '"dtype":"T"' in wire
    out = kombu_dash.loads(wire)
    assert out.dtype == value.dtype and out.shape == value.shape and (out == value).all()


@pytest.mark.parametrize(
    "payload, match",
    [
        ({"~pandas.Timedelta": ["PT1HPT1HPT1H", "ns"]}, "ISO duration"),  # became 3 hours
        ({"~pandas.Timedelta": ["P0DT0H0M0.5S", "s"]}, "whole number of s"),  # rounded
        ({"~pandas.Timedelta": ["P0DT25H0M0S", "ns"]}, "out of range"),
        (
            {"~pandas.Timestamp": ["2024-01-01T00:00:00Z+02:00", None, "ns"]},
            "ISO date",
        ),  # zone replaced
        ({"~pandas.Timestamp": ["2024-01-01T00:00:00+02:00", None, "ns"]}, "offset"),
        ({"~pandas.Timestamp": ["2024-01-01T00:00:00.5", None, "s"]}, "losslessly"),
        ({"~datetime": "2024-01-01T00:00:00Z+02:00"}, "ISO 8601 datetime"),  # zone replaced
        ({"~datetime": "2024-01-01 00:00:00"}, "ISO 8601 datetime"),
        ({"~date": "2024-W01-1"}, "ISO 8601 date"),
        ({"~time": "12:00Z"}, "ISO 8601 time"),
        ({"~timedelta": [0, 90000, 0]}, "seconds < 86400"),  # renormalised
        ({"~decimal": "1_000"}, "not a decimal"),
        ({"~decimal": " 1"}, "not a decimal"),
    ],
    ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else None,
)
def test_date_time_and_decimal_text_is_exactly_what_isoformat_and_str_write(payload, match):
    refused(json.dumps(payload), match)


@pytest.mark.parametrize(
    "value",
    [
        pd.Timedelta("-1 days 3ns"),
        pd.Timedelta(np.timedelta64(200_000 * 86400, "s")).as_unit("s"),  # beyond ns parsing
        pd.Timedelta(milliseconds=1500).as_unit("ms"),
        pd.Timedelta.max,
        pd.Timedelta.min,
    ],
    ids=["negative-ns", "200000-days-s", "ms", "max", "min"],
)
def test_timedeltas_still_round_trip_exactly(value):
    out = kombu_dash.loads(kombu_dash.dumps(value))
    assert type(out) is pd.Timedelta and out == value and out.unit == value.unit


# -- issue 11 item 3: one zone-key check for datetime and pandas -----------------------


def test_posix_zone_round_trips_in_pandas():
    zone = zoneinfo.ZoneInfo("posix/Europe/Paris")
    stamp = pd.Timestamp("2024-07-14 09:30:00.000000001", tz=zone)
    out = kombu_dash.loads(kombu_dash.dumps(stamp))
    assert out == stamp and str(out.tz) == "posix/Europe/Paris" and out.unit == stamp.unit
    values = pd.Series(pd.date_range("2023-10-29", periods=3, freq="h", tz=zone))
    out = kombu_dash.loads(kombu_dash.dumps(values))
    pd.testing.assert_series_equal(out, values, check_exact=True)
    # and the same key in a stdlib datetime
    when = dt.datetime(2024, 1, 1, tzinfo=zone)
    assert kombu_dash.loads(kombu_dash.dumps(when)) == when


def test_zone_keys_are_checked_before_pandas_reads_them():
    refused(
        json.dumps(
            {"~pandas.Timestamp": ["2024-01-01T00:00:00+00:00", "posix/../../etc/passwd", "ns"]}
        ),
        "unknown time zone",
    )


def test_second_unit_dates_past_2262_decode_only_where_pandas_can_use_them():
    # found by the fuzzer on pandas 2.0: it decoded, then repr() raised OutOfBoundsDatetime
    from kombu_dash.frameworks.pandas import _beyond_ns_usable

    cat = {"dtype": "datetime64[s, UTC]", "values": [9007199254740993]}
    wire = series({"dtype": "category", "categories": cat, "ordered": False, "codes": [0]})
    if not _beyond_ns_usable():
        refused(wire, "outside what this pandas can use")
    else:
        repr(kombu_dash.loads(wire))  # usable as decoded


# -- a Counter's counts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "count, said",
    [
        (1.5, "a count is an integer, not float"),
        (True, "a count is an integer, not bool"),
        ("3", "a count is an integer, not str"),
        (None, "a count is an integer, not NoneType"),
        ([1], "a count is an integer, not list"),
        ({"~decimal": "3"}, "a count is an integer, not Decimal"),
        (COUNTER_MAX + 1, r"within -2\*\*63..2\*\*63-1"),
        ({"~int": str(10**30)}, r"within -2\*\*63..2\*\*63-1"),
        (COUNTER_MIN - 1, r"within -2\*\*63..2\*\*63-1"),
    ],
)
def test_counter_counts_are_64_bit_integers(codec, count, said):
    with pytest.raises(DecodeError, match=said) as info:
        codec.loads(json.dumps({"task": {"~Counter": {"kd.add": 1, "kd.echo": count}}}))
    assert info.value.tag == "Counter" and info.value.path == ["task", "kd.echo"]


def test_counter_counts_at_the_bounds_round_trip(codec):
    # a worker's stats count its tasks without limit: the bound is the 64-bit range, and
    # elements() yields total() items (check it before calling elements() on such a value)
    value = Counter({"kd.add": COUNTER_MAX, "kd.echo": COUNTER_MIN, "zero": 0})
    out = codec.loads(codec.dumps(value))
    assert type(out) is Counter and out == value


def test_a_counter_json_cannot_carry_is_not_written():
    for counts in ({"a": 0.5}, {"a": COUNTER_MAX + 1}, {"a": "x"}):
        with pytest.raises(EncodeError, match=r"send dict\(c\)") as info:
            kombu_dash.dumps(Counter(counts))
        assert info.value.path == ["a"]
    assert kombu_dash.loads(kombu_dash.dumps(dict(a=0.5))) == {"a": 0.5}  # the way out
