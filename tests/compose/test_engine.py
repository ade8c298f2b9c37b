"""The image runs kombu_dash as a user's install should: the C engine and orjson, from the
binary wheel the Dockerfile's builder stage made, on a runtime that has no compiler; and
so does every worker container of the stack, each asked for its own engine."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

import kombu_dash

pytestmark = pytest.mark.timeout(120)


def test_this_container_runs_the_c_engine_from_the_wheel_without_a_compiler():
    assert [cc for cc in ("cc", "gcc", "clang") if shutil.which(cc)] == []
    info = kombu_dash.engine_info()
    assert (info.engine, info.json) == ("c", "orjson"), info
    # the installed wheel, not a source tree on the path
    site = Path(sysconfig.get_paths()["purelib"])
    assert Path(kombu_dash.__file__).is_relative_to(site), kombu_dash.__file__
    assert list((site / "kombu_dash").glob("_speedups.*.so"))


def test_every_worker_runs_the_c_engine_with_orjson(stack_app, workers):
    replies = stack_app.control.broadcast("kd_stack_engine", reply=True, timeout=10) or []
    engines = {name.split("@", 1)[1]: info for reply in replies for name, info in reply.items()}
    assert set(engines) == set(workers), (sorted(engines), sorted(workers))
    for host, info in engines.items():
        assert (info["engine"], info["json"]) == ("c", "orjson"), (host, info)
        assert info["version"] == kombu_dash.__version__, (host, info)
