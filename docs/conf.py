"""Sphinx configuration: ``nox -s docs`` builds docs/_build/html with warnings as errors.

The build needs no network: no intersphinx, no remote images, and the local extension
refuses any socket connection while it runs. The API reference and the tag reference are
generated from the installed package, so build with kombu_dash installed (``pip install -e
".[dash,diskcache,redis]" -r docs/requirements.txt``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import kombu_dash  # noqa: E402  (after _ext is on the path, so the import order is plain)

project = "kombu_dash"
author = "kombu_dash contributors"
copyright = "kombu_dash contributors"  # noqa: A001  (Sphinx's name for it)
release = kombu_dash.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
    "kombu_dash_docs",  # docs/_ext: the tag reference, the CLI table, the build's own checks
]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path = ["_static"]

html_theme = "furo"
html_title = f"kombu_dash {release}"
html_theme_options = {
    "navigation_with_keys": True,
}
html_show_sourcelink = False

# Literal blocks without a language are text (output, wire examples), not Python.
highlight_language = "none"
pygments_style = "friendly"
pygments_dark_style = "monokai"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autodoc_default_options = {"show-inheritance": True}
# Dash, diskcache and Celery are real imports here (the docs environment installs them):
# the reference shows the classes users get, not mocks.
autodoc_mock_imports: list[str] = []

nitpicky = False  # no intersphinx (no network): references to other projects stay text
smartquotes = False  # "--max-size" and quotes in help texts stay as written
