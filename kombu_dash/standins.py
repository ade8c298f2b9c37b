"""Dependency-free stand-ins for the frameworks' multi-dicts.

A message carrying a starlette ``QueryParams`` may be decoded where starlette is not
installed (a worker, a script reading a queue). It then comes back as a
:class:`MultiDict` with the same read API and the same ``[]`` semantics as the
original, and it remembers where it came from: sent on, it is written exactly as the
original was, so the next process that has starlette gets ``QueryParams`` again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

__all__ = ["MultiDict", "Headers", "AttributeDict"]

_missing = object()


def _multi_items(items: Any) -> list[tuple[Any, Any]]:
    """Pairs from a list of pairs, a plain mapping, or any framework multi-dict."""
    if isinstance(items, MultiDict):
        return list(items._items)
    if hasattr(items, "multi_items"):  # starlette
        return list(items.multi_items())
    if isinstance(items, Mapping):
        werkzeug_like: Any = items
        try:
            return list(werkzeug_like.items(multi=True))  # werkzeug
        except TypeError:
            return list(items.items())  # dict, aiohttp multidict (items() is already multi)
    return [(k, v) for k, v in items]


class MultiDict(Mapping[Any, Any]):
    """Ordered ``(key, value)`` pairs; a key may repeat.

    ``md[key]`` and ``md.get(key)`` give the first value for the key, as werkzeug
    and aiohttp's multidict do, or the last with ``last=True``, as starlette and
    Django do. ``getlist(key)`` gives every value in order; ``items(multi=True)``
    and ``multi_items()`` every pair. ``len``, iteration and ``in`` see each key once.
    """

    __slots__ = ("_items", "_index", "last", "stand_in_for")

    def __init__(
        self, items: Iterable[Any] = (), *, last: bool = False, stand_in_for: str | None = None
    ) -> None:
        self._items = _multi_items(items)
        self._index: dict[Any, list[Any]] = {}
        for key, value in self._items:
            self._index.setdefault(self._norm(key), []).append(value)
        self.last = last
        #: wire tag this value was decoded from; it is written back under that tag
        self.stand_in_for = stand_in_for

    @staticmethod
    def _norm(key: Any) -> Any:
        return key

    def __getitem__(self, key: Any) -> Any:
        values = self._index[self._norm(key)]
        return values[-1] if self.last else values[0]

    def __iter__(self) -> Iterator[Any]:
        seen = set()
        for key, _ in self._items:
            norm = self._norm(key)
            if norm not in seen:
                seen.add(norm)
                yield key

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        try:
            return self._norm(key) in self._index
        except TypeError:
            return False

    def getlist(self, key: Any, type: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every value for ``key``, in order (``[]`` if none). With ``type``, each value
        converted by it, skipping those it refuses with ValueError or TypeError, as
        werkzeug does."""
        values = self._index.get(self._norm(key), [])
        if type is None:
            return list(values)
        out: list[Any] = []
        for value in values:  # werkzeug's getlist(key, type=int) skips unconvertible values
            try:
                out.append(type(value))
            except (ValueError, TypeError):
                pass
        return out

    def getall(self, key: Any, default: Any = _missing) -> Any:
        """aiohttp multidict's spelling: every value, KeyError if none."""
        values = self.getlist(key)
        if values:
            return values
        if default is _missing:
            raise KeyError(key)
        return default

    def getone(self, key: Any, default: Any = _missing) -> Any:
        """aiohttp multidict's spelling: the first value."""
        values = self._index.get(self._norm(key))
        if values:
            return values[0]
        if default is _missing:
            raise KeyError(key)
        return default

    def items(self, multi: bool = False) -> list[tuple[Any, Any]]:  # type: ignore[override]
        """``(key, md[key])`` once per key; with ``multi=True`` every pair, in order."""
        if multi:
            return list(self._items)
        return [(key, self[key]) for key in self]

    def multi_items(self) -> list[tuple[Any, Any]]:
        """starlette's spelling: every ``(key, value)`` pair, in order."""
        return list(self._items)

    def values(self) -> list[Any]:  # type: ignore[override]
        """``md[key]`` once per key."""
        return [self[key] for key in self]

    def to_dict(self, flat: bool = True) -> dict[Any, Any]:
        """werkzeug's spelling: ``{key: value}``, or ``{key: [values]}`` with flat=False."""
        if flat:
            return dict(self.items())
        return {key: self.getlist(key) for key in self}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return (
                type(self) is type(other)
                and self._index == other._index
                and self.last == other.last
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # unhashable, like dict

    def __repr__(self) -> str:
        extra = ", last=True" if self.last else ""
        return f"{type(self).__name__}({self._items!r}{extra})"


class Headers(MultiDict):
    """HTTP headers: names compare case-insensitively, ``[]`` gives the first value
    (as both werkzeug and starlette do); names keep the case they arrived with."""

    __slots__ = ()

    def __init__(self, items: Iterable[Any] = (), *, stand_in_for: str | None = None) -> None:
        super().__init__(items, last=False, stand_in_for=stand_in_for)

    @staticmethod
    def _norm(key: Any) -> Any:
        return key.lower() if isinstance(key, str) else key

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class AttributeDict(dict[str, Any]):
    """A dict whose keys are also attributes; the stand-in for Dash's AttributeDict."""

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value
