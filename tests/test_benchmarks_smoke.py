"""The benchmark suite runs end to end in its quick mode (no timing assertions: the
figures live in benchmarks/results/ and docs/performance.rst, not in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One ``--quick`` run (this environment, then the four installs), for every test here."""
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, out


def test_quick_benchmark_round_trips_every_payload_and_writes_table_and_chart(quick_run):
    proc, tmp_path = quick_run
    assert "every payload round-tripped through kombu_dash" in proc.stdout
    table = (tmp_path / "benchmarks.md").read_text()
    # kombu_dash carries every payload; stock json refuses the typed ones
    for title in ("Dash context (QueryParams, AttributeDicts)", "100 multi-dicts + headers"):
        assert f"| {title} | kombu_dash | ok |" in table
        assert f"| {title} | kombu json | refuses |" in table
    assert "| Dash context, plain twin | kombu json | ok |" in table
    assert (tmp_path / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_install_is_made_for_real_and_reports_the_engine_it_got(quick_run):
    """The four installs of the "As installed" table: each a virtualenv the runner makes
    with pip (no compiler on PATH), each measured inside itself, each row headed by the
    engine and JSON backend that environment reports."""
    _proc, tmp_path = quick_run
    data = json.loads((tmp_path / "benchmarks.json").read_text())["installs"]
    want = {
        "C + orjson": ("c", "orjson"),
        "orjson, no C": ("python", "orjson"),
        "C, no orjson": ("c", "json"),
        "neither": ("python", "json"),
    }
    assert {
        label: (e["engine"]["engine"], e["engine"]["json"]) for label, e in data.items()
    } == want
    for label, entry in data.items():
        # measured in its own virtualenv, not in this checkout
        assert not Path(entry["kombu_dash_file"]).is_relative_to(ROOT), (label, entry)
        assert entry["artefact"].endswith(
            ".whl" if label.startswith("C,") or label == "C + orjson" else ".tar.gz"
        )
        for payload, e in entry["payloads"].items():
            assert e["results"]["kombu_dash"]["status"] == "ok", (label, payload)
    table = (tmp_path / "benchmarks.md").read_text()
    assert (
        "| **C + orjson**: pip install kombu_dash (the binary wheel) | C engine, orjson " in table
    )
    assert "| **neither**: the sdist, no compiler, no orjson | Python engine, json " in table
