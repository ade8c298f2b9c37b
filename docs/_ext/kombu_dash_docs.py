"""Sphinx extension for kombu_dash's documentation, built from the installed package.

* ``.. kombu-dash-tags::`` writes the tag reference from the default codec's registry: for
  each tag its wire key, the classes it writes, the JSON type of its payload, the library
  it needs and what a value decodes to where that library is missing, and an example
  encoded at build time with ``kombu_dash.dumps``.
* ``.. kombu-dash-commands::`` lists the ``python -m kombu_dash`` commands from
  ``kombu_dash.cli.COMMANDS``.
* When the HTML is written, the build checks it: every name in ``kombu_dash.__all__`` is
  documented, every registered tag has its section, every picture in ``docs/_static`` and
  the benchmark chart is shown on a page, every command has its page. A gap is a warning,
  which ``-W`` makes an error.
* The build may not use the network: a socket connection raises.

Examples are encoded in a child process (``python kombu_dash_docs.py samples``), so that
Django's settings or a framework imported for an example never leak into Sphinx; what a
value becomes where its library is missing is measured in one child per library, with
that library's import blocked (``python kombu_dash_docs.py without LIBRARY``).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent
ROOT = DOCS.parent
#: pictures the built site must show besides docs/_static/*.png
PICTURES = [ROOT / "benchmarks" / "results" / "benchmarks.png"]

# -- examples, one per tag ------------------------------------------------------------------

#: Always in scope for an example (not shown).
PRELUDE = """\
import datetime as dt
from collections import Counter, OrderedDict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import kombu_dash
"""

_W = "from werkzeug.datastructures import "
_S = "from starlette.datastructures import "
_M = "from multidict import "

#: wire key -> (imports shown with the example, expression, hidden setup run first).
#: A registered tag without an example here fails the build: add one when adding a tag.
SAMPLES: dict[str, tuple[str, str, str]] = {
    "tuple": ("", "(1, 'a')", ""),
    "set": ("", "{3}", ""),
    "frozenset": ("", "frozenset({'x'})", ""),
    "dict": ("", "{1: 'a', '~tuple': [2]}", ""),
    "OrderedDict": ("", "OrderedDict(a=1, b=2)", ""),
    "Counter": ("", "Counter('abca')", ""),
    "bytes": ("", "b'\\x00\\xff'", ""),
    "bytearray": ("", "bytearray(b'hi')", ""),
    "float": ("", "float('-inf')", ""),
    "int": ("", "2**64", ""),
    "decimal": ("", "Decimal('1.10')", ""),
    "uuid": ("", "UUID('12345678-1234-5678-1234-567812345678')", ""),
    "datetime": ("", "datetime(2024, 7, 1, 12, 30, tzinfo=ZoneInfo('Europe/Paris'))", ""),
    "date": ("", "date(2024, 7, 1)", ""),
    "time": ("", "time(12, 30, 0, 500)", ""),
    "timedelta": ("", "timedelta(days=1, seconds=2, microseconds=3)", ""),
    "kombu_dash.Error": (
        "",
        "kombu_dash.EncodeError('cannot encode x.Y', path=['rows', 1], root='result')",
        "",
    ),
    "kombu_dash.MultiDict": ("", "kombu_dash.MultiDict([('a', 1), ('a', 2)], last=True)", ""),
    "kombu_dash.Headers": ("", "kombu_dash.Headers([('X-Trace', '1')])", ""),
    "starlette.QueryParams": (_S + "QueryParams", "QueryParams('tag=a&tag=b')", ""),
    "starlette.ImmutableMultiDict": (
        _S + "ImmutableMultiDict",
        "ImmutableMultiDict([('a', '1'), ('a', '2')])",
        "",
    ),
    "starlette.MultiDict": (_S + "MultiDict", "MultiDict([('a', '1')])", ""),
    "starlette.FormData": (_S + "FormData", "FormData([('name', 'x'), ('name', 'y')])", ""),
    "starlette.Headers": (
        _S + "Headers",
        "Headers(raw=[(b'set-cookie', b'a=1'), (b'set-cookie', b'b=2')])",
        "",
    ),
    "starlette.MutableHeaders": (_S + "MutableHeaders", "MutableHeaders({'x-a': '1'})", ""),
    "starlette.URL": (_S + "URL", "URL('https://example.org/report?tag=a')", ""),
    "werkzeug.MultiDict": (_W + "MultiDict", "MultiDict([('tag', 'a'), ('tag', 'b')])", ""),
    "werkzeug.ImmutableMultiDict": (
        _W + "ImmutableMultiDict",
        "ImmutableMultiDict([('tag', 'a'), ('tag', 'b')])",
        "",
    ),
    "werkzeug.CombinedMultiDict": (
        _W + "CombinedMultiDict, MultiDict",
        "CombinedMultiDict([MultiDict([('tag', 'a')]), MultiDict([('item', 'pen')])])",
        "",
    ),
    "werkzeug.Headers": (_W + "Headers", "Headers([('Accept', 'text/html')])", ""),
    "werkzeug.TypeConversionDict": (_W + "TypeConversionDict", "TypeConversionDict(n='1')", ""),
    "werkzeug.ImmutableTypeConversionDict": (
        _W + "ImmutableTypeConversionDict",
        "ImmutableTypeConversionDict(n='1')",
        "",
    ),
    "werkzeug.ImmutableDict": (_W + "ImmutableDict", "ImmutableDict(a=1)", ""),
    "multidict.MultiDict": (_M + "MultiDict", "MultiDict([('a', '1'), ('a', '2')])", ""),
    "multidict.CIMultiDict": (_M + "CIMultiDict", "CIMultiDict([('Accept', 'text/html')])", ""),
    "multidict.MultiDictProxy": (
        _M + "MultiDict, MultiDictProxy",
        "MultiDictProxy(MultiDict(a='1'))",
        "",
    ),
    "multidict.CIMultiDictProxy": (
        _M + "CIMultiDict, CIMultiDictProxy",
        "CIMultiDictProxy(CIMultiDict(Accept='text/html'))",
        "",
    ),
    "dash.AttributeDict": ("from dash._utils import AttributeDict", "AttributeDict(value=3)", ""),
    "dash.Component": ("from dash import html", "html.B('3/20', id='step')", ""),
    "dash.NoUpdate": ("import dash", "dash.no_update", ""),
    "plotly.Figure": (
        "import plotly.graph_objects as go",
        "go.Figure(go.Bar(y=[1, 2]), layout={'template': 'none'})",
        "",
    ),
    "numpy.ndarray": ("import numpy as np", "np.arange(3, dtype=np.int32)", ""),
    "numpy.scalar": ("import numpy as np", "np.float32(1.5)", ""),
    "django.MultiValueDict": (
        "from django.utils.datastructures import MultiValueDict",
        "MultiValueDict({'tag': ['a', 'b']})",
        "",
    ),
    "django.QueryDict": (
        "from django.http import QueryDict",
        "QueryDict('tag=a&tag=b')",
        "from django.conf import settings\nsettings.configure()\n",
    ),
    "pandas.DataFrame": ("import pandas as pd", "pd.DataFrame({'n': [1, 2]})", ""),
    "pandas.Series": ("import pandas as pd", "pd.Series([1.5, 2.0], name='price')", ""),
    "pandas.Categorical": ("import pandas as pd", "pd.Categorical(['a', 'b', 'a'])", ""),
    "pandas.Timestamp": (
        "import pandas as pd",
        "pd.Timestamp('2024-07-14 09:30', tz='Europe/Paris')",
        "",
    ),
    "pandas.Timedelta": ("import pandas as pd", "pd.Timedelta('1h')", ""),
    "pandas.NaT": ("import pandas as pd", "pd.NaT", ""),
    "pandas.NA": ("import pandas as pd", "pd.NA", ""),
    "yarl.URL": ("from yarl import URL", "URL('https://example.org/a b')", ""),
}

#: Section titles for the modules that define tags; another module is titled by its name.
GROUPS = {
    "kombu_dash.tags": "Python's own types",
    "kombu_dash.frameworks.standins": "kombu_dash's stand-ins",
    "kombu_dash.frameworks.starlette": "starlette (FastAPI)",
    "kombu_dash.frameworks.werkzeug": "werkzeug (Flask, Quart)",
    "kombu_dash.frameworks.aiohttp_multidict": "multidict (aiohttp)",
    "kombu_dash.frameworks.dash": "Dash: AttributeDict",
    "kombu_dash.frameworks.dash_components": "Dash: components and no_update",
    "kombu_dash.frameworks.plotly": "plotly",
    "kombu_dash.frameworks.numpy": "numpy",
    "kombu_dash.frameworks.pandas": "pandas",
    "kombu_dash.frameworks.django": "Django",
    "kombu_dash.frameworks.yarl": "yarl",
}

_JSON_TYPES = {
    "list": "array",
    "dict": "object",
    "str": "string",
    "int": "integer",
    "NoneType": "null",
}


# -- the registry, read in the child processes and in Sphinx --------------------------------


def _registry() -> dict[str, Any]:
    import kombu_dash

    return kombu_dash.default_codec.tags()


def _class_names(tag: Any) -> list[str]:
    """``module.QualName`` of every class the tag writes, as it names them."""
    out = []
    for cls in tag.types:
        if isinstance(cls, str):
            module, _, qualname = cls.partition(":")
            out.append(f"{module}.{qualname}")
        else:
            out.append(f"{cls.__module__}.{cls.__qualname__}".removeprefix("builtins."))
    # the stand-ins and errors by the names users import them by
    return [re.sub(r"^kombu_dash\.(standins|errors)\.", "kombu_dash.", n) for n in out]


def _library(tag: Any) -> str | None:
    """The importable top-level package a tag's classes come from, None for Python's own."""
    for name in _class_names(tag):
        top = name.split(".")[0]
        if top == "kombu_dash" or top in sys.stdlib_module_names or "." not in name:
            continue
        return top
    return None


def _plain_tags() -> list[Any]:
    """Tags written as plain JSON (no ``~key``): they never appear on the wire."""
    from kombu_dash.frameworks import FRAMEWORK_TAGS
    from kombu_dash.tags import BUILTIN_TAGS

    found = []
    for tag in (*BUILTIN_TAGS, *FRAMEWORK_TAGS):
        instance = tag() if isinstance(tag, type) else tag
        if instance.plain:
            found.append(instance)
    return found


# -- child processes ------------------------------------------------------------------------


def _samples_main() -> dict[str, Any]:
    """Encode every example; check it is the tag's own and comes back as itself."""
    import kombu_dash

    out: dict[str, Any] = {}
    for key in _registry():
        if key not in SAMPLES:
            out[key] = {"error": "no example in docs/_ext/kombu_dash_docs.py SAMPLES"}
            continue
        imports, expr, setup = SAMPLES[key]
        scope: dict[str, Any] = {}
        try:
            exec(PRELUDE + setup + imports, scope)
            value = eval(expr, scope)
            wire = kombu_dash.dumps(value)
            back = kombu_dash.loads(wire)
        except Exception as exc:  # noqa: BLE001 - reported as a build warning
            out[key] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        outer = json.loads(wire)
        problems = []
        if not (type(outer) is dict and list(outer) == [f"~{key}"]):
            problems.append(f"it is not written as ~{key}")
        if type(back) is not type(value):
            problems.append(f"it decodes to {type(back).__qualname__}")
        if kombu_dash.dumps(back) != wire:
            problems.append("the decoded value is written differently")
        cls = type(value)
        name = f"{cls.__module__}.{cls.__qualname__}".removeprefix("builtins.")
        out[key] = {"wire": wire, "type": name, "error": "; ".join(problems) or None}
    return out


