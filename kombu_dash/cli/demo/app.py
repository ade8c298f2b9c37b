"""``python -m kombu_dash demo``: a background callback sees the request a synchronous one sees.

One click on *Run* fires two callbacks for the same inputs: a synchronous one and a
background one (progress bar, cancel button, ``running`` states). Each describes its
``dash.callback_context`` with :func:`describe_context`; the page shows the two
descriptions side by side and marks every row where they differ.

Managers:

* default: ``kombu_dash.DiskcacheManager`` on a ``diskcache.Cache`` stored with
  ``kombu_dash.TaggedJSONDisk`` (no server to install);
* ``REDIS_URL`` set: ``kombu_dash.CeleryManager`` on Redis; start its worker with
  ``celery -A kombu_dash.demo:celery_app worker`` (the command is printed);
* ``--dash-managers``: Dash's own managers, to see what they lose.

Why the page forwards its query string: a browser's callback requests only carry Dash's
own keys (``endId``, ``cacheKey``, ``job``, ``oldJob``, ``cancelJob``). The page template
adds the page URL's query (``?tag=a&tag=b``) to each ``_dash-update-component`` request,
so ``ctx.args`` holds repeated keys just as it does for any other HTTP client.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import os
import sys
import tempfile
import time

BACKENDS = ("fastapi", "flask", "quart")
DEFAULT_PORT = 8050
#: The query the printed URL carries: a repeated key.
DEMO_QUERY = "tag=a&tag=b"
#: Environment: Celery queue (tests use a unique one), backend the worker builds the app with.
QUEUE_ENV = "KOMBU_DASH_DEMO_QUEUE"
BACKEND_ENV = "KOMBU_DASH_DEMO_BACKEND"
DEFAULT_QUEUE = "kombu-dash-demo"
#: How long the background callback works: STEPS steps of STEP_SECONDS.
STEPS = 12
STEP_SECONDS = 0.25

#: One value for the process: custom_data computed in the web process shows the web
#: process's start time in both panels, proving the worker got it from the request.
STARTED = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

# Dash's keys in a callback request; a page query must not override them.
_DASH_KEYS = ("endId", "cacheKey", "job", "oldJob", "cancelJob")

INDEX_STRING = """<!DOCTYPE html>
<html>
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <script>
        // Forward this page's query (e.g. ?tag=a&tag=b) to Dash's callback requests so
        // ctx.args holds it; a browser otherwise sends only Dash's own keys there.
        (function () {
            var page = new URLSearchParams(window.location.search);
            %(dash_keys)s.forEach(function (k) { page.delete(k); });
            var extra = page.toString();
            var fetch0 = window.fetch;
            window.fetch = function (input, init) {
                if (extra && typeof input === "string"
                        && input.indexOf("_dash-update-component") !== -1) {
                    input += (input.indexOf("?") === -1 ? "?" : "&") + extra;
                }
                return fetch0.call(this, input, init);
            };
        })();
        </script>
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>
""".replace("%(dash_keys)s", "[" + ", ".join(f'"{k}"' for k in _DASH_KEYS) + "]")


# --- what each callback reports -------------------------------------------------------


def type_name(value) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def show(value) -> str:
    """repr with sets sorted: a set's order differs between processes."""
    if isinstance(value, (set, frozenset)):
        inner = ", ".join(sorted(map(repr, value)))
        return f"{{{inner}}}" if isinstance(value, set) else f"frozenset({{{inner}}})"
    return repr(value)


def _attempt(expr):
    try:
        return show(expr())
    except Exception as exc:  # the row shows what the user's code would hit
        return f"{type(exc).__name__}: {exc}"


def _multi_keys(args):
    # Each framework names its "all pairs" view differently; a plain dict has one per key.
    if hasattr(args, "multi_items"):
        pairs = args.multi_items()
    elif hasattr(args, "items") and hasattr(args, "getlist"):
        pairs = args.items(multi=True)
    else:
        pairs = args.items()
    return " ".join(k for k, _ in pairs)


