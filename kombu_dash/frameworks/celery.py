"""Celery's own values that travel inside task messages."""

from __future__ import annotations

from ..tags import Tag


class SignatureTag(Tag):
    """Canvas signatures (chain, group, chord callbacks) are dicts on the wire, as with
    Celery's json: the worker rebuilds them with ``signature()``. Subclasses included."""

    key = "celery.Signature"
    types = ("celery.canvas:Signature",)
    subclasses = True
    payload = dict
    plain = True  # written as a plain JSON object, without a tag

    def to_json(self, value):
        return dict(value)

    def to_python(self, payload):
        return payload


TAGS = (SignatureTag,)
