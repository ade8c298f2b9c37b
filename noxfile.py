"""The tested version matrix: ``nox`` runs the tests on each row (see DASH3_TESTS, NO_ORJSON_TESTS).

    nox -s oldest newest dash3 no-orjson      # all four (the default)
    nox -s newest -- tests/test_roundtrip.py  # arguments after -- go to pytest
    nox -s dash3 -- tests                     # dash3 and no-orjson run a focused set by default
    nox -r -s oldest                          # reuse the session's virtualenv
    nox -s celery-suite                       # Celery's own integration suite as a gate
    nox -s celery-suite-baseline              # its json baseline (after a Celery bump)

Each session installs this package with every extra in setup.cfg (read from the file,
so an extra someone adds is installed everywhere) plus the pins of its row; uv resolves
them together, so a row that cannot be installed fails at install time, loudly.
Broker tests need Redis and RabbitMQ (REDIS_URL, AMQP_URL; defaults: localhost).

Rows (README "Tested versions"; versions as resolved on 2026-11-22):

=========  ======  ==============  =====  ==================  ===================  ====================
session    Python  kombu, celery   dash   Flask, werkzeug     starlette, FastAPI   Django, pandas, numpy
=========  ======  ==============  =====  ==================  ===================  ====================
oldest     3.10    5.3.7, 5.3.6    4.2.0  3.0.3, 3.0.6        0.37.2, 0.115.2      4.2, 2.0.3, 1.26.4
newest     3.13    5.7.0, 5.7.0    4.4.1  3.1.3, 3.1.9        1.10.0, 0.165.0      6.1, 3.1.1, 2.5.5
dash3      3.11    5.3.7, 5.3.6    3.4.0  3.1.3, 3.1.9        1.10.0, 0.165.0      5.2, 3.1.1, 2.4.6
no-orjson  3.11    5.7.0, 5.7.0    4.4.1  3.1.3, 3.1.9        1.10.0, 0.165.0      5.2, 3.1.1, 2.4.6
=========  ======  ==============  =====  ==================  ===================  ====================

oldest pins the lowest versions setup.cfg allows (starlette 0.37, werkzeug 3.0, pandas 2.0,
Django 4.2 LTS); dash3 installs ``dash[celery,diskcache]==3.*``, whose celery extra pins
celery and kombu below 5.4; no-orjson is newest's stack on the stdlib json module.
"""

from __future__ import annotations

import configparser
import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent

# uv creates and fills a virtualenv in seconds from its cache; plain venv+pip is the fallback.
nox.options.default_venv_backend = "uv" if shutil.which("uv") else "venv"
nox.options.sessions = ["oldest", "newest", "dash3", "no-orjson", "celery-suite"]
nox.options.error_on_missing_interpreters = True


def _python(version: str) -> str:
    """The pyenv interpreter if this machine has it (CI), else let nox/uv find ``version``."""
    override = os.environ.get(f"KD_PYTHON_{version.replace('.', '')}")
    if override:
        return override
    pyenv = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
    for candidate in sorted(pyenv.glob(f"{version}.*"), reverse=True):
        exe = candidate / "bin" / f"python{version}"
        if exe.exists():
            return str(exe)
    return version


def _extras(*, without=()) -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return [name for name in cfg["options.extras_require"] if name not in without]


def _install(session: nox.Session, *pins: str, without=()) -> None:
    extras = ",".join(_extras(without=without))
    session.install("-e", f".[{extras}]", *pins)


_SHOW_VERSIONS = """
import importlib.metadata as m, sys
names = "kombu celery dash flask werkzeug starlette fastapi quart django pandas numpy orjson redis".split()
def v(n):
    try:
        return m.version(n)
    except m.PackageNotFoundError:
        return "-"
print("python", sys.version.split()[0], *(f"{n}=={v(n)}" for n in names))
"""


def _pytest(session: nox.Session, *patterns: str) -> None:
    """pytest on the files matching ``patterns`` (all of tests/ if none); ``-- ARGS`` replaces that."""
    session.run("python", "-c", _SHOW_VERSIONS)  # the row as installed, in the CI log
    if session.posargs:
        session.run("python", "-m", "pytest", *session.posargs)
        return
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    if patterns and not files:
        session.error(f"no test files match {patterns}")
    session.run("python", "-m", "pytest", "-q", *files)