def describe_context(ctx) -> list:
    """Rows ``[expression, what this callback saw]`` for the panels."""
    rows = [
        ["type(ctx.args)", type_name(ctx.args)],
        ['ctx.args.getlist("tag")', _attempt(lambda: ctx.args.getlist("tag"))],
        ['ctx.args["tag"]', _attempt(lambda: ctx.args["tag"])],
        ["keys of ctx.args", _attempt(lambda: _multi_keys(ctx.args))],
        ['ctx.args_grouping["clicks"].value', _attempt(lambda: ctx.args_grouping["clicks"].value)],
        ['ctx.args_grouping["search"].value', _attempt(lambda: ctx.args_grouping["search"].value)],
        ["ctx.triggered_id", _attempt(lambda: ctx.triggered_id)],
    ]
    for key, value in sorted(ctx.custom_data.get("demo", {}).items()):
        rows.append([f'ctx.custom_data["demo"]["{key}"]', f"{type_name(value)}: {show(value)}"])
    return rows


def demo_custom_data(g):
    """``dash.hooks.custom_data("demo")``: values plain JSON cannot carry."""
    args = getattr(g, "args", None)
    tags = args.getlist("tag") if hasattr(args, "getlist") else []
    return {
        "started": STARTED,
        "tags": set(tags),
        "pair": (len(tags), "tags"),
        "price": decimal.Decimal("19.99"),
    }


_hook_registered = False


def _register_hook():
    # dash.hooks are process-wide and read when a Dash app is created: register once.
    global _hook_registered
    if not _hook_registered:
        import dash

        dash.hooks.custom_data("demo")(demo_custom_data)
        _hook_registered = True


# --- managers ---------------------------------------------------------------------------


def manager_classes(dash_managers: bool = False):
    """(CeleryManager, DiskcacheManager): kombu_dash's, or Dash's own to compare."""
    if dash_managers:
        from dash import CeleryManager, DiskcacheManager
    else:
        # The public names a user imports (loaded lazily by kombu_dash.__getattr__).
        from kombu_dash import CeleryManager, DiskcacheManager
    return CeleryManager, DiskcacheManager


def make_celery_app(redis_url: str):
    from celery import Celery

    app = Celery("kombu_dash.demo", broker=redis_url, backend=redis_url)
    app.conf.task_default_queue = os.environ.get(QUEUE_ENV, DEFAULT_QUEUE)
    app.conf.broker_connection_retry_on_startup = True
    return app


def make_diskcache_manager(directory: str, dash_managers: bool = False):
    import diskcache

    _, DiskcacheManager = manager_classes(dash_managers)
    if dash_managers:
        return DiskcacheManager(diskcache.Cache(directory))
    from kombu_dash import TaggedJSONDisk

    return DiskcacheManager(diskcache.Cache(directory, disk=TaggedJSONDisk))


_celery = {}


def celery_setup(dash_managers: bool = False):
    """(celery_app, manager) on ``REDIS_URL``, made once per process."""
    if "app" not in _celery:
        url = os.environ.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: the Celery demo needs a Redis URL")
        CeleryManager, _ = manager_classes(dash_managers)
        app = make_celery_app(url)
        _celery.update(app=app, manager=CeleryManager(app))
    return _celery["app"], _celery["manager"]


def __getattr__(name):
    # `celery -A kombu_dash.demo:celery_app worker` lands here: the worker needs the
    # demo's callbacks defined so Dash registers them as tasks on this Celery app.
    if name == "celery_app":
        app, manager = celery_setup()
        if "dash" not in _celery:
            _celery["dash"] = build_app(os.environ.get(BACKEND_ENV, "flask"), manager)
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def worker_command() -> str:
    env = [f"REDIS_URL={os.environ['REDIS_URL']}"]
    if os.environ.get(QUEUE_ENV):
        env.append(f"{QUEUE_ENV}={os.environ[QUEUE_ENV]}")
    return " ".join(env) + " celery -A kombu_dash.demo:celery_app worker --loglevel=INFO"


# --- the Dash app -----------------------------------------------------------------------

