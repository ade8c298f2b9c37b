"""What each callback reports: rows ``[expression, what this callback saw]``.

The same functions run in the synchronous callback and in every background job, so any
difference between their rows is a difference in the ``dash.callback_context`` they were
handed.

Each background column runs one job per *part*: ``request`` (what Dash itself puts in
the context: query, grouping, headers, cookies) and one job per ``custom_data`` value.
A value one manager cannot send then fails its own row only, and the other rows are
still compared.
"""

from __future__ import annotations

import datetime
import decimal
import functools
from collections.abc import Callable
from typing import Any

from .settings import COOKIE_NAME

#: One value for the process: custom_data computed in the web process shows the web
#: process's start time in every column, proving the worker got it from the request.
STARTED = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

Rows = list[list[str]]

#: The custom_data values, by name: each is a part of its own in the background columns.
VALUES = ("started", "tags", "pair", "price")
#: The parts of a background column, each run by a job of its own.
PARTS = ("request", *VALUES)


def type_name(value: object) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def show(value: object) -> str:
    """repr with sets sorted: a set's order differs between processes."""
    if isinstance(value, (set, frozenset)):
        name = type(value).__name__
        if not value:
            return f"{name}()"
        inner = ", ".join(sorted(map(repr, value)))
        return f"{{{inner}}}" if type(value) is set else f"{name}({{{inner}}})"
    return repr(value)


def _multi_keys(args: Any) -> str:
    # Each framework names its "all pairs" view differently; a plain dict has one per key.
    if hasattr(args, "multi_items"):
        pairs = args.multi_items()
    elif hasattr(args, "items") and hasattr(args, "getlist"):
        pairs = args.items(multi=True)
    else:
        pairs = args.items()
    return " ".join(k for k, _ in pairs)


def _header(headers: Any, name: str) -> object:
    # Starlette's dict(headers) has lower-case names, werkzeug's "Host": look up either.
    found = [v for k, v in headers.items() if k.lower() == name]
    if not found:
        raise KeyError(name)
    return found[0]


#: The ``request`` part's rows: (expression, how to read it from the context).
REQUEST_ROWS: list[tuple[str, Callable[[Any], object]]] = [
    ("type(ctx.args)", lambda ctx: type_name(ctx.args)),
    ('ctx.args.getlist("tag")', lambda ctx: ctx.args.getlist("tag")),
    ('ctx.args["tag"]', lambda ctx: ctx.args["tag"]),
    ("keys of ctx.args", lambda ctx: _multi_keys(ctx.args)),
    ('ctx.args_grouping["clicks"].value', lambda ctx: ctx.args_grouping["clicks"].value),
    ('ctx.args_grouping["search"].value', lambda ctx: ctx.args_grouping["search"].value),
    ("ctx.triggered_id", lambda ctx: ctx.triggered_id),
    ("type(ctx.headers)", lambda ctx: type_name(ctx.headers)),
    ("len(ctx.headers)", lambda ctx: len(ctx.headers)),
    ('ctx.headers["host"] (any case)', lambda ctx: _header(ctx.headers, "host")),
    (f'ctx.cookies["{COOKIE_NAME}"]', lambda ctx: ctx.cookies[COOKIE_NAME]),
]
#: Rows whose reader returns names, shown as they are (not repr'd).
_NAMES = {"type(ctx.args)", "type(ctx.headers)", "keys of ctx.args"}


def value_expr(name: str) -> str:
    return f'ctx.custom_data["demo"]["{name}"]'


def expressions(part: str) -> list[str]:
    """The rows ``part`` fills, in table order."""
    if part == "request":
        return [expr for expr, _ in REQUEST_ROWS]
    return [value_expr(part)]


def _row(ctx: Any, expr: str, read: Callable[[Any], object]) -> list[str]:
    try:
        value = read(ctx)
    except Exception as exc:  # the row shows what the user's code would hit
        return [expr, f"{type(exc).__name__}: {exc}"]
    return [expr, str(value) if expr in _NAMES else show(value)]


def _value_row(ctx: Any, name: str) -> list[str]:
    try:
        value = ctx.custom_data["demo"][name]
    except Exception as exc:
        return [value_expr(name), f"{type(exc).__name__}: {exc}"]
    return [value_expr(name), f"{type_name(value)}: {show(value)}"]


def describe(ctx: Any, part: str | None = None) -> Rows:
    """Rows ``[expression, what this callback saw]`` for one part, or all (``None``)."""
    rows: Rows = []
    if part in (None, "request"):
        rows += [_row(ctx, expr, read) for expr, read in REQUEST_ROWS]
    names = VALUES if part is None else (part,) if part in VALUES else ()
    rows += [_value_row(ctx, name) for name in names]
    return rows


def describe_context(ctx: Any) -> Rows:
    """Every row: what the synchronous callback shows."""
    return describe(ctx)


def store_id(column: str, part: str) -> str:
    """The id of the store that holds one part of one background column."""
    return f"view-{column}-{part}"


def _part_of(outputs: Any) -> str | None:
    # A background job's output names its part ("view-<column>-<part>"); the
    # synchronous callback's does not.
    if isinstance(outputs, dict):
        output_id = outputs.get("id")
        if isinstance(output_id, str) and output_id.startswith("view-"):
            part = output_id.rsplit("-", 1)[-1]
            return part if part in PARTS else None
    return None


def demo_custom_data(g: Any) -> dict[str, object]:
    """``dash.hooks.custom_data("demo")``: values plain JSON cannot all carry. A
    background job gets only its own part's value (none for ``request``)."""
    getlist = getattr(getattr(g, "args", None), "getlist", None)
    tags: list[str] = getlist("tag") if getlist is not None else []
    values: dict[str, object] = {
        "started": STARTED,
        "tags": set(tags),
        "pair": (len(tags), "tags"),
        "price": decimal.Decimal("19.99"),
    }
    part = _part_of(g.get("outputs_list") if hasattr(g, "get") else None)
    if part is None:
        return values
    return {part: values[part]} if part in values else {}


@functools.cache
def register_hook() -> None:
    """dash.hooks are process-wide and read when a Dash app is created: register once."""
    import dash

    dash.hooks.custom_data("demo")(demo_custom_data)
