"""A course's whole analysis: every table, planned and verified together.

`analyse(course, cohort)`:

1. counts the people of every release (`populations.release_counts`);
2. plans the disclosure control for the whole report at once (`disclosure.plan`);
3. computes the tables under that plan (`summary`, `attrition`, `items`, `answer_summaries`);
4. reads the releases back from the finished rows and verifies them again, with the
   verifier alone (`releases_in`), so that what is published is what was proven. If
   that check ever failed, every figure would be withheld rather than published.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import msgspec

from evalsvc.domain.answer_summaries import AnswerSummary, TextAnswers, answer_summaries
from evalsvc.domain.attrition import AttritionRow, PhaseCountRow, attrition_rows, phase_count_rows
from evalsvc.domain.cohort import UNKNOWN_GROUP, Cohort
from evalsvc.domain.design import AGENCY, ALL, Design
from evalsvc.domain.disclosure.plan import Audit, Plan, Reason, check_published, plan_disclosure
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.items import ItemRow, ReliabilityRow, item_rows, reliability_rows
from evalsvc.domain.populations import Populations, release_counts
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import (
    GroupComparison,
    SummaryRow,
    group_comparisons,
    release_of,
    summary_rows,
)


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    n_participants: int
    summary: list[SummaryRow]
    group_comparisons: list[GroupComparison]
    phase_counts: list[PhaseCountRow]
    attrition: list[AttritionRow]
    items: list[ItemRow]
    reliability: list[ReliabilityRow]
    answer_summaries: list[AnswerSummary]
    texts: list[TextAnswers]
    disclosure: Audit
    notes: list[str]


def analyse(course: Course, design: Design, cohort: Cohort) -> Analysis:
    populations = Populations(design, cohort)
    counts = release_counts(course, design, populations)
    plan = plan_disclosure(design, cohort, counts, course.min_cell_size)
    analysis = _tables(course, design, populations, plan)
    published, withheld = releases_in(analysis)
    check = check_published(plan, published)
    if not check.verified:
        # A defect: the rows publish something the plan did not prove. Publish no figure.
        everything: dict[Release, Reason] = {r: "complementary" for r, n in counts.items() if n}
        plan = Plan(counts=counts, withheld=everything, audit=plan.audit, verifier=plan.verifier)
        analysis = _tables(course, design, populations, plan)
        published, withheld = releases_in(analysis)
        check = check_published(plan, published)
    reasons = [reason for _, reason, people in _row_releases(analysis) if people and reason]
    audit = msgspec.structs.replace(
        plan.audit,
        verified=check.verified,
        findings=check.findings,
        published=len(published),
        withheld=len(withheld),
        withheld_small_group=reasons.count("small_group"),
        withheld_complementary=reasons.count("complementary"),
    )
    return msgspec.structs.replace(analysis, disclosure=audit)


def _tables(course: Course, design: Design, populations: Populations, plan: Plan) -> Analysis:
    summary = summary_rows(design, populations, plan, course.pass_mark)
    summaries, texts = answer_summaries(course, populations, plan)
    notes = []
    outsiders = int((populations.cohort.groups[AGENCY] == UNKNOWN_GROUP).sum())
    if outsiders:
        notes.append(
            f"{outsiders} participant(s) with an agency not in the course are counted in 'all' only"
        )
    return Analysis(
        n_participants=populations.cohort.size,
        summary=summary,
        group_comparisons=group_comparisons(design, populations, summary),
        phase_counts=phase_count_rows(design, populations),
        attrition=attrition_rows(design, populations, plan),
        items=item_rows(course, design, populations, plan),
        reliability=reliability_rows(course, design, populations, plan),
        answer_summaries=summaries,
        texts=texts,
        disclosure=plan.audit,
        notes=notes,
    )


def releases_in(analysis: Analysis) -> tuple[list[Release], list[Release]]:
    """(published, withheld) releases, read from the rows alone."""
    published: list[Release] = []
    withheld: list[Release] = []
    for release, reason, people in _row_releases(analysis):
        if people == 0:
            continue
        (published if reason is None else withheld).append(release)
    return published, withheld


def _reason(withheld: Mapping[str, Reason], *figures: str) -> Reason | None:
    """Why a row's release is withheld (None: published), read from its `withheld`."""
    found = [withheld[f] for f in figures if f in withheld] if figures else list(withheld.values())
    return found[0] if found else None


def _row_releases(analysis: Analysis) -> Iterator[tuple[Release, Reason | None, int]]:
    """Each release of the rows: (release, why withheld or None, people)."""
    for row in analysis.summary:
        yield release_of(row), _reason(row.withheld), row.n_paired
    for attrition in analysis.attrition:
        yield (
            Release(
                "attrition",
                attrition.measure,
                attrition.baseline_phase,
                attrition.later_phase,
                attrition.skill,
                attrition.breakdown,
                attrition.group,
            ),
            _reason(attrition.withheld, "dropped_mean"),
            attrition.n_dropped,
        )
    for summary in analysis.answer_summaries:
        yield (
            Release(
                "answers",
                "",
                summary.phase,
                "",
                summary.item,
                summary.breakdown,
                summary.group,
            ),
            _reason(summary.withheld),
            summary.n,
        )
    # Item analysis and reliability are over the knowledge all row's people: shown
    # only with it (checked here, so that a defect cannot slip through).
    shown_all = {
        (row.from_phase, row.to_phase)
        for row in analysis.summary
        if row.measure == "knowledge"
        and row.breakdown == ALL
        and row.skill == TOTAL
        and not row.withheld
    }
    for item in analysis.items:
        if (
            not item.withheld
            and item.n_paired
            and (item.from_phase, item.to_phase) not in shown_all
        ):
            raise AssertionError(f"item {item.item} shown without its knowledge all row")
