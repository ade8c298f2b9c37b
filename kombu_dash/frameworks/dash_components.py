"""What Dash stores besides AttributeDict: components (progress values, outputs) and
the ``no_update`` marker.

A component decodes only to a class this process already has: the wire's namespace and
type are looked up in a registry built from the loaded ``Component`` subclasses (importing
dash loads its own html, dcc and dash_table); nothing named in a message is imported.
"""

from __future__ import annotations

from typing import Any

from ..errors import DecodeError
from ._base import FrameworkTag, StandInDict, load_class, writable

_BASE = "dash.development.base_component"


def _component_classes() -> dict[tuple[str, str], type]:
    base = load_class(_BASE, "Component")
    found: dict[tuple[str, str], type] = {}
    todo = [base]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            ns, typ = getattr(sub, "_namespace", None), getattr(sub, "_type", None)
            if isinstance(ns, str) and isinstance(typ, str):
                found.setdefault((ns, typ), sub)
    return found


class ComponentTag(FrameworkTag):
    """``{"namespace": ..., "type": ..., "props": {...}}`` as in Dash's own JSON."""

    key = "dash.Component"
    module, name = _BASE, "Component"
    subclasses = True  # every component class is a subclass; each comes back as itself
    payload = dict

    def __init__(self) -> None:
        self._classes: dict[tuple[str, str], Any] = {}

    def to_json(self, value: Any) -> Any:
        as_json = value.to_plotly_json()
        return {
            "namespace": as_json["namespace"],
            "type": as_json["type"],
            "props": as_json["props"],
        }

    def to_python(self, payload: Any) -> Any:
        ns, typ, props = payload.get("namespace"), payload.get("type"), payload.get("props")
        if (
            not isinstance(ns, str)
            or not isinstance(typ, str)
            or type(props) is not dict
            or len(payload) != 3
        ):
            raise ValueError('expected {"namespace": str, "type": str, "props": {...}}')
        cls = self._lookup(ns, typ)
        if cls is None:
            raise DecodeError(
                f"no Dash component {ns}.{typ} is loaded in this process", tag=self.key
            )
        for prop in props:
            # the constructor checks names (its error is a TypeError); `_explicit_args` is
            # the one name it takes besides the props, and raises a bare Exception for
            if prop[:1] == "_":
                raise DecodeError(f"{ns}.{typ} has no prop {prop[:60]!r}", tag=self.key)
        writable(props, f"{ns}.{typ} props")
        return cls(**props)

    def _lookup(self, ns: str, typ: str) -> Any:
        cls = self._classes.get((ns, typ))
        if cls is None and self.load() is not None:
            self._classes = _component_classes()  # a component library loaded since
            cls = self._classes.get((ns, typ))
        return cls


class NoUpdateStandIn(StandInDict):
    """``dash.no_update`` decoded where Dash is missing: what Dash itself sends for it,
    ``{"_dash_no_update": "_dash_no_update"}``, written back as ``~dash.NoUpdate``."""

    __slots__ = ()


class NoUpdateTag(FrameworkTag):
    """``dash.no_update`` (a background callback may return it)."""

    key = "dash.NoUpdate"
    module, name = "dash._no_update", "NoUpdate"
    aliases = ("dash._callback:NoUpdate",)  # where dash before 4.x kept it
    stand_in = NoUpdateStandIn
    payload = dict

    def write(self, value: Any) -> Any:
        return {}

    def stand_in_payload(self, value: Any) -> Any:
        return {}

    def to_python(self, payload: Any) -> Any:
        if payload:
            raise ValueError("expected {}")
        cls = self.load() or load_class("dash._callback", "NoUpdate")
        if cls is None:
            return NoUpdateStandIn(_dash_no_update="_dash_no_update")
        return cls()


TAGS = (ComponentTag, NoUpdateTag)
