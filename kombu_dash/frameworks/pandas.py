"""pandas: DataFrame, Series, Categorical, Timestamp, Timedelta, NaT and NA.

Plain JSON on the wire, dtypes and index kept. A column (or an index's values) is
``{"dtype": name, "values": [...]}``:

* numpy numbers and bools: the numbers (NaN as ``{"~float": "nan"}``);
* ``datetime64[unit]`` / ``timedelta64[unit]``: integers in that unit (NaT is -2**63);
  ``datetime64[unit, zone]``: the same integers, UTC, with the zone in the dtype name;
* ``object``: each Python value, tagged as usual;
* nullable ``Int64``/``Float64``/``boolean`` and the string dtypes: values, ``null`` for NA;
* ``category``: ``{"dtype": "category", "categories": column, "ordered": bool, "codes": [...]}``.

An index is ``{"range": [start, stop, step], "name": n}``, ``{"levels": [columns], "names": [...]}``
(a MultiIndex) or ``{"values": column, "name": n}`` (plus ``"freq"`` when it has one).
Other dtypes (period, interval, sparse, arrow) are refused with an EncodeError that names them.
Decoding never imports pandas where it is missing: it raises a DecodeError saying so.

Subclasses (a geopandas GeoDataFrame) are refused rather than sent back as a DataFrame.

Decoding refuses instead of coercing, and checks before numpy or pandas sees a value: each
column's values have exactly the JSON type its dtype is written with (``bool`` columns
hold ``true``/``false``, integer and datetime columns integers within the dtype's range,
float columns floats the dtype holds exactly, string columns strings; ``null`` only in the
nullable dtypes); Timestamp and Timedelta texts are exactly what ``isoformat()`` writes.
Decode budgets (docs/security.rst, "Decode budgets"): a RangeIndex has exactly as many
entries as the data it labels, and at most ``PANDAS_MAX_EMPTY_ROWS`` rows in a DataFrame
without columns; every other value is backed by an item in the message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import Any

from ..errors import DecodeError, EncodeError
from ..tags import known_zone
from . import _khash
from ._base import FrameworkTag, load_class, missing_library

__all__ = [
    "TAGS",
    "PANDAS_MAX_EMPTY_ROWS",
    "column_to_json",
    "column_from_json",
    "index_to_json",
    "index_from_json",
]

_UNITS = ("s", "ms", "us", "ns")
# numpy's int64, what datetime64/timedelta64 values count in (its minimum is NaT)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NULLABLE = frozenset(
    "Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Float32 Float64 boolean string".split()
)
# Exact names only: message text never reaches numpy's or pandas' dtype-string parsers
# (np.dtype runs literal_eval on comma strings; pandas reads "dateutil/<path>" zone files).
_NUMPY_NAMES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 object".split()
    + [f"{kind}64[{unit}]" for kind in ("datetime", "timedelta") for unit in _UNITS]
)
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_UNIT = re.compile(r"64\[(s|ms|us|ns)[\],]")


@functools.cache
def _beyond_ns_usable() -> bool:
    """Whether this pandas can show a second-unit date past year 2262 (pandas 3 can; 2.0
    converts to nanoseconds on repr and raises OutOfBoundsDatetime)."""
    import numpy as np
    import pandas as pd

    try:
        series = pd.Series(np.array([2**40], dtype="datetime64[s]"))
        repr(series)
        repr(pd.Categorical(series.dt.tz_localize("UTC")))
    except Exception:
        return False
    return True


_TZ_DTYPE = re.compile(r"datetime64\[(s|ms|us|ns), ([^\]]{1,80})\]")
_OFFSET = re.compile(r"UTC([+-])(\d\d):(\d\d)(?::(\d\d))?")

#: rows of a DataFrame with no columns: its RangeIndex is the only thing that says how many,
#: and nothing in the message backs them (RangeIndex(0, 10**18) hung to_dict("records")).
#: 65,536 empty rows cost about what a frame whose data fills 128 KB costs.
PANDAS_MAX_EMPTY_ROWS = 1 << 16

_NoneType = type(None)
_INT_BITS = {f"{sign}int{bits}": bits for sign in ("", "u") for bits in (8, 16, 32, 64)}


def _modules(tag: str) -> tuple[Any, Any]:
    pd = load_class("pandas")
    if pd is None:
        raise missing_library(tag, "pandas")  # no stand-in: nothing can stand in for a frame
    return pd, load_class("numpy")


def _value_rule(name: str) -> tuple[type | None, tuple[int, int] | None, bool]:
    """For a column dtype name: the one JSON type its values have (None: any), the integer
    range they must lie in, and whether ``null`` (NA) may appear."""
    lower = name.lower()
    nullable = name in _NULLABLE or name == "str"
    if lower in _INT_BITS:
        bits = _INT_BITS[lower]
        low, high = (
            (0, 2**bits - 1) if lower[0] == "u" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        )
        return int, (low, high), nullable
    if name.startswith(("datetime64", "timedelta64")):
        return int, (_INT64_MIN, _INT64_MAX), False  # int64 counts in the unit; NaT is the minimum
    if lower.startswith("float"):
        return float, None, nullable
    if lower in ("bool", "boolean"):
        return bool, None, nullable
    if name in ("string", "str"):
        return str, None, True
    return None, None, False  # object: any decoded value


def _check_values(np: Any, name: str, values: list[Any]) -> None:
    """Refuse a value the dtype would coerce (``"False"`` to True, ``1.9`` to 1, a Decimal
    that numpy turns into an int in C), before numpy or pandas sees the list."""
    kind, bounds, nullable = _value_rule(name)
    if kind is None:
        return
    present = [v for v in values if v is not None] if nullable else values
    found = set(map(type, present))  # exact types: bool is not an int here
    if found - {kind}:
        bad = next(t for t in found if t is not kind)
        raise ValueError(
            f"the {name} column holds {kind.__name__} values"
            f"{' or null' if nullable else ''}, not {_json_type(bad)}"
        )
    if bounds and present and not bounds[0] <= min(present) <= max(present) <= bounds[1]:
        raise ValueError(f"a {name} value is outside {bounds[0]}..{bounds[1]}")
    unit = _UNIT.search(name) if name.startswith(("datetime64", "timedelta64")) else None
    if unit and unit.group(1) != "ns" and present and not _beyond_ns_usable():
        # pandas 2.0 holds these but converts them to nanoseconds on use: past the
        # datetime64[ns] range they decode, then repr() raises (found by the fuzzer).
        limit = _INT64_MAX // (10**9 // _PER_SECOND[unit.group(1)])
        real = [v for v in present if v != _INT64_MIN]  # the minimum is NaT
        if real and not -limit <= min(real) <= max(real) <= limit:
            raise ValueError(f"a {name} value is outside what this pandas can use")
    zoned = _TZ_DTYPE.fullmatch(name)
    if zoned and present:
        # A UTC count within a day of the int64 limits has a local time that overflows:
        # it decodes, then repr() raises OutOfBoundsDatetime (found by the fuzzer).
        margin = 86_400 * _PER_SECOND[zoned.group(1)]
        real = [v for v in present if v != _INT64_MIN]  # the minimum is NaT
        if real and not _INT64_MIN + margin <= min(real) <= max(real) <= _INT64_MAX - margin:
            raise ValueError(f"a {name} value is within a day of the int64 limits")
    if kind is float and name.lower() in ("float16", "float32") and present:
        wide = np.array(present, dtype=np.float64)
        with np.errstate(all="ignore"):  # overflow to inf is what is being checked for
            narrow = wide.astype(name.lower()).astype(np.float64)
        if not ((narrow == wide) | np.isnan(wide)).all():
            raise ValueError(f"the {name} column holds a value {name} cannot hold exactly")


def _json_type(t: type) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        _NoneType: "null",
        list: "list",
        dict: "dict",
    }.get(t, f"{t.__module__}.{t.__qualname__}")


# -- columns ------------------------------------------------------------------------


def column_to_json(arr: Any) -> dict[str, Any]:
    """A 1-D pandas/numpy array (``series.array``, ``index.array``) as a JSON-able dict."""
    import numpy as np
    import pandas as pd

    dtype = arr.dtype
    if type(dtype).__name__ in ("NumpyEADtype", "PandasDtype"):  # series.array of a numpy column
        dtype = dtype.numpy_dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "dtype": "category",
            "categories": column_to_json(dtype.categories.array),
            "ordered": bool(dtype.ordered),
            "codes": np.asarray(arr.codes).tolist(),
        }
    if isinstance(dtype, np.dtype):
        values = np.asarray(arr)
        if str(dtype) in _NUMPY_NAMES:
            if dtype.kind in "mM":
                return {"dtype": str(dtype), "values": values.view("i8").tolist()}
            return {"dtype": str(dtype), "values": values.tolist()}
    elif isinstance(dtype, pd.DatetimeTZDtype):
        name = f"datetime64[{dtype.unit}, {_tz_text(dtype.tz)}]"
        return {"dtype": name, "values": np.asarray(arr.asi8).tolist()}
    elif str(dtype) in _NULLABLE or str(dtype) == "str":
        return {"dtype": str(dtype), "values": arr.to_numpy(dtype=object, na_value=None).tolist()}
    raise EncodeError(
        f"pandas dtype {dtype} is not carried by kombu_dash "
        "(numbers, bools, datetimes, timedeltas, strings, object, nullable and category are)"
    )


def _dtype(pd: Any, np: Any, name: str) -> Any:
    if name == "str":  # pandas 3's default string dtype; object where it does not exist
        try:
            return pd.StringDtype(na_value=np.nan)
        except TypeError:
            return np.dtype(object)
    if name in _NUMPY_NAMES:
        return np.dtype(name)
    if name in _NULLABLE:
        return pd.api.types.pandas_dtype(name)
    match = _TZ_DTYPE.fullmatch(name)
    if match:
        return pd.DatetimeTZDtype(unit=match.group(1), tz=_tz_from_text(match.group(2)))
    raise ValueError(f"dtype {name!r:.40} is not one kombu_dash writes")


def column_from_json(payload: Any, key: str = "pandas.Series") -> Any:
    pd, np = _modules(key)
    if type(payload) is not dict:
        raise ValueError(f"a column must be an object, got {type(payload).__name__}")
    name = payload.get("dtype")
    if name == "category":
        if set(payload) != {"dtype", "categories", "ordered", "codes"}:
            raise ValueError('a category column is {"dtype", "categories", "ordered", "codes"}')
        ordered, codes = payload["ordered"], payload["codes"]
        if type(ordered) is not bool or type(codes) is not list:
            raise ValueError("category needs ordered (bool) and codes (list)")
        categories = _index_values(pd, np, column_from_json(payload["categories"], key))
        if not set(map(type, codes)) <= {int} or (
            codes and not -1 <= min(codes) <= max(codes) < len(categories)
        ):
            raise ValueError(f"category codes are integers from -1 to {len(categories) - 1}")
        labels = pd.Index(categories)
        _check_labels(np, labels, False, "categories", "values")  # pandas checks they differ
        dtype = pd.CategoricalDtype(labels, ordered=ordered)
        return pd.Categorical.from_codes(codes, dtype=dtype)
    values = payload.get("values")
    if type(name) is not str or type(values) is not list or set(payload) != {"dtype", "values"}:
        raise ValueError('a column must be {"dtype": str, "values": [...]}')
    dtype = _dtype(pd, np, name)
    _check_values(np, name, values)
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = np.array(values, dtype="i8").view(f"M8[{dtype.unit}]")
        return pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(dtype.tz).array
    if not isinstance(dtype, np.dtype):
        return pd.array(values, dtype=dtype)
    if dtype.kind in "mM":
        return np.array(values, dtype="i8").view(dtype)
    if dtype.kind == "O":
        out = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):  # np.array (or out[:] =) would broadcast lists
            out[i] = value
        return out
    return np.array(values, dtype=dtype)


# -- indexes --------------------------------------------------------------------------


def index_is_range(index: Any) -> bool:
    import pandas as pd

    return type(index) is pd.RangeIndex


def index_to_json(index: Any) -> dict[str, Any]:
    import pandas as pd

    if type(index) is pd.RangeIndex:
        return {"range": [index.start, index.stop, index.step], "name": index.name}
    if isinstance(index, pd.MultiIndex):
        levels = [column_to_json(index.get_level_values(i).array) for i in range(index.nlevels)]
        return {"levels": levels, "names": list(index.names)}
    out = {"values": column_to_json(index.array), "name": index.name}
    freq = getattr(index, "freqstr", None)
    if freq:
        out["freq"] = freq
    return out


def _range_length(start: int, stop: int, step: int) -> int:
    # len(range(...)) itself raises beyond sys.maxsize (2**63 rows made len() raise)
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // -step)


def index_from_json(
    payload: Any, key: str = "pandas.Series", length: int | None = None, of: str = "values"
) -> Any:
    """An index of exactly ``length`` labels for as many ``of``; ``None``: the rows of a frame
    without columns, where only a RangeIndex's own budget bounds them."""
    pd, np = _modules(key)
    if type(payload) is not dict:
        raise ValueError(f"an index must be an object, got {type(payload).__name__}")
    if "range" in payload:
        bounds = payload["range"]
        if not set(payload) <= {"range", "name"} or type(bounds) is not list or len(bounds) != 3:
            raise ValueError('a RangeIndex is {"range": [start, stop, step], "name": name}')
        if (
            not all(type(x) is int and _INT64_MIN <= x <= _INT64_MAX for x in bounds)
            or bounds[2] == 0
        ):
            raise ValueError("range needs three 64-bit integers and a non-zero step")
        n = _range_length(*bounds)
        if length is None and n > PANDAS_MAX_EMPTY_ROWS:
            raise ValueError(
                f"{n} rows without columns (PANDAS_MAX_EMPTY_ROWS={PANDAS_MAX_EMPTY_ROWS})"
            )
        _check_length(n, length, of)
        return pd.RangeIndex(*bounds, name=payload.get("name"))
    if "levels" in payload:
        levels, names = payload["levels"], payload.get("names")
        if (
            type(levels) is not list
            or not levels
            or type(names) is not list
            or len(names) != len(levels)
        ):
            raise ValueError("a MultiIndex needs levels and as many names")
        arrays = [pd.Index(_index_values(pd, np, column_from_json(c, key))) for c in levels]
        for n, array in enumerate(arrays):
            _check_length(len(array), length, of)
            _check_labels(np, array, True, "levels", n, "values")  # pandas factorizes them
        return pd.MultiIndex.from_arrays(arrays, names=names)
    values = column_from_json(payload["values"], key)
    _check_length(len(values), length, of)
    name, freq = payload.get("name"), payload.get("freq")
    if freq is not None:
        if type(freq) is not str:
            raise ValueError("freq must be a string")
        kind = np.dtype(values.dtype).kind if isinstance(values, np.ndarray) else "M"
        cls = pd.TimedeltaIndex if kind == "m" else pd.DatetimeIndex
        index = cls(values, freq=freq, name=name)
    else:
        values = _index_values(pd, np, values)
        if isinstance(values, np.ndarray):
            index = pd.Index(values, dtype=values.dtype, name=name)
        else:
            index = pd.Index(values, name=name)
    _check_labels(np, index, False, "values", "values")  # hashed by every lookup
    return index


