"""numpy arrays and scalars: dtype and shape kept.

``{"~numpy.ndarray": {"dtype": "<f8", "shape": [2, 3], "data": "<base64, C order>"}}``;
object arrays (``"|O"``) carry ``data`` as a list of encoded values instead, and numpy 2's
variable-width strings (``"T"``) as a list of strings. ``dtype`` is numpy's ``descr`` (a
string, or a list for structured dtypes). A dtype holding Python objects is never rebuilt
from raw bytes (that would turn message bytes into pointers), and a structured dtype never
holds an object field.

Decode budgets (docs/security.rst, "Decode budgets"), each checked before numpy allocates:
a non-empty array's data is exactly ``prod(shape) * itemsize`` bytes, so the array is never
larger than the data the message carries; an object or string array has one list item per
element; an element is at most ``NUMPY_MAX_ITEMSIZE`` bytes; at most ``NUMPY_MAX_NDIM``
dimensions; raw bytes are checked for what numpy would otherwise hold unchecked (code
points beyond U+10FFFF in ``U`` fields, bool bytes other than 0 and 1).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from ..errors import EncodeError
from ._base import FrameworkTag, load_class, missing_library

#: numpy 1.x's own limit on dimensions (numpy 2 allows 64; such arrays are refused both ways)
NUMPY_MAX_NDIM = 32
#: bytes in one element (one record of a structured dtype): 16 MiB. Bounds what numpy's dtype
#: machinery and an empty array's copies can be asked for (a 76-byte message once allocated
#: 1 GiB from a dtype with a 134217728-item object field).
NUMPY_MAX_ITEMSIZE = 1 << 24
# numpy's own bound on an array's byte size (ValueError "array is too big")
_MAX_NBYTES = 2**63 - 1

# One simple dtype as numpy's descr writes it: "<f8", "|b1", "<U10", "<M8[ns]", "|O". Only
# the kinds descr writes: the deprecated "a" alias warns (an exception under -W error).
_SIMPLE_DESCR = re.compile(
    r"[<>|=]?(?:b1|[iu][1248]|f(?:2|4|8|10|12|16)|c(?:8|16|20|24|32)|[SUV][0-9]{1,9}|O"
    r"|[Mm]8(?:\[[0-9]{0,4}[a-zA-Z]{1,3}\])?)"
)
_STRING_DTYPE = "T"  # numpy 2's StringDType, written as its character (descr says "|O")


def _numpy(tag: str) -> Any:
    np = load_class("numpy")
    if np is None:
        raise missing_library(tag, "numpy")  # no stand-in: nothing can stand in for an array
    return np


def _descr(descr: Any, depth: int = 0) -> Any:
    """The message's descr, checked field by field before numpy sees it: numpy's own
    dtype-string parser evaluates comma and tuple forms with ``ast.literal_eval``."""
    if type(descr) is str:
        if not _SIMPLE_DESCR.fullmatch(descr):
            raise ValueError(f"dtype {descr!r:.40} is not one numpy's descr writes")
        if depth and descr.lstrip("<>|=") == "O":
            raise ValueError("a structured dtype cannot hold an object field")
        return descr
    if type(descr) is not list or not descr or len(descr) > 1000 or depth > 8:
        raise ValueError("dtype must be a descr string or a non-empty list of fields")
    fields = []
    for field in descr:
        # fields are tuples in numpy's descr, and come back as tuples
        if (
            type(field) not in (list, tuple)
            or len(field) not in (2, 3)
            or type(field[0]) is not str
        ):
            raise ValueError("a structured dtype field is [name, descr] or [name, descr, shape]")
        item = [field[0], _descr(field[1], depth + 1)]
        if len(field) == 3:
            shape = field[2]
            if (
                type(shape) not in (list, tuple)
                or len(shape) > NUMPY_MAX_NDIM
                or not all(type(n) is int and 0 <= n < 2**31 for n in shape)
            ):
                raise ValueError("a field's shape is a list of small non-negative integers")
            item.append(tuple(shape))
        fields.append(tuple(item))
    return fields


def _dtype(np: Any, descr: Any) -> Any:
    dtype = np.lib.format.descr_to_dtype(_descr(descr))
    if not 0 < dtype.itemsize <= NUMPY_MAX_ITEMSIZE:
        raise ValueError(
            f"an element of {dtype} is {dtype.itemsize} bytes "
            f"(1 to NUMPY_MAX_ITEMSIZE={NUMPY_MAX_ITEMSIZE} allowed)"
        )
    return dtype


def _shape(shape: Any) -> list[int]:
    if (
        type(shape) is not list
        or len(shape) > NUMPY_MAX_NDIM
        or not all(type(n) is int and 0 <= n <= _MAX_NBYTES for n in shape)
    ):
        raise ValueError(f"shape must be a list of at most {NUMPY_MAX_NDIM} non-negative integers")
    return shape


def _raw(data: Any) -> bytes:
    if not isinstance(data, str):
        raise ValueError("data must be a base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"data is not base64: {exc}") from None


def _check_bytes(arr: Any) -> None:
    """Refuse raw bytes numpy would hold without checking: a ``U`` code point beyond
    U+10FFFF (``str()`` of it raises SystemError), a bool byte other than 0 and 1, a
    datetime64 that cannot be printed.
    One numpy reduction per field of the dtype, which the message itself lists."""
    dtype = arr.dtype
    if dtype.names:
        for name in dtype.names:
            _check_bytes(arr[name])
    elif dtype.kind == "U" and arr.size:
        # a trailing axis of length 1 lets a strided field be viewed as its code units
        if int(arr[..., None].view(dtype.byteorder + "u4").max()) > 0x10FFFF:
            raise ValueError("a string holds a code point beyond U+10FFFF")
    elif dtype.kind == "b" and arr.size:
        if int(arr[..., None].view("u1").max()) > 1:
            raise ValueError("a bool is stored as a byte other than 0 or 1")
    elif dtype.kind == "M" and arr.size:
        # what repr() and str() do: a value other than NaT in generic units, or one that
        # overflows when its unit is converted ([10ns]), would decode and then not print
        try:
            load_class("numpy").datetime_as_string(arr)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"a {dtype} value numpy cannot convert: {exc}") from None


def _is_string_dtype(dtype: Any) -> bool:
    return bool(dtype.kind == _STRING_DTYPE)


class NdarrayTag(FrameworkTag):
    key = "numpy.ndarray"
    module, name = "numpy", "ndarray"
    payload = dict

    def to_json(self, value: Any) -> Any:
        np = _numpy(self.key)
        dtype = value.dtype
        shape = list(value.shape)
        if value.ndim > NUMPY_MAX_NDIM:
            raise EncodeError(
                f"an array of {value.ndim} dimensions (NUMPY_MAX_NDIM={NUMPY_MAX_NDIM})"
            )
        if _is_string_dtype(dtype):
            if hasattr(dtype, "na_object"):
                raise EncodeError("a StringDType with an na_object is not carried")
            return {"dtype": _STRING_DTYPE, "shape": shape, "data": value.ravel().tolist()}
        if dtype.hasobject and dtype.names:
            raise EncodeError(f"a structured dtype with an object field is not carried: {dtype}")
        if dtype.itemsize > NUMPY_MAX_ITEMSIZE:
            raise EncodeError(
                f"an element of {dtype} is {dtype.itemsize} bytes "
                f"(NUMPY_MAX_ITEMSIZE={NUMPY_MAX_ITEMSIZE})"
            )
        descr = np.lib.format.dtype_to_descr(dtype)
        if dtype.hasobject:
            return {"dtype": descr, "shape": shape, "data": value.ravel().tolist()}
        data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")
        return {"dtype": descr, "shape": shape, "data": data}

    def to_python(self, payload: Any) -> Any:
        np = _numpy(self.key)
        if set(payload) != {"dtype", "shape", "data"}:
            raise ValueError('expected {"dtype", "shape", "data"}')
        shape = _shape(payload["shape"])
        count = math.prod(shape)
        data = payload["data"]
        if payload["dtype"] == _STRING_DTYPE:
            return _string_array(np, shape, count, data)
        dtype = _dtype(np, payload["dtype"])
        # numpy's own size rule, checked here so the error is ours and nothing is allocated
        if math.prod(n for n in shape if n) * dtype.itemsize > _MAX_NBYTES:
            raise ValueError(f"shape {shape} of {dtype} is larger than numpy can hold")
        if dtype.hasobject:  # "|O" itself: _descr refuses object fields
            if type(data) is not list or len(data) != count:
                raise ValueError("an object array's data must be a list of prod(shape) values")
            out = np.empty(count, dtype=dtype)  # 8 bytes per item the message lists
            for i, item in enumerate(data):
                out[i] = item  # np.array(data) would broadcast nested lists
            return out.reshape(shape)
        raw = _raw(data)
        if len(raw) != count * dtype.itemsize:
            raise ValueError(f"{len(raw)} bytes do not hold shape {shape} of {dtype}")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape)
        _check_bytes(arr)
        return arr.copy()


def _string_array(np: Any, shape: list[int], count: int, data: Any) -> Any:
    """numpy 2's StringDType: strings only (numpy would apply ``str()`` to anything)."""
    string_dtype = getattr(getattr(np, "dtypes", None), "StringDType", None)
    if string_dtype is None:
        raise ValueError(f"dtype 'T' needs numpy 2 (numpy {np.__version__} here)")
    if type(data) is not list or len(data) != count:
        raise ValueError("a string array's data must be a list of prod(shape) strings")
    if not all(type(item) is str for item in data):
        raise ValueError("a 'T' array holds strings only")
    return np.array(data, dtype=string_dtype()).reshape(shape)


