"""A worker that was never told about kombu_dash: stock settings, json only.

It stands for a worker not yet upgraded when producers already send kombu_dash.

    celery -A tests.celery_apps.json_only_app worker
"""

from __future__ import annotations

from celery import Celery

from ._env import conf_from_env
from .tasks import define_tasks

app = Celery("kd_json_only")
app.conf.update(conf_from_env())
app.conf.update(accept_content=["json"], result_accept_content=["json", "kombu_dash"])
define_tasks(app)
