"""The demo in a real browser: headless Chromium (Debian packages chromium and
chromium-driver) with a 1280x800 viewport on each backend: the hint, the line about the
page's query, Run, progress and running states, the three columns (synchronous,
kombu_dash's manager, Dash's own) with every differing cell marked and counts that match
the table, a layout that holds the longest class names, and Cancel's visible state. In
Celery mode the page says when no worker has taken the job, and how to start one; one
value Dash's own manager cannot send marks its own row only, and the worker then shows
the multi-dict lost in Dash's column and kept in kombu_dash's.

Nothing downloads a browser: the binary and the driver are /usr/bin/chromium and
/usr/bin/chromedriver (override with CHROMIUM and CHROMEDRIVER).

Screenshots of the whole page (demo-<backend>.png, demo-<backend>-cancelled.png,
demo-celery-*.png) are kept in $KOMBU_DASH_ARTIFACTS, by default <pytest's base temp
dir>/artifacts; the path is printed. docs/_static holds copies of them.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

import kombu_dash
from kombu_dash.cli.demo import app as demo_app
from kombu_dash.cli.demo import report, settings

from .harness import give_up_at
from .test_demo import (
    DASH_VERSION,
    NO_GETLIST,
    NOT_SENT,
    Proc,
    embedded_env,
    start_demo,
)

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
#: The viewport: the layout must hold at this width; screenshots show the whole page.
WIDTH, HEIGHT = 1280, 800
LONGEST = "werkzeug.datastructures.structures.ImmutableMultiDict"
ARGS_TYPE = {"fastapi": "starlette.datastructures.QueryParams", "flask": LONGEST, "quart": LONGEST}


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where the screenshots are kept: $KOMBU_DASH_ARTIFACTS or <basetemp>/artifacts."""
    where = Path(
        os.environ.get("KOMBU_DASH_ARTIFACTS") or tmp_path_factory.getbasetemp() / "artifacts"
    )
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def browser(monkeypatch):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        # CI installs the Debian packages; there a missing browser is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)"
            )
        pytest.skip("chromium/chromium-driver not installed here (CI installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch anything
    profile = tempfile.mkdtemp(prefix="kd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    # The viewport itself is WIDTH px wide, whatever the window decorations take.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def children(proc) -> str:
    import psutil

    lines = []
    for c in psutil.Process(proc.popen.pid).children(recursive=True):
        try:
            wchan = open(f"/proc/{c.pid}/wchan").read()
            lines.append(f"child {c.pid} {c.status()} {wchan} threads={c.num_threads()}")
        except Exception as exc:
            lines.append(f"child {c.pid}: {exc}")
    return "\n".join(lines) or "no children"


def wait_until(what, predicate, timeout=60, every=0.1, why=None):
    deadline = give_up_at(timeout)
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}" + (f": {why()}" if why else ""))


class Page:
    def __init__(self, driver):
        from selenium.webdriver.common.by import By

        self.driver, self.by = driver, By

    def __call__(self, element_id: str):
        return self.driver.find_element(self.by.ID, element_id)

    def text(self, element_id: str) -> str:
        return self(element_id).text

    def table(self) -> dict[str, list[tuple[str, str]]]:
        """expression -> [(text, class)] for the synchronous and both background cells,
        read in one script so a re-render cannot leave half a table."""
        rows = self.driver.execute_script(
            "return [...document.querySelectorAll('#comparison tbody tr')].map(tr =>"
            " [...tr.children].map(td => [td.innerText, td.className]))"
        )
        return {r[0][0]: [tuple(c) for c in r[1:]] for r in rows if len(r) == 4}

    def headings(self) -> list[str]:
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#comparison th')].map(th => th.innerText)"
        )

    def shot(self, path: Path) -> Path:
        """A PNG of the page down to the end of its content (WIDTH px wide), below the
        viewport's HEIGHT too."""
        bottom = self.driver.execute_script(
            "return Math.ceil(document.querySelector('.kd-page').getBoundingClientRect().bottom)"
        )
        png = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": bottom + 16, "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(png["data"]))
        return path


