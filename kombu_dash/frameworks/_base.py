"""What the framework modules share: lazy class loading and the pair-list tag."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any, ClassVar

from ..standins import MultiDict
from ..tags import Tag, pair_list, pairs

__all__ = ["load_class", "FrameworkTag", "PairsTag", "DictPayloadTag"]


@lru_cache(maxsize=None)
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


class FrameworkTag(Tag):
    """A tag for the class ``module.name`` of a library that may not be installed."""

    module = ""
    name = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.module and cls.name and "types" not in cls.__dict__:
            cls.types = (f"{cls.module}:{cls.name}",)


class PairsTag(FrameworkTag):
    """A multi-dict on the wire: ``[[key, value], ...]``, every pair, in order.

    Decodes to ``module.name`` where that library is installed, else to ``fallback``
    (a :class:`kombu_dash.MultiDict` with the same ``[]`` semantics).
    """

    #: ``[]`` gives the last value for a key (starlette, Django) instead of the first
    last = False
    fallback = MultiDict
    pair_payload = True

    def items(self, value):
        return value.items(multi=True)

    def to_json(self, value):
        return pair_list(self.items(value))

    def build(self, cls, items):
        return cls(items)

    def to_python(self, payload):
        items = list(map(tuple, pairs(payload)))  # one call at C speed
        cls = load_class(self.module, self.name)
        if cls is None:
            return self.make_fallback(items)
        return self.build(cls, items)

    def make_fallback(self, items):
        if self.fallback is MultiDict:
            return MultiDict(items, last=self.last, origin=self.key)
        return self.fallback(items, origin=self.key)


class DictPayloadTag(FrameworkTag):
    """A dict subclass written as a JSON object (values encoded as usual)."""

    payload = dict
    fallback = dict

    def to_json(self, value):
        return dict(value)

    def to_python(self, payload):
        cls = load_class(self.module, self.name) or self.fallback
        return cls(payload)
