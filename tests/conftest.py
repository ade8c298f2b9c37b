"""Shared fixtures. Broker tests use REDIS_URL and AMQP_URL (defaults: local services)."""

from __future__ import annotations

import os
import uuid

import pytest

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