# Everything that would mean the layout does not hold: the page scrolls sideways, a cell's
# content overflows it, a cell reaches past the viewport, two cells of a row overlap.
LAYOUT_PROBLEMS = """
const vw = window.innerWidth, problems = [];
if (document.documentElement.scrollWidth > vw)
    problems.push("page is " + document.documentElement.scrollWidth + " px wide");
for (const cell of document.querySelectorAll("#comparison th, #comparison td")) {
    const r = cell.getBoundingClientRect();
    if (cell.scrollWidth > cell.clientWidth + 1)
        problems.push("overflows its cell: " + cell.innerText);
    if (r.right > vw + 0.5) problems.push("past the viewport: " + cell.innerText);
}
for (const tr of document.querySelectorAll("#comparison tr")) {
    const r = [...tr.children].map(c => c.getBoundingClientRect());
    for (let i = 1; i < r.length; i++)
        if (r[i].left < r[i - 1].right - 1) problems.push("overlap in: " + tr.innerText);
}
return [vw, problems];
"""


def assert_layout_holds(driver):
    width, problems = driver.execute_script(LAYOUT_PROBLEMS)
    assert width == WIDTH
    assert problems == []


def open_demo(driver, base, query: str = settings.DEMO_QUERY) -> Page:
    page = Page(driver)
    driver.get(f"{base}/?{query}" if query else f"{base}/")
    wait_until("the page", lambda: driver.find_elements(page.by.ID, "run"))
    wait_until(
        "the query line",
        lambda: ("The page's query" if query else "This page has no query") in page.text("query"),
    )
    return page


def links_in(page: Page, element_id: str) -> list[str]:
    return [a.get_attribute("href") for a in page(element_id).find_elements(page.by.TAG_NAME, "a")]


def assert_counts_match_the_table(page: Page) -> None:
    """Every "N rows" of the verdict counts the rows the table shows."""
    shown = len(page.table())
    counts = [int(n) for n in re.findall(r"(?:all|of) (\d+) rows", page.text("verdict"))]
    assert counts and set(counts) == {shown}, (counts, shown)


def engine_words() -> str:
    info = kombu_dash.engine_info()
    return f"{'C' if info.engine == 'c' else 'Python'} engine, {info.json} {info.json_version}"


