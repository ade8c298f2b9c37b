"""Fixtures for the tests that run inside the compose stack's ``tests`` container.

These tests need the stack's containers (Redis, three workers, web) and the engine's
socket: docker-compose.yml sets KD_COMPOSE_STACK=1 for the tests service, and
``nox -s compose`` runs them there. Anywhere else (the host sessions, whose pytest
collects tests/) this directory is not collected.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
import requests

if os.environ.get("KD_COMPOSE_STACK") != "1":
    collect_ignore_glob = ["test_*.py"]

WORKERS = 3  # `up --scale worker=3`
WEB = os.environ.get("KD_WEB", "http://web")
FIGURES = Path(os.environ.get("KD_FIGURES", "/tmp/kombu_dash_compose_figures.jsonl"))


def figure(name: str, **values: object) -> None:
    """A measured number, printed (pytest -s / -rA shows it) for the closing note."""
    line = json.dumps({"test": name, **values})
    print(line)
    with FIGURES.open("a") as f:
        f.write(line + "\n")


@pytest.fixture(scope="session")
def docker():
    from .docker_api import Docker

    return Docker()


@pytest.fixture(scope="session")
def me(docker) -> dict:
    """This tests container, as the engine sees it (its hostname is its short id)."""
    return docker.inspect(socket.gethostname())


@pytest.fixture(scope="session")
def project(me) -> str:
    return me["Config"]["Labels"]["com.docker.compose.project"]


@pytest.fixture(scope="session")
def stack_app():
    """The workers' app, as a producer: it gives up connecting after two retries (a
    worker keeps trying until Redis is back)."""
    from tests.compose.stack import celery_app

    celery_app.conf.broker_connection_max_retries = 2
    return celery_app


def worker_hosts(stack_app, timeout: float = 3.0) -> set[str]:
    """The hostnames of the workers that answer a control ping (``worker@<hostname>``)."""
    replies = stack_app.control.ping(timeout=timeout) or []
    return {name.split("@", 1)[1] for reply in replies for name in reply}


@pytest.fixture(scope="session")
def workers(docker, project, stack_app) -> dict[str, dict]:
    """hostname -> container of every worker container; all of them answer a ping."""
    end = time.monotonic() + 120
    while True:
        containers = docker.containers(project, "worker")
        hosts = {docker.inspect(c["Id"])["Config"]["Hostname"]: c for c in containers}
        answering = worker_hosts(stack_app)
        if len(hosts) >= WORKERS and set(hosts) <= answering:
            return hosts
        if time.monotonic() > end:
            pytest.fail(
                f"want {WORKERS} worker containers answering a ping (docker compose up -d "
                f"--scale worker={WORKERS}); containers {sorted(hosts)}, answering "
                f"{sorted(answering)}"
            )
        time.sleep(1)


@pytest.fixture(scope="session")
def web() -> str:
    """The web service, once its three servers answer."""
    end = time.monotonic() + 120
    for port in (8050, 8051, 8052):
        while True:
            try:
                if requests.get(f"{WEB}:{port}/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > end:
                pytest.fail(f"{WEB}:{port} did not answer within 120 s")
            time.sleep(0.5)
    return WEB