def _without_main(library: str, wires: dict[str, str]) -> dict[str, str]:
    """What each wire text decodes to in a process where ``library`` cannot be imported."""
    sys.modules[library] = None  # type: ignore[assignment]  # `import library` now fails
    import kombu_dash

    out = {}
    for key, wire in wires.items():
        try:
            value = kombu_dash.loads(wire)
        except kombu_dash.DecodeError as exc:
            out[key] = f"DecodeError: {exc.message}"
            continue
        cls = type(value)
        name = f"{cls.__module__}.{cls.__qualname__}".removeprefix("builtins.")
        if name.startswith("kombu_dash.standins."):  # the public names
            name = "kombu_dash." + cls.__qualname__
        out[key] = name
    return out


def _child(*args: str, stdin: str = "") -> Any:
    run = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    if run.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout)


# -- the directives ---------------------------------------------------------------------------


def _tag_reference(warn: Any) -> list[str]:
    """The tag reference as reStructuredText."""
    import importlib

    from docutils.nodes import make_id

    registry = _registry()
    samples = _child("samples")
    by_library: dict[str, dict[str, str]] = {}
    for key, tag in registry.items():
        lib = _library(tag)
        if lib and samples[key].get("wire"):
            by_library.setdefault(lib, {})[key] = samples[key]["wire"]
    without: dict[str, str] = {}
    for lib, wires in by_library.items():
        without.update(_child("without", lib, stdin=json.dumps(wires)))

    groups: dict[str, list[str]] = {}
    for key, tag in registry.items():
        groups.setdefault(type(tag).__module__, []).append(key)

    def classes(key: str) -> list[str]:
        # a tag for values of no class of its own (``~int``: big ints) names its example's
        return _class_names(registry[key]) or [samples[key].get("type") or "?"]

    lines = [
        ".. list-table:: Every tag",
        "   :header-rows: 1",
        "   :widths: 40 40 20",
        "",
        "   * - wire key",
        "     - writes",
        "     - needs",
    ]
    for keys in groups.values():
        for key in keys:
            lib = _library(registry[key])
            lines += [
                f"   * - :ref:`~{key} <{make_id('tag-' + key)}>`",
                f"     - ``{classes(key)[0].rsplit('.', 1)[-1]}``",
                f"     - {f'``{lib}``' if lib else 'Python'}",
            ]
    lines.append("")

    for module, keys in groups.items():
        title = GROUPS.get(module, module.rsplit(".", 1)[-1])
        lines += [title, "-" * len(title), ""]
        doc = (importlib.import_module(module).__doc__ or "").strip().split("\n\n")[0]
        if doc and module != "kombu_dash.tags":
            lines += [*doc.splitlines(), ""]
        for key in keys:
            tag = registry[key]
            sample = samples[key]
            if sample.get("error"):
                warn(f"tag reference: ~{key}: {sample['error']}")
            lib = _library(tag)
            heading = f"``~{key}``"
            lines += [f".. _{make_id('tag-' + key)}:", "", heading, "~" * len(heading), ""]
            doc = (type(tag).__doc__ or "").strip()
            if doc:
                lines += [*_dedent(doc), ""]
            payload = _JSON_TYPES.get(tag.payload.__name__, tag.payload.__name__)
            facts = [
                "**writes** " + ", ".join(f"``{c}``" for c in classes(key)),
                f"**payload** a JSON {payload}",
            ]
            if tag.subclasses:
                facts.append("subclasses too, each coming back as its own class")
            if lib:
                missing = without.get(key, "")
                if missing.startswith("DecodeError"):
                    then = f"decoding is a ``DecodeError`` ({missing.split(': ', 1)[1]})"
                elif key in without:
                    then = f"it decodes to ``{missing}``, written back as ``~{key}``"
                else:
                    then = "unknown (no example to try)"
                facts.append(f"**needs** ``{lib}``; without it, {then}")
            else:
                facts.append("**needs** nothing beyond Python")
            lines += [" · ".join(facts), ""]
            if sample.get("wire"):
                imports, expr, _ = SAMPLES[key]
                lines += [".. code-block:: pycon", ""]
                lines += [f"   >>> {line}" for line in imports.splitlines()]
                lines += [f"   >>> kombu_dash.dumps({expr})", f"   {sample['wire']!r}", ""]

    plain = _plain_tags()
    if plain:
        title = "Written as plain JSON"
        lines += [title, "-" * len(title), ""]
        lines += [
            "These classes are written without a tag, as json writes them; the reader gets",
            "the plain value:",
            "",
        ]
        for tag in plain:
            doc = " ".join(_dedent((type(tag).__doc__ or "").strip()))
            names = ", ".join(f"``{c}``" for c in _class_names(tag))
            lines += [f"* {names}: {doc}" if doc else f"* {names}"]
        lines.append("")
    return lines


