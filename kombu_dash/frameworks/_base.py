"""What the framework modules share: lazy loading, the pair-list tag and stand-ins."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from itertools import chain
from typing import Any, ClassVar, cast

from ..budgets import check_keys
from ..errors import DecodeError
from ..standins import Headers, MultiDict
from ..tags import Tag, pair_list, pairs
from ..wire import int_fits, wire_key

__all__ = [
    "load_class",
    "missing_library",
    "FrameworkTag",
    "PairsTag",
    "DictPayloadTag",
    "StandInDict",
    "StandInStr",
    "str_pairs",
    "writable",
]


@cache
def load_class(module: str, name: str = "") -> Any:
    """The object ``module.name`` (the module itself when ``name`` is empty) if its
    library is installed here, else None. The one lazy import of the frameworks.

    Only called with names written in this package, never with text from a message.
    """
    try:
        mod = importlib.import_module(module)
        return getattr(mod, name) if name else mod
    except (ImportError, AttributeError):
        return None


def missing_library(tag_key: str, library: str) -> DecodeError:
    """The error for a value of a library that is not installed and has no stand-in."""
    return DecodeError(
        f"{wire_key(tag_key)} needs {library}, which is not installed in this process",
        tag=tag_key,
    )


class StandInDict(dict[str, Any]):
    """A framework value decoded where its library is missing: its payload, read as a
    dict, written back under the same tag (each tag names its own subclass)."""

    __slots__ = ()


class StandInStr(str):
    """As :class:`StandInDict`, for a value written as its text (a URL)."""

    __slots__ = ()


_SHARED_STAND_INS = (None, dict, MultiDict, Headers)


class FrameworkTag(Tag):
    """A tag for the class ``module.name`` of a library that may not be installed.

    Where the library is missing, a value decodes to the tag's **stand-in**: a class of
    kombu_dash's with the same read API, written back under the same tag, so the next
    process that has the library gets the original class. Without a stand-in (numpy,
    pandas: nothing can stand in for an array), decoding is a DecodeError naming the
    library. ``types`` is derived: ``module:name``, resolved lazily, its ``aliases`` and
    the stand-in when this tag writes it back.
    """

    module: ClassVar[str] = ""
    name: ClassVar[str] = ""
    #: other paths to the same class (where an older version of the library kept it)
    aliases: ClassVar[tuple[str, ...]] = ()
    #: what a value decodes to where the library is missing (None: a DecodeError). This
    #: tag writes it back under its own key, except the shared ones: a plain ``dict``
    #: travels as one, and kombu_dash's MultiDict and Headers, which stand in for many
    #: tags, remember theirs (``stand_in_for``) and are written by their own tags
    stand_in: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.module and cls.name and "types" not in cls.__dict__:
            own = cls.stand_in not in _SHARED_STAND_INS
            extra = (cls.stand_in,) if own else ()
            cls.types = (f"{cls.module}:{cls.name}", *cls.aliases, *extra)

    def load(self) -> Any:
        """The framework's class, or None where its library is missing."""
        return load_class(self.module, self.name)

    def to_json(self, value: Any) -> Any:
        # a stand-in is its payload: written back exactly as it arrived
        if self.stand_in is not None and type(value) is self.stand_in:
            return self.stand_in_payload(value)
        return self.write(value)

    def write(self, value: Any) -> Any:
        raise NotImplementedError

    def stand_in_payload(self, value: Any) -> Any:
        return str(value) if isinstance(value, str) else dict(value)


_STR = frozenset((str,))


def str_pairs(items: list[Any]) -> list[Any]:
    """Refuse a pair whose key or value is not a string: the library would apply
    ``str()`` to it (``1`` would arrive as ``"1"``); no real value of it holds one."""
    if _STR.issuperset(map(type, chain.from_iterable(items))):  # at C speed
        return items
    for i, (key, value) in enumerate(items):  # says which pair
        if type(key) is not str or type(value) is not str:
            bad = key if type(key) is not str else value
            raise ValueError(f"keys and values are strings, got {type(bad).__name__} in pair {i}")
    return items


