"""``python -m kombu_dash demo`` (being split into modules; see app.py)."""

from .app import *  # noqa: F401,F403
from .app import __getattr__, main  # noqa: F401
