"""The edges of ``python -m kombu_dash`` a shell user meets first: ``--version``, and a
reader that goes away (``decode ... | head -1``): the command stops quietly, with the
exit code a shell reports for a Unix tool that SIGPIPE ended, and writes nothing to
stderr (no traceback, no "cannot decode" line). Run as processes, as a user runs them;
no service needed (``check`` is pointed at a closed port).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import kombu_dash
from kombu_dash.__main__ import CLOSED_PIPE
from tests._celery_support import app_env
from tests.harness import ROOT, free_port

pytestmark = pytest.mark.timeout(120)

#: A body whose printed form is far larger than a pipe's buffer (64 KiB on Linux).
BIG = kombu_dash.dumpb({"rows": [(i, f"row {i}") for i in range(50_000)]})


def run(*args: str, stdin: bytes | None = None, stdout=subprocess.PIPE, env=None):
    return subprocess.run(
        [sys.executable, "-m", "kombu_dash", *args],
        cwd=ROOT,
        input=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=90,
    )


def run_into_closed_pipe(*args: str, stdin: bytes | None = None, env=None):
    """The command with its stdout a pipe whose reader has already gone: every write
    fails, whatever the timing (what `| head` does once it has its line)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return run(*args, stdin=stdin, stdout=write, env=env)
    finally:
        os.close(write)


def test_version_names_the_package_engine_and_json_backend():
    done = run("--version")
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout.decode() == f"{kombu_dash.engine_info()}\n"
    assert done.stdout.startswith(f"kombu_dash {kombu_dash.__version__} (".encode())
    listed = run("--help")
    assert b"--version" in listed.stdout and str(CLOSED_PIPE).encode() in listed.stdout


@pytest.mark.parametrize("options", [[], ["--json"]], ids=["repr", "json"])
def test_decode_into_head_stops_quietly(tmp_path, options):
    body = tmp_path / "body.json"
    body.write_bytes(BIG)
    decode = subprocess.Popen(
        [sys.executable, "-m", "kombu_dash", "decode", *options, str(body)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # head takes 100 bytes and goes: decode's output (one line of a repr, or the streamed
    # JSON) is far longer than a pipe holds, so its writer meets the closed pipe
    head = subprocess.run(
        ["head", "-c", "100"], stdin=decode.stdout, capture_output=True, timeout=90
    )
    decode.stdout.close()  # head holds the pipe's read end now
    err = decode.stderr.read()
    assert decode.wait(90) == CLOSED_PIPE
    assert err == b""  # no traceback, no "cannot decode or print this message"
    assert head.stdout.startswith((b"{'rows': [(0, 'row 0'),", b'{\n  "rows": [')), head.stdout


@pytest.mark.parametrize("source", ["stdin", "file"])
def test_decode_into_a_closed_pipe_stops_quietly(tmp_path, source):
    small = kombu_dash.dumpb({"tag": ["a", "b"]})  # fits in any buffer: fails at the flush
    for body in (small, BIG):
        if source == "stdin":
            done = run_into_closed_pipe("decode", stdin=body)
        else:
            path = tmp_path / "body.json"
            path.write_bytes(body)
            done = run_into_closed_pipe("decode", str(path))
        assert (done.returncode, done.stderr) == (CLOSED_PIPE, b"")


def test_decode_errors_still_go_to_stderr_when_stdout_is_closed():
    done = run_into_closed_pipe("decode", stdin=b'{"~os.system": "x"}')
    assert done.returncode == 1
    assert b"unknown tag '~os.system'" in done.stderr


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        (["--help"], {CLOSED_PIPE}),
        (["--version"], {CLOSED_PIPE}),
        # A command's help is argparse's: recent Pythons (3.11.7, 3.12) ignore a failed
        # write there (exit 0), 3.10 fails at the flush (141). Quiet either way.
        (["decode", "--help"], {0, CLOSED_PIPE}),
        (["check", "--help"], {0, CLOSED_PIPE}),
    ],
)
def test_help_and_version_into_a_closed_pipe_stop_quietly(args, codes):
    done = run_into_closed_pipe(*args)
    assert done.stderr == b"" and done.returncode in codes


def test_check_into_a_closed_pipe_stops_quietly(unique_name):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    env = app_env(queue=unique_name, broker=closed, backend=closed)
    args = ("check", "-A", "tests.celery_apps.reliability_app:app", "--timeout", "5")
    done = run_into_closed_pipe(*args, env=env)
    assert (done.returncode, done.stderr) == (CLOSED_PIPE, b"")
    # The same check into a reader that stays: its line and its own exit code.
    shown = run(*args, env=env)
    assert shown.returncode == 3 and b"broker unreachable" in shown.stdout
