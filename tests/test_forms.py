"""Participant form flows in process (web/forms.py, the templates and the catalogs).

Each test gets a fresh app on a real SQLite file (the `client` fixture) with codes
issued before it starts (the `codes` fixture must come before `client`).
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import anyio
import msgspec
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app, template_engine
from evalsvc.commands import issue_codes
from evalsvc.settings import Settings
from evalsvc.web.i18n import LOCALES_DIR, gettext_for, interface_labels, local_time, parse_utc
from tests.conftest import stored_rows, through_port

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).resolve().parent / "data" / "surveys" / "tiny"
HTML = {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
LANGUAGES = ("en", "ru", "kk")

# The tiny course's answer key and sources, which must never reach a participant.
SOURCES = ("UN Firearms Protocol", "International Tracing Instrument", "UNTOC, art.")

# Submit button text per language, from the catalogs.
SUBMIT = {"en": "Send my answers", "ru": "Отправить ответы", "kk": "Жауаптарды жіберу"}


# -- helpers -----------------------------------------------------------------------------


class Page(HTMLParser):
    """Just enough of a DOM: every element's attributes, and the text inside it."""

    VOID = frozenset({"input", "meta", "link", "br", "img", "hr", "source", "col", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {
            "tag": tag,
            "attrs": {k: (v if v is not None else "") for k, v in attrs},
            "text": [],
        }
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth]["tag"] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"].append(data)

    def find(self, tag: str | None = None, **attrs: str) -> list[dict]:
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag)
            and all(e["attrs"].get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> dict:
        found = [e for e in self.elements if e["attrs"].get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.by_id(element_id)["text"]).split())

    def checked(self, name: str) -> list[str]:
        return [
            e["attrs"]["value"] for e in self.find("input", name=name) if "checked" in e["attrs"]
        ]

    def value(self, name: str) -> str:
        (element,) = [e for e in self.elements if e["attrs"].get("name") == name]
        if element["tag"] == "textarea":
            return "".join(element["text"])
        return element["attrs"].get("value", "")


async def open_form(client: AsyncTestClient, path: str, **kwargs) -> tuple[Page, dict[str, str]]:
    """GET a form; return the page and the hidden fields a browser would send back."""
    response = await client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    page = Page(response.text)
    hidden = {e["attrs"]["name"]: e["attrs"]["value"] for e in page.find("input", type="hidden")}
    assert set(hidden) == {"_csrf_token", "submission_id", "lang"}
    return page, hidden


def complete_pre(code: str) -> dict[str, str | list[str]]:
    """Every answer of the tiny pre questionnaire, plus code and agency."""
    return {
        "code": code,
        "agency": "customs",
        "sa_detect": "4",
        "sa_coop": "2",
        "k1": "b",
        "k2": "false",
        "k3": ["a", "c"],
        "k4": "a",
    }


def course_copy(tmp_path: Path, edit_course=None, extra_items: str = "") -> Path:
    """A surveys folder holding a copy of the tiny course, edited."""
    surveys = tmp_path / "surveys"
    shutil.copytree(TINY, surveys / "tiny")
    course = surveys / "tiny" / "course.toml"
    if edit_course is not None:
        course.write_text(edit_course(course.read_text(encoding="utf-8")), encoding="utf-8")
    if extra_items:
        (surveys / "tiny" / "zz_extra.toml").write_text(extra_items, encoding="utf-8")
    return surveys


def submission_count(settings: Settings) -> int:
    return through_port(settings, lambda db: db.count_submissions())


@pytest.fixture
def codes(issue) -> list[str]:
    return issue("tiny", 5)


# -- language ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("how", "lang"),
    [
        ("query", "ru"),
        ("query", "kk"),
        ("query", "en"),
        ("cookie", "kk"),
        ("cookie", "ru"),
        ("accept-language", "kk"),
        ("accept-language", "ru"),
        ("course-default", "en"),
    ],
    ids=lambda v: v,
)
async def test_form_language(client: AsyncTestClient, how: str, lang: str) -> None:
    path, headers = "/c/tiny/pre", {}
    if how == "query":
        path += f"?lang={lang}"
    elif how == "cookie":
        client.cookies.set("lang", lang)
    elif how == "accept-language":
        headers["accept-language"] = f"de-DE, {lang};q=0.8, en;q=0.5"
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.find("html")[0]["attrs"]["lang"] == lang
    assert page.text("submit") == SUBMIT[lang]
    assert page.value("lang") == lang
    # the switcher offers the other languages as plain links that keep the page
    links = {
        e["attrs"]["hreflang"]: e["attrs"]["href"]
        for e in page.find("a")
        if "hreflang" in e["attrs"]
    }
    assert links == {other: f"/c/tiny/pre?lang={other}" for other in LANGUAGES if other != lang}
    if how == "query":
        assert f"lang={lang}" in response.headers.get("set-cookie", "")


@pytest.mark.anyio
async def test_kazakh_page_shows_kazakh_interface_and_course_fallback(
    client: AsyncTestClient,
) -> None:
    page, _ = await open_form(client, "/c/tiny/pre?lang=kk")
    k2 = {e["attrs"]["value"]: e for e in page.find("input", name="k2")}
    assert set(k2) == {"true", "false"}
    assert page.text("q-k2-0") == "" and "Дұрыс" in page.text("q-k2")
    assert "Білмеймін" in page.text("q-k1")  # interface label for dont_know
    # tiny has no Kazakh course text: it falls back to Russian, the interface stays Kazakh
    assert "Знания" in page.text("s-test")
    assert page.text("identity-title") == "Сіздің кодыңыз"