_CELL = {"border": "1px solid #ccc", "padding": "4px 8px", "fontFamily": "monospace",
         "fontSize": "13px", "textAlign": "left", "verticalAlign": "top"}
_DIFFER = {"background": "#fdd"}
_SAME = {"background": "#dfd"}


def _table(rows, other, table_id):
    from dash import html

    body = []
    for i, (expr, seen) in enumerate(rows or []):
        mark = {}
        if other is not None:
            mark = _SAME if i < len(other) and other[i] == [expr, seen] else _DIFFER
        body.append(html.Tr([html.Td(expr, style=_CELL), html.Td(seen, style={**_CELL, **mark})]))
    if not body:
        body = [html.Tr(html.Td("(not run yet)", style=_CELL))]
    return html.Table(html.Tbody(body), id=table_id, style={"borderCollapse": "collapse", "width": "100%"})


def build_app(backend: str, manager, *, label: str = ""):
    """The demo's Dash app on ``backend`` with ``manager`` running the background callback."""
    _register_hook()
    from dash import Dash, Input, Output, State, callback_context, dcc, html

    app = Dash(__name__, backend=backend, background_callback_manager=manager,
               title="kombu_dash demo")
    app.index_string = INDEX_STRING
    panel = {"flex": "1", "minWidth": "0"}
    app.layout = html.Div(style={"fontFamily": "sans-serif", "margin": "20px", "maxWidth": "1200px"}, children=[
        dcc.Location(id="url"),
        html.H2("kombu_dash demo: a background callback sees what a synchronous one sees"),
        html.P(id="setup", children=label or f"backend {backend}, manager {type_name(manager)}"),
        html.P(["The page's query (", html.Code(id="page-query"), ") is forwarded to each callback "
                "request, so ", html.Code("ctx.args"), " holds repeated keys. Try ",
                html.A("?tag=a&tag=b", href="?" + DEMO_QUERY), "."]),
        html.Div(style={"display": "flex", "gap": "12px", "alignItems": "center"}, children=[
            html.Button("Run", id="run", n_clicks=0),
            html.Button("Cancel", id="cancel", n_clicks=0, disabled=True),
            html.Progress(id="progress", value="0", max=str(STEPS), style={"width": "300px"}),
            html.Span(id="progress-text"),
            html.Span(id="status"),
        ]),
        html.H3(id="verdict"),
        html.Div(style={"display": "flex", "gap": "20px"}, children=[
            html.Div(style=panel, children=[html.H3("Synchronous callback"),
                                                  html.Div(_table(None, None, "sync-table"), id="sync-panel")]),
            html.Div(style=panel, children=[html.H3("Background callback"),
                                                  html.Div(_table(None, None, "background-table"), id="background-panel")]),
        ]),
        dcc.Store(id="sync-view"),
        dcc.Store(id="background-view"),
    ])

    inputs = dict(clicks=Input("run", "n_clicks"), search=State("url", "search"))

    @app.callback(Output("page-query", "children"), Input("url", "search"))
    def page_query(search):
        return search or "(none)"

    @app.callback(Output("sync-view", "data"), inputs=inputs, prevent_initial_call=True)
    def synchronous(clicks, search):
        return describe_context(callback_context)

    @app.callback(
        Output("background-view", "data"),
        inputs=inputs,
        background=True,
        progress=[Output("progress", "value"), Output("progress-text", "children")],
        progress_default=["0", ""],
        running=[
            (Output("run", "disabled"), True, False),
            (Output("cancel", "disabled"), False, True),
            (Output("status", "children"), "running in the background…", ""),
        ],
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        prevent_initial_call=True,
    )
    def background(set_progress, clicks, search):
        seen = describe_context(callback_context)
        for step in range(1, STEPS + 1):
            time.sleep(STEP_SECONDS)
            # A Dash component in progress: stored through the manager's cache too.
            set_progress((str(step), html.Span([html.B(f"{step}/{STEPS}"), " steps"])))
        return seen

    panels = [Output("sync-panel", "children", allow_duplicate=True),
              Output("background-panel", "children", allow_duplicate=True),
              Output("verdict", "children", allow_duplicate=True)]

    # Two render callbacks: one waiting on both stores would hold the synchronous panel
    # back until the background job ends (the renderer waits for pending inputs).
    @app.callback(*panels, Input("sync-view", "data"), State("background-view", "data"),
                  prevent_initial_call=True)
    def show_sync(sync, bg):
        return _table(sync, None, "sync-table"), _table(bg, None, "background-table"), ""

    @app.callback(*panels, Input("background-view", "data"), State("sync-view", "data"),
                  prevent_initial_call=True)
    def compare(bg, sync):
        verdict = ("✔ Both callbacks saw the same request" if sync == bg
                   else "✘ The background callback saw something else (red rows)")
        return _table(sync, bg, "sync-table"), _table(bg, sync, "background-table"), verdict

    return app


