"""The Celery app of the compose stack's worker containers.

    celery -A tests.compose.stack:celery_app worker      # docker-compose.yml, service worker

One app on one queue (``KD_QUEUE``) runs everything the stack sends:

* the background callbacks of ``tests/dash_apps/parity_app.py``: the web service serves
  that app on Flask and on FastAPI, and one worker serves both (Dash names a callback's
  task after its source, not after the backend);
* the background callback of the demo the web service serves on :8050;
* ``kd.stack.echo``: the load and fault tests' task, late-acked and requeued when the
  worker running it dies (``acks_late`` + ``reject_on_worker_lost``);
* ``kd_stack_engine``: a control command each worker answers with the engine and JSON
  backend its own process runs (tests/compose/test_engine.py).

Producers (the tests container, ``python -m kombu_dash check -A tests.compose.stack:celery_app``)
import this same module, so both sides share its settings.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from pathlib import Path

from celery import Celery
from celery.exceptions import DuplicateTaskNameWarning
from celery.worker.control import inspect_command

import kombu_dash

QUEUE = os.environ.setdefault("KD_QUEUE", "kombu-dash")
os.environ.setdefault("KOMBU_DASH_DEMO_QUEUE", QUEUE)
os.environ.setdefault("KD_MANAGER", "celery")
REDIS_URL = os.environ.get("REDIS_URL", "redis://redis:6379/0")
# A message a killed worker held comes back after this many seconds (kombu's Redis default
# is an hour); longer than any task here runs, so a live task is never handed out twice.
VISIBILITY = 20

celery_app = Celery("kombu_dash_stack", broker=REDIS_URL, backend=REDIS_URL)
celery_app.conf.update(
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=1,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": VISIBILITY},
    # docs/operations.rst, "Redis stopped and restarted": a producer fails fast, not hangs.
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    },
    broker_connection_timeout=2,
    redis_socket_connect_timeout=2,
    redis_socket_timeout=10,
    result_backend_always_retry=True,
    result_backend_max_retries=20,
)
# Before anything touches celery_app.backend: the backend reads result_serializer once.
kombu_dash.configure(celery_app)


def _adopt_background_callbacks() -> None:
    """Register the Dash apps' background callbacks on this app. Each Dash app declares
    them on its own Celery app (same Redis, same queue); a worker runs the tasks of its
    own app only."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dash_apps"))
    import parity_app

    from kombu_dash.cli import demo

    # demo.celery_app builds the demo's Dash app: its callbacks become tasks
    for app in (parity_app.celery_app, demo.celery_app):
        for name, task in app.tasks.items():
            if name.startswith(("background_callback_", "dash_own.background_callback_")):
                celery_app.tasks.register(task)


with warnings.catch_warnings():
    # Celery 5.7 warns when an app finalizes with two job functions under one name: Dash
    # declares one per manager for the same callback (parity_app's `cached` has its own
    # manager). Same code, same name: harmless, and a worker logs it anyway; a test
    # process importing this module must not turn it into an error.
    warnings.simplefilter("ignore", DuplicateTaskNameWarning)
    _adopt_background_callbacks()


@celery_app.task(name="kd.stack.echo", acks_late=True, reject_on_worker_lost=True)
def echo(value: object, seconds: float = 0.0) -> list:
    """The value back, with the worker container that ran it (its hostname)."""
    if seconds:
        time.sleep(seconds)
    return [socket.gethostname(), value]


@inspect_command()
def kd_stack_engine(state: object) -> dict:
    """This worker's ``kombu_dash.engine_info()`` (its main process; the pool forks from it)."""
    return kombu_dash.engine_info()._asdict()
