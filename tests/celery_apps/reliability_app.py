"""The Celery app the reliability tests (CLI, faults, load) run real workers with.

Configured from the environment so each test gives its worker its own broker, queue
and recording keys:

KD_BROKER, KD_BACKEND   broker and result backend URLs (default: REDIS_URL)
KD_QUEUE                the one queue this app's tasks go to
KD_MODE                 "json" (a worker that never heard of kombu_dash),
                        "kombu_dash" (kombu_dash.configure: sends kombu_dash, accepts both)
KD_RECORD               Redis URL where ``record`` writes (default: REDIS_URL)
KD_VISIBILITY           Redis transport visibility_timeout (seconds) for redelivery tests

Producers in the tests build their own app with :func:`make_app` and send by task name.
"""

from __future__ import annotations

import os
import time

from celery import Celery


def make_app(
    mode: str = "kombu_dash",
    broker: str = "redis://localhost:6379/0",
    backend: str = "redis://localhost:6379/0",
    queue: str = "kd-reliability",
    visibility: float = 3600.0,
    **conf,
) -> Celery:
    """An app as a worker or a producer of the given mode sees it (producers send by name)."""
    app = Celery("kd_reliability", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # a message left unacked by a killed worker is delivered again after this long
        broker_transport_options={"visibility_timeout": visibility},
        **conf,
    )
    if mode == "kombu_dash":
        import kombu_dash

        kombu_dash.configure(app)
    elif mode != "json":
        raise ValueError(f"KD_MODE must be json or kombu_dash, not {mode!r}")
    return app


_REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")  # the suite's Redis
app = make_app(
    os.environ.get("KD_MODE", "kombu_dash"),
    broker=os.environ.get("KD_BROKER", _REDIS_URL),
    backend=os.environ.get("KD_BACKEND", _REDIS_URL),
    queue=os.environ.get("KD_QUEUE", "kd-reliability"),
    visibility=float(os.environ.get("KD_VISIBILITY", "3600")),
)

_redis = None


def recorder():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ.get("KD_RECORD", _REDIS_URL))
    return _redis


@app.task(name="kd.record")
def record(key: str, i: int, payload=None, seconds: float = 0.0, gate: str | None = None):
    """Idempotent: the set holds each id once however often the task runs; the list
    counts executions (a task redelivered after a crash runs twice). With ``gate``, the
    task first waits until that Redis key exists: a test holds tasks mid-run with it, to
    kill the worker at a moment it chooses rather than one it hopes for."""
    r = recorder()
    while gate and not r.exists(gate):
        time.sleep(0.05)
    if seconds:
        time.sleep(seconds)
    pipe = r.pipeline()
    pipe.sadd(key, i)
    pipe.rpush(key + ":runs", i)
    pipe.execute()
    return i


@app.task(name="kd.reliability.echo", shared=False)
def echo(value):
    return value
