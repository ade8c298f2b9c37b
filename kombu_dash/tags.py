"""Tags: how one Python type is written on the wire.

A tagged value is a JSON object with exactly one member whose name starts with
``~``: ``{"~tuple": [1, 2]}``. Every other object is a plain dict. A plain dict
that happens to have one member named ``~...`` is written with the ``~dict`` tag,
so any data round-trips unchanged and nothing depends on guessing.

Adding a type is one small class::

    import kombu_dash

    @kombu_dash.register_tag
    class MoneyTag(kombu_dash.Tag):
        key = "myapp.Money"          # on the wire: {"~myapp.Money": [...]}
        types = (Money,)             # or "myapp.money:Money", resolved lazily
        payload = list               # the JSON shape to_python receives

        def to_json(self, value):    # made of JSON-able values; encoded recursively
            return [value.amount, value.currency]

        def to_python(self, payload):  # payload already decoded
            amount, currency = payload
            return Money(amount, currency)

Decoding only ever looks a tag up in the registry: no name in a message is
imported, called or looked up as an attribute.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import functools
import re
import signal
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar, cast

from . import wire
from .budgets import check_hashes, check_keys
from .errors import ERROR_MAX_ELEMENT, DecodeError, EncodeError, KombuDashError
from .printing import bounded_repr

__all__ = ["Tag", "BUILTIN_TAGS", "pairs", "COUNTER_MIN", "COUNTER_MAX"]


class Tag:
    """Base class for a type's wire form. Subclass it and register the subclass."""

    #: wire name after the ``~``; stable, never a Python import path
    key: ClassVar[str] = ""
    #: classes this tag writes: class objects or ``"module:QualName"`` strings,
    #: resolved only once the module is already imported (no import on encode)
    types: ClassVar[tuple[type | str, ...]] = ()
    #: also write subclasses of ``types`` (they come back as the base class)
    subclasses: ClassVar[bool] = False
    #: the JSON type the payload must have once decoded (list, str, dict, int)
    payload: ClassVar[type] = list
    #: write the payload itself, untagged (it then decodes as plain JSON data)
    plain: ClassVar[bool] = False
    #: the payload is ``[[key, value], ...]``: error paths then name the key
    pair_payload: ClassVar[bool] = False
    #: the payload is a list whose order does not matter for equality (a set's members,
    #: a dict's pairs): diskcache's keys sort it, so equal values find the same entry
    unordered: ClassVar[bool] = False
    #: a fixed cost per value, not proportional to its payload (a plotly figure): when
    #: set, a message whose costly values add up to more than this is a DecodeError
    costly: ClassVar[int] = 0

    def cost(self, payload: Any) -> int:
        """How many fixed costs building this payload takes (for ``costly`` tags)."""
        return 1

    def key_for(self, value: Any) -> str:
        """The wire key for this value; a stand-in keeps the tag it stands in for."""
        return self.key

    def to_json(self, value: Any) -> Any:
        """The payload for ``value``: JSON data, or values the codec encodes in turn (a
        payload may hold tuples, dates, other tagged values). Raise
        :class:`~kombu_dash.EncodeError` for a value that cannot travel."""
        raise NotImplementedError

    def to_python(self, payload: Any) -> Any:
        """The value for ``payload``, already decoded and of the JSON type ``payload``
        names. An exception raised on a payload of the wrong shape becomes a
        :class:`~kombu_dash.DecodeError` naming the tag and the path, with it as cause."""
        raise NotImplementedError

    # The single call each engine makes per value of a class (or tag) met before, kept in
    # the codec's tables: by default the methods themselves, or a builtin that does the
    # same (list for a tuple), so that no Python frame runs per value.

    def fast_write(self, cls: type) -> Callable[[Any], Any] | None:
        """A callable the engines may call instead of :meth:`to_json` for values of
        exactly ``cls`` (default: ``to_json`` itself); None to go through the registry
        every time. It must return what ``to_json`` returns; if it raises, ``to_json``
        is called and its error reported."""
        return self.to_json

    def fast_read(self) -> Callable[[Any], Any] | None:
        """A callable the engines may call instead of :meth:`to_python` for a payload of
        the type ``payload`` names (default: ``to_python`` itself); None to go through
        the registry every time. Same contract as :meth:`fast_write`. Not used for
        ``costly`` tags, whose budget the registry counts."""
        return self.to_python

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ~{self.key}>"


_LISTS, _TWO = frozenset((list,)), frozenset((2,))