# -- what the page holds ---------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("phase", ["pre", "post"])
@pytest.mark.parametrize("lang", LANGUAGES)
async def test_answer_key_never_reaches_the_page(
    client: AsyncTestClient, phase: str, lang: str
) -> None:
    response = await client.get(f"/c/tiny/{phase}?lang={lang}")
    html = response.text
    for source in SOURCES:
        assert source not in html
    for word in ("correct", "partial_credit", "points", "source", "skill"):
        assert not re.search(rf"\b{word}\b", html, re.IGNORECASE), word
    page = Page(html)
    # the right option's markup differs from the others only in value, id and text
    for item in ("k1", "k2", "k3", "k4"):
        shapes = {
            tuple(sorted((k, v) for k, v in e["attrs"].items() if k not in ("value", "id")))
            for e in page.find("input", name=item)
        }
        assert len(shapes) == 1, shapes


@pytest.mark.anyio
async def test_form_structure_is_accessible(client: AsyncTestClient) -> None:
    response = await client.get("/c/tiny/pre?lang=ru")
    page = Page(response.text)
    fieldsets = page.find("fieldset")
    assert [f["attrs"]["data-item"] for f in fieldsets] == [
        "sa_detect",
        "sa_coop",
        "k1",
        "k2",
        "k3",
        "k4",
    ]
    assert len(page.find("legend")) == len(fieldsets)
    # every visible input has a label
    labels = {e["attrs"]["for"] for e in page.find("label")}
    for element in page.elements:
        if (
            element["tag"] in ("input", "select", "textarea")
            and element["attrs"].get("type") != "hidden"
        ):
            assert element["attrs"]["id"] in labels, element
    # required questions are marked in text, not only by colour
    assert "(обязательно)" in page.text("q-sa_detect")
    assert "(обязательно)" not in page.text("q-sa_coop")
    # code field and agency select
    code = page.by_id("code")["attrs"]
    assert code["autocomplete"] == "off" and code["autocapitalize"] == "characters"
    assert page.text("code-help").startswith("Восемь знаков")
    assert [e["attrs"]["value"] for e in page.find("option")] == ["", "border", "customs", "courts"]
    # likert: a row of radios; the labelled points carry their text
    assert [e["attrs"]["value"] for e in page.find("input", name="sa_detect")] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert "Совсем нет" in page.text("q-sa_detect")
    # multiple choice: checkboxes; single choice and true/false: radios
    assert {e["attrs"]["type"] for e in page.find("input", name="k3")} == {"checkbox"}
    assert {e["attrs"]["type"] for e in page.find("input", name="k1")} == {"radio"}
    # progress text for form.js, in Russian
    assert (
        page.by_id("progress-text")["attrs"]["data-template"]
        == "Отвечено: %(answered)s из %(total)s"
    )
    assert page.by_id("progress-text")["attrs"]["data-total"] == "6"


@pytest.mark.anyio
async def test_pages_respect_the_csp(client: AsyncTestClient) -> None:
    """No inline script, no style attribute, nothing from another origin."""
    pages = [
        (await client.get("/c/tiny/pre?lang=en")).text,
        (await client.get("/?lang=ru", headers=HTML)).text,
        (await client.get("/c/tiny/nowhere?lang=kk", headers=HTML)).text,
    ]
    for html in pages:
        page = Page(html)
        for script in page.find("script"):
            assert script["attrs"].get("src", "").startswith("/static/")
            assert not "".join(script["text"]).strip()
        assert not [e for e in page.elements if "style" in e["attrs"]]
        assert not page.find("style")
        assert "http://" not in html and "https://" not in html
        assert not [e for e in page.elements if re.match(r"on[a-z]+$", " ".join(e["attrs"]))]
    for asset, kind in (("/static/form.js", "javascript"), ("/static/style.css", "css")):
        response = await client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "http://" not in response.text and "https://" not in response.text
        assert "@import" not in response.text


@pytest.mark.anyio
async def test_every_item_kind_renders(settings: Settings, tmp_path: Path) -> None:
    extra = """
[[items]]
id = "years"
role = "profile"
kind = "number"
section = "self"
min = 0
max = 45.5
text.en = "For how many years have you served?"
help.en = "Round to whole years."

[[items]]
id = "unit"
role = "profile"
kind = "short_text"
section = "self"
max_length = 80
text.en = "Your unit"
"""
    local = msgspec.structs.replace(settings, surveys_path=course_copy(tmp_path, extra_items=extra))
    async with AsyncTestClient(app=create_app(local)) as client:
        page = Page((await client.get("/c/tiny/post?lang=en")).text)
    years = page.by_id("q-years-0")["attrs"]
    assert (years["type"], years["inputmode"], years["min"], years["max"]) == (
        "number",
        "decimal",
        "0",
        "45.5",
    )
    assert years["aria-describedby"] == "q-years-help"
    assert page.text("q-years-help") == "Round to whole years."
    assert "from 0 to 45.5" in page.text("q-years")
    unit = page.by_id("q-unit-0")["attrs"]
    assert (unit["type"], unit["maxlength"]) == ("text", "80")
    feedback = page.by_id("q-fb_text-0")
    assert feedback["tag"] == "textarea" and feedback["attrs"]["maxlength"] == "500"


