"""Evaluators' endpoints: aggregate tables as JSON, CSV, XLSX and an HTML report.

One report is computed per request (off the event loop, so participants'
submissions keep flowing) and every format renders that same report.
"""

from __future__ import annotations

import anyio
import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, route
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from evalsvc import reports
from evalsvc.domain.answer_summaries import AnswerSummary, TextAnswers
from evalsvc.domain.attrition import AttritionRow, PhaseCountRow
from evalsvc.domain.design import Comparison, Measure
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.summary import GroupComparison, SummaryRow
from evalsvc.errors import Forbidden, NotFound, Unauthorized
from evalsvc.exports import registry
from evalsvc.exports.report_i18n import tr, using
from evalsvc.intake import Intake
from evalsvc.scoped_reports import restrict_course_report
from evalsvc.settings import Settings
from evalsvc.storage.records import TokenRecord
from evalsvc.web.auth import (
    SESSION_COOKIE,
    course_in_scope,
    end_session,
    programmes_of,
    provide_course,
    provide_reader,
    require_analyst,
    require_reader,
    resolve_reader,
    resolve_token,
    start_session,
    visible_agencies,
    visible_courses,
    visible_programmes,
)
from evalsvc.web.i18n import (
    INTERFACE_LANGUAGES,
    LANG_COOKIE,
    page_context,
    provide_report_language,
)
from evalsvc.web.openapi import EVALUATOR_READ


class ReportMeta(msgspec.Struct, kw_only=True):
    """What every evaluator answer starts with."""

    course: str
    generated_at: str
    min_cell_size: int
    scored_under_other_rules: int
    """Submissions scored under other rules than the course's current ones."""


class SummaryOut(ReportMeta, kw_only=True):
    measures: list[Measure]
    comparisons: list[Comparison]
    rows: list[SummaryRow]
    group_comparisons: list[GroupComparison]
    notes: list[str]


class AttritionOut(ReportMeta, kw_only=True):
    phase_counts: list[PhaseCountRow]
    rows: list[AttritionRow]


class ItemsOut(ReportMeta, kw_only=True):
    rows: list[ItemRow]


class ReliabilityOut(ReportMeta, kw_only=True):
    rows: list[ReliabilityRow]


class AnswersOut(ReportMeta, kw_only=True):
    rows: list[AnswerSummary]
    texts: list[TextAnswers]


class DisclosureOut(msgspec.Struct, kw_only=True):
    verified: bool
    published: int
    withheld: int
    withheld_small_group: int
    withheld_complementary: int
    method: str
    min_cell_size: int


def _meta(report: reports.CourseReport) -> dict[str, object]:
    return {
        "course": report.course,
        "generated_at": report.generated_at,
        "min_cell_size": report.min_cell_size,
        "scored_under_other_rules": report.scoring.other_rules,
    }


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


NO_STORE = CacheControlHeader(no_store=True)
"""Reports and downloads stay out of shared and browser caches (venue PCs)."""


async def provide_report(
    request: Request,
    intake: NamedDependency[Intake],
    report_cache: NamedDependency[reports.ReportCache],
    reader: NamedDependency[TokenRecord],
    course: NamedDependency[Course],
) -> reports.CourseReport:
    """Dependency: the course's report, for a reader whose scope has the course
    (`course` needs `reader`, so both run first), as the reader may see it."""
    return scoped(request, reader, await report_cache.report(intake.db, course, None))


def scoped(
    request: Request, reader: TokenRecord, report: reports.CourseReport
) -> reports.CourseReport:
    """The report restricted to the reader's agency types, if the token has them."""
    agencies = visible_agencies(request, reader, report.course)
    return report if agencies is None else restrict_course_report(report, agencies)


