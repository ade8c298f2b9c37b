"""The two background-callback managers the page compares, and the Celery app a
worker imports.

Every column of the page runs on its own manager: ``kombu_dash.DiskcacheManager`` /
``kombu_dash.CeleryManager`` for the middle one, Dash's own ``DiskcacheManager`` /
``CeleryManager`` for the right one (Dash lets each background callback name its own
``manager=``).

Under Celery both managers share one Celery app, so one worker runs both columns. Dash
registers every background callback with every manager, and both managers name the task
``background_callback_<key>``: on one app the first manager to declare a name would send
the other's messages. Dash's own manager therefore declares its tasks as
``dash_own.background_callback_<key>``; nothing else of it changes.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .settings import BACKEND_ENV, DEFAULT_QUEUE, QUEUE_ENV, WORKER_TARGET

if TYPE_CHECKING:
    from celery import Celery
    from dash import Dash


@dataclass(frozen=True)
class Managers:
    """What the page runs on: kombu_dash's manager, Dash's own, and how to say it."""

    kombu_dash: Any
    dash: Any
    where: str  # "diskcache in /tmp/…" or "Celery on redis://…"
    celery: bool

    @property
    def kind(self) -> str:
        """The class name a user imports from either package."""
        return "CeleryManager" if self.celery else "DiskcacheManager"


# --- diskcache (the default: nothing to install) ---------------------------------------


def diskcache_managers(directory: str) -> Managers:
    """Two caches in ``directory``: tagged JSON for kombu_dash's, Dash's default for its own."""
    import diskcache
    from dash import DiskcacheManager as DashDiskcacheManager

    from ...dash_managers import DiskcacheManager, _FinishedBetweenChecks
    from ...diskcache_disk import TaggedJSONDisk

    class DashOwnDiskcacheManager(_FinishedBetweenChecks, DashDiskcacheManager):
        """Dash's own manager and cache (pickles; ``args`` as Dash hands it over), with one
        timing fix: a job that finishes between Dash's "result?" and "running?" polls is
        otherwise taken for cancelled and its column would say "running…" for ever. That
        race is not what this column is here to show."""

    ours = DiskcacheManager(
        diskcache.Cache(os.path.join(directory, "kombu_dash"), disk=TaggedJSONDisk)
    )
    theirs = DashOwnDiskcacheManager(diskcache.Cache(os.path.join(directory, "dash")))
    return Managers(ours, theirs, f"diskcache in {directory}", celery=False)


# --- Celery ------------------------------------------------------------------------------


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: the Celery demo needs a Redis URL")
    return url


def make_celery_app(url: str) -> Celery:
    """A plain Celery app (json by default, nothing configured) on ``url``."""
    from celery import Celery

    app = Celery("kombu_dash.cli.demo", broker=url, backend=url)
    app.conf.task_default_queue = os.environ.get(QUEUE_ENV, DEFAULT_QUEUE)
    app.conf.broker_connection_retry_on_startup = True
    return app


class _OwnTaskNames:
    """The Celery app as Dash's job function sees it: the task it declares is named
    ``dash_own.<name>``; everything else is the real app."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def task(self, *args: Any, name: str, **options: Any) -> Any:
        return self._app.task(*args, name=f"dash_own.{name}", **options)


_NOT_SENT = "not-sent-"


def _dash_celery_manager_class() -> type:
    from dash import CeleryManager as DashCeleryManager
    from dash.background_callback.managers import celery_manager

    class ShowingSendErrors(DashCeleryManager):
        """Dash's own CeleryManager, unchanged except for two things: its tasks' names
        (see the module's docstring), and a task it cannot send is stored as that job's
        error, so the page shows it (Dash itself answers the request with HTTP 500 and
        the page shows nothing)."""

        def make_job_fn(self, fn: Any, progress: Any, key: Any = None) -> Any:
            return celery_manager._make_job_fn(fn, _OwnTaskNames(self.handle), progress, key)

        def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> str:
            dash_own: Any = super()  # Dash's methods are not annotated
            try:
                job: str = dash_own.call_job_fn(key, job_fn, args, context)
                return job
            except Exception as exc:  # shown on the page instead of a bare HTTP 500
                cls = type(exc)
                error = f"the task was not sent: {cls.__module__}.{cls.__name__}: {exc}"
                self.handle.backend.set(
                    key, json.dumps({"background_callback_error": {"msg": error, "tb": ""}})
                )
                return _NOT_SENT + uuid.uuid4().hex

        def terminate_job(self, job: Any) -> None:
            if not str(job).startswith(_NOT_SENT):  # nothing was sent: nothing to revoke
                dash_own: Any = super()
                dash_own.terminate_job(job)

    return ShowingSendErrors


@functools.cache
def celery_managers() -> Managers:
    """Managers on ``REDIS_URL``, made once per process (the worker builds the same)."""
    from ...dash_managers import CeleryManager

    url = redis_url()
    app = make_celery_app(url)
    ours = CeleryManager(app)
    theirs = _dash_celery_manager_class()(app)
    return Managers(ours, theirs, f"Celery on {url}", celery=True)


def worker_command() -> str:
    """The command that starts a worker for this demo, with the environment it needs."""
    env = [f"REDIS_URL={redis_url()}"]
    if os.environ.get(QUEUE_ENV):
        env.append(f"{QUEUE_ENV}={os.environ[QUEUE_ENV]}")
    return " ".join(env) + f" celery -A {WORKER_TARGET} worker --loglevel=INFO"


@functools.cache
def worker_dash_app() -> Dash:
    """The demo's Dash app as the worker builds it: defining the callbacks registers
    their tasks on kombu_dash's Celery app."""
    from .app import build_app

    return build_app(os.environ.get(BACKEND_ENV, "flask"), celery_managers())


def worker_celery_app() -> Celery:
    """``celery -A kombu_dash.cli.demo:celery_app worker`` lands here."""
    worker_dash_app()
    app: Celery = celery_managers().kombu_dash.handle
    return app
