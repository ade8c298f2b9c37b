"""The release workflow and cibuildwheel's configuration build what setup.cfg promises.

The hosted runs themselves (.github/workflows/release.yml) cannot happen on this machine:
these checks ask cibuildwheel which wheels each platform's run would build, from the
same pyproject.toml, and read the workflow that runs it.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def _cpythons() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    found = re.findall(
        r"Programming Language :: Python :: 3\.(\d+)$", cfg["metadata"]["classifiers"], re.M
    )
    return sorted(f"cp3{minor}" for minor in found)


def _identifiers(platform: str, *archs: str) -> set[str]:
    argv = [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers"]
    argv += ["--platform", platform] + (["--archs", ",".join(archs)] if archs else [])
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "platform, archs, kinds",
    [
        (
            "linux",
            ("x86_64", "aarch64"),
            [
                f"{libc}_{arch}"
                for libc in ("manylinux", "musllinux")
                for arch in ("x86_64", "aarch64")
            ],
        ),
        ("macos", (), ["macosx_x86_64", "macosx_arm64"]),
        ("windows", (), ["win_amd64"]),
    ],
    ids=["linux", "macos", "windows"],
)
def test_cibuildwheel_builds_every_listed_cpython_on_each_platform(platform, archs, kinds):
    pythons = _cpythons()
    assert pythons == ["cp310", "cp311", "cp312", "cp313"]
    want = {f"{python}-{kind}" for python in pythons for kind in kinds}
    assert _identifiers(platform, *archs) == want


def test_cibuildwheel_requires_the_c_engine_and_tests_each_wheel_for_it():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    assert config["environment"] == {"KOMBU_DASH_REQUIRE_SPEEDUPS": "1"}
    assert config["test-command"] == "python {project}/tests/wheels/engine_check.py"
    assert (ROOT / "tests" / "wheels" / "engine_check.py").is_file()


def test_release_workflow_builds_on_every_platform_and_publishes_only_tags():
    flow = yaml.safe_load(WORKFLOW.read_text())
    jobs = flow["jobs"]
    runners = jobs["wheels"]["strategy"]["matrix"]["os"]
    # Linux x86_64 and aarch64 on native runners, macOS, Windows
    assert {"ubuntu-24.04", "ubuntu-24.04-arm"} <= set(runners)
    assert any(r.startswith("macos-") for r in runners)
    assert any(r.startswith("windows-") for r in runners)
    steps = jobs["wheels"]["steps"]
    assert any(s.get("uses", "").startswith("pypa/cibuildwheel@v") for s in steps)
    assert any("build --sdist" in s.get("run", "") for s in jobs["sdist"]["steps"])
    publish = jobs["publish"]
    assert set(publish["needs"]) == {"wheels", "sdist"}
    assert publish["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert publish["permissions"] == {"id-token": "write"}
    # yaml reads the key `on` as True
    assert flow[True]["push"]["tags"] == ["v*"]
