"""Shared fixtures. Broker tests use REDIS_URL and AMQP_URL (defaults: local services)."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672//")


@pytest.fixture
def unique_name(request):
    """A queue/key prefix no other test (or concurrent test run) uses."""
    return f"kd-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}".replace("[", "-").replace("]", "")


@pytest.fixture(scope="session")
def redis_url():
    return REDIS_URL


@pytest.fixture(scope="session")
def amqp_url():
    return AMQP_URL


def _backport_celery_cancel_for_fix():
    """Celery < 5.7's Redis result consumer can deadlock when the garbage collector
    runs ``AsyncResult.__del__`` in the middle of a SUBSCRIBE (celery#10477, fixed
    upstream by making ``cancel_for`` idempotent, celery PR #10497). Seen here as a
    chord test hanging on Celery 5.3.6; this is that fix, applied to old Celery only."""
    try:
        from celery.backends.redis import ResultConsumer
    except ImportError:  # pragma: no cover - celery is in the test extra
        return
    if hasattr(ResultConsumer, "_flush_pending_unsubscribe") or hasattr(ResultConsumer.cancel_for, "_kd_backport"):
        return  # a Celery with its own fix
    original = ResultConsumer.cancel_for

    def cancel_for(self, task_id):
        if self._get_key_for_task(task_id) not in self.subscribed_to:
            return  # already unsubscribed: a second UNSUBSCRIBE would re-enter redis-py's lock
        return original(self, task_id)

    cancel_for._kd_backport = True
    ResultConsumer.cancel_for = cancel_for


_backport_celery_cancel_for_fix()
