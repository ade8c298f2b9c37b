"""aio-libs multidict (aiohttp, yarl): MultiDict, CIMultiDict and their read-only proxies.

``[]`` gives the first value; ``items()`` already lists every pair.
"""

from __future__ import annotations

from ..standins import Headers
from ._base import PairsTag, load_class


class MultiDictTag(PairsTag):
    key = "multidict.MultiDict"
    module, name = "multidict", "MultiDict"

    def items(self, value):
        # CIMultiDict keys are multidict.istr, a str subclass: plain str on the wire
        return [(str(k), v) for k, v in value.items()]


class CIMultiDictTag(MultiDictTag):
    """Case-insensitive; decoded as kombu_dash.Headers where multidict is missing."""

    key = "multidict.CIMultiDict"
    name = "CIMultiDict"
    types = ("multidict:CIMultiDict",)
    fallback = Headers


class MultiDictProxyTag(MultiDictTag):
    key = "multidict.MultiDictProxy"
    name = "MultiDictProxy"
    types = ("multidict:MultiDictProxy",)
    inner = "MultiDict"

    def build(self, cls, items):
        return cls(load_class("multidict", self.inner)(items))


class CIMultiDictProxyTag(MultiDictProxyTag):
    key = "multidict.CIMultiDictProxy"
    name = "CIMultiDictProxy"
    types = ("multidict:CIMultiDictProxy",)
    inner = "CIMultiDict"
    fallback = Headers


TAGS = (MultiDictTag, CIMultiDictTag, MultiDictProxyTag, CIMultiDictProxyTag)
