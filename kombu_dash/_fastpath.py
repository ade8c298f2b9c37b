"""The encoder's fast path, in one place: :func:`plain_bytes`.

It scans a value level by level at C speed (``gc.get_referents`` lists what one level
of dicts and lists holds) and, if nothing in it needs the codec's walk, has the JSON
library write it in one call. Its contract, held by tests/test_property.py: the bytes
are exactly the ones the walk writes, or it declines.

With orjson, values of tagged types do not make it decline. The scan asks the codec
for each typed value's tag and payload (through the registry) and scans the payload as
part of the next level; orjson then writes everything in one call and calls back
(``default=``) only to be handed ``{"~tag": payload}``. ``OPT_PASSTHROUGH_SUBCLASS``
sends dict and list subclasses (AttributeDict, werkzeug's MultiDict) there too. What
orjson would write differently from the walk is found before or after it runs:

* before, by the level scan: types orjson writes natively but the walk tags (tuple,
  UUID, Enum), NaN and the infinities (orjson writes ``null``); the stdlib also writes
  ints beyond 64 bits and int keys (orjson raises on both, and the walk takes over);
* after, by counting in the output: a plain dict whose first key starts with ``~``
  (the walk escapes one-key ones).

A subtree is scanned once: when the fast path declines, it says how many levels
below the value it already scanned without finding what stopped it, and the walk
scans again only below that.

Where the optional C accelerator ``kombu_dash._speedups`` is built (:data:`SPEEDUPS`),
it replaces the scan: ``to_wire`` walks the value at C speed and hands each typed value
to the registry (``TypedWriter.wire_tag``), and the JSON library writes the result in
one call. Anything it cannot do (an unsupported type, too deep) makes it decline, and
the walk, which names the path, takes over. ``KOMBU_DASH_NO_SPEEDUPS=1`` turns it off.
"""

from __future__ import annotations

import enum
import gc
import logging
import math
import os
import uuid
from itertools import compress
from operator import not_
from typing import Any, Protocol

from . import _json
from .errors import EncodeError
from .tags import INT_MAX, INT_MIN

__all__ = ["plain_bytes", "TypedWriter", "orjson_defers", "SPEEDUPS"]


def _load_speedups() -> Any:
    if os.environ.get("KOMBU_DASH_NO_SPEEDUPS"):
        return None
    try:
        from . import _speedups
    except ImportError:  # not built here (no compiler when installed): pure Python
        return None
    except Exception as exc:  # noqa: BLE001 - broken: never stop kombu from importing
        logging.getLogger("kombu_dash").warning(
            "kombu_dash: the C engine failed to import (%r); using the Python engine", exc
        )
        return None
    return _speedups


#: the C walks (kombu_dash/_speedups.c), or None: the codec reads it at each call
SPEEDUPS: Any = _load_speedups()


class TypedWriter(Protocol):
    """What the codec lends the fast path for typed values (orjson only)."""

    #: classes known to have a tag whose values orjson hands to ``default=``
    deferred: set[type]

    def learn(self, classes: set[type]) -> bool:
        """True if every class in ``classes`` has a tag orjson lets us apply."""

    def tagged(self, value: Any) -> tuple[str | None, Any]:
        """``(wire key with its ~, payload)`` for one typed value; key None for a
        plain tag (the payload is written untagged). Raises if the tag cannot."""

    def wire_tag(self, value: Any) -> tuple[str | None, Any]:
        """As :meth:`tagged`, for any value the C walk does not write as it is: also
        ints beyond 64 bits, NaN and the infinities, dicts that need ``~dict``. Raises
        for a value without a tag."""

    #: ``{class: (wire key, write)}``, filled by wire_tag from ``Tag.fast_write``
    fast_write: dict[type, tuple[str, Any]]


_NoneType = type(None)
_PLAIN = frozenset((str, int, float, bool, _NoneType, list, dict))
_CONTAINERS = frozenset((list, dict))
_STR = frozenset((str,))
_IN_INT64 = range(INT_MIN, INT_MAX + 1).__contains__  # O(1) for ints, at C speed
_IS_INT = int.__instancecheck__
_IS_DICT = dict.__instancecheck__
_IS_FLOAT = float.__instancecheck__
_FINITE = math.isfinite
_NOT_NATIVE: tuple[type, ...] = (tuple, uuid.UUID, enum.Enum)

if _json.orjson is not None:
    _dumps = _json.orjson.dumps
    _OrjsonError = _json.orjson.JSONEncodeError
    _Fragment = _json.orjson.Fragment
    _NOT_NATIVE += (_Fragment,)
    # subclasses of dict/list/str/int, datetimes and dataclasses go to default=
    _OPTIONS = (
        _json.orjson.OPT_PASSTHROUGH_SUBCLASS
        | _json.orjson.OPT_PASSTHROUGH_DATETIME
        | _json.orjson.OPT_PASSTHROUGH_DATACLASS
    )


def orjson_defers(cls: type) -> bool:
    """True if orjson hands values of ``cls`` to ``default=`` instead of writing them
    (as a dict key, with OPT_PASSTHROUGH_SUBCLASS, a str subclass makes it raise)."""
    return not issubclass(cls, _NOT_NATIVE)


def _key_types(d: dict[Any, Any]) -> map[type]:
    return map(type, d)


def _str_keys(level: list[Any]) -> bool:
    return all(map(_STR.issuperset, map(_key_types, filter(_IS_DICT, level))))


