"""The codec behind ``kombu_dash.dumps``/``loads``, the kombu serializer and the diskcache
Disk: the built-in tags plus every framework's (``frameworks/``).

It lives in its own module, below the ones that use it, so every import in the package
points down and none reaches up into ``kombu_dash/__init__.py``.
"""

from __future__ import annotations

from .codec import Codec
from .frameworks import FRAMEWORK_TAGS

__all__ = ["default_codec"]

#: The codec behind :func:`kombu_dash.dumps`, :func:`kombu_dash.loads` and the serializer.
default_codec = Codec(FRAMEWORK_TAGS)
