"""Importing kombu_dash can never break kombu, whatever is installed beside it.

kombu imports every ``kombu.serializers`` entry point when ``kombu.serialization`` is
first imported, in every Celery process: an exception there stops every Celery app in
the environment, whether it uses kombu_dash or not. Each case runs in a virtualenv of
its own, with kombu_dash installed from a wheel of this checkout as a user installs it:

* orjson 3.8 (no ``orjson.Fragment``): kombu imports, a real worker runs kombu_dash
  tasks, and it logs once what to upgrade;
* a ``_speedups`` that raises at import, or that was built for another Python: kombu
  imports, the Python engine runs;
* no starlette (or any other framework): nothing changes, a message carrying a starlette
  value passes through intact.

The virtualenvs are made once per module by uv, from its cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.installs import uv_command

from ._celery_support import unique
from .harness import REDIS_URL, ROOT, Proc

pytestmark = pytest.mark.slow

# orjson 3.8.3 has wheels for CPython 3.7 to 3.11 only (anything else builds it with Rust)
OLD_ORJSON = "orjson==3.8.3"
WARNING = re.compile(r"^.*kombu_dash.*$", re.M)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done


def _python_for_old_orjson() -> str:
    """This interpreter if orjson 3.8 has wheels for it, else a CPython 3.11 or 3.10 here."""
    if sys.version_info[:2] in ((3, 10), (3, 11)):
        return sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
    for minor in ("311", "310"):
        candidates = [os.environ.get(f"KD_PYTHON_{minor}")]
        candidates += sorted(map(str, pyenv.glob(f"3.{minor[1:]}.*/bin/python3.{minor[1:]}")))
        candidates.append(shutil.which(f"python3.{minor[1:]}"))
        for exe in filter(None, candidates):
            if Path(exe).is_file():
                return exe
    pytest.fail("orjson 3.8 needs a CPython 3.10 or 3.11 (pyenv, or KD_PYTHON_311)")


class Env:
    """A virtualenv: ``python`` runs in it, with ``env`` and nothing from this process."""

    def __init__(self, path: Path, interpreter: str, wheels: Path):
        self.path, self.wheels = path, wheels
        _run([*uv_command(), "venv", "-q", "-p", interpreter, str(path)])
        self.python = str(path / "bin" / "python")
        version = _run([self.python, "-c", "import sys; print(*sys.version_info[:2], sep='')"])
        self.tag = "cp" + version.stdout.strip()

    def install(self, *packages: str, no_deps: bool = False) -> None:
        flags = ["--no-deps"] if no_deps else []
        _run([*uv_command(), "pip", "install", "-q", "--python", self.python, *flags, *packages])

    def install_kombu_dash(self) -> None:
        """``pip install --no-deps`` of this checkout, as a wheel built for this Python."""
        found = list(self.wheels.glob(f"kombu_dash-*-{self.tag}-*.whl"))
        if not found:
            _run(
                [
                    *uv_command(),
                    "build",
                    "-q",
                    "--wheel",
                    "-p",
                    self.python,
                    "-o",
                    str(self.wheels),
                    str(ROOT),
                ]
            )
            found = list(self.wheels.glob(f"kombu_dash-*-{self.tag}-*.whl"))
        (wheel,) = found
        self.install(str(wheel), no_deps=True)

    def env(self, **extra: str) -> dict[str, str]:
        out = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV", "KOMBU_DASH"))
        }
        out.update(PATH=f"{self.path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", **extra)
        return out

    def run(self, code: str, *, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        """``code`` in a fresh interpreter of this env, from ``cwd`` (never the checkout)."""
        return subprocess.run(
            [self.python, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            env=self.env(**extra),
        )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="module")
def old_orjson(tmp_path_factory, wheels) -> Env:
    """orjson 3.8.3 beside kombu, Celery and Redis's client; kombu_dash with --no-deps."""
    env = Env(tmp_path_factory.mktemp("venvs") / "old-orjson", _python_for_old_orjson(), wheels)
    env.install(OLD_ORJSON, "kombu", "celery[redis]")
    env.install_kombu_dash()
    return env


@pytest.fixture(scope="module")
def bare(tmp_path_factory, wheels) -> Env:
    """kombu, a current orjson and kombu_dash: no starlette, werkzeug, Dash or Celery."""
    env = Env(tmp_path_factory.mktemp("venvs") / "bare", sys.executable, wheels)
    env.install("kombu", "orjson>=3.9.15")
    env.install_kombu_dash()
    for absent in ("starlette", "werkzeug", "dash", "multidict", "django", "celery"):
        assert env.run(f"import {absent}", cwd=env.path).returncode != 0, absent
    return env


def _kombu_dash_lines(stderr: str) -> list[str]:
    return WARNING.findall(stderr)


ROUND_TRIP = """
    from kombu.serialization import dumps, loads
    import kombu_dash
    value = {"args": (1, 2), "tags": {"a"}}
    ctype, enc, body = dumps(value, serializer="kombu_dash")
    back = loads(body, ctype, enc, accept={ctype})
    assert back == value and type(back["args"]) is tuple and type(back["tags"]) is set, back
    info = kombu_dash.engine_info()
    print(info.engine, info.json, kombu_dash.__file__)
"""


