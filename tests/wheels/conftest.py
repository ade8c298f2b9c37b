"""Fixtures for the checks of what ``nox -s wheels`` built (dist/).

These tests need the built files and a Docker engine with the compose base image: the
session sets KD_DIST (the sdist and the repaired wheels), KD_DEPS (wheels of kombu_dash's
requirements for the image's Python), KD_IMAGE and DOCKER_HOST, and runs them. Anywhere
else (the host sessions, whose pytest collects tests/) this directory is not collected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if not os.environ.get("KD_DIST"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def dist() -> Path:
    return Path(os.environ["KD_DIST"])


@pytest.fixture(scope="session")
def wheels(dist) -> list[Path]:
    return sorted(dist.glob("kombu_dash-*.whl"))


@pytest.fixture(scope="session")
def sdist(dist) -> Path:
    (found,) = dist.glob("kombu_dash-*.tar.gz")
    return found
