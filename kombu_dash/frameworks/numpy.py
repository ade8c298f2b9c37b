"""numpy arrays and scalars: dtype and shape kept.

``{"~numpy.ndarray": {"dtype": "<f8", "shape": [2, 3], "data": "<base64, C order>"}}``;
object arrays carry ``data`` as a list of encoded values instead. ``dtype`` is numpy's
``descr`` (a string, or a list for structured dtypes). A dtype holding Python objects is
never rebuilt from raw bytes (that would turn message bytes into pointers).
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from ..tags import Tag
from ._base import load_class


def _np():
    if load_class("numpy", "ndarray") is None:
        raise ValueError("numpy is not installed here")
    import numpy

    return numpy


# One simple dtype as numpy's descr writes it: "<f8", "|b1", "<U10", "<M8[ns]", "|O".
_SIMPLE_DESCR = re.compile(r"[<>|=]?[a-zA-Z?][0-9]{0,9}(\[[0-9]{0,4}[a-zA-Z]{1,3}\])?")


def _descr(descr, depth=0):
    """The message's descr, checked field by field before numpy sees it: numpy's own
    dtype-string parser evaluates comma and tuple forms with ``ast.literal_eval``."""
    if type(descr) is str:
        if not _SIMPLE_DESCR.fullmatch(descr):
            raise ValueError(f"dtype {descr!r:.40} is not one numpy's descr writes")
        return descr
    if type(descr) is not list or not descr or len(descr) > 1000 or depth > 8:
        raise ValueError("dtype must be a descr string or a non-empty list of fields")
    fields = []
    for field in descr:
        # fields are tuples in numpy's descr, and come back as tuples
        if type(field) not in (list, tuple) or len(field) not in (2, 3) or type(field[0]) is not str:
            raise ValueError("a structured dtype field is [name, descr] or [name, descr, shape]")
        item = [field[0], _descr(field[1], depth + 1)]
        if len(field) == 3:
            shape = field[2]
            if type(shape) not in (list, tuple) or len(shape) > 32 or not all(type(n) is int and 0 <= n < 2**31 for n in shape):
                raise ValueError("a field's shape is a list of small non-negative integers")
            item.append(tuple(shape))
        fields.append(tuple(item))
    return fields


def _dtype(np, descr):
    return np.lib.format.descr_to_dtype(_descr(descr))


def _raw(data) -> bytes:
    if not isinstance(data, str):
        raise ValueError("data must be a base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"data is not base64: {exc}") from None


class NdarrayTag(Tag):
    key = "numpy.ndarray"
    types = ("numpy:ndarray",)
    payload = dict

    def to_json(self, value):
        np = _np()
        descr = np.lib.format.dtype_to_descr(value.dtype)
        shape = list(value.shape)
        if value.dtype.hasobject:
            return {"dtype": descr, "shape": shape, "data": value.ravel().tolist()}
        data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")
        return {"dtype": descr, "shape": shape, "data": data}

    def to_python(self, payload):
        np = _np()
        if set(payload) != {"dtype", "shape", "data"}:
            raise ValueError('expected {"dtype", "shape", "data"}')
        shape = payload["shape"]
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("shape must be a list of non-negative integers")
        dtype = _dtype(np, payload["dtype"])
        data = payload["data"]
        if dtype.hasobject:
            if type(data) is not list or len(data) != math.prod(shape):
                raise ValueError("an object array's data must be a list of prod(shape) values")
            out = np.empty(len(data), dtype=dtype)
            for i, item in enumerate(data):
                out[i] = item
            return out.reshape(shape)
        raw = _raw(data)
        if dtype.itemsize == 0 or len(raw) != math.prod(shape) * dtype.itemsize:
            raise ValueError(f"{len(raw)} bytes do not hold shape {shape} of {dtype}")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


class ScalarTag(Tag):
    """``np.float64(1.5)``, ``np.int32(3)``, ``np.datetime64(...)``: back as the same scalar type."""

    key = "numpy.scalar"
    # np.bytes_ is listed itself: its MRO reaches builtins.bytes before numpy.generic
    types = ("numpy:generic", "numpy:bytes_")
    subclasses = True  # every scalar type; the dtype brings back the exact one
    payload = dict

    def to_json(self, value):
        np = _np()
        if value.dtype.hasobject:
            raise ValueError("object scalars are not supported")
        return {
            "dtype": np.lib.format.dtype_to_descr(value.dtype),
            "data": base64.b64encode(np.asarray(value).tobytes()).decode("ascii"),
        }

    def to_python(self, payload):
        np = _np()
        if set(payload) != {"dtype", "data"}:
            raise ValueError('expected {"dtype", "data"}')
        dtype = _dtype(np, payload["dtype"])
        raw = _raw(payload["data"])
        if dtype.hasobject or dtype.itemsize == 0 or len(raw) != dtype.itemsize:
            raise ValueError(f"{len(raw)} bytes are not one {dtype}")
        return np.frombuffer(raw, dtype=dtype)[0]


TAGS = (NdarrayTag, ScalarTag)
