"""The errors kombu_dash raises.

Both carry ``path``: where in the value the problem sits, as the list of keys and
indexes that lead to it (``args[2]['file']``), and keep their cause (``__cause__``).
kombu wraps them in its own ``kombu.exceptions.EncodeError``/``DecodeError``, so
Celery code that already catches those keeps working.
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["KombuDashError", "EncodeError", "DecodeError", "format_path"]


def format_path(path: Iterable[Any], root: str = "value") -> str:
    """``["args", 2, "file"]`` -> ``args[2]['file']``; keys are shown with repr."""
    parts = list(path)
    if parts and isinstance(parts[0], str) and parts[0] in ("args", "kwargs", "embed"):
        root = parts.pop(0)
    return root + "".join(f"[{p!r}]" for p in parts)


class KombuDashError(Exception):
    """Base class: something could not be carried through kombu_dash."""

    def __init__(self, message: str, *, path: Iterable[Any] = (), tag: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = list(path)
        self.tag = tag

    def __str__(self) -> str:
        where = f" at {format_path(self.path)}" if self.path else ""
        return f"{self.message}{where}"

    def _prepend(self, segment: Any) -> KombuDashError:
        # Containers add their key while the error unwinds: no path is built on success.
        self.path.insert(0, segment)
        return self


class EncodeError(KombuDashError, TypeError):
    """A value has no tag (or an invalid state) and cannot be written."""


class DecodeError(KombuDashError, ValueError):
    """Malformed JSON, an unknown tag, or a tag payload of the wrong shape."""
