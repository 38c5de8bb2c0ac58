"""Evaluators' endpoints: aggregate tables as JSON, CSV, XLSX and an HTML report.

One report is computed per request (off the event loop, so participants'
submissions keep flowing) and every format renders that same report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, route
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from evalsvc import reports
from evalsvc.domain.feedback import FeedbackLikertRow, FeedbackTexts
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.summary import AgencyComparison, SummaryRow
from evalsvc.errors import NotFound, Unauthorized
from evalsvc.exports import csv_export, html_report, xlsx_export
from evalsvc.exports import tables as export_tables
from evalsvc.intake import Intake
from evalsvc.settings import Settings
from evalsvc.storage.records import TokenRecord
from evalsvc.web.auth import (
    SESSION_COOKIE,
    course_in_scope,
    end_session,
    provide_course,
    provide_reader,
    require_analyst,
    resolve_reader,
    resolve_token,
    start_session,
)
from evalsvc.web.i18n import page_context
from evalsvc.web.openapi import EVALUATOR_READ

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"  # Litestar adds "; charset=utf-8"


class SummaryOut(msgspec.Struct):
    course: str
    generated_at: str
    min_cell_size: int
    rows: list[SummaryRow]
    agency_comparison: list[AgencyComparison]
    notes: list[str]


class ItemsOut(msgspec.Struct):
    course: str
    generated_at: str
    min_cell_size: int
    rows: list[ItemRow]


class ReliabilityOut(msgspec.Struct):
    course: str
    generated_at: str
    min_cell_size: int
    rows: list[ReliabilityRow]


class FeedbackOut(msgspec.Struct):
    course: str
    generated_at: str
    min_cell_size: int
    likert: list[FeedbackLikertRow]
    texts: list[FeedbackTexts]


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


NO_STORE = CacheControlHeader(no_store=True)
"""Reports and downloads stay out of shared and browser caches (venue PCs)."""


async def provide_report(
    intake: NamedDependency[Intake],
    report_cache: NamedDependency[reports.ReportCache],
    course: NamedDependency[Course],
) -> reports.CourseReport:
    """Dependency: the course's report, for a reader whose scope has the course
    (`course` needs `reader`, so both run first)."""
    return await report_cache.report(intake.db, course, None)


class EvaluatorApi(Controller):
    path = "/api/v1/courses"
    tags = ["evaluators"]
    cache_control = NO_STORE
    dependencies = {
        "reader": Provide(provide_reader),
        "course": Provide(provide_course),
        "report": Provide(provide_report),
    }

    @get(
        "/{course_id:str}/summary",
        summary="Knowledge and confidence gain per agency and skill",
        responses=EVALUATOR_READ,
    )
    async def summary(self, report: NamedDependency[reports.CourseReport]) -> SummaryOut:
        return SummaryOut(
            report.course,
            report.generated_at,
            report.min_cell_size,
            report.summary.rows,
            report.summary.agency_comparison,
            report.summary.notes,
        )

    @get(
        "/{course_id:str}/items",
        summary="Item analysis of the knowledge test",
        responses=EVALUATOR_READ,
    )
    async def items(self, report: NamedDependency[reports.CourseReport]) -> ItemsOut:
        return ItemsOut(report.course, report.generated_at, report.min_cell_size, report.items)

    @get(
        "/{course_id:str}/reliability",
        summary="KR-20 per skill and phase",
        responses=EVALUATOR_READ,
    )
    async def reliability(self, report: NamedDependency[reports.CourseReport]) -> ReliabilityOut:
        return ReliabilityOut(
            report.course, report.generated_at, report.min_cell_size, report.reliability
        )

    @get(
        "/{course_id:str}/feedback",
        summary="Post-course feedback, small groups suppressed",
        responses=EVALUATOR_READ,
    )
    async def feedback(self, report: NamedDependency[reports.CourseReport]) -> FeedbackOut:
        return FeedbackOut(
            report.course,
            report.generated_at,
            report.min_cell_size,
            report.feedback.likert,
            report.feedback.texts,
        )

    @get(
        "/{course_id:str}/{download:str}",
        summary="Downloads: <table>.csv, report.xlsx; analysts: scores.csv, responses.csv",
        responses=EVALUATOR_READ,
    )
    async def download(
        self,
        intake: NamedDependency[Intake],
        report_cache: NamedDependency[reports.ReportCache],
        reader: NamedDependency[TokenRecord],
        course: NamedDependency[Course],
        download: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> Response:
        name, _, suffix = download.partition(".")
        if download == "report.xlsx":
            report = await report_cache.report(intake.db, course, lang)
            content = await anyio.to_thread.run_sync(xlsx_export.workbook, report, course)
            return _download(content, XLSX, f"{course.id}-report.xlsx")
        if suffix != "csv":
            raise NotFound(f"no download {download!r}", code="unknown_download")
        if name in export_tables.TABLE_NAMES:
            report = await report_cache.report(intake.db, course, lang)
            columns, rows = export_tables.report_tables(report, course)[name]
            return _download(csv_export.table_csv(columns, rows), CSV, f"{course.id}-{name}.csv")
        if name in ("scores", "responses", "items_codebook"):
            require_analyst(reader)
            return await _participant_level(intake, course, name, lang)
        raise NotFound(f"no download {download!r}", code="unknown_download")


async def _participant_level(
    intake: Intake, course: Course, name: str, lang: str | None
) -> Response:
    filename = f"{course.id}-{name}.csv"
    if name == "scores":
        participants = await reports.load_participants(intake.db, course)
        scores = export_tables.score_rows(participants)
        return _download(
            csv_export.table_csv(export_tables.scores_columns(), scores), CSV, filename
        )
    if name == "items_codebook":
        columns, codebook = export_tables.item_codebook(course, intake.language(course, lang))
        return _download(csv_export.table_csv(columns, codebook), CSV, filename)

    async def responses() -> AsyncIterator[tuple]:
        async for row in intake.db.iter_responses(course.id):
            yield export_tables.response_row(course, row)

    return Stream(
        csv_export.stream_csv(export_tables.responses_columns(course), responses()),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class EvaluatorPages(Controller):
    include_in_schema = False
    cache_control = NO_STORE

    @get("/login")
    async def login_page(self, request: Request) -> Template:
        return Template("login.html", context={**page_context(request), "error": None})

    @post("/login", status_code=303)
    async def login(
        self, request: Request, intake: NamedDependency[Intake], settings: NamedDependency[Settings]
    ) -> Response:
        form = await request.form()
        token = str(form.get("token", "")).strip()
        try:
            reader = await resolve_token(intake.db, settings.secret_key, token)
        except Unauthorized:
            context = {**page_context(request), "error": "unknown or revoked token"}
            return Template("login.html", context=context, status_code=401)
        session_id = await start_session(intake.db, settings, reader)
        visible = reader.scope.visible_courses(intake.courses)
        target = f"/courses/{visible[0]}/report" if len(visible) == 1 else "/courses"
        response = Redirect(target, status_code=303)
        response.cookies.append(
            Cookie(
                key=SESSION_COOKIE,
                value=session_id,
                httponly=True,
                samesite="strict",
                secure=settings.cookie_secure,
                max_age=int(settings.session_hours * 3600),
                path="/",
            )
        )
        return response

    @route("/logout", http_method=["GET", "POST"], status_code=303)
    async def logout(
        self, request: Request, intake: NamedDependency[Intake], settings: NamedDependency[Settings]
    ) -> Response:
        # GET too, so the report can link it; a forged logout only logs someone out
        await end_session(intake.db, settings.secret_key, request.cookies.get(SESSION_COOKIE))
        response = Redirect("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/courses")
    async def course_list(
        self, request: Request, intake: NamedDependency[Intake], settings: NamedDependency[Settings]
    ) -> Response:
        """The courses this login may read, each linking its report."""
        try:
            reader = await resolve_reader(request, intake.db, settings.secret_key)
        except Unauthorized:
            return Redirect("/login", status_code=303)
        context = page_context(request)
        courses = [
            {
                "id": course_id,
                "title": intake.courses[course_id].localize(
                    intake.courses[course_id].title, context["lang"]
                ),
            }
            for course_id in reader.scope.visible_courses(intake.courses)
        ]
        return Template("courses.html", context={**context, "courses": courses})

    @get("/courses/{course_id:str}/report")
    async def report_page(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        report_cache: NamedDependency[reports.ReportCache],
        settings: NamedDependency[Settings],
        course_id: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> Response:
        try:
            reader = await resolve_reader(request, intake.db, settings.secret_key)
        except Unauthorized:
            return Redirect("/login", status_code=303)
        course = course_in_scope(intake, reader, course_id)
        report = await report_cache.report(intake.db, course, lang)
        base = f"/api/v1/courses/{course.id}"
        links = [
            ("Summary (JSON)", f"{base}/summary"),
            ("Summary (CSV)", f"{base}/summary.csv"),
            ("Items (CSV)", f"{base}/items.csv"),
            ("Reliability (CSV)", f"{base}/reliability.csv"),
            ("Feedback (CSV)", f"{base}/feedback.csv"),
            ("Codebook (CSV)", f"{base}/codebook.csv"),
            ("Workbook (Excel)", f"{base}/report.xlsx"),
        ]
        if reader.role == "analyst":
            links += [
                ("Scores per participant (CSV)", f"{base}/scores.csv"),
                ("Responses (CSV)", f"{base}/responses.csv"),
                ("Item codebook (CSV)", f"{base}/items_codebook.csv?lang={report.lang}"),
            ]
        if len(reader.scope.visible_courses(intake.courses)) > 1:
            links.append(("All courses", "/courses"))
        links.append(("Log out", "/logout"))
        html = await anyio.to_thread.run_sync(
            lambda: html_report.render_report(report, course, inline_css=False, links=links)
        )
        return Response(html, media_type=MediaType.HTML)
