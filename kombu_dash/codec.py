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

import functools
import gc
import sys
from typing import Any, Iterable

from . import _json
from .errors import DecodeError, EncodeError, KombuDashError, unsupported
from .tags import BUILTIN_TAGS, INT_MAX, INT_MIN, DictTag, FloatTag, Tag

__all__ = ["Codec"]

_NoneType = type(None)
_PLAIN = frozenset((str, int, float, bool, _NoneType, list, dict))
_NESTING = frozenset((dict, list))
_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer",
               float: "a number", bool: "a boolean", _NoneType: "null"}

# Decoder errors a tag's to_python may raise on a payload of the wrong shape.
_PAYLOAD_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


def _json_name(t: type) -> str:
    return _JSON_NAMES.get(t, t.__name__)


class _Refused:
    """Dispatch result for a subclass of a tagged class that the tag does not cover."""

    def __init__(self, tag: Tag, base: type):
        self.tag, self.base = tag, base


class Codec:
    """A registry of tags plus the encoder and decoder that use it.

    ``kombu_dash.dumps``/``loads`` use the default instance; make your own to carry
    a different set of types without touching the global one.
    """

    def __init__(self, tags: Iterable = (), *, max_depth: int = _json.ORJSON_MAX_DEPTH):
        #: deepest JSON nesting written or read (tags count: ``{"~tuple": [...]}`` is 2)
        self.max_depth = max_depth
        self._by_key: dict[str, Tag] = {}
        self._by_class: dict[type, Tag] = {}
        self._pending: list[tuple[str, str, Tag]] = []  # "module:QualName" not yet importable
        self._dispatch: dict[type, Any] = {}  # class -> Tag | _Refused | None, along the MRO
        for tag in (*BUILTIN_TAGS, *tags):
            self.register_tag(tag)

    # -- registry ------------------------------------------------------------------

    def register_tag(self, tag):
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
            obj = mod
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            if isinstance(obj, type):
                self._by_class.setdefault(obj, tag)
        self._pending = still

    def _tag_for(self, cls: type):
        try:
            return self._dispatch[cls]
        except KeyError:
            pass
        if self._pending:
            self._resolve_pending()
        found = None
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
        out = self._plain_bytes(obj, self.max_depth)
        if out is not None:
            return out
        try:
            wire = self._enc(obj, 1)
        except RecursionError as exc:
            raise EncodeError(f"nesting deeper than the stack allows (max_depth={self.max_depth})") from exc
        return _json.dumpb(wire)

    def _plain_bytes(self, obj, limit: int):
        """The JSON library's bytes for ``obj`` if it is plain JSON data that the walk
        would leave unchanged, else None."""
        plain = self._plain_levels(obj, limit)
        if plain is None:
            return None
        try:
            out = _json.dumpb(obj)
        except EncodeError:  # ints beyond 64 bits, non-str keys: orjson refuses both
            return None
        return out if _plain_output_ok(*plain, out) else None

    def dumps(self, obj: Any, /) -> str:
        """Encode to a JSON ``str``."""
        return self.dumpb(obj).decode("utf-8")

    def _plain_levels(self, obj, limit: int):
        """``(levels, has_float)`` if ``obj`` is plain JSON data that the JSON library
        writes exactly as the walk would, else None. A level lists what sits at one depth."""
        levels = []
        has_float = False
        level = [obj]
        while level:
            if len(levels) >= limit:
                return None  # deep or circular: the walk says where
            types = set(map(type, level))
            if not types <= _PLAIN:
                return None
            if not _json.HAVE_ORJSON and not _stdlib_safe(level, types):
                return None
            has_float = has_float or float in types
            levels.append(level)
            # a dict's referents are its values (and its keys, unless all are exact str)
            level = gc.get_referents(*level)
        return levels, has_float

    def _enc(self, obj, depth):
        """``obj`` as plain JSON data; unchanged containers are returned as they are."""
        t = type(obj)
        if t is str or t is bool or obj is None:
            return obj
        if t is int:
            return obj if INT_MIN <= obj <= INT_MAX else {"~int": str(obj)}
        if t is float:
            return obj if obj - obj == 0.0 else {"~float": _FLOAT_TAG.to_json(obj)}
        if depth > self.max_depth:
            raise EncodeError(f"nesting deeper than max_depth={self.max_depth} (a circular reference?)")
        if t is list:
            if _is_leaf(obj):
                return obj
            # Near the root (Celery's (args, kwargs, embed) tuples), a plain subtree is
            # written by orjson in one go and embedded as is; deeper down, trying costs more
            # than it saves.
            if depth <= _FRAGMENT_DEPTH and _json.Fragment is not None:
                done = self._plain_bytes(obj, self.max_depth - depth)
                if done is not None:
                    return _json.Fragment(done)
            out = []
            append = out.append
            try:
                for v in obj:
                    # inner lists of strings (multi-dict pairs) need no call
                    if type(v) is list and _TEXT.issuperset(map(type, v)):
                        append(v)
                    else:
                        append(self._enc(v, depth + 1))
            except KombuDashError as exc:
                raise exc._prepend(len(out)) from exc.__cause__  # len(out) is the failing index
            return out
        if t is dict:
            if not _STR.issuperset(map(type, obj)):
                return self._tagged(_DICT_TAG, obj, depth)  # keys JSON objects cannot hold
            if len(obj) == 1 and next(iter(obj))[:1] == "~":  # would read back as a tag: escape
                return self._tagged(_DICT_TAG, obj, depth)
            if _is_leaf(obj.values()):
                return obj
            if depth <= _FRAGMENT_DEPTH and _json.Fragment is not None:
                done = self._plain_bytes(obj, self.max_depth - depth)
                if done is not None:
                    return _json.Fragment(done)
            out = {}
            for k, v in obj.items():
                try:
                    out[k] = self._enc(v, depth + 1)
                except KombuDashError as exc:
                    raise exc._prepend(k) from exc.__cause__
            return out
        tag = self._tag_for(t)
        if tag is None:
            raise unsupported(t)  # the message says what to send instead
        if type(tag) is _Refused:
            raise unsupported(t, tag.base, tag.tag.key)
        return self._tagged(tag, obj, depth)

    def _tagged(self, tag: Tag, obj, depth):
        try:
            payload = tag.to_json(obj)
        except KombuDashError as exc:
            exc.tag = exc.tag or tag.key
            raise
        except Exception as exc:
            raise EncodeError(f"~{tag.key} cannot write this {type(obj).__qualname__}: {exc}", tag=tag.key) from exc
        try:
            if tag.plain:
                return self._enc(payload, depth)
            return {"~" + tag.key_for(obj): self._enc(payload, depth + 1)}
        except KombuDashError as exc:
            if tag.pair_payload and len(exc.path) >= 2 and exc.path[1] == 1:
                # [[key, value], ...]: point at the key, not at the pair's position
                exc.path[:2] = [payload[exc.path[0]][0]]
            raise

    # -- decoding ------------------------------------------------------------------

    def loads(self, data, /) -> Any:
        """Decode JSON from ``str``, ``bytes``, ``bytearray`` or ``memoryview``."""
        if type(data) is memoryview or type(data) is bytearray:
            data = bytes(data)
        elif type(data) is not bytes and type(data) is not str:
            raise DecodeError(f"expected str, bytes, bytearray or memoryview, got {type(data).__name__}")
        obj = _json.loadb(data, self.max_depth)  # strict, and no deeper than max_depth
        if (type(obj) is dict or type(obj) is list) and _may_hold_tag(data):
            try:
                return self._dec(obj, 1, [_tag_bound(data)])
            except RecursionError as exc:
                raise DecodeError(f"nesting deeper than the stack allows (max_depth={self.max_depth})") from exc
        return obj

    def _dec(self, obj, depth, left):
        """Replace tags in freshly parsed data, in place. ``left[0]`` bounds the tags not
        yet met (``"~`` occurrences in the text): at 0 the rest is plain data."""
        if left[0] <= 0:
            return obj
        if depth > self.max_depth:
            raise DecodeError(f"nesting deeper than max_depth={self.max_depth}")
        if type(obj) is list:
            if _NESTING.isdisjoint(map(type, obj)):  # nothing below can be a tag
                return obj
            for i, v in enumerate(obj):
                if type(v) is dict or (type(v) is list and not _NESTING.isdisjoint(map(type, v))):
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
            if type(v) is dict or type(v) is list:
                try:
                    obj[k] = self._dec(v, depth + 1, left)
                except KombuDashError as exc:
                    raise exc._prepend(k) from exc.__cause__
        return obj

    def _untag(self, key: str, raw, depth, left):
        tag = self._by_key.get(key[1:])
        if tag is None:
            raise DecodeError(f"unknown tag {key!r}", tag=key[1:])
        left[0] -= 1
        payload = self._dec(raw, depth + 1, left) if (type(raw) is dict or type(raw) is list) else raw
        if type(payload) is not tag.payload:
            raise DecodeError(
                f"{key} payload must be {_json_name(tag.payload)}, got {_json_name(type(payload))}",
                tag=tag.key,
            )
        try:
            return tag.to_python(payload)
        except KombuDashError as exc:
            exc.tag = exc.tag or tag.key
            raise
        except _PAYLOAD_ERRORS as exc:
            raise DecodeError(f"bad {key} payload: {exc}", tag=tag.key) from exc


