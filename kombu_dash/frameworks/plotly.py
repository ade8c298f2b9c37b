"""plotly figures (``go.Figure``), as Dash outputs and diskcache values."""

from __future__ import annotations

from ..tags import Tag
from ._base import load_class


def _name(key) -> str:
    return repr(key[:40] + "...") if isinstance(key, str) and len(key) > 40 else repr(key)


def _check_keys(where: str, obj, allowed, extra=None) -> None:
    if type(obj) is not dict:
        raise ValueError(f"{where} must be an object, got {type(obj).__name__}")
    for key in obj:
        if key not in allowed and not (extra is not None and extra.fullmatch(key)):
            raise ValueError(f"{where} has no property {_name(key)}")


def _check_traces(where: str, traces) -> None:
    import plotly.graph_objects as go
    from plotly.validator_cache import ValidatorCache

    classes = ValidatorCache.get_validator("", "data").class_strs_map
    if type(traces) is not list:
        raise ValueError(f"{where} must be an array")
    for i, trace in enumerate(traces):
        kind = trace.get("type", "scatter") if type(trace) is dict else None
        if kind not in classes:
            raise ValueError(f"{where}[{i}] has no known trace type: {_name(kind)}")
        _check_keys(f"{where}[{i}] ({kind})", trace, getattr(go, classes[kind])._valid_props)


def _check_figure(payload) -> None:
    """Only known property names reach plotly: its error for an unknown name costs about
    0.35 ms of CPU per character (a long name in a message would hold a worker for minutes).
    Below the first level plotly is not asked to validate (``_validate=False``), so deeper
    names cost nothing; they were valid when the figure was written."""
    import plotly.graph_objects as go

    _check_keys("figure", payload, {"data", "layout", "frames"})
    _check_traces("data", payload.get("data", []))
    layout_re = getattr(go.Layout, "_subplotid_prop_re", None)
    _check_keys("layout", payload.get("layout", {}), go.Layout._valid_props, layout_re)
    frames = payload.get("frames", [])
    if type(frames) is not list:
        raise ValueError("frames must be an array")
    for i, frame in enumerate(frames):
        _check_keys(f"frames[{i}]", frame, go.Frame._valid_props)
        _check_traces(f"frames[{i}].data", frame.get("data", []))
        _check_keys(f"frames[{i}].layout", frame.get("layout", {}), go.Layout._valid_props, layout_re)


class FigureTag(Tag):
    """The figure's own dict form (data, layout, frames); rebuilt with ``go.Figure``."""

    key = "plotly.Figure"
    types = ("plotly.graph_objs._figure:Figure",)
    payload = dict

    def to_json(self, value):
        return value.to_dict()

    def to_python(self, payload):
        cls = load_class("plotly.graph_objs", "Figure")
        if cls is None:
            return payload
        _check_figure(payload)
        return cls(payload, _validate=False)


TAGS = (FigureTag,)
