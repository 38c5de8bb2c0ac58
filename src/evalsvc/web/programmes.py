"""Programmes: their aggregates, meta-analysis and donor indicators, for evaluators,
analysts and donors whose scope reaches them.

A programme outside the token's scope answers 404, as one that does not exist. A
token limited to agency types sees the pooled and course totals and its types' rows
(`scoped_reports.restrict_programme_report`), in every format.
"""

from __future__ import annotations

import anyio
import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect

from evalsvc.domain.design import Comparison, Measure
from evalsvc.domain.indicators import IndicatorRow
from evalsvc.domain.programme import Programme
from evalsvc.domain.programme_analysis import CourseCountRow
from evalsvc.domain.programme_summary import MetaRow, ProgrammeRow
from evalsvc.errors import NotFound, Unauthorized
from evalsvc.exports import registry
from evalsvc.exports.report_i18n import tr, using
from evalsvc.intake import Intake
from evalsvc.programme_reports import ProgrammeReport, ProgrammeReportCache
from evalsvc.scoped_reports import restrict_programme_report
from evalsvc.settings import Settings
from evalsvc.storage.records import TokenRecord
from evalsvc.web.auth import provide_reader, resolve_reader, visible_programmes
from evalsvc.web.evaluator import NO_STORE
from evalsvc.web.i18n import provide_report_language
from evalsvc.web.openapi import EVALUATOR_READ


def unknown_programme(programme_id: str) -> NotFound:
    """The one answer for a programme that does not exist, or that a token may not see."""
    return NotFound(f"no programme {programme_id!r}", code="unknown_programme")


class ProgrammeListed(msgspec.Struct, kw_only=True):
    id: str
    title: str
    courses: list[str]


class MemberOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    country: str
    year: int


