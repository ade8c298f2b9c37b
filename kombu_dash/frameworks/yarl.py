"""yarl (aiohttp): ``URL``, written as its encoded text; ``str`` where yarl is missing."""

from __future__ import annotations

from ..tags import Tag
from ._base import load_class


class URLTag(Tag):
    key = "yarl.URL"
    types = ("yarl:URL",)
    payload = str

    def to_json(self, value):
        return str(value)

    def to_python(self, payload):
        cls = load_class("yarl", "URL")
        # str(URL) is already percent-encoded: encoded=True keeps it byte for byte.
        return payload if cls is None else cls(payload, encoded=True)


TAGS = (URLTag,)
