"""Django: ``request.GET`` / ``request.POST`` (QueryDict) and MultiValueDict.

Django's ``[]`` gives the *last* value of a repeated key. On the wire both are the
usual ``[[key, value], ...]`` pairs; a QueryDict's list starts with an options object
``{"mutable": bool, "encoding": str}`` (plus ``"empty"``: keys set to an empty list,
which pairs cannot show). A list of bare pairs (sent on by a kombu_dash.MultiDict
stand-in) decodes as an immutable UTF-8 QueryDict.

Building a QueryDict reads Django settings. In a process where Django is installed
but settings are not configured (no ``DJANGO_SETTINGS_MODULE``), a QueryDict decodes
to the same stand-in as where Django is missing, a :class:`QueryDictStandIn` (a
``kombu_dash.MultiDict`` with ``last=True`` that keeps the options: ``encoding``,
``mutable``, ``empty``) written back exactly as it arrived: a worker without settings
never rejects the task, and the next configured process gets the same QueryDict.

The encoding is one of :data:`ENCODINGS` (the message never chooses which codec
module Python imports); a QueryDict's keys and values are never bytes (Django would
decode them), so a message holding bytes there is refused.
"""

from __future__ import annotations

from typing import Any

from ..budgets import check_hashes
from ..errors import DecodeError, EncodeError
from ..standins import MultiDict
from ..tags import pair_list, pairs
from ._base import FrameworkTag, load_class

_OPTIONS = frozenset(("mutable", "encoding", "empty"))

#: QueryDict encodings carried (compared lower-case, ``_`` as ``-``): text codecs of the
#: web, each a fixed stdlib module; any other is refused both ways.
ENCODINGS = frozenset(
    """utf-8 utf8 utf-16 utf-16-le utf-16-be utf-32 ascii us-ascii latin-1 latin1 l1
    iso-8859-1 iso-8859-2 iso-8859-3 iso-8859-4 iso-8859-5 iso-8859-6 iso-8859-7 iso-8859-8
    iso-8859-9 iso-8859-10 iso-8859-13 iso-8859-14 iso-8859-15 iso-8859-16
    cp1250 cp1251 cp1252 cp1253 cp1254 cp1255 cp1256 cp1257 cp1258
    windows-1250 windows-1251 windows-1252 windows-1253 windows-1254 windows-1255
    windows-1256 windows-1257 windows-1258 koi8-r koi8-u mac-roman shift-jis sjis cp932
    euc-jp iso-2022-jp euc-kr cp949 gb2312 gbk gb18030 big5 big5hkscs""".split()
)


def known_encoding(name: object) -> bool:
    return type(name) is str and name.isascii() and name.lower().replace("_", "-") in ENCODINGS


def _django_pairs(value: Any) -> tuple[list[Any], list[Any]]:
    items, empty = [], []
    file_cls = load_class("django.core.files.base", "File")
    for key, values in value.lists():
        if not values:
            empty.append(key)
        for v in values:
            if file_cls is not None and isinstance(v, file_cls):
                raise EncodeError(
                    f"key {key!r} holds a {type(v).__qualname__} (request.FILES?): "
                    "read and send its content instead",
                    path=[key],
                )
            items.append((key, v))
    return pair_list(items), empty


def _split(
    payload: list[Any], allowed: frozenset[str] = _OPTIONS
) -> tuple[dict[str, Any] | None, list[tuple[Any, Any]]]:
    """``(options or None, pairs)`` from a payload with or without its options object."""
    if payload and type(payload[0]) is dict:
        options, rest = payload[0], payload[1:]
        if set(options) - allowed:
            raise ValueError(
                f"unknown options {sorted(set(options) - allowed)}; expected {sorted(allowed)}"
            )
    else:
        options, rest = None, payload
    return options, [tuple(p) for p in pairs(rest)]


def _check_keys(options: Any, empty: list[Any], items: list[tuple[Any, Any]]) -> None:
    """Hash flooding (kombu_dash.budgets): the keys as the dict behind a MultiValueDict
    receives them, the empty ones first; the error's path is the key's place in the payload."""
    try:
        check_hashes([*empty, *(key for key, _ in items)], "dict", "key")
    except DecodeError as exc:
        i = exc.path[0]
        start = 0 if options is None else 1  # the options object comes first
        exc.path[:1] = [0, "empty", i] if i < len(empty) else [start + i - len(empty), 0]
        raise


def _fill(target: Any, items: list[tuple[Any, Any]], empty: list[Any]) -> Any:
    for key in empty:
        target.setlist(key, [])
    for key, value in items:
        target.appendlist(key, value)
    return target


