"""``python -m kombu_dash check`` inside the stack: 0 against the stack's workers, 5
(NOT_ACCEPTED) against a worker container started from a json-only app."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.timeout(180)

# The command's exit codes (docs/operations.rst): a contract, so spelled out here.
OK, NOT_ACCEPTED = 0, 5


def check(app: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "kombu_dash", "check", "-A", app, "--timeout", "40", *args]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_check_passes_against_the_stack_workers(workers):
    done = check("tests.compose.stack:celery_app")
    assert done.returncode == OK, done.stdout + done.stderr


def test_check_exits_5_against_a_json_only_worker_container(docker, me, project):
    # Its own Redis database and queue: the stack's workers must not answer for it.
    env = {
        "KD_BROKER": "redis://redis:6379/1",
        "KD_BACKEND": "redis://redis:6379/1",
        "KD_QUEUE": "kd-json-only",
    }
    name = f"{project}-json-only-{uuid.uuid4().hex[:6]}"
    network = next(iter(me["NetworkSettings"]["Networks"]))
    ref = docker.create(
        name,
        {
            "Image": me["Config"]["Image"],
            "Cmd": [
                "celery",
                "-A",
                "tests.celery_apps.json_only_app",
                "worker",
                "-n",
                "json-only@%h",
                "-c",
                "1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            "Env": [f"{k}={v}" for k, v in env.items()],
            "WorkingDir": "/src",
            # compose's labels: `docker compose down --remove-orphans` removes it if we cannot
            "Labels": {
                "com.docker.compose.project": project,
                "com.docker.compose.service": "json-only-worker",
            },
            "HostConfig": {"NetworkMode": network},
        },
    )
    try:
        docker.start(ref)
        end = time.monotonic() + 90
        while "ready." not in docker.logs(ref):
            assert docker.inspect(ref)["State"]["Running"], docker.logs(ref)[-3000:]
            assert time.monotonic() < end, docker.logs(ref)[-3000:]
            time.sleep(0.5)
        done = check("tests.celery_apps.json_only_app", "-Q", "kd-json-only", env=env)
        assert done.returncode == NOT_ACCEPTED, done.stdout + done.stderr
    finally:
        docker.remove(ref)
