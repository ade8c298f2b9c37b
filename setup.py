"""Metadata is in setup.cfg. The one thing here: the C engine, kombu_dash._speedups.

It is built where a compiler and Python's headers are present; where they are not, the
build goes on without it and kombu_dash runs its pure-Python engine, which writes the same
bytes, slower. Binary wheels carry it built (``nox -s wheels``, .github/workflows/).

``KOMBU_DASH_REQUIRE_SPEEDUPS=1`` makes a failed compile fail the build instead: a wheel
meant to carry the C engine must never be published without it.
"""

import os
import platform
import sys

from setuptools import Extension, setup

required = os.environ.get("KOMBU_DASH_REQUIRE_SPEEDUPS") == "1"
ext_modules = []
# (the Dockerfile's dependency layer installs a stub package without the C source)
# auditwheel tells a glibc wheel from a musl one by the libc its extension links; a module
# that calls no libc function links none, and a CPython 3.10 wheel then gets no manylinux
# tag (auditwheel: "couldn't detect libc"). So on Linux it always links the C library.
link_libc = ["-Wl,--no-as-needed", "-lc"] if sys.platform.startswith("linux") else []
if platform.python_implementation() == "CPython" and os.path.exists("kombu_dash/_speedups.c"):
    ext_modules.append(
        Extension(
            "kombu_dash._speedups",
            ["kombu_dash/_speedups.c"],
            extra_link_args=link_libc,
            optional=not required,
        )
    )
elif required:
    raise SystemExit("KOMBU_DASH_REQUIRE_SPEEDUPS=1, but the C engine cannot be built here")

setup(ext_modules=ext_modules)
