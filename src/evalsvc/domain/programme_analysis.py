"""A programme's whole analysis: pooled and course rows, meta-analysis and indicators,
planned and verified together with the course reports.

`analyse_programme(pc, course_analyses)`:

1. counts the people of every programme release (`programme_release_counts`);
2. plans the programme's disclosure control with the course reports' decisions fixed
   (`disclosure.programme_plan`);
3. computes the tables under that plan (`programme_summary`, `indicators`);
4. reads the releases back from the finished rows and verifies them again across
   reports; if that ever failed, no programme figure would be published.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated

import msgspec
import numpy as np

from evalsvc.domain.analysis import Analysis, releases_in
from evalsvc.domain.columns import KEY, PEOPLE, column
from evalsvc.domain.design import ALL
from evalsvc.domain.disclosure.plan import Reason
from evalsvc.domain.disclosure.programme_plan import (
    ProgrammeAudit,
    ProgrammePlan,
    audit_of,
    check_programme_published,
    plan_programme,
)
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.indicators import APPLIED_RELEASE, IndicatorRow, indicator_rows
from evalsvc.domain.populations import Populations
from evalsvc.domain.programme import min_cell_size
from evalsvc.domain.programme_cohort import ProgrammeCohort
from evalsvc.domain.programme_summary import (
    MetaRow,
    ProgrammeRow,
    meta_rows,
    programme_rows,
    release_of,
)


class CourseCountRow(msgspec.Struct, kw_only=True, frozen=True):
    """How many people of each course answered each phase (counts, always published)."""

    course: Annotated[str, column("the course", KEY)]
    country: Annotated[str, column("its country", KEY)]
    year: Annotated[int, column("its year", KEY)]
    phase: Annotated[str, column("the phase, or all for anyone who answered any", KEY)]
    n: Annotated[int, column("people", PEOPLE)]


class ProgrammeAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    n_participants: int
    course_counts: list[CourseCountRow]
    summary: list[ProgrammeRow]
    meta: list[MetaRow]
    indicators: list[IndicatorRow]
    disclosure: ProgrammeAudit
    notes: list[str]


def analyse_programme(
    pc: ProgrammeCohort,
    course_analyses: Mapping[str, Analysis],
    titles: Mapping[str, str] | None = None,
) -> ProgrammeAnalysis:
    """`course_analyses` are the member courses' published reports, by course id."""
    populations = Populations(pc.design, pc.cohort)
    counts = programme_release_counts(pc, populations)
    course_releases = {
        course_id: releases_in(analysis) for course_id, analysis in course_analyses.items()
    }
    k = min_cell_size(pc.programme, {m.course.id: m.course for m in pc.members})
    plan = plan_programme(pc, course_releases, counts, k)
    analysis = _tables(pc, populations, plan, titles or {})
    published, withheld = programme_releases_in(analysis)
    check = check_programme_published(plan, published)
    if not check.verified:
        # A defect: the rows publish what the plan did not prove. Publish no figure.
        everything: dict[Release, Reason] = {r: "complementary" for r, n in counts.items() if n}
        plan = ProgrammePlan(
            counts=counts, withheld=everything, audit=plan.audit, verifier=plan.verifier
        )
        analysis = _tables(pc, populations, plan, titles or {})
        published, withheld = programme_releases_in(analysis)
        check = check_programme_published(plan, published)
    audit = audit_of(plan, check, len(published), len(withheld))
    reasons = [reason for _, reason, n in _row_releases(analysis) if n and reason]
    audit = msgspec.structs.replace(
        audit,
        withheld_small_group=reasons.count("small_group"),
        withheld_complementary=reasons.count("complementary"),
    )
    return msgspec.structs.replace(analysis, disclosure=audit)


def programme_release_counts(pc: ProgrammeCohort, populations: Populations) -> dict[Release, int]:
    """Every programme release with the number of people it is computed over."""
    counts: dict[Release, int] = {}
    design = pc.design
    for measure in design.measures:
        for comparison in design.comparisons:
            for subject in design.skills:
                mask = populations.paired(
                    measure.id, comparison.from_phase, comparison.to_phase, subject
                )
                base = Release(
                    "paired",
                    measure.id,
                    comparison.from_phase,
                    comparison.to_phase,
                    subject,
                    "",
                    "",
                )
                for breakdown in populations.breakdowns():
                    if breakdown.id == ALL:
                        per_group = np.array([int(np.count_nonzero(mask))])
                    else:
                        per_group = populations.group_counts(breakdown, mask)
                    for group, n in zip(breakdown.groups, per_group, strict=True):
                        counts[base._replace(breakdown=breakdown.id, group=group)] = int(n)
    answered = 0
    for member in pc.members:
        applied = member.mapping.applied
        if applied is not None:
            answered += sum(
                1
                for answers in member.cohort.answers.get(applied.phase) or []
                if answers is not None and answers.get(applied.item) is not None
            )
    counts[APPLIED_RELEASE] = answered
    return counts


def _tables(
    pc: ProgrammeCohort, populations: Populations, plan: ProgrammePlan, titles: Mapping[str, str]
) -> ProgrammeAnalysis:
    rows = programme_rows(pc, populations, plan.as_plan(pc))
    notes = []
    for member in pc.members:
        outside = [s for s in member.course.skill_ids() if s not in member.mapping.skills]
        if outside:
            notes.append(
                f"{member.course.id}: skills outside the framework, left out: {', '.join(outside)}"
            )
        if member.cohort.size == 0:
            notes.append(f"{member.course.id}: no submissions yet")
    return ProgrammeAnalysis(
        n_participants=pc.cohort.size,
        course_counts=_course_counts(pc),
        summary=rows,
        meta=meta_rows(pc, rows, pc.programme.meta_method),
        indicators=indicator_rows(pc, populations, plan.reason, titles),
        disclosure=plan.audit,
        notes=notes,
    )


def _course_counts(pc: ProgrammeCohort) -> list[CourseCountRow]:
    out = []
    for member in pc.members:
        fixed = {
            "course": member.course.id,
            "country": member.mapping.country,
            "year": member.mapping.year,
        }
        out.append(CourseCountRow(**fixed, phase=ALL, n=member.cohort.size))  # type: ignore[arg-type]
        for phase in member.design.phases:
            n = int(np.count_nonzero(member.cohort.submitted[phase]))
            out.append(CourseCountRow(**fixed, phase=phase, n=n))  # type: ignore[arg-type]
    return out


def programme_releases_in(analysis: ProgrammeAnalysis) -> tuple[list[Release], list[Release]]:
    """(published, withheld) programme releases, read from the rows alone."""
    published: list[Release] = []
    withheld: list[Release] = []
    for release, reason, people in _row_releases(analysis):
        if people == 0:
            continue
        (published if reason is None else withheld).append(release)
    return published, withheld


def _row_releases(analysis: ProgrammeAnalysis) -> Iterator[tuple[Release, Reason | None, int]]:
    for row in analysis.summary:
        yield release_of(row), next(iter(row.withheld.values()), None), row.n_paired
    for indicator in analysis.indicators:
        if indicator.kind == "applied":
            yield APPLIED_RELEASE, next(iter(indicator.withheld.values()), None), indicator.n