class PairsTag(FrameworkTag):
    """A multi-dict on the wire: ``[[key, value], ...]``, every pair, in order.

    Decodes to ``module.name`` where that library is installed, else to its stand-in (a
    :class:`kombu_dash.MultiDict` with the same ``[]`` semantics, or Headers).
    """

    #: ``[]`` gives the last value for a key (starlette, Django) instead of the first
    last = False
    stand_in: ClassVar[type[MultiDict]] = MultiDict
    pair_payload = True
    #: the library turns keys and values into ``str``: refuse anything else instead
    strings = False
    #: the library takes ``[key, value]`` lists as pairs and keeps no list (werkzeug);
    #: otherwise they are made tuples first (starlette keeps the pairs it is given)
    takes_lists = False

    def items(self, value: Any) -> Any:
        return value.items(multi=True)

    def write(self, value: Any) -> Any:
        return pair_list(self.items(value))

    def build(self, cls: Any, items: list[tuple[Any, Any]]) -> Any:
        return cls(items)

    def to_python(self, payload: Any) -> Any:
        pairs(payload)  # both check at C speed first
        if self.strings:
            str_pairs(payload)
        check_keys(payload)  # a dict of the keys: hash flooding (docs/security.rst)
        cls = self.load()
        if cls is None:
            return self.make_stand_in(list(map(tuple, payload)))
        return self.build(cls, payload if self.takes_lists else list(map(tuple, payload)))

    def make_stand_in(self, items: list[tuple[Any, Any]]) -> Any:
        if self.stand_in is MultiDict:
            return MultiDict(items, last=self.last, stand_in_for=self.key)
        return self.stand_in(items, stand_in_for=self.key)


class DictPayloadTag(FrameworkTag):
    """A dict subclass written as a JSON object (values encoded as usual)."""

    payload = dict
    stand_in: ClassVar[type] = dict

    def write(self, value: Any) -> Any:
        return dict(value)

    def to_python(self, payload: Any) -> Any:
        cls = self.load() or self.stand_in
        return cls(payload)

    def fast_write(self, cls: type) -> Callable[[Any], Any] | None:
        return None if cls is self.stand_in else dict  # a stand-in is written by to_json

    def fast_read(self) -> Callable[[Any], Any]:
        return cast("Callable[[Any], Any]", self.load() or self.stand_in)


# -- what Dash's encoder (plotly.io.json.to_json_plotly) can write ----------------------

_JSON_SCALARS = frozenset((str, int, float, bool, type(None)))
# numpy kinds plotly's encoder writes (measured with both engines): not complex, not bytes,
# and a timedelta64 only inside an array
_ARRAY_KINDS = "biufUMm"
_SCALAR_KINDS = "biufUM"


def writable(value: Any, where: str) -> None:
    """Refuse a decoded value that Dash's JSON encoder could not write back (a ``set``
    inside a figure or a component's props): it would decode, then break on use.

    Containers and scalars as JSON has them (integers within 64 bits), plus what
    plotly's encoder converts: tuples, dates and times, Decimal, numpy arrays and
    scalars (object arrays element by element), Dash components (checked when they
    were decoded) and plotly figures."""
    todo = [value]
    while todo:
        v = todo.pop()
        t = type(v)
        if t in _JSON_SCALARS:
            if t is int and not int_fits(v):  # orjson, Dash's default engine
                raise DecodeError(
                    f"{where} holds an integer beyond 64 bits, which Dash cannot write"
                )
            continue
        if isinstance(v, dict):  # subclasses too: json writes them as objects
            for k in v:
                if type(k) not in _JSON_SCALARS:
                    raise DecodeError(
                        f"{where} holds a {_qual(type(k))} key, which Dash cannot write"
                    )
            todo.extend(v.values())
        elif isinstance(v, (list, tuple)):
            todo.extend(v)
        elif _other_writable(v, t):
            continue
        else:
            raise DecodeError(f"{where} holds a {_qual(t)}, which Dash's JSON encoder cannot write")


def _qual(t: type) -> str:
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _other_writable(v: Any, t: type) -> bool:
    import decimal

    # plotly writes anything with isoformat() as that text (dates, times, pandas Timestamp)
    if t is decimal.Decimal or callable(getattr(t, "isoformat", None)):
        return True
    # a class of a library only exists here if the library was imported: no import needed
    np = _loaded("numpy")
    if np is not None:
        if t is np.ndarray:
            if v.dtype.kind == "O":
                return all(_element_ok(e) for e in v.flat)
            if v.dtype.names is not None:  # structured: each field as a simple kind
                return all(v.dtype[n].kind in _ARRAY_KINDS for n in v.dtype.names)
            return v.dtype.kind in _ARRAY_KINDS
        if isinstance(v, np.generic):
            return v.dtype.kind in _SCALAR_KINDS
    comp = _loaded("dash.development.base_component")
    if comp is not None and isinstance(v, comp.Component):
        return True
    figure = _loaded("plotly.basedatatypes")
    if figure is not None and isinstance(v, figure.BaseFigure):
        return True
    return False


def _element_ok(v: Any) -> bool:
    try:
        writable(v, "")
    except DecodeError:
        return False
    return True


def _loaded(module: str) -> Any:
    import sys

    return sys.modules.get(module)
