"""The codec: Python values <-> tagged JSON, with a registry of tags on the object.

Two paths, one wire format:

* **Plain data** (only dict with str keys, list, str, int, float, bool, None) is
  recognised level by level at C speed and handed straight to the JSON library, so
  it never pays for the types it does not contain.
* **Anything else** is walked once: each value whose exact type has a tag becomes
  ``{"~<tag>": payload}``; the payload is encoded the same way.

Decoding parses once; only if the text could hold a tag (it contains ``"~``) is the
result walked to replace tags with their values. Tags resolve through the registry
only: nothing named in a message is imported, called or looked up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable
from itertools import chain
from typing import Any, TypeVar, final

from . import _fastpath, _json
from ._fastpath import orjson_defers, plain_bytes
from .errors import DecodeError, EncodeError, KombuDashError, unsupported
from .tags import BUILTIN_TAGS, INT_MAX, INT_MIN, Tag

__all__ = ["Codec"]

#: register_tag returns what it was given: a Tag instance or a Tag subclass
_TagT = TypeVar("_TagT", bound="Tag | type[Tag]")

_NoneType = type(None)
_NESTING = frozenset((dict, list))
_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    _NoneType: "null",
}

# Decoder errors a tag's to_python may raise on a payload of the wrong shape.
_PAYLOAD_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


def _json_name(t: type) -> str:
    return _JSON_NAMES.get(t, t.__name__)


@final  # lets `type(tag) is _Refused` narrow both ways
class _Refused:
    """Dispatch result for a subclass of a tagged class that the tag does not cover."""

    def __init__(self, tag: Tag, base: type):
        self.tag, self.base = tag, base


class Codec:
    """A registry of tags plus the encoder and decoder that use it.

    ``kombu_dash.dumps``/``loads`` use the default instance; make your own to carry
    a different set of types without touching the global one.
    """

    def __init__(
        self, tags: Iterable[Tag | type[Tag]] = (), *, max_depth: int = _json.ORJSON_MAX_DEPTH
    ):
        #: deepest JSON nesting written or read (tags count: ``{"~tuple": [...]}`` is 2)
        self.max_depth = max_depth
        self._by_key: dict[str, Tag] = {}
        self._by_class: dict[type, Tag] = {}
        self._pending: list[tuple[str, str, Tag]] = []  # "module:QualName" not yet importable
        # class -> its Tag, a _Refused or None, found along the MRO
        self._dispatch: dict[type, Tag | _Refused | None] = {}
        # wire key -> (payload type, single call lent by the tag), for the C walk's decoding;
        # learned as tags are met (the encoding table is the _TypedWriter's)
        self._fast_read: dict[str, tuple[type, Callable[[Any], Any]]] = {}
        self._writer = _TypedWriter(self)
        for tag in (*BUILTIN_TAGS, *tags):
            self.register_tag(tag)

    # -- registry ------------------------------------------------------------------

    def register_tag(self, tag: _TagT) -> _TagT:
        """Add a :class:`Tag` (class or instance); returns it, so it works as a decorator.

        A tag whose key is already registered replaces the old one.
        """
        instance = tag() if isinstance(tag, type) else tag
        if not isinstance(instance, Tag) or not instance.key or instance.key.startswith("~"):
            raise ValueError(f"{tag!r} is not a Tag with a key (without the leading ~)")
        old = self._by_key.get(instance.key)
        if old is not None:
            self._by_class = {c: t for c, t in self._by_class.items() if t is not old}
            self._pending = [p for p in self._pending if p[2] is not old]
        if not instance.plain:  # a plain tag is never written, so never read
            self._by_key[instance.key] = instance
        for cls in instance.types:
            if isinstance(cls, str):
                module, _, qualname = cls.partition(":")
                self._pending.append((module, qualname, instance))
            else:
                self._by_class[cls] = instance
        self._dispatch.clear()
        self._writer = _TypedWriter(self)
        self._fast_read.clear()
        return tag

    def tags(self) -> dict[str, Tag]:
        """Wire key -> tag, for documentation and debugging."""
        return dict(self._by_key)

    def _resolve_pending(self) -> None:
        # A class from a module nobody imported cannot be the class of a value we hold,
        # so only modules already in sys.modules are looked at: encoding never imports.
        still = []
        for module, qualname, tag in self._pending:
            mod = sys.modules.get(module)
            if mod is None:
                still.append((module, qualname, tag))
                continue
            obj: object = mod
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            if isinstance(obj, type):
                self._by_class.setdefault(obj, tag)
        self._pending = still

    def _tag_for(self, cls: type) -> Tag | _Refused | None:
        try:
            return self._dispatch[cls]
        except KeyError:
            pass
        if self._pending:
            self._resolve_pending()
        found: Tag | _Refused | None = None
        # The most specific registered class wins: no hand-kept ordering.
        for depth, base in enumerate(cls.__mro__):
            tag = self._by_class.get(base)
            if tag is not None:
                found = tag if depth == 0 or tag.subclasses else _Refused(tag, base)
                break
        # Cached for good: a class that subclasses a still-pending one could not exist
        # before that one's module was imported, and registering a tag clears the cache.
        self._dispatch[cls] = found
        return found

    # -- encoding ------------------------------------------------------------------

    def dumpb(self, obj: Any, /) -> bytes:
        """Encode to UTF-8 JSON bytes (what the kombu serializer sends)."""
        out = plain_bytes(obj, self.max_depth, self._writer)
        if type(out) is bytes:
            return out
        try:
            # not bytes, so an int: typeshed's bytes is not @final, `is` cannot narrow
            wire = self._enc(obj, 1, 1 + out)  # type: ignore[operator]
        except RecursionError as exc:
            raise EncodeError(
                f"nesting deeper than the stack allows (max_depth={self.max_depth})"
            ) from exc
        return _json.dumpb(wire)

    def dumps(self, obj: Any, /) -> str:
        """Encode to a JSON ``str``."""
        return self.dumpb(obj).decode("utf-8")

    def _enc(self, obj: Any, depth: int, scan_at: int) -> Any:
        """``obj`` as plain JSON data; unchanged containers are returned as they are.

        With orjson, a container at ``depth >= scan_at`` (below what the fast path
        already scanned) is first offered to the fast path, and comes back as a Fragment.
        """
        t = type(obj)
        if t is str or t is bool or obj is None:
            return obj
        if t is int:
            if INT_MIN <= obj <= INT_MAX:
                return obj
            return self._tagged(self._special("int"), obj, depth, scan_at)
        if t is float:
            if obj - obj == 0.0:  # finite
                return obj
            return self._tagged(self._special("float"), obj, depth, scan_at)
        if depth > self.max_depth:
            raise EncodeError(
                f"nesting deeper than max_depth={self.max_depth} (a circular reference?)"
            )
        if (
            t is dict
            and (
                not _STR.issuperset(map(type, obj))  # keys JSON objects cannot hold
                or (len(obj) == 1 and next(iter(obj))[:1] == "~")
            )
        ):  # would read as a tag
            return self._tagged(self._special("dict"), obj, depth, scan_at)
        if t is list or t is dict:
            if depth >= scan_at and _json.Fragment is not None and depth <= _FRAGMENT_DEPTH:
                done = plain_bytes(obj, self.max_depth - depth + 1, self._writer)
                if type(done) is bytes:
                    return _json.Fragment(done)
                scan_at = depth + done  # type: ignore[operator]  # an int: as in dumpb
            elif _is_leaf(obj if t is list else obj.values()):
                return obj
            if t is dict:
                out = {}
                for k, v in obj.items():
                    try:
                        out[k] = self._enc(v, depth + 1, scan_at)
                    except KombuDashError as exc:
                        raise exc._prepend(k) from exc.__cause__
                return out
            items: list[Any] = []
            append = items.append
            try:
                for v in obj:
                    # inner lists of strings (multi-dict pairs) need no call
                    if type(v) is list and _TEXT.issuperset(map(type, v)):
                        append(v)
                    else:
                        append(self._enc(v, depth + 1, scan_at))
            except KombuDashError as exc:
                raise exc._prepend(len(items)) from exc.__cause__  # the failing index
            return items
        tag = self._tag_for(t)
        if tag is None:
            raise unsupported(t)  # the message says what to send instead
        if type(tag) is _Refused:
            raise unsupported(t, tag.base, tag.tag.key)
        return self._tagged(tag, obj, depth, scan_at)

    def _special(self, key: str) -> Tag:
        # ~int, ~float and ~dict are chosen by value, not by class, but written by the
        # registered tag like any other (register_tag can replace them).
        return self._by_key[key]

    def _tagged(self, tag: Tag, obj: Any, depth: int, scan_at: int) -> Any:
        if depth > self.max_depth and not tag.plain:  # {"~tag": ...} is one more level
            raise EncodeError(f"nesting deeper than max_depth={self.max_depth}", tag=tag.key)
        try:
            payload = tag.to_json(obj)
        except KombuDashError as exc:
            exc.tag = exc.tag or tag.key
            raise
        except Exception as exc:
            raise EncodeError(
                f"~{tag.key} cannot write this {type(obj).__qualname__}: {exc}", tag=tag.key
            ) from exc
        try:
            # the fast path scans a payload as one level below its value, as written
            if tag.plain:
                return self._enc(payload, depth, scan_at)
            return {"~" + tag.key_for(obj): self._enc(payload, depth + 1, scan_at)}
        except KombuDashError as exc:
            if tag.pair_payload and len(exc.path) >= 2 and exc.path[1] == 1:
                # [[key, value], ...]: point at the key, not at the pair's position
                exc.path[:2] = [payload[exc.path[0]][0]]
            raise

    # -- decoding ------------------------------------------------------------------

    def loads(self, data: str | bytes | bytearray | memoryview, /) -> Any:
        """Decode JSON from ``str``, ``bytes``, ``bytearray`` or ``memoryview``."""
        if type(data) is memoryview or type(data) is bytearray:
            data = bytes(data)
        elif type(data) is not bytes and type(data) is not str:
            raise DecodeError(
                f"expected str, bytes, bytearray or memoryview, got {type(data).__name__}"
            )
        obj = _json.loadb(data, self.max_depth)  # strict, and no deeper than max_depth
        if (type(obj) is dict or type(obj) is list) and _may_hold_tag(data):
            speedups = _fastpath.SPEEDUPS
            if speedups is not None:
                try:
                    return speedups.untag(obj, self._build, [0], self.max_depth, self._fast_read)
                except Exception:  # noqa: BLE001
                    # obj is half decoded: parse again, and the walk says what and where
                    obj = _json.loadb(data, self.max_depth)
            bound = _tag_bound(data)
            if bound == 2 and len(obj) == 1 and data[:22] in _CELERY_BODY:
                # data[:22] in _CELERY_BODY: obj is the dict {"~tuple": [...]}, not a list
                body = obj["~tuple"]
                if len(body[0]) == 1:
                    # Celery's (args, kwargs, embed) with no other tag: no walk needed
                    done: list[float] = [0]
                    body[0] = self._untag("~tuple", body[0]["~tuple"], 2, done)
                    return self._untag("~tuple", body, 1, done)
            try:
                return self._dec(obj, 1, [bound])
            except RecursionError as exc:
                raise DecodeError(
                    f"nesting deeper than the stack allows (max_depth={self.max_depth})"
                ) from exc
        return obj

    def _dec(self, obj: Any, depth: int, left: list[float]) -> Any:
        """Replace tags in freshly parsed data, in place. ``left[0]`` bounds the tags not
        yet met (``"~`` occurrences in the text): at 0 the rest is plain data."""
        if left[0] <= 0:
            return obj
        if depth > self.max_depth:
            raise DecodeError(f"nesting deeper than max_depth={self.max_depth}")
        if type(obj) is list:
            types = set(map(type, obj))
            if _NESTING.isdisjoint(types):  # nothing below can be a tag
                return obj
            if types == _LIST and _NESTING.isdisjoint(map(type, chain.from_iterable(obj))):
                return obj  # [[key, value], ...] of scalars: every multi-dict's payload
            for i, v in enumerate(obj):
                # leaf containers are passed without a call
                tv = type(v)
                if tv is dict:
                    if len(v) != 1 and _NESTING.isdisjoint(map(type, v.values())):
                        continue
                elif tv is not list or _NESTING.isdisjoint(map(type, v)):
                    continue
                try:
                    obj[i] = self._dec(v, depth + 1, left)
                except KombuDashError as exc:
                    raise exc._prepend(i) from exc.__cause__
            return obj
        if len(obj) == 1:
            for key in obj:
                if key[:1] == "~":
                    return self._untag(key, obj[key], depth, left)
        if _NESTING.isdisjoint(map(type, obj.values())):
            return obj
        for k, v in obj.items():
            tv = type(v)  # leaf containers are passed without a call
            if tv is dict:
                if len(v) != 1 and _NESTING.isdisjoint(map(type, v.values())):
                    continue
            elif tv is not list or _NESTING.isdisjoint(map(type, v)):
                continue
            try:
                obj[k] = self._dec(v, depth + 1, left)
            except KombuDashError as exc:
                raise exc._prepend(k) from exc.__cause__
        return obj

    def _untag(self, key: str, raw: Any, depth: int, left: list[float]) -> Any:
        if key[1:] not in self._by_key:
            raise DecodeError(f"unknown tag {key!r}", tag=key[1:])
        left[0] -= 1
        payload = (
            self._dec(raw, depth + 1, left) if (type(raw) is dict or type(raw) is list) else raw
        )
        return self._build(key, payload, left)

    def _build(self, key: str, payload: Any, left: list[float]) -> Any:
        """The value of one tag, its payload already decoded (the C walk calls this)."""
        tag = self._by_key.get(key[1:])
        if tag is None:
            raise DecodeError(f"unknown tag {key!r}", tag=key[1:])
        if type(payload) is not tag.payload:
            raise DecodeError(
                f"{key} payload must be {_json_name(tag.payload)}, got {_json_name(type(payload))}",
                tag=tag.key,
            )
        try:
            if tag.costly:  # a fixed cost per object (a figure): counted in left[1]
                if len(left) == 1:
                    left.append(0)
                left[1] += tag.cost(payload)
                if left[1] > tag.costly:
                    raise DecodeError(
                        f"more than {tag.costly} units of costly objects (figures, "
                        "pandas objects) in one message",
                        tag=tag.key,
                    )
            value = tag.to_python(payload)
        except DecodeError as exc:
            exc.tag = exc.tag or tag.key
            raise
        except _PAYLOAD_ERRORS as exc:
            raise DecodeError(f"bad {key} payload: {exc}", tag=tag.key) from exc
        except Exception as exc:  # any other library error, or a warning under -W error
            raise DecodeError(
                f"bad {key} payload: {type(exc).__name__}: {str(exc)[:300]}", tag=tag.key
            ) from exc
        if key not in self._fast_read and not tag.costly:
            read = tag.fast_read()
            if read is not None:
                self._fast_read[key] = (tag.payload, read)
        return value


_STR = frozenset((str,))
_KEY_FOR = Tag.key_for
# orjson (3.13) writes past the end of its buffer when a Fragment sits inside more than
# about 64 levels of containers (found by the fuzzer: heap corruption, an abort at exit).
# Deeper than this, the walk returns plain containers instead of Fragments.
_FRAGMENT_DEPTH = 32
_LIST = {list}
_CELERY_BODY = ('{"~tuple":[{"~tuple":[', b'{"~tuple":[{"~tuple":[')
_TEXT = frozenset((str, bool, _NoneType))
_LEAF_SCALARS = frozenset((str, bool, _NoneType, int, float))


class _TypedWriter:
    """The fast path's hook into the registry: which classes orjson may hand back to
    us, and the walk's own bytes for one such value (see _fastpath.TypedWriter)."""

    def __init__(self, codec: Codec):
        self.codec = codec
        #: class -> (wire key, single call lent by its tag), for the C walk's encoding
        self.fast_write: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        self.deferred: set[type] = set()
        self.not_deferred: set[type] = set()

    def learn(self, classes: set[type]) -> bool:
        if not self.not_deferred.isdisjoint(classes):
            return False
        for cls in classes - self.deferred:
            tag = self.codec._tag_for(cls)
            if tag is None or type(tag) is _Refused or not orjson_defers(cls):
                self.not_deferred.add(cls)
                return False
            self.deferred.add(cls)
        return True

    def tagged(self, value: Any) -> tuple[str | None, Any]:
        # learn() admitted type(value) only with a Tag (not None, not _Refused)
        tag: Tag = self.codec._tag_for(type(value))  # type: ignore[assignment]
        return (None if tag.plain else "~" + tag.key_for(value)), tag.to_json(value)

    def wire_tag(self, value: Any) -> tuple[str | None, Any]:
        t = type(value)
        codec = self.codec
        if t is int or t is float or t is dict:  # chosen by value: see Codec._special
            tag = codec._special("int" if t is int else "float" if t is float else "dict")
        else:
            found = codec._tag_for(t)
            if found is None or type(found) is _Refused:
                raise TypeError(t)  # the walk raises the error that says what to send
            tag = found
            if t not in self.fast_write and not tag.plain and type(tag).key_for is _KEY_FOR:
                write = tag.fast_write(t)
                if write is not None:
                    self.fast_write[t] = ("~" + tag.key, write)
        return (None if tag.plain else "~" + tag.key_for(value)), tag.to_json(value)


def _is_leaf(values: Collection[Any]) -> bool:
    """Only scalars JSON writes as they are: no container, no big int, no NaN."""
    types = set(map(type, values))  # C speed; most containers stop here
    if not types <= _LEAF_SCALARS:
        return False
    if int in types or float in types:
        for v in values:
            tv = type(v)
            if (tv is int and not INT_MIN <= v <= INT_MAX) or (tv is float and v - v != 0.0):
                return False
    return True


def _tag_bound(data: str | bytes) -> float:
    """At least as many as the tags in ``data``: each tag's key starts with ``"~``
    (strings starting with ~ only make the bound looser)."""
    if type(data) is str:
        return float("inf") if '"\\u007' in data else data.count('"~')
    # bytes here: typeshed's str is not @final, so `type(data) is str` cannot narrow
    return float("inf") if b'"\\u007' in data else data.count(b'"~')  # type: ignore[arg-type]


def _may_hold_tag(data: str | bytes) -> bool:
    """False only if no JSON object key in ``data`` can start with ``~``."""
    if type(data) is str:
        return ("~" in data and '"~' in data) or (
            "\\" in data and ('"\\u007e' in data or '"\\u007E' in data)
        )
    return (b"~" in data and b'"~' in data) or (
        b"\\" in data and (b'"\\u007e' in data or b'"\\u007E' in data)
    )
