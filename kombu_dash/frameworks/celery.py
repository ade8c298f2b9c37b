"""Celery's own values that travel inside task messages."""

from __future__ import annotations

from typing import Any

from ..tags import Tag


class SignatureTag(Tag):
    """Canvas signatures (chain, group, chord callbacks) are dicts on the wire, as with
    Celery's json: the worker rebuilds them with ``signature()``. Subclasses included."""

    key = "celery.Signature"
    types = ("celery.canvas:Signature",)
    subclasses = True
    payload = dict
    plain = True  # written as a plain JSON object, without a tag

    def to_json(self, value: Any) -> dict[str, Any]:
        return dict(value)

    def to_python(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload


class RegenTag(Tag):
    """``celery.utils.functional._regen``: the task list of a group built from a generator,
    and the items of ``map``/``starmap``/``chunks`` given an iterator. A list subclass
    ("so that json can encode"), it is written as the list json writes; the worker rebuilds
    the group from it. Exactly this class: a user's list subclass is still refused."""

    key = "celery._regen"
    types = ("celery.utils.functional:_regen",)
    payload = list
    plain = True  # never on the wire as a tag: the reader gets the list

    def to_json(self, value: Any) -> list[Any]:
        return list(value)  # _regen caches what it consumes: iterating it again is safe

    def to_python(self, payload: list[Any]) -> list[Any]:
        return payload


TAGS = (SignatureTag, RegenTag)
