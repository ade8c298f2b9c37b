"""The demo's Dash app: the page, its callbacks, and the comparison table.

One click on *Run* fires three callbacks with the same inputs: a synchronous one, a
background one on kombu_dash's manager (progress bar, cancel button, ``running``
states) and a background one on Dash's own manager. Each describes its
``dash.callback_context`` with :func:`~kombu_dash.cli.demo.report.describe_context`;
the table shows the three descriptions side by side and marks every background cell
that differs from the synchronous one.
"""

from __future__ import annotations

import re
import time
from importlib.resources import files
from typing import Any

from dash import Dash, Input, Output, State, callback_context, dcc, html

from .managers import Managers
from .report import describe_context, register_hook
from .settings import (
    COOKIE_NAME,
    COOKIE_VALUE,
    DASH_KEYS,
    DEMO_QUERY,
    NO_WORKER_SECONDS,
    STEP_SECONDS,
    STEPS,
)

#: A view as the stores hold it: ``{"run": click count, "rows": Rows}``. A view whose run
#: is None (an error reported while polling, when Dash sends no input values) belongs to
#: the current run.
View = dict[str, Any]

#: The background columns: (store id, heading, manager attribute on Managers).
COLUMNS = (
    ("background-view", "kombu_dash's manager", "kombu_dash"),
    ("dash-view", "Dash's own manager", "dash"),
)

_DASH_PREFIX = "An error occurred inside a background callback: "


def index_string() -> str:
    """The page template (index.html) with the styles (styles.css) and constants filled in."""
    here = files(__package__ or "kombu_dash.cli.demo")
    keys = "[" + ", ".join(f'"{k}"' for k in DASH_KEYS) + "]"
    return (
        here.joinpath("index.html")
        .read_text(encoding="utf-8")
        .replace("@@STYLES@@", here.joinpath("styles.css").read_text(encoding="utf-8"))
        .replace("@@DASH_KEYS@@", keys)
        .replace("@@COOKIE_NAME@@", COOKIE_NAME)
        .replace("@@COOKIE_VALUE@@", COOKIE_VALUE)
    )


# --- the comparison table ------------------------------------------------------------------

_DOT = re.compile(r"(?<=[A-Za-z_])\.(?=[A-Za-z_])")


def breakable(text: str) -> Any:
    """``text`` with a line-break opportunity after each dot between names, so
    ``werkzeug.datastructures.structures.ImmutableMultiDict`` wraps at its dots."""
    parts = _DOT.split(text)
    if len(parts) == 1:
        return text
    children: list[Any] = []
    for part in parts[:-1]:
        children += [part + ".", html.Wbr()]
    return [*children, parts[-1]]


def _state(view: View | None, run: int | None, cancelled: int | None) -> str:
    """One background column: "idle", "done", "running" or "cancelled"."""
    if run is None:
        return "idle" if view is None else "done"
    if view is not None and view.get("run") in (run, None):
        return "done"
    return "cancelled" if cancelled == run else "running"


