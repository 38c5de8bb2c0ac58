"""Downloads in other tools' formats: the PDF report (evaluators) and, for analysts,
the responses and scores as SPSS .sav and Stata .dta files plus responses.R.

The handlers in `evaluator.EvaluatorApi.download` call these after checking the
reader's role; the files themselves are made by the exporters (table in, bytes out),
off the event loop.
"""

from __future__ import annotations

import anyio
from litestar import Response

from evalsvc import reports
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import NotFound
from evalsvc.intake import Intake

PDF = "application/pdf"
MEDIA_TYPES = {
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "R": "text/plain; charset=utf-8",
}
ANALYST_FILES = frozenset(
    {"responses.sav", "responses.dta", "scores.sav", "scores.dta", "responses.R"}
)


def _attachment(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def report_pdf(
    intake: Intake, report_cache: reports.ReportCache, course: Course, lang: str | None
) -> Response:
    from evalsvc.exports import pdf_report

    report = await report_cache.report(intake.db, course, lang)
    content = await anyio.to_thread.run_sync(pdf_report.report_pdf, report, course)
    return _attachment(content, PDF, f"{course.id}-report-{report.lang}.pdf")


async def analyst_file(intake: Intake, course: Course, download: str, lang: str | None) -> Response:
    """responses/scores as .sav or .dta, or responses.R; the caller checked the role."""
    from evalsvc.exports import labelled, labelled_tables, r_script

    if download not in ANALYST_FILES:
        raise NotFound(f"no download {download!r}", code="unknown_download")
    name, _, suffix = download.partition(".")
    language = intake.language(course, lang)
    filename = f"{course.id}-{name}-{language}.{suffix}"
    if suffix == "R":
        script = r_script.responses_r(
            course, language, f"{course.id}-responses.csv", f"{course.id}-responses-{language}.R"
        )
        return _attachment(script, MEDIA_TYPES["R"], filename)
    if name == "scores":
        score_rows = await intake.db.score_rows(course.id)
        table = labelled_tables.scores_table(course, score_rows, language)
    else:
        response_rows = [row async for row in intake.db.iter_responses(course.id)]
        table = await anyio.to_thread.run_sync(
            labelled_tables.responses_table, course, response_rows, language
        )
    write = labelled.sav_bytes if suffix == "sav" else labelled.dta_bytes
    content = await anyio.to_thread.run_sync(write, table)
    return _attachment(content, MEDIA_TYPES[suffix], filename)
