"""What each callback reports: rows ``[expression, what this callback saw]``.

The same :func:`describe_context` runs in the synchronous callback and in both
background callbacks, so any difference between their rows is a difference in the
``dash.callback_context`` they were handed.
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


def type_name(value: object) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def show(value: object) -> str:
    """repr with sets sorted: a set's order differs between processes."""
    if isinstance(value, (set, frozenset)):
        inner = ", ".join(sorted(map(repr, value)))
        return f"{{{inner}}}" if isinstance(value, set) else f"frozenset({{{inner}}})"
    return repr(value)


def _attempt(expr: Callable[[], object]) -> str:
    try:
        return show(expr())
    except Exception as exc:  # the row shows what the user's code would hit
        return f"{type(exc).__name__}: {exc}"


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


def describe_context(ctx: Any) -> Rows:
    """Rows ``[expression, what this callback saw]`` for the comparison table."""
    rows = [
        ["type(ctx.args)", type_name(ctx.args)],
        ['ctx.args.getlist("tag")', _attempt(lambda: ctx.args.getlist("tag"))],
        ['ctx.args["tag"]', _attempt(lambda: ctx.args["tag"])],
        ["keys of ctx.args", _attempt(lambda: _multi_keys(ctx.args))],
        ['ctx.args_grouping["clicks"].value', _attempt(lambda: ctx.args_grouping["clicks"].value)],
        ['ctx.args_grouping["search"].value', _attempt(lambda: ctx.args_grouping["search"].value)],
        ["ctx.triggered_id", _attempt(lambda: ctx.triggered_id)],
        ["type(ctx.headers)", type_name(ctx.headers)],
        ["len(ctx.headers)", _attempt(lambda: len(ctx.headers))],
        ['ctx.headers["host"] (any case)', _attempt(lambda: _header(ctx.headers, "host"))],
        [f'ctx.cookies["{COOKIE_NAME}"]', _attempt(lambda: ctx.cookies[COOKIE_NAME])],
    ]
    for key, value in sorted(ctx.custom_data.get("demo", {}).items()):
        rows.append([f'ctx.custom_data["demo"]["{key}"]', f"{type_name(value)}: {show(value)}"])
    return rows


def demo_custom_data(g: Any) -> dict[str, object]:
    """``dash.hooks.custom_data("demo")``: values plain JSON cannot carry."""
    getlist = getattr(getattr(g, "args", None), "getlist", None)
    tags: list[str] = getlist("tag") if getlist is not None else []
    return {
        "started": STARTED,
        "tags": set(tags),
        "pair": (len(tags), "tags"),
        "price": decimal.Decimal("19.99"),
    }


@functools.cache
def register_hook() -> None:
    """dash.hooks are process-wide and read when a Dash app is created: register once."""
    import dash

    dash.hooks.custom_data("demo")(demo_custom_data)