@pytest.mark.parametrize("backend", ["fastapi", "flask", "quart"])
def test_demo_page_at_1280px(browser, tmp_path, artifacts, capsys, backend):
    proc, base = start_demo(tmp_path, "--backend", backend, env=embedded_env())
    try:
        # Without a query, the page says what that means and offers one.
        page = open_demo(browser, base, query="")
        assert page.text("query") == (
            "This page has no query, so ctx.args holds only Dash's own keys. Open "
            "?tag=a&tag=b: the page forwards its query to each callback request."
        )
        assert [link.endswith("/?tag=a&tag=b") for link in links_in(page, "query")] == [True]

        page = open_demo(browser, base)
        first_line = browser.execute_script("return document.body.innerText").strip()
        assert first_line.splitlines()[0].startswith("Click Run: one click runs the same callback")
        # On that URL: what its query does, and no offer to open it again.
        assert page.text("query") == (
            "The page's query (?tag=a&tag=b) is forwarded to each callback request, so "
            "ctx.args holds the repeated key tag (2 times)."
        )
        assert links_in(page, "query") == []
        assert str(kombu_dash.engine_info()) in page.text("setup")
        assert page.text("verdict") == ""

        page("run").click()
        wait_until(
            "running states",
            lambda: (
                not page("run").is_enabled()
                and page("cancel").is_enabled()
                and page.text("status") == "running in the background…"
            ),
            timeout=30,
        )
        seen = set()
        wait_until(
            "progress",
            lambda: seen.add(page("progress").get_attribute("value")) or seen - {"0", None},
            timeout=30,
        )
        # The synchronous column is not held back by the background jobs (one render
        # callback per store: tests/test_demo.py); here, that it shows.
        wait_until(
            "the synchronous column",
            lambda: page.table().get('ctx.args.getlist("tag")', [("",)])[0][0] == "['a', 'b']",
            timeout=60,
        )

        wait_until(
            "both background columns",
            lambda: (
                "running" not in page.text("verdict")
                and "Dash's own manager: " in page.text("verdict")
            ),
            timeout=60,
            why=lambda: (
                f"verdict {page.text('verdict')!r}\n{proc.text()[-3000:]}\n" + children(proc)
            ),
        )
        wait_until(
            "running states off",
            lambda: page("run").is_enabled() and not page("cancel").is_enabled(),
        )
        verdict = page.text("verdict")
        assert "kombu_dash's manager: ✔ same as synchronous" in verdict, verdict
        assert_counts_match_the_table(page)
        rows = page.table()
        # kombu_dash's column: every cell equal to the synchronous one, every cell green.
        assert all(kd == (sync[0], "kd-same") for sync, kd, _ in rows.values()), rows
        assert rows["type(ctx.args)"][1][0] == ARGS_TYPE[backend]
        assert rows['ctx.args.getlist("tag")'][1][0] == "['a', 'b']"
        assert rows["keys of ctx.args"][1][0].split()[-2:] == ["tag", "tag"]
        assert rows["type(ctx.headers)"][1][0] == "dict"
        assert rows['ctx.headers["host"] (any case)'][1][0] == repr(base.split("//")[1])
        assert rows[f'ctx.cookies["{settings.COOKIE_NAME}"]'][1][0] == repr(settings.COOKIE_VALUE)
        assert rows[report.value_expr("tags")][1][0] == "set: {'a', 'b'}"
        assert f"job: {engine_words()}" in page.headings()[2]
        # Dash's own column: red exactly where it differs.
        for sync, _, own in rows.values():
            assert own[1] == ("kd-same" if own[0] == sync[0] else "kd-differs")
        if backend == "fastapi" and DASH_VERSION >= (4, 3):
            # dash >= 4.3 (PR 3817) turns QueryParams into a dict; werkzeug's is one already
            assert rows["type(ctx.args)"][2] == ("dict", "kd-differs")
            assert rows['ctx.args.getlist("tag")'][2] == (NO_GETLIST, "kd-differs")
            assert "Dash's own manager: ✘ 3 of" in verdict, verdict
            assert page.text("why") == ""
        else:
            # No loss to show: the page says why in one line.
            assert "Dash's own manager: ✔ same as synchronous" in verdict, verdict
            assert page.text("why") == demo_app.FORK_NOTE
            lines = browser.execute_script(
                "const r = document.createRange();"
                "r.selectNodeContents(document.getElementById('why'));"
                "return r.getClientRects().length"
            )
            assert lines == 1  # one line at 1280 px
        # endId is explained on the page.
        assert "is Dash's own key" in page.text("notes")
        # The layout holds at 1280 px, the longest class name whole in its cell.
        assert_layout_holds(browser)
        if backend != "fastapi":
            whole = browser.execute_script(
                "return [...document.querySelectorAll('#comparison td')]"
                ".filter(td => td.innerText.replace(/\\s/g, '') === arguments[0]).length",
                LONGEST,
            )
            assert whole == 3  # synchronous, kombu_dash's, Dash's own
        shot = page.shot(artifacts / f"demo-{backend}.png")

        # Run 2, cancelled: a visible cancelled state; the request's rows keep run 1, grey.
        page("run").click()
        wait_until("running again", lambda: page("cancel").is_enabled(), timeout=30)
        # Progress arrives through polls, so the page holds the job's handle: Cancel has a
        # job to cancel (clicked before the dispatch answers, it would cancel nothing).
        wait_until("run 2's progress", lambda: page.text("progress-text"), timeout=30)
        # Both columns' request jobs answered their dispatch (on a busy machine Dash's own
        # can answer later than kombu_dash's first progress): Cancel reaches both.
        wait_until(
            "both request jobs held by the page",
            lambda: (
                browser.execute_script(
                    "return Object.values(window.store.getState().callbackJobs || {})"
                    ".map(job => job.output).join(' ')"
                ).count("-request")
                == 2
            ),
            timeout=30,
        )
        page("cancel").click()
        # Run comes back only when Dash's poll finds the job gone without a result: the
        # job was stopped (a job left running would deliver run 2 and show as done).
        wait_until(
            "cancel to end the run",
            lambda: page("run").is_enabled(),
            timeout=30,
            why=lambda: f"verdict {page.text('verdict')!r}, status {page.text('status')!r}",
        )
        wait_until("the cancelled state", lambda: page.text("verdict").startswith("Cancelled"))
        verdict = page.text("verdict")
        assert "Run 2" in verdict and "kombu_dash's manager: cancelled (grey: run 1)" in verdict
        assert "Dash's own manager: cancelled (grey: run 1)" in verdict
        headings = page.headings()
        assert any("cancelled" in h for h in headings), headings
        rows = page.table()
        assert rows['ctx.args_grouping["clicks"].value'][0][0] == "2"
        assert rows['ctx.args_grouping["clicks"].value'][1] == ("1", "kd-stale")
        assert page.text("status") == ""
        assert_layout_holds(browser)
        cancelled = page.shot(artifacts / f"demo-{backend}-cancelled.png")
    finally:
        proc.stop()
    with capsys.disabled():
        print(f"\nscreenshots: {shot} {cancelled}")


