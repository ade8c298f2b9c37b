"""kombu_dash's own stand-ins, sent on from a process that lacked the framework."""

from __future__ import annotations

from ..standins import Headers, MultiDict
from ..tags import Tag, pair_list, pairs


class MultiDictTag(Tag):
    """A stand-in decoded from a framework's tag is written back under that tag
    (``origin``), so the next process with the framework gets the original class."""

    key = "kombu_dash.MultiDict"
    types = (MultiDict,)
    payload = dict

    def key_for(self, value):
        return value.origin or self.key

    def to_json(self, value):
        items = pair_list(value.items(multi=True))
        return items if value.origin else {"items": items, "last": value.last}

    def to_python(self, payload):
        last = payload.get("last", False)
        if type(last) is not bool or set(payload) - {"items", "last"}:
            raise ValueError('expected {"items": [[key, value], ...], "last": bool}')
        return MultiDict([tuple(p) for p in pairs(payload["items"])], last=last)


class HeadersTag(Tag):
    key = "kombu_dash.Headers"
    types = (Headers,)
    pair_payload = True

    def key_for(self, value):
        return value.origin or self.key

    def to_json(self, value):
        return pair_list(value.items(multi=True))

    def to_python(self, payload):
        return Headers([tuple(p) for p in pairs(payload)])


TAGS = (MultiDictTag, HeadersTag)
