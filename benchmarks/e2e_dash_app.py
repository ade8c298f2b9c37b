"""The Dash app the background round-trip benchmark serves and its worker runs.

Configured by environment (the server and the Celery worker import the same module):
KD_BENCH_MANAGER = ``dash`` (dash.CeleryManager) or ``kombu_dash`` (kombu_dash.CeleryManager),
KD_BENCH_QUEUE (a unique queue), REDIS_URL.

    python -m benchmarks.e2e_dash_app PORT          # werkzeug server (Flask backend)
    celery -A benchmarks.e2e_dash_app:celery_app worker -Q $KD_BENCH_QUEUE
"""

from __future__ import annotations

import os
import sys

from celery import Celery
from dash import Dash, Input, Output, ctx, html

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/4")
MANAGER = os.environ.get("KD_BENCH_MANAGER", "dash")
QUEUE = os.environ.get("KD_BENCH_QUEUE", "kd-bench-dash")

celery_app = Celery(f"kd_bench_dash_{MANAGER}", broker=REDIS_URL, backend=REDIS_URL)
celery_app.conf.update(
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    result_expires=600,
)

if MANAGER == "kombu_dash":
    from kombu_dash import CeleryManager
else:
    from dash import CeleryManager

manager = CeleryManager(celery_app, expire=600)
app = Dash(__name__, background_callback_manager=manager)
app.layout = html.Div([html.Button("run", id="run-button"), html.Div(id="status")])


@app.callback(
    Output("status", "children"),
    Input("run-button", "n_clicks"),
    background=True,
    prevent_initial_call=True,
)
def run(n_clicks):
    # What a real callback reads from the context: the query (repeated keys under kombu_dash).
    args = ctx.args
    tags = args.getlist("tag") if hasattr(args, "getlist") else [args.get("tag")]
    return f"{n_clicks}:{','.join(map(str, tags))}"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), debug=False, threaded=True)