def pairs(payload: Any) -> list[list[Any]]:
    """Validate a ``[[key, value], ...]`` payload, the wire form of every multi-dict."""
    if _LISTS.issuperset(map(type, payload)) and _TWO.issuperset(map(len, payload)):
        # checked at C speed; the loop below only says what is wrong
        return cast("list[list[Any]]", payload)
    for item in payload:
        if type(item) is not list or len(item) != 2:
            raise ValueError(f"expected [key, value] pairs, got {type(item).__name__} {item!r:.60}")
    return cast("list[list[Any]]", payload)


def pair_list(items: Iterable[Iterable[Any]]) -> list[list[Any]]:
    # Lists, not tuples: a tuple in a payload would itself be tagged.
    return list(map(list, items))  # items are (key, value) pairs


# -- containers JSON flattens or refuses ------------------------------------------


class TupleTag(Tag):
    key = "tuple"
    types = (tuple,)

    def to_json(self, value: tuple[Any, ...]) -> list[Any]:
        return list(value)

    def to_python(self, payload: list[Any]) -> tuple[Any, ...]:
        return tuple(payload)

    def fast_write(self, cls: type) -> Callable[[Any], Any]:
        return list

    def fast_read(self) -> Callable[[Any], Any]:
        return tuple


class SetTag(Tag):
    key = "set"
    unordered = True
    types: ClassVar[tuple[type | str, ...]] = (set,)

    def to_json(self, value: set[Any] | frozenset[Any]) -> list[Any]:
        return list(value)

    def to_python(self, payload: list[Any]) -> set[Any] | frozenset[Any]:
        check_hashes(payload, "set")  # before any hashing: docs/security.rst
        return set(payload)

    def fast_write(self, cls: type) -> Callable[[Any], Any]:
        return list


class FrozenSetTag(SetTag):
    key = "frozenset"
    types = (frozenset,)

    def to_python(self, payload: list[Any]) -> frozenset[Any]:
        check_hashes(payload, "set")
        return frozenset(payload)


class DictTag(Tag):
    """Dicts JSON objects cannot hold: non-str keys, or one ``~`` key (the escape)."""

    key = wire.DICT_TAG
    unordered = True
    # chosen by the codec for such dicts, never by class
    types: ClassVar[tuple[type | str, ...]] = ()
    pair_payload = True

    def to_json(self, value: dict[Any, Any]) -> list[list[Any]]:
        return pair_list(value.items())

    def to_python(self, payload: list[Any]) -> dict[Any, Any]:
        check_keys(pairs(payload))
        return dict(payload)


class OrderedDictTag(DictTag):
    key = "OrderedDict"
    unordered = False  # OrderedDicts compare in order
    types = (OrderedDict,)

    def to_python(self, payload: list[Any]) -> OrderedDict[Any, Any]:
        check_keys(pairs(payload))
        return OrderedDict(payload)


# A Counter's counts (docs/security.rst, "Decode budgets"): integers a signed 64-bit
# integer holds, as tallies are kept everywhere else; not floats, booleans or other values,
# on which Counter's arithmetic and elements() break. No lower bound: a worker's stats
# count its tasks without limit, and elements() yields total() items whatever bound.
COUNTER_MIN, COUNTER_MAX = -(2**63), 2**63 - 1
_INT = frozenset((int,))


def _count_problem(counts: dict[Any, Any]) -> tuple[Any, str] | None:
    """The key of a count a Counter may not travel with, and why; None if all are fine."""
    values = counts.values()
    if _INT.issuperset(map(type, values)) and (
        not counts or COUNTER_MIN <= min(values) and max(values) <= COUNTER_MAX
    ):
        return None
    for key, count in counts.items():  # says which
        if type(count) is not int:
            return key, f"a count is an integer, not {type(count).__name__}"
        if not COUNTER_MIN <= count <= COUNTER_MAX:
            return key, "a count is within -2**63..2**63-1"
    return None  # pragma: no cover - the check above found one


class CounterTag(Tag):
    """``collections.Counter`` (a worker's ``inspect stats`` reply holds one, ``total``): a JSON
    object of counts; keys an object cannot hold make the payload a ``~dict``. Counts are
    integers within ``COUNTER_MIN..COUNTER_MAX``; send ``dict(c)`` for any other values."""

    key = "Counter"
    types = (Counter,)
    payload = dict

    def to_json(self, value: Counter[Any]) -> dict[Any, Any]:
        counts = dict(value)
        problem = _count_problem(counts)
        if problem:
            raise EncodeError(
                f"Counter not carried: {problem[1]} (send dict(c))", path=[problem[0]]
            )
        return counts

    def to_python(self, payload: dict[Any, Any]) -> Counter[Any]:
        problem = _count_problem(payload)
        if problem:
            raise DecodeError(f"~Counter payload: {problem[1]}", path=[problem[0]])
        return Counter(payload)