class EvaluatorApi(Controller):
    path = "/api/v1/courses"
    tags = ["evaluators"]
    cache_control = NO_STORE
    dependencies = {
        "reader": Provide(provide_reader),
        "course": Provide(provide_course),
        "report": Provide(provide_report),
        "report_lang": Provide(provide_report_language),
    }

    @get(
        "/{course_id:str}/summary",
        summary="Paired gains per measure, comparison, breakdown group and skill",
        responses=EVALUATOR_READ,
    )
    async def summary(self, report: NamedDependency[reports.CourseReport]) -> SummaryOut:
        analysis = report.analysis
        return SummaryOut(
            **_meta(report),  # type: ignore[arg-type]
            measures=list(report.design.measures),
            comparisons=list(report.design.comparisons),
            rows=analysis.summary,
            group_comparisons=analysis.group_comparisons,
            notes=analysis.notes,
        )

    @get(
        "/{course_id:str}/attrition",
        summary="Who answered which phases, and the baseline scores of those who left",
        responses=EVALUATOR_READ,
    )
    async def attrition(self, report: NamedDependency[reports.CourseReport]) -> AttritionOut:
        return AttritionOut(
            **_meta(report),  # type: ignore[arg-type]
            phase_counts=report.analysis.phase_counts,
            rows=report.analysis.attrition,
        )

    @get(
        "/{course_id:str}/items",
        summary="Item analysis of the knowledge test, per comparison",
        responses=EVALUATOR_READ,
    )
    async def items(self, report: NamedDependency[reports.CourseReport]) -> ItemsOut:
        return ItemsOut(**_meta(report), rows=report.analysis.items)  # type: ignore[arg-type]

    @get(
        "/{course_id:str}/reliability",
        summary="KR-20 per comparison, phase and skill",
        responses=EVALUATOR_READ,
    )
    async def reliability(self, report: NamedDependency[reports.CourseReport]) -> ReliabilityOut:
        return ReliabilityOut(
            **_meta(report),  # type: ignore[arg-type]
            rows=report.analysis.reliability,
        )

    @get(
        ["/{course_id:str}/answer_summaries", "/{course_id:str}/feedback"],
        summary="Summaries of the feedback, profile and follow-up items, per phase",
        responses=EVALUATOR_READ,
    )
    async def answer_summaries(self, report: NamedDependency[reports.CourseReport]) -> AnswersOut:
        return AnswersOut(
            **_meta(report),  # type: ignore[arg-type]
            rows=report.analysis.answer_summaries,
            texts=report.analysis.texts,
        )

    @get(
        "/{course_id:str}/disclosure",
        summary="The disclosure control's audit: what is withheld and whether it was verified",
        responses=EVALUATOR_READ,
    )
    async def disclosure(self, report: NamedDependency[reports.CourseReport]) -> DisclosureOut:
        audit = report.analysis.disclosure
        return DisclosureOut(
            verified=audit.verified,
            published=audit.published,
            withheld=audit.withheld,
            withheld_small_group=audit.withheld_small_group,
            withheld_complementary=audit.withheld_complementary,
            method=audit.method,
            min_cell_size=audit.min_cell_size,
        )

    @get(
        "/{course_id:str}/{download:str}",
        summary=(
            "Downloads: <table>.csv, report.xlsx, report.pdf; analysts: scores.csv,"
            " responses.csv, responses.sav/.dta, scores.sav/.dta, responses.R"
        ),
        responses=EVALUATOR_READ,
    )
    async def download(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        report_cache: NamedDependency[reports.ReportCache],
        reader: NamedDependency[TokenRecord],
        course: NamedDependency[Course],
        download: FromPath[str],
        report_lang: NamedDependency[str | None],
    ) -> Response:
        if download in registry.REPORT_EXPORTS:
            export = registry.REPORT_EXPORTS[download]
            report = scoped(
                request, reader, await report_cache.report(intake.db, course, report_lang)
            )
            content = await anyio.to_thread.run_sync(export.render, report, course)
            language = report.lang if export.per_language else None
            return _download(
                content, export.media_type, registry.filename(course.id, download, language)
            )
        participant_export = registry.PARTICIPANT_EXPORTS.get(download)
        if participant_export is None:
            raise NotFound(f"no download {download!r}", code="unknown_download")
        require_analyst(reader)
        language = intake.language(course, report_lang)
        filename = registry.filename(
            course.id, download, language if participant_export.per_language else None
        )
        data = registry.ParticipantData(
            course=course,
            lang=language,
            report=await report_cache.report(intake.db, course, report_lang),
            score_rows=lambda: intake.db.score_rows(course.id),
            responses=lambda: intake.db.iter_responses(course.id),
        )
        if participant_export.stream is not None:
            return Stream(
                participant_export.stream(data),
                media_type=participant_export.media_type,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        assert participant_export.render is not None
        content = await participant_export.render(data)
        return _download(content, participant_export.media_type, filename)


def landing_page(intake: Intake, reader: TokenRecord, request: Request) -> str:
    """Where a login lands: the only report the token reaches, else the list."""
    courses = visible_courses(intake, reader, request)
    programmes = visible_programmes(reader, request)
    if len(courses) == 1 and not programmes:
        return f"/courses/{courses[0]}/report"
    if len(programmes) == 1 and not courses:
        return f"/programmes/{programmes[0]}/report"
    return "/courses"


class EvaluatorPages(Controller):
    include_in_schema = False
    cache_control = NO_STORE
    dependencies = {"report_lang": Provide(provide_report_language)}

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
            reader = require_reader(await resolve_token(intake.db, settings.secret_key, token))
        except (Unauthorized, Forbidden):  # a sync token does not log in either
            context = {**page_context(request), "error": "unknown or revoked token"}
            return Template("login.html", context=context, status_code=401)
        session_id = await start_session(intake.db, settings, reader)
        target = landing_page(intake, reader, request)
        chosen = str(form.get("lang", ""))
        response = Redirect(target, status_code=303)
        if chosen in INTERFACE_LANGUAGES:
            # the login page's language carries over to the reports
            response.cookies.append(
                Cookie(key=LANG_COOKIE, value=chosen, samesite="lax", max_age=31536000, path="/")
            )
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
            for course_id in visible_courses(intake, reader, request)
        ]
        catalog = request.app.state.programmes
        programmes = [
            {"id": pid, "title": catalog[pid].localize(catalog[pid].title, context["lang"])}
            for pid in visible_programmes(reader, request)
        ]
        return Template(
            "courses.html",
            context={**context, "courses": courses, "programmes": programmes},
        )

    @get("/courses/{course_id:str}/report")
    async def report_page(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        report_cache: NamedDependency[reports.ReportCache],
        settings: NamedDependency[Settings],
        course_id: FromPath[str],
        report_lang: NamedDependency[str | None],
    ) -> Response:
        try:
            reader = await resolve_reader(request, intake.db, settings.secret_key)
        except Unauthorized:
            return Redirect("/login", status_code=303)
        course = course_in_scope(intake, reader, course_id, programmes_of(request))
        report = scoped(request, reader, await report_cache.report(intake.db, course, report_lang))
        base = f"/api/v1/courses/{course.id}"
        with using(report.lang):
            links = [(tr("Summary (JSON)"), f"{base}/summary")]
            links += [
                (
                    registry.download_label(export.description),
                    f"{base}/{export.name}?lang={report.lang}",
                )
                for export in registry.downloads_for(reader.role)
                if reader.scope.agency_types is None or export.audience == "evaluator"
            ]
            links.append((tr("Turnout"), f"/courses/{course.id}/turnout"))
            if (
                len(visible_courses(intake, reader, request))
                + len(visible_programmes(reader, request))
                > 1
            ):
                links.append((tr("All courses"), "/courses"))
            links.append((tr("Log out"), "/logout"))
        from evalsvc.exports import html_report

        html = await anyio.to_thread.run_sync(
            lambda: html_report.render_report(report, course, inline_css=False, links=links)
        )
        return Response(html, media_type=MediaType.HTML)
