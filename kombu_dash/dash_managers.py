"""Dash background-callback managers whose callbacks see the request as a synchronous
callback does.

Drop-in subclasses of ``dash.CeleryManager`` and ``dash.DiskcacheManager`` (same
constructor arguments)::

    from kombu_dash import CeleryManager          # instead of: from dash import CeleryManager
    manager = CeleryManager(celery_app)

What they change, and why:

* Dash (>= 4.3) turns ``callback_context.args`` into ``dict(args)`` before dispatch,
  losing repeated query keys. ``call_job_fn`` runs while the request is still being
  handled, so the managers put the request's own multi-dict back into the context.
* ``CeleryManager`` sends Dash's task messages with the ``kombu_dash`` serializer
  (per task: the app's other tasks keep theirs) and adds it to ``accept_content`` so a
  worker started from the same module accepts them. Nested ``AttributeDict``s,
  tuples, datetimes, sets and Decimals in ``custom_data`` arrive as they were sent.
* ``CeleryManager`` writes a redacted ``argsrepr``/``kwargsrepr``: the context holds the
  request's cookies and headers (session cookies, Authorization), and Celery copies
  the repr of the arguments into message headers, events, Flower and worker logs.
* A job that ends between Dash's "result ready?" and "still running?" checks would be
  taken for cancelled (its output never shown); both managers look once more.
* ``DiskcacheManager()`` without a cache creates one that stores tagged JSON
  (:class:`kombu_dash.TaggedJSONDisk`) instead of pickles.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dash import CeleryManager as _DashCeleryManager
from dash import DiskcacheManager as _DashDiskcacheManager
from dash._callback_context import context_value

from .serializer import SERIALIZER, register

__all__ = ["CeleryManager", "DiskcacheManager"]

# Dash's own job function factory; the Celery one takes (fn, celery_app, progress, key).
_dash_celery_module = importlib.import_module(_DashCeleryManager.__module__)


def _request_context(context: Any) -> Any:
    """``context`` with ``args`` restored to the request's own multi-dict.

    Dash >= 4.3 replaces ``args`` by ``dict(args)`` in the copy it hands to the manager;
    the context of the request being handled still holds the original object.
    """
    try:
        live = context_value.get()
    except LookupError:
        return context
    args = live.get("args") if hasattr(live, "get") else None
    if args is None or args is context.get("args") or live is context:
        return context
    # Only put it back if it is the same query (the copy was made from this request).
    try:
        same = dict(args) == dict(context.get("args") or {})
    except TypeError:
        same = False
    if not same:
        return context
    restored = type(context)(context)
    restored["args"] = args
    return restored


class _TaskOptions:
    """Stands in for the Celery app while Dash builds its job function: the task it
    declares gets ``serializer="kombu_dash"``; everything else is the real app."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def task(self, *args: Any, **options: Any) -> Any:
        options.setdefault("serializer", SERIALIZER)
        return self._app.task(*args, **options)


def _redacted_repr(key: str, progress_key: str, user_args: object) -> str:
    # Never the context (cookies, headers, query) nor the callback's input values.
    if isinstance(user_args, dict):
        shown = f"<{len(user_args)} callback kwargs>"
    elif isinstance(user_args, (list, tuple)):
        shown = f"<{len(user_args)} callback args>"
    else:
        shown = "<1 callback arg>"
    return f"({key!r}, {progress_key!r}, {shown!r}, '<callback_context: redacted>')"


if TYPE_CHECKING:  # the mixin is only ever combined with one of Dash's managers
    from dash.background_callback.managers import BaseBackgroundCallbackManager as _Base
else:
    _Base = object


class _FinishedBetweenChecks(_Base):
    """Dash asks ``get_result`` and then ``job_running``; a job that writes its result and
    ends between the two is taken for cancelled and its result is never shown. If the job
    has stopped, look at the result once more: if it is there, report the job as running,
    and the next poll returns it."""

    def get_result(self, key: str, job: Any) -> Any:
        result = super().get_result(key, job)
        waiting: dict[str, str] = self.__dict__.setdefault("_kd_waiting", {})
        if result is self.UNDEFINED and job is not None:
            if len(waiting) > 10_000:  # jobs abandoned by closed pages
                waiting.clear()
            waiting[str(job)] = key
        else:
            waiting.pop(str(job), None)
        return result

    def job_running(self, job: Any) -> Any:
        running = super().job_running(job)
        if not running:
            key = self.__dict__.get("_kd_waiting", {}).pop(str(job), None)
            if key is not None and self.result_ready(key):
                return True
        return running


class CeleryManager(_FinishedBetweenChecks, _DashCeleryManager):
    """``dash.CeleryManager`` whose background callbacks see the request as a synchronous
    callback does. The same arguments as Dash's: the Celery app, ``cache_by``, ``expire``.

    Dash's task messages are sent with the ``kombu_dash`` serializer, per task: the app's
    other tasks, its results and its control mailbox keep their settings. The manager adds
    ``kombu_dash`` to the app's ``accept_content``, so a worker started from the module
    that builds the manager accepts those messages. Celery's ``argsrepr`` is redacted: the
    callback context holds the request's cookies and headers, which travel only inside
    the message body.
    """

    def __init__(self, celery_app: Any, cache_by: Any = None, expire: Any = None) -> None:
        register()
        conf = celery_app.conf
        # The worker imports the same module, so it gets the same accept lists.
        for setting in ("accept_content", "result_accept_content"):
            current = conf.get(setting)
            if setting == "result_accept_content" and current is None:
                continue  # falls back to accept_content, extended above
            names = list(current or ())
            if SERIALIZER not in names:
                conf[setting] = [*names, SERIALIZER]
        super().__init__(celery_app, cache_by=cache_by, expire=expire)

    def make_job_fn(self, fn: Any, progress: Any, key: Any = None) -> Any:
        return _dash_celery_module._make_job_fn(fn, _TaskOptions(self.handle), progress, key)

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
        context = _request_context(context)
        progress_key = self._make_progress_key(key)
        task = job_fn.apply_async(
            args=(key, progress_key, args, context),
            serializer=SERIALIZER,
            argsrepr=_redacted_repr(key, progress_key, args),
            kwargsrepr="{}",
        )
        return task.task_id


class DiskcacheManager(_FinishedBetweenChecks, _DashDiskcacheManager):
    """``dash.DiskcacheManager`` whose background callbacks see the request as a
    synchronous callback does. The same arguments as Dash's: ``cache``, ``cache_by``,
    ``expire``.

    Without ``cache`` it creates ``diskcache.Cache(disk=TaggedJSONDisk)``, which stores
    tagged JSON instead of pickles; a cache you pass is used as it is.
    """

    def __init__(self, cache: Any = None, cache_by: Any = None, expire: Any = None) -> None:
        if cache is None:
            import diskcache

            from .diskcache_disk import TaggedJSONDisk

            cache = diskcache.Cache(disk=TaggedJSONDisk)
        super().__init__(cache, cache_by=cache_by, expire=expire)

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
        return super().call_job_fn(key, job_fn, args, _request_context(context))
