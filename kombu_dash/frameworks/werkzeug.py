"""werkzeug (Flask, Quart): request.args, request.form, request.values, headers.

werkzeug's ``[]`` gives the *first* value of a repeated key.
"""

from __future__ import annotations

from typing import Any

from ..budgets import check_hashes
from ..standins import Headers, MultiDict
from ._base import DictPayloadTag, PairsTag, load_class

_DS = "werkzeug.datastructures"


class MultiDictTag(PairsTag):
    key = "werkzeug.MultiDict"
    module, name = _DS, "MultiDict"
    takes_lists = True  # it groups values by key: the pairs themselves are not kept


class ImmutableMultiDictTag(MultiDictTag):
    key = "werkzeug.ImmutableMultiDict"
    name = "ImmutableMultiDict"


class CombinedMultiDictTag(PairsTag):
    """``request.values``: the list of multi-dicts it reads through, each tagged."""

    key = "werkzeug.CombinedMultiDict"
    module, name = _DS, "CombinedMultiDict"

    def write(self, value: Any) -> Any:
        return list(value.dicts)

    def to_python(self, payload: Any) -> Any:
        cls, base = self.load(), load_class(_DS, "MultiDict")
        if cls is not None:
            for d in payload:
                if not isinstance(d, base):
                    raise ValueError(f"expected werkzeug multi-dicts, got {type(d).__name__}")
            return cls(payload)
        merged = []
        for d in payload:
            if not isinstance(d, MultiDict):
                raise ValueError(f"expected multi-dicts, got {type(d).__name__}")
            merged.extend(d.items(multi=True))
        check_hashes([key for key, _ in merged], "dict", "key")  # each was checked alone
        # read-only, first value wins, written back as werkzeug's ImmutableMultiDict
        return MultiDict(merged, stand_in_for=ImmutableMultiDictTag.key)


class HeadersTag(PairsTag):
    """``EnvironHeaders`` (Flask's request.headers) is written as, and decoded to, Headers."""

    key = "werkzeug.Headers"
    module, name = _DS, "Headers"
    aliases = (f"{_DS}:EnvironHeaders",)
    stand_in = Headers
    strings = True  # werkzeug applies str() to header values
    takes_lists = True  # add() stores its own (key, value) tuples

    def items(self, value: Any) -> Any:
        return value.items()


class TypeConversionDictTag(DictPayloadTag):
    key = "werkzeug.TypeConversionDict"
    module, name = _DS, "TypeConversionDict"


class ImmutableTypeConversionDictTag(DictPayloadTag):
    key = "werkzeug.ImmutableTypeConversionDict"
    module, name = _DS, "ImmutableTypeConversionDict"


class ImmutableDictTag(DictPayloadTag):
    key = "werkzeug.ImmutableDict"
    module, name = _DS, "ImmutableDict"


TAGS = (
    MultiDictTag,
    ImmutableMultiDictTag,
    CombinedMultiDictTag,
    HeadersTag,
    TypeConversionDictTag,
    ImmutableTypeConversionDictTag,
    ImmutableDictTag,
)
