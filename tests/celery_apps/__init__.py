"""Celery app modules the broker tests run real workers on (in-process or ``celery worker``).

Each module reads its broker, backend and queue from the environment (see ``_env``), so every
test run gets its own queue and control exchange on the shared brokers.
"""
