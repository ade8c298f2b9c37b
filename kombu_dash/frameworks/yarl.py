"""yarl (aiohttp): ``URL``, written as its encoded text."""

from __future__ import annotations

from typing import Any

from ._base import FrameworkTag, StandInStr


class URLStandIn(StandInStr):
    """A ``~yarl.URL`` decoded where yarl is missing: its encoded text, written back as
    the same URL."""

    __slots__ = ()


class URLTag(FrameworkTag):
    key = "yarl.URL"
    module, name = "yarl", "URL"
    stand_in = URLStandIn
    payload = str

    def write(self, value: Any) -> Any:
        return str(value)

    def to_python(self, payload: Any) -> Any:
        cls = self.load()
        if cls is None:
            return URLStandIn(payload)
        # str(URL) is already percent-encoded: encoded=True keeps it byte for byte.
        url = cls(payload, encoded=True)
        url.port  # noqa: B018 - yarl splits the host and port lazily: "x:99999999999" is refused here
        return url


TAGS = (URLTag,)
