"""Every code block of README.rst, CONTRIBUTING.rst and docs/*.rst runs, or says why not.

What runs, and where:

* ``.. code-block:: python`` runs as its own file in a fresh interpreter (``python
  example.py``), in an empty directory: in the quick tier, with ``REDIS_URL`` pointing at
  a closed port (an example that needs a service must say so, below).
* ``.. code-block:: pycon`` runs as a doctest (``python -m doctest``), in the quick tier.
* Any other block (``sh``, ``console``, ``text``...) is not run, and must say why (``skip``).

An rst comment just before a block (blank lines between are fine) changes that::

    .. kombu-dash-test: worker module=tasks
        Save the block as tasks.py, start ``celery -A tasks worker`` on a private Redis,
        then run ``python tasks.py`` (its ``__main__`` part sends tasks and asserts).
        Full tier (broker, slow).
    .. kombu-dash-test: worker=app:celery_app server=uvicorn module=app
        ``worker=TARGET`` is what ``celery -A`` gets (default: the module); ``server=``
        also serves the module with ``uvicorn app:app`` (``server=flask``:
        ``flask --app app run``) on a free port; APP_URL tells the block where.
    .. kombu-dash-test: continue
        The block continues the page's previous block (run together, as one file).
    .. kombu-dash-test: skip <reason>
        Not run, for the reason given (a shell command that needs a broker, a server that
        runs until Ctrl-C); a python block must still compile.

``::`` literal blocks are text (output, wire examples, error messages), not code: one that
starts like a command or like Python code must be a code block, so it is run or marked.
Examples read ``REDIS_URL`` (default ``redis://localhost:6379/0``); worker examples get a
redis-server this module starts on a free port, so the examples' default ``celery`` queue
never meets another test run's workers.

The tag reference (docs/tags.rst) is generated from the registry when the site is built,
and that build (``nox -s docs``) fails on a tag without its section: no hand-kept table
to compare here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .harness import free_port, give_up_at

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.rst", ROOT / "CONTRIBUTING.rst", *sorted(DOCS.glob("*.rst"))]
MARK = re.compile(r"^\s*\.\. kombu-dash-test:\s*(?P<spec>.*)$")
CODE = re.compile(r"^(?P<indent>\s*)\.\. (code-block|code|sourcecode)::\s*(?P<lang>\S*)\s*$")
PYTHON = ("python", "python3", "py")
RUN_TIMEOUT = 120
#: an example that needs no service must not find one: the quick tier's closed port
NO_SERVICE = "redis://127.0.0.1:1/0"


@dataclass
class Example:
    page: str
    line: int
    lang: str
    source: str
    options: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def needs_services(self) -> bool:
        return bool(self.options.get("worker") or self.options.get("server"))


def _parse_spec(spec: str) -> dict:
    words = spec.split()
    if not words:
        raise ValueError("empty kombu-dash-test comment")
    if words[0] == "skip":
        return {"skip": " ".join(words[1:])}
    out = {}
    for word in words:
        key, _, value = word.partition("=")
        if key not in ("worker", "server", "module", "continue"):
            raise ValueError(f"unknown kombu-dash-test option {key!r}")
        out[key] = value or True
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _body(lines: list[str], i: int, outer: int) -> tuple[list[str], int]:
    """The indented lines from ``i`` on, deeper than ``outer``; and where they end."""
    body = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > outer):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    return body, i


def _dedent(body: list[str]) -> str:
    indent = min((_indent(b) for b in body if b.strip()), default=0)
    return "\n".join(b[indent:] for b in body).strip("\n") + "\n"


def _blocks(path: Path):
    """``(line, lang, source, options)`` for each code block of an rst file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        code = CODE.match(lines[i])
        if not code:
            i += 1
            continue
        start, outer = i, len(code.group("indent"))  # blocks nested in lists are indented
        # the nearest non-blank line above, if it is our comment
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        mark = MARK.match(lines[j]) if j >= 0 else None
        options = _parse_spec(mark.group("spec")) if mark else {}
        i += 1
        while i < len(lines) and lines[i].strip().startswith(":"):  # directive options
            i += 1
        body, i = _body(lines, i, outer)
        yield start + 1, code.group("lang").lower(), _dedent(body), options