@pytest.mark.broker
def test_celery_page_says_no_worker_took_the_job_then_shows_each_row(
    browser, tmp_path, artifacts, capsys, redis_url, unique_name
):
    env = dict(os.environ, REDIS_URL=redis_url, KOMBU_DASH_DEMO_QUEUE=unique_name)
    proc, base = start_demo(tmp_path, "--backend", "fastapi", env=env)
    worker = None
    tags, getlist = report.value_expr("tags"), 'ctx.args.getlist("tag")'
    try:
        page = open_demo(browser, base)
        page("run").click()
        wait_until("running states", lambda: page("cancel").is_enabled(), timeout=30)
        # Dash's own CeleryManager cannot send the set: that row says so at once, alone,
        # while every other row waits for a worker.
        not_sent = NOT_SENT.format("set" if DASH_VERSION >= (4, 3) else "QueryParams")
        wait_until(
            "Dash's own tags row",
            lambda: page.table().get(tags, [None, None, ("",)])[2] == (not_sent, "kd-differs"),
            timeout=15,
        )
        if DASH_VERSION >= (4, 3):
            waiting = {expr for expr, (_, _, own) in page.table().items() if own[1] == "kd-stale"}
            assert waiting == set(page.table()) - {tags}
        notice = wait_until(
            "the no-worker notice",
            lambda: page.text("no-worker"),
            timeout=settings.NO_WORKER_SECONDS + 10,
        )
        assert notice.startswith("No worker has taken the job after ")
        command = page("no-worker").find_element(page.by.TAG_NAME, "code").text
        assert command == (
            f"REDIS_URL={redis_url} KOMBU_DASH_DEMO_QUEUE={unique_name} "
            "celery -A kombu_dash.cli.demo:celery_app worker --loglevel=INFO"
        )
        assert command in proc.text()  # the terminal says the same
        assert_layout_holds(browser)
        waiting_shot = page.shot(artifacts / "demo-celery-no-worker.png")

        # Start the worker the page names; the notice goes and both columns run on it.
        celery_args = re.sub(r"^(\S+=\S+ )+celery ", "", command).split()
        argv = [sys.executable, "-m", "celery", *celery_args]
        worker = Proc(argv, tmp_path / "worker.log", env=env)
        wait_until("the notice to go", lambda: page.text("no-worker") == "", timeout=90)
        wait_until(
            "both columns",
            lambda: (
                "kombu_dash's manager: ✔" in page.text("verdict")
                and "Dash's own manager: ✘" in page.text("verdict")
            ),
            timeout=60,
            why=lambda: page.text("verdict"),
        )
        assert_counts_match_the_table(page)
        rows = page.table()
        assert all(kd == (sync[0], "kd-same") for sync, kd, _ in rows.values()), rows
        if DASH_VERSION >= (4, 3):
            # The multi-dict: kept in kombu_dash's column, lost in Dash's, on its own row.
            assert rows[getlist][1] == ("['a', 'b']", "kd-same")
            assert rows[getlist][2] == (NO_GETLIST, "kd-differs")
            assert rows[report.value_expr("pair")][2] == ("list: [2, 'tags']", "kd-differs")
            assert rows[report.value_expr("price")][2][1] == "kd-same"
        else:  # dash 4.2 cannot send any of its jobs on FastAPI (QueryParams)
            assert {own for _, _, own in rows.values()} == {(not_sent, "kd-differs")}
        assert rows[tags][2] == (not_sent, "kd-differs")
        assert page.text("why") == ""
        assert_layout_holds(browser)
        done = page.shot(artifacts / "demo-celery.png")
    finally:
        if worker is not None:
            worker.stop()
        proc.stop()
    with capsys.disabled():
        print(f"\nscreenshots: {waiting_shot} {done}")
