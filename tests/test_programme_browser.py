"""The programme report in real headless Chromium, under the service's own CSP.

Forest plots and heat maps must be readable without colour, tables must fit a laptop
or scroll in their own box on a phone, and the page must load nothing from elsewhere
and break no rule of the CSP; in Kazakh, paragraphs without a translation carry
lang="en" and a visible note. One browser per module, a fresh context per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ViewportSize, sync_playwright

from evalsvc.exports.html_programme import render_programme_report
from tests.programme_helpers import fill, programme_settings, report_of
from tests.test_report_browser import DESKTOP, PHONE, _layout, open_report

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    settings = programme_settings(tmp_path_factory.mktemp("programme-browser"))
    fill(settings, participants=16)
    links = [("Summary (CSV)", "/api/v1/programmes/test-prog/summary.csv")]
    return {
        lang: render_programme_report(
            report_of(settings, lang),
            inline_css=False,
            links=links,
            language_url="/programmes/test-prog/report?lang={lang}",
        )
        for lang in ("ru", "kk")
    }


@pytest.fixture(scope="module")
def browser(reports: dict[str, str]) -> Iterator[Browser]:
    """After the reports: Playwright's sync API keeps an event loop of its own running."""
    import shutil

    from tests.test_report_browser import ARGS

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


def test_forest_plots_and_heat_maps_read_without_colour(browser: Browser, reports) -> None:
    page, problems = open_report(browser, reports["ru"], DESKTOP)
    try:
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("h1").count() == 1
        details = page.locator("details.comparison")
        assert details.count() >= 3 and details.first.get_attribute("open") is not None
        assert details.nth(1).get_attribute("open") is None
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        forests = page.locator("figure.chart svg[role=img]")
        assert forests.count() >= 3
        for i in range(forests.count()):
            svg = forests.nth(i)
            label = svg.get_attribute("aria-labelledby")
            assert label and page.locator(f"#{label}").text_content().strip()
            box = svg.bounding_box()
            assert box is not None and 0 < box["width"] <= 800
        # every drawn course writes its value: the squares are not the only signal
        assert "[" in (forests.first.text_content() or "")
        cells = page.evaluate(
            """() => [...document.querySelectorAll('table.heatmap td.heat')].map(c => ({
                text: c.innerText.trim(),
                symbol: c.querySelector('.symbol')?.innerText ?? '',
                withheld: c.classList.contains('withheld'),
                empty: c.classList.contains('empty'),
                background: getComputedStyle(c).backgroundColor,
            }))"""
        )
        assert cells and all(c["text"] for c in cells)
        drawn = [c for c in cells if not c["withheld"] and not c["empty"]]
        assert drawn and all(c["symbol"] in "▲▼○–" and c["symbol"] for c in drawn)
        # a shaded cell writes its interval, or says it has none
        assert all("[" in c["text"] or c["symbol"] == "–" for c in drawn)
        assert any("[" in c["text"] for c in drawn)
        # the indicators table leads the report, its statuses in words with a symbol
        first_table = page.locator("table.data").first
        assert first_table.get_attribute("id") == "indicators-table"
        statuses = page.locator("#indicators-table td[class*=status-]").all_inner_texts()
        assert statuses and all(len(s) > 2 for s in statuses)
        assert problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_tables_fit_or_scroll_inside_their_own_box(
    browser: Browser, reports, viewport: ViewportSize
) -> None:
    page, problems = open_report(browser, reports["ru"], viewport)
    try:
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        layout = _layout(page)
        assert layout["page"] <= layout["view"], "the page itself scrolls sideways"
        for wrap in layout["wraps"]:
            assert wrap["left"] >= layout["main"]["left"] - 1, wrap
            assert wrap["right"] <= layout["main"]["right"] + 1, wrap
            assert wrap["fits"] or wrap["scrolls"], wrap
        if viewport is DESKTOP:
            assert all(w["fits"] for w in layout["wraps"]), [
                w["id"] for w in layout["wraps"] if not w["fits"]
            ]
        assert problems == []
    finally:
        page.context.close()


def test_untranslated_paragraphs_are_marked_in_kazakh(browser: Browser, reports) -> None:
    page, problems = open_report(browser, reports["kk"], DESKTOP)
    try:
        assert page.locator("html").get_attribute("lang") == "kk"
        english = page.locator("p[lang=en]")
        assert english.count() > 0
        for i in range(english.count()):
            note = english.nth(i).locator(".untranslated-note")
            assert note.get_attribute("lang") == "kk"
            assert "ағылшын" in note.inner_text()
        links = page.locator(".languages-bar a")
        assert sorted(links.all_inner_texts()) == ["English", "Русский"]
        assert problems == []
    finally:
        page.context.close()