class ScalarTag(FrameworkTag):
    """``np.float64(1.5)``, ``np.int32(3)``, ``np.datetime64(...)``: back as the same
    scalar type."""

    key = "numpy.scalar"
    module, name = "numpy", "generic"
    # np.bytes_ is listed itself: its MRO reaches builtins.bytes before numpy.generic
    types = ("numpy:generic", "numpy:bytes_")
    subclasses = True  # every scalar type; the dtype brings back the exact one
    payload = dict

    def to_json(self, value: Any) -> Any:
        np = _numpy(self.key)
        if value.dtype.hasobject or _is_string_dtype(value.dtype):
            raise EncodeError("object scalars are not supported")
        if value.dtype.itemsize > NUMPY_MAX_ITEMSIZE:
            raise EncodeError(f"a {value.dtype} scalar is larger than NUMPY_MAX_ITEMSIZE")
        return {
            "dtype": np.lib.format.dtype_to_descr(value.dtype),
            "data": base64.b64encode(np.asarray(value).tobytes()).decode("ascii"),
        }

    def to_python(self, payload: Any) -> Any:
        np = _numpy(self.key)
        if set(payload) != {"dtype", "data"}:
            raise ValueError('expected {"dtype", "data"}')
        dtype = _dtype(np, payload["dtype"])
        if dtype.hasobject:
            raise ValueError("object scalars are not supported")
        raw = _raw(payload["data"])
        if len(raw) != dtype.itemsize:
            raise ValueError(f"{len(raw)} bytes are not one {dtype}")
        arr = np.frombuffer(raw, dtype=dtype)
        _check_bytes(arr)
        return arr[0]


TAGS = (NdarrayTag, ScalarTag)
