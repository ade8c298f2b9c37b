"""Shared fixtures. Broker tests use REDIS_URL and AMQP_URL (defaults: local services)."""

from __future__ import annotations

import os
import uuid

import pytest

from .harness import running

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


@pytest.fixture(scope="module")
def fleet(request, tmp_path_factory):
    """Real Celery workers shared by a module's tests: the module's ``fleet_workers(logdir,
    request)`` names them ({key: CeleryWorker}); all start together, all are ready before the
    first test, all stop after the last."""
    workers = request.module.fleet_workers(tmp_path_factory.mktemp("workers"), request)
    with running(workers):
        yield workers


@pytest.fixture(scope="module")
def celery_result_consumer_fix():
    """Celery < 5.7's Redis result consumer can deadlock when the garbage collector runs
    ``AsyncResult.__del__`` in the middle of a SUBSCRIBE (celery#10477, fixed upstream by
    making ``cancel_for`` idempotent, celery PR #10497). Seen here as a chord test hanging on
    Celery 5.3.6. This is that fix, put in place only for the modules that wait on results in
    this process (``pytestmark = pytest.mark.usefixtures("celery_result_consumer_fix")``), only
    on a Celery without it, and taken out again after the module."""
    from celery.backends.redis import ResultConsumer

    if hasattr(ResultConsumer, "_flush_pending_unsubscribe"):
        yield False  # a Celery with its own fix
        return
    original = ResultConsumer.cancel_for

    def cancel_for(self, task_id):
        if self._get_key_for_task(task_id) not in self.subscribed_to:
            return None  # already unsubscribed: a second UNSUBSCRIBE re-enters redis-py's lock
        return original(self, task_id)

    ResultConsumer.cancel_for = cancel_for
    try:
        yield True
    finally:
        ResultConsumer.cancel_for = original
