"""Moved: the ``check`` command now lives in :mod:`kombu_dash.cli.check`.

This shim keeps ``from kombu_dash import check``, ``import kombu_dash.check`` and
``python -m kombu_dash.check`` working; new code should use ``python -m kombu_dash check``.
"""

from __future__ import annotations

import sys

from .cli import check as _moved

if __name__ == "__main__":
    sys.exit(_moved.main(sys.argv[1:]))
else:
    # The module object itself, so attributes (and monkeypatches) are the real ones.
    sys.modules[__name__] = _moved