def comparison(
    sync: View | None, background: list[View | None], cancelled: int | None, managers: list[str]
) -> tuple[Any, str]:
    """The table (expression, synchronous, one column per background manager) and the
    verdict line above it."""
    run = sync["run"] if sync else None
    sync_rows = dict(map(tuple, sync["rows"])) if sync else {}
    # Rows only a background column has (a job's error) go first, where they are seen.
    extra: list[str] = []
    for view in background:
        extra += [
            expr
            for expr, _ in (view or {}).get("rows", [])
            if expr not in sync_rows and expr not in extra
        ]
    order = extra + list(sync_rows)
    counted = list(sync_rows) or order
    states = [_state(view, run, cancelled) for view in background]

    head = [
        html.Th(["What the callback reads"]),
        html.Th(
            [
                "Synchronous callback",
                html.Span(f"run {run}" if run else "not run yet", className="kd-state"),
            ]
        ),
    ]
    verdicts = []
    columns: list[list[Any]] = []
    for (_, title, _), manager, view, state in zip(COLUMNS, managers, background, states):
        seen = dict(map(tuple, (view or {}).get("rows", [])))
        differ = sum(seen.get(expr) != sync_rows.get(expr) for expr in counted)
        if state == "done" and sync:
            text = (
                f"✔ same as synchronous (all {len(counted)} rows)"
                if not differ
                else f"✘ {differ} of {len(counted)} rows differ"
            )
        else:
            text = {
                "idle": "not run yet",
                "running": "running…",
                "cancelled": "cancelled",
                "done": "done",
            }[state]
        if state in ("running", "cancelled") and view is not None:
            text += f" (grey: run {view.get('run')})"
        verdicts.append(f"{title}: {text}")
        head.append(
            html.Th([title, html.Small(manager), html.Span(text, className=f"kd-state kd-{state}")])
        )
        cells = []
        for expr in order:
            if state != "done" or not sync:
                mark = "kd-stale"
            else:
                mark = "kd-same" if seen.get(expr) == sync_rows.get(expr) else "kd-differs"
            cells.append(html.Td(breakable(seen.get(expr, "—")), className=mark))
        columns.append(cells)

    body = [
        html.Tr(
            [
                html.Td(expr),
                html.Td(breakable(sync_rows.get(expr, "—"))),
                *(cells[i] for cells in columns),
            ]
        )
        for i, expr in enumerate(order)
    ]
    if not body:
        body = [html.Tr([html.Td("(not run yet: click Run)", colSpan=2 + len(COLUMNS))])]
    table = html.Table(
        [
            html.Colgroup([html.Col(className="kd-expr"), *(html.Col() for _ in range(3))]),
            html.Thead(html.Tr(head)),
            html.Tbody(body),
        ],
        id="comparison",
        className="kd-table",
    )
    if run is None:
        verdict = ""
    else:
        stopped = "Cancelled: the background jobs were stopped. " if ("cancelled" in states) else ""
        verdict = f"{stopped}Run {run} · " + " · ".join(verdicts)
    return table, verdict


# --- the app ---------------------------------------------------------------------------------


def build_app(
    backend: str, managers: Managers, *, label: str = "", worker_command: str | None = None
) -> Dash:
    """The demo's Dash app on ``backend``; ``worker_command`` (Celery mode) is what the
    page shows when no worker takes the job."""
    register_hook()
    app = Dash(
        __name__,
        backend=backend,
        background_callback_manager=managers.kombu_dash,
        title="kombu_dash demo",
    )
    app.index_string = index_string()
    names = [f"kombu_dash.{managers.kind}", f"dash.{managers.kind}"]
    table, _ = comparison(None, [None, None], None, names)
    app.layout = html.Div(
        className="kd-page",
        children=[
            dcc.Location(id="url"),
            html.P(
                id="hint",
                className="kd-hint",
                children=[
                    "Click Run: one click runs the same callback three ways (synchronously, in the "
                    "background on kombu_dash's manager, in the background on Dash's own manager) "
                    "and the table shows what each one saw of the request."
                ],
            ),
            html.P(
                id="setup",
                className="kd-setup",
                children=label or f"kombu_dash demo · backend {backend} · {managers.where}",
            ),
            html.P(
                className="kd-query",
                children=[
                    "The page's query (",
                    html.Code(id="page-query"),
                    ") is forwarded to each callback request, so ",
                    html.Code("ctx.args"),
                    " holds repeated keys. Try ",
                    html.A("?" + DEMO_QUERY, href="?" + DEMO_QUERY),
                    ".",
                ],
            ),
            html.Div(
                className="kd-controls",
                children=[
                    html.Button("Run", id="run", n_clicks=0),
                    html.Button("Cancel", id="cancel", n_clicks=0, disabled=True),
                    html.Progress(
                        id="progress", value="0", max=str(STEPS), className="kd-progress"
                    ),
                    html.Span(id="progress-text"),
                    html.Span(id="status", className="kd-status"),
                ],
            ),
            html.Div(id="no-worker", className="kd-notice"),
            html.H3(id="verdict", className="kd-verdict"),
            html.Div(table, id="table"),
            html.P(
                id="notes",
                className="kd-notes",
                children=[
                    "Green: the background callback saw what the synchronous one saw; red: it saw "
                    "something else; grey: an earlier run. In ",
                    html.Code("keys of ctx.args"),
                    ", ",
                    html.Code("endId"),
                    " is Dash's own key: the renderer adds it to every callback "
                    "request (a token for this page load, which Dash uses to sign the background "
                    "job's handles); ",
                    html.Code("tag tag"),
                    " is this page's query, forwarded.",
                ],
            ),
            dcc.Store(id="sync-view"),
            dcc.Store(id="background-view"),
            dcc.Store(id="dash-view"),
            dcc.Store(id="cancelled-run"),
            dcc.Interval(id="watch", interval=1000, disabled=True),
        ],
    )
    _callbacks(app, managers, names, worker_command)
    return app