class SignalsTag(Tag):
    """``signal.Signals`` members (Celery's ``task-revoked`` event carries one as ``signum``):
    written as the plain int json writes, because a number this OS names may have no name
    where it is read (a monitor on another OS)."""

    key = "signal.Signals"
    types = (signal.Signals,)
    payload = int
    plain = True  # never on the wire as a tag: the reader gets the int

    def to_json(self, value: signal.Signals) -> int:
        return int(value)

    def to_python(self, payload: int) -> int:
        return payload


# -- scalars JSON has no type for ----------------------------------------------------


class BytesTag(Tag):
    key = "bytes"
    types: ClassVar[tuple[type | str, ...]] = (bytes,)
    payload = str

    def to_json(self, value: bytes | bytearray) -> str:
        return base64.b64encode(value).decode("ascii")

    def to_python(self, payload: str) -> bytes | bytearray:
        try:
            return base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"invalid base64: {exc}") from None


class ByteArrayTag(BytesTag):
    key = "bytearray"
    types = (bytearray,)

    def to_python(self, payload: str) -> bytearray:
        return bytearray(super().to_python(payload))


class FloatTag(Tag):
    """NaN and the infinities: JSON has no literal for them (orjson writes null)."""

    key = wire.FLOAT_TAG
    types = ()  # chosen by the codec for non-finite floats
    payload = str
    _VALUES = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

    def to_json(self, value: float) -> str:
        return "nan" if value != value else ("inf" if value > 0 else "-inf")

    def to_python(self, payload: str) -> float:
        try:
            return self._VALUES[payload]
        except KeyError:
            raise ValueError(f"expected 'nan', 'inf' or '-inf', got {payload!r:.40}") from None


class IntTag(Tag):
    """Integers beyond 64 bits, which JSON parsers disagree on."""

    key = wire.INT_TAG
    types = ()  # chosen by the codec for out-of-range ints
    payload = str

    def to_json(self, value: int) -> str:
        return str(value)

    def to_python(self, payload: str) -> int:
        if not payload.lstrip("-").isdigit() or not payload.isascii():
            raise ValueError(f"expected decimal digits, got {payload!r:.40}")
        value = int(payload)  # Python's own digit limit bounds the work
        if wire.int_fits(value):
            raise ValueError("64-bit integers are written as JSON numbers")
        return value


# Decode budget for ~decimal (docs/security.rst "Decode budgets"): Python's own limit on
# int <-> str conversions (sys.int_info.default_max_str_digits), for the text and for the
# exponent, so that int(d) and f"{d:f}" on a decoded value stay within ~8,600 digits
# (1e300000000 is 26 bytes; f"{d:f}" would build 300 MB and int(d) never ends).
DECIMAL_MAX_CHARS = 4300
DECIMAL_MAX_EXPONENT = 4300
# The forms str(Decimal) and other languages write; not the spaces and underscores
# decimal.Decimal() also accepts.
_DECIMAL_TEXT = re.compile(
    r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|s?nan\d*)", re.IGNORECASE
)


def _decimal_problem(value: decimal.Decimal) -> str | None:
    """Why ``value`` may not travel, or None: a signalling NaN breaks hashing, comparison
    and printing (in a pandas Series too); a huge exponent breaks ``int()`` and ``:f``."""
    if value.is_snan():
        return "a signalling NaN (sNaN) cannot be hashed or compared"
    exponent = value.as_tuple().exponent
    if type(exponent) is int and abs(exponent) > DECIMAL_MAX_EXPONENT:
        return f"exponent {exponent} beyond +-{DECIMAL_MAX_EXPONENT}"
    return None


class DecimalTag(Tag):
    key = "decimal"
    types = (decimal.Decimal,)
    payload = str

    def to_json(self, value: decimal.Decimal) -> str:
        problem = _decimal_problem(value)
        if problem:
            raise EncodeError(f"Decimal not carried: {problem}")
        return str(value)

    def to_python(self, payload: str) -> decimal.Decimal:
        if len(payload) > DECIMAL_MAX_CHARS:
            raise ValueError(f"decimal longer than {DECIMAL_MAX_CHARS} characters")
        if not _DECIMAL_TEXT.fullmatch(payload):
            raise ValueError(f"not a decimal: {payload!r:.40}")
        try:
            value = decimal.Decimal(payload)
        except decimal.InvalidOperation:
            raise ValueError(f"not a decimal: {payload!r:.40}") from None
        problem = _decimal_problem(value)
        if problem:
            raise ValueError(f"decimal refused: {problem}")
        return value


