"""A participant in real headless Chromium (Debian's), against a real `evalsvc serve`.

Playwright's sync API drives one browser per module, with a fresh context per
test; the page is a phone (390 x 844). The console is watched: a CSP violation or
a script error fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from evalsvc.settings import Settings
from tests.conftest import IN_CI, chromium_path, stored_rows

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DRAFT_KEY = "evalsvc-draft:tiny:pre"
TIMEOUT_MS = 5000
# receipt times as the server writes them (CLDR puts narrow no-break spaces in some)
RUSSIAN_TIME = re.compile(r"^\d{1,2}\s[а-я]+\s\d{4}\sг\.,\s\d\d:\d\d\s\(GMT[+-]\d\d:\d\d\)$")
KAZAKH_TIME = re.compile(
    r"^\d{4}\sж\.\s\d{1,2}\s[а-яәіңғүұқөһ]+,\s\d\d:\d\d\s\(GMT[+-]\d\d:\d\d\)$"
)


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
def site(settings: Settings, issue, server_factory) -> tuple[str, list[str]]:
    """The server's URL and codes for the tiny course, issued before it starts."""
    codes = issue("tiny", 3)
    return server_factory(settings).start().url, codes


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        locale="ru-RU",
        java_script_enabled=getattr(request, "param", True),
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # a form sent back with errors is a 422 response, which Chromium logs, and so
        # is a request made while the test has switched the network off
        expected = ("status of 422", "net::ERR_INTERNET_DISCONNECTED")
        if message.type == "error" and not any(text in message.text for text in expected):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
        assert problems == [], problems
    finally:
        context.close()


def answer_all_but_the_required_one(page: Page, code: str) -> None:
    page.fill("#code", code)
    page.select_option("#agency", "customs")
    page.check("#q-sa_coop-1")  # 2
    page.check("#q-k1-1")  # b
    page.check("#q-k2-1")  # false
    page.check("#q-k3-0")  # a
    page.check("#q-k3-2")  # c
    page.check("#q-k4-0")  # a


def draft(page: Page) -> dict | None:
    raw = page.evaluate("key => window.localStorage.getItem(key)", DRAFT_KEY)
    return json.loads(raw) if raw else None


def test_participant_fixes_a_missing_answer_and_gets_a_receipt(
    page: Page, site: tuple[str, list[str]]
) -> None:
    url, codes = site
    # 1. opens the pre form in Russian
    page.goto(f"{url}/c/tiny/pre?lang=ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#submit")).to_have_text("Отправить ответы")
    # 2. leaves the required question empty and submits
    answer_all_but_the_required_one(page, codes[0])
    expect(page.locator("#progress-text")).to_have_text("Отвечено: 5 из 6")
    page.click("#submit")
    # 3. sees the error beside that question, every other answer kept
    error = page.locator("#q-sa_detect-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Ошибка: Пожалуйста, ответьте на этот вопрос.")
    expect(page.locator("#q-sa_detect")).to_have_attribute("aria-describedby", "q-sa_detect-error")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#code")).to_have_value(codes[0])
    expect(page.locator("#agency")).to_have_value("customs")
    for kept in ("#q-sa_coop-1", "#q-k1-1", "#q-k2-1", "#q-k3-0", "#q-k3-2", "#q-k4-0"):
        expect(page.locator(kept)).to_be_checked()
    for unticked in ("#q-k1-0", "#q-k3-1", "#q-sa_detect-0"):
        expect(page.locator(unticked)).not_to_be_checked()
    # the summary link takes the participant to the question
    page.click("#error-summary a[href='#q-sa_detect-0']")
    expect(page.locator("#q-sa_detect-0")).to_be_focused()
    # 4. completes the form and gets the receipt, in Russian
    page.check("#q-sa_detect-3")
    expect(page.locator("#progress-text")).to_have_text("Отвечено: 6 из 6")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Спасибо! Ваши ответы получены.")
    expect(page.locator("#receipt")).to_have_text(
        re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$")
    )
    expect(page.locator("#received-at")).to_have_text(RUSSIAN_TIME)  # written by the server
    assert draft(page) is None  # the receipt page clears the draft