class MultiValueDictStandIn(MultiDict):
    """A Django value decoded where Django (or its settings) is missing: a MultiDict
    with Django's ``[]`` (last value) that keeps the options object it arrived with
    and is written back exactly as it arrived."""

    __slots__ = ("options",)

    def __init__(
        self,
        items: Any = (),
        *,
        options: dict[str, Any] | None = None,
        stand_in_for: str = "django.MultiValueDict",
    ) -> None:
        super().__init__(items, last=True, stand_in_for=stand_in_for)
        self.options = options

    @property
    def empty(self) -> list[Any]:
        """Keys Django held with an empty list of values."""
        return list((self.options or {}).get("empty", []))

    def __eq__(self, other: object) -> bool:
        same = super().__eq__(other)
        if same is True and isinstance(other, MultiValueDictStandIn):
            return self.options == other.options and self.stand_in_for == other.stand_in_for
        return same


class QueryDictStandIn(MultiValueDictStandIn):
    """As :class:`MultiValueDictStandIn`, with the QueryDict's ``encoding`` and
    ``mutable`` kept."""

    __slots__ = ()

    def __init__(self, items: Any = (), *, options: dict[str, Any] | None = None) -> None:
        super().__init__(items, options=options, stand_in_for="django.QueryDict")

    @property
    def encoding(self) -> str:
        return str((self.options or {}).get("encoding", "utf-8"))

    @property
    def mutable(self) -> bool:
        return bool((self.options or {}).get("mutable", False))


class _DjangoTag(FrameworkTag):
    def stand_in_payload(self, value: Any) -> Any:
        items = pair_list(value.items(multi=True))
        return items if value.options is None else [value.options, *items]


class MultiValueDictTag(_DjangoTag):
    key = "django.MultiValueDict"
    module, name = "django.utils.datastructures", "MultiValueDict"
    stand_in = MultiValueDictStandIn

    def write(self, value: Any) -> Any:
        items, empty = _django_pairs(value)
        return [{"empty": empty}, *items] if empty else items

    def to_python(self, payload: Any) -> Any:
        options, items = _split(payload, frozenset(("empty",)))
        empty = _keys((options or {}).get("empty", []))
        _check_keys(options, empty, items)
        cls = self.load()
        if cls is None:
            return MultiValueDictStandIn(items, options=options)
        return _fill(cls(), items, empty)


class QueryDictTag(_DjangoTag):
    key = "django.QueryDict"
    module, name = "django.http", "QueryDict"
    stand_in = QueryDictStandIn

    def write(self, value: Any) -> Any:
        if not known_encoding(value.encoding):
            raise EncodeError(
                f"QueryDict encoding {value.encoding!r:.40} is not one kombu_dash "
                "carries (kombu_dash.frameworks.django.ENCODINGS)"
            )
        items, empty = _django_pairs(value)
        options = {"mutable": bool(value._mutable), "encoding": value.encoding}
        if empty:
            options["empty"] = empty
        return [options, *items]

    def to_python(self, payload: Any) -> Any:
        options, items = _split(payload)
        given = options or {}
        mutable = given.get("mutable", False)
        encoding = given.get("encoding", "utf-8")
        empty = _keys(given.get("empty", []))
        if type(mutable) is not bool or type(encoding) is not str:
            raise ValueError('expected options {"mutable": bool, "encoding": str}')
        if not known_encoding(encoding):
            raise DecodeError(f"QueryDict encoding {encoding!r:.40} is not one kombu_dash carries")
        # Django decodes bytes with the encoding: a real QueryDict never holds any
        if any(isinstance(x, bytes) for x in (*empty, *(x for pair in items for x in pair))):
            raise DecodeError("a QueryDict holds no bytes (Django decodes them to text)")
        _check_keys(options, empty, items)
        cls = self.load()
        if cls is None or not _settings_ready():
            return QueryDictStandIn(items, options=options)
        # Built mutable, then frozen, as Django's own QueryDict.__init__ does.
        out = _fill(cls("", mutable=True, encoding=encoding), items, empty)
        out._mutable = mutable
        return out


def _keys(empty: Any) -> list[Any]:
    if type(empty) is not list:
        raise ValueError(f'"empty" must be a list of keys, got {type(empty).__name__}')
    return empty


def _settings_ready() -> bool:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        # Any setting access configures from DJANGO_SETTINGS_MODULE if it is set.
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS  # noqa: B018 - the access is the point
    except ImproperlyConfigured:
        return False
    except ImportError as exc:  # DJANGO_SETTINGS_MODULE names a module this process lacks
        raise DecodeError(
            f"~django.QueryDict: Django settings cannot be loaded here: {exc}"
        ) from exc
    return True


TAGS = (MultiValueDictTag, QueryDictTag)
