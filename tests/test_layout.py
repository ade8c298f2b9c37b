"""The package's layout as a contract: imports point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kombu_dash

PACKAGE = Path(kombu_dash.__file__).parent


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "__init__.py" or path.parent != PACKAGE:
            yield path


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_up_into_the_package_init(path):
    # `from . import default_codec` (or `from kombu_dash import ...`) in a submodule makes
    # the package __init__ a dependency of the modules it is built from: a cycle.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(PACKAGE).parts)  # 1 for kombu_dash/x.py
    submodules = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir()
    }
    submodules |= {p.stem for p in PACKAGE.glob("*.c")}  # the optional accelerator
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        to_root = (node.level == depth and not node.module) or (
            node.level == 0 and node.module == "kombu_dash"
        )
        if to_root:
            names = {a.name for a in node.names}
            assert names <= submodules, (
                f"{path.name}:{node.lineno} imports {sorted(names - submodules)} from the package "
                "__init__; import them from the module that defines them"
            )


def test_default_codec_is_one_object():
    from kombu_dash.default import default_codec
    from kombu_dash.diskcache_disk import TaggedJSONDisk

    assert kombu_dash.default_codec is default_codec is TaggedJSONDisk.codec
    assert kombu_dash.dumps.__self__ is default_codec
