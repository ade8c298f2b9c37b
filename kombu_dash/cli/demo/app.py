"""The demo's Dash app: the page, its callbacks, and the comparison table.

One click on *Run* fires a synchronous callback and, for each background column
(kombu_dash's manager, Dash's own), one job per part (report.PARTS): the request rows
in one job (with progress bar, cancel button and ``running`` states on kombu_dash's),
and each ``custom_data`` value in a job of its own. Each job describes its
``dash.callback_context`` with :func:`~kombu_dash.cli.demo.report.describe`; the table
shows the synchronous rows beside the background ones and marks every background cell
that differs from the synchronous one.
"""

from __future__ import annotations

import re
import time
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

from dash import Dash, Input, Output, State, callback_context, dcc, html

from .managers import Managers
from .report import PARTS, describe, describe_context, expressions, register_hook, store_id
from .settings import (
    COOKIE_NAME,
    COOKIE_VALUE,
    DASH_KEYS,
    DEMO_QUERY,
    NO_WORKER_SECONDS,
    STEP_SECONDS,
    STEPS,
)

#: A view as the stores hold it: ``{"run": click count, "rows": Rows}`` (and, from a
#: background job, ``"engine"``: kombu_dash's engine where the job ran). A view whose run
#: is None (an error reported while polling, when Dash sends no input values) belongs to
#: the current run.
View = dict[str, Any]
#: One background column: part -> its view.
Column = dict[str, View | None]

#: The background columns: (column key, heading).
COLUMNS = (("kd", "kombu_dash's manager"), ("dash", "Dash's own manager"))

_DASH_PREFIX = "An error occurred inside a background callback: "

#: Under the verdict when Dash's own DiskcacheManager loses nothing: why.
FORK_NOTE = (
    "Why no loss: dash.DiskcacheManager forks this web process, so each job gets the "
    "request's objects as they are; nothing is serialised. REDIS_URL runs both on Celery."
)


def index_string() -> str:
    """The page template (index.html) with the styles (styles.css) and constants filled in."""
    here = files(__package__ or "kombu_dash.cli.demo")
    return (
        here.joinpath("index.html")
        .read_text(encoding="utf-8")
        .replace("@@STYLES@@", here.joinpath("styles.css").read_text(encoding="utf-8"))
        .replace("@@COOKIE_NAME@@", COOKIE_NAME)
        .replace("@@COOKIE_VALUE@@", COOKIE_VALUE)
    )


def query_note(search: str | None) -> list[Any]:
    """The line about the page's query: what the callbacks' ``ctx.args`` gets from it."""
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=True)]
    pairs = [(k, v) for k, v in pairs if k not in DASH_KEYS]  # the page template drops them
    try_it = html.A("?" + DEMO_QUERY, href="?" + DEMO_QUERY)
    if not pairs:
        return [
            "This page has no query, so ",
            html.Code("ctx.args"),
            " holds only Dash's own keys. Open ",
            try_it,
            ": the page forwards its query to each callback request.",
        ]
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1}, key=keys.index)
    shown = html.Code("?" + "&".join(f"{k}={v}" for k, v in pairs))
    if not repeated:
        return [
            "The page's query (",
            shown,
            ") is forwarded to each callback request; it repeats no key. Try ",
            try_it,
            ".",
        ]
    names = " and ".join(f"{k} ({keys.count(k)} times)" for k in repeated)
    return [
        "The page's query (",
        shown,
        ") is forwarded to each callback request, so ",
        html.Code("ctx.args"),
        f" holds the repeated {'key' if len(repeated) == 1 else 'keys'} {names}.",
    ]


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
    """One job: "idle", "done", "running" or "cancelled"."""
    if run is None:
        return "idle" if view is None else "done"
    if view is not None and view.get("run") in (run, None):
        return "done"
    return "cancelled" if cancelled == run else "running"


def _column_state(states: list[str]) -> str:
    """A background column from its jobs' states: running while any runs."""
    for state in ("running", "cancelled"):
        if state in states:
            return state
    return "idle" if set(states) == {"idle"} else "done"