def _check_labels(np: Any, index: Any, factorize: bool, *path: Any) -> None:
    """Hash flooding (kombu_dash.budgets): refuse an index whose labels' pandas hashes
    collide, read from the index itself (pandas may have inferred another dtype)."""
    try:
        _khash.check(np, index._values, factorize)
    except DecodeError as exc:
        exc.path[:0] = path
        raise


def _index_values(pd: Any, np: Any, values: Any) -> Any:
    if isinstance(values, np.ndarray) and values.dtype == np.float16:
        raise ValueError("pandas has no float16 index")  # pandas raises NotImplementedError
    return values


def _check_length(n: int, length: int | None, of: str) -> None:
    if length is not None and n != length:
        raise ValueError(f"{n} {'column ' if of == 'columns' else ''}labels for {length} {of}")


# -- tags -----------------------------------------------------------------------------


@contextlib.contextmanager
def _within(*path: Any) -> Iterator[None]:
    """A DecodeError raised inside names where in the payload it is."""
    try:
        yield
    except DecodeError as exc:
        exc.path[:0] = path
        raise


# A pandas object costs a fixed 0.1-1.4 ms however small its payload (a MultiIndex the
# most): each counts against the codec's per-message budget of costly objects, in units
# of a plotly figure (~0.2 ms).
_MAX_COSTLY = 1000


