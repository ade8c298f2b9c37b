"""Old name of :mod:`kombu_dash.standins` (the dependency-free stand-ins); kept so
imports written against kombu_dash 0.1 keep working."""

import warnings

from .standins import AttributeDict, Headers, MultiDict

__all__ = ["MultiDict", "Headers", "AttributeDict"]

warnings.warn(
    "kombu_dash.multidict is now kombu_dash.standins (MultiDict, Headers and AttributeDict "
    "are also importable from kombu_dash itself)",
    DeprecationWarning,
    stacklevel=2,
)
