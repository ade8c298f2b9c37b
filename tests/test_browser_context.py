"""What a callback's ``ctx.args``, ``ctx.headers`` and ``ctx.cookies`` hold in a plain Dash
app of a user's own (tests/dash_apps/query_app.py, not the demo), checked in a real
browser against what docs/dash.rst says ("Where ctx.args, ctx.headers and ctx.cookies
come from"): on each backend, in a synchronous callback and in a background callback on
kombu_dash's DiskcacheManager and CeleryManager, for a page opened at ``/?tag=a&tag=b``,
without and with the page-query recipe of docs/dash.rst (the JavaScript is read from the
page itself and served as the app's assets, as a user would save it).

Repeated header lines, which a browser never sends, are checked with an HTTP client.
"""

from __future__ import annotations

import http.client
import json
import re

import pytest

from tests.dash_apps.harness import DASH_VERSION, Server, Worker, child_env
from tests.dash_apps.harness import body as callback_body
from tests.harness import ROOT

from .test_browser import Page, browser, wait_until  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

QUERY = "tag=a&tag=b"
ARGS_TYPE = {
    "flask": "werkzeug.datastructures.structures.ImmutableMultiDict",
    "quart": "werkzeug.datastructures.structures.ImmutableMultiDict",
    "fastapi": "starlette.datastructures.QueryParams",
}
#: How each backend spells header names in ctx.headers.
HOST_HEADER = {"flask": "Host", "quart": "Host", "fastapi": "host"}
#: The cookie ``k`` sent twice (``k=callback; k=page``): which one ctx.cookies keeps.
COOKIE_KEPT = {"flask": "callback", "quart": "callback", "fastapi": "page"}
#: Dash's own keys in a first click's callback request: endId from dash 4.4.
DASH_KEYS = ["endId"] if DASH_VERSION >= (4, 4) else []


def recipe() -> str:
    """The JavaScript of docs/dash.rst's recipe, as the page prints it."""
    text = (ROOT / "docs" / "dash.rst").read_text(encoding="utf-8")
    block = re.search(r"\.\. code-block:: javascript\n\n((?:    .*\n|\n)+)", text)
    assert block, "docs/dash.rst has no javascript code block"
    return "\n".join(line[4:] for line in block.group(1).splitlines()) + "\n"


def serve(tmp_path, backend, manager, forward, extra_env):
    """query_app on ``backend`` with the recipe saved as assets/forward_query.js, or not."""
    assets = tmp_path / f"assets-{backend}-{manager}-{forward}"
    assets.mkdir()
    if forward:
        (assets / "forward_query.js").write_text(recipe(), encoding="utf-8")
    env = child_env(KD_BACKEND=backend, KD_MANAGER=manager, KD_ASSETS=str(assets), **extra_env)
    return Server("query_app", env, tmp_path / f"server-{backend}-{forward}.log")


def click_and_read(driver, base: str) -> tuple[dict, dict]:
    """Open the page at ?tag=a&tag=b with the cookie ``k`` set twice, click Run, and
    return what the synchronous and the background callback saw."""
    page = Page(driver)
    driver.get(f"{base}/?{QUERY}")
    # Two cookies named k: the one whose path is the callback's is sent first.
    driver.add_cookie({"name": "k", "value": "page", "path": "/"})
    driver.add_cookie({"name": "k", "value": "callback", "path": "/_dash-update-component"})
    wait_until("the page", lambda: driver.find_elements(page.by.ID, "run"))
    page("run").click()
    wait_until(
        "both callbacks",
        lambda: page.text("sync") and page.text("background"),
        timeout=60,
        why=lambda: f"sync {page.text('sync')!r}, background {page.text('background')!r}",
    )
    return json.loads(page.text("sync")), json.loads(page.text("background"))