def comparison(
    sync: View | None,
    background: list[Column],
    cancelled: int | None,
    managers: list[str],
    *,
    celery: bool = False,
) -> tuple[Any, str, str]:
    """The table (expression, synchronous, one column per background manager), the
    verdict line above it, and the line saying why Dash's own manager lost nothing (or "")."""
    run = sync["run"] if sync else None
    sync_rows = dict(map(tuple, sync["rows"])) if sync else {}
    order = list(sync_rows) or [expr for part in PARTS for expr in expressions(part)]
    owner = {expr: part for part in PARTS for expr in expressions(part)}

    head = [
        html.Th(["What the callback reads"]),
        html.Th(
            [
                "Synchronous callback",
                html.Span(f"run {run}" if run else "not run yet", className="kd-state"),
            ]
        ),
    ]
    verdicts: list[str] = []
    column_states: list[str] = []
    columns: list[list[Any]] = []
    dash_lost_nothing = False
    for (key, title), manager, column in zip(COLUMNS, managers, background):
        states = {part: _state(column.get(part), run, cancelled) for part in PARTS}
        state = _column_state(list(states.values()))
        column_states.append(state)
        seen: dict[str, str] = {}
        for part in PARTS:
            seen.update(map(tuple, (column.get(part) or {}).get("rows", [])))
        differ = sum(seen.get(expr) != sync_rows.get(expr) for expr in order)
        if key == "dash":
            dash_lost_nothing = state == "done" and bool(sync) and not differ
        if state == "done" and sync:
            text = (
                f"✔ same as synchronous (all {len(order)} rows)"
                if not differ
                else f"✘ {differ} of {len(order)} rows differ"
            )
        else:
            text = {
                "idle": "not run yet",
                "running": "running…",
                "cancelled": "cancelled",
                "done": "done",
            }[state]
        request = column.get("request")
        if state in ("running", "cancelled") and request is not None:
            text += f" (grey: run {request.get('run')})"
        verdicts.append(f"{title}: {text}")
        heading: list[Any] = [title, html.Small(manager)]
        engine = (request or {}).get("engine")
        if key == "kd" and engine:
            heading.append(html.Small(f"job: {engine}"))
        heading.append(html.Span(text, className=f"kd-state kd-{state}"))
        head.append(html.Th(heading))
        cells = []
        for expr in order:
            part_state = states.get(owner.get(expr, "request"), state)
            if part_state != "done" or not sync:
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
    if not sync_rows and not any(any(c.values()) for c in background):
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
        return table, "", ""
    stopped = (
        "Cancelled: the background jobs were stopped. " if "cancelled" in column_states else ""
    )
    verdict = f"{stopped}Run {run} · " + " · ".join(verdicts)
    why = FORK_NOTE if dash_lost_nothing and not celery else ""
    return table, verdict, why


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
    table, _, _ = comparison(None, [{}, {}], None, names, celery=managers.celery)
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
            html.P(id="query", className="kd-query", children=query_note(None)),
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
            html.P(id="why", className="kd-why"),
            html.Div(table, id="table"),
            html.P(
                id="notes",
                className="kd-notes",
                children=[
                    "Green: the background callback saw what the synchronous one saw; red: it saw "
                    "something else; grey: an earlier run. Each background column runs one job "
                    "for the request rows and one job per ",
                    html.Code("custom_data"),
                    " value, so a value a manager cannot send marks only its own row. In ",
                    html.Code("keys of ctx.args"),
                    ", ",
                    html.Code("endId"),
                    " (dash 4.4 and later) is Dash's own key: the renderer adds it to every "
                    "callback request (a token for this page load, which Dash uses to sign the "
                    "background jobs' handles); the other keys are this page's query, forwarded.",
                ],
            ),
            dcc.Store(id="sync-view"),
            *(dcc.Store(id=store_id(key, part)) for key, _ in COLUMNS for part in PARTS),
            dcc.Store(id="cancelled-run"),
            dcc.Interval(id="watch", interval=1000, disabled=True),
        ],
    )
    _callbacks(app, managers, names, worker_command)
    return app