def _index_cost(index: Any) -> int:
    levels = index.get("levels") if type(index) is dict else None
    return 4 * len(levels) if type(levels) is list else 0


class DataFrameTag(FrameworkTag):
    """``{"index": index, "columns": index, "data": [column, ...]}``; columns by position,
    so repeated column labels survive."""

    key = "pandas.DataFrame"
    costly = _MAX_COSTLY

    def cost(self, payload: Any) -> int:
        return 3 + _index_cost(payload.get("index")) + _index_cost(payload.get("columns"))

    module, name = "pandas", "DataFrame"
    payload = dict

    def to_json(self, value: Any) -> Any:
        if (
            not value.shape[1]
            and len(value.index) > PANDAS_MAX_EMPTY_ROWS
            and index_is_range(value.index)
        ):
            raise EncodeError(
                f"a DataFrame without columns has {len(value.index)} rows "
                f"(PANDAS_MAX_EMPTY_ROWS={PANDAS_MAX_EMPTY_ROWS}): it would not decode"
            )
        data = []
        for i in range(value.shape[1]):
            try:
                data.append(column_to_json(value.iloc[:, i].array))
            except EncodeError as exc:
                exc.path.insert(0, value.columns[i])  # says which column
                raise
        return {
            "index": index_to_json(value.index),
            "columns": index_to_json(value.columns),
            "data": data,
        }

    def to_python(self, payload: Any) -> Any:
        pd, _ = _modules(self.key)
        if set(payload) != {"index", "columns", "data"} or type(payload["data"]) is not list:
            raise ValueError('expected {"index", "columns", "data": [column, ...]}')
        data = []
        for i, column in enumerate(payload["data"]):
            with _within("data", i):
                data.append(column_from_json(column, self.key))
        rows = {len(column) for column in data}
        if len(rows) > 1:
            raise ValueError(f"columns of different lengths: {sorted(rows)[:5]}")
        # the data decides how many rows and columns the indexes may label
        with _within("index"):
            index = index_from_json(
                payload["index"], self.key, rows.pop() if rows else None, "rows"
            )
        with _within("columns"):
            columns = index_from_json(payload["columns"], self.key, len(data), "columns")
        frame = pd.DataFrame(dict(enumerate(data)), index=index)
        frame.columns = columns
        return frame