def assert_documented(seen: dict, backend: str, forwarded: bool) -> None:
    """What docs/dash.rst says a callback sees on ``backend``."""
    assert seen["args.type"] == ARGS_TYPE[backend]
    keys = [key for key, _ in seen["args"]]
    if forwarded:
        assert keys == [*DASH_KEYS, "tag", "tag"]
        assert seen['args.getlist("tag")'] == ["a", "b"]
    else:  # the page's query is not the callback request's
        assert keys == DASH_KEYS
        assert seen['args.getlist("tag")'] == []
    # The page's query is always in dcc.Location's search, a string.
    assert seen["search"] == f"?{QUERY}"
    assert seen["headers.type"] == "dict" and HOST_HEADER[backend] in seen["headers"]
    assert seen["cookies.type"] == "dict"
    assert seen["cookies"] == {"k": COOKIE_KEPT[backend]}


BACKENDS = ["flask", "fastapi", "quart"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_diskcache_manager_callbacks_see_what_the_docs_say(browser, tmp_path, backend):  # noqa: F811
    servers = {}
    try:
        for forward in (False, True):
            cache = tmp_path / f"cache-{forward}"
            servers[forward] = serve(
                tmp_path, backend, "diskcache", forward, {"KD_CACHE_DIR": str(cache)}
            )
            sync, background = click_and_read(browser, servers[forward].base)
            assert background == sync
            assert_documented(sync, backend, forward)
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.broker
@pytest.mark.parametrize("backend", BACKENDS)
def test_celery_manager_callbacks_see_what_the_docs_say(
    browser,  # noqa: F811
    tmp_path,
    backend,
    redis_url,
    unique_name,
):
    extra = {"REDIS_URL": redis_url, "KD_QUEUE": unique_name}
    worker = Worker(
        "query_app",
        unique_name,
        child_env(KD_BACKEND=backend, KD_MANAGER="celery", **extra),
        tmp_path / "worker.log",
    )
    servers = {}
    try:
        for forward in (False, True):
            servers[forward] = serve(tmp_path, backend, "celery", forward, extra)
            sync, background = click_and_read(browser, servers[forward].base)
            assert background == sync
            assert_documented(sync, backend, forward)
        assert worker.text().count("succeeded in") >= 2  # the worker ran both jobs
    finally:
        for server in servers.values():
            server.stop()
        worker.stop()


# -- repeated header lines: never from a browser, possible from proxies and other clients ---

#: What ctx.headers keeps of ``X-Tag: a`` and ``X-Tag: b``: werkzeug's WSGI server joins
#: the lines (as WSGI servers do); the ASGI backends keep the first.
REPEATED_HEADER = {
    "flask": ("X-Tag", "a,b"),
    "quart": ("X-Tag", "a"),
    "fastapi": ("x-tag", "a"),
}


def post_with_repeated_header(base: str, payload: dict, query: str) -> dict:
    """POST a callback request with the header X-Tag sent twice (http.client sends each
    putheader line as it is; requests would merge them)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    data = json.dumps(payload).encode()
    try:
        conn.putrequest("POST", f"/_dash-update-component?{query}")
        for name, value in [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("X-Tag", "a"),
            ("X-Tag", "b"),
        ]:
            conn.putheader(name, value)
        conn.endheaders(data)
        answer = conn.getresponse()
        text = answer.read().decode()
        assert answer.status == 200, text
        return json.loads(text)
    finally:
        conn.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_repeated_header_lines_reach_ctx_headers_as_one_value(tmp_path, backend):
    server = serve(tmp_path, backend, "diskcache", False, {"KD_CACHE_DIR": str(tmp_path / "c")})
    try:
        payload = callback_body("sync.children")
        payload["inputs"] = [{"id": "run", "property": "n_clicks", "value": 1}]
        payload["state"] = [{"id": "url", "property": "search", "value": ""}]
        payload["changedPropIds"] = ["run.n_clicks"]
        answer = post_with_repeated_header(server.base, payload, QUERY)
    finally:
        server.stop()
    seen = json.loads(answer["response"]["sync"]["children"])
    name, value = REPEATED_HEADER[backend]
    assert seen["headers"].count(name) == 1
    assert seen["x-tag"] == value
    # A client that puts the repeated key in the callback request's query gets it.
    assert seen['args.getlist("tag")'] == ["a", "b"]
