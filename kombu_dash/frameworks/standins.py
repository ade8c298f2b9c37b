"""kombu_dash's own stand-ins, sent on from a process that lacked the framework."""

from __future__ import annotations

from typing import Any

from ..budgets import check_keys
from ..errors import DecodeError
from ..standins import Headers, MultiDict
from ..tags import Tag, pair_list, pairs


class MultiDictTag(Tag):
    """A stand-in decoded from a framework's tag is written back under that tag
    (``stand_in_for``), so the next process with the framework gets the original class."""

    key = "kombu_dash.MultiDict"
    types = (MultiDict,)
    payload = dict

    def key_for(self, value: MultiDict) -> str:
        return value.stand_in_for or self.key

    def to_json(self, value: MultiDict) -> Any:
        items = pair_list(value.items(multi=True))
        return items if value.stand_in_for else {"items": items, "last": value.last}

    def to_python(self, payload: Any) -> MultiDict:
        last = payload.get("last", False)
        if type(last) is not bool or set(payload) - {"items", "last"}:
            raise ValueError('expected {"items": [[key, value], ...], "last": bool}')
        items = pairs(payload["items"])
        try:
            check_keys(items)
        except DecodeError as exc:
            raise exc._prepend("items") from None
        return MultiDict([tuple(p) for p in items], last=last)


class HeadersTag(Tag):
    key = "kombu_dash.Headers"
    types = (Headers,)
    pair_payload = True

    def key_for(self, value: Headers) -> str:
        return value.stand_in_for or self.key

    def to_json(self, value: Headers) -> Any:
        return pair_list(value.items(multi=True))

    def to_python(self, payload: Any) -> Headers:
        check_keys(pairs(payload))
        return Headers([tuple(p) for p in payload])


TAGS = (MultiDictTag, HeadersTag)
