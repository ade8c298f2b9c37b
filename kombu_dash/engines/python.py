"""The Python engine, the reference: one recursion to write a value's tags, one to read
them. The C engine (``_speedups.c``) is these two walks, function for function.

Encoding returns a value's containers as they are where nothing below them changes
(checked a level at a time at C speed: ``set(map(type, ...))``), and a copy where a
typed value had to be replaced by its tag's object. Decoding changes the freshly
parsed containers in place, and stops once it has met as many tags as the text can
hold (it counts the places a tag's name could start).
"""

from __future__ import annotations

import gc
from itertools import chain, compress, repeat
from math import fsum, isfinite
from operator import is_
from typing import TYPE_CHECKING, Any

from .. import wire
from ..errors import KombuDashError
from ..registry import Budget

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["PythonEngine", "is_plain"]

_NoneType = type(None)
_PLAIN = frozenset((str, int, float, bool, _NoneType, list, dict))
_SCALARS = frozenset((str, int, float, bool, _NoneType))
_TEXT = frozenset((str, bool, _NoneType))  # scalars written as they are, whatever their value
_CONTAINERS = frozenset((list, dict))
_LISTS = frozenset((list,))
_IS_DICT = dict.__instancecheck__


def _scalars_fit(values: Any, types: set[type]) -> bool:
    """Ints and floats among ``values`` (whose types are ``types``) are written as they
    are: ints within the wire's range, floats finite. A few passes at C speed."""
    if int in types:
        ints = list(compress(values, map(is_, map(type, values), repeat(int))))
        if min(ints) < wire.INT_MIN or max(ints) > wire.INT_MAX:
            return False
    if float in types:
        try:  # NaN or an infinity makes the sum so (or makes fsum raise); so may a sum
            # too big for a float, which the walk then writes
            return isfinite(fsum(compress(values, map(is_, map(type, values), repeat(float)))))
        except (OverflowError, ValueError):
            return False
    return True


def is_plain(obj: Any, max_depth: int) -> bool:
    """Whether ``obj`` is plain JSON data the walk would return as it is: only exact
    dicts, lists, str, bool, None, 64-bit ints and finite floats, no dict the wire
    escapes, no deeper than ``max_depth``. Checked a level at a time, at C speed."""
    level, depth = [obj], 0
    while True:
        types = set(map(type, level))
        if not types <= _PLAIN or not _scalars_fit(level, types):
            return False
        if _CONTAINERS.isdisjoint(types):
            return True
        depth += 1
        if depth > max_depth:
            return False
        if dict in types and not wire.dicts_fit(list(filter(_IS_DICT, level))):
            return False
        # a dict's referents are its values (and its keys, all str here)
        level = gc.get_referents(*level)