class SeriesTag(FrameworkTag):
    key = "pandas.Series"
    costly = _MAX_COSTLY

    def cost(self, payload: Any) -> int:
        return 2 + _index_cost(payload.get("index"))

    module, name = "pandas", "Series"
    payload = dict

    def to_json(self, value: Any) -> Any:
        return {
            "index": index_to_json(value.index),
            "name": value.name,
            "data": column_to_json(value.array),
        }

    def to_python(self, payload: Any) -> Any:
        pd, _ = _modules(self.key)
        if set(payload) != {"index", "name", "data"}:
            raise ValueError('expected {"index", "name", "data"}')
        with _within("data"):
            data = column_from_json(payload["data"], self.key)
        with _within("index"):
            index = index_from_json(payload["index"], self.key, len(data))
        return pd.Series(data, index=index, name=payload["name"])


class CategoricalTag(FrameworkTag):
    key = "pandas.Categorical"
    costly = _MAX_COSTLY

    def cost(self, payload: Any) -> int:
        return 2

    module, name = "pandas", "Categorical"
    payload = dict

    def to_json(self, value: Any) -> Any:
        return column_to_json(value)

    def to_python(self, payload: Any) -> Any:
        pd, _ = _modules(self.key)
        if payload.get("dtype") != "category":
            raise ValueError('expected {"dtype": "category", ...}')
        return column_from_json(payload, self.key)


