"""plotly figures (``go.Figure``), as Dash outputs and diskcache values."""

from __future__ import annotations

from ..tags import Tag
from ._base import load_class


class FigureTag(Tag):
    """The figure's own dict form (data, layout, frames); rebuilt with ``go.Figure``."""

    key = "plotly.Figure"
    types = ("plotly.graph_objs._figure:Figure",)
    payload = dict

    def to_json(self, value):
        return value.to_dict()

    def to_python(self, payload):
        cls = load_class("plotly.graph_objs", "Figure")
        return payload if cls is None else cls(payload)


TAGS = (FigureTag,)
