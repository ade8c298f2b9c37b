# One image for the compose stack's worker, web and tests services: kombu_dash as a binary
# wheel with its C engine, the extras the services need and the test runner, installed at
# build time (nothing is installed when a container starts). docker-compose.yml passes
# PYTHON_IMAGE: a Debian-based image with python3 and its venv module (nox -s compose
# builds on a Debian stand-in: compose/base-images.sh).
ARG PYTHON_IMAGE=python:3.12-slim

# -- builder: the same Python with a C compiler; it builds the wheel and nothing else ----
FROM ${PYTHON_IMAGE} AS builder
ENV PATH=/opt/build/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
# The official python images carry Python's headers, Debian's python3 does not (python3-dev).
RUN set -e; \
    headers=$(python3 -c 'import sysconfig; print(sysconfig.get_path("include"))'); \
    packages="gcc libc6-dev"; [ -e "$headers/Python.h" ] || packages="$packages python3-dev"; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null; \
    rm -rf /var/lib/apt/lists/*; \
    python3 -m venv /opt/build
COPY compose/wheelhouse/ /tmp/wheelhouse/
RUN set -e; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /tmp/wheelhouse; fi; \
    pip install -q "$@" setuptools wheel
WORKDIR /src
COPY setup.cfg setup.py pyproject.toml README.rst ./
COPY kombu_dash/ kombu_dash/
# A compile that fails fails the build: this wheel exists to carry the C engine.
RUN KOMBU_DASH_REQUIRE_SPEEDUPS=1 pip wheel -q --no-deps --no-build-isolation -w /dist .

# -- runtime: no compiler; dependencies, then the wheel from the builder -----------------
FROM ${PYTHON_IMAGE}

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A venv: Debian's python3 refuses pip installs into the system (PEP 668).
RUN python3 -m venv /opt/venv

WORKDIR /src
# What the services need: the demo's extras (Dash with FastAPI and Flask, Celery on Redis;
# orjson comes with kombu_dash itself) and the test runner; nox -s compose reads these two
# lines for its wheelhouse.
ARG EXTRAS=demo
ARG TEST_PACKAGES="pytest>=8 pytest-timeout>=2.3"

# Dependencies first, in a layer that survives edits to the code: it sees only the
# metadata (a stub package and README stand in). compose/wheelhouse/ is empty in git: with
# wheels in it (nox -s compose fills it on the host, where pip reaches the package index)
# the build is offline; without, pip uses the index.
COPY compose/wheelhouse/ /tmp/wheelhouse/
COPY setup.cfg setup.py pyproject.toml ./
RUN mkdir kombu_dash && echo '__version__ = "0"' > kombu_dash/_version.py && touch kombu_dash/__init__.py README.rst
RUN set -e; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /tmp/wheelhouse; fi; \
    pip install -q "$@" setuptools wheel; \
    pip install -q "$@" ".[${EXTRAS}]" ${TEST_PACKAGES}; \
    pip uninstall -q -y kombu_dash; \
    rm -rf /tmp/wheelhouse build kombu_dash.egg-info kombu_dash README.rst setup.cfg setup.py pyproject.toml

# kombu_dash itself, as a user installs it: the binary wheel (its kombu.serializers entry
# point comes with it). No source tree is left in /src, so every import finds the wheel.
COPY --from=builder /dist/ /tmp/dist/
RUN pip install -q --no-deps --no-index /tmp/dist/*.whl && rm -rf /tmp/dist
# the tests the tests service runs and the apps the worker and web services serve
COPY tests/ tests/
# The image is what it claims: the C engine and orjson, on a runtime with no compiler.
RUN set -e; python tests/wheels/engine_check.py; \
    if command -v cc || command -v gcc || command -v clang; then echo "a compiler in the runtime" >&2; exit 1; fi

CMD ["python", "-m", "kombu_dash", "demo", "--backend", "fastapi", "--host", "0.0.0.0", "--port", "8050"]
