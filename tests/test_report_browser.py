"""The HTML report in real headless Chromium (Debian's), under the service's own CSP.

The report of the waves course (three phases, two breakdown items, a 0-10 scale) is
rendered as the service serves it and handed to the browser with the service's
security headers (`evalsvc.app.SECURITY_HEADERS`) from a routed origin, its
stylesheet alongside. The console is watched: a CSP violation or any error fails.
One browser per module, a fresh context per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize, sync_playwright

from evalsvc.app import SECURITY_HEADERS
from evalsvc.exports import html_report
from tests.conftest import TEST_SURVEYS
from tests.report_builder import build

pytestmark = pytest.mark.browser

ORIGIN = "http://localhost"
"""Routed, never contacted; localhost is a trustworthy origin, so every header applies."""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def page_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    from evalsvc.catalog import load_paths

    course = load_paths([TEST_SURVEYS]).courses["waves"]
    built = build(tmp_path_factory.mktemp("waves") / "db.sqlite3", course, participants=60)
    links = [("Summary (CSV)", "/api/v1/courses/waves/summary.csv")]
    return html_report.render_report(built.report, course, inline_css=False, links=links)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    import shutil

    path = shutil.which("chromium")
    if path is None:
        from tests.conftest import IN_CI

        if IN_CI:
            pytest.fail("CI must run the browser tests: Debian's chromium is not installed")
        pytest.skip("chromium is not installed (scripts/test installs it where it can)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_report(browser: Browser, html: str, viewport: ViewportSize) -> tuple[Page, list[str]]:
    """The report at ORIGIN/report, served with the service's headers; (page, problems)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    def serve(route: Route) -> None:
        url = route.request.url
        if url == f"{ORIGIN}/report":
            route.fulfill(body=html, content_type="text/html", headers=SECURITY_HEADERS)
        elif url == f"{ORIGIN}{html_report.STYLESHEET_URL}":
            route.fulfill(body=html_report.stylesheet(), content_type="text/css")
        else:
            elsewhere.append(url)
            route.abort()

    page.route("**/*", serve)
    page.goto(f"{ORIGIN}/report")
    page.wait_for_load_state("load")
    problems += [f"requested {url}" for url in elsewhere]
    return page, problems


def test_report_obeys_the_csp_and_loads_nothing_else(browser: Browser, page_html: str) -> None:
    page, problems = open_report(browser, page_html, DESKTOP)
    try:
        # the stylesheet applied: the section headings carry its accent rule
        border = page.eval_on_selector("#brief h2", "e => getComputedStyle(e).borderBottomColor")
        assert border == "rgb(10, 88, 166)"
        assert page.locator("figure.chart svg").count() > 0
        box = page.locator("figure.chart svg").first.bounding_box()
        assert box is not None and 0 < box["width"] <= 800
        assert problems == []
    finally:
        page.context.close()


def _layout(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const main = document.querySelector('main').getBoundingClientRect();
            const wraps = [...document.querySelectorAll('.table-wrap')].map(w => {
                const table = w.querySelector('table');
                const box = w.getBoundingClientRect();
                return {
                    id: table.id,
                    left: box.left, right: box.right,
                    fits: table.scrollWidth <= w.clientWidth + 1,
                    scrolls: ['auto', 'scroll'].includes(getComputedStyle(w).overflowX),
                };
            });
            return {
                page: document.documentElement.scrollWidth,
                view: window.innerWidth,
                main: {left: main.left, right: main.right},
                wraps,
            };
        }"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_tables_fit_or_scroll_inside_their_own_box(
    browser: Browser, page_html: str, viewport: ViewportSize
) -> None:
    page, problems = open_report(browser, page_html, viewport)
    try:
        layout = _layout(page)
        assert layout["page"] <= layout["view"], "the page itself scrolls sideways"
        assert len(layout["wraps"]) > 50
        for wrap in layout["wraps"]:
            assert wrap["left"] >= layout["main"]["left"] - 1, wrap
            assert wrap["right"] <= layout["main"]["right"] + 1, wrap
            assert wrap["fits"] or wrap["scrolls"], wrap
        if viewport is DESKTOP:
            wide = [w["id"] for w in layout["wraps"] if w["id"].startswith("summary-")]
            assert wide and all(
                w["fits"] for w in layout["wraps"] if w["id"].startswith("summary-")
            ), "a summary table needs a scroll bar at 1280 px"
        assert problems == []
    finally:
        page.context.close()
