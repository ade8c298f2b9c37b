"""Moved to :mod:`kombu_dash.cli.demo`; this name keeps working.

``celery -A kombu_dash.demo:celery_app worker`` is the worker command the demo prints
and docker-compose.yml runs, and ``kombu_dash.demo.main`` may be in users' scripts:
every attribute is looked up in :mod:`kombu_dash.cli.demo` when first asked for.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    return getattr(importlib.import_module("kombu_dash.cli.demo"), name)