NOT_APPLICABLE_ITEM = """
[[items]]
id = "fb_exercises"
role = "feedback"
kind = "likert"
section = "feedback"
scale = "five"
not_applicable = true
text.en = "The exercises were of high quality."
text.ru = "Упражнения были проведены на высоком уровне."
"""


@pytest.mark.anyio
async def test_does_not_apply_is_an_extra_choice_that_is_stored(
    settings: Settings, tmp_path: Path, issue
) -> None:
    local = msgspec.structs.replace(
        settings, surveys_path=course_copy(tmp_path, extra_items=NOT_APPLICABLE_ITEM)
    )
    (code,) = issue("tiny", 1, "courts", s=local)
    async with AsyncTestClient(app=create_app(local)) as client:
        page, hidden = await open_form(client, "/c/tiny/post?lang=ru")
        # after the five scale points, one more radio of the same question, labelled
        radios = page.find("input", name="fb_exercises")
        assert [e["attrs"]["value"] for e in radios] == ["1", "2", "3", "4", "5", "not_applicable"]
        assert radios[-1]["attrs"]["id"] == "q-fb_exercises-5"
        label = next(e for e in page.find("label") if e["attrs"].get("for") == "q-fb_exercises-5")
        assert "".join(label["text"]).split() == ["Ко", "мне", "не", "относится"]
        # items without not_applicable get no such choice
        assert [e["attrs"]["value"] for e in page.find("input", name="fb_useful")][-1] == "5"
        # an error elsewhere keeps "does not apply" ticked
        answers = {"code": code, "sa_detect": "9", "fb_exercises": "not_applicable"}
        kept = await client.post("/c/tiny/post?lang=ru", data={**hidden, **answers})
        assert kept.status_code == 422
        assert Page(kept.text).checked("fb_exercises") == ["not_applicable"]
        stored = await client.post(
            "/c/tiny/post?lang=ru", data={**hidden, **answers, "sa_detect": "4"}
        )
        assert stored.status_code == 200 and "/receipt/" in str(stored.url), stored.text
    (row,) = stored_rows(local)
    answers_json = row.answers_json
    assert msgspec.json.decode(answers_json)["fb_exercises"] == "not_applicable"


