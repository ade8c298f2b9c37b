"""The worker of tests.celery_census: configured with kombu_dash, events sent as kombu_dash,
and the serializer wrapped so every value it encodes is recorded (KD_CENSUS names the file).

    KD_CENSUS=/tmp/census.jsonl celery -A tests.celery_apps.census_app worker -E

KD_CENSUS_JSON=1: json everywhere instead (the baseline to compare the scenarios with).
"""

from __future__ import annotations

import os

from celery import Celery

import kombu_dash

from ..celery_census import install
from ._env import conf_from_env
from .tasks import define_tasks

app = Celery("kd_census")
app.conf.update(conf_from_env())
app.conf.update(
    result_extended=True,
    task_track_started=True,
    event_serializer="kombu_dash",
    worker_prefetch_multiplier=1,
)
if os.environ.get("KD_CENSUS_JSON"):  # the json baseline: same worker, Celery's defaults
    app.conf.event_serializer = "json"
else:
    kombu_dash.configure(app)
define_tasks(app)
if os.environ.get("KD_CENSUS") and not os.environ.get("KD_CENSUS_JSON"):
    install(os.environ["KD_CENSUS"])
