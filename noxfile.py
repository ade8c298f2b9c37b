"""The tested version matrix: ``nox`` runs the tests on each row (see DASH3_TESTS, NO_ORJSON_TESTS).

    nox -s oldest newest dash3 no-orjson      # all four (the default)
    nox -s newest -- tests/test_roundtrip.py  # arguments after -- go to pytest
    nox -s dash3 -- tests                     # dash3 and no-orjson run a focused set by default
    nox -r -s oldest                          # reuse the session's virtualenv

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
nox.options.sessions = ["oldest", "newest", "dash3", "no-orjson"]
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


def _pytest(session: nox.Session, *patterns: str, options: tuple[str, ...] = ()) -> None:
    """pytest on the files matching ``patterns`` (all of tests/ if none); ``-- ARGS`` replaces that."""
    session.run("python", "-c", _SHOW_VERSIONS)  # the row as installed, in the CI log
    if session.posargs:
        session.run("python", "-m", "pytest", *options, *session.posargs)
        return
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    if patterns and not files:
        session.error(f"no test files match {patterns}")
    session.run("python", "-m", "pytest", "-q", *options, *files)


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


# The contributor's loop: no Redis, RabbitMQ, browser or Docker. The service URLs point at a
# closed port, so a test that needs a service and is not marked fails here instead of
# quietly using the local one.
QUICK = ("-m", "not broker and not slow")
UNREACHABLE = {"REDIS_URL": "redis://127.0.0.1:1/0", "AMQP_URL": "amqp://guest:guest@127.0.0.1:1//"}


@nox.session(name="quick", python=_python("3.13"))
def quick(session: nox.Session) -> None:
    """Every test that needs no service (fakeredis stands in for the result store), newest stack."""
    _install(session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1")
    session.env.update(UNREACHABLE)
    _pytest(session, options=QUICK)


@nox.session(name="lint", python=_python("3.13"))
def lint(session: nox.Session) -> None:
    """ruff (check and format, ruff.toml) on everything; mypy --strict on kombu_dash/ (setup.cfg)."""
    _install(session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1")
    session.install("ruff==0.17.*", "mypy==2.4.*")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files and --strict come from setup.cfg [mypy]


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