def _tz_text(tz: Any) -> str:
    """A zone as text: ``UTC``, an IANA key, or a fixed offset ``UTC+05:30``."""
    if tz is dt.timezone.utc:
        return "UTC"
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo, pytz
    if isinstance(name, str):
        return name
    offset = tz.utcoffset(None)  # fixed offsets (datetime.timezone, pytz.FixedOffset) know it
    if offset is not None and not offset.microseconds:
        sign, seconds = ("-", -offset) if offset < dt.timedelta(0) else ("+", offset)
        hours, rest = divmod(int(seconds.total_seconds()), 3600)
        text = f"UTC{sign}{hours:02d}:{rest // 60:02d}"
        return text + (f":{rest % 60:02d}" if rest % 60 else "")
    raise EncodeError(
        f"cannot write a pandas time zone {type(tz).__module__}.{type(tz).__qualname__}: "
        "use a zoneinfo (or pytz) zone or a fixed offset"
    )


def _tz_from_text(text: str) -> Any:
    """The inverse of _tz_text; an IANA key must be one the system lists (tags.known_zone)
    before pandas sees it, so a message never names a file for dateutil (or zoneinfo) to open."""
    if text == "UTC":
        return dt.timezone.utc
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes, seconds = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
        return dt.timezone(-offset if sign == "-" else offset)
    if not known_zone(text):  # checked against the list: no file is opened by name
        raise ValueError(f"unknown time zone {text!r:.40}")
    if text.startswith(("posix/", "right/")):
        import zoneinfo

        return zoneinfo.ZoneInfo(text)  # pandas 2 reads a key with pytz, which lacks these
    return text  # pandas' own zone object for the key (pytz on pandas 2, zoneinfo on 3)


