"""Assertions shared by the round-trip tests."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import Counter, OrderedDict


def same(out, obj):
    """Equal and of the same type, at every depth of containers we can look into."""
    assert type(out) is type(obj), f"{type(out)!r} is not {type(obj)!r}"
    if isinstance(obj, float) and math.isnan(obj):
        assert math.isnan(out)
        return
    assert out == obj
    if type(obj) in (list, tuple):
        for a, b in zip(out, obj):
            same(a, b)
    elif type(obj) in (dict, OrderedDict, Counter):
        assert list(out) == list(obj), "key order"
        for k in obj:
            same(out[k], obj[k])
    elif isinstance(obj, dt.datetime) and obj.tzinfo is not None:
        assert type(out.tzinfo) is type(obj.tzinfo)
        assert out.utcoffset() == obj.utcoffset()
        if obj.replace(fold=1 - obj.fold).utcoffset() != obj.utcoffset():  # ambiguous wall time
            assert out.fold == obj.fold
        if isinstance(obj.tzinfo, zoneinfo.ZoneInfo):
            assert out.tzinfo.key == obj.tzinfo.key
