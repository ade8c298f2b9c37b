"""A plain Dash app of a user's own (not the demo): what a synchronous and a background
callback see of ``ctx.args``, ``ctx.headers`` and ``ctx.cookies`` when a browser opens the
page at ``/?tag=a&tag=b``. tests/test_browser_context.py serves it and reads the page.

Configured by environment variables, so the server and its Celery worker import the same
app: KD_BACKEND (flask|fastapi|quart), KD_MANAGER (diskcache|celery), KD_QUEUE and
REDIS_URL (celery), KD_CACHE_DIR (diskcache), KD_ASSETS (the assets folder: the test puts
the recipe of docs/dash.rst there, or nothing).
"""

from __future__ import annotations

import json
import os

import dash
from dash import Dash, Input, Output, State, dcc, html

import kombu_dash

BACKEND = os.environ.get("KD_BACKEND", "flask")
MANAGER = os.environ.get("KD_MANAGER", "diskcache")

if MANAGER == "celery":
    from celery import Celery

    celery_app = Celery(__name__, broker=os.environ["REDIS_URL"], backend=os.environ["REDIS_URL"])
    celery_app.conf.update(
        task_default_queue=os.environ["KD_QUEUE"], broker_connection_retry_on_startup=True
    )
    manager = kombu_dash.CeleryManager(celery_app)
else:
    import diskcache

    manager = kombu_dash.DiskcacheManager(
        diskcache.Cache(os.environ["KD_CACHE_DIR"], disk=kombu_dash.TaggedJSONDisk)
    )

app = Dash(
    __name__,
    backend=BACKEND,
    background_callback_manager=manager,
    assets_folder=os.environ.get("KD_ASSETS", os.path.join(os.path.dirname(__file__), "assets")),
)
app.layout = html.Div(
    [
        dcc.Location(id="url"),
        html.Button("Run", id="run"),
        html.Pre(id="sync"),
        html.Pre(id="background"),
    ]
)


def _type(value: object) -> str:
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _pairs(mapping) -> list:
    # Every (key, value) pair, repeated keys included, whatever the class.
    if hasattr(mapping, "multi_items"):  # starlette
        return [list(p) for p in mapping.multi_items()]
    if hasattr(mapping, "getlist"):  # werkzeug
        return [list(p) for p in mapping.items(multi=True)]
    return [list(p) for p in mapping.items()]


def seen(search: str | None) -> str:
    """What this callback sees, as JSON text the page shows."""
    ctx = dash.callback_context
    getlist = getattr(ctx.args, "getlist", None)
    return json.dumps(
        {
            "args.type": _type(ctx.args),
            "args": _pairs(ctx.args),
            'args.getlist("tag")': getlist("tag") if getlist else None,
            "headers.type": _type(ctx.headers),
            "headers": sorted(ctx.headers),
            "x-tag": next((v for k, v in ctx.headers.items() if k.lower() == "x-tag"), None),
            "cookies.type": _type(ctx.cookies),
            "cookies": ctx.cookies,
            "search": search,
        }
    )


@app.callback(
    Output("sync", "children"),
    Input("run", "n_clicks"),
    State("url", "search"),
    prevent_initial_call=True,
)
def synchronous(clicks, search):
    return seen(search)


@app.callback(
    Output("background", "children"),
    Input("run", "n_clicks"),
    State("url", "search"),
    background=True,
    prevent_initial_call=True,
)
def background(clicks, search):
    return seen(search)