class IndicatorDefinition(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    title: str
    baseline_percent: float | None
    target_percent: float | None


class ProgrammeOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    donor: str
    start_date: str | None
    end_date: str | None
    min_cell_size: int
    meta_method: str
    courses: list[MemberOut]
    framework: dict[str, str]
    agency_types: dict[str, str]
    breakdowns: list[str]
    indicators: list[IndicatorDefinition]


class ProgrammeMeta(msgspec.Struct, kw_only=True):
    programme: str
    generated_at: str
    min_cell_size: int


class ProgrammeSummaryOut(ProgrammeMeta, kw_only=True):
    measures: list[Measure]
    comparisons: list[Comparison]
    rows: list[ProgrammeRow]
    course_counts: list[CourseCountRow]
    notes: list[str]


class MetaOut(ProgrammeMeta, kw_only=True):
    rows: list[MetaRow]


class IndicatorsOut(ProgrammeMeta, kw_only=True):
    rows: list[IndicatorRow]


class ProgrammeDisclosureOut(msgspec.Struct, kw_only=True):
    verified: bool
    published: int
    withheld: int
    withheld_small_group: int
    withheld_complementary: int
    course_releases: int
    method: str
    min_cell_size: int


def _programmes(request: Request) -> dict[str, Programme]:
    programmes: dict[str, Programme] = request.app.state.programmes
    return programmes


def programme_in_scope(request: Request, reader: TokenRecord, programme_id: str) -> Programme:
    programme = _programmes(request).get(programme_id)
    if programme is None or not reader.scope.allows_programme(programme_id):
        raise unknown_programme(programme_id)
    return programme


async def provide_programme(
    request: Request, reader: NamedDependency[TokenRecord], programme_id: FromPath[str]
) -> Programme:
    return programme_in_scope(request, reader, programme_id)


async def programme_report(
    request: Request, reader: TokenRecord, programme: Programme, lang: str | None
) -> ProgrammeReport:
    """The programme's report as this reader may see it."""
    intake: Intake = request.app.state.intake
    cache: ProgrammeReportCache = request.app.state.programme_report_cache
    report = await cache.report(intake.db, programme, intake.courses, lang)
    types = reader.scope.agency_types
    return report if types is None else restrict_programme_report(report, types)


async def provide_programme_report(
    request: Request,
    reader: NamedDependency[TokenRecord],
    programme: NamedDependency[Programme],
    report_lang: NamedDependency[str | None],
) -> ProgrammeReport:
    """Dependency: the programme's report in the reader's language, as the reader may
    see it (`programme` needs `reader`, so both run first)."""
    return await programme_report(request, reader, programme, report_lang)


def _meta(report: ProgrammeReport) -> dict[str, object]:
    return {
        "programme": report.programme,
        "generated_at": report.generated_at,
        "min_cell_size": report.min_cell_size,
    }


class ProgrammeApi(Controller):
    path = "/api/v1/programmes"
    tags = ["programmes"]
    cache_control = NO_STORE
    dependencies = {
        "reader": Provide(provide_reader),
        "report_lang": Provide(provide_report_language),
        "programme": Provide(provide_programme),
        "report": Provide(provide_programme_report),
    }

    @get("/", summary="The programmes this token reaches", responses=EVALUATOR_READ)
    async def listing(
        self, request: Request, reader: NamedDependency[TokenRecord]
    ) -> list[ProgrammeListed]:
        catalog = _programmes(request)
        return [
            ProgrammeListed(
                id=pid,
                title=catalog[pid].localize(catalog[pid].title, "en"),
                courses=list(catalog[pid].course_ids()),
            )
            for pid in visible_programmes(reader, request)
        ]

    @get(
        "/{programme_id:str}",
        summary="A programme: its courses, framework, agency types and indicators",
        responses=EVALUATOR_READ,
    )
    async def programme(
        self, request: Request, programme: NamedDependency[Programme]
    ) -> ProgrammeOut:
        intake: Intake = request.app.state.intake
        local = programme.localize
        from evalsvc.domain.programme import min_cell_size

        return ProgrammeOut(
            id=programme.id,
            title=local(programme.title, "en"),
            donor=local(programme.donor, "en") if programme.donor else "",
            start_date=programme.start_date.isoformat() if programme.start_date else None,
            end_date=programme.end_date.isoformat() if programme.end_date else None,
            min_cell_size=min_cell_size(programme, intake.courses),
            meta_method=programme.meta_method,
            courses=[
                MemberOut(
                    id=m.id,
                    title=intake.courses[m.id].localize(intake.courses[m.id].title, "en"),
                    country=m.country,
                    year=m.year,
                )
                for m in programme.courses
            ],
            framework={s.id: local(s.name, "en") for s in programme.framework},
            agency_types={t.id: local(t.name, "en") for t in programme.agency_types},
            breakdowns=list(programme.breakdown_ids()),
            indicators=[
                IndicatorDefinition(
                    id=i.id,
                    kind=i.kind,
                    title=local(i.title, "en"),
                    baseline_percent=i.baseline_percent,
                    target_percent=i.target_percent,
                )
                for i in programme.indicators
            ],
        )

    @get(
        "/{programme_id:str}/summary",
        summary="Pooled and course rows per measure, comparison, group and framework skill",
        responses=EVALUATOR_READ,
    )
    async def summary(self, report: NamedDependency[ProgrammeReport]) -> ProgrammeSummaryOut:
        return ProgrammeSummaryOut(
            **_meta(report),  # type: ignore[arg-type]
            measures=list(report.design.measures),
            comparisons=list(report.design.comparisons),
            rows=report.analysis.summary,
            course_counts=report.analysis.course_counts,
            notes=report.analysis.notes,
        )

    @get(
        "/{programme_id:str}/meta",
        summary="Random-effects meta-analysis of the courses' mean gains",
        responses=EVALUATOR_READ,
    )
    async def meta(self, report: NamedDependency[ProgrammeReport]) -> MetaOut:
        return MetaOut(**_meta(report), rows=report.analysis.meta)  # type: ignore[arg-type]

    @get(
        "/{programme_id:str}/indicators",
        summary="The donor indicators with their Wilson intervals and status",
        responses=EVALUATOR_READ,
    )
    async def indicators(self, report: NamedDependency[ProgrammeReport]) -> IndicatorsOut:
        return IndicatorsOut(
            **_meta(report),  # type: ignore[arg-type]
            rows=report.analysis.indicators,
        )

    @get(
        "/{programme_id:str}/disclosure",
        summary="The disclosure audit of the programme, verified with its course reports",
        responses=EVALUATOR_READ,
    )
    async def disclosure(
        self,
        request: Request,
        reader: NamedDependency[TokenRecord],
        programme: NamedDependency[Programme],
    ) -> ProgrammeDisclosureOut:
        audit = (await programme_report(request, reader, programme, None)).analysis.disclosure
        return ProgrammeDisclosureOut(
            verified=audit.verified,
            published=audit.published,
            withheld=audit.withheld,
            withheld_small_group=audit.withheld_small_group,
            withheld_complementary=audit.withheld_complementary,
            course_releases=audit.course_releases,
            method=audit.method,
            min_cell_size=audit.min_cell_size,
        )

    @get(
        "/{programme_id:str}/{download:str}",
        summary=(
            "Downloads: indicators.csv, summary.csv, meta.csv, course_counts.csv, "
            "codebook.csv, report.xlsx, report.html"
        ),
        responses=EVALUATOR_READ,
    )
    async def download(
        self,
        programme: NamedDependency[Programme],
        download: FromPath[str],
        report: NamedDependency[ProgrammeReport],
    ) -> Response:
        export = registry.PROGRAMME_EXPORTS.get(download)
        if export is None:
            raise NotFound(f"no download {download!r}", code="unknown_download")
        content = await anyio.to_thread.run_sync(export.render, report)
        language = report.lang if export.per_language else None
        return Response(
            content,
            media_type=export.media_type,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{registry.filename(programme.id, download, language)}"'
                )
            },
        )


class ProgrammePages(Controller):
    include_in_schema = False
    cache_control = NO_STORE
    dependencies = {"report_lang": Provide(provide_report_language)}

    @get("/programmes/{programme_id:str}/report")
    async def report_page(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        programme_id: FromPath[str],
        report_lang: NamedDependency[str | None],
    ) -> Response:
        intake: Intake = request.app.state.intake
        try:
            reader = await resolve_reader(request, intake.db, settings.secret_key)
        except Unauthorized:
            return Redirect("/login", status_code=303)
        programme = programme_in_scope(request, reader, programme_id)
        report = await programme_report(request, reader, programme, report_lang)
        base = f"/api/v1/programmes/{programme.id}"
        with using(report.lang):
            links = [
                (
                    registry.download_label(export.description),
                    f"{base}/{export.name}?lang={report.lang}",
                )
                for export in registry.PROGRAMME_EXPORTS.values()
                if export.name != "report.html"
            ]
            links.append((tr("All courses and programmes"), "/courses"))
            links.append((tr("Log out"), "/logout"))
        from evalsvc.exports import html_programme

        html = await anyio.to_thread.run_sync(
            lambda: html_programme.render_programme_report(
                report,
                inline_css=False,
                links=links,
                language_url=f"/programmes/{programme.id}/report?lang={{lang}}",
            )
        )
        return Response(html, media_type=MediaType.HTML)
