"""The four ways kombu_dash ends up installed, each made for real in a virtualenv of its own.

    C + orjson     pip install of the binary wheel (what PyPI gives on a mainstream platform)
    orjson, no C   pip install of the sdist on a machine with no compiler
    C, no orjson   the wheel where orjson cannot be installed (pip install --no-deps)
    neither        the sdist, no compiler, no orjson

This is what a user gets, which a process with the engine forced off is not: the files
pip put there (a built engine or none), the orjson pip resolved (or none), nothing from
the checkout on the path. Every install runs pip with no compiler on PATH, and each
environment reports the engine and JSON backend it ended up with; a row that did not get
what it stands for is an error, not a figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the benchmark's payloads are built from (starlette, werkzeug, Dash's AttributeDict);
# none of them brings orjson.
PAYLOAD_PACKAGES = ("starlette>=0.37", "werkzeug>=3.0", "dash>=3.0")


@dataclass(frozen=True)
class Install:
    label: str
    how: str
    artefact: str  # "wheel" or "sdist"
    orjson: bool
    #: what engine_info() must say there: (engine, json)
    expect: tuple[str, str]


INSTALLS = [
    Install(
        "C + orjson", "pip install kombu_dash (the binary wheel)", "wheel", True, ("c", "orjson")
    ),
    Install(
        "orjson, no C",
        "pip install kombu_dash from the sdist, no compiler",
        "sdist",
        True,
        ("python", "orjson"),
    ),
    Install(
        "C, no orjson",
        "the wheel where orjson cannot be installed (pip install --no-deps, then kombu)",
        "wheel",
        False,
        ("c", "json"),
    ),
    Install(
        "neither",
        "the sdist, no compiler, no orjson",
        "sdist",
        False,
        ("python", "json"),
    ),
]


def uv_command() -> list[str]:
    """How to run uv here: the `uv` package's binary, else uv on PATH (the tests use it too)."""
    try:  # the `uv` package's binary (the test and bench extras install it)
        from uv import find_uv_bin

        return [find_uv_bin()]
    except ImportError:
        exe = shutil.which("uv")
        if exe is None:
            raise RuntimeError("uv is needed (pip install uv)") from None
        return [exe]


def _run(argv: list[str], **kwargs) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build(out: Path) -> dict[str, Path]:
    """This checkout's sdist and, built from it for this Python, its wheel (the C engine
    required: a wheel without it would measure the wrong thing)."""
    _run([*uv_command(), "build", "-q", "--sdist", "-o", str(out), str(ROOT)])
    (sdist,) = out.glob("kombu_dash-*.tar.gz")
    _run(
        [*uv_command(), "build", "-q", "--wheel", "-p", sys.executable, "-o", str(out), str(sdist)],
        env={**os.environ, "KOMBU_DASH_REQUIRE_SPEEDUPS": "1"},
    )
    (wheel,) = out.glob("kombu_dash-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def _no_compiler_env(venv: Path) -> dict[str, str]:
    """This process's environment with only the venv on PATH: no cc, gcc or clang to find
    (and none named by CC or LDSHARED), nothing of this checkout or venv on sys.path."""
    drop = ("PYTHON", "VIRTUAL_ENV", "KOMBU_DASH", "CC", "CXX", "LDSHARED", "CFLAGS", "LDFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PATH=str(venv / "bin"), VIRTUAL_ENV=str(venv), PYTHONDONTWRITEBYTECODE="1")
    return env


def make(install: Install, artefacts: dict[str, Path], venv: Path) -> tuple[str, dict[str, str]]:
    """A virtualenv holding ``install``: its python and the environment to run it in."""
    _run([*uv_command(), "venv", "-q", "--seed", "-p", sys.executable, str(venv)])
    python, env = str(venv / "bin" / "python"), _no_compiler_env(venv)
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    artefact = str(artefacts[install.artefact])
    if install.orjson:
        _run([*pip, artefact], env=env)  # kombu_dash and its requirements, as pip resolves them
    else:
        _run([*pip, "--no-deps", artefact], env=env)
        _run([*pip, "kombu>=5.3,<6"], env=env)  # its requirements but orjson
    # (uv, with this process's environment: these are wheels, the compiler does not matter)
    _run([*uv_command(), "pip", "install", "-q", "--python", python, *PAYLOAD_PACKAGES])
    got = _run(
        [python, "-c", "import kombu_dash as k; i = k.engine_info(); print(i.engine, i.json)"],
        env=env,
        cwd=venv,
    )
    if tuple(got.split()) != install.expect:
        raise RuntimeError(
            f"{install.label}: wanted {install.expect}, the install gives {got.strip()}"
        )
    return python, env


def measure_all(child_argv: list[str], workdir: Path | None = None) -> dict[str, dict]:
    """``python -m benchmarks.run`` + ``child_argv`` in each install; label -> its output
    (a JSON file the child writes at ``--_out``), plus how it was installed."""
    import json

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_path = Path(tmp)
        artefacts = build(tmp_path / "dist")
        # the child runs from here: benchmarks/ importable, kombu_dash only from the venv
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "benchmarks").symlink_to(ROOT / "benchmarks")
        out = {}
        for install in INSTALLS:
            print(f"installing: {install.label} ({install.how})...", file=sys.stderr, flush=True)
            python, env = make(
                install,
                artefacts,
                tmp_path / install.label.replace(" ", "").replace(",", "_").replace("+", "_"),
            )
            result = tmp_path / "result.json"
            print(f"measuring: {install.label}...", file=sys.stderr, flush=True)
            subprocess.run(
                [python, "-m", "benchmarks.run", *child_argv, "--_out", str(result)],
                check=True,
                cwd=tmp_path / "run",
                env={**env, "PYTHONPATH": str(tmp_path / "run")},
            )
            entry = json.loads(result.read_text())
            entry["how"] = install.how
            entry["artefact"] = artefacts[install.artefact].name
            out[install.label] = entry
        return out
