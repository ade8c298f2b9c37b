"""The codec behind ``kombu_dash.dumps``/``loads``, the kombu serializer and the diskcache
Disk: the built-in tags plus every framework's (``frameworks/``).

It lives in its own module, below the ones that use it, so every import in the package
points down and none reaches up into ``kombu_dash/__init__.py``.
"""

from __future__ import annotations

from . import _version
from .codec import Codec
from .engines import EngineInfo, describe
from .frameworks import FRAMEWORK_TAGS

__all__ = ["default_codec", "engine_info"]

#: The codec behind :func:`kombu_dash.dumps`, :func:`kombu_dash.loads` and the serializer.
default_codec = Codec(FRAMEWORK_TAGS)


def engine_info() -> EngineInfo:
    """Which engine ("c" or "python") and JSON backend ("orjson" or "json") the default
    codec uses in this process, with kombu_dash's version; ``str()`` reads
    ``kombu_dash 0.1.0 (C engine, orjson 3.10.7)``."""
    return describe(default_codec.engine.name, default_codec.json, _version.__version__)