def test_reload_half_way_restores_the_draft(page: Page, site: tuple[str, list[str]]) -> None:
    url, codes = site
    page.goto(f"{url}/c/tiny/pre?lang=ru")
    submission_id = page.input_value("input[name=submission_id]")
    page.fill("#code", codes[1])
    page.check("#q-sa_detect-4")
    page.check("#q-k3-1")
    page.check("#q-k3-2")
    page.check("#q-k2-0")
    expect(page.locator("#progress-text")).to_have_text("Отвечено: 3 из 6")
    saved = draft(page)
    assert saved is not None and saved["values"] == {
        "sa_detect": ["5"],
        "k2": ["true"],
        "k3": ["b", "c"],
    }
    assert codes[1] not in json.dumps(saved)  # the code never goes into the draft

    # a reload, then opening the address afresh (as after a dropped connection)
    for reopen in (page.reload, lambda: page.goto(f"{url}/c/tiny/pre?lang=ru")):
        reopen()
        for restored in ("#q-sa_detect-4", "#q-k3-1", "#q-k3-2", "#q-k2-0"):
            expect(page.locator(restored)).to_be_checked()
        expect(page.locator("#q-k3-0")).not_to_be_checked()
        expect(page.locator("#progress-text")).to_have_text("Отвечено: 3 из 6")
        expect(page.locator("#draft-notice")).to_be_visible()
        expect(page.locator("#code")).to_have_value("")
        # a resend after the reload is the same submission
        expect(page.locator("input[name=submission_id]")).to_have_value(submission_id)
    page.check("#q-k4-1")
    expect(page.locator("#progress-text")).to_have_text("Отвечено: 4 из 6")

    # someone else's answers on a shared PC: clear them, and get a new submission
    page.click("#draft-clear")
    expect(page.locator("#progress-text")).to_have_text("Отвечено: 0 из 6")
    expect(page.locator("#q-sa_detect-4")).not_to_be_checked()
    expect(page.locator("#draft-notice")).to_be_hidden()
    assert page.input_value("input[name=submission_id]") != submission_id
    assert draft(page) is None


def test_submit_button_is_disabled_after_the_first_click(
    page: Page, site: tuple[str, list[str]]
) -> None:
    url, _codes = site
    page.goto(f"{url}/c/tiny/pre?lang=kk")
    # hold the answer back, so that the button can be looked at while the form is sent
    page.route(re.compile(r".*/c/tiny/pre.*"), lambda route: None)
    page.click("#submit")
    expect(page.locator("#submit")).to_be_disabled()
    expect(page.locator("#submit")).to_have_text("Жіберілуде…")


@pytest.mark.parametrize("page", [False], indirect=True, ids=["javascript-off"])
def test_form_works_without_javascript(page: Page, site: tuple[str, list[str]]) -> None:
    url, codes = site
    page.goto(f"{url}/c/tiny/pre?lang=kk")
    expect(page.locator("#progress")).to_be_hidden()
    answer_all_but_the_required_one(page, codes[2])
    page.click("#submit")
    expect(page.locator("#q-sa_detect-error")).to_be_visible()
    expect(page.locator("#q-k3-2")).to_be_checked()
    page.check("#q-sa_detect-0")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Рақмет! Жауаптарыңыз қабылданды.")