def _dedent(doc: str) -> list[str]:
    first, *rest = doc.splitlines()
    indent = min((len(x) - len(x.lstrip()) for x in rest if x.strip()), default=0)
    return [first.strip(), *(x[indent:] for x in rest)]


def setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    logger = logging.getLogger(__name__)
    _offline()

    class _Generated(SphinxDirective):
        def generated(self) -> list[str]:
            raise NotImplementedError

        def run(self) -> list[nodes.Node]:
            where = self.get_location()
            source = self.generated()
            node = nodes.section()
            node.document = self.state.document
            content = StringList(source, source=f"<generated by {self.name}>")
            nested_parse_with_titles(self.state, content, node)
            logger.debug("%s: %d generated lines", where, len(source))
            return node.children

    class TagReference(_Generated):
        def generated(self) -> list[str]:
            return _tag_reference(lambda text: logger.warning(text, location=self.get_location()))

    class Commands(_Generated):
        def generated(self) -> list[str]:
            from kombu_dash.cli import COMMANDS

            lines = []
            for name, (_, text) in COMMANDS.items():
                lines += [f"``python -m kombu_dash {name}``", f"    {text[:1].upper()}{text[1:]}."]
            return lines + [""]

    class NoContents(SphinxDirective):
        """Furo shows every page's sections beside it, and prints an error box in place of
        a ``contents`` topic; the pages keep theirs for readers of the raw .rst files."""

        has_content = False
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = {"local": lambda x: x, "depth": int, "backlinks": str, "class": str}

        def run(self) -> list[nodes.Node]:
            return []

    class ExitCodes(_Generated):
        """The ``EXIT_CODES`` table of the command module named as the argument."""

        required_arguments = 1

        def generated(self) -> list[str]:
            import importlib

            codes = importlib.import_module(self.arguments[0]).EXIT_CODES
            lines = [".. list-table::", "   :widths: 10 90", ""]
            for code, text in sorted(codes.items()):
                lines += [f"   * - {code}", f"     - {text}"]
            return [*lines, ""]

    app.add_directive("kombu-dash-exit-codes", ExitCodes)
    app.add_directive("contents", NoContents, override=True)
    app.connect("autodoc-process-docstring", _no_type_docstring)
    app.add_directive("kombu-dash-tags", TagReference)
    app.add_directive("kombu-dash-commands", Commands)
    app.connect("build-finished", lambda app, exc: _check_html(app, exc, logger))
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


