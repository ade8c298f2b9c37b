"""A worker configured the documented way: ``kombu_dash.configure(app)``.

result_extended (args/kwargs stored with the result), track_started and acks_late with a
prefetch of one, so the control tests can see a task running and another one still queued.

    celery -A tests.celery_apps.configured_app worker -P prefork -c 1 --prefetch-multiplier 1
"""

from __future__ import annotations

from celery import Celery

import kombu_dash

from ._env import conf_from_env
from .tasks import define_tasks

app = Celery("kd_configured")
app.conf.update(conf_from_env())
app.conf.update(
    result_extended=True,
    task_track_started=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
)
kombu_dash.configure(app)
define_tasks(app)
