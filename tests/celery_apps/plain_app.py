"""A worker app that never imports kombu_dash: it only names the serializer in its settings.

The ``kombu.serializers`` entry point of the installed package registers ``kombu_dash`` when
Celery imports kombu.serialization; this module must not import kombu_dash (a test checks).

    celery -A tests.celery_apps.plain_app worker
"""

from __future__ import annotations

from celery import Celery

from ._env import conf_from_env
from .tasks import define_tasks

app = Celery("kd_plain")
app.conf.update(conf_from_env())
app.conf.update(
    accept_content=["json", "kombu_dash"],
    result_accept_content=["json", "kombu_dash"],
    result_serializer="kombu_dash",
)
define_tasks(app)
