"""The codec: Python values <-> tagged JSON, with a registry of tags on the object.

Encoding hands the value to the codec's engine (:mod:`kombu_dash.engines`), which
returns it as plain JSON data, every typed value replaced by ``{"~<tag>": payload}``;
the JSON backend (:mod:`kombu_dash._json`) writes that in one call. Decoding parses
once and, only if the text could hold a tag, has the engine replace the tags.

The engines know no tag: for every typed value they call back into the registry
(:mod:`kombu_dash.registry`) or use a single call a tag lent for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import _json, wire
from .engines import Engine, make_engine
from .errors import DecodeError, EncodeError
from .registry import Registry
from .tags import Tag

__all__ = ["Codec"]


class Codec(Registry):
    """A registry of tags plus the encoder and decoder that use it.

    ``kombu_dash.dumps``/``loads`` use the default instance; make your own to carry
    a different set of types without touching the global one.

    ``engine``: ``"c"`` (the accelerator, ``kombu_dash._speedups``), ``"python"`` (the
    reference), or None for this process's default (:func:`kombu_dash.engine_info`).
    ``json``: ``"orjson"`` or ``"json"`` (the standard library), or None for the default.
    Every choice writes the same bytes and decodes the same values, with the same errors.
    """

    def __init__(
        self,
        tags: Iterable[Tag | type[Tag]] = (),
        *,
        max_depth: int = wire.MAX_DEPTH,
        engine: str | None = None,
        json: str | None = None,
    ):
        super().__init__(tags, max_depth=max_depth)
        #: the JSON backend: "orjson" or "json" (the standard library); same bytes
        self.json = _json.DEFAULT if json is None else json
        self._dumpb, self._loadb = _json.backend(self.json)
        #: the engine that walks values for this codec (``.name``: "c" or "python")
        self.engine: Engine = make_engine(engine, self)

    # -- encoding and decoding -----------------------------------------------------

    def dumpb(self, obj: Any, /) -> bytes:
        """Encode to UTF-8 JSON bytes (what the kombu serializer sends)."""
        try:
            data = self.engine.encode(obj)
        except RecursionError as exc:
            raise EncodeError(
                f"nesting deeper than the stack allows (max_depth={self._max_depth})"
            ) from exc
        return self._dumpb(data)

    def dumps(self, obj: Any, /) -> str:
        """Encode to a JSON ``str``."""
        return self.dumpb(obj).decode("utf-8")

    def loads(self, data: str | bytes | bytearray | memoryview, /) -> Any:
        """Decode JSON from ``str``, ``bytes``, ``bytearray`` or ``memoryview``."""
        if type(data) is memoryview or type(data) is bytearray:
            data = bytes(data)
        elif type(data) is not bytes and type(data) is not str:
            raise DecodeError(
                f"expected str, bytes, bytearray or memoryview, got {type(data).__name__}"
            )
        obj = self._loadb(data, self._max_depth)  # strict, and no deeper than max_depth
        if (type(obj) is dict or type(obj) is list) and wire.could_hold_tag(data):
            try:
                return self.engine.decode(obj, data)
            except RecursionError as exc:
                raise DecodeError(
                    f"nesting deeper than the stack allows (max_depth={self._max_depth})"
                ) from exc
        return obj
