"""Celery's own integration suite as a gate for kombu_dash (``nox -s celery-suite``).

    python tests/celery_suite/run.py gate      # kombu_dash run, compared with the baseline
    python tests/celery_suite/run.py baseline  # json run: rewrites expected/celery-X.json
    python tests/celery_suite/run.py gate -- -k test_chain   # arguments after -- go to pytest

Both take t/integration from the sdist of the Celery version installed in this Python
(``pip download --no-binary :all: --no-deps celery==X``, cached), run the files in FILES
against Redis with Celery's own pytest plugin and tests/celery_suite/plugin.py, and record
each test's outcome. The suite is never edited: plugin.py extends its ``celery_config``.

The gate fails when a test that passed on json fails on kombu_dash twice in a row while it
passes again on json in the same run, unless known.py lists it as an assertion of json's
lossiness; when a test that fails on json has no reason in known.py; when a test of the
baseline was not run; and when the run sent nothing as kombu_dash.

The subset: the three files take about 20 minutes on json, mostly waiting on timeouts and
sleeping tasks with the suite's one-process worker. The gate leaves out the tests that took
over SLOW_SECONDS in the committed baseline (their durations are in it), except those in
known.ALWAYS_RUN, and prints which; ``gate --all`` runs everything. The baseline always
runs everything.

Redis: a private ``redis-server`` on a free port when one is installed (the suite's own
helpers use database 0 and count server-wide PUBSUB channels, so a shared server would
mix other tests into its assertions); otherwise the server of ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# run as a script: its directory is on sys.path
from known import ALWAYS_RUN, ENVIRONMENT, LOSSY, TIMING

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

#: The files of t/integration the gate runs, whole (see expected/*.json for their tests).
FILES = (
    "t/integration/test_tasks.py",
    "t/integration/test_canvas.py",
    "t/integration/test_inspect.py",
)
FAILED = ("failed", "error")
#: The gate leaves out tests that took longer than this on json (the baseline's durations):
#: the whole of the three files takes about 20 minutes, mostly waiting (see the docstring).
SLOW_SECONDS = 5.0
#: Seconds one pytest run may take in all (pytest.ini's per-test timeout should stop a hang).
RUN_TIMEOUT = 1800
Outcomes = dict[str, str]


def installed(name: str) -> str:
    return importlib.metadata.version(name)


def expected_path(celery_version: str) -> Path:
    return HERE / "expected" / f"celery-{celery_version}.json"


def suite_dir(cache: Path, version: str) -> Path:
    """t/ of Celery ``version``'s sdist, downloaded once into ``cache``.

    Only ``t/`` is extracted: the sdist's own ``celery/`` package on sys.path would shadow the
    installed Celery.
    """
    target = (cache / f"celery-{version}-t").resolve()
    if (target / "t" / "integration" / "conftest.py").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"celery-{version}.tar.gz"
    if not sdist.exists():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-binary",
                    ":all:",
                    "--no-deps",
                    f"celery=={version}",
                    "-d",
                    tmp,
                ],
                check=True,
            )
            (got,) = Path(tmp).glob("celery-*.tar.gz")
            got.replace(sdist)
    with tempfile.TemporaryDirectory(dir=cache) as tmp, tarfile.open(sdist) as tar:
        prefix = f"celery-{version}/t/"
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            member.name = member.name[len(f"celery-{version}/") :]
        # "data": no links out of the directory, no special files (Python >= 3.10.12)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp, members=members, **safe)  # type: ignore[arg-type]
        shutil.rmtree(target, ignore_errors=True)
        Path(tmp).rename(target)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


_PRIVATE: set[str] = set()  # URLs of the redis-servers started here: safe to flush


@contextmanager
def redis_server(port: int | None) -> Iterator[str]:
    """A private redis-server (URL of database 0), or REDIS_URL's server without one."""
    exe = shutil.which("redis-server")
    if exe is None:
        url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
        print(f"celery-suite: no redis-server on PATH, using REDIS_URL {url}", flush=True)
        yield url
        return
    port = port or _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"redis://127.0.0.1:{port}/0"
        _PRIVATE.add(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def run_suite(
    suite: Path,
    redis_url: str,
    mode: str,
    tests: Sequence[str],
    pytest_args: Sequence[str] = (),
    deselect: Sequence[str] = (),
) -> dict[str, Any]:
    """Run ``tests`` of the suite in ``mode``: what plugin.py recorded (outcomes,
    skip_reasons, durations, kombu_dash_encodes). The file stays next to the suite."""
    parts = urlsplit(redis_url)
    out = suite / f"last-{mode}-run-{os.getpid()}.json"  # concurrent runs share the suite
    out.unlink(missing_ok=True)
    left_out = suite / f"deselected-{os.getpid()}.txt"  # exact node ids, for plugin.py
    left_out.write_text("".join(f"{name}\n" for name in deselect))
    env = dict(os.environ)
    env.update(
        {
            "TEST_BROKER": redis_url,
            "TEST_BACKEND": redis_url,
            # the suite's get_redis_connection() reads these (database 0)
            "REDIS_HOST": parts.hostname or "localhost",
            "REDIS_PORT": str(parts.port or 6379),
            "KD_CELERY_SUITE_MODE": mode,
            "KD_CELERY_SUITE_OUTCOMES": str(out),
            "KD_CELERY_SUITE_DESELECT": str(left_out),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(HERE / "pytest.ini"),
        "--rootdir",
        str(suite),
        "-q",
        "-rfEs",
        *pytest_args,
        *tests,
    ]
    if redis_url in _PRIVATE:
        # a clean start: a task left queued or scheduled by the previous run (a retry with
        # Celery's 180 s default delay) would otherwise show up in the next run's worker
        import redis

        redis.Redis.from_url(redis_url).flushall()
    print(f"\n== celery-suite: {mode}: {' '.join(cmd[3:])}", flush=True)
    started = time.monotonic()
    # its own process group: the worker's pool children go with it, even after a hang
    proc = subprocess.Popen(cmd, cwd=suite, env=env, start_new_session=True)
    try:
        proc.wait(RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"celery-suite: the {mode} run took over {RUN_TIMEOUT}s: stopped", flush=True)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    print(f"== celery-suite: {mode} run took {time.monotonic() - started:.0f}s", flush=True)
    try:
        data: dict[str, Any] = json.loads(out.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(
            f"celery-suite: the {mode} run wrote no outcomes (see its output above)"
        ) from exc
    return data


def counts(outcomes: Outcomes, file: str | None = None) -> str:
    c = Counter(v for k, v in outcomes.items() if file is None or k.startswith(file + "::"))
    text = f"{c['passed']:>3} passed {c['failed'] + c['error']:>3} failed {c['skipped']:>3} skipped"
    other = {k: v for k, v in c.items() if k not in ("passed", "failed", "error", "skipped")}
    return text + "".join(f" {v} {k}" for k, v in sorted(other.items()))


def versions() -> dict[str, str]:
    return {
        "celery": installed("celery"),
        "kombu": installed("kombu"),
        "python": platform.python_version(),
    }


def baseline(args: argparse.Namespace) -> int:
    ver = versions()
    suite = suite_dir(args.cache, ver["celery"])
    with redis_server(args.redis_port) as url:
        run = run_suite(suite, url, "json", FILES, args.pytest_args)
    outcomes = run["outcomes"]
    missing = sorted(k for k, v in outcomes.items() if v in FAILED and k not in ENVIRONMENT)
    path = expected_path(ver["celery"])
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "about": "Celery's t/integration run on json, as Celery configures it: the outcomes "
                "the celery-suite gate compares kombu_dash with. Regenerate with "
                "`nox -s celery-suite-baseline`; reasons for failures live in known.py.",
                **ver,
                "files": list(FILES),
                "json": outcomes,
                "skip_reasons": run["skip_reasons"],
                "durations": run["durations"],
            },
            indent=1,
        )
        + "\n"
    )
    print(f"celery-suite: wrote {path.relative_to(ROOT)}: {counts(outcomes)}")
    for name in missing:
        print(f"  FAILS ON JSON, no reason in known.ENVIRONMENT: {name}")
    return 1 if missing else 0


