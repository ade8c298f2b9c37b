"""Moved: the ``decode`` command now lives in :mod:`kombu_dash.cli.decode`.

This shim keeps ``from kombu_dash import decode``, ``import kombu_dash.decode`` and
``python -m kombu_dash.decode`` working; new code should use ``python -m kombu_dash decode``.
"""

from __future__ import annotations

import sys

from .cli import decode as _moved

if __name__ == "__main__":
    sys.exit(_moved.main(sys.argv[1:]))
else:
    # The module object itself, so attributes (and monkeypatches) are the real ones.
    sys.modules[__name__] = _moved