@pytest.mark.anyio
async def test_does_not_apply_is_refused_where_not_offered(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    _, hidden = await open_form(client, "/c/tiny/post?lang=en")
    answers = {"code": codes[0], "sa_detect": "4", "fb_useful": "not_applicable"}
    response = await client.post("/c/tiny/post?lang=en", data={**hidden, **answers})
    assert response.status_code == 422
    assert (
        Page(response.text).text("q-fb_useful-error") == "Error: Choose one of the options shown."
    )
    assert submission_count(settings) == 0


@pytest.mark.anyio
async def test_course_page_names_the_follow_up(bundled_settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(bundled_settings)) as client:
        page = Page((await client.get("/c/salw-nexus-kz-2024?lang=ru")).text)
    links = {
        e["attrs"]["href"]: "".join(e["text"]).strip()
        for e in page.find("a")
        if e["attrs"].get("href", "").startswith("/c/salw-nexus-kz-2024/")
    }
    assert links == {
        "/c/salw-nexus-kz-2024/pre?lang=ru": "Перед курсом",
        "/c/salw-nexus-kz-2024/post?lang=ru": "После курса",
        "/c/salw-nexus-kz-2024/follow_up?lang=ru": "Через несколько месяцев после курса",
    }


# -- submitting ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_post_without_csrf_token_is_refused(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    await open_form(client, "/c/tiny/pre?lang=ru")  # the CSRF cookie is set, the token not sent
    response = await client.post("/c/tiny/pre?lang=ru", data=complete_pre(codes[0]), headers=HTML)
    assert response.status_code == 403
    page = Page(response.text)
    assert page.find("h1")[0]["text"] == ["Срок действия формы истёк"]
    assert "Traceback" not in response.text
    assert submission_count(settings) == 0


@pytest.mark.anyio
async def test_missing_required_answer_keeps_every_other_answer(
    codes: list[str], client: AsyncTestClient
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=ru")
    answers = complete_pre(codes[0])
    del answers["sa_detect"]
    response = await client.post("/c/tiny/pre?lang=ru", data={**hidden, **answers})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.find("html")[0]["attrs"]["lang"] == "ru"
    # the message beside the question, tied to it
    fieldset = page.by_id("q-sa_detect")
    assert "question--error" in fieldset["attrs"]["class"]
    assert fieldset["attrs"]["aria-describedby"] == "q-sa_detect-error"
    assert page.text("q-sa_detect-error") == "Ошибка: Пожалуйста, ответьте на этот вопрос."
    assert all(e["attrs"]["aria-invalid"] == "true" for e in page.find("input", name="sa_detect"))
    assert not [e for e in page.find("input", name="k1") if "aria-invalid" in e["attrs"]]
    # the summary at the top links to the question's first input
    summary = page.by_id("error-summary")
    assert summary["attrs"]["role"] == "alert"
    links = [e for e in page.find("a") if e["attrs"]["href"] == "#q-sa_detect-0"]
    assert len(links) == 1 and "Вопрос 1" in "".join(links[0]["text"])
    # every other answer kept, the code and agency too
    assert page.checked("sa_coop") == ["2"]
    assert page.checked("k1") == ["b"]
    assert page.checked("k2") == ["false"]
    assert page.checked("k3") == ["a", "c"]
    assert page.checked("k4") == ["a"]
    assert page.value("code") == codes[0]
    assert [e["attrs"]["value"] for e in page.find("option") if "selected" in e["attrs"]] == [
        "customs"
    ]
    # the same submission_id, so the corrected resend is the same submission
    assert page.value("submission_id") == hidden["submission_id"]
    assert page.find("form")[0]["attrs"]["data-server-values"] == "true"


@pytest.mark.anyio
async def test_unknown_code_is_a_field_error(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
    response = await client.post(
        "/c/tiny/pre?lang=kk", data={**hidden, **complete_pre("ZZZZ-ZZZZ")}
    )
    assert response.status_code == 422
    page = Page(response.text)
    code = page.by_id("code")["attrs"]
    assert code["aria-invalid"] == "true"
    assert code["aria-describedby"] == "code-help code-error"
    assert page.text("code-error") == (
        "Қате: Бұл код осы курс үшін жарамсыз. Карточкаңыздағы кодты тексеріңіз."
    )
    assert page.value("code") == "ZZZZ-ZZZZ"
    assert page.checked("k3") == ["a", "c"]
    assert submission_count(settings) == 0


@pytest.mark.anyio
async def test_missing_agency_is_a_field_error(codes: list[str], client: AsyncTestClient) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=en")
    answers = {**complete_pre(codes[0]), "agency": ""}
    response = await client.post("/c/tiny/pre?lang=en", data={**hidden, **answers})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.text("agency-error") == "Error: Choose your agency from the list."
    assert page.by_id("agency")["attrs"]["aria-describedby"] == "agency-help agency-error"


@pytest.mark.anyio
@pytest.mark.backends
async def test_success_redirects_to_a_receipt_in_the_chosen_language(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
    response = await client.post(
        "/c/tiny/pre?lang=kk", data={**hidden, **complete_pre(codes[0])}, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/c/tiny/receipt/[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}\?lang=kk", location)
    receipt = await client.get(location)
    assert receipt.status_code == 200
    page = Page(receipt.text)
    assert page.find("html")[0]["attrs"]["lang"] == "kk"
    assert page.find("h1")[0]["text"] == ["Рақмет! Жауаптарыңыз қабылданды."]
    assert page.text("receipt") == location.split("/")[-1].split("?")[0]
    received = page.by_id("received-at")["attrs"]["datetime"]
    written = local_time(parse_utc(received), "kk", "UTC")
    assert page.text("received-at") == " ".join(written.split())
    assert "Карточкаңызды сақтаңыз." in receipt.text  # pre: keep the card for post
    assert (
        page.find("div", class_="receipt")[0]["attrs"]["data-clear-draft"]
        == "evalsvc-draft:tiny:pre"
    )
    assert submission_count(settings) == 1


@pytest.mark.anyio
@pytest.mark.backends
async def test_second_submission_for_the_same_code_gets_409(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=ru")
    first = await client.post("/c/tiny/pre?lang=ru", data={**hidden, **complete_pre(codes[0])})
    assert first.status_code == 200  # followed to the receipt
    _, hidden = await open_form(client, "/c/tiny/pre?lang=ru")  # a new submission_id
    again = await client.post("/c/tiny/pre?lang=ru", data={**hidden, **complete_pre(codes[0])})
    assert again.status_code == 409
    page = Page(again.text)
    assert page.find("h1")[0]["text"] == ["Вы уже отправили эту анкету"]
    assert "Этот код уже использован для этой анкеты." in again.text
    problem = page.find("div", class_="problem")[0]["attrs"]
    assert problem["data-clear-draft"] == "evalsvc-draft:tiny:pre"  # form.js drops the draft
    assert submission_count(settings) == 1


@pytest.mark.anyio
@pytest.mark.backends
async def test_double_click_stores_once_and_gives_the_same_receipt(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=en")
    body = {**hidden, **complete_pre(codes[1])}
    first = await client.post("/c/tiny/pre?lang=en", data=body, follow_redirects=False)
    second = await client.post("/c/tiny/pre?lang=en", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert submission_count(settings) == 1


@pytest.mark.anyio
async def test_closed_phase_gives_the_closed_page(settings: Settings, tmp_path: Path) -> None:
    def close_pre(text: str) -> str:
        return text.replace('id = "pre"\n', 'id = "pre"\ncloses = 2020-01-01T00:00:00+05:00\n')

    local = msgspec.structs.replace(settings, surveys_path=course_copy(tmp_path, close_pre))
    async with AsyncTestClient(app=create_app(local)) as client:
        shown = await client.get("/c/tiny/pre?lang=ru", headers=HTML)
        sent = await client.post("/c/tiny/pre?lang=ru", data={"k1": "a"}, headers=HTML)
        post = await client.get("/c/tiny/post?lang=ru", headers=HTML)
    assert shown.status_code == 403
    page = Page(shown.text)
    assert page.find("h1")[0]["text"] == ["Анкета закрыта"]
    assert page.find("div", class_="problem")[0]["attrs"]["data-error"] == "phase_closed"
    assert "Traceback" not in shown.text
    assert sent.status_code == 403  # CSRF or closed: either way nothing is taken
    assert post.status_code == 200


@pytest.mark.anyio
async def test_text_answer_is_escaped_when_shown_again(
    codes: list[str], client: AsyncTestClient
) -> None:
    _, hidden = await open_form(client, "/c/tiny/post?lang=en")
    attack = '</textarea><script>alert(1)</script>"><img src=x onerror=alert(2)>'
    answers = {**complete_pre(codes[0]), "fb_text": attack}
    del answers["sa_detect"]
    response = await client.post("/c/tiny/post?lang=en", data={**hidden, **answers})
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert Page(response.text).value("fb_text") == attack


@pytest.mark.anyio
async def test_code_field_text_is_escaped(client: AsyncTestClient) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=en")
    response = await client.post(
        "/c/tiny/pre?lang=en", data={**hidden, "code": '"><script>alert(1)</script>'}
    )
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert Page(response.text).value("code") == '"><script>alert(1)</script>'


@pytest.mark.anyio
async def test_self_generated_pairing_questions(client: AsyncTestClient) -> None:
    page, hidden = await open_form(client, "/c/tiny-selfgen/pre?lang=ru")
    assert not page.find("input", name="code")
    assert [
        e["attrs"]["name"] for e in page.find("input") if e["attrs"]["name"].startswith("pairing_")
    ] == [
        "pairing_mother",
        "pairing_birthday",
    ]
    assert page.by_id("pairing-1")["attrs"]["inputmode"] == "numeric"
    response = await client.post(
        "/c/tiny-selfgen/pre?lang=ru",
        data={**hidden, "pairing_mother": "М", "agency": "courts", "sa_detect": "3"},
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert page.text("pairing-error") == "Ошибка: Ответьте на каждый из этих вопросов."
    assert page.value("pairing_mother") == "М"
    done = await client.post(
        "/c/tiny-selfgen/pre?lang=ru",
        data={
            **hidden,
            "pairing_mother": "М",
            "pairing_birthday": "07",
            "agency": "courts",
            "sa_detect": "3",
        },
    )
    assert done.status_code == 200 and "Спасибо! Ваши ответы получены." in done.text


@pytest.mark.anyio
async def test_too_many_wrong_codes_keeps_the_answers_and_says_wait(settings: Settings) -> None:
    local = msgspec.structs.replace(settings, code_failures_per_minute=2)
    async with AsyncTestClient(app=create_app(local)) as client:
        statuses = []
        for _ in range(4):
            _page, hidden = await open_form(client, "/c/tiny/pre?lang=en")
            response = await client.post(
                "/c/tiny/pre?lang=en",
                data={**hidden, "code": "ZZZZ-ZZZZ", "fb_text": "", "sa_detect": "4"},
                headers=HTML,
            )
            statuses.append(response.status_code)
    assert statuses[0] == 422 and statuses[-1] == 429
    assert "Too many wrong codes were entered from this network" in response.text
    page = Page(response.text)
    kept = [e for e in page.find("input") if e["attrs"].get("name") == "sa_detect"]
    assert [e["attrs"]["value"] for e in kept if "checked" in e["attrs"]] == ["4"]


@pytest.mark.anyio
async def test_index_lists_each_phase(client: AsyncTestClient) -> None:
    response = await client.get("/?lang=kk", headers=HTML)
    page = Page(response.text)
    hrefs = [e["attrs"]["href"] for e in page.find("a", class_="button button--secondary")]
    assert "/c/tiny/pre?lang=kk" in hrefs and "/c/tiny-selfgen/post?lang=kk" in hrefs
    assert "Курс алдында" in response.text


# -- error pages, rendered directly ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "heading"),
    [
        (403, "phase_closed", "Анкета закрыта"),
        (403, "forbidden", "Срок действия формы истёк"),
        (404, "not_found", "Страница не найдена"),
        (408, "request_timeout", "Соединение было слишком медленным"),
        (409, "already_submitted", "Вы уже отправили эту анкету"),
        (413, "body_too_large", "Ответы слишком длинные"),
        (429, "too_many_code_attempts", "Слишком много попыток"),
        (500, "internal_error", "Что-то пошло не так"),
        (503, "storage_unavailable", "Сервис перегружен"),
    ],
    ids=lambda v: str(v),
)
def test_error_page(status: int, error: str, heading: str) -> None:
    template = template_engine().get_template("error.html")
    request = SimpleNamespace(url=SimpleNamespace(path="/c/tiny/pre"))
    html = template.render(
        lang="ru",
        _=gettext_for("ru"),
        language_names={"ru": "Русский"},
        request=request,
        status=status,
        error=error,
        message="developer's message: do not show",
    )
    page = Page(html)
    assert page.find("h1")[0]["text"] == [heading]
    assert "developer's message" not in html
    assert "Traceback" not in html
    # the codes are for machines, in data attributes; people read sentences
    problem = page.find("div", class_="problem")[0]
    assert (problem["attrs"]["data-status"], problem["attrs"]["data-error"]) == (str(status), error)
    shown = " ".join("".join(problem["text"]).split())
    assert str(status) not in shown and error not in shown and "Код ошибки" not in shown
    back = [e for e in page.find("a") if e["attrs"]["href"] == "/c/tiny/pre?lang=ru"]
    assert bool(back) == (status in (408, 413, 429, 500, 503) or error == "forbidden")


# -- printable cards ------------------------------------------------------------------------------


def test_cards_sheet(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "cards.html"
    issued = issue_codes(settings, "tiny", 12, None, out, "https://eval.example.org/c/tiny/pre")
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    assert len(page.find("div", class_="sheet")) == 2  # ten cards per A4 page
    assert ["".join(e["text"]) for e in page.find("p", class_="code")] == issued
    assert html.count("https://eval.example.org/c/tiny/pre") == 12
    assert "@page" in html and "dashed" in html
    assert page.find("p", class_="title")[0]["text"] == ["Tiny course"]


# -- catalogs -----------------------------------------------------------------------------------


def _source_messages() -> dict[str, set[str]]:
    """msgid -> flags, extracted from the code and templates the way babel.cfg says."""
    method_map = [
        ("src/evalsvc/web/templates/**.html", "jinja2"),
        ("src/evalsvc/**.py", "python"),
    ]
    keywords = {"_": None, "gettext": None, "N_": None}
    found: dict[str, set[str]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, keywords=keywords
    ):
        if isinstance(message, str):
            found.setdefault(message, set())
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete(lang: str) -> None:
    babel_cfg = (REPO / "babel.cfg").read_text(encoding="utf-8")
    assert "[jinja2: src/evalsvc/web/templates/**.html]" in babel_cfg
    assert "[python: src/evalsvc/**.py]" in babel_cfg
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    messages = {m.id: m for m in catalog if m.id}
    needed = _source_messages()
    missing = sorted(set(needed) - set(messages))
    assert not missing, f"not in the {lang} catalog (see babel.cfg for the commands): {missing}"
    for msgid, message in messages.items():
        assert message.string, f"{lang}: no translation for {msgid!r}"
        assert not message.fuzzy, f"{lang}: fuzzy translation for {msgid!r}"
        placeholders = sorted(re.findall(r"%\(\w+\)s", msgid))
        assert sorted(re.findall(r"%\(\w+\)s", message.string)) == placeholders, msgid
        if lang != "en":
            assert message.string != msgid or msgid.startswith("%"), (
                f"{lang}: {msgid!r} untranslated"
            )
    obsolete = sorted(set(messages) - set(needed))
    assert not obsolete, f"{lang} catalog has messages no longer used: {obsolete}"


@pytest.mark.parametrize("lang", ("ru", "kk"))
def test_error_messages_are_translated(lang: str) -> None:
    from evalsvc.web.forms import ERROR_MESSAGES, GENERIC_ERROR
    from evalsvc.web.i18n import interface_labels

    _ = gettext_for(lang)
    for text in [*ERROR_MESSAGES.values(), GENERIC_ERROR]:
        assert _(text) != text
    assert all(not label.isascii() for label in interface_labels(lang).values())


@pytest.mark.anyio
async def test_course_page_lists_its_questionnaires(client: AsyncTestClient) -> None:
    response = await client.get("/c/tiny?lang=ru", headers=HTML)
    assert response.status_code == 200
    assert "/c/tiny/pre?lang=ru" in response.text and "/c/tiny/post?lang=ru" in response.text
    assert "/c/tiny-selfgen/" not in response.text
    assert (await client.get("/c/nope", headers=HTML)).status_code == 404


# -- a stale draft's submission_id (issue 9, point 8) -------------------------------------------


@pytest.mark.anyio
@pytest.mark.backends
async def test_a_submission_id_used_by_another_code_gets_a_fresh_form_not_already_sent(
    codes: list[str], client: AsyncTestClient, settings: Settings
) -> None:
    """A shared venue PC: the first participant's id lingers in a draft, the next
    participant sends with it. Nothing was stored for the second code."""
    _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
    first = await client.post("/c/tiny/pre?lang=kk", data={**hidden, **complete_pre(codes[0])})
    assert first.status_code == 200  # the receipt
    again = await client.post("/c/tiny/pre?lang=kk", data={**hidden, **complete_pre(codes[1])})
    assert again.status_code == 422
    page = Page(again.text)
    fresh = page.value("submission_id")
    assert fresh != hidden["submission_id"]
    assert page.value("code") == codes[1] and page.checked("k3") == ["a", "c"]
    assert "Бұл құрылғыда бұрын жіберілген сауалнама қалып қойған." in page.text("error-summary")
    assert page.find("form")[0]["attrs"]["data-server-values"] == "true"  # form.js keeps the id
    sent = await client.post(
        "/c/tiny/pre?lang=kk",
        data={**hidden, "submission_id": fresh, **complete_pre(codes[1])},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "/c/tiny/receipt/" in sent.headers["location"]
    assert submission_count(settings) == 2


@pytest.mark.anyio
async def test_the_already_sent_page_speaks_kazakh_and_keeps_its_code_for_machines(
    codes: list[str], client: AsyncTestClient
) -> None:
    _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
    await client.post("/c/tiny/pre?lang=kk", data={**hidden, **complete_pre(codes[0])})
    _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
    again = await client.post("/c/tiny/pre?lang=kk", data={**hidden, **complete_pre(codes[0])})
    assert again.status_code == 409
    problem = Page(again.text).find("div", class_="problem")[0]
    shown = " ".join("".join(problem["text"]).split())
    assert "409" not in shown and "already_submitted" not in shown and "Қате коды" not in shown
    assert problem["attrs"]["data-error"] == "already_submitted"
    api = await client.post(
        "/api/v1/courses/tiny/responses",
        json={"submission_id": hidden["submission_id"], "phase": "pre", "code": codes[0],
              "agency": "customs", "answers": {"sa_detect": 3}},
    )  # fmt: skip
    assert api.status_code == 409 and api.json()["error"] == "already_submitted"


# -- text in another language (point 11) --------------------------------------------------------


def question_text(page: Page, item_id: str) -> dict:
    """The element holding a question's own text: the span after its number."""
    position = page.elements.index(page.by_id(f"q-{item_id}"))
    spans = [e for e in page.elements[position:] if e["tag"] == "span"]
    assert "question-number" in spans[0]["attrs"].get("class", "")
    return spans[1]


def marked_with_lang(page: Page) -> list[dict]:
    """Elements inside <main> with a lang of their own, other than language links."""
    return [
        e for e in page.elements
        if "lang" in e["attrs"] and e["tag"] not in ("html", "a", "span") or
        (e["tag"] == "span" and "lang" in e["attrs"] and "language-current" not in
         e["attrs"].get("class", ""))
    ]  # fmt: skip


@pytest.mark.anyio
async def test_fallback_text_is_marked_with_its_language_and_noted_once(
    client: AsyncTestClient,
) -> None:
    """The tiny course has no Kazakh text: on a Kazakh page it is Russian, and says so."""
    kazakh = Page((await client.get("/c/tiny/pre?lang=kk")).text)
    assert kazakh.text("fallback-note") == "Кейбір сұрақтар орыс тілінде көрсетілген."
    for item in ("sa_detect", "sa_coop", "k1", "k2", "k3", "k4"):
        assert question_text(kazakh, item)["attrs"].get("lang") == "ru", item
    assert kazakh.by_id("s-test")["attrs"]["lang"] == "ru"  # a section title
    options = kazakh.find("span", class_="choice-text")
    interface = set(interface_labels("kk").values())  # true, false, I don't know
    course_options = [o for o in options if "".join(o["text"]) not in interface]
    assert course_options and all(o["attrs"].get("lang") == "ru" for o in course_options)
    interface_words = [o for o in options if o not in course_options]
    assert interface_words and all("lang" not in o["attrs"] for o in interface_words)
    assert [o["attrs"].get("lang") for o in kazakh.find("option") if o["attrs"]["value"]] == [
        "ru",
        "ru",
        "ru",
    ]  # the agencies

    russian = Page((await client.get("/c/tiny/pre?lang=ru")).text)
    assert not russian.find(id="fallback-note")
    assert marked_with_lang(russian) == []
    english = Page((await client.get("/c/tiny/pre?lang=en")).text)
    assert not english.find(id="fallback-note")  # tiny is complete in English


@pytest.mark.anyio
async def test_every_kazakh_question_without_kazakh_text_carries_lang_ru(
    bundled_settings: Settings,
) -> None:
    from evalsvc.catalog import load_paths

    course = load_paths([bundled_settings.surveys_path]).courses["salw-nexus-kz-2024"]
    async with AsyncTestClient(app=create_app(bundled_settings)) as client:
        page = Page((await client.get(f"/c/{course.id}/pre?lang=kk")).text)
    shown_in = {
        item.id: question_text(page, item.id)["attrs"].get("lang")
        for item in course.items_in_phase("pre")
    }
    assert shown_in == {
        item.id: (None if item.text.get("kk") else "ru") for item in course.items_in_phase("pre")
    }
    if "ru" in shown_in.values():
        assert page.text("fallback-note") == "Кейбір сұрақтар орыс тілінде көрсетілген."


# -- dates and phases on the pages (points 12 and the course's own phases) -------------------


@pytest.mark.parametrize(
    ("lang", "zone", "expected"),
    [
        # CLDR's long date and short time; Astana has been UTC+5 since 1 March 2024
        ("kk", "Asia/Almaty", "2026 ж. 1 желтоқсан, 08:11 (GMT+05:00)"),
        ("ru", "Asia/Almaty", "1 декабря 2026 г., 08:11 (GMT+05:00)"),
        ("en", "Asia/Almaty", "December 1, 2026, 8:11 AM (GMT+05:00)"),
        ("kk", "UTC", "2026 ж. 1 желтоқсан, 03:11 (GMT+00:00)"),
        ("ru", "Europe/Moscow", "1 декабря 2026 г., 06:11 (GMT+03:00)"),
    ],
)
def test_times_are_written_in_the_page_language_and_the_course_time_zone(
    lang: str, zone: str, expected: str
) -> None:
    import datetime as dt

    moment = dt.datetime(2026, 12, 1, 3, 11, 25, tzinfo=dt.UTC)
    assert " ".join(local_time(moment, lang, zone).split()) == expected


def with_follow_up(text: str) -> str:
    return (
        text.replace('default_language = "en"', 'default_language = "en"\ntimezone = "Asia/Almaty"')
        + '\n[[phases]]\nid = "follow_up"\nsections = ["self", "test"]\n'
        'title.en = "Six months later"\ntitle.ru = "Через полгода"\n'
    )


@pytest.mark.anyio
async def test_receipt_names_the_next_declared_phase_and_the_local_time(
    settings: Settings, tmp_path: Path
) -> None:
    surveys = course_copy(tmp_path, with_follow_up)
    local = msgspec.structs.replace(settings, surveys_path=surveys)
    codes = await anyio.to_thread.run_sync(issue_codes, local, "tiny", 2, "customs", None, None)
    answers = {**complete_pre(codes[0]), "sa_detect": "3"}
    async with AsyncTestClient(app=create_app(local)) as client:
        index = Page((await client.get("/c/tiny?lang=ru", headers=HTML)).text)
        _, hidden = await open_form(client, "/c/tiny/pre?lang=kk")
        receipt = Page((await client.post("/c/tiny/pre?lang=kk", data={**hidden, **answers})).text)
        _, hidden = await open_form(client, "/c/tiny/post?lang=ru")
        post = {k: v for k, v in answers.items() if k != "agency"}
        after_post = Page((await client.post("/c/tiny/post?lang=ru", data={**hidden, **post})).text)
    # the course's phases in their order, by their own titles (else the interface's names)
    links = [e for e in index.find("a") if e["attrs"]["href"].startswith("/c/tiny/")]
    assert [("".join(e["text"]), e["attrs"]["href"]) for e in links] == [
        ("Перед курсом", "/c/tiny/pre?lang=ru"),
        ("После курса", "/c/tiny/post?lang=ru"),
        ("Через полгода", "/c/tiny/follow_up?lang=ru"),
    ]
    # the Kazakh receipt: Kazakh month, Astana time, and the next phase (shown in Russian)
    written = receipt.text("received-at")
    stamp = receipt.by_id("received-at")["attrs"]["datetime"]
    assert written == " ".join(local_time(parse_utc(stamp), "kk", "Asia/Almaty").split())
    assert written.endswith("(GMT+05:00)") and " ж. " in written
    assert "Курстан кейін" in receipt.text("next-phase")
    assert "Через полгода" in after_post.text("next-phase")
    next_title = [e for e in after_post.find("span") if "".join(e["text"]) == "Через полгода"]
    assert next_title and "lang" not in next_title[0]["attrs"]  # a Russian page, Russian title


# -- printable cards (point 13) ---------------------------------------------------------------


def test_cards_use_the_course_languages_in_the_chosen_order(
    bundled_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "cards.html"
    course = "salw-nexus-kz-2024"
    issue_codes(
        bundled_settings, course, 3, "border", out, "https://eval.example.org/c/x", ["kk", "ru"]
    )
    page = Page(out.read_text(encoding="utf-8"))
    assert page.find("html")[0]["attrs"]["lang"] == "kk"
    titles = [(e["attrs"]["lang"], "".join(e["text"])) for e in page.find("p", class_="title")][:2]
    assert titles == [
        ("kk", "Терроризм, қару және қылмыс арасындағы байланысқа қарсы жедел шаралар"),
        ("ru", "Оперативные меры по противодействию взаимосвязи терроризма, оружия и преступности"),
    ]
    agency = page.find("p", class_="label agency")[0]
    position = page.elements.index(agency)
    names = [
        (e["attrs"]["lang"], "".join(e["text"])) for e in page.elements[position + 1 : position + 3]
    ]
    assert names == [
        ("kk", "Ұлттық қауіпсіздік комитетінің Шекара қызметі"),
        ("ru", "Пограничная служба Комитета национальной безопасности"),
    ]
    label = page.find("p", class_="label")[0]
    position = page.elements.index(label)
    words = ["".join(e["text"]) for e in page.elements[position + 1 : position + 3]]
    assert words == ["Сіздің жасырын кодыңыз", "Ваш анонимный код"]
    html = out.read_text(encoding="utf-8")
    assert "Operational measures" not in html and "Your anonymous code" not in html


def test_cards_default_to_every_course_language_default_first(
    bundled_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "cards.html"
    issue_codes(bundled_settings, "salw-nexus-kz-2024", 1, "customs", out, "https://x.example")
    page = Page(out.read_text(encoding="utf-8"))
    assert [e["attrs"]["lang"] for e in page.find("p", class_="title")] == ["ru", "en", "kk"]
    agency = page.find("p", class_="label agency")[0]
    position = page.elements.index(agency)
    spans = page.elements[position + 1 : position + 4]
    assert ["".join(e["text"]) for e in spans] == [
        "Таможенная служба",
        "Customs Service",
        "Кеден қызметі",
    ]


def test_cards_refuse_a_language_the_course_lacks(settings: Settings, tmp_path: Path) -> None:
    from evalsvc.errors import ConfigError

    with pytest.raises(ConfigError, match="the course's languages are en, ru, kk"):
        issue_codes(settings, "tiny", 1, None, tmp_path / "c.html", "https://x.example", ["de"])
