"""What ``nox -s wheels`` put in dist/: an sdist a build can start from, and one binary
wheel per CPython setup.cfg lists, each carrying the C engine under a manylinux tag."""

from __future__ import annotations

import configparser
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _pythons() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    found = re.findall(
        r"Programming Language :: Python :: (3\.\d+)$", cfg["metadata"]["classifiers"], re.M
    )
    return sorted(found, key=lambda v: tuple(map(int, v.split("."))))


def _tags(wheel: Path) -> tuple[str, str, str]:
    # name-version-python-abi-platform.whl
    python, abi, platform = wheel.name[: -len(".whl")].split("-")[2:5]
    return python, abi, platform


def test_one_manylinux_wheel_per_listed_cpython(wheels):
    want = {"cp" + v.replace(".", "") for v in _pythons()}
    assert want == {"cp310", "cp311", "cp312", "cp313"}
    got = {}
    for wheel in wheels:
        python, abi, platform = _tags(wheel)
        assert abi == python, wheel.name
        # repaired: manylinux tags only (e.g. manylinux1_x86_64.manylinux_2_5_x86_64), no linux_x86_64
        assert all(t.startswith("manylinux") for t in platform.split(".")), wheel.name
        got[python] = wheel
    assert set(got) == want, sorted(w.name for w in wheels)


@pytest.mark.parametrize("python", ["cp310", "cp311", "cp312", "cp313"])
def test_wheel_carries_the_c_engine_and_what_the_package_reads(wheels, python):
    (wheel,) = [w for w in wheels if _tags(w)[0] == python]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        meta = z.read(info.replace("WHEEL", "METADATA")).decode()
        entry_points = z.read(info.replace("WHEEL", "entry_points.txt")).decode()
        wheel_info = z.read(info).decode()
    engine = [n for n in names if re.fullmatch(r"kombu_dash/_speedups\..+\.so", n)]
    assert engine == [f"kombu_dash/_speedups.cpython-{python[2:]}-x86_64-linux-gnu.so"], engine
    assert "Root-Is-Purelib: false" in wheel_info
    for needed in (
        "kombu_dash/py.typed",
        "kombu_dash/_speedups.pyi",
        "kombu_dash/cli/demo/index.html",
        "kombu_dash/cli/demo/styles.css",
    ):
        assert needed in names
    assert not any(n.endswith(".c") for n in names)  # the compiled module, not its source
    # auditwheel grafted no shared library: the engine needs libc alone
    assert not any(".libs/" in n for n in names), sorted(n for n in names if ".libs/" in n)
    assert "kombu_dash = kombu_dash.serializer:ENTRY_POINT" in entry_points
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, re.M)
    assert any(r.startswith("kombu") and "extra ==" not in r for r in requires), requires
    assert any(
        r.startswith("orjson>=3.9.15") and "extra ==" not in r and "CPython" in r for r in requires
    ), requires


def test_sdist_holds_what_a_build_needs(sdist):
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in (
        "setup.py",
        "setup.cfg",
        "pyproject.toml",
        "README.rst",
        "kombu_dash/_speedups.c",
        "kombu_dash/_speedups.pyi",
        "kombu_dash/py.typed",
        "kombu_dash/cli/demo/index.html",
        "kombu_dash/cli/demo/styles.css",
    ):
        assert needed in names, needed
