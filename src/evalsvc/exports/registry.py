"""Every download, by name: what it is, who may have it, and how it is made.

The web layer (`GET /api/v1/courses/{course}/{download}`) and `evalsvc report` look
downloads up here; adding a format is one entry. Two kinds:

* `ReportExport` -- made from the course's (cached, verified) report: the tables as
  CSV, the workbook, the HTML report. Evaluators and analysts.
* `ParticipantExport` -- made from participant-level data that the caller streams
  from storage (`ParticipantData`). Analysts only.
* `ProgrammeExport` -- made from a programme's (cached, verified) report: its tables as
  CSV, the workbook, the HTML report (`GET /api/v1/programmes/{id}/{download}` and
  `evalsvc report --programme`). Evaluators, analysts and donors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from evalsvc.domain.questionnaire import Course
from evalsvc.exports import csv_export
from evalsvc.exports import tables as export_tables
from evalsvc.exports.report_i18n import R_, tr

if TYPE_CHECKING:  # annotations only: no storage import at run time
    from evalsvc.programme_reports import ProgrammeReport
    from evalsvc.reports import CourseReport
    from evalsvc.storage.records import ResponseRow, ScoreRow

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html"
PDF = "application/pdf"
SAV = "application/x-spss-sav"
DTA = "application/x-stata-dta"
R_SCRIPT = "text/plain; charset=utf-8"

Audience = Literal["evaluator", "analyst"]
Content = bytes | str


def filename(course_id: str, name: str, lang: str | None) -> str:
    """``<course>-<name>``, with the language before the suffix when it has one."""
    if lang is None:
        return f"{course_id}-{name}"
    stem, _, suffix = name.rpartition(".")
    return f"{course_id}-{stem}-{lang}.{suffix}"


@dataclass(frozen=True)
class ReportExport:
    name: str
    media_type: str
    description: str
    render: Callable[[CourseReport, Course], Content]
    audience: Audience = "evaluator"
    per_language: bool = False
    """Written in the report's language: the file name says which."""


@dataclass(frozen=True)
class ParticipantData:
    """What participant-level exports may read: the caller binds it to storage."""

    course: Course
    lang: str
    report: CourseReport
    score_rows: Callable[[], Awaitable[list[ScoreRow]]]
    responses: Callable[[], AsyncIterator[ResponseRow]]


@dataclass(frozen=True)
class ParticipantExport:
    """Made whole (`render`) or sent as it is made (`stream`): exactly one of them."""

    name: str
    media_type: str
    description: str
    render: Callable[[ParticipantData], Awaitable[Content]] | None = None
    stream: Callable[[ParticipantData], AsyncIterator[bytes]] | None = None
    audience: Audience = "analyst"
    per_language: bool = False


def _table_csv(name: str) -> Callable[[CourseReport, Course], Content]:
    def render(report: CourseReport, course: Course) -> Content:
        columns, rows = export_tables.report_tables(report)[name]
        return csv_export.table_csv(columns, rows)

    return render


def _workbook(report: CourseReport, course: Course) -> Content:
    from evalsvc.exports import xlsx_export

    return xlsx_export.workbook(report, course)


def _report_pdf(report: CourseReport, course: Course) -> Content:
    from evalsvc.exports import pdf_report

    return pdf_report.report_pdf(report, course)


async def _scores_csv(data: ParticipantData) -> Content:
    measures = [m.id for m in data.report.design.measures]
    rows = export_tables.score_rows(await data.score_rows(), measures)
    return csv_export.table_csv(export_tables.scores_columns(), list(rows))


async def _items_codebook_csv(data: ParticipantData) -> Content:
    columns, rows = export_tables.item_codebook(data.course, data.lang)
    return csv_export.table_csv(columns, rows)


def _labelled(table_name: str, write: str) -> Callable[[ParticipantData], Awaitable[Content]]:
    """responses or scores as an SPSS .sav or Stata .dta file with labels in the language."""

    async def render(data: ParticipantData) -> Content:
        from evalsvc.exports import labelled, labelled_tables

        if table_name == "scores":
            table = labelled_tables.scores_table(data.course, await data.score_rows(), data.lang)
        else:
            rows = [row async for row in data.responses()]
            table = await anyio.to_thread.run_sync(
                labelled_tables.responses_table, data.course, rows, data.lang
            )
        writer = labelled.sav_bytes if write == "sav" else labelled.dta_bytes
        return await anyio.to_thread.run_sync(writer, table)

    return render


async def _responses_r(data: ParticipantData) -> Content:
    from evalsvc.exports import r_script

    course, lang = data.course, data.lang
    return r_script.responses_r(
        course, lang, f"{course.id}-responses.csv", f"{course.id}-responses.R"
    )