def _no_type_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """A module constant (``SERIALIZER``, ``default_codec``) has no docstring of its own:
    autodoc would show its type's (``str``'s); the page says what it is instead."""
    if what == "data" and lines:
        from sphinx.util.inspect import getdoc

        own = getdoc(type(obj)) or ""
        if " ".join(lines).split() == " ".join(own.splitlines()).split():
            lines.clear()


# -- the build's own checks ---------------------------------------------------------------------


def _check_html(app: Any, exc: Exception | None, logger: Any) -> None:
    if exc is not None or app.builder.format != "html":
        return
    from docutils.nodes import make_id

    import kombu_dash
    from kombu_dash.cli import COMMANDS

    out = Path(app.outdir)
    pages = {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in out.rglob("*.html")}
    everything = "\n".join(pages.values())

    for name in kombu_dash.__all__:
        if f'id="kombu_dash.{name}"' not in everything:
            logger.warning(
                f"kombu_dash.{name} (in __all__) is documented on no page: add it to api.rst"
            )

    tags_page = pages.get("tags.html", "")
    for key in _registry():
        if f'id="{make_id("tag-" + key)}"' not in tags_page:
            logger.warning(f"tags.html has no section for ~{key}")

    for picture in [*sorted((DOCS / "_static").glob("*.png")), *PICTURES]:
        shown = re.search(rf'<img [^>]*src="[^"]*/{re.escape(picture.name)}"', everything)
        if not shown or not (out / "_images" / picture.name).is_file():
            logger.warning(f"{picture.relative_to(ROOT)} is shown on no page")

    for page, text in pages.items():
        if "Adding a table of contents in Furo-based" in text:
            logger.warning(f"{page}: Furo shows an error box in place of its contents topic")

    cli_page = pages.get("cli.html", "")
    for name in COMMANDS:
        if f"python -m kombu_dash {name}" not in cli_page:
            logger.warning(f"cli.html does not document `python -m kombu_dash {name}`")


def _offline() -> None:
    """Make any network connection from the build an error (intersphinx, remote images)."""

    def guard(method: Any) -> Any:
        def call(self: socket.socket, address: Any, *args: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise OSError(f"the docs build must not use the network (tried {address!r})")
            return method(self, address, *args)

        return call

    socket.socket.connect = guard(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guard(socket.socket.connect_ex)  # type: ignore[method-assign]


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "samples":
        result: Any = _samples_main()
    elif command == "without":
        result = _without_main(sys.argv[2], json.loads(sys.stdin.read()))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))
