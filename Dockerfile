# One image for the compose stack's worker, web and tests services: this checkout with
# the extras they need, installed at build time (nothing is installed when a container
# starts). docker-compose.yml passes PYTHON_IMAGE; any image with python3 and its venv
# module works (nox -s compose builds on a Debian stand-in: compose/base-images.sh).
ARG PYTHON_IMAGE=python:3.12-slim
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
# What the services need: the demo's extras (Dash with FastAPI and Flask, Celery on Redis,
# orjson) and the test runner; nox -s compose reads these two lines for its wheelhouse.
ARG EXTRAS=fast,demo
ARG TEST_PACKAGES="pytest>=8 pytest-timeout>=2.3"

# Dependencies first, in a layer that survives edits to the code: it sees only the
# metadata (a stub package and README stand in). compose/wheelhouse/ is empty in git: with
# wheels in it (nox -s compose fills it on the host, where pip reaches the package index)
# the build is offline; without, pip uses the index.
COPY compose/wheelhouse/ /tmp/wheelhouse/
COPY setup.cfg setup.py pyproject.toml ./
RUN mkdir kombu_dash && echo '__version__ = "0"' > kombu_dash/__init__.py && touch README.rst
RUN set -e; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /tmp/wheelhouse; fi; \
    pip install -q "$@" setuptools wheel; \
    pip install -q "$@" ".[${EXTRAS}]" ${TEST_PACKAGES}; \
    pip uninstall -q -y kombu_dash; \
    rm -rf /tmp/wheelhouse build kombu_dash.egg-info kombu_dash README.rst

# The code: the package (its kombu.serializers entry point needs an install), the tests
# the tests service runs and the apps the worker and web services serve.
COPY README.rst ./
COPY kombu_dash/ kombu_dash/
COPY tests/ tests/
RUN pip install -q --no-deps --no-index --no-build-isolation . && rm -rf build kombu_dash.egg-info

CMD ["python", "-m", "kombu_dash", "demo", "--backend", "fastapi", "--host", "0.0.0.0", "--port", "8050"]
