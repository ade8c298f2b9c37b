"""The demo's fixed values: ports, queue and environment names, timings, page keys."""

from __future__ import annotations

BACKENDS = ("fastapi", "flask", "quart")
DEFAULT_PORT = 8050
#: The query the printed URL carries: a repeated key.
DEMO_QUERY = "tag=a&tag=b"

#: Environment: the Celery queue (tests use a unique one) and the Dash backend the
#: worker builds its copy of the app with.
QUEUE_ENV = "KOMBU_DASH_DEMO_QUEUE"
BACKEND_ENV = "KOMBU_DASH_DEMO_BACKEND"
DEFAULT_QUEUE = "kombu-dash-demo"
#: What a worker is started with (the docs and the compose stack use this path).
WORKER_TARGET = "kombu_dash.cli.demo:celery_app"

#: How long each background callback works: STEPS steps of STEP_SECONDS.
STEPS = 20
STEP_SECONDS = 0.25
#: Celery mode: seconds without a first progress report before the page says that no
#: worker has taken the job.
NO_WORKER_SECONDS = 5

#: Dash's own keys in a callback request's query; the page's query must not override them.
DASH_KEYS = ("endId", "cacheKey", "job", "oldJob", "cancelJob")
#: The cookie the page sets, so the cookie rows have something to compare.
COOKIE_NAME = "kombu_dash_demo"
COOKIE_VALUE = "hello"

#: Exit codes of ``python -m kombu_dash demo``.
OK = 0
USAGE = 2  # bad arguments or a missing package
CANNOT_LISTEN = 3  # the port is taken or the host cannot be bound
NO_REDIS = 4  # REDIS_URL is set but no Redis answers there