_DICT_TAG = DictTag()
_FRAGMENT_DEPTH = 4
_STR = frozenset((str,))
_TEXT = frozenset((str, bool, _NoneType))
_IN_INT64 = range(INT_MIN, INT_MAX + 1).__contains__
_IS_INT = int.__instancecheck__
_IS_DICT = dict.__instancecheck__
_KEY_TYPES = functools.partial(map, type)
_LEAF_SCALARS = frozenset((str, bool, _NoneType, int, float))


def _is_leaf(values) -> bool:
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
_FLOAT_TAG = FloatTag()


def _tag_bound(data) -> float:
    """At least as many as the tags in ``data``: each tag's key starts with ``"~``
    (strings starting with ~ only make the bound looser)."""
    if type(data) is str:
        return float("inf") if '"\\u007' in data else data.count('"~')
    return float("inf") if b'"\\u007' in data else data.count(b'"~')


def _may_hold_tag(data) -> bool:
    """False only if no JSON object key in ``data`` can start with ``~``."""
    if type(data) is str:
        return ("~" in data and '"~' in data) or ("\\" in data and ('"\\u007e' in data or '"\\u007E' in data))
    return (b"~" in data and b'"~' in data) or (b"\\" in data and (b'"\\u007e' in data or b'"\\u007E' in data))


def _plain_output_ok(levels, has_float, out: bytes) -> bool:
    # A dict whose first key starts with "~" would read back as a tag: the walk escapes it.
    if b"~" in out and b'{"~' in out:
        return False
    # orjson writes NaN and the infinities as null: every null must be a None.
    if has_float and b"null" in out:
        return out.count(b"null") == sum(lv.count(None) for lv in levels)
    return True


def _stdlib_safe(level, types) -> bool:
    """Without orjson the stdlib writes int keys as strings and big ints as numbers.
    Checked at C speed: ``range.__contains__`` is O(1) for ints."""
    if int in types and not all(map(_IN_INT64, filter(_IS_INT, level))):
        return False
    if dict in types and not all(map(_STR.issuperset, map(_KEY_TYPES, filter(_IS_DICT, level)))):
        return False
    return True