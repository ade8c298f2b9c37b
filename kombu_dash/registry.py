"""The registry: which tag writes which class, and the one place a value meets its tag.

A :class:`Registry` holds tags by wire key (what decoding looks up: nothing named in a
message is imported, called or looked up elsewhere) and by class (dispatch along the MRO,
so the most specific class wins). The engines (:mod:`kombu_dash.engines`) walk values
and call back here for every typed value: :meth:`Registry._write` and
:meth:`Registry._read` apply a tag and turn any failure into the error that says what and
where. :class:`~kombu_dash.Codec` is a registry with an engine and a JSON backend.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar, final

from . import wire
from .errors import DecodeError, EncodeError, KombuDashError, unsupported
from .tags import BUILTIN_TAGS, Tag

__all__ = ["Registry", "Budget"]

#: register_tag returns what it was given: a Tag instance or a Tag subclass
_TagT = TypeVar("_TagT", bound="Tag | type[Tag]")

_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
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


class Budget:
    """What one message has spent so far of the costs its tags count (``Tag.costly``)."""

    __slots__ = ("costly",)

    def __init__(self) -> None:
        self.costly = 0

    def spend(self, tag: Tag, payload: Any) -> None:
        self.costly += tag.cost(payload)
        if self.costly > tag.costly:
            raise DecodeError(
                f"more than {tag.costly} units of costly objects (figures, pandas objects) "
                "in one message",
                tag=tag.key,
            )


class Registry:
    """Tags by wire key and by class, and what the engines call for a typed value."""

    def __init__(self, tags: Iterable[Tag | type[Tag]] = (), *, max_depth: int = wire.MAX_DEPTH):
        self._max_depth = max_depth
        self._by_key: dict[str, Tag] = {}  # key without the prefix, as tags() shows it
        # what decoding looks up, by wire key ("~tuple"): the tag, and its payload's type
        self._by_wire: dict[str, Tag] = {}
        self._payload_types: dict[str, type] = {}
        self._by_class: dict[type, Tag] = {}
        self._pending: list[tuple[str, str, Tag]] = []  # "module:QualName" not yet importable
        # class -> its Tag, a _Refused or None, found along the MRO
        self._dispatch: dict[type, Tag | _Refused | None] = {}
        # The single calls tags lend the engines, learned as values are met: class ->
        # (wire key, write) and wire key -> (payload type, read). Filled with setdefault
        # and only ever cleared in place, so an engine holding them stays consistent.
        self._write_fast: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        self._read_fast: dict[str, tuple[type, Callable[[Any], Any]]] = {}
        for tag in (*BUILTIN_TAGS, *tags):
            self.register_tag(tag)

    @property
    def max_depth(self) -> int:
        """Deepest JSON nesting written or read (a tag's object counts as a level)."""
        return self._max_depth

    # -- registry ------------------------------------------------------------------

    def register_tag(self, tag: _TagT) -> _TagT:
        """Add a :class:`Tag` (class or instance); returns it, so it works as a decorator.

        A tag whose key is already registered replaces the old one.
        """
        instance = tag() if isinstance(tag, type) else tag
        if not isinstance(instance, Tag) or not instance.key or wire.is_tag_key(instance.key):
            raise ValueError(f"{tag!r} is not a Tag with a key (without the leading ~)")
        old = self._by_key.pop(instance.key, None)
        if old is not None:
            self._by_class = {c: t for c, t in self._by_class.items() if t is not old}
            self._pending = [p for p in self._pending if p[2] is not old]
            self._by_wire.pop(wire.wire_key(old.key), None)
            self._payload_types.pop(wire.wire_key(old.key), None)
        self._by_key[instance.key] = instance
        if not instance.plain:  # a plain tag is never written, so never read
            self._by_wire[wire.wire_key(instance.key)] = instance
            self._payload_types[wire.wire_key(instance.key)] = instance.payload
        for cls in instance.types:
            if isinstance(cls, str):
                module, _, qualname = cls.partition(":")
                self._pending.append((module, qualname, instance))
            else:
                self._by_class[cls] = instance
        self._dispatch.clear()
        self._write_fast.clear()
        self._read_fast.clear()
        return tag

    def tags(self) -> dict[str, Tag]:
        """Key (without the ``~``) -> tag, for every tag that appears on the wire (plain
        tags write their values untagged), for documentation and debugging."""
        return {key: tag for key, tag in self._by_key.items() if not tag.plain}

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

    # -- what the engines call back: the registry's side of the walk ---------------

    def _write(self, value: Any) -> tuple[str | None, Any]:
        """``(wire key, payload)`` for a value the engine does not write as it is; the
        key is None for a plain tag (its payload is written in its place)."""
        t = type(value)
        if t is int or t is float or t is dict:  # the tags chosen by value (see wire)
            tag = self._by_key[
                wire.INT_TAG if t is int else wire.FLOAT_TAG if t is float else wire.DICT_TAG
            ]
        else:
            found = self._tag_for(t)
            if found is None:
                raise unsupported(t)  # the message says what to send instead
            if type(found) is _Refused:
                raise unsupported(t, found.base, found.tag.key)
            tag = found
            if not tag.plain and t not in self._write_fast and type(tag).key_for is Tag.key_for:
                write = tag.fast_write(t)
                if write is not None:
                    self._write_fast.setdefault(t, (wire.wire_key(tag.key), write))
        try:
            payload = tag.to_json(value)
        except KombuDashError as exc:
            exc.tag = exc.tag or tag.key
            raise
        except Exception as exc:
            raise EncodeError(
                f"~{tag.key} cannot write this {t.__qualname__}: {exc}", tag=tag.key
            ) from exc
        return (None if tag.plain else wire.wire_key(tag.key_for(value))), payload

    def _read(self, key: str, payload: Any, budget: Budget) -> Any:
        """The value of the tag ``key`` (its wire key), its payload already decoded."""
        tag = self._by_wire.get(key)
        if tag is None:
            raise DecodeError(f"unknown tag {key!r}", tag=key[len(wire.PREFIX) :])
        if type(payload) is not tag.payload:
            raise DecodeError(
                f"{key} payload must be {_json_name(tag.payload)}, got {_json_name(type(payload))}",
                tag=tag.key,
            )
        try:
            if tag.costly:
                budget.spend(tag, payload)
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
        if not tag.costly and key not in self._read_fast:  # costly tags keep their budget
            read = tag.fast_read()
            if read is not None:
                self._read_fast.setdefault(key, (tag.payload, read))
        return value

    def _too_deep(self, decoding: bool) -> NoReturn:
        error = DecodeError if decoding else EncodeError
        hint = "" if decoding else " (a circular reference?)"
        raise error(f"nesting deeper than max_depth={self._max_depth}{hint}")

    def _changed(self, container: Any) -> NoReturn:
        raise EncodeError(
            f"the {type(container).__name__} changed size while it was written "
            "(a tag's to_json changed the container holding its value)"
        )

    def _unwind_tag(self, exc: KombuDashError, key: str, payload: Any) -> None:
        """An error from inside a payload, leaving the tag ``key``: for a payload of
        ``[[key, value], ...]`` the path names the key instead of the pair's position."""
        tag = self._by_wire.get(key)
        path = exc.path
        if tag is not None and tag.pair_payload and len(path) >= 2 and path[1] == 1:
            path[:2] = [payload[path[0]][0]]
