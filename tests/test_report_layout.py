"""The evaluators' HTML report in real Chromium: no table is cut off.

Every table on the page is measured, whatever its columns, so this keeps holding as
the tables change. On a laptop (1280 px and wider) each table is shown whole, with
no sideways scrolling; on a phone a table may instead scroll sideways inside a box
of its own that fits the screen. The page itself never scrolls sideways.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from evalsvc import commands
from evalsvc.settings import Settings
from tests.conftest import IN_CI, chromium_path
from tests.test_browser import ARGS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
COURSE = "salw-nexus-kz-2024"

MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const scrollerOf = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === "auto" || overflow === "scroll") return box;
    }
    return null;
  };
  const tables = Array.from(document.querySelectorAll("table")).map((table, index) => {
    const box = table.getBoundingClientRect();
    const scroller = scrollerOf(table);
    const outer = scroller ? scroller.getBoundingClientRect() : null;
    return {
      name: table.id || table.caption?.textContent.trim().slice(0, 40) || `table ${index + 1}`,
      left: box.left, right: box.right,
      scroller: outer && {left: outer.left, right: outer.right,
                          scrolls: scroller.scrollWidth > scroller.clientWidth},
    };
  });
  return {width, pageWidth: document.documentElement.scrollWidth, tables};
}"""

VIEWPORTS = {
    "laptop 1280": {"viewport": {"width": 1280, "height": 800}},
    "laptop 1366": {"viewport": {"width": 1366, "height": 768}},
    "tablet 768": {"viewport": {"width": 768, "height": 1024}},
    "phone 390": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    },
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = chromium_path()
    if chromium is None:
        if IN_CI:
            pytest.fail("CI must run the browser tests: Debian's chromium is not installed")
        pytest.skip("chromium is not installed (scripts/test installs it where it can)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def report_site(bundled_settings: Settings, server_factory) -> tuple[str, str]:
    # in a thread of its own: Playwright's sync API keeps an event loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(commands.demo, bundled_settings, COURSE, 60, 7, False).result()
        made = pool.submit(commands.create_token, bundled_settings, "analyst", "layout")
        _, token = made.result()
    return server_factory(bundled_settings).start().url, token


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_every_report_table_fits_or_scrolls_in_its_own_box(
    browser: Browser, report_site: tuple[str, str], device: str
) -> None:
    url, token = report_site
    context = browser.new_context(**VIEWPORTS[device])
    try:
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/courses/{COURSE}/report")
        measured = page.evaluate(MEASURE)
    finally:
        context.close()
    width = measured["width"]
    assert measured["tables"], "the report has tables"
    whole_only = width >= 1280
    problems = []
    for table in measured["tables"]:
        box = table["scroller"]
        visible_right = min(width, box["right"]) if box else width
        fits = table["left"] >= -0.5 and table["right"] <= visible_right + 0.5
        scrolls_inside = box is not None and box["left"] >= -0.5 and box["right"] <= width + 0.5
        if not (fits or (scrolls_inside and not whole_only)):
            problems.append(f"{table['name']}: {table['left']:.0f}..{table['right']:.0f} px")
    assert not problems, f"tables cut off at {width} px wide: {problems}"
    assert measured["pageWidth"] <= width, "the page scrolls sideways"
