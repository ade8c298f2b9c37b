"""A worker that only accepts signed messages, kombu_dash inside the signature.

KD_SECURITY_KEY, KD_SECURITY_CERT, KD_SECURITY_STORE name the key, the certificate and the
directory of trusted certificates (the tests make a throwaway pair).

    celery -A tests.celery_apps.signed_app worker
"""

from __future__ import annotations

import os

from celery import Celery

from ._env import conf_from_env
from .tasks import define_tasks

app = Celery("kd_signed")
app.conf.update(conf_from_env())
app.conf.update(
    security_key=os.environ.get("KD_SECURITY_KEY"),
    security_certificate=os.environ.get("KD_SECURITY_CERT"),
    security_cert_store=os.environ.get("KD_SECURITY_STORE"),
    task_serializer="auth",
    result_serializer="auth",
    event_serializer="auth",
    accept_content=["auth"],
    result_accept_content=["auth"],
)
# "auth" signs and checks the bytes kombu_dash produced. Left at its default (None),
# allowed_serializers disables every content type registered so far, so nothing unsigned
# is decoded; the signed kombu_dash body inside is decoded with force=True.
app.setup_security(serializer="kombu_dash")
define_tasks(app)
