"""Reports as a token limited to agency types may see them.

A national focal point's token (`Scope.agency_types`) sees the rows over everyone
("all", and in a programme each course's own row) and the rows of the agencies of
its types; never another agency's rows, nor the rows of other breakdowns (sex,
role...), which mix every agency, nor the tests between groups, which are computed
from every agency's people. Every format renders the restricted report, so the
restriction holds for JSON, CSV, XLSX, PDF and HTML alike. Withholding less is never
the effect: a restricted report publishes a subset of the verified report's figures.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import msgspec

from evalsvc.domain.design import AGENCY, ALL, Breakdown
from evalsvc.domain.programme import AGENCY_TYPE, COURSE
from evalsvc.programme_reports import ProgrammeReport
from evalsvc.reports import CourseReport


class _Grouped(Protocol):
    @property
    def breakdown(self) -> str: ...

    @property
    def group(self) -> str: ...


def _kept(breakdown: str, group: str, allowed: str, groups: Collection[str]) -> bool:
    return breakdown == ALL or (breakdown == allowed and group in groups)


def restrict_course_report(report: CourseReport, agencies: Collection[str]) -> CourseReport:
    """The report with only the "all" rows and the rows of `agencies`."""
    analysis = report.analysis

    def keep(row: _Grouped) -> bool:
        return _kept(row.breakdown, row.group, AGENCY, agencies)

    note = (
        "this view is limited to the agencies "
        + (", ".join(sorted(agencies)) or "(none of this course)")
        + " and the figures over all participants"
    )
    restricted = msgspec.structs.replace(
        analysis,
        summary=[r for r in analysis.summary if keep(r)],
        group_comparisons=[],
        phase_counts=[r for r in analysis.phase_counts if keep(r)],
        attrition=[r for r in analysis.attrition if keep(r)],
        answer_summaries=[r for r in analysis.answer_summaries if keep(r)],
        notes=[*analysis.notes, note],
    )
    visible = [a for a in report.agencies if a.id in agencies]
    design = msgspec.structs.replace(
        report.design,
        breakdowns=(
            Breakdown(
                id=AGENCY,
                groups=tuple(g for g in report.design.breakdown(AGENCY).groups if g in agencies),
            ),
        ),
    )
    return msgspec.structs.replace(
        report,
        design=design,
        agencies=visible,
        breakdowns=[b for b in report.breakdowns if b.id == AGENCY],
        groups={AGENCY: visible},
        analysis=restricted,
    )


def restrict_programme_report(
    report: ProgrammeReport, agency_types: Collection[str]
) -> ProgrammeReport:
    """The programme report with only pooled and course totals and the rows of the types."""
    analysis = report.analysis
    summary = [
        r for r in analysis.summary if _kept(r.breakdown, r.group, AGENCY_TYPE, agency_types)
    ]
    note = (
        "this view is limited to the agency types "
        + ", ".join(sorted(agency_types))
        + " and the figures over all participants"
    )
    design = msgspec.structs.replace(
        report.design,
        breakdowns=tuple(
            Breakdown(id=b.id, groups=tuple(g for g in b.groups if g in agency_types))
            if b.id == AGENCY_TYPE
            else b
            for b in report.design.breakdowns
            if b.id in (COURSE, AGENCY_TYPE)
        ),
    )
    return msgspec.structs.replace(
        report,
        design=design,
        breakdowns=[b for b in report.breakdowns if b.id in (COURSE, AGENCY_TYPE)],
        groups={
            COURSE: report.groups.get(COURSE, []),
            AGENCY_TYPE: [g for g in report.groups.get(AGENCY_TYPE, []) if g.id in agency_types],
        },
        analysis=msgspec.structs.replace(analysis, summary=summary, notes=[*analysis.notes, note]),
    )
