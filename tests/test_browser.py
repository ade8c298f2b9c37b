"""The demo in a real browser: headless Chromium (Debian packages chromium and
chromium-driver) clicks Run, sees progress and the running states, then the two panels
agreeing; a second run is cancelled from the page.

Nothing downloads a browser: the binary and the driver are /usr/bin/chromium and
/usr/bin/chromedriver (override with CHROMIUM and CHROMEDRIVER).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

from kombu_dash import demo

from .test_demo import start_demo

# slow: needs Debian's chromium and chromium-driver (not in the quick tier)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1300,900"]


@pytest.fixture
def browser(monkeypatch):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        # CI installs the Debian packages; there a missing browser is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)")
        pytest.skip("chromium/chromium-driver not installed here (CI installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch anything
    profile = tempfile.mkdtemp(prefix="kd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(what, predicate, timeout=60, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def table(driver, table_id):
    from selenium.webdriver.common.by import By

    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tr")]


def test_demo_in_chromium_progress_result_and_cancel(browser, tmp_path):
    from selenium.webdriver.common.by import By

    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # embedded diskcache mode
    proc, base = start_demo(tmp_path, env=env)
    try:
        browser.get(f"{base}/?{demo.DEMO_QUERY}")
        by_id = lambda name: browser.find_element(By.ID, name)  # noqa: E731
        wait_until("the page", lambda: browser.find_elements(By.ID, "run"))
        wait_until("the page query", lambda: by_id("page-query").text == "?tag=a&tag=b")

        by_id("run").click()
        wait_until("running states", lambda: not by_id("run").is_enabled() and by_id("cancel").is_enabled()
                   and by_id("status").text == "running in the background…", timeout=30)
        seen = set()
        wait_until("progress", lambda: seen.add(by_id("progress").get_attribute("value"))
                   or seen - {"0", None}, timeout=30)
        browser.save_screenshot(str(tmp_path / "demo-running.png"))
        # The synchronous panel is filled while the background job still runs.
        wait_until("the synchronous panel", lambda: dict(map(tuple, table(browser, "sync-table")))
                   .get('ctx.args.getlist("tag")') == "['a', 'b']", timeout=10)
        assert by_id("cancel").is_enabled(), "the job ended before the synchronous panel showed"
        wait_until("the result", lambda: by_id("verdict").text, timeout=60)
        assert by_id("verdict").text == "✔ Both callbacks saw the same request"
        wait_until("running states off", lambda: by_id("run").is_enabled() and not by_id("cancel").is_enabled())
        browser.save_screenshot(str(tmp_path / "demo.png"))

        sync, background = table(browser, "sync-table"), table(browser, "background-table")
        assert sync == background
        rows = dict(map(tuple, background))
        assert rows["type(ctx.args)"] == "starlette.datastructures.QueryParams"
        assert rows['ctx.args.getlist("tag")'] == "['a', 'b']"
        # The forwarded page query rides along with Dash's own keys (endId from dash 4.4).
        assert rows["keys of ctx.args"].strip("'").split()[-2:] == ["tag", "tag"]
        assert rows['ctx.args_grouping["clicks"].value'] == "1"
        assert rows['ctx.custom_data["demo"]["tags"]'] == "set: {'a', 'b'}"
        green = [td.value_of_css_property("background-color")
                 for td in browser.find_elements(By.CSS_SELECTOR, "#background-table td:nth-child(2)")]
        assert green and set(green) == {"rgba(221, 255, 221, 1)"}, green

        # Second run, cancelled: the worker stops, the page leaves its running state early
        # and the background panel keeps the first run's view (clicks 1) while sync shows 2.
        by_id("run").click()
        wait_until("running again", lambda: by_id("cancel").is_enabled(), timeout=30)
        started = time.monotonic()
        by_id("cancel").click()
        wait_until("cancel to end the run", lambda: by_id("run").is_enabled() and by_id("status").text == "",
                   timeout=demo.STEPS * demo.STEP_SECONDS)
        assert time.monotonic() - started < demo.STEPS * demo.STEP_SECONDS
        wait_until("the sync panel to show the second click",
                   lambda: dict(map(tuple, table(browser, "sync-table")))
                   .get('ctx.args_grouping["clicks"].value') == "2")
        assert dict(map(tuple, table(browser, "background-table")))['ctx.args_grouping["clicks"].value'] == "1"
        browser.save_screenshot(str(tmp_path / "demo-cancelled.png"))
    finally:
        proc.stop()
