"""The C engine: :mod:`kombu_dash._speedups`'s two walks, handed the wire's rules and the
codec's callbacks once, when the codec is made.

The C walks are the Python engine's (engines/python.py) step for step: the same checks,
the same calls into the registry, the same error paths. They never hand a value back
to the Python engine: an error raised in a callback leaves the C with its path (the C
adds each container's key or index as the error passes), and any other exception from
the C is a bug and propagates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import wire
from ..errors import KombuDashError
from ..registry import Budget

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["CEngine"]


class CEngine:
    """The two walks in C, for one codec."""

    name = "c"

    def __init__(self, codec: Registry, speedups: Any):
        self._walker = speedups.Walker(
            prefix=wire.PREFIX,
            int_min=wire.INT_MIN,
            int_max=wire.INT_MAX,
            max_depth=codec.max_depth,
            error=KombuDashError,
            write=codec._write,
            write_fast=codec._write_fast,
            read=codec._read,
            read_fast=codec._read_fast,
            payload_types=codec._payload_types,
            too_deep=codec._too_deep,
            changed=codec._changed,
            unwind_tag=codec._unwind_tag,
        )

    def encode(self, obj: Any, /) -> Any:
        return self._walker.encode(obj)

    def decode(self, obj: Any, text: str | bytes, /) -> Any:
        return self._walker.decode(obj, Budget())
