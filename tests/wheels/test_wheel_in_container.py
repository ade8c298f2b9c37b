"""The built wheel, installed with plain ``pip install kombu_dash`` into a container of the
compose base image, runs the C engine with orjson: that image has no compiler, so the C
can only have come in the wheel.

The container has no network: pip finds kombu_dash in dist/ and its requirements in a
wheelhouse the session fetched for the image's Python (KD_DEPS).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SCRIPT = r"""
set -u
for cc in cc gcc clang; do
  if command -v "$cc" >/dev/null; then echo "compiler: $cc"; fi
done
python3 -m venv /venv
/venv/bin/pip install -q --disable-pip-version-check --no-index \
  --find-links /dist --find-links /deps kombu_dash || exit 10
cd /
/venv/bin/python -c "from kombu.serialization import dumps" || exit 11
/venv/bin/python -c "import importlib.metadata as m; print('wheel-tag:', *[l.split(': ')[1] for l in m.distribution('kombu_dash').read_text('WHEEL').splitlines() if l.startswith('Tag:')])"
/venv/bin/python /check/engine_check.py
echo "engine-check-exit: $?"
"""


@pytest.fixture(scope="module")
def installed() -> str:
    """What the container printed: its compilers (none), the wheel's tag, the engine."""
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{os.environ['KD_DIST']}:/dist:ro",
            "-v",
            f"{os.environ['KD_DEPS']}:/deps:ro",
            "-v",
            f"{HERE}:/check:ro",
            os.environ["KD_IMAGE"],
            "sh",
            "-c",
            SCRIPT,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out


def test_the_base_image_has_no_compiler(installed):
    assert "compiler:" not in installed, installed


def test_pip_picked_the_manylinux_wheel(installed):
    tags = [line for line in installed.splitlines() if line.startswith("wheel-tag:")]
    assert len(tags) == 1 and "-manylinux_" in tags[0], installed


def test_the_installed_wheel_runs_the_c_engine_with_orjson(installed):
    # engine_check.py: kombu loads the entry point, engine_info() says C and orjson, and a
    # tuple and a set come back through kombu as a tuple and a set
    assert "engine-check-exit: 0" in installed, installed
    assert "(C engine, orjson " in installed, installed
