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
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from ..errors import DecodeError, EncodeError
from ..tags import Tag

__all__ = ["TAGS", "column_to_json", "column_from_json", "index_to_json", "index_from_json"]

_UNITS = ("s", "ms", "us", "ns")
_NULLABLE = frozenset(
    "Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Float32 Float64 boolean string".split()
)
# Exact names only: message text never reaches numpy's or pandas' dtype-string parsers
# (np.dtype runs literal_eval on comma strings; pandas reads "dateutil/<path>" zone files).
_NUMPY_NAMES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 object".split()
    + [f"{kind}64[{unit}]" for kind in ("datetime", "timedelta") for unit in _UNITS]
)
_TZ_DTYPE = re.compile(r"datetime64\[(s|ms|us|ns), ([^\]]{1,80})\]")
_OFFSET = re.compile(r"UTC([+-])(\d\d):(\d\d)(?::(\d\d))?")


def _modules(key: str):
    try:
        import numpy as np
        import pandas as pd
    except ImportError:
        raise DecodeError(f"~{key} needs pandas, which is not installed in this process", tag=key) from None
    return pd, np


# -- columns ------------------------------------------------------------------------


def column_to_json(arr) -> dict:
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


def _dtype(pd, np, name: str):
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


def column_from_json(payload, key: str = "pandas.Series"):
    pd, np = _modules(key)
    if type(payload) is not dict:
        raise ValueError(f"a column must be an object, got {type(payload).__name__}")
    name = payload.get("dtype")
    if name == "category":
        categories = pd.Index(column_from_json(payload["categories"], key))
        ordered, codes = payload["ordered"], payload["codes"]
        if type(ordered) is not bool or type(codes) is not list:
            raise ValueError("category needs ordered (bool) and codes (list)")
        dtype = pd.CategoricalDtype(categories, ordered=ordered)
        return pd.Categorical.from_codes(codes, dtype=dtype)
    values = payload.get("values")
    if type(name) is not str or type(values) is not list or set(payload) != {"dtype", "values"}:
        raise ValueError('a column must be {"dtype": str, "values": [...]}')
    dtype = _dtype(pd, np, name)
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


def index_to_json(index) -> dict:
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


def index_from_json(payload, key: str = "pandas.Series"):
    pd, np = _modules(key)
    if type(payload) is not dict:
        raise ValueError(f"an index must be an object, got {type(payload).__name__}")
    if "range" in payload:
        start, stop, step = payload["range"]
        if not all(type(x) is int for x in (start, stop, step)):
            raise ValueError("range needs three integers")
        return pd.RangeIndex(start, stop, step, name=payload.get("name"))
    if "levels" in payload:
        arrays = [pd.Index(column_from_json(c, key)) for c in payload["levels"]]
        return pd.MultiIndex.from_arrays(arrays, names=payload["names"])
    values = column_from_json(payload["values"], key)
    name, freq = payload.get("name"), payload.get("freq")
    if freq is not None:
        if type(freq) is not str:
            raise ValueError("freq must be a string")
        kind = np.dtype(values.dtype).kind if isinstance(values, np.ndarray) else "M"
        cls = pd.TimedeltaIndex if kind == "m" else pd.DatetimeIndex
        return cls(values, freq=freq, name=name)
    if isinstance(values, np.ndarray):
        return pd.Index(values, dtype=values.dtype, name=name)
    return pd.Index(values, name=name)


# -- tags -----------------------------------------------------------------------------


class DataFrameTag(Tag):
    """``{"index": index, "columns": index, "data": [column, ...]}``; columns by position,
    so repeated column labels survive."""

    key = "pandas.DataFrame"
    types = ("pandas:DataFrame",)
    payload = dict

    def to_json(self, value):
        data = []
        for i in range(value.shape[1]):
            try:
                data.append(column_to_json(value.iloc[:, i].array))
            except EncodeError as exc:
                raise exc._prepend(value.columns[i])  # says which column
        return {"index": index_to_json(value.index), "columns": index_to_json(value.columns), "data": data}

    def to_python(self, payload):
        pd, _ = _modules(self.key)
        index = index_from_json(payload["index"], self.key)
        columns = index_from_json(payload["columns"], self.key)
        data = [column_from_json(c, self.key) for c in payload["data"]]
        if len(data) != len(columns):
            raise ValueError(f"{len(columns)} column labels for {len(data)} columns")
        frame = pd.DataFrame(dict(enumerate(data)), index=index)
        frame.columns = columns
        return frame


