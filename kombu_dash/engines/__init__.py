"""The codec's engines: what walks a value, once, to write its tags or to read them.

* :class:`~kombu_dash.engines.python.PythonEngine`, the reference: one plain recursion
  each way, in Python.
* :class:`~kombu_dash.engines.c.CEngine`, the accelerator: the same two walks in C
  (``kombu_dash._speedups``, built with the wheel).

Which one a codec uses is chosen once, when this module is imported (:data:`DEFAULT`):
the C engine where it is built and imports, unless ``KOMBU_DASH_NO_SPEEDUPS`` is set.
``kombu_dash.engine_info()`` says which engine and JSON backend this process uses.

Both engines know no tag and no wire rule of their own: the rules come from
:mod:`kombu_dash.wire`, and every typed value goes through the codec's registry
(``Registry._write``/``Registry._read``) or a single call a tag lent for it. They write the
same data, decode the same values and raise the same errors, path included.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = [
    "Engine",
    "EngineInfo",
    "describe",
    "make_engine",
    "SPEEDUPS",
    "DEFAULT",
]


class Engine(Protocol):
    """What a codec asks of its engine."""

    #: ``"c"`` or ``"python"``
    name: str

    def encode(self, obj: Any, /) -> Any:
        """``obj`` as plain JSON data: typed values replaced by their tags' objects.
        Containers without a typed value inside may be returned as they are."""

    def decode(self, obj: Any, text: str | bytes, /) -> Any:
        """Freshly parsed JSON data (``text`` is what it was parsed from) with its tags
        replaced by their values; the containers are changed in place."""


def _load_speedups() -> Any:
    if os.environ.get("KOMBU_DASH_NO_SPEEDUPS"):
        return None
    log = logging.getLogger("kombu_dash")  # a log record: under -W error a warning raises
    try:
        from .. import _speedups
    except ImportError as exc:
        # Not built (an install from source without a compiler): the Python engine, quietly.
        # Built, but not loadable here (for another Python, a broken build): say so.
        built = [p.name for p in _PACKAGE.glob("_speedups*") if p.suffix in (".so", ".pyd")]
        if built:
            log.warning(
                "kombu_dash: the C engine (%s) does not load in this Python (%s); "
                "using the Python engine. Reinstall kombu_dash for this interpreter",
                ", ".join(built),
                exc,
            )
        return None
    except Exception as exc:  # noqa: BLE001 - broken: never stop kombu from importing
        log.warning("kombu_dash: the C engine failed to import (%r); using the Python engine", exc)
        return None
    return _speedups


_PACKAGE = Path(__file__).resolve().parent.parent
#: the C module (kombu_dash/_speedups.c) where it is built and allowed, else None
SPEEDUPS: Any = _load_speedups()
#: the engine a codec uses unless it asks for one
DEFAULT = "c" if SPEEDUPS is not None else "python"


def make_engine(name: str | None, codec: Registry) -> Engine:
    """The engine ``name`` ("c", "python", or None for :data:`DEFAULT`) for ``codec``."""
    name = DEFAULT if name is None else name
    if name == "python":
        from .python import PythonEngine

        return PythonEngine(codec)
    if name == "c":
        if SPEEDUPS is None:
            why = "turned off" if os.environ.get("KOMBU_DASH_NO_SPEEDUPS") else "not built"
            raise ValueError(f"the C engine is {why} here (KOMBU_DASH_NO_SPEEDUPS, the wheel)")
        from .c import CEngine

        return CEngine(codec, SPEEDUPS)
    raise ValueError(f"engine must be 'c', 'python' or None, not {name!r}")


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


def describe(engine: str, json: str, version: str) -> EngineInfo:
    """An :class:`EngineInfo` for a codec's engine and JSON backend names."""
    import platform

    from .. import _json

    return EngineInfo(
        version=version,
        engine=engine,
        json=json,
        json_version=_json.orjson.__version__ if json == "orjson" else platform.python_version(),
    )