class PythonEngine:
    """The two walks in Python, for one codec."""

    name = "python"

    def __init__(self, codec: Registry):
        self.codec = codec
        self.max_depth = codec.max_depth
        # the codec's tables, shared with it (it fills and clears them in place)
        self._write_fast = codec._write_fast
        self._read_fast = codec._read_fast
        self._payload_types = codec._payload_types

    # -- encoding ------------------------------------------------------------------

    def encode(self, obj: Any, /) -> Any:
        if is_plain(obj, self.max_depth):
            return obj
        return self._enc(obj, 1)

    def _enc(self, obj: Any, depth: int) -> Any:
        t = type(obj)
        if t is str or t is bool or obj is None:
            return obj
        if t is int:
            return obj if wire.INT_MIN <= obj <= wire.INT_MAX else self._tagged(obj, depth)
        if t is float:
            return obj if obj - obj == 0.0 else self._tagged(obj, depth)
        if t is list:
            return self._list(obj, depth)
        if t is dict:
            return self._dict(obj, depth)
        return self._tagged(obj, depth)  # any other class: through the registry

    # Containers are copied once a value in them changes; from there on the copy takes
    # every value as walked (the C engine does the same).

    def _list(self, obj: list[Any], depth: int) -> Any:
        if depth > self.max_depth:
            self.codec._too_deep(False)
        types = set(map(type, obj))
        if types <= _SCALARS and _scalars_fit(obj, types):
            return obj
        n = len(obj)
        pairs_fit = depth < self.max_depth  # a [key, value] list is one level down
        out = None
        for i, v in enumerate(obj):
            tv = type(v)
            if tv in _TEXT or (pairs_fit and tv is list and _TEXT.issuperset(map(type, v))):
                w = v  # a string, or a [key, value] pair of strings: no call
            else:
                try:
                    w = self._enc(v, depth + 1)
                except KombuDashError as exc:
                    exc._prepend(i)
                    raise
                if len(obj) != n:
                    self.codec._changed(obj)
            if out is not None:
                out.append(w)
            elif w is not v:
                out = obj[:i]
                out.append(w)
        return obj if out is None else out

    def _dict(self, obj: dict[Any, Any], depth: int) -> Any:
        if depth > self.max_depth:
            self.codec._too_deep(False)
        if not wire.dict_fits(obj):
            return self._tagged(obj, depth)
        values = obj.values()
        types = set(map(type, values))
        if types <= _SCALARS and _scalars_fit(values, types):
            return obj
        n = len(obj)
        out = None
        for k, v in obj.items():
            if type(v) in _TEXT:
                if out is not None:
                    out[k] = v
                continue
            try:
                w = self._enc(v, depth + 1)
            except KombuDashError as exc:
                exc._prepend(k)
                raise
            if len(obj) != n:
                self.codec._changed(obj)
            if out is None and w is not v:
                out = obj.copy()
            if out is not None:
                out[k] = w
        return obj if out is None else out

    def _tagged(self, obj: Any, depth: int) -> Any:
        entry = self._write_fast.get(type(obj))
        if entry is None:
            key, payload = self.codec._write(obj)
        else:
            key, write = entry
            try:
                payload = write(obj)
            except Exception:  # noqa: BLE001 - the registry's own call says what is wrong
                key, payload = self.codec._write(obj)
        if key is None:  # a plain tag: its payload, untagged, in the value's place
            return self._enc(payload, depth)
        if depth > self.max_depth:  # {"~tag": ...} is itself a level
            self.codec._too_deep(False)
        try:
            return {key: self._enc(payload, depth + 1)}
        except KombuDashError as exc:
            self.codec._unwind_tag(exc, key, payload)
            raise

    # -- decoding ------------------------------------------------------------------

    def decode(self, obj: Any, text: str | bytes, /) -> Any:
        return _Reading(self, wire.tag_bound(text)).walk(obj, 1)


def _leaf(v: Any) -> bool:
    """Nothing to read in ``v``: a scalar, or a container of scalars that is no tag."""
    tv = type(v)
    if tv is dict:
        return len(v) != 1 and _CONTAINERS.isdisjoint(map(type, v.values()))
    return tv is not list or _CONTAINERS.isdisjoint(map(type, v))


class _Reading:
    """One message being decoded: its budget, and how many tags it may still hold."""

    __slots__ = ("engine", "codec", "budget", "tags_left")

    def __init__(self, engine: PythonEngine, tags_left: float):
        self.engine, self.codec = engine, engine.codec
        self.budget = Budget()
        self.tags_left = tags_left

    def walk(self, obj: Any, depth: int) -> Any:
        if self.tags_left <= 0:  # every tag the text can hold is met: the rest is data
            return obj
        if depth > self.engine.max_depth:
            self.codec._too_deep(True)
        if type(obj) is list:
            types = set(map(type, obj))
            if _CONTAINERS.isdisjoint(types):
                return obj
            if types <= _LISTS and _CONTAINERS.isdisjoint(map(type, chain.from_iterable(obj))):
                return obj  # [[key, value], ...] of scalars: every multi-dict's payload
            for i, v in enumerate(obj):
                if _leaf(v):
                    continue
                try:
                    obj[i] = self.walk(v, depth + 1)
                except KombuDashError as exc:
                    exc._prepend(i)
                    raise
            return obj
        if len(obj) == 1:
            for key in obj:
                if wire.is_tag_key(key):
                    return self.untag(key, obj[key], depth)
        for k, v in obj.items():
            if _leaf(v):
                continue
            try:
                obj[k] = self.walk(v, depth + 1)  # same keys: the iteration stays valid
            except KombuDashError as exc:
                exc._prepend(k)
                raise
        return obj

    def untag(self, key: str, raw: Any, depth: int) -> Any:
        # Checked before its payload is decoded: an unknown tag or a payload of the wrong
        # JSON type (only an object can become another type: a tag) costs nothing more.
        expected = self.engine._payload_types.get(key)
        if expected is None or (expected is not dict and type(raw) is not expected):
            return self.codec._read(key, raw, self.budget)  # raises, saying which
        self.tags_left -= 1
        payload = self.walk(raw, depth + 1) if type(raw) is dict or type(raw) is list else raw
        entry = self.engine._read_fast.get(key)
        if entry is not None:
            expected, read = entry
        if entry is not None and type(payload) is expected:
            try:
                return read(payload)
            except Exception:  # noqa: BLE001, S110 - the registry's own call says what is wrong
                pass
        return self.codec._read(key, payload, self.budget)
