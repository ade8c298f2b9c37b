"""docker-compose.yml cannot rot: it validates, and its services' commands work.

No Docker engine runs on our machines, so the `worker` and `web` commands are read from
the file and run on this host against the local Redis; one background callback is then
driven over HTTP to completion through that worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .test_demo import Proc, drive_demo, free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]  # docker-compose


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    if exe is None:
        # CI installs the Debian package docker-compose; there a missing tool is a failure.
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (apt-get install docker-compose)")
        pytest.skip("docker-compose is not installed here (CI installs it)")
    done = subprocess.run([exe, "-f", str(COMPOSE), "config", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_services_are_the_ones_the_readme_names(services):
    assert set(services) == {"redis", "worker", "web", "tests"}
    for name in ("worker", "web", "tests"):
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_tests_service_runs_test_files_that_exist(services):
    command = services["tests"]["command"]
    files = [arg for arg in command if arg.startswith("tests/")]
    assert files and all((ROOT / f).is_file() for f in files), files


def local_argv(command: list, port: int) -> list:
    """The compose command as it runs here: this venv's Python, loopback and a free port."""
    argv = list(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "celery":
        argv[:1] = [sys.executable, "-m", "celery"]
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if option in argv:
            argv[argv.index(option) + 1] = value
    return argv


def test_compose_worker_and_web_commands_run_a_background_callback(services, tmp_path, redis_url,
                                                                   unique_name):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in services["worker"]["environment"].items()})
    # The compose Redis is the local one here; a unique queue keeps concurrent runs apart.
    env.update(REDIS_URL=redis_url, KOMBU_DASH_DEMO_QUEUE=unique_name)
    port = free_port()
    worker = Proc(local_argv(services["worker"]["command"], port), env, tmp_path / "worker.log", cwd=ROOT)
    web = None
    try:
        worker.wait_for(r"ready\.", timeout=120)
        web = Proc(local_argv(services["web"]["command"], port), env, tmp_path / "web.log", cwd=ROOT)
        web.wait_for(r"celery -A kombu_dash\.demo:celery_app worker")
        wait_http(f"http://127.0.0.1:{port}")
        sync_rows, bg_rows, progress = drive_demo(f"http://127.0.0.1:{port}")
    finally:
        for proc in (web, worker):
            if proc is not None:
                proc.stop()
    assert "kombu_dash.dash_managers.CeleryManager" in web.text()
    # The demo prints the worker command a user needs: the compose worker's, plus the environment.
    assert (f"REDIS_URL={redis_url} KOMBU_DASH_DEMO_QUEUE={unique_name} "
            "celery -A kombu_dash.demo:celery_app worker --loglevel=INFO") in web.text()
    assert bg_rows == sync_rows
    assert ['ctx.args.getlist("tag")', "['a', 'b']"] in bg_rows
    assert progress, "no progress reached the page"
    assert "succeeded" in worker.text()