def gate(args: argparse.Namespace) -> int:
    ver = versions()
    path = expected_path(ver["celery"])
    if not path.exists():
        print(
            f"celery-suite: no baseline {path.relative_to(ROOT)} for Celery {ver['celery']}: "
            "run `nox -s celery-suite-baseline` with that version"
        )
        return 1
    expected = json.loads(path.read_text())
    durations: dict[str, float] = expected.get("durations", {})
    # the deterministic subset: what was slow on json in the committed baseline stays out
    slow = (
        []
        if args.all
        else sorted(
            k
            for k, t in durations.items()
            if t > SLOW_SECONDS and k not in ALWAYS_RUN and k.split("::")[0] not in ALWAYS_RUN
        )
    )
    base: Outcomes = {k: v for k, v in expected["json"].items() if k not in slow}
    suite = suite_dir(args.cache, ver["celery"])
    problems: list[str] = []
    with redis_server(args.redis_port) as url:
        run = run_suite(suite, url, "kombu_dash", expected["files"], args.pytest_args, slow)
        got: Outcomes = run["outcomes"]
        encodes: int = run["kombu_dash_encodes"]
        suspects = sorted(
            k for k, v in got.items() if v in FAILED and base.get(k) == "passed" and k not in LOSSY
        )
        rerun: dict[str, Outcomes] = {}
        if suspects:
            # A failure is a regression only if it repeats while json passes in the same run.
            rerun["kombu_dash"] = run_suite(suite, url, "kombu_dash", suspects)["outcomes"]
            rerun["json"] = run_suite(suite, url, "json", suspects)["outcomes"]

    print(
        f"\n== celery-suite: Celery {ver['celery']}, kombu {ver['kombu']}, "
        f"Python {ver['python']} (json: {path.relative_to(ROOT)}, baseline on Celery "
        f"{expected['celery']}, kombu {expected['kombu']}, Python {expected['python']})"
    )
    print(f"{'file':<32} {'json':<40} kombu_dash")
    for file in expected["files"]:
        print(f"{Path(file).name:<32} {counts(base, file):<40} {counts(got, file)}")
    print(f"{'total':<32} {counts(base):<40} {counts(got)}")

    def show(title: str, names: Sequence[str], why: dict[str, str] | None = None) -> None:
        if names:
            print(f"\n{title} ({len(names)}):")
            for name in names:
                print(f"  {name}" + (f"\n      {why[name]}" if why and name in why else ""))

    regressions = [
        k
        for k in suspects
        if rerun["kombu_dash"].get(k) in FAILED and rerun["json"].get(k) == "passed"
    ]
    flaky = [k for k in suspects if rerun["kombu_dash"].get(k) == "passed"]
    both_now = [k for k in suspects if k not in regressions and k not in flaky]
    lossy = sorted(k for k in got if k in LOSSY)
    stale = [k for k in lossy if got[k] == "passed"]
    lossy = [k for k in lossy if k not in stale]
    both = sorted(k for k, v in got.items() if v in FAILED and base.get(k) in FAILED)
    unexplained = [k for k in sorted(base) if base[k] in FAILED and k not in ENVIRONMENT]
    better = sorted(k for k, v in got.items() if v == "passed" and base.get(k) in FAILED)
    # with pytest arguments (-k ...) a partial run is what was asked for
    not_run = [] if args.pytest_args else sorted(set(base) - set(got))
    new = sorted(set(got) - set(base))

    if slow:
        print(
            f"\nLeft out to keep CI within budget: {len(slow)} tests that took over "
            f"{SLOW_SECONDS:.0f} s on json ({sum(durations[k] for k in slow):.0f} s in all; "
            "`run.py gate --all` runs them):"
        )
        for name in slow:
            print(f"  {name} ({durations[name]:.0f} s)")
    show("REGRESSIONS: pass on json, fail on kombu_dash (twice; json passed again)", regressions)
    show("Failed on kombu_dash once, passed on the re-run (timing; not counted)", flaky, TIMING)
    show(
        "Failed on kombu_dash twice and on json in the re-run too (environment; not counted)",
        both_now,
        TIMING,
    )
    show("Expected differences: assertions of json's lossiness (known.LOSSY)", lossy, LOSSY)
    show("STALE known.LOSSY entries: these now pass on kombu_dash, remove them", stale)
    show("Fail on json too (known.ENVIRONMENT)", both, ENVIRONMENT)
    show("FAIL ON JSON WITHOUT A REASON in known.ENVIRONMENT", unexplained)
    show("Pass on kombu_dash, fail on json", better)
    show("NOT RUN: in the baseline, not in this run", not_run)
    show("Not in the baseline (regenerate it)", new)
    if regressions:
        problems.append(f"{len(regressions)} regression(s)")
    if stale:
        problems.append(f"{len(stale)} stale known.LOSSY entr(ies)")
    if unexplained:
        problems.append(f"{len(unexplained)} json failure(s) without a reason")
    if not_run:
        problems.append(f"{len(not_run)} test(s) not run")
    failed_new = [k for k in new if got[k] in FAILED]
    if failed_new:
        problems.append(f"{len(failed_new)} test(s) failed that the baseline does not know")
    if encodes == 0:
        problems.append("nothing was encoded as kombu_dash: the run did not use it")
    print(f"\nkombu_dash encodes in the test process: {encodes}")
    print("celery-suite: " + ("FAILED: " + "; ".join(problems) if problems else "passed"))
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("gate", "baseline"))
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(
            os.environ.get(
                "KD_CELERY_SUITE_CACHE", Path.home() / ".cache" / "kombu_dash-celery-suite"
            )
        ),
        help="where Celery sdists are downloaded and unpacked",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="gate: run every test, the slow ones too (see SLOW_SECONDS)",
    )
    port = os.environ.get("KD_CELERY_SUITE_REDIS_PORT")
    parser.add_argument(
        "--redis-port",
        type=int,
        default=int(port) if port else None,
        help="port for the private redis-server (default: "
        "KD_CELERY_SUITE_REDIS_PORT, or a free one)",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    # what follows -- goes to pytest (nox passes its own posargs there)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.pytest_args = extra
    return gate(args) if args.command == "gate" else baseline(args)


if __name__ == "__main__":
    sys.exit(main())