def _literal_blocks(path: Path):
    """``(line, text)`` of each ``::`` literal block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.rstrip().endswith("::") or line.lstrip().startswith(".. "):
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and _indent(lines[j]) > _indent(line):
            body, _ = _body(lines, j, _indent(line))
            yield j + 1, _dedent(body)


def collect() -> list[Example]:
    examples: list[Example] = []
    for path in PAGES:
        page = path.relative_to(ROOT).as_posix()
        page_examples: list[Example] = []
        for line, lang, source, options in _blocks(path):
            if options.get("continue"):
                if not page_examples:
                    raise ValueError(f"{page}:{line}: 'continue' with no block before it")
                page_examples[-1].source += "\n" + source
                continue
            page_examples.append(Example(page, line, lang, source, options))
        examples.extend(page_examples)
    return examples


EXAMPLES = collect()
RUN = [e for e in EXAMPLES if "skip" not in e.options and e.lang in (*PYTHON, "pycon")]
QUICK = [e for e in RUN if not e.needs_services]
SERVICES = [e for e in RUN if e.needs_services]
NOT_RUN = [e for e in EXAMPLES if e not in RUN]


def test_every_integration_page_exists_and_has_an_example():
    pages = {e.page for e in RUN if e.lang in PYTHON}
    for name in ("django", "fastapi", "flask", "numpy_pandas"):
        assert f"docs/{name}.rst" in pages, f"docs/{name}.rst has no python example"


@pytest.mark.parametrize("example", NOT_RUN, ids=[e.id for e in NOT_RUN])
def test_a_block_that_does_not_run_says_why(example: Example):
    reason = example.options.get("skip", "").strip()
    assert reason, (
        f"{example.id}: a {example.lang or 'plain'} block runs nowhere: precede it with "
        "'.. kombu-dash-test: skip <reason>', or make it python or pycon"
    )
    if example.lang in PYTHON:
        compile(example.source, example.id, "exec")  # opted out, but still valid Python
    if example.lang == "pycon":
        assert ">>> " in example.source, f"{example.id}: a pycon block without a prompt"


# What a reader would type: a command, or Python code.
LOOKS_RUNNABLE = re.compile(
    r"^(\$ |>>> |python3? |pip |celery |flask |uvicorn |redis-cli |docker |nox |"
    r"import \w|from [\w.]+ import |[A-Z_]+=\S+ python)"
)


def test_literal_blocks_hold_no_code():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text.splitlines()[0]}"
        for path in PAGES
        for line, text in _literal_blocks(path)
        if LOOKS_RUNNABLE.match(text)
    ]
    assert found == [], "these '::' blocks hold code: make them code blocks (run or marked)"


# History belongs in CHANGES.rst: the pages say what is. An upstream issue may be named.
NARRATION = re.compile(
    r"(?i)(?<!kombu )(?<!celery )(?<!dash )(?<!orjson )(?<!plotly )\bissues? #?\d+"
    r"|\b(this|that|previous|first|second|third|last|next|earlier) pass\b"
    r"|\bcommit [0-9a-f]{7,40}\b"
)


def test_pages_narrate_no_history():
    found = []
    for path in PAGES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NARRATION.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_readme_is_a_front_door():
    lines = (ROOT / "README.rst").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.rst has {len(lines)} lines: move detail to docs/"


def _run_file(example: Example, tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    module = example.options.get("module") or "example"
    if example.lang == "pycon":
        script = tmp_path / f"{module}.txt"
        args = [sys.executable, "-m", "doctest", "-o", "ELLIPSIS", script.name]
    else:
        script = tmp_path / f"{module}.py"
        args = [sys.executable, script.name]
    script.write_text(example.source, encoding="utf-8")
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )


@pytest.mark.parametrize("example", QUICK, ids=[e.id for e in QUICK])
def test_doc_example_runs(example: Example, tmp_path):
    run = _run_file(example, tmp_path, _env(tmp_path, NO_SERVICE))
    assert run.returncode == 0, f"{example.id} failed:\n{run.stdout}\n{run.stderr}"


# -- helpers: a private Redis, workers, servers ------------------------------------------------


def _wait_port(
    port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60
) -> None:
    deadline = give_up_at(timeout)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port} within {timeout}s:\n{_tail(log)}")


def _tail(log: Path, n: int = 60) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we started: worker children too
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _start(args, cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    exe = shutil.which("redis-server")
    assert exe, (
        "redis-server is needed to run the documentation's worker examples (apt: redis-server)"
    )
    port = free_port()
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    proc = _start(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        log.parent,
        dict(os.environ),
        log,
    )
    _wait_port(port, proc, "redis-server", log)
    yield f"redis://127.0.0.1:{port}/0"
    _stop(proc)


def _env(tmp: Path, redis_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(tmp), os.environ.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


def _worker(module: str, tmp: Path, env: dict) -> subprocess.Popen:
    log = tmp / "worker.log"
    proc = _start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            module,
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        tmp,
        env,
        log,
    )
    deadline = give_up_at(90)
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise AssertionError(f"celery worker for {module} did not start:\n{_tail(log)}")
        time.sleep(0.2)
    return proc


def _server(kind: str, module: str, tmp: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "uvicorn":
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{module}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    elif kind == "flask":
        args = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            module,
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    else:
        raise AssertionError(f"unknown server={kind!r} (uvicorn or flask)")
    log = tmp / "server.log"
    proc = _start(args, tmp, env, log)
    try:
        _wait_port(port, proc, f"{kind} server", log)
    except AssertionError:
        _stop(proc)
        raise
    return proc, f"http://127.0.0.1:{port}"


@pytest.mark.broker  # examples run real workers and servers on REDIS_URL
@pytest.mark.slow
@pytest.mark.parametrize("example", SERVICES, ids=[e.id for e in SERVICES])
def test_doc_example_runs_with_its_services(example: Example, tmp_path, private_redis):
    module = example.options.get("module") or "example"
    needs_worker = example.options.get("worker", False)
    server = example.options.get("server")
    env = _env(tmp_path, private_redis)
    (tmp_path / f"{module}.py").write_text(example.source, encoding="utf-8")

    started = []
    try:
        if needs_worker:
            target = module if needs_worker is True else needs_worker
            started.append(_worker(target, tmp_path, env))
        if server:
            proc, url = _server(server, module, tmp_path, env)
            started.append(proc)
            env["APP_URL"] = url
        run = _run_file(example, tmp_path, env)
    finally:
        for proc in reversed(started):
            _stop(proc)
    logs = "".join(f"\n--- {p.name} ---\n{_tail(p)}" for p in sorted(tmp_path.glob("*.log")))
    assert run.returncode == 0, f"{example.id} failed:\n{run.stdout}\n{run.stderr}{logs}"
