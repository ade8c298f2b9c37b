"""aio-libs multidict (aiohttp, yarl): MultiDict, CIMultiDict and their read-only proxies.

``[]`` gives the first value; ``items()`` already lists every pair.
"""

from __future__ import annotations

from typing import Any

from ..standins import Headers
from ._base import PairsTag, load_class


class MultiDictTag(PairsTag):
    key = "multidict.MultiDict"
    module, name = "multidict", "MultiDict"

    def items(self, value: Any) -> Any:
        # CIMultiDict keys are multidict.istr, a str subclass: plain str on the wire
        return [(str(k), v) for k, v in value.items()]


class CIMultiDictTag(MultiDictTag):
    """Case-insensitive; decoded as kombu_dash.Headers where multidict is missing."""

    key = "multidict.CIMultiDict"
    name = "CIMultiDict"
    stand_in = Headers


class MultiDictProxyTag(MultiDictTag):
    key = "multidict.MultiDictProxy"
    name = "MultiDictProxy"
    inner = "MultiDict"

    def build(self, cls: Any, items: list[tuple[Any, Any]]) -> Any:
        return cls(load_class("multidict", self.inner)(items))


class CIMultiDictProxyTag(MultiDictProxyTag):
    key = "multidict.CIMultiDictProxy"
    name = "CIMultiDictProxy"
    inner = "CIMultiDict"
    stand_in = Headers


TAGS = (MultiDictTag, CIMultiDictTag, MultiDictProxyTag, CIMultiDictProxyTag)