def serve(app, backend: str, host: str, port: int) -> None:
    """Serve ``app.server`` the way a user deploys it: uvicorn (ASGI) or werkzeug (WSGI)."""
    if backend == "flask":
        from werkzeug.serving import run_simple

        run_simple(host, port, app.server, threaded=True)
    else:
        import uvicorn

        uvicorn.run(app.server, host=host, port=port, log_level="warning")


# What each mode imports, and the pip line that provides it.
_NEEDS = {
    "fastapi": (("fastapi", "uvicorn"), '"dash[fastapi]"'),
    "quart": (("quart", "uvicorn"), '"dash[quart]" uvicorn'),
    "flask": (("flask",), "dash"),
    "diskcache": (("diskcache", "multiprocess", "psutil"), '"dash[diskcache]"'),
    "celery": (("celery", "redis"), '"celery[redis]"'),
}


def missing(modes) -> list:
    """pip arguments for the modes whose modules are not importable."""
    import importlib.util

    lines = [] if importlib.util.find_spec("dash") else ["dash"]
    for mode in modes:
        modules, pip = _NEEDS[mode]
        if not all(importlib.util.find_spec(m) for m in modules):
            lines.append(pip)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kombu_dash demo",
        description="A Dash app whose background callback sees the request a synchronous one sees. "
                    "Set REDIS_URL to run the background callback on Celery instead of diskcache.")
    parser.add_argument("--backend", choices=BACKENDS, default="fastapi", help="Dash backend (default fastapi)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--dash-managers", action="store_true",
                        help="use Dash's own managers instead of kombu_dash's, to see what they lose")
    opts = parser.parse_args(sys.argv[1:] if argv is None else argv)
    needed = missing([opts.backend, "celery" if os.environ.get("REDIS_URL") else "diskcache"])
    if needed:
        print(f"The demo needs more packages: pip install {' '.join(needed)}\n"
              '(or: pip install "kombu_dash[demo]")', file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="kombu-dash-demo-", ignore_cleanup_errors=True) as tmp:
        return _run(opts, tmp)


def _run(opts, tmp: str) -> int:
    if os.environ.get("REDIS_URL"):
        _, manager = celery_setup(opts.dash_managers)
        label = f"Celery on {os.environ['REDIS_URL']}"
        print(f"Background callbacks run on Celery ({os.environ['REDIS_URL']}). Start the worker with:\n"
              f"    {worker_command()}", flush=True)
        if opts.dash_managers:
            print("Note: Dash's own CeleryManager cannot send this demo's task (kombu's json refuses "
                  "the set in custom_data): the background panel will stay empty.", flush=True)
    else:
        manager = make_diskcache_manager(tmp, opts.dash_managers)
        label = f"diskcache in {tmp}"
    label = f"backend {opts.backend} · {type_name(manager)} · {label}"
    app = build_app(opts.backend, manager, label=label)
    shown_host = "127.0.0.1" if opts.host in ("0.0.0.0", "::") else opts.host
    print(f"{label}\nOpen http://{shown_host}:{opts.port}/?{DEMO_QUERY}", flush=True)
    serve(app, opts.backend, opts.host, opts.port)
    return 0
