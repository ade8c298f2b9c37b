"""Django: ``request.GET`` / ``request.POST`` (QueryDict) and MultiValueDict.

Django's ``[]`` gives the *last* value of a repeated key. On the wire both are the
usual ``[[key, value], ...]`` pairs; a QueryDict's list starts with an options object
``{"mutable": bool, "encoding": str}`` (plus ``"empty"``: keys set to an empty list,
which pairs cannot show). A list of bare pairs (sent on by a kombu_dash.MultiDict
stand-in) decodes as an immutable UTF-8 QueryDict.

Building a QueryDict reads Django settings. In a process where Django is installed
but settings are not configured (no ``DJANGO_SETTINGS_MODULE``), a QueryDict decodes
to the same stand-in as where Django is missing, a ``kombu_dash.MultiDict`` with
``last=True`` that is written back as ``~django.QueryDict``: a worker without
settings never rejects the task, and the next configured process gets a QueryDict.
"""

from __future__ import annotations

from ..errors import DecodeError, EncodeError
from ..standins import MultiDict
from ..tags import Tag, pair_list, pairs
from ._base import load_class

_MVD = ("django.utils.datastructures", "MultiValueDict")
_QD = ("django.http", "QueryDict")
_OPTIONS = frozenset(("mutable", "encoding", "empty"))


def _django_pairs(value):
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


def _split(payload):
    """``(options, pairs)`` from a payload with or without its leading options object."""
    if payload and type(payload[0]) is dict:
        options, rest = payload[0], payload[1:]
        if set(options) - _OPTIONS:
            raise ValueError(f"unknown options {sorted(set(options) - _OPTIONS)}; expected {sorted(_OPTIONS)}")
    else:
        options, rest = {}, payload
    return options, [tuple(p) for p in pairs(rest)]


def _fill(target, items, empty):
    for key in empty:
        target.setlist(key, [])
    for key, value in items:
        target.appendlist(key, value)
    return target


class MultiValueDictTag(Tag):
    key = "django.MultiValueDict"
    types = (f"{_MVD[0]}:{_MVD[1]}",)

    def to_json(self, value):
        items, empty = _django_pairs(value)
        return [{"empty": empty}, *items] if empty else items

    def to_python(self, payload):
        options, items = _split(payload)
        empty = _keys(options.get("empty", []))
        cls = load_class(*_MVD)
        if cls is None:
            return MultiDict(items, last=True, origin=self.key)
        return _fill(cls(), items, empty)


class QueryDictTag(Tag):
    key = "django.QueryDict"
    types = (f"{_QD[0]}:{_QD[1]}",)

    def to_json(self, value):
        items, empty = _django_pairs(value)
        options = {"mutable": bool(value._mutable), "encoding": value.encoding}
        if empty:
            options["empty"] = empty
        return [options, *items]

    def to_python(self, payload):
        options, items = _split(payload)
        mutable = options.get("mutable", False)
        encoding = options.get("encoding", "utf-8")
        empty = _keys(options.get("empty", []))
        if type(mutable) is not bool or type(encoding) is not str:
            raise ValueError('expected options {"mutable": bool, "encoding": str}')
        cls = load_class(*_QD)
        if cls is None or not _settings_ready():
            return MultiDict(items, last=True, origin=self.key)
        # Built mutable, then frozen, as Django's own QueryDict.__init__ does.
        out = _fill(cls("", mutable=True, encoding=encoding), items, empty)
        out._mutable = mutable
        return out


def _keys(empty):
    if type(empty) is not list:
        raise ValueError(f'"empty" must be a list of keys, got {type(empty).__name__}')
    return empty


def _settings_ready() -> bool:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        # Any setting access configures from DJANGO_SETTINGS_MODULE if it is set.
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    except ImproperlyConfigured:
        return False
    except ImportError as exc:  # DJANGO_SETTINGS_MODULE names a module this process lacks
        raise DecodeError(f"~django.QueryDict: Django settings cannot be loaded here: {exc}") from exc
    return True


TAGS = (MultiValueDictTag, QueryDictTag)
