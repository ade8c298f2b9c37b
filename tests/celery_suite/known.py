"""Why some of Celery's integration tests may fail, by pytest node id (run.py reads this).

LOSSY: tests that assert what json loses on the way (a tuple arrives as a list, ...). They
pass on json and fail on kombu_dash, which keeps the type: the gate accepts that, and only
that, for these tests. Each entry names the assertion.

ENVIRONMENT: tests that fail on json too, here and in CI, for reasons outside kombu_dash.
The gate requires a reason for every test that fails in the json baseline.
"""

from __future__ import annotations

LOSSY: dict[str, str] = {}

ENVIRONMENT: dict[str, str] = {}
