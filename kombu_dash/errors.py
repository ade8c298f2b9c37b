"""The errors kombu_dash raises.

Both carry ``path``: where in the value the problem sits, as the list of keys and
indexes that lead to it, and ``root``: what the path starts from (``value``; through
Celery, the part of its message: ``args``, ``kwargs``, ``result``...). Together they read
``args[2]['file']``. Both keep their cause (``__cause__``). kombu wraps them in its own
``kombu.exceptions.EncodeError``/``DecodeError``, so Celery code that already catches
those keeps working.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any

from .printing import bounded_repr, printable

__all__ = [
    "KombuDashError",
    "EncodeError",
    "DecodeError",
    "ERROR_MAX_CHARS",
    "format_path",
    "unsupported",
]

# An error decoded from a message (a failed task's result) is printed by Celery's logs,
# by tracebacks and by the CLI: its text is bounded whatever its fields hold, and escaped.
#: characters of the message shown
ERROR_MAX_MESSAGE = 1000
#: characters of the root, and of each path element's repr, shown
ERROR_MAX_ELEMENT = 80
#: path elements shown: the first and the last half of this many
ERROR_MAX_PATH = 32
#: ``len(str(error))`` is at most this; ``repr(error)`` at most twice this plus the class name
ERROR_MAX_CHARS = 4000
_printing = threading.local()  # how many errors' paths are being formatted in this thread


def format_path(path: Iterable[Any], root: str = "value") -> str:
    """``["file", 0]`` -> ``value['file'][0]``; keys are shown with repr, each cut at
    ``ERROR_MAX_ELEMENT`` characters, and a path longer than ``ERROR_MAX_PATH`` keeps
    its two ends."""
    path = list(path)
    half = ERROR_MAX_PATH // 2
    shown = [f"[{bounded_repr(p, ERROR_MAX_ELEMENT)}]" for p in path[:half]]
    if len(path) > ERROR_MAX_PATH:
        shown.append(f"[…{len(path) - ERROR_MAX_PATH} more…]")
        path = path[-half:]
    else:
        path = path[half:]
    shown.extend(f"[{bounded_repr(p, ERROR_MAX_ELEMENT)}]" for p in path)
    return printable(root, ERROR_MAX_ELEMENT) + "".join(shown)


class KombuDashError(Exception):
    """Base class: something could not be carried through kombu_dash."""

    def __init__(
        self, message: str, *, path: Iterable[Any] = (), tag: str | None = None, root: str = "value"
    ) -> None:
        super().__init__(message)
        #: what went wrong, without the place (``str(error)`` adds it)
        self.message = message
        #: the keys and indexes that lead to the value, outermost first: ``['file', 0]``
        self.path = list(path)
        #: the wire key of the tag involved (without its ``~``), or None
        self.tag = tag
        #: what the path starts from: ``value``, or through Celery ``args``, ``kwargs``,
        #: ``result``...
        self.root = root

    def __str__(self) -> str:
        message = printable(str(self.message), ERROR_MAX_MESSAGE)
        if (self.path or self.root != "value") and getattr(_printing, "depth", 0) < 2:
            # an error in another's path is shown with its own path, not deeper: each
            # level could otherwise multiply the work by ERROR_MAX_PATH
            _printing.depth = getattr(_printing, "depth", 0) + 1
            try:
                message = f"{message} at {format_path(self.path, str(self.root))}"
            finally:
                _printing.depth -= 1
        return message if len(message) <= ERROR_MAX_CHARS else message[: ERROR_MAX_CHARS - 1] + "…"

    def __repr__(self) -> str:
        # with the path: Celery logs and stores exceptions by repr
        return f"{type(self).__name__}({str(self)!r})"

    def _prepend(self, segment: Any) -> KombuDashError:
        # Containers add their key while the error unwinds: no path is built on success.
        self.path.insert(0, segment)
        return self


class EncodeError(KombuDashError, TypeError):
    """A value has no tag (or an invalid state) and cannot be written."""


class DecodeError(KombuDashError, ValueError):
    """Malformed JSON, an unknown tag, or a tag payload of the wrong shape."""


# -- why a type cannot be written, and what to do instead ------------------------------

_ADD_A_TYPE = "(see 'Adding a type' in the README)"
_BUILTINS = (dict, list, tuple, set, frozenset, str, bytes, int, float)


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def unsupported(cls: type, base: type | None = None, key: str | None = None) -> EncodeError:
    """The error for a value of class ``cls`` that no tag writes. ``base`` and ``key``: the
    tagged class it subclasses and that tag's key, when the tag does not take subclasses."""
    name = _class_path(cls)
    if issubclass(cls, enum.Enum):
        kind = next(
            k for k in (enum.IntFlag, enum.IntEnum, enum.Flag, enum.Enum) if issubclass(cls, k)
        )
        plain = next((b for b in _BUILTINS if issubclass(cls, b)), None)
        json_does = f" (json would send it as a plain {plain.__name__})" if plain else ""
        return EncodeError(
            f"cannot encode {name}: an {kind.__name__} member{json_does}; send its .value and "
            f"rebuild it with {cls.__qualname__}(value), or register a Tag for {name}"
        )
    if base is not None:
        convert = f"convert it ({base.__qualname__}(x))"
        if base is tuple and hasattr(cls, "_fields"):
            convert = "convert it (x._asdict() or tuple(x))"
        return EncodeError(
            f"{name} is a subclass of {_class_path(base)}, which ~{key} would bring back as "
            f"{base.__qualname__}: register a Tag for it or {convert}"
        )
    if issubclass(cls, defaultdict):
        return EncodeError(
            f"cannot encode {name}: a defaultdict's default_factory cannot travel; send dict(x) "
            "(it comes back a dict), or register a Tag"
        )
    if issubclass(cls, deque):
        return EncodeError(
            f"cannot encode {name}: no kombu_dash tag for deque; send list(x) (it comes back a "
            "list, without maxlen), or register a Tag"
        )
    plain = next((b for b in _BUILTINS if issubclass(cls, b)), None)
    if plain is not None:
        return EncodeError(
            f"cannot encode {name}: a subclass of {_class_path(plain)} that no tag writes (json "
            f"would send it as a plain {plain.__name__}); send {plain.__name__}(x), or register a "
            f"Tag for {name} {_ADD_A_TYPE}"
        )
    if dataclasses.is_dataclass(cls):
        return EncodeError(
            f"cannot encode {name}: a dataclass; send dataclasses.asdict(x), or register a Tag "
            f"{_ADD_A_TYPE}"
        )
    if callable(getattr(cls, "__json__", None)):
        return EncodeError(
            f"cannot encode {name}: kombu_dash does not call __json__ (kombu's json hook); send "
            f"x.__json__(), or register a Tag {_ADD_A_TYPE}"
        )
    return EncodeError(f"cannot encode {name}: no kombu_dash tag for this type {_ADD_A_TYPE}")