def _responses_csv(data: ParticipantData) -> AsyncIterator[bytes]:
    async def rows() -> AsyncIterator[tuple]:
        async for row in data.responses():
            yield export_tables.response_row(data.course, row)

    return csv_export.stream_csv(export_tables.responses_columns(data.course), rows())


REPORT_EXPORTS: dict[str, ReportExport] = {
    **{
        f"{spec.name}.csv": ReportExport(
            f"{spec.name}.csv",
            CSV,
            f"{spec.title} (CSV)",
            _table_csv(spec.name),
            per_language=spec.name == "codebook",
        )
        for spec in export_tables.TABLES
    },
    "report.xlsx": ReportExport(
        "report.xlsx", XLSX, R_("Workbook (Excel)"), _workbook, per_language=True
    ),
    "report.pdf": ReportExport(
        "report.pdf", PDF, R_("Report (PDF)"), _report_pdf, per_language=True
    ),
}

PARTICIPANT_EXPORTS: dict[str, ParticipantExport] = {
    "scores.csv": ParticipantExport(
        "scores.csv", CSV, R_("Scores per participant (CSV)"), render=_scores_csv
    ),
    "responses.csv": ParticipantExport(
        "responses.csv", CSV, R_("Responses (CSV)"), stream=_responses_csv
    ),
    "items_codebook.csv": ParticipantExport(
        "items_codebook.csv", CSV, R_("Item codebook (CSV)"), render=_items_codebook_csv
    ),
    "responses.sav": ParticipantExport(
        "responses.sav",
        SAV,
        R_("Responses (SPSS)"),
        render=_labelled("responses", "sav"),
        per_language=True,
    ),
    "responses.dta": ParticipantExport(
        "responses.dta",
        DTA,
        R_("Responses (Stata)"),
        render=_labelled("responses", "dta"),
        per_language=True,
    ),
    "responses.R": ParticipantExport(
        "responses.R",
        R_SCRIPT,
        R_("Responses labels (R script)"),
        render=_responses_r,
        per_language=True,
    ),
    "scores.sav": ParticipantExport(
        "scores.sav", SAV, R_("Scores (SPSS)"), render=_labelled("scores", "sav"), per_language=True
    ),
    "scores.dta": ParticipantExport(
        "scores.dta",
        DTA,
        R_("Scores (Stata)"),
        render=_labelled("scores", "dta"),
        per_language=True,
    ),
}


def download_label(description: str) -> str:
    """A download's description in the language of the report being rendered."""
    if description.endswith(" (CSV)") and description not in _WHOLE_LABELS:
        return tr("%(table)s (CSV)", table=tr(description.removesuffix(" (CSV)")))
    return tr(description)


_WHOLE_LABELS = frozenset(
    {"Scores per participant (CSV)", "Responses (CSV)", "Item codebook (CSV)"}
)
"""Descriptions translated whole (the others are a table's title and "(CSV)")."""


def downloads_for(role: str) -> Iterable[ReportExport | ParticipantExport]:
    """The downloads a role may have, in listing order."""
    yield from REPORT_EXPORTS.values()
    if role == "analyst":
        yield from PARTICIPANT_EXPORTS.values()


# -- programmes ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeExport:
    name: str
    media_type: str
    description: str
    render: Callable[[ProgrammeReport], Content]
    per_language: bool = False


def _programme_csv(name: str) -> Callable[[ProgrammeReport], Content]:
    def render(report: ProgrammeReport) -> Content:
        from evalsvc.exports import programme_tables

        columns, rows = programme_tables.programme_tables(report)[name]
        return csv_export.table_csv(columns, rows)

    return render


def _programme_workbook(report: ProgrammeReport) -> Content:
    from evalsvc.exports import programme_xlsx

    return programme_xlsx.programme_workbook(report)


def _programme_html(report: ProgrammeReport) -> Content:
    from evalsvc.exports import html_programme

    return html_programme.render_programme_report(report, inline_css=True)


def _programme_exports() -> dict[str, ProgrammeExport]:
    from evalsvc.exports.programme_tables import PROGRAMME_TABLES

    exports = {
        f"{spec.name}.csv": ProgrammeExport(
            f"{spec.name}.csv",
            CSV,
            f"{spec.title} (CSV)",
            _programme_csv(spec.name),
            per_language=spec.name == "codebook",
        )
        for spec in PROGRAMME_TABLES
    }
    exports["report.xlsx"] = ProgrammeExport(
        "report.xlsx", XLSX, R_("Workbook (Excel)"), _programme_workbook, per_language=True
    )
    exports["report.html"] = ProgrammeExport(
        "report.html", HTML, R_("Report (HTML file)"), _programme_html, per_language=True
    )
    return exports


PROGRAMME_EXPORTS: dict[str, ProgrammeExport] = _programme_exports()
