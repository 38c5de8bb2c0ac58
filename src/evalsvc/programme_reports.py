"""A programme's report: its courses' stored submissions in, the verified analysis out.

The one place that turns the member courses' storage rows into the programme cohort
and runs the domain's `analyse_programme`; the programme API, its HTML report, its
downloads and `evalsvc report --programme` all take their numbers from here.

Each course's report is computed from the very rows the programme uses (as
`reports.report_from` would publish it at that data version), so the course
decisions the programme is verified against are exactly the published ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping

import anyio
import msgspec

from evalsvc import reports
from evalsvc.domain.analysis import Analysis
from evalsvc.domain.cohort import build_cohort
from evalsvc.domain.design import Design, analysis_design
from evalsvc.domain.programme import (
    AGENCY_TYPE,
    COUNTRY,
    COURSE,
    YEAR,
    Programme,
    min_cell_size,
)
from evalsvc.domain.programme_analysis import ProgrammeAnalysis, analyse_programme
from evalsvc.domain.programme_cohort import programme_cohort, programme_design
from evalsvc.domain.questionnaire import NOT_STATED, Course
from evalsvc.reports import Named
from evalsvc.storage import Storage
from evalsvc.storage.records import ScoreRow


class CourseInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    country: str
    country_name: str
    year: int


class ProgrammeReport(msgspec.Struct, kw_only=True, frozen=True):
    programme: str
    title: str
    lang: str
    generated_at: str
    min_cell_size: int
    donor: str
    start_date: str | None
    end_date: str | None
    design: Design
    courses: list[CourseInfo]
    skills: list[Named]
    """The framework skills with their names."""
    phases: list[Named]
    """The phases with their names (from the first course that has each)."""
    breakdowns: list[Named]
    groups: dict[str, list[Named]]
    """Breakdown id -> its groups with their names."""
    analysis: ProgrammeAnalysis


def report_language(programme: Programme, wanted: str | None) -> str:
    for lang in (wanted, "en"):
        if lang in programme.languages:
            return lang
    return programme.languages[0] if programme.languages else "en"


def programme_analysis(
    programme: Programme,
    courses: Mapping[str, Course],
    rows: Mapping[str, list[ScoreRow]],
) -> ProgrammeAnalysis:
    """The programme's analysis from its courses' rows (the course reports computed
    from the same rows, in English: their decisions do not depend on the language)."""
    designs: dict[str, Design] = {}
    cohorts = {}
    analyses: dict[str, Analysis] = {}
    for course_id in programme.course_ids():
        course = courses[course_id]
        design = analysis_design(course)
        records = reports.records_from(rows[course_id])
        cohorts[course_id] = build_cohort(course, design, records)
        designs[course_id] = design
        analyses[course_id] = reports.report_from(course, rows[course_id], {}, "en").analysis
    cohort = programme_cohort(programme, courses, designs, cohorts)
    return analyse_programme(cohort, analyses)


def programme_report_from(
    programme: Programme,
    courses: Mapping[str, Course],
    analysis: ProgrammeAnalysis,
    lang: str,
) -> ProgrammeReport:
    """The report in `lang`: names and titles localized around a computed analysis."""
    local = programme.localize
    countries = {c.id: local(c.name, lang) for c in programme.countries}
    groups: dict[str, list[Named]] = {
        COURSE: [Named(c, local(courses[c].title, lang)) for c in programme.course_ids()],
        COUNTRY: [Named(c, countries.get(c, c)) for c in programme.breakdown_groups(COUNTRY)],
        YEAR: [Named(y, y) for y in programme.breakdown_groups(YEAR)],
        AGENCY_TYPE: [Named(t.id, local(t.name, lang)) for t in programme.agency_types],
    }
    breakdowns = [
        Named(COURSE, "Course"),
        Named(COUNTRY, "Country"),
        Named(YEAR, "Year"),
        Named(AGENCY_TYPE, "Agency type"),
    ]
    for breakdown in programme.breakdowns:
        breakdowns.append(Named(breakdown.id, local(breakdown.name, lang)))
        groups[breakdown.id] = [
            *(Named(g.id, local(g.name, lang)) for g in breakdown.groups),
            Named(NOT_STATED, "not stated"),
        ]
    titles = {i.id: local(i.title, lang) for i in programme.indicators}
    indicators = [
        msgspec.structs.replace(row, title=titles.get(row.indicator, row.title))
        for row in analysis.indicators
    ]
    analysis = msgspec.structs.replace(analysis, indicators=indicators)
    return ProgrammeReport(
        programme=programme.id,
        title=local(programme.title, lang),
        lang=lang,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        min_cell_size=min_cell_size(programme, courses),
        donor=local(programme.donor, lang) if programme.donor else "",
        start_date=programme.start_date.isoformat() if programme.start_date else None,
        end_date=programme.end_date.isoformat() if programme.end_date else None,
        design=programme_design(
            programme,
            courses,
            {c: analysis_design(courses[c]) for c in programme.course_ids()},
        ),
        courses=[
            CourseInfo(
                id=m.id,
                title=local(courses[m.id].title, lang),
                country=m.country,
                country_name=countries.get(m.country, m.country),
                year=m.year,
            )
            for m in programme.courses
        ],
        skills=[Named(s.id, local(s.name, lang)) for s in programme.framework],
        phases=_phases(programme, courses, lang),
        breakdowns=breakdowns,
        groups=groups,
        analysis=analysis,
    )


def _phases(programme: Programme, courses: Mapping[str, Course], lang: str) -> list[Named]:
    named: dict[str, str] = {}
    for course_id in programme.course_ids():
        course = courses[course_id]
        for phase in course.phases:
            if phase.id not in named:
                named[phase.id] = course.localize(phase.title, lang) if phase.title else phase.id
    return [Named(phase, name) for phase, name in named.items()]


async def load_programme_rows(
    db: Storage, programme: Programme
) -> tuple[tuple[int, ...], dict[str, list[ScoreRow]]]:
    """(the courses' data versions, their rows); versions read first, as ReportCache does."""
    versions = tuple([await db.data_version(c) for c in programme.course_ids()])
    rows = {c: await db.score_rows(c) for c in programme.course_ids()}
    return versions, rows


class ProgrammeReportCache:
    """The latest analysis per programme, reused until a member course's data changes;
    reports per language are made from it. Concurrent requests wait for one computation."""

    def __init__(self) -> None:
        self._analyses: dict[str, tuple[tuple[int, ...], ProgrammeAnalysis]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.computed = 0

    async def report(
        self,
        db: Storage,
        programme: Programme,
        courses: Mapping[str, Course],
        lang: str | None,
    ) -> ProgrammeReport:
        async with self._locks.setdefault(programme.id, asyncio.Lock()):
            versions = tuple([await db.data_version(c) for c in programme.course_ids()])
            cached = self._analyses.get(programme.id)
            if cached is not None and cached[0] == versions:
                analysis = cached[1]
            else:
                versions, rows = await load_programme_rows(db, programme)
                analysis = await anyio.to_thread.run_sync(
                    programme_analysis, programme, courses, rows
                )
                self.computed += 1
                self._analyses[programme.id] = (versions, analysis)
        return programme_report_from(programme, courses, analysis, report_language(programme, lang))
