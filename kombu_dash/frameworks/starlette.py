"""starlette (FastAPI): request.query_params, headers, form data and URLs.

starlette's ``[]`` gives the *last* value of a repeated key (``Headers``: the first).
"""

from __future__ import annotations

from typing import Any

from ..errors import EncodeError
from ..standins import Headers
from ._base import FrameworkTag, PairsTag, StandInStr

_DS = "starlette.datastructures"


class QueryParamsTag(PairsTag):
    key = "starlette.QueryParams"
    module, name, last = _DS, "QueryParams", True
    strings = True  # QueryParams applies str() to keys and values

    def items(self, value: Any) -> Any:
        return value.multi_items()


class ImmutableMultiDictTag(QueryParamsTag):
    key = "starlette.ImmutableMultiDict"
    name = "ImmutableMultiDict"
    strings = False  # holds any value, unchanged


class MultiDictTag(ImmutableMultiDictTag):
    key = "starlette.MultiDict"
    name = "MultiDict"


class FormDataTag(QueryParamsTag):
    """Plain form fields only: an uploaded file has no place in a task message."""

    key = "starlette.FormData"
    name = "FormData"

    def items(self, value: Any) -> Any:
        for field, item in value.multi_items():
            if not isinstance(item, str):
                raise EncodeError(
                    f"form field {field!r} holds a {type(item).__qualname__} (an uploaded file?): "
                    "read and send its content instead",
                    path=[field],
                )
        return value.multi_items()


class HeadersTag(PairsTag):
    """Rebuilt from the raw pairs, so repeated headers (set-cookie) all survive."""

    key = "starlette.Headers"
    module, name = _DS, "Headers"
    stand_in = Headers
    strings = True  # latin-1 text both ways

    def items(self, value: Any) -> Any:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in value.raw]

    def build(self, cls: Any, items: list[tuple[Any, Any]]) -> Any:
        return cls(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in items])


class MutableHeadersTag(HeadersTag):
    key = "starlette.MutableHeaders"
    name = "MutableHeaders"


class URLStandIn(StandInStr):
    """A ``~starlette.URL`` decoded where starlette is missing: its text, written back
    as the same URL."""

    __slots__ = ()


class URLTag(FrameworkTag):
    key = "starlette.URL"
    module, name = _DS, "URL"
    stand_in = URLStandIn
    payload = str

    def write(self, value: Any) -> Any:
        return str(value)

    def to_python(self, payload: Any) -> Any:
        cls = self.load()
        if cls is None:
            return URLStandIn(payload)
        url = cls(payload)
        url.components  # noqa: B018 - parsed now, not on first use: "http://[::1" is refused here
        return url


TAGS = (
    QueryParamsTag,
    ImmutableMultiDictTag,
    MultiDictTag,
    FormDataTag,
    HeadersTag,
    MutableHeadersTag,
    URLTag,
)
