"""starlette (FastAPI): request.query_params, headers, form data and URLs.

starlette's ``[]`` gives the *last* value of a repeated key (``Headers``: the first).
"""

from __future__ import annotations

from ..errors import EncodeError
from ..standins import Headers
from ..tags import Tag
from ._base import PairsTag, load_class

_DS = "starlette.datastructures"


class QueryParamsTag(PairsTag):
    key = "starlette.QueryParams"
    module, name, last = _DS, "QueryParams", True

    def items(self, value):
        return value.multi_items()


class ImmutableMultiDictTag(QueryParamsTag):
    key = "starlette.ImmutableMultiDict"
    name = "ImmutableMultiDict"
    types = (f"{_DS}:ImmutableMultiDict",)


class MultiDictTag(QueryParamsTag):
    key = "starlette.MultiDict"
    name = "MultiDict"
    types = (f"{_DS}:MultiDict",)


class FormDataTag(QueryParamsTag):
    """Plain form fields only: an uploaded file has no place in a task message."""

    key = "starlette.FormData"
    name = "FormData"
    types = (f"{_DS}:FormData",)

    def items(self, value):
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
    fallback = Headers

    def items(self, value):
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in value.raw]

    def build(self, cls, items):
        return cls(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in items])


class MutableHeadersTag(HeadersTag):
    key = "starlette.MutableHeaders"
    name = "MutableHeaders"
    types = (f"{_DS}:MutableHeaders",)


class URLTag(Tag):
    """Decodes to ``str`` where starlette is not installed."""

    key = "starlette.URL"
    types = (f"{_DS}:URL",)
    payload = str

    def to_json(self, value):
        return str(value)

    def to_python(self, payload):
        cls = load_class(_DS, "URL")
        return payload if cls is None else cls(payload)


TAGS = (QueryParamsTag, ImmutableMultiDictTag, MultiDictTag, FormDataTag, HeadersTag, MutableHeadersTag, URLTag)