def test_orjson_3_8_beside_it_kombu_imports_and_one_line_says_what_to_upgrade(old_orjson, tmp_path):
    assert (
        old_orjson.run("import orjson; print(orjson.__version__)", cwd=tmp_path).stdout.strip()
        == "3.8.3"
    )
    done = old_orjson.run(ROUND_TRIP, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    engine, backend, _ = done.stdout.split()
    assert backend == "json"  # the stdlib: orjson 3.8 lacks what kombu_dash uses
    lines = _kombu_dash_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "orjson 3.8.3" in lines[0] and "pip install 'orjson>=" in lines[0], lines


WORKER_APP = """
import os

from celery import Celery

import kombu_dash

app = Celery("kd_import_safety", broker=os.environ["KD_BROKER"], backend=os.environ["KD_BROKER"])
app.conf.update(task_default_queue=os.environ["KD_QUEUE"], broker_connection_retry_on_startup=True)
kombu_dash.configure(app)


@app.task(name="kd.import_safety.echo")
def echo(value):
    info = kombu_dash.engine_info()
    return {"value": value, "engine": info.engine, "json": info.json}
"""


@pytest.mark.broker
@pytest.mark.usefixtures("celery_result_consumer_fix")
def test_orjson_3_8_beside_it_a_celery_worker_starts_and_runs_kombu_dash_tasks(
    old_orjson, tmp_path
):
    from celery import Celery

    import kombu_dash

    queue = unique("import-safety")
    (tmp_path / "kd_import_safety_app.py").write_text(WORKER_APP)
    env = old_orjson.env(KD_BROKER=REDIS_URL, KD_QUEUE=queue, PYTHONUNBUFFERED="1")
    argv = [old_orjson.python, "-m", "celery", "-A", "kd_import_safety_app", "worker", "-Q", queue]
    argv += [
        "-n",
        f"{queue}@%h",
        "-P",
        "solo",
        "-l",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    producer = Celery(
        "kd_import_safety_producer", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False
    )
    producer.conf.update(task_default_queue=queue, result_expires=600)
    kombu_dash.configure(producer)
    with Proc(argv, tmp_path / "worker.log", env=env, cwd=tmp_path) as worker:
        worker.wait_for_text(r" ready\.", timeout=90)
        value = {"pair": (1, 2), "tags": frozenset({"a", "b"}), "raw": b"\x00\xff"}
        result = producer.send_task("kd.import_safety.echo", args=[value]).get(timeout=60)
    log = worker.text()
    assert result == {"value": value, "engine": result["engine"], "json": "json"}, result
    assert type(result["value"]["pair"]) is tuple and type(result["value"]["tags"]) is frozenset
    lines = [line for line in _kombu_dash_lines(log) if "orjson" in line]
    assert len(lines) == 1, log[-3000:]
    assert "orjson 3.8.3" in lines[0] and "pip install 'orjson>=" in lines[0], lines


def _package_copy(env: Env, into: Path, speedups: str | None) -> Path:
    """The installed kombu_dash, copied under ``into`` without its compiled engine; with
    ``speedups`` as ``_speedups.py`` (text) or, given a file name, the engine renamed."""
    into.mkdir()
    site = env.run("import kombu_dash, os; print(os.path.dirname(kombu_dash.__file__))", cwd=into)
    source = Path(site.stdout.strip())
    copy = into / "kombu_dash"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (built,) = copy.glob("_speedups.*.so")
    if speedups is not None and speedups.endswith(".so"):
        built.rename(copy / speedups)
    else:
        built.unlink()
        if speedups is not None:
            (copy / "_speedups.py").write_text(speedups)
    return into


def test_a_speedups_that_raises_at_import_leaves_kombu_working_on_the_python_engine(bare, tmp_path):
    path = _package_copy(
        bare, tmp_path / "copy", 'raise RuntimeError("kombu_dash test: broken build")\n'
    )
    done = bare.run(ROUND_TRIP, cwd=tmp_path, PYTHONPATH=str(path))
    assert done.returncode == 0, done.stderr
    engine, backend, where = done.stdout.split()
    assert Path(where).is_relative_to(path)  # the copy, not the installed package
    assert (engine, backend) == ("python", "orjson")
    lines = _kombu_dash_lines(done.stderr)
    assert len(lines) == 1 and "broken build" in lines[0], done.stderr


def test_a_speedups_built_for_another_python_leaves_kombu_working_on_the_python_engine(
    bare, tmp_path
):
    other = "_speedups.cpython-39-x86_64-linux-gnu.so"  # as if copied from another interpreter
    path = _package_copy(bare, tmp_path / "copy", other)
    assert (path / "kombu_dash" / other).is_file()
    done = bare.run(ROUND_TRIP, cwd=tmp_path, PYTHONPATH=str(path))
    assert done.returncode == 0, done.stderr
    engine, backend, where = done.stdout.split()
    assert Path(where).is_relative_to(path)
    assert (engine, backend) == ("python", "orjson")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and other in lines[0] and "does not load" in lines[0], done.stderr


def test_without_starlette_nothing_changes_and_its_values_pass_through(bare, tmp_path):
    from starlette.datastructures import QueryParams

    import kombu_dash

    wire = kombu_dash.dumps({"q": QueryParams("a=1&a=2&b=3")})
    done = bare.run(
        ROUND_TRIP
        + f"""
    q = kombu_dash.loads({wire!r})["q"]
    assert q.getlist("a") == ["1", "2"] and q["b"] == "3", q
    assert kombu_dash.dumps({{"q": q}}) == {wire!r}  # written back under starlette's tag
    """,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    engine, backend, _ = done.stdout.split()
    assert (engine, backend) == ("c", "orjson")
    assert done.stderr == ""  # not a line: a missing framework is not a problem
