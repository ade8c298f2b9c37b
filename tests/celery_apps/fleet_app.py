"""One app module for every kind of worker and client of a mixed fleet (tests/test_celery_fleet.py).

KD_MODE  configured   ``kombu_dash.configure(app)``
         accept_only  ``kombu_dash.configure(app, accept_only=True)``
         by_hand      ``accept_content`` and ``result_accept_content`` list kombu_dash, nothing
                      else (the shortcut the docs no longer offer: results stay json)
         plain        Celery's defaults; never imports kombu_dash, so it also runs where
                      kombu_dash is not installed
KD_FAKE_VERSION       the kombu_dash version this process reports (``check``'s version-mix
                      warning, without installing another release)

plus the settings of ``_env`` (broker, backend, queue, control exchange).

    KD_MODE=accept_only celery -A tests.celery_apps.fleet_app worker
"""

from __future__ import annotations

import os

from celery import Celery

from ._env import conf_from_env
from .tasks import define_tasks, type_name

MODES = ("configured", "accept_only", "by_hand", "plain")
MODE = os.environ.get("KD_MODE", "plain")
if MODE not in MODES:
    raise ValueError(f"KD_MODE must be one of {MODES}, not {MODE!r}")

app = Celery("kd_fleet")
app.conf.update(conf_from_env())
if MODE == "by_hand":
    app.conf.update(
        accept_content=["json", "kombu_dash"], result_accept_content=["json", "kombu_dash"]
    )
elif MODE != "plain":
    import kombu_dash

    if os.environ.get("KD_FAKE_VERSION"):
        # engine_info() reads the version module at call time, as an installed older
        # kombu_dash would report its own.
        kombu_dash._version.__version__ = os.environ["KD_FAKE_VERSION"]
    kombu_dash.configure(app, accept_only=MODE == "accept_only")
define_tasks(app)


@app.task(name="kd.fleet.pair", shared=False)
def pair(value):
    """The value back, with its type as this worker saw it: a tuple, which json turns into
    a list and kombu_dash keeps."""
    return value, type_name(value)


@app.task(name="kd.fleet.example", shared=False)
def example():
    """The value of the report: what a task returns, not what it was sent."""
    from werkzeug.datastructures import MultiDict

    return MultiDict([("tag", "a"), ("tag", "b")]), (1, 2)
