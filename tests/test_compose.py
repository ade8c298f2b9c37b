"""docker-compose.yml and the Dockerfile, checked on the host without an engine.

The stack itself runs for real in ``nox -s compose`` (tests/compose/, inside the tests
container); these checks are the cheap part every session runs: the file validates with
the docker-compose CI installs, and what README and tests/compose rely on is in it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"

pytestmark = pytest.mark.slow  # docker-compose config takes seconds


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    if exe is None:
        # CI installs the Debian package docker-compose; there a missing tool is a failure.
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (apt-get install docker-compose)")
        pytest.skip("docker-compose is not installed here (CI installs it)")
    base = ["-f", "docker-compose.yml"]
    for files in (base, base + ["-f", "compose/offline.yml"]):
        done = subprocess.run(
            [exe, *files, "config", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


def test_services_and_their_wiring(spec):
    services = spec["services"]
    assert "version" not in spec  # obsolete in Compose v2; 1.29 accepts the file without it
    assert set(services) == {"redis", "worker", "web", "tests"}
    redis = services["redis"]
    assert redis["image"] == "${KD_REDIS_IMAGE:-redis:7-alpine}"
    command = " ".join(redis["command"])
    assert "--bind 0.0.0.0" in command and "--protected-mode no" in command
    assert "--save  --appendonly no" in command  # no persistence: operations.rst's restart case
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name in ("worker", "web", "tests"):
        service = services[name]
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert service["build"]["args"] == {"PYTHON_IMAGE": "${KD_PYTHON_IMAGE:-python:3.12-slim}"}
        assert "entrypoint" not in service and "volumes" not in service or name == "tests"


def test_dockerfile_builds_the_wheel_in_a_builder_stage_and_runs_it_without_a_compiler():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.12-slim$", stages[0], re.M)
    # both stages on the same Python: the wheel is built for the interpreter that runs it
    builder, runtime = stages[1:]
    assert builder.startswith("${PYTHON_IMAGE} AS builder\n")
    assert runtime.startswith("${PYTHON_IMAGE}\n")
    assert "gcc" in builder and "KOMBU_DASH_REQUIRE_SPEEDUPS=1 pip wheel" in builder
    assert "apt-get" not in runtime and "gcc" not in runtime.split("command -v")[0]
    assert "COPY --from=builder /dist/" in runtime
    # no source tree beside the installed wheel, and the build checks what it made
    assert "COPY kombu_dash/" not in runtime
    assert "tests/wheels/engine_check.py" in runtime
    assert "pip install" in runtime and "ENTRYPOINT" not in text


def test_the_dependency_layer_stub_is_enough_for_the_package_metadata(tmp_path):
    """The image installs the dependencies from the metadata alone, with a stub package
    standing in for the code: whatever setup.cfg reads from the package (its version) must
    be in the stub. Run here as the Dockerfile runs it, without an engine."""
    text = (ROOT / "Dockerfile").read_text()
    copied = re.search(r"^COPY (setup\.cfg setup\.py pyproject\.toml) \./\n", text, re.M)
    assert copied, "the dependency layer copies the metadata files"
    stub = re.match(r"RUN (.*)\n", text[copied.end() :])
    assert stub, "a RUN line that makes the stub package follows them"
    for name in copied.group(1).split():
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(["sh", "-c", stub.group(1)], cwd=tmp_path, check=True)
    done = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0", done.stdout


def test_tests_service_runs_test_files_that_exist(spec):
    command = spec["services"]["tests"]["command"]
    paths = [arg for arg in command if arg.startswith("tests/")]
    assert paths and all((ROOT / p).exists() for p in paths), paths
    assert all(p.startswith("tests/compose/") for p in paths)


def test_offline_run_has_no_route_out():
    # nox -s compose adds compose/offline.yml: the containers reach each other only
    offline = yaml.safe_load((ROOT / "compose" / "offline.yml").read_text())
    assert offline["networks"]["default"]["internal"] is True
    assert set(offline["services"]) == {"worker", "web", "tests"}
