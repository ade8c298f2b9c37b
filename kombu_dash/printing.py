"""Bounded, escaped text for what came out of a message: errors, logs and the CLI print it.

A decoded value may be as large as its message and nest as deep as the codec allows; its
text must not grow faster than it does, nor carry a character a terminal or a log viewer
acts on. :func:`bounded_repr` stops writing at a budget it is given (builtin containers
are walked, never ``repr()``-ed whole; a string is cut before it is quoted), and
:func:`printable` writes every non-printable character as an escape (``\\x1b``,
``\\n``, ``\\u202e``). Both cost time in proportion to what they return.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bounded_repr", "printable"]

#: marks text cut at its budget
CUT = "…"


def printable(text: str, limit: int | None = None) -> str:
    """``text`` (at most ``limit`` characters of it, then ``…``) with every character that is
    not printable written as Python writes it in a repr (``\\x1b``, ``\\n``, ``\\u2028``)."""
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        if limit is not None and len(text) > limit:  # escapes make it longer
            text, cut = text[:limit], True
    return text + CUT if cut else text


_SEQUENCES: dict[type, str] = {list: "[]", tuple: "()", set: "{}", frozenset: "frozenset({})"}


def bounded_repr(value: Any, limit: int) -> str:
    """``repr(value)`` written up to ``limit`` characters (then ``…``): builtin containers
    and strings are walked and cut rather than formatted whole; any other object's own
    ``repr()`` is cut (kombu_dash's errors bound theirs). Never raises."""
    out: list[str] = []
    _write(value, out, [limit], 0)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit] + CUT


def _write(value: Any, out: list[str], left: list[int], depth: int) -> None:
    if left[0] <= 0:
        return
    t = type(value)
    if t is str or t is bytes or t is bytearray:
        piece = repr(value[: left[0]])
        if len(value) > left[0]:
            piece += CUT
    elif t in _SEQUENCES or t is dict:
        if depth >= 100:  # as deep as a message may nest, then some: shown as ...
            piece = "..."
        else:
            _write_container(value, t, out, left, depth)
            return
    else:
        try:
            piece = repr(value) if t in (int, float, bool, type(None)) else _other(value, left)
        except Exception as exc:  # noqa: BLE001 - a hostile repr is described, not raised
            piece = f"<{t.__name__}: repr raised {type(exc).__name__}>"
    out.append(piece)
    left[0] -= len(piece)


def _other(value: Any, left: list[int]) -> str:
    text = repr(value)  # its own size: linear in the object (errors bound theirs)
    return text if len(text) <= left[0] else text[: left[0]] + CUT


def _write_container(value: Any, t: type, out: list[str], left: list[int], depth: int) -> None:
    if t is dict:
        opening, closing = "{", "}"
    else:
        brackets = _SEQUENCES[t]
        opening, closing = brackets[:-1], brackets[-1:]
        if not value and t in (set, frozenset):
            opening, closing = ("set(" if t is set else "frozenset("), ")"
    out.append(opening)
    left[0] -= len(opening)
    first = True
    items = value.items() if t is dict else value
    for item in items:
        if left[0] <= 0:
            out.append(CUT)
            break
        if not first:
            out.append(", ")
            left[0] -= 2
        first = False
        if t is dict:
            key, item = item
            _write(key, out, left, depth + 1)
            out.append(": ")
            left[0] -= 2
        _write(item, out, left, depth + 1)
    if t is tuple and len(value) == 1:
        out.append(",")
    out.append(closing)
    left[0] -= len(closing)