class UUIDTag(Tag):
    key = "uuid"
    types = (uuid.UUID,)
    payload = str

    def to_json(self, value: uuid.UUID) -> str:
        return str(value)

    def to_python(self, payload: str) -> uuid.UUID:
        return uuid.UUID(payload)


# -- dates and times -----------------------------------------------------------------


_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{6}))?)?$")
# Exactly what isoformat() writes: fromisoformat() alone also reads "Z", week dates and
# compact forms (3.11+), so "...Z+02:00" would decode with its zone replaced.
_ISO_TIME = r"\d\d:\d\d:\d\d(?:\.\d{6})?(?:[+-]\d\d:\d\d(?::\d\d(?:\.\d{6})?)?)?"
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT" + _ISO_TIME)
_ISO_TIME_ONLY = re.compile(_ISO_TIME)


def _strict(pattern: re.Pattern[str], text: str, what: str) -> str:
    if not pattern.fullmatch(text):
        raise ValueError(f"expected an ISO 8601 {what} as isoformat() writes it, got {text!r:.60}")
    return text


_TimeT = TypeVar("_TimeT", dt.datetime, dt.time)


def _from_iso(cls: type[_TimeT], text: str) -> _TimeT:
    """``cls.fromisoformat`` with the UTC offset read here: Python 3.11 drops an
    offset's microseconds, and 3.10 reads no seconds in it."""
    m = _OFFSET.search(text)
    if m is None:
        return cls.fromisoformat(text)
    sign, hours, minutes, seconds, micros = m.groups()
    offset = dt.timedelta(
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int(micros or 0),
    )
    tz = dt.timezone(-offset if sign == "-" else offset)
    return cls.fromisoformat(text[: m.start()]).replace(tzinfo=tz)


@functools.lru_cache(maxsize=1)
def _zone_keys() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def known_zone(key: str) -> bool:
    """Whether ``key`` names a zone the system lists; checked before any zone is built
    from text, so a message never names a file to open (also used by the pandas tags)."""
    # available_timezones() leaves out the "posix/" and "right/" copies of each zone
    keys = _zone_keys()
    return key in keys or (key.startswith(("posix/", "right/")) and key.split("/", 1)[1] in keys)


def _zone_key(tzinfo: dt.tzinfo | None) -> str | None:
    """The IANA key of a zoneinfo zone; ``None`` for a fixed-offset ``timezone``."""
    if tzinfo is None or type(tzinfo) is dt.timezone:
        return None
    key = getattr(tzinfo, "key", None)
    if type(tzinfo).__name__ == "ZoneInfo" and isinstance(key, str):
        return key
    raise EncodeError(
        "cannot write a datetime whose tzinfo is "
        f"{type(tzinfo).__module__}.{type(tzinfo).__qualname__}: "
        "only datetime.timezone and zoneinfo.ZoneInfo keep their meaning; "
        "convert with .astimezone(zoneinfo.ZoneInfo(...)) first"
    )


class DateTimeTag(Tag):
    """ISO 8601, microseconds kept; a zoneinfo zone follows in brackets (RFC 9557):
    ``2024-03-31T02:30:00+02:00[Europe/Paris]``."""

    key = "datetime"
    types = (dt.datetime,)
    payload = str

    def to_json(self, value: dt.datetime) -> str:
        text = value.isoformat()
        zone = _zone_key(value.tzinfo)
        return f"{text}[{zone}]" if zone else text

    def to_python(self, payload: str) -> dt.datetime:
        text, _, zone = payload.partition("[")
        value = _from_iso(dt.datetime, _strict(_ISO_DATETIME, text, "datetime"))
        if not zone:
            return value
        import zoneinfo

        if not zone.endswith("]") or value.tzinfo is None:
            raise ValueError(f"bad zone suffix in {payload!r:.60}")
        # Only keys the system lists: on Python 3.10 ZoneInfo opens files named by the key.
        if not known_zone(zone[:-1]):
            raise ValueError(f"unknown time zone {zone[:-1]!r:.40}")
        tz = zoneinfo.ZoneInfo(zone[:-1])
        offset = value.utcoffset()
        local = value.replace(tzinfo=tz)
        if local.utcoffset() != offset:  # the second of two ambiguous wall times
            local = local.replace(fold=1)
        if local.utcoffset() != offset:
            raise ValueError(f"offset {offset} does not exist in zone {zone[:-1]}")
        return local


