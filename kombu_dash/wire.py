"""The envelope: what a tagged value looks like on the wire. Every rule of the format is
written here once; the codec, both engines (the C one is handed these values when it is
built) and the diskcache binding read them from here.

A tagged value is a JSON object with exactly one member whose name starts with
:data:`PREFIX`: ``{"~tuple": [1, 2]}``. Every other JSON value is itself:

* strings, ``true``/``false``/``null``, objects with other member names, arrays;
* integers from :data:`INT_MIN` to :data:`INT_MAX` (what JSON libraries carry exactly);
  others travel as ``{"~int": "<digits>"}``;
* finite floats; NaN and the infinities travel as ``{"~float": "nan"}``;
* objects whose member names are all strings, except one-member objects whose name
  starts with the prefix: a dict that could read back as a tag, or one with keys JSON
  cannot hold, travels as ``{"~dict": [[key, value], ...]}`` (the escape).

Nesting is at most :data:`MAX_DEPTH` levels (a tag's object counts as a level), counted
as the value is written; a message is refused beyond it.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

__all__ = [
    "PREFIX",
    "INT_MIN",
    "INT_MAX",
    "MAX_DEPTH",
    "INT_TAG",
    "FLOAT_TAG",
    "DICT_TAG",
    "wire_key",
    "is_tag_key",
    "int_fits",
    "float_fits",
    "dict_fits",
    "dicts_fit",
    "could_hold_tag",
    "tag_bound",
]

#: what starts a tag's member name
PREFIX = "~"
#: integers written as JSON numbers: what orjson and most JSON libraries carry exactly
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
#: deepest nesting written or read; orjson refuses deeper values, so a message it
#: re-encodes is at most this deep
MAX_DEPTH = 254
# Tags chosen by value, not by class: a big int, a non-finite float, a dict the wire
# cannot hold as an object. The registry's tags of these keys write them.
INT_TAG, FLOAT_TAG, DICT_TAG = "int", "float", "dict"


def wire_key(tag_key: str) -> str:
    """The member name a tag is written under: ``"tuple"`` -> ``"~tuple"``."""
    return PREFIX + tag_key


def is_tag_key(name: str) -> bool:
    """Whether an object member name marks a tag (the object must have one member)."""
    return name[:1] == PREFIX


def int_fits(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def float_fits(value: float) -> bool:
    return value - value == 0.0  # finite (NaN - NaN and inf - inf are NaN)


_STR = frozenset((str,))


def dict_fits(value: dict[Any, Any]) -> bool:
    """Whether a dict is written as a JSON object (else it takes the escape)."""
    if not _STR.issuperset(map(type, value)):  # keys JSON objects cannot hold
        return False
    return len(value) != 1 or not is_tag_key(next(iter(value)))


def dicts_fit(values: list[dict[Any, Any]]) -> bool:
    """:func:`dict_fits` for many dicts at once, at C speed where none has one key."""
    return _STR.issuperset(map(type, chain.from_iterable(values))) and (
        1 not in map(len, values) or all(map(dict_fits, values))
    )


# A tag's name in JSON text: the quote opening a member name, then the prefix, either
# as itself or escaped (any JSON string may spell a character as \\uXXXX).
_OPEN, _OPEN_B = '"' + PREFIX, ('"' + PREFIX).encode()
_PREFIX_B = PREFIX.encode()
_ESCAPED = (f'"\\u{ord(PREFIX):04x}', f'"\\u{ord(PREFIX):04X}')
_ESCAPED_B = tuple(e.encode() for e in _ESCAPED)
# what both escapes start with (the case of the last hex digit aside)
_ANY_ESCAPE = _ESCAPED[0][:-1]
_ANY_ESCAPE_B = _ANY_ESCAPE.encode()


def could_hold_tag(text: str | bytes) -> bool:
    """False only if no member name in the JSON ``text`` can start with the prefix."""
    # the prefix alone first: one character is found at memchr speed, and most texts
    # have none (a quote then the prefix is a slower search, the quote being everywhere)
    if type(text) is str:
        return (PREFIX in text and _OPEN in text) or (
            "\\" in text and any(e in text for e in _ESCAPED)
        )
    data: bytes = text  # type: ignore[assignment]  # str is not @final: `is` cannot narrow
    return (_PREFIX_B in data and _OPEN_B in data) or (
        b"\\" in data and any(e in data for e in _ESCAPED_B)
    )


def tag_bound(text: str | bytes) -> float:
    """At least as many as the tags in ``text`` (strings that start with the prefix only
    make it looser); unbounded when names may be escaped."""
    if type(text) is str:
        return float("inf") if _ANY_ESCAPE in text else text.count(_OPEN)
    data: bytes = text  # type: ignore[assignment]
    return float("inf") if _ANY_ESCAPE_B in data else data.count(_OPEN_B)
