"""Metadata is in setup.cfg. The one thing here: the optional C accelerator.

kombu_dash._speedups (the codec's two tree walks in C) is built where a compiler and
Python's headers are present; where they are not, the build goes on without it and
kombu_dash uses its pure-Python walks, which write the same bytes.
"""

import os
import platform

from setuptools import Extension, setup

ext_modules = []
# (the Dockerfile's dependency layer installs a stub package without the C source)
if platform.python_implementation() == "CPython" and os.path.exists("kombu_dash/_speedups.c"):
    ext_modules.append(Extension("kombu_dash._speedups", ["kombu_dash/_speedups.c"], optional=True))

setup(ext_modules=ext_modules)