def _view_from_error(err: Exception) -> View:
    """on_error: a background job's error (or a task Dash could not send) as a row."""
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    return {"run": None, "rows": [["(the background job)", first.removeprefix(_DASH_PREFIX)]]}


def _callbacks(app: Dash, managers: Managers, names: list[str], worker_command: str | None) -> None:
    inputs = dict(clicks=Input("run", "n_clicks"), search=State("url", "search"))

    @app.callback(Output("page-query", "children"), Input("url", "search"))
    def page_query(search: str | None) -> str:
        return search or "(none)"

    @app.callback(Output("sync-view", "data"), inputs=inputs, prevent_initial_call=True)
    def synchronous(clicks: int, search: str | None) -> View:
        return {"run": clicks, "rows": describe_context(callback_context)}

    running = [
        (Output("run", "disabled"), True, False),
        (Output("cancel", "disabled"), False, True),
        (Output("status", "children"), "running in the background…", ""),
    ]
    if worker_command:  # Celery: watch for a worker taking the job
        running += [
            (Output("watch", "disabled"), False, True),
            (Output("watch", "n_intervals"), 0, 0),
        ]

    @app.callback(
        Output("background-view", "data"),
        inputs=inputs,
        background=True,
        manager=managers.kombu_dash,
        progress=[Output("progress", "value"), Output("progress-text", "children")],
        progress_default=["0", ""],
        running=running,
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        on_error=_view_from_error,
        prevent_initial_call=True,
    )
    def background(set_progress: Any, clicks: int, search: str | None) -> View:
        seen = describe_context(callback_context)
        set_progress(("0", f"0/{STEPS} steps"))  # the first sign that a worker took the job
        for step in range(1, STEPS + 1):
            time.sleep(STEP_SECONDS)
            # A Dash component in progress: stored through the manager's cache too.
            set_progress((str(step), html.Span([html.B(f"{step}/{STEPS}"), " steps"])))
        return {"run": clicks, "rows": seen}

    @app.callback(
        Output("dash-view", "data"),
        inputs=inputs,
        background=True,
        manager=managers.dash,
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        on_error=_view_from_error,
        prevent_initial_call=True,
    )
    def background_on_dash_manager(clicks: int, search: str | None) -> View:
        seen = describe_context(callback_context)
        time.sleep(STEPS * STEP_SECONDS)  # the same work as the other background callback
        return {"run": clicks, "rows": seen}

    @app.callback(
        Output("cancelled-run", "data"),
        Input("cancel", "n_clicks"),
        State("run", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancelled(_: int, clicks: int) -> int:
        return clicks

    # One render callback per store: a callback with two pending inputs would hold the
    # synchronous column back until the background jobs end (the renderer waits).
    outputs = [
        Output("table", "children", allow_duplicate=True),
        Output("verdict", "children", allow_duplicate=True),
        Output("no-worker", "children", allow_duplicate=True),
    ]
    stores = ["sync-view", "background-view", "dash-view", "cancelled-run"]

    def render(
        sync: View | None, kd: View | None, own: View | None, cancelled_run: int | None
    ) -> tuple[Any, str, list[Any]]:
        table, verdict = comparison(sync, [kd, own], cancelled_run, names)
        return table, verdict, []

    for trigger in stores:
        _render_on(app, trigger, stores, outputs, render)

    if worker_command:

        @app.callback(
            Output("no-worker", "children", allow_duplicate=True),
            Input("watch", "n_intervals"),
            State("progress-text", "children"),
            prevent_initial_call=True,
        )
        def no_worker(ticks: int | None, progress_text: Any) -> list[Any]:
            if progress_text or (ticks or 0) < NO_WORKER_SECONDS:
                return []
            return [
                f"No worker has taken the job after {ticks} s. Start one with:",
                html.Code(worker_command),
            ]


def _render_on(
    app: Dash, trigger: str, stores: list[str], outputs: list[Output], render: Any
) -> None:
    args = [Input(s, "data") if s == trigger else State(s, "data") for s in stores]

    @app.callback(*outputs, *args, prevent_initial_call=True)
    def rerender(*values: Any) -> Any:
        return render(*values)