# What differs between rows is the framework and broker glue (dash3) or the JSON backend
# (no-orjson): those rows run the files that exercise it, to keep CI within its budget;
# oldest and newest run everything. `nox -s dash3 -- tests` runs the whole suite there.
DASH3_TESTS = ("tests/test_dash_*.py", "tests/test_diskcache*.py", "tests/test_celery_roundtrip.py",
               "tests/test_roundtrip*.py", "tests/test_docs_examples.py")
NO_ORJSON_TESTS = ("tests/test_roundtrip*.py", "tests/test_wire.py", "tests/test_property.py",
                   "tests/test_errors.py", "tests/test_decoder_hardening.py", "tests/test_serializer.py",
                   "tests/test_fallbacks.py", "tests/test_celery_roundtrip.py", "tests/test_diskcache*.py")


@nox.session(name="oldest", python=_python("3.10"))
def oldest(session: nox.Session) -> None:
    """The oldest supported combination: what ``dash[celery]`` users on Python 3.10 run."""
    _install(
        session,
        "celery[redis]==5.3.*", "kombu==5.3.*", "dash[fastapi,quart,diskcache]==4.2.0",
        "starlette==0.37.*", "werkzeug==3.0.*", "flask==3.0.*",
        "pandas==2.0.*", "numpy==1.26.*", "django==4.2.*",
    )
    _pytest(session)


@nox.session(name="newest", python=_python("3.13"))
def newest(session: nox.Session) -> None:
    """Everything at its newest; dash without the celery extra, which pins celery<5.4."""
    _install(session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1", "--upgrade")
    _pytest(session)


@nox.session(name="dash3", python=_python("3.11"))
def dash3(session: nox.Session) -> None:
    """dash 3.x on Flask, installed the way its docs say: ``dash[celery,diskcache]``."""
    _install(session, "dash[celery,diskcache]==3.*", without=("demo",))  # the demo needs dash>=4.2
    _pytest(session, *DASH3_TESTS)


@nox.session(name="no-orjson", python=_python("3.11"))
def no_orjson(session: nox.Session) -> None:
    """The stdlib json path: the same bytes on the wire, the same suite green."""
    _install(session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1", without=("fast", "bench"))  # both pull orjson
    # in case a dependency pulls orjson in; uv only warns when it is absent
    session.run("uv", "pip", "uninstall", "--python", session.virtualenv.location, "orjson", external=True)
    session.run("python", "-c", "import kombu_dash._json as j; assert not j.HAVE_ORJSON, 'orjson is installed'")
    _pytest(session, *NO_ORJSON_TESTS)


# Celery's own integration suite (tests/celery_suite/run.py) on the newest and the oldest
# Celery of the matrix, each on the Python of its row. The json baseline the gate compares
# with is committed per exact Celery version (tests/celery_suite/expected/), so these pins
# are exact: bump them together with `nox -s celery-suite-baseline`.
CELERY_SUITE_ROWS = [
    nox.param(_python("3.13"), ("celery[redis]==5.7.0", "kombu==5.7.0"), id="5.7"),
    nox.param(_python("3.10"), ("celery[redis]==5.3.6", "kombu==5.3.7"), id="5.3"),
]
# pip: `pip download` of Celery's sdist; pydantic: 5.7's t/integration/tasks.py imports it;
# pytest-subtests: 5.3's test_canvas.py imports it (pytest 9 has subtests built in)
CELERY_SUITE_TOOLS = ("pip", "pytest>=8", "pytest-timeout>=2.3", "pydantic>=2", "pytest-subtests")


def _celery_suite(session: nox.Session, pins: tuple[str, ...], command: str) -> None:
    session.install("-e", ".[fast,redis]", *pins, *CELERY_SUITE_TOOLS)
    session.run("python", "-c", _SHOW_VERSIONS)
    session.run("python", "tests/celery_suite/run.py", command,
                f"--cache={Path(session.cache_dir) / 'celery-suite'}", "--", *session.posargs)


@nox.session(name="celery-suite")
@nox.parametrize("python,pins", CELERY_SUITE_ROWS)
def celery_suite(session: nox.Session, pins: tuple[str, ...]) -> None:
    """Celery's t/integration with kombu_dash, gated against its json baseline."""
    _celery_suite(session, pins, "gate")


@nox.session(name="celery-suite-baseline")
@nox.parametrize("python,pins", CELERY_SUITE_ROWS)
def celery_suite_baseline(session: nox.Session, pins: tuple[str, ...]) -> None:
    """Rewrite tests/celery_suite/expected/celery-X.json: the same run on json."""
    _celery_suite(session, pins, "baseline")