class SeriesTag(Tag):
    key = "pandas.Series"
    types = ("pandas:Series",)
    payload = dict

    def to_json(self, value):
        return {"index": index_to_json(value.index), "name": value.name, "data": column_to_json(value.array)}

    def to_python(self, payload):
        pd, _ = _modules(self.key)
        index = index_from_json(payload["index"], self.key)
        return pd.Series(column_from_json(payload["data"], self.key), index=index, name=payload.get("name"))


class CategoricalTag(Tag):
    key = "pandas.Categorical"
    types = ("pandas:Categorical",)
    payload = dict

    def to_json(self, value):
        return column_to_json(value)

    def to_python(self, payload):
        pd, _ = _modules(self.key)
        if payload.get("dtype") != "category":
            raise ValueError('expected {"dtype": "category", ...}')
        return column_from_json(payload, self.key)


def _tz_text(tz) -> str:
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


def _tz_from_text(text: str):
    """The inverse of _tz_text; an IANA key must be one zoneinfo lists before pandas sees
    it, so a message never names a file for dateutil (or zoneinfo) to open."""
    if text == "UTC":
        return dt.timezone.utc
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes, seconds = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
        return dt.timezone(-offset if sign == "-" else offset)
    if text not in _known_zones():  # checked against the list: no file is opened by name
        raise ValueError(f"unknown time zone {text!r:.40}")
    return text  # pandas' own zone object for the key (pytz on pandas 2, zoneinfo on 3)


@functools.lru_cache(maxsize=1)
def _known_zones() -> frozenset:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


class TimestampTag(Tag):
    """``[ISO text with nanoseconds and offset, zone (as in a dtype) or null, unit]``."""

    key = "pandas.Timestamp"
    types = ("pandas:Timestamp",)

    def to_json(self, value):
        return [value.isoformat(), None if value.tz is None else _tz_text(value.tz), value.unit]

    def to_python(self, payload):
        pd, _ = _modules(self.key)
        text, zone, unit = payload
        if type(text) is not str or not text[:1].isdigit() or unit not in _UNITS:
            raise ValueError("expected [ISO date text, zone or null, 's'|'ms'|'us'|'ns']")
        if zone is not None and type(zone) is not str:
            raise ValueError("the zone must be a string or null")
        out = pd.Timestamp(text)
        if zone is not None:
            out = out.tz_convert(_tz_from_text(zone))
        return out.as_unit(unit)


class TimedeltaTag(Tag):
    """``[ISO 8601 duration with nanoseconds, unit]``."""

    key = "pandas.Timedelta"
    types = ("pandas:Timedelta",)

    def to_json(self, value):
        return [value.isoformat(), value.unit]

    def to_python(self, payload):
        pd, _ = _modules(self.key)
        text, unit = payload
        if type(text) is not str or not text.lstrip("-").startswith("P") or unit not in _UNITS:
            raise ValueError("expected [ISO duration text, 's'|'ms'|'us'|'ns']")
        return pd.Timedelta(text).as_unit(unit)


class NaTTag(Tag):
    """``pd.NaT`` (a datetime subclass, which the datetime tag would refuse)."""

    key = "pandas.NaT"
    types = ("pandas._libs.tslibs.nattype:NaTType",)
    payload = type(None)

    def to_json(self, value):
        return None

    def to_python(self, payload):
        return _modules(self.key)[0].NaT


class NATag(NaTTag):
    """``pd.NA``, the missing value of nullable columns."""

    key = "pandas.NA"
    types = ("pandas._libs.missing:NAType",)

    def to_python(self, payload):
        return _modules(self.key)[0].NA


TAGS = (DataFrameTag, SeriesTag, CategoricalTag, TimestampTag, TimedeltaTag, NaTTag, NATag)
