"""``python -m kombu_dash demo``: a Dash page that runs one callback three ways and shows
side by side what each saw of the request.

One click on *Run* fires a synchronous callback, the same callback in the background on
kombu_dash's manager and on Dash's own manager; every background cell that differs from
the synchronous one turns red. Each background column runs one job for the request's
rows and one job per ``custom_data`` value, so a value one manager cannot send marks only
its own row.

Managers:

* default: ``kombu_dash.DiskcacheManager`` on a ``diskcache.Cache`` stored with
  ``kombu_dash.TaggedJSONDisk``, beside ``dash.DiskcacheManager`` (no server to install);
* ``REDIS_URL`` set: ``kombu_dash.CeleryManager`` beside ``dash.CeleryManager``, on one
  Celery app; start the worker with ``celery -A kombu_dash.cli.demo:celery_app worker``
  (the command is printed, and the page shows it when no worker takes the job).

The package, from the request to the terminal:

==============  ===============================================================
``report``      what each callback reports (:func:`describe`), the parts
``app``         the Dash app: page, callbacks, comparison table
``index.html``  the page template (forwards the page's query; sets the demo cookie)
``styles.css``  the page's styles, inlined into the template
``managers``    both managers, the Celery app and what a worker imports
``runner``      listening socket, serving, Ctrl-C and SIGTERM, missing packages
``command``     ``main(argv)``: the options and the run
``settings``    ports, names, timings, exit codes
==============  ===============================================================

Why the page forwards its query string: a browser's callback requests only carry Dash's
own keys (``endId``, ``cacheKey``, ``job``, ``oldJob``, ``cancelJob``). The page template
holds the recipe of docs/dash.rst: it adds the page URL's query (``?tag=a&tag=b``) to each
``_dash-update-component`` request, so ``ctx.args`` holds repeated keys just as it does
for any other HTTP client that sends them.
"""

from __future__ import annotations

from typing import Any

from .command import main
from .report import describe, describe_context, type_name
from .settings import DEMO_QUERY, STEP_SECONDS, STEPS

__all__ = [
    "DEMO_QUERY",
    "STEPS",
    "STEP_SECONDS",
    "celery_app",
    "describe",
    "describe_context",
    "main",
    "type_name",
]


def __getattr__(name: str) -> Any:
    # `celery -A kombu_dash.cli.demo:celery_app worker` lands here: the worker needs the
    # demo's callbacks defined so Dash registers them as tasks on this Celery app. Built
    # on first access, never at import.
    if name == "celery_app":
        from .managers import worker_celery_app

        return worker_celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