class DateTag(Tag):
    key = "date"
    types = (dt.date,)
    payload = str

    def to_json(self, value: dt.date) -> str:
        return value.isoformat()

    def to_python(self, payload: str) -> dt.date:
        return dt.date.fromisoformat(_strict(_ISO_DATE, payload, "date"))


class TimeTag(Tag):
    key = "time"
    types = (dt.time,)
    payload = str

    def to_json(self, value: dt.time) -> str:
        if value.tzinfo is not None and type(value.tzinfo) is not dt.timezone:
            raise EncodeError("a time's tzinfo must be a fixed datetime.timezone")
        return value.isoformat()

    def to_python(self, payload: str) -> dt.time:
        return _from_iso(dt.time, _strict(_ISO_TIME_ONLY, payload, "time"))


class TimeDeltaTag(Tag):
    """``[days, seconds, microseconds]``: exact, unlike a float of seconds."""

    key = "timedelta"
    types = (dt.timedelta,)

    def to_json(self, value: dt.timedelta) -> list[int]:
        return [value.days, value.seconds, value.microseconds]

    def to_python(self, payload: list[Any]) -> dt.timedelta:
        days, seconds, micros = payload
        # as timedelta stores them: [0, 90000, 0] would be quietly renormalised
        if not all(type(x) is int for x in payload) or not (
            0 <= seconds < 86400 and 0 <= micros < 1_000_000
        ):
            raise ValueError("expected [days, 0 <= seconds < 86400, 0 <= microseconds < 10**6]")
        return dt.timedelta(days=days, seconds=seconds, microseconds=micros)


# -- kombu_dash's own errors ---------------------------------------------------------


class KombuDashErrorTag(Tag):
    """kombu_dash's errors, with their path. Celery stores a failed task's exception by its
    args: a result that failed to encode on the worker reaches the client as
    ``kombu.exceptions.EncodeError(<this error>)``, whose text ends with the path.

    The payload is exactly ``{"kind", "message", "root", "path", "tag"}``: ``kind`` one of
    the three classes, ``message`` and ``root`` strings, ``tag`` a string or null, ``path``
    a list of JSON scalars (a key that is not one, a tuple, travels as its repr)."""

    key = "kombu_dash.Error"
    types = (KombuDashError, EncodeError, DecodeError)
    payload = dict
    _KINDS: ClassVar[dict[str, type[KombuDashError]]] = {c.__name__: c for c in types}
    _FIELDS = frozenset(("kind", "message", "root", "path", "tag"))

    def to_json(self, value: KombuDashError) -> dict[str, Any]:
        return {
            "kind": type(value).__name__,
            "message": value.message,
            "root": value.root,
            "path": [
                p if type(p) in _PATH_TYPES else bounded_repr(p, ERROR_MAX_ELEMENT)
                for p in value.path
            ],
            "tag": value.tag,
        }

    def to_python(self, payload: dict[str, Any]) -> KombuDashError:
        if payload.keys() != self._FIELDS:
            raise ValueError(f"expected exactly the keys {sorted(self._FIELDS)}")
        kind, message, root = payload["kind"], payload["message"], payload["root"]
        path, tag = payload["path"], payload["tag"]
        if type(message) is not str or type(root) is not str or type(path) is not list:
            raise ValueError("expected message and root strings and a path array")
        if tag is not None and type(tag) is not str:
            raise ValueError("expected a tag string or null")
        if not _PATH_TYPES.issuperset(map(type, path)):
            raise ValueError("path elements are strings, numbers, booleans or null")
        if type(kind) is not str or kind not in self._KINDS:
            raise ValueError(f"kind is one of {sorted(self._KINDS)}")
        return self._KINDS[kind](message, path=path, tag=tag, root=root)


_PATH_TYPES = frozenset((str, int, float, bool, type(None)))


BUILTIN_TAGS = (
    TupleTag,
    SetTag,
    FrozenSetTag,
    DictTag,
    OrderedDictTag,
    CounterTag,
    SignalsTag,
    BytesTag,
    ByteArrayTag,
    FloatTag,
    IntTag,
    DecimalTag,
    UUIDTag,
    DateTimeTag,
    DateTag,
    TimeTag,
    TimeDeltaTag,
    KombuDashErrorTag,
)
