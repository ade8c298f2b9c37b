"""kombu_dash.CeleryManager / DiskcacheManager as objects: drop-in constructors and the
caches they make. What CeleryManager sends and stores: tests/test_dash_managers_store.py."""

from __future__ import annotations

import inspect
import subprocess
import sys

import kombu_dash


def test_import_kombu_dash_does_not_import_dash():
    code = "import sys, kombu_dash; kombu_dash.dumps({'a': (1,)}); print('dash' in sys.modules, 'diskcache' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_managers_are_drop_in_subclasses():
    import dash

    assert issubclass(kombu_dash.CeleryManager, dash.CeleryManager)
    assert issubclass(kombu_dash.DiskcacheManager, dash.DiskcacheManager)
    for ours, theirs in [
        (kombu_dash.CeleryManager, dash.CeleryManager),
        (kombu_dash.DiskcacheManager, dash.DiskcacheManager),
    ]:
        # same names, kinds and defaults (ours are annotated, Dash's are not)
        assert _params(ours.__init__) == _params(theirs.__init__)


def test_diskcache_manager_creates_a_tagged_json_cache(tmp_path):
    import diskcache

    manager = kombu_dash.DiskcacheManager()
    try:
        assert type(manager.handle.disk) is kombu_dash.TaggedJSONDisk
    finally:
        manager.handle.close()
        __import__("shutil").rmtree(manager.handle.directory, ignore_errors=True)
    mine = diskcache.Cache(str(tmp_path))  # a user's own cache is kept as given
    assert kombu_dash.DiskcacheManager(mine).handle is mine


def test_job_ending_between_result_and_running_checks_is_not_taken_for_cancelled(tmp_path):
    """Dash polls get_result, then job_running: a job that writes its result and exits in
    between looked cancelled (204, output never shown). Deterministic replay of that order."""
    import dash
    import diskcache

    proc = subprocess.Popen([sys.executable, "-c", "pass"])  # exits and is reaped: not running
    proc.wait()
    job = str(proc.pid)
    for manager_cls, expected_running in [
        (dash.DiskcacheManager, False),
        (kombu_dash.DiskcacheManager, True),
    ]:
        cache = diskcache.Cache(
            str(tmp_path / manager_cls.__module__), disk=kombu_dash.TaggedJSONDisk
        )
        manager = manager_cls(cache)
        assert manager.get_result("key", job) is manager.UNDEFINED  # poll: not written yet...
        cache.set("key", "the output")  # ...the job writes and exits
        assert bool(manager.job_running(job)) is expected_running  # dash's own: "cancelled"
        if expected_running:
            assert manager.get_result("key", None) == "the output"  # the next poll shows it
