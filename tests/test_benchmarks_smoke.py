"""The benchmark suite runs end to end in its quick mode (no timing assertions: the
figures live in benchmarks/results/ and docs/performance.rst, not in tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_round_trips_every_payload_and_writes_table_and_chart(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every payload round-tripped through kombu_dash" in proc.stdout
    table = (tmp_path / "benchmarks.md").read_text()
    # kombu_dash carries every payload, with and without orjson; stock json refuses the typed ones
    for title in ("Dash context (QueryParams, AttributeDicts)", "100 multi-dicts + headers"):
        assert f"| {title} | kombu_dash | ok |" in table
        assert f"| {title} | kombu_dash (pure Python) | ok |" in table
        assert f"| {title} | kombu json | refuses |" in table
    assert "| Dash context, plain twin | kombu json | ok |" in table
    assert (tmp_path / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
