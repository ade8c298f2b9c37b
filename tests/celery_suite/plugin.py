"""pytest plugin for Celery's own integration suite (t/integration from Celery's sdist).

``KD_CELERY_SUITE_MODE=kombu_dash`` (the default) adds to the suite's ``celery_config``
exactly the settings ``kombu_dash.configure(app)`` makes; ``json`` leaves the suite as Celery
ships it. The suite's files are never edited: the fixture's dict is extended after the suite's
own ``celery_config`` fixture built it.

``KD_CELERY_SUITE_OUTCOMES=path`` writes every test's outcome there as JSON (run.py compares
them). In kombu_dash mode the plugin also checks that the apps really send kombu_dash, so a
gate that silently ran json twice cannot pass. ``KD_CELERY_SUITE_DESELECT=path`` leaves out
the exact node ids listed there (run.py's subset).

Three changes to Celery's test harness, the same in both modes, none to a test: the idle
check after each test returns on the one worker's reply instead of waiting out its timeout;
Celery 5.3's Redis helpers honour REDIS_PORT as 5.7's do; Celery < 5.7 gets the upstream fix
of a Redis result-consumer deadlock that otherwise hangs a json run (see each function).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

MODES = ("json", "kombu_dash")
MODE = os.environ.get("KD_CELERY_SUITE_MODE", "kombu_dash")
if MODE not in MODES:
    raise pytest.UsageError(f"KD_CELERY_SUITE_MODE={MODE!r}: expected one of {MODES}")

_outcomes: dict[str, str] = {}
_skip_reasons: dict[str, str] = {}
_durations: dict[str, float] = {}
_encoded = {"kombu_dash": 0}


def kombu_dash_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The settings ``kombu_dash.configure`` changes on an app built from ``config``.

    Computed by running ``configure`` on a scratch app rather than copied here, so the
    suite follows whatever ``configure`` does.
    """
    from celery import Celery

    import kombu_dash

    scratch = Celery("kombu-dash-scratch", set_as_current=False)
    scratch.conf.update(config)
    before = dict(scratch.conf.changes)
    kombu_dash.configure(scratch)
    after = dict(scratch.conf.changes)
    return {key: value for key, value in after.items() if before.get(key, object()) != value}


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Any:
    outcome = yield
    if MODE != "kombu_dash" or outcome.excinfo is not None:
        return
    value = outcome.get_result()
    if fixturedef.argname == "celery_config":
        # The suite's session fixture returns a dict every app of the run is built from.
        value.update(kombu_dash_settings(value))
    elif fixturedef.argname in ("celery_session_app", "celery_app"):
        conf = value.conf
        if conf.task_serializer != "kombu_dash" or conf.result_serializer != "kombu_dash":
            raise RuntimeError(
                f"{fixturedef.argname} is not configured for kombu_dash: "
                f"task_serializer={conf.task_serializer!r}, "
                f"result_serializer={conf.result_serializer!r}"
            )


def _count_kombu_dash_encodes() -> None:
    """Count kombu_dash encodes in this process (the one that sends the tasks).

    ``register()`` (which ``configure`` calls) registers whatever
    ``kombu_dash.serializer.encode`` is when it runs, so the counter stays registered.
    """
    from kombu_dash import serializer

    encode = serializer.encode

    def counting(obj: Any) -> bytes:
        _encoded["kombu_dash"] += 1
        return encode(obj)

    serializer.encode = counting
    serializer.register()


def _answer_idle_checks_on_first_reply() -> None:
    """The suite's ``manager`` fixture ends every test with ``Manager.wait_until_idle``,
    whose ``inspect().active()`` broadcast collects replies for its whole 1 s timeout. The
    suite runs exactly one worker (its conftest enforces that), so ``limit=1`` returns on
    that worker's reply: the same check, about a second less per test, in both modes."""
    import functools

    from celery.contrib.testing.manager import ManagerMixin

    wait_until_idle = ManagerMixin.wait_until_idle

    def on_first_reply(self: Any) -> None:
        control = self.app.control
        inspect = control.inspect  # a cached property: the app's Inspect class
        control.inspect = functools.partial(inspect, limit=1)
        try:
            wait_until_idle(self)
        finally:
            control.inspect = inspect

    ManagerMixin.wait_until_idle = on_first_reply


def _redis_connection() -> Any:
    from redis import StrictRedis

    host = os.environ.get("REDIS_HOST", "localhost")
    return StrictRedis(host=host, port=int(os.environ.get("REDIS_PORT", "6379")))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Celery 5.3's ``get_redis_connection`` (t/integration/conftest.py) reads REDIS_HOST
    but always uses port 6379; Celery 5.7's reads REDIS_PORT too. Give 5.3's helpers (the
    redis_echo tasks, its PUBSUB CHANNELS checks) the same, so they reach the run's Redis.
    The suite's modules are all imported by now, and the worker has not forked yet."""
    for name, module in list(sys.modules.items()):
        helper = getattr(module, "get_redis_connection", None) if name.startswith("t.") else None
        if helper is not None and "REDIS_PORT" not in helper.__code__.co_consts:
            module.get_redis_connection = _redis_connection  # type: ignore[attr-defined]


def _backport_redis_cancel_for_fix() -> None:
    """Celery < 5.7's Redis result consumer can deadlock when the garbage collector runs
    ``AsyncResult.__del__`` during a SUBSCRIBE (celery#10477, fixed in 5.7). On Celery 5.3,
    test_revoked_by_headers_complex_canvas hits it and hangs the run for good, on json too:
    pytest-timeout's exception lands in ``__del__``, where Python ignores it. The project's
    own tests apply the upstream fix (tests.harness.patch_celery_result_consumer, as a
    fixture); so does this run, for the whole run and in both modes (it does nothing on a
    Celery that has the fix)."""
    from tests.harness import patch_celery_result_consumer

    patch_celery_result_consumer()


def pytest_configure(config: pytest.Config) -> None:
    _backport_redis_cancel_for_fix()
    _answer_idle_checks_on_first_reply()
    if MODE == "kombu_dash":
        _count_kombu_dash_encodes()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests named, one exact node id a line, in KD_CELERY_SUITE_DESELECT
    (pytest's own --deselect matches prefixes: test_retry would take test_retry_* along)."""
    path = os.environ.get("KD_CELERY_SUITE_DESELECT")
    if not path:
        return
    names = set(Path(path).read_text().split("\n")) - {""}
    left_out = [item for item in items if item.nodeid in names]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item.nodeid not in names]


def pytest_report_header(config: pytest.Config) -> str:
    return f"kombu_dash celery-suite plugin: mode {MODE}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "subtest" not in type(report).__name__.lower():  # a subtest's time is in its test's
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
    # One outcome per test: a failure in setup or teardown counts as the test's failure.
    if report.when == "call" or report.outcome != "passed":
        outcome: str = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.when != "call" and report.failed:
            outcome = "error"
        if _outcomes.get(report.nodeid) not in ("failed", "error"):
            _outcomes[report.nodeid] = outcome
        if outcome == "skipped" and isinstance(report.longrepr, tuple):
            _skip_reasons[report.nodeid] = str(report.longrepr[2]).removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("KD_CELERY_SUITE_OUTCOMES")
    if not path:
        return
    Path(path).write_text(
        json.dumps(
            {
                "mode": MODE,
                "kombu_dash_encodes": _encoded["kombu_dash"],
                "outcomes": dict(sorted(_outcomes.items())),
                "skip_reasons": dict(sorted(_skip_reasons.items())),
                "durations": {k: round(v, 2) for k, v in sorted(_durations.items())},
            },
            indent=1,
        )
        + "\n"
    )
