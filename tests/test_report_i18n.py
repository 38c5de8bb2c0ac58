"""Reports in Russian, Kazakh and English: the catalogs, and what evaluators get.

Report text has a gettext domain of its own (reports.po). Russian is complete;
Kazakh has the words a reader meets first, and every untranslated paragraph is shown
in English, marked by its lang attribute and a visible note. Machine names (column
names, ids) stay English in every language.
"""

from __future__ import annotations

import ast
import csv
import io
import re

import openpyxl
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app
from evalsvc.exports.report_i18n import LOCALES_DIR, Text, paragraph, tr, using
from tests.conftest import REPO

pytestmark = pytest.mark.anyio
KEYWORDS = {"tr": None, "localized": None, "n": (1, 2), "R_": None, "column": None, "Column": (2,)}
KAZAKH_LABELS = (
    "In brief",
    "Methods",
    "Donor indicators",
    "Knowledge",
    "Confidence",
    "All participants",
    "withheld: fewer than %(k)s people",
    "withheld to protect another group",
    "Not yet translated: shown in English.",
    "met: the whole 95% interval reaches the target",
)


def _extracted() -> set[str]:
    method_map = [
        ("src/evalsvc/web/templates/**.html", "jinja2"),
        ("src/evalsvc/**.py", "python"),
    ]
    found = set()
    for _f, _l, message, _c, _x in extract_from_dir(str(REPO), method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _marked_in_code() -> dict[str, str]:
    """Every literal message passed to a marker in src (tr, tr.localized, tr.n, R_,
    column, Column's second argument) -> where, found in the syntax tree: Babel skips
    f-strings and some nested calls, and text it misses never reaches a catalog."""
    found: dict[str, str] = {}
    for path in sorted((REPO / "src" / "evalsvc").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            function, position = node.func, 0
            if isinstance(function, ast.Name) and function.id in ("tr", "R_", "column", "Column"):
                position = 1 if function.id == "Column" else 0
            elif not (
                isinstance(function, ast.Attribute)
                and function.attr in ("localized", "n")
                and isinstance(function.value, ast.Name)
                and function.value.id == "tr"
            ):
                continue
            if len(node.args) > position:
                message = node.args[position]
                if isinstance(message, ast.Constant) and isinstance(message.value, str):
                    found.setdefault(message.value, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_babel_extracts_every_marked_message() -> None:
    """A message Babel does not extract is never translated: write it as one whole
    message with placeholders, outside f-strings."""
    extracted = _extracted()
    marked = _marked_in_code()
    assert {where: m for m, where in marked.items() if m not in extracted} == {}


def _catalog(lang: str) -> dict[str, object]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "reports.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_each_report_catalog_holds_exactly_the_report_text_of_the_code(lang: str) -> None:
    needed = _extracted()
    messages = _catalog(lang)
    assert not sorted(needed - set(messages)), "run the commands in babel.cfg (Report text)"
    assert not sorted(set(messages) - needed), "obsolete report messages"
    for msgid, message in messages.items():
        assert not message.fuzzy, msgid
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if string:
                placeholders = sorted(re.findall(r"%\(\w+\)s", msgid))
                assert sorted(set(re.findall(r"%\(\w+\)s", string))) == sorted(set(placeholders)), (
                    msgid
                )
                assert string.count("%%") == msgid.count("%%"), msgid


def test_russian_is_complete_and_kazakh_has_the_labels_first_read() -> None:
    russian = _catalog("ru")
    assert all(all(m.string) if isinstance(m.string, tuple) else m.string for m in russian.values())
    kazakh = _catalog("kk")
    for label in KAZAKH_LABELS:
        assert kazakh[label].string, label


def test_a_paragraph_is_translated_whole_or_given_whole_in_english() -> None:
    with using("kk"):
        mixed = paragraph(lambda: tr("In brief") + " " + tr("Nobody has answered both phases yet."))
        assert mixed.lang == "en" and mixed.text == "In brief Nobody has answered both phases yet."
        whole = paragraph(lambda: tr("In brief"))
        assert whole.lang == "kk" and whole.text == "Қысқаша"
    with using("ru"):
        assert paragraph(lambda: tr("Nobody has answered yet.")).text == "Пока никто не ответил."
    assert Text("ru").localized("In brief").lang == "ru"
    assert Text("kk").localized("Nobody has answered both phases yet.").lang == "en"


# -- what evaluators get ----------------------------------------------------------------------


@pytest.fixture
def demo(settings):
    commands.demo(settings, "tiny", 12, 5, if_empty=False)
    _, token = commands.create_token(settings, "analyst", "reader")
    return settings, {"Authorization": f"Bearer {token}"}


async def test_the_course_report_in_the_evaluator_s_language(demo) -> None:
    settings, auth = demo
    async with AsyncTestClient(app=create_app(settings)) as client:
        english = (await client.get("/courses/tiny/report", headers=auth)).text
        assert '<html lang="en">' in english and ">In brief<" in english
        russian = (await client.get("/courses/tiny/report?lang=ru", headers=auth)).text
        assert '<html lang="ru">' in russian
        for words in (">Кратко<", ">Методы<", "Кто ответил и кто выбыл", "Кратко: группы и навыки"):
            assert words in russian, words
        assert 'class="untranslated-note"' not in russian  # Russian is complete
        kazakh = (
            await client.get(
                "/courses/tiny/report", headers={**auth, "Accept-Language": "kk,ru;q=0.5"}
            )
        ).text
        assert '<html lang="kk">' in kazakh and ">Қысқаша<" in kazakh and ">Әдістер<" in kazakh
        # paragraphs without a Kazakh translation: in English, marked as such
        assert '<p lang="en">' in kazakh
        assert "Әлі аударылмаған: ағылшын тілінде берілген." in kazakh


async def test_the_login_page_s_language_carries_over_to_the_reports(demo) -> None:
    settings, auth = demo
    token = auth["Authorization"].split()[1]
    async with AsyncTestClient(app=create_app(settings)) as client:
        page = await client.get("/login?lang=ru")
        csrf = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
        assert 'name="lang" value="ru"' in page.text
        login = await client.post(
            "/login",
            data={"token": token, "_csrf_token": csrf, "lang": "ru"},
            follow_redirects=False,
        )
        assert login.status_code == 303
        report = await client.get(login.headers["location"])
        assert '<html lang="ru">' in report.text


async def test_codebook_and_workbook_speak_the_language_with_english_column_names(demo) -> None:
    settings, auth = demo
    async with AsyncTestClient(app=create_app(settings)) as client:
        codebook = await client.get("/api/v1/courses/tiny/codebook.csv?lang=ru", headers=auth)
        assert 'filename="tiny-codebook-ru.csv"' in codebook.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(codebook.content.decode("utf-8-sig"))))
        assert list(rows[0]) == ["name", "table", "meaning", "unit"]
        meanings = {(r["table"], r["name"]): r["meaning"] for r in rows}
        assert meanings[("summary", "mean_gain")] == "среднее разности to минус from"
        summary = await client.get("/api/v1/courses/tiny/summary.csv?lang=ru", headers=auth)
        header = summary.content.decode("utf-8-sig").splitlines()[0]
        assert header.startswith("measure,comparison,from_phase,to_phase,breakdown,group,skill")
        book = await client.get("/api/v1/courses/tiny/report.xlsx?lang=ru", headers=auth)
        assert 'filename="tiny-report-ru.xlsx"' in book.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    assert "Summary" in workbook.sheetnames and "Methods" in workbook.sheetnames
    methods = " ".join(
        str(cell) for row in workbook["Methods"].iter_rows(values_only=True) for cell in row if cell
    )
    assert "Схема: этапы и сравнения" in methods and "Кратко" in methods
    first_row = next(workbook["Summary"].iter_rows(values_only=True))
    assert first_row[:3] == ("measure", "comparison", "from_phase")


async def _login(client: AsyncTestClient, token: str, lang: str) -> None:
    page = await client.get("/login")
    csrf = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
    login = await client.post(
        "/login", data={"token": token, "_csrf_token": csrf, "lang": lang}, follow_redirects=False
    )
    assert login.status_code == 303


async def test_downloads_follow_the_login_choice_and_the_browser_language(demo) -> None:
    """Without ?lang=, every course download is in the language the report page would
    use: the login page's choice, else Accept-Language."""
    settings, auth = demo
    token = auth["Authorization"].split()[1]
    async with AsyncTestClient(app=create_app(settings)) as client:
        await _login(client, token, "ru")
        book = await client.get("/api/v1/courses/tiny/report.xlsx")
        codebook = await client.get("/api/v1/courses/tiny/codebook.csv")
        english = await client.get("/api/v1/courses/tiny/codebook.csv?lang=en")
    assert 'filename="tiny-report-ru.xlsx"' in book.headers["content-disposition"]
    methods = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)["Methods"]
    assert "Кратко" in " ".join(str(c) for row in methods.iter_rows(values_only=True) for c in row)
    assert 'filename="tiny-codebook-ru.csv"' in codebook.headers["content-disposition"]
    assert "среднее разности to минус from" in codebook.content.decode("utf-8-sig")
    assert 'filename="tiny-codebook-en.csv"' in english.headers["content-disposition"]
    async with AsyncTestClient(app=create_app(settings)) as client:
        browser = {**auth, "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
        codebook = await client.get("/api/v1/courses/tiny/codebook.csv", headers=browser)
        plain = await client.get("/api/v1/courses/tiny/codebook.csv", headers=auth)
    assert 'filename="tiny-codebook-ru.csv"' in codebook.headers["content-disposition"]
    assert 'filename="tiny-codebook-en.csv"' in plain.headers["content-disposition"]


@pytest.fixture
def programme_demo(tmp_path):
    from tests.programme_helpers import fill, programme_settings

    settings = programme_settings(tmp_path)
    fill(settings, participants=8)
    _, token = commands.create_token(settings, "evaluator", "reader")
    return settings, token


async def test_programme_downloads_and_json_follow_the_reader_s_language(programme_demo) -> None:
    settings, token = programme_demo
    base = "/api/v1/programmes/test-prog"
    russian_title = "Знания выросли не менее чем на 10 баллов"
    async with AsyncTestClient(app=create_app(settings)) as client:
        await _login(client, token, "ru")
        indicators = (await client.get(f"{base}/indicators")).json()
        book = await client.get(f"{base}/report.xlsx")
        codebook = await client.get(f"{base}/codebook.csv")
        page = (await client.get("/programmes/test-prog/report")).text
    assert indicators["rows"][0]["title"] == russian_title
    assert 'filename="test-prog-report-ru.xlsx"' in book.headers["content-disposition"]
    assert 'filename="test-prog-codebook-ru.csv"' in codebook.headers["content-disposition"]
    assert "среднее разности to минус from" in codebook.content.decode("utf-8-sig")
    assert '<html lang="ru">' in page
    auth = {"Authorization": f"Bearer {token}"}
    async with AsyncTestClient(app=create_app(settings)) as client:
        browser = {**auth, "Accept-Language": "ru"}
        summary_json = (await client.get(f"{base}/summary", headers=browser)).json()
        indicators = (await client.get(f"{base}/indicators", headers=browser)).json()
        book = await client.get(f"{base}/report.xlsx", headers=browser)
        english = (await client.get(f"{base}/indicators", headers=auth)).json()
    assert indicators["rows"][0]["title"] == russian_title
    assert 'filename="test-prog-report-ru.xlsx"' in book.headers["content-disposition"]
    assert english["rows"][0]["title"] == "Knowledge rose by at least 10 points"
    assert summary_json["rows"]


MACHINE_WORDS = {
    # the Methods sheets' facts, named as in the JSON answers
    *("course", "programme", "title", "language", "generated_at", "n_participants"),
    *("min_cell_size", "scored_under_other_rules", "verified", "note"),
    # the chart data of the Charts and Forest sheets, and the heat map's row header
    *("chart", "label", "estimate", "ci_low", "ci_high", "minus", "plus", "weight", "group"),
    *("whisker_plus", "whisker_minus"),
    # statistical symbols (single letters such as t and n are not taken for words)
    *("d_z", "d_av", "g_z", "KR-20"),
}


def english_in_headings(book: bytes, ids: set[str]) -> list[str]:
    """The header and heading cells (bold) of a workbook that hold a Latin word other
    than a machine name: a column name of its codebook, an id, or MACHINE_WORDS."""
    workbook = openpyxl.load_workbook(io.BytesIO(book))
    allowed = MACHINE_WORDS | ids
    codebook = workbook["Codebook"]
    allowed |= {str(name) for name in next(codebook.iter_rows(values_only=True))}
    allowed |= {str(row[0]) for row in codebook.iter_rows(min_row=2, values_only=True)}
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.font.b:
                    words = set(re.findall(r"[A-Za-z][\w]*(?:-\w+)*", cell.value, re.ASCII))
                    if {word for word in words - allowed if len(word) > 1}:
                        found.append(f"{sheet.title}!{cell.coordinate}: {cell.value!r}")
    return found


def _ids(summary: dict) -> set[str]:
    comparisons = summary["comparisons"]
    return {
        *(m["id"] for m in summary["measures"]),
        *(c["id"] for c in comparisons),
        *(c["from_phase"] for c in comparisons),
        *(c["to_phase"] for c in comparisons),
    }


async def test_russian_workbooks_have_no_english_headings(demo, programme_demo) -> None:
    settings, auth = demo
    async with AsyncTestClient(app=create_app(settings)) as client:
        course_ids = _ids((await client.get("/api/v1/courses/tiny/summary", headers=auth)).json())
        course_book = await client.get("/api/v1/courses/tiny/report.xlsx?lang=ru", headers=auth)
        codebook = await client.get("/api/v1/courses/tiny/codebook.csv?lang=ru", headers=auth)
    assert english_in_headings(course_book.content, course_ids) == []
    settings, token = programme_demo
    auth = {"Authorization": f"Bearer {token}"}
    base = "/api/v1/programmes/test-prog"
    async with AsyncTestClient(app=create_app(settings)) as client:
        programme_ids = _ids((await client.get(f"{base}/summary", headers=auth)).json())
        programme_book = await client.get(f"{base}/report.xlsx?lang=ru", headers=auth)
    assert english_in_headings(programme_book.content, programme_ids) == []
    # a renamed column's former name, in words of the codebook's language
    rows = list(csv.DictReader(io.StringIO(codebook.content.decode("utf-8-sig"))))
    meanings = {(r["table"], r["name"]): r["meaning"] for r in rows}
    assert meanings[("summary", "n_from")].endswith("(ранее n_pre)")
    assert not [m for m in meanings.values() if "formerly" in m]


async def test_the_english_report_is_as_before(demo) -> None:
    """English is the source language: no note, no lang switch inside the page."""
    settings, auth = demo
    async with AsyncTestClient(app=create_app(settings)) as client:
        html = (await client.get("/courses/tiny/report?lang=en", headers=auth)).text
    assert "untranslated-note" not in html and '<p lang="en">' not in html


def test_programme_report_in_kazakh_marks_its_english_paragraphs(tmp_path) -> None:
    from evalsvc.exports.html_programme import render_programme_report
    from tests.programme_helpers import fill, programme_settings, report_of

    settings = programme_settings(tmp_path)
    fill(settings, participants=8)
    report = report_of(settings, "kk")
    html = render_programme_report(report, inline_css=True)
    assert '<html lang="kk">' in html and "Донорға арналған көрсеткіштер" in html
    assert '<p lang="en">' in html and "Әлі аударылмаған" in html
    russian = render_programme_report(report_of(settings, "ru"), inline_css=True)
    assert "Показатели для донора" in russian and "Метаанализ средних приростов курсов" in russian
    assert '<p lang="en">' not in russian