def _error_view(part: str) -> Any:
    """on_error for one part's job: its error (or a task Dash could not send) in the
    rows that part fills."""

    def view_from_error(err: Exception) -> View:
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        text = text.removeprefix(_DASH_PREFIX)
        return {"run": None, "rows": [[expr, text] for expr in expressions(part)]}

    return view_from_error


def _callbacks(app: Dash, managers: Managers, names: list[str], worker_command: str | None) -> None:
    inputs = dict(clicks=Input("run", "n_clicks"), search=State("url", "search"))

    @app.callback(Output("query", "children"), Input("url", "search"))
    def page_query(search: str | None) -> list[Any]:
        return query_note(search)

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

    # kombu_dash's request job: the one with progress, running states and the steps.
    @app.callback(
        Output(store_id("kd", "request"), "data"),
        inputs=inputs,
        background=True,
        manager=managers.kombu_dash,
        progress=[Output("progress", "value"), Output("progress-text", "children")],
        progress_default=["0", ""],
        running=running,
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        on_error=_error_view("request"),
        prevent_initial_call=True,
    )
    def background(set_progress: Any, clicks: int, search: str | None) -> View:
        seen = describe(callback_context, "request")
        set_progress(("0", f"0/{STEPS} steps"))  # the first sign that a worker took the job
        for step in range(1, STEPS + 1):
            time.sleep(STEP_SECONDS)
            # A Dash component in progress: stored through the manager's cache too.
            set_progress((str(step), html.Span([html.B(f"{step}/{STEPS}"), " steps"])))
        return {"run": clicks, "rows": seen, "engine": _engine()}

    # Dash's own request job: the same work, no progress.
    @app.callback(
        Output(store_id("dash", "request"), "data"),
        inputs=inputs,
        background=True,
        manager=managers.dash,
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        on_error=_error_view("request"),
        prevent_initial_call=True,
    )
    def background_on_dash_manager(clicks: int, search: str | None) -> View:
        seen = describe(callback_context, "request")
        time.sleep(STEPS * STEP_SECONDS)
        return {"run": clicks, "rows": seen}

    # One job per custom_data value and column (the hook gives each only its value).
    for key, manager in (("kd", managers.kombu_dash), ("dash", managers.dash)):
        for part in PARTS[1:]:
            _value_job(app, key, part, manager, inputs)

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
        Output("why", "children", allow_duplicate=True),
        Output("no-worker", "children", allow_duplicate=True),
    ]
    views = [store_id(key, part) for key, _ in COLUMNS for part in PARTS]
    stores = ["sync-view", *views, "cancelled-run"]

    def render(sync: View | None, *rest: Any) -> tuple[Any, str, str, list[Any]]:
        *parts, cancelled_run = rest
        by_store = dict(zip(views, parts))
        columns = [{part: by_store[store_id(key, part)] for part in PARTS} for key, _ in COLUMNS]
        table, verdict, why = comparison(
            sync, columns, cancelled_run, names, celery=managers.celery
        )
        return table, verdict, why, []

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


def _engine() -> str:
    import kombu_dash  # the public call, loaded by now; where it lives is the codec's concern

    info = kombu_dash.engine_info()
    return f"{'C' if info.engine == 'c' else 'Python'} engine, {info.json} {info.json_version}"


def _value_job(app: Dash, key: str, part: str, manager: Any, inputs: dict[str, Any]) -> None:
    # Dash keys a job's result by the function's source and its arguments: the store's
    # own id as an argument keeps these ten jobs of one function apart.
    store = store_id(key, part)

    @app.callback(
        Output(store, "data"),
        inputs=dict(inputs, store=State(store, "id")),
        background=True,
        manager=manager,
        cancel=[Input("cancel", "n_clicks")],
        interval=250,
        on_error=_error_view(part),
        prevent_initial_call=True,
    )
    def value_job(clicks: int, search: str | None, store: str) -> View:
        return {"run": clicks, "rows": describe(callback_context, part)}


def _render_on(
    app: Dash, trigger: str, stores: list[str], outputs: list[Output], render: Any
) -> None:
    args = [Input(s, "data") if s == trigger else State(s, "data") for s in stores]

    @app.callback(*outputs, *args, prevent_initial_call=True)
    def rerender(*values: Any) -> Any:
        return render(*values)
