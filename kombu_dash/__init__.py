"""kombu_dash: values sent through Celery (or stored by Dash) come out as the same
value, of the same type, as plain tagged JSON that is safe to decode.

``import kombu_dash`` needs nothing but the standard library (kombu for the kombu
functions); web frameworks are imported only when their values are decoded.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__ as __version__
from .codec import Codec
from .default import default_codec, engine_info
from .engines import EngineInfo
from .errors import DecodeError, EncodeError, KombuDashError
from .serializer import CONTENT_ENCODING, CONTENT_TYPE, SERIALIZER, configure, register
from .standins import AttributeDict, Headers, MultiDict
from .tags import Tag

__all__ = [
    "dumps",
    "loads",
    "dumpb",
    "register_tag",
    "engine_info",
    "EngineInfo",
    "default_codec",
    "Codec",
    "Tag",
    "MultiDict",
    "Headers",
    "AttributeDict",
    "EncodeError",
    "DecodeError",
    "KombuDashError",
    "SERIALIZER",
    "CONTENT_TYPE",
    "CONTENT_ENCODING",
    "register",
    "configure",
    "CeleryManager",
    "DiskcacheManager",
    "TaggedJSONDisk",
]

dumps = default_codec.dumps
dumpb = default_codec.dumpb
loads = default_codec.loads
#: Add a :class:`Tag` to the default codec; usable as a class decorator.
register_tag = default_codec.register_tag


_LAZY = {
    "CeleryManager": "kombu_dash.dash_managers",
    "DiskcacheManager": "kombu_dash.dash_managers",
    "TaggedJSONDisk": "kombu_dash.diskcache_disk",
}


def __getattr__(name: str) -> Any:
    # Dash and diskcache are imported only when their bindings are first used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kombu_dash' has no attribute {name!r}")
