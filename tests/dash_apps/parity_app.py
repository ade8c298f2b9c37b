"""The app the parity and feature tests serve (and the Celery worker imports).

Configured by environment variables, so a server and its worker import the same module:
KD_BACKEND (flask|fastapi|quart), KD_MANAGER (celery|diskcache), KD_START_METHOD
(fork|spawn, diskcache), KD_QUEUE (Celery queue), REDIS_URL, KD_CACHE_DIR.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import os
import time

import dash
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

import kombu_dash

BACKEND = os.environ.get("KD_BACKEND", "flask")
MANAGER = os.environ.get("KD_MANAGER", "diskcache")


def _has_backends() -> bool:
    # Dash grew the backend= argument (flask/fastapi/quart) in 4.2.0.
    import inspect

    return "backend" in inspect.signature(Dash.__init__).parameters


def make_manager():
    if MANAGER == "celery":
        from celery import Celery

        url = os.environ["REDIS_URL"]
        celery_app = Celery(__name__, broker=url, backend=url)
        # The app's own default stays json: the manager makes Dash's tasks kombu_dash.
        celery_app.conf.update(
            task_default_queue=os.environ["KD_QUEUE"],
            worker_hijack_root_logger=False,
            broker_connection_retry_on_startup=True,
        )

        @celery_app.task(name="parity_app.plain_json")
        def plain_json(x):
            return x

        return celery_app, kombu_dash.CeleryManager(celery_app)
    import diskcache
    import multiprocess

    multiprocess.set_start_method(os.environ.get("KD_START_METHOD", "fork"), force=True)
    cache_dir = os.environ.get("KD_CACHE_DIR")
    if os.environ.get("KD_STOCK"):  # dash's own manager, for the control test
        return None, dash.DiskcacheManager(diskcache.Cache(cache_dir))
    if cache_dir:
        return None, kombu_dash.DiskcacheManager(
            diskcache.Cache(cache_dir, disk=kombu_dash.TaggedJSONDisk)
        )
    return None, kombu_dash.DiskcacheManager()


celery_app, manager = make_manager()

if hasattr(dash, "hooks"):  # dash.hooks.custom_data: dash >= 3.0

    @dash.hooks.custom_data("kd")
    def _custom_data(ctx):
        # Values JSON cannot carry, one of them read from the request.
        return {
            "when": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
            "pair": (1, "two"),
            "tags": {"x", "y"},
            "price": decimal.Decimal("10.10"),
            "nonce": {k.lower(): v for k, v in ctx.get("headers", {}).items()}.get("x-nonce"),
        }


kwargs = {"backend": BACKEND} if _has_backends() else {}
app = Dash(__name__, background_callback_manager=manager, **kwargs)
app.layout = html.Div(
    [
        html.Button("go", id="btn"),
        html.Div(id="inp"),
        html.Div(id="out-sync"),
        html.Div(id="out-back"),
        html.Div(id="progress"),
        html.Div(id="side"),
        html.Button("cancel", id="cancel"),
        html.Button("progress", id="btn-progress"),
        dcc.Graph(id="graph"),
        html.Div(id="slow"),
        html.Div(id="failing"),
        html.Div(id="prevented"),
        html.Div(id="partial-a"),
        html.Div(id="partial-b"),
        html.Div(id="async-out"),
        html.Div(id="cached"),
    ]
)


def _qualname(obj) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def snapshot() -> str:
    """What this callback sees of the request, as kombu_dash JSON (types kept)."""
    ctx = dash.callback_context
    grouping = ctx.args_grouping
    custom = getattr(ctx, "custom_data", None)
    seen = {}
    if hasattr(type(ctx), "args"):  # ctx.args: dash 4; dash 3 keeps the query in ctx.path only
        args = ctx.args
        seen = {
            "args": args,
            "args.type": _qualname(args),
            "args.getlist(tag)": args.getlist("tag")
            if hasattr(args, "getlist")
            else "<no getlist>",
            "args[tag]": args["tag"] if "tag" in args else "<missing>",
        }
    seen.update(
        {
            "args_grouping": grouping,
            "args_grouping.attrs": [(g.id, g.property, g.value, g.triggered) for g in grouping],
            "inputs": ctx.inputs,
            "states": ctx.states,
            "outputs_list": ctx.outputs_list,
            "headers": ctx.headers,
            "cookies": ctx.cookies,
            "path": ctx.path,
            "remote": ctx.remote,
            "origin": ctx.origin,
            "triggered": ctx.triggered,
            "triggered_id": ctx.triggered_id,
        }
    )
    if custom is not None:
        seen["custom_data"] = custom
        seen["custom_data.kd.when"] = custom.kd["when"]
        seen["custom_data.type"] = _qualname(custom)
    return kombu_dash.dumps(seen)


@app.callback(Output("out-sync", "children"), Input("btn", "n_clicks"), State("inp", "children"))
def sync_view(n, nonce):
    return snapshot()


@app.callback(
    Output("out-back", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
)
def back_view(n, nonce):
    return snapshot()


# -- every other background feature, for tests/test_dash_background.py -------------------
# Each takes the test's nonce as State("inp", "children"), which keeps cache keys unique.


@app.callback(
    Output("graph", "figure"),
    Input("btn-progress", "n_clicks"),
    State("inp", "children"),
    background=True,
    progress=[Output("progress", "children")],
    progress_default=[html.I("idle")],
    running=[(Output("btn-progress", "disabled"), True, False)],
    prevent_initial_call=True,
)
def with_progress(set_progress, n, nonce):
    import numpy as np
    import plotly.graph_objects as go

    for i in range(3):
        set_progress(html.B(f"step {i}"))  # a component: JSONDisk and plain json refuse it
        time.sleep(0.7)
    dash.set_props("side", {"children": html.Span(f"side {nonce}")})
    return go.Figure(go.Scatter(x=np.arange(3), y=np.array([1.5, 2.5, 3.5])))


@app.callback(
    Output("slow", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    cancel=[Input("cancel", "n_clicks")],
    prevent_initial_call=True,
)
def slow(n, nonce):
    time.sleep(30)
    return f"finished {nonce}"


@app.callback(
    Output("failing", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    on_error=lambda exc: f"handled: {exc}",
    prevent_initial_call=True,
)
def failing(n, nonce):
    raise ValueError(f"boom {nonce}")


@app.callback(
    Output("prevented", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    prevent_initial_call=True,
)
def prevented(n, nonce):
    raise PreventUpdate


@app.callback(
    Output("partial-a", "children"),
    Output("partial-b", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    prevent_initial_call=True,
)
def partial(n, nonce):
    return no_update, f"b {nonce}"


@app.callback(
    Output("async-out", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    prevent_initial_call=True,
)
async def async_view(n, nonce):
    await asyncio.sleep(0.1)
    return f"async {nonce} " + snapshot()


if MANAGER == "celery":
    cached_manager = kombu_dash.CeleryManager(celery_app, cache_by=[lambda: "v1"], expire=60)
else:
    cached_manager = kombu_dash.DiskcacheManager(manager.handle, cache_by=[lambda: "v1"], expire=60)


@app.callback(
    Output("cached", "children"),
    Input("btn", "n_clicks"),
    State("inp", "children"),
    background=True,
    manager=cached_manager,
    prevent_initial_call=True,
)
def cached(n, nonce):
    started = time.time()
    time.sleep(2)
    return f"{nonce} computed in pid {os.getpid()} at {started}"
