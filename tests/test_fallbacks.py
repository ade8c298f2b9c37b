"""Where a framework is not installed, its values decode to kombu_dash's stand-ins with
the same read API and [] semantics, and are written back under the original tag."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import multidict
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict

import kombu_dash
from kombu_dash import Headers, MultiDict

BLOCK = (
    "starlette",
    "werkzeug",
    "multidict",
    "dash",
    "django",
    "pandas",
    "numpy",
    "yarl",
    "plotly",
    "celery",
)


def run_without_frameworks(code: str) -> dict:
    """Run ``code`` in a fresh interpreter where the web frameworks cannot be imported."""
    script = textwrap.dedent(
        f"""
        import sys, json
        for name in {BLOCK!r}:
            sys.modules[name] = None  # import raises ImportError
        import kombu_dash
        """
    ) + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_needs_no_framework():
    out = run_without_frameworks(
        """
        loaded = [m for m in sys.modules if m.split(".")[0] in
                  ("starlette", "werkzeug", "multidict", "dash", "flask", "fastapi", "quart", "diskcache")
                  and sys.modules[m] is not None]
        print(json.dumps({"loaded": loaded, "has": hasattr(kombu_dash, "dumps")}))
        """
    )
    assert out == {"loaded": [], "has": True}


def test_import_does_not_load_frameworks_that_are_installed():
    code = (
        "import sys, kombu_dash; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette','werkzeug','multidict','dash','flask','celery','diskcache','numpy','pandas','django')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


WIRES = {
    "qp": kombu_dash.dumps(sd.QueryParams("tag=a&tag=b&x=1")),
    "sh": kombu_dash.dumps(sd.Headers(raw=[(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")])),
    "wmd": kombu_dash.dumps(wd.MultiDict([("tag", "a"), ("tag", "b")])),
    "wh": kombu_dash.dumps(wd.Headers([("X-A", "1"), ("x-a", "2")])),
    "wc": kombu_dash.dumps(
        wd.CombinedMultiDict([wd.MultiDict([("a", "1")]), wd.MultiDict([("a", "2")])])
    ),
    "ci": kombu_dash.dumps(multidict.CIMultiDict([("Accept", "1"), ("accept", "2")])),
    "ad": kombu_dash.dumps(DashAttributeDict(value=DashAttributeDict(id="x"))),
    "url": kombu_dash.dumps(sd.URL("http://h/p?q=1")),
}


def test_stand_ins_read_like_the_originals():
    out = run_without_frameworks(
        f"""
        wires = {WIRES!r}
        v = {{k: kombu_dash.loads(w) for k, w in wires.items()}}
        print(json.dumps({{
            "types": {{k: type(x).__name__ for k, x in v.items()}},
            "qp": [v["qp"]["tag"], v["qp"].getlist("tag"), v["qp"].multi_items(), len(v["qp"]), "x" in v["qp"]],
            "sh": [v["sh"]["Set-Cookie"], v["sh"].getlist("SET-COOKIE")],
            "wmd": [v["wmd"]["tag"], v["wmd"].getlist("tag"), v["wmd"].items(multi=True), v["wmd"].to_dict()],
            "wh": [v["wh"]["x-a"], v["wh"].getlist("X-A")],
            "wc": [v["wc"]["a"], v["wc"].getlist("a")],
            "ci": [v["ci"]["ACCEPT"], v["ci"].getall("accept")],
            "ad": v["ad"].value.id,
            "url": v["url"],
            "rewire": {{k: kombu_dash.dumps(x) for k, x in v.items()}},
        }}))
        """
    )
    assert out["types"] == {
        "qp": "MultiDict",
        "sh": "Headers",
        "wmd": "MultiDict",
        "wh": "Headers",
        "wc": "MultiDict",
        "ci": "Headers",
        "ad": "AttributeDict",
        "url": "URLStandIn",
    }
    # starlette's [] gives the last value, werkzeug's the first: kept by the stand-ins
    assert out["qp"] == ["b", ["a", "b"], [["tag", "a"], ["tag", "b"], ["x", "1"]], 2, True]
    assert out["wmd"] == ["a", ["a", "b"], [["tag", "a"], ["tag", "b"]], {"tag": "a"}]
    assert out["sh"] == ["a=1", ["a=1", "b=2"]]
    assert out["wh"] == ["1", ["1", "2"]]
    assert out["wc"] == ["1", ["1", "2"]]
    assert out["ci"] == ["1", ["1", "2"]]
    assert out["ad"] == "x"
    assert out["url"] == "http://h/p?q=1"
    # sent on, a stand-in is written exactly as the original was...
    for key in ("qp", "sh", "wmd", "wh", "ci", "ad", "url"):
        assert out["rewire"][key] == WIRES[key], key
    # ...so a process that has the framework gets the original class back
    assert type(kombu_dash.loads(out["rewire"]["qp"])) is sd.QueryParams
    assert type(kombu_dash.loads(out["rewire"]["wc"])) is wd.ImmutableMultiDict


def test_stand_in_api():
    md = MultiDict([("a", "1"), ("b", "x"), ("a", "2")])
    assert md["a"] == "1" and MultiDict(md, last=True)["a"] == "2"
    assert md.get("missing") is None and md.get("a") == "1"
    assert md.getlist("a") == ["1", "2"] and md.getlist("a", type=int) == [1, 2]
    assert list(md) == ["a", "b"] and len(md) == 2 and "b" in md and "z" not in md
    assert md.items() == [("a", "1"), ("b", "x")]
    assert md.items(multi=True) == md.multi_items() == [("a", "1"), ("b", "x"), ("a", "2")]
    assert md == MultiDict(
        [("b", "x"), ("a", "1"), ("a", "2")]
    )  # per-key order matters, not key order
    assert md != MultiDict([("a", "2"), ("a", "1"), ("b", "x")])
    h = Headers([("Content-Type", "text/html"), ("X-A", "1"), ("x-a", "2")])
    assert (
        h["content-type"] == "text/html" and h.getlist("X-a") == ["1", "2"] and "CONTENT-TYPE" in h
    )
    assert MultiDict(wd.MultiDict([("a", "1"), ("a", "2")])).getlist("a") == ["1", "2"]
    assert MultiDict(sd.QueryParams("a=1&a=2")).getlist("a") == ["1", "2"]
