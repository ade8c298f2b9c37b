"""Shared fixtures. Broker tests use REDIS_URL and AMQP_URL (defaults: local services)."""

from __future__ import annotations

import uuid

import pytest

from . import harness
from .harness import AMQP_URL, REDIS_URL, patch_celery_result_consumer, running


def pytest_configure(config):
    # The quick tier is whatever leaves out the slow tests: Hypothesis runs fewer examples
    # there (harness.examples); the full tier runs them all.
    harness.QUICK = "not slow" in (config.option.markexpr or "")


def pytest_collection_modifyitems(config, items):
    # pytest-timeout's limits end a hung test. On a loaded machine a healthy test may take
    # harness.PATIENCE times longer, as every wait in the harness allows: scale them alike.
    default = float(config.getini("timeout") or 0)
    for item in items:
        marker = item.get_closest_marker("timeout")
        seconds = (
            (marker.args[0] if marker.args else marker.kwargs["timeout"]) if marker else default
        )
        if seconds:
            item.add_marker(pytest.mark.timeout(seconds * harness.PATIENCE), append=False)


@pytest.fixture(autouse=True, scope="module")
def _shared_celery_tasks_stay_in_their_module():
    """Celery adds every ``app.task`` to every app finalized later in the process (shared
    tasks): Dash apps one module builds (the demo for each backend, the stores' callbacks)
    would make a fresh app in another module warn about duplicate task names. Each module
    starts from the shared tasks that were there before it."""
    try:
        from celery import _state
    except ImportError:  # a session without Celery (nox -s wheels)
        yield
        return

    before = set(_state._on_app_finalizers)
    yield
    _state._on_app_finalizers.intersection_update(before)


@pytest.fixture(scope="session", params=harness.ENGINES)
def engine(request):
    """Each engine this process has: "c" (where built) and "python"."""
    return request.param


@pytest.fixture(scope="session")
def codec(engine):
    """The default codec's tags on each engine: every codec test runs on both."""
    return harness.codec_for(engine)


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
    """Celery's own fix for a result-consumer deadlock, only around the modules that wait on
    results in this process (``pytest.mark.usefixtures("celery_result_consumer_fix")``), only
    on a Celery without it; see :func:`tests.harness.patch_celery_result_consumer`."""
    undo = patch_celery_result_consumer()
    try:
        yield undo is not None
    finally:
        if undo is not None:
            undo()
