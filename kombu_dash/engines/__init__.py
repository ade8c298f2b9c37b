"""Which codec engine and JSON backend this process uses, chosen once at import.

``kombu_dash.engine_info()`` says which: the C engine (``kombu_dash._speedups``, built with
the wheel) or the pure-Python one, and orjson or the standard library's json module.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["EngineInfo", "engine_info"]


class EngineInfo(NamedTuple):
    """What :func:`kombu_dash.engine_info` returns (also reported per worker by ``check``)."""

    #: kombu_dash's version
    version: str
    #: ``"c"`` (the accelerator) or ``"python"``
    engine: str
    #: ``"orjson"`` or ``"json"`` (the standard library)
    json: str
    #: the JSON backend's version (Python's version for the standard library)
    json_version: str

    def __str__(self) -> str:
        engine = "C engine" if self.engine == "c" else "Python engine"
        return f"kombu_dash {self.version} ({engine}, {self.json} {self.json_version})"


def engine_info() -> EngineInfo:
    """The engine and JSON backend the default codec uses in this process."""
    import platform

    from .. import __version__, _fastpath, _json

    backend = _json.orjson
    return EngineInfo(
        version=__version__,
        engine="c" if _fastpath.SPEEDUPS is not None else "python",
        json="orjson" if backend is not None else "json",
        json_version=backend.__version__ if backend is not None else platform.python_version(),
    )
