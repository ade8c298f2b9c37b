"""What Dash stores besides AttributeDict: components (progress values, outputs) and
the ``no_update`` marker.

A component decodes only to a class this process already has: the wire's namespace and
type are looked up in a registry built from the loaded ``Component`` subclasses (importing
dash loads its own html, dcc and dash_table); nothing named in a message is imported.
"""

from __future__ import annotations

from ..errors import DecodeError
from ..tags import Tag
from ._base import load_class

_BASE = "dash.development.base_component"


def _component_classes():
    base = load_class(_BASE, "Component")
    found, todo = {}, [base]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            ns, typ = getattr(sub, "_namespace", None), getattr(sub, "_type", None)
            if isinstance(ns, str) and isinstance(typ, str):
                found.setdefault((ns, typ), sub)
    return found


class ComponentTag(Tag):
    """``{"namespace": ..., "type": ..., "props": {...}}`` as in Dash's own JSON."""

    key = "dash.Component"
    types = (f"{_BASE}:Component",)
    subclasses = True  # every component class is a subclass; each comes back as itself
    payload = dict

    def __init__(self):
        self._classes = {}

    def to_json(self, value):
        as_json = value.to_plotly_json()
        return {"namespace": as_json["namespace"], "type": as_json["type"], "props": as_json["props"]}

    def to_python(self, payload):
        ns, typ, props = payload.get("namespace"), payload.get("type"), payload.get("props")
        if not isinstance(ns, str) or not isinstance(typ, str) or type(props) is not dict or len(payload) != 3:
            raise ValueError('expected {"namespace": str, "type": str, "props": {...}}')
        cls = self._lookup(ns, typ)
        if cls is None:
            raise DecodeError(f"no Dash component {ns}.{typ} is loaded in this process", tag=self.key)
        return cls(**props)

    def _lookup(self, ns, typ):
        cls = self._classes.get((ns, typ))
        if cls is None and load_class(_BASE, "Component") is not None:
            self._classes = _component_classes()  # a component library loaded since
            cls = self._classes.get((ns, typ))
        return cls


class NoUpdateTag(Tag):
    """``dash.no_update`` (a background callback may return it)."""

    key = "dash.NoUpdate"
    types = ("dash._no_update:NoUpdate", "dash._callback:NoUpdate")
    payload = dict

    def to_json(self, value):
        return {}

    def to_python(self, payload):
        if payload:
            raise ValueError("expected {}")
        cls = load_class("dash._no_update", "NoUpdate") or load_class("dash._callback", "NoUpdate")
        if cls is None:
            return {"_dash_no_update": "_dash_no_update"}  # what Dash itself sends
        return cls()


TAGS = (ComponentTag, NoUpdateTag)
