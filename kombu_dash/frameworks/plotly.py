"""plotly figures (``go.Figure``), as Dash outputs and diskcache values."""

from __future__ import annotations

from typing import Any

from ..wire import wire_key
from ._base import FrameworkTag, StandInDict, writable


def _name(key: object) -> str:
    return repr(key[:40] + "...") if isinstance(key, str) and len(key) > 40 else repr(key)


def _check_keys(where: str, obj: Any, allowed: Any, extra: Any = None) -> None:
    if type(obj) is not dict:
        raise ValueError(f"{where} must be an object, got {type(obj).__name__}")
    for key in obj:
        if key not in allowed and not (extra is not None and extra.fullmatch(key)):
            raise ValueError(f"{where} has no property {_name(key)}")


def _check_traces(where: str, traces: Any) -> None:
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


def _check_figure(payload: Any) -> None:
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
        _check_keys(
            f"frames[{i}].layout", frame.get("layout", {}), go.Layout._valid_props, layout_re
        )


class FigureStandIn(StandInDict):
    """A ``~plotly.Figure`` decoded where plotly is missing: its dict form (data,
    layout, frames), written back as the same figure."""

    __slots__ = ()


#: figures (and their frames) per message: each costs ~0.2 ms however small its payload
MAX_FIGURES = 1000


_ALWAYS = ("data", "layout")


class FigureTag(FrameworkTag):
    """The figure's own dict form (data, layout, frames); rebuilt with ``go.Figure``.

    Built without plotly's default template: a figure's ``to_dict()`` already holds the
    template it had (so the round trip is exact either way), and applying the default
    to a payload without one cost ~1 ms and 40 KB per figure."""

    key = "plotly.Figure"
    module, name = "plotly.graph_objs", "Figure"
    stand_in = FigureStandIn
    payload = dict
    costly = MAX_FIGURES

    def write(self, value: Any) -> Any:
        # to_dict() always lists "data" and "layout": empty ones are left out, so that a
        # figure decoded from {} is written back no deeper than it arrived (a message
        # at the nesting limit would otherwise decode and then fail to re-encode)
        return {k: v for k, v in value.to_dict().items() if v or k not in _ALWAYS}

    def cost(self, payload: Any) -> int:
        # each frame costs as much as a figure (its own Layout): ~0.13 ms for 12 bytes
        frames = payload.get("frames")
        return 1 + (len(frames) if type(frames) is list else 0)

    def to_python(self, payload: Any) -> Any:
        _check_keys("figure", payload, {"data", "layout", "frames"})
        writable(payload, wire_key(self.key))
        cls = self.load()
        if cls is None:
            return FigureStandIn(payload)
        _check_figure(payload)
        fig = cls.__new__(cls)
        # An instance attribute shadows the method for this one construction only:
        # no global template switch, so other threads' figures are untouched.
        fig._initialize_layout_template = _no_template
        try:
            cls.__init__(
                fig,
                payload.get("data"),
                payload.get("layout"),
                payload.get("frames"),
                _validate=False,
            )
        finally:
            del fig._initialize_layout_template
        return fig


def _no_template() -> None:
    return None


TAGS = (FigureTag,)