# Exactly what Timestamp.isoformat() and Timedelta.isoformat() write: pandas' own parsers
# also read "PT1HPT1HPT1H" (as 3 hours) and "...Z+02:00" (the zone replaced).
_TIMESTAMP_TEXT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?([+-]\d\d:\d\d(?::\d\d)?)?"
)
_TIMEDELTA_TEXT = re.compile(r"P(-?\d{1,20})DT(\d\d?)H(\d\d?)M(\d\d?)(?:\.(\d{1,9}))?S")
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


class TimestampTag(FrameworkTag):
    """``[ISO text with nanoseconds and offset, zone (as in a dtype) or null, unit]``."""

    key = "pandas.Timestamp"
    module, name = "pandas", "Timestamp"

    def to_json(self, value: Any) -> Any:
        return [value.isoformat(), None if value.tz is None else _tz_text(value.tz), value.unit]

    def to_python(self, payload: Any) -> Any:
        pd, _ = _modules(self.key)
        text, zone, unit = payload
        if type(text) is not str or unit not in _UNITS:
            raise ValueError("expected [ISO date text, zone or null, 's'|'ms'|'us'|'ns']")
        match = _TIMESTAMP_TEXT.fullmatch(text)
        if not match:
            raise ValueError(
                f"expected ISO date text as Timestamp.isoformat() writes it, got {text!r:.60}"
            )
        if zone is not None and type(zone) is not str:
            raise ValueError("the zone must be a string or null")
        if (zone is None) != (match.group(1) is None):
            raise ValueError("a zone comes with an offset in the text, and only then")
        out = pd.Timestamp(text)
        if zone is not None:
            out = out.tz_convert(_tz_from_text(zone))
        return out.as_unit(unit, round_ok=False)  # more digits than the unit holds: refused


class TimedeltaTag(FrameworkTag):
    """``[ISO 8601 duration with nanoseconds, unit]``."""

    key = "pandas.Timedelta"
    module, name = "pandas", "Timedelta"

    def to_json(self, value: Any) -> Any:
        return [value.isoformat(), value.unit]

    def to_python(self, payload: Any) -> Any:
        pd, np = _modules(self.key)
        text, unit = payload
        if type(text) is not str or unit not in _UNITS:
            raise ValueError("expected [ISO duration text, 's'|'ms'|'us'|'ns']")
        match = _TIMEDELTA_TEXT.fullmatch(text)
        if not match:
            raise ValueError(
                f"expected an ISO duration as Timedelta.isoformat() writes it, got {text!r:.60}"
            )
        days, hours, minutes, seconds, fraction = match.groups()
        if not (int(hours) < 24 and int(minutes) < 60 and int(seconds) < 60):
            raise ValueError(f"hours, minutes or seconds out of range in {text!r:.60}")
        # counted exactly here, in the unit, instead of parsed by pandas in nanoseconds
        total = (((int(days) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds)) * 10**9
        total += int((fraction or "0").ljust(9, "0"))
        count, rest = divmod(total, _NS_PER[unit])
        if rest or not _INT64_MIN < count <= _INT64_MAX:
            raise ValueError(f"{text!r:.60} is not a whole number of {unit} within 64 bits")
        return pd.Timedelta(np.timedelta64(count, unit)).as_unit(unit)


class NaTTag(FrameworkTag):
    """``pd.NaT`` (a datetime subclass, which the datetime tag would refuse)."""

    key = "pandas.NaT"
    module, name = "pandas._libs.tslibs.nattype", "NaTType"
    payload = type(None)

    def to_json(self, value: Any) -> Any:
        return None

    def to_python(self, payload: Any) -> Any:
        return _modules(self.key)[0].NaT


class NATag(NaTTag):
    """``pd.NA``, the missing value of nullable columns."""

    key = "pandas.NA"
    module, name = "pandas._libs.missing", "NAType"

    def to_python(self, payload: Any) -> Any:
        return _modules(self.key)[0].NA


TAGS = (DataFrameTag, SeriesTag, CategoricalTag, TimestampTag, TimedeltaTag, NaTTag, NATag)
