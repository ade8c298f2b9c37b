"""Every ``.. code-block:: python`` in docs/*.rst runs, as a reader would run it.

A block runs as its own file in a fresh interpreter (``python example.py``), in an empty
directory. An rst comment just before the block (blank lines between are fine) says what
else it needs::

    .. kombu-dash-test: worker module=tasks
        Save the block as tasks.py, start ``celery -A tasks worker`` on a private Redis,
        then run ``python tasks.py`` (its ``__main__`` part sends tasks and asserts).
    .. kombu-dash-test: worker=app:celery_app server=uvicorn module=app
        ``worker=TARGET`` is what ``celery -A`` gets (default: the module); ``server=``
        also serves the module with ``uvicorn app:app`` (``server=flask``:
        ``flask --app app run``) on a free port; APP_URL tells the block where.
    .. kombu-dash-test: continue
        The block continues the page's previous block (run together, as one file).
    .. kombu-dash-test: skip <reason>
        Opt out, only with a reason: the block must still compile, and the test is
        reported as skipped with the reason and the page and line.

Only python blocks are code (``code-block``/``code``/``sourcecode`` with ``python``, ``python3``
or ``py``), nested ones (inside a list) included; ``::`` literal blocks and ``console`` blocks
are text. Examples read ``REDIS_URL`` (default ``redis://localhost:6379/0``); here it points at a
redis-server this module starts on a free port, so the examples' default ``celery`` queue
never meets another test run's workers.
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

from .harness import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARK = re.compile(r"^\s*\.\. kombu-dash-test:\s*(?P<spec>.*)$")
CODE = re.compile(r"^(?P<indent>\s*)\.\. (code-block|code|sourcecode)::\s*(python3?|py)\s*$")
RUN_TIMEOUT = 120


@dataclass
class Example:
    page: str
    line: int
    source: str
    options: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


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


def _blocks(path: Path):
    """``(line, source, options)`` for each python code block of an rst file."""
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
        body = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > outer
        ):
            body.append(lines[i])
            i += 1
        text = "\n".join(body)
        indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        source = "\n".join(b[indent:] for b in body).strip("\n") + "\n"
        yield start + 1, source, options, text


def collect() -> list[Example]:
    examples: list[Example] = []
    for path in sorted(DOCS.glob("*.rst")):
        page_examples: list[Example] = []
        for line, source, options, _ in _blocks(path):
            if options.get("continue"):
                if not page_examples:
                    raise ValueError(f"{path.name}:{line}: 'continue' with no block before it")
                page_examples[-1].source += "\n" + source
                continue
            page_examples.append(Example(f"docs/{path.name}", line, source, options))
        examples.extend(page_examples)
    return examples


EXAMPLES = collect()


def test_every_integration_page_exists_and_has_an_example():
    pages = {e.page for e in EXAMPLES}
    for name in ("django", "fastapi", "flask", "numpy_pandas"):
        assert f"docs/{name}.rst" in pages, f"docs/{name}.rst has no python example"


# -- helpers: a private Redis, workers, servers ------------------------------------------------


def _wait_port(
    port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
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
    deadline = time.monotonic() + 90
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


# -- the test -----------------------------------------------------------------------------------


@pytest.mark.broker  # examples run real workers and servers on REDIS_URL
@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_doc_example_runs(example: Example, tmp_path, request):
    compile(example.source, example.id, "exec")  # opted out or not, it must be valid Python
    if "skip" in example.options:
        reason = example.options["skip"].strip()
        assert reason, f"{example.id}: an opt-out needs a reason after 'skip'"
        pytest.skip(f"{example.id} opted out: {reason}")

    module = example.options.get("module") or "example"
    needs_worker = example.options.get("worker", False)
    server = example.options.get("server")
    script = tmp_path / f"{module}.py"
    script.write_text(example.source, encoding="utf-8")
    redis_url = (
        request.getfixturevalue("private_redis")
        if (needs_worker or server)
        else "redis://127.0.0.1:1/0"
    )
    env = _env(tmp_path, redis_url)

    started = []
    try:
        if needs_worker:
            target = module if needs_worker is True else needs_worker
            started.append(_worker(target, tmp_path, env))
        if server:
            proc, url = _server(server, module, tmp_path, env)
            started.append(proc)
            env["APP_URL"] = url
        run = subprocess.run(
            [sys.executable, script.name],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    finally:
        for proc in reversed(started):
            _stop(proc)
    logs = "".join(f"\n--- {p.name} ---\n{_tail(p)}" for p in sorted(tmp_path.glob("*.log")))
    assert run.returncode == 0, f"{example.id} failed:\n{run.stdout}\n{run.stderr}{logs}"


def test_readme_tag_table_lists_every_registered_tag():
    # README "Tags" is the wire format's index: a tag added without a row there is a gap
    import kombu_dash.frameworks  # noqa: F401  (the framework tags are in the default codec)

    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    table = readme[readme.index("\nTags\n----") : readme.index("``[]`` semantics are kept")]
    missing = [k for k in sorted(kombu_dash.default_codec.tags()) if f"``~{k}``" not in table]
    assert missing == []