def test_keyboard_only(page: Page, site: tuple[str, list[str]]) -> None:
    url, codes = site
    page.goto(f"{url}/c/tiny/pre?lang=en")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    for _ in range(6):  # past the language links to the code field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "code":
            break
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(codes[0])
    page.keyboard.press("Tab")
    expect(page.locator("#agency")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#agency")).to_have_value("border")
    page.keyboard.press("Tab")
    expect(page.locator("#q-sa_detect-0")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#q-sa_detect-1")).to_be_checked()
    # the focused choice is outlined
    outline = page.evaluate(
        "getComputedStyle(document.activeElement.closest('label')).outlineStyle"
    )
    assert outline == "solid"
    page.keyboard.press("Tab")
    expect(page.locator("#q-sa_coop-0")).to_be_focused()
    page.focus("#code")
    page.keyboard.press("Enter")  # implicit submission from a text field
    expect(page.locator("h1")).to_have_text("Thank you! Your answers have been received.")


def stored_ids(settings: Settings) -> list[str]:
    return [row.submission_id for row in stored_rows(settings)]


def test_sending_offline_keeps_the_participant_on_the_page_then_sends_the_same_submission(
    page: Page, site: tuple[str, list[str]], settings: Settings
) -> None:
    url, codes = site
    page.goto(f"{url}/c/tiny/pre?lang=ru")
    answer_all_but_the_required_one(page, codes[0])
    page.check("#q-sa_detect-2")
    submission_id = page.input_value("input[name=submission_id]")

    page.context.set_offline(True)  # the venue network drops
    page.click("#submit")
    problem = page.locator("#send-problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("Ещё не отправлено: нет связи с сервером.")
    expect(problem).to_be_focused()
    assert page.url == f"{url}/c/tiny/pre?lang=ru"  # not the browser's offline page
    expect(page.locator("#code")).to_have_value(codes[0])  # no retyping
    expect(page.locator("#q-k3-2")).to_be_checked()
    expect(page.locator("#submit")).to_be_enabled()
    assert stored_ids(settings) == []
    assert codes[0] not in json.dumps(draft(page))  # the code stays in this page only

    page.context.set_offline(False)  # back
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Спасибо! Ваши ответы получены.")
    assert re.fullmatch(rf"{url}/c/tiny/receipt/[0-9A-F-]{{14}}\?lang=ru", page.url)
    assert stored_ids(settings) == [submission_id]  # the same submission, stored once
    assert draft(page) is None


def test_a_stale_draft_on_a_shared_pc_does_not_block_the_next_participant(
    page: Page, site: tuple[str, list[str]], settings: Settings
) -> None:
    url, codes = site
    # the first participant: answers saved as a draft, then sent, but the receipt
    # never reached this PC (the network dropped), so the draft stays
    page.goto(f"{url}/c/tiny/pre?lang=kk")
    page.check("#q-sa_detect-1")
    stale_id = page.input_value("input[name=submission_id]")
    first = {
        "submission_id": stale_id, "phase": "pre", "code": codes[0], "agency": "border",
        "answers": {"sa_detect": 2},
    }  # fmt: skip
    assert httpx.post(f"{url}/api/v1/courses/tiny/responses", json=first).status_code == 201

    # the next participant opens the form: the old draft comes back, id and all
    page.goto(f"{url}/c/tiny/pre?lang=kk")
    expect(page.locator("input[name=submission_id]")).to_have_value(stale_id)
    answer_all_but_the_required_one(page, codes[1])
    page.check("#q-sa_detect-4")
    page.click("#submit")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Бұл құрылғыда бұрын жіберілген сауалнама қалып қойған.")
    expect(summary).to_be_focused()
    fresh = page.input_value("input[name=submission_id]")
    assert fresh != stale_id
    expect(page.locator("#code")).to_have_value(codes[1])
    expect(page.locator("#q-sa_detect-4")).to_be_checked()
    assert draft(page)["submission_id"] == fresh
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Рақмет! Жауаптарыңыз қабылданды.")
    expect(page.locator("#received-at")).to_have_text(KAZAKH_TIME)  # no "2026 M12 1"
    assert sorted(stored_ids(settings)) == sorted([stale_id, fresh])
