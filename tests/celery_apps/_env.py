"""Settings every worker app here shares, read from the environment.

KD_BROKER            broker URL (Redis or RabbitMQ)
KD_BACKEND           result backend URL (Redis)
KD_QUEUE             the one queue this worker consumes and its tasks are sent to
KD_CONTROL_EXCHANGE  pidbox exchange name, so broadcasts (revoke, ping) stay in this run

Deliberately free of kombu_dash: plain_app and json_only_app must not import it.
"""

from __future__ import annotations

import os


def conf_from_env() -> dict:
    queue = os.environ.get("KD_QUEUE", "kd-celery-apps")
    return dict(
        broker_url=os.environ.get("KD_BROKER", "redis://localhost:6379/0"),
        result_backend=os.environ.get("KD_BACKEND", "redis://localhost:6379/0"),
        task_default_queue=queue,
        control_exchange=os.environ.get("KD_CONTROL_EXCHANGE", queue + "-control"),
        result_expires=600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