class _Scan:
    """One fast-path attempt over one value, typed values' payloads included."""

    def __init__(self, typed: TypedWriter | None):
        self.typed = typed
        self.levels: list[list[Any]] = []
        self.tags = 0  # {"~ written by the callback
        self.payloads: dict[int, tuple[str | None, Any]] = {}  # id(typed value) -> its tag

    def scan(self, obj: Any, limit: int) -> int:
        """-1 if the JSON library may write ``obj``, else the number of levels scanned
        before what stops it (too deep, a tuple, a big int...) was found.

        A typed value's payload joins the next level: ``{"~tag": payload}`` puts it
        one level down, as the walk does.
        """
        typed = self.typed
        with_orjson = _json.HAVE_ORJSON
        levels = self.levels
        level = [obj]
        while level:
            depth = len(levels)
            if depth >= limit:
                return depth  # deep or circular: the walk says where
            types = set(map(type, level))
            payloads = []
            if not types <= _PLAIN:
                extra = types - _PLAIN
                if typed is None or not (extra <= typed.deferred or typed.learn(extra)):
                    return depth
                plain = list(map(_PLAIN.__contains__, map(type, level)))
                try:
                    for v in compress(level, map(not_, plain)):
                        self.payloads[id(v)] = tagged = typed.tagged(v)
                        payloads.append(tagged[1])
                except Exception:
                    return depth  # the walk says what went wrong, and where
                # the callback writes typed values: their insides are not this scan's
                level = list(compress(level, plain))
            # orjson refuses both (the whole value then goes to the walk); the stdlib
            # would write big ints as numbers and int keys as strings
            if not with_orjson and (
                (int in types and not all(map(_IN_INT64, filter(_IS_INT, level))))
                or (dict in types and not _str_keys(level))
            ):
                return depth
            # orjson writes NaN and the infinities as null: the walk tags them
            if float in types and not all(map(_FINITE, filter(_IS_FLOAT, level))):
                return depth
            levels.append(level)
            if _CONTAINERS.isdisjoint(types):
                level = payloads
            else:
                # a dict's referents are its values (and its keys, unless all are exact str)
                level = gc.get_referents(*level)
                if payloads:
                    level += payloads
        return -1

    def default(self, value: Any) -> Any:
        """orjson's callback: a typed value as the walk writes it."""
        key, payload = self.payloads[id(value)]
        if key is None:
            return payload
        self.tags += 1
        return {key: payload}

    def output_ok(self, out: bytes) -> bool:
        # A dict whose first key starts with "~" would read back as a tag: the walk
        # escapes it. Only the callback's tags may start so.
        return b'{"~' not in out or out.count(b'{"~') == self.tags


def plain_bytes(obj: Any, limit: int, typed: TypedWriter | None = None) -> bytes | int:
    """The bytes the walk would write for ``obj``; or, if the fast path declines, the
    number of levels below ``obj`` it scanned without finding the cause (the walk
    need not scan nodes above that level again).

    ``limit`` bounds the levels (scalars included) scanned before declining: the walk
    says what is too deep. With ``typed`` (and orjson), typed values are written by
    ``typed.write``; without it, any typed value makes the fast path decline.
    """
    if SPEEDUPS is not None and typed is not None:
        try:
            return _json.dumpb(SPEEDUPS.to_wire(obj, typed.wire_tag, limit, typed.fast_write))
        except Exception:  # noqa: BLE001 - the walk says what is wrong, and where
            return 0
    scan = _Scan(typed if _json.HAVE_ORJSON else None)
    wire = obj
    if type(obj) is tuple and scan.typed is not None:
        # Celery's message body, (args, kwargs, embed): its two tuples are tagged here,
        # through the registry, so that the rest is one scan and one call.
        wire = _tag_tuples(obj, scan)
        if wire is not obj and all(map(_is_leaf, wire[next(iter(wire))])):
            # add(1, 2): nothing left to scan
            try:
                out = _json.dumpb(wire)
            except EncodeError:  # non-str keys, lone surrogates
                return 0
            return out if out.count(b'{"~') == scan.tags else 0
    stopped = scan.scan(wire, limit)
    if stopped >= 0:
        return stopped
    try:
        if scan.payloads:
            out = _dumps(wire, default=scan.default, option=_OPTIONS)
        else:
            out = _json.dumpb(wire)
    except (EncodeError, TypeError):
        # non-str keys, lone surrogates (orjson's JSONEncodeError is a TypeError): the
        # walk says which
        return len(scan.levels)
    return out if scan.output_ok(out) else len(scan.levels)


def _tag_tuples(obj: tuple[Any, ...], scan: _Scan) -> Any:
    """``obj`` and the tuples directly in it as ``{"~tuple": [...]}`` dicts."""
    typed: TypedWriter = scan.typed  # type: ignore[assignment]
    try:
        key, payload = typed.tagged(obj)
        if key is None or type(payload) is not list:
            return obj
        items, inner_tags = [], 0
        for item in payload:
            if type(item) is tuple:
                inner_key, inner = typed.tagged(item)
                if inner_key is None:
                    return obj
                item = {inner_key: inner}
                inner_tags += 1
            items.append(item)
    except Exception:
        return obj  # the walk says what is wrong
    scan.tags += 1 + inner_tags
    return {key: items}


_LEAF_SCALARS = frozenset((str, bool, _NoneType, int, float))


def _is_leaf(value: Any) -> bool:
    """A dict or list of scalars JSON writes as they are (else False), or a one-member
    tuple tag around such a list."""
    if type(value) is dict:
        if not _STR.issuperset(map(type, value)):
            return False
        if len(value) == 1 and next(iter(value))[:1] == "~":
            return _is_leaf(next(iter(value.values())))
        value = value.values()
    elif type(value) is not list:
        return False
    types = set(map(type, value))
    return (
        types <= _LEAF_SCALARS
        and (int not in types or all(map(_IN_INT64, filter(_IS_INT, value))))
        and (float not in types or all(map(_FINITE, filter(_IS_FLOAT, value))))
    )
