"""The programme's tables: pooled rows in the course row shape, and the meta-analysis.

* `ProgrammeRow` -- a `SummaryRow` over the programme cohort (framework skills and the
  programme total), plus `scope`: ``pooled`` rows take every course's people together
  (broken down by course-independent groups: agency type, country, year, sex...),
  ``course`` rows are one course's own row on the framework, with its `course`,
  `country` and `year`. The statistics are the core's (`summary.summary_rows`, i.e.
  `stats.paired_by_group`); the pass-mark figures follow each person's own course:
  its knowledge total against its pass mark (courses without one are left out).
* `MetaRow` -- per measure, comparison and framework skill: the random-effects
  meta-analysis (`meta_analysis`) of the published course rows' mean gains, each
  with variance gain_sd² / n_paired.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.columns import EFFECT, GAIN, KEY, PEOPLE, STATISTIC, TEXT, P, column
from evalsvc.domain.design import ALL
from evalsvc.domain.disclosure.plan import Plan
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.meta_analysis import MetaResult, Method, meta_analysis
from evalsvc.domain.populations import Populations
from evalsvc.domain.programme import COURSE
from evalsvc.domain.programme_cohort import ProgrammeCohort
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import PASS_FIGURES, SummaryRow, summary_rows

Scope = Literal["pooled", "course"]


class ProgrammeRow(SummaryRow, kw_only=True, frozen=True):
    """A summary row over the programme's people: pooled, or one course's on the framework."""

    scope: Annotated[
        Scope,
        column("pooled: every course's people together; course: one course's own row", KEY),
    ] = "pooled"
    course: Annotated[str | None, column("the course of a course row", KEY)] = None
    country: Annotated[str | None, column("the country of a course row", KEY)] = None
    year: Annotated[int | None, column("the year of a course row", KEY)] = None


class MetaRow(msgspec.Struct, kw_only=True, frozen=True):
    """Random-effects meta-analysis of the courses' mean gains for one cell of the design."""

    measure: Annotated[str, column("knowledge, confidence or dont_know", KEY)]
    comparison: Annotated[str, column("the comparison: <from phase>_<to phase>", KEY)]
    skill: Annotated[str, column("the framework skill, or total", KEY)]
    method: Annotated[str, column("how tau² is estimated: REML or DL (DerSimonian-Laird)", TEXT)]
    k: Annotated[int, column("courses pooled (those with a published row and gain_sd > 0)", PEOPLE)]
    courses: Annotated[list[str], column("the courses pooled", TEXT)]
    estimate: Annotated[float | None, column("pooled mean gain (random effects)", GAIN)] = None
    se: Annotated[float | None, column("standard error of the pooled mean gain", GAIN)] = None
    ci_low: Annotated[float | None, column("lower end of its 95% interval", GAIN)] = None
    ci_high: Annotated[float | None, column("upper end of its 95% interval", GAIN)] = None
    z: Annotated[float | None, column("estimate / se", STATISTIC)] = None
    pvalue: Annotated[float | None, column("two-sided p-value of z", P)] = None
    tau2: Annotated[
        float | None, column("tau²: variance of the courses' true mean gains", GAIN)
    ] = None
    tau: Annotated[float | None, column("tau: its square root", GAIN)] = None
    i2: Annotated[
        float | None,
        column(
            "I² (percent): share of the spread of gains due to differences between courses", EFFECT
        ),
    ] = None
    h2: Annotated[float | None, column("H²: (tau² + s²) / s²", EFFECT)] = None
    q: Annotated[float | None, column("Cochran's Q of heterogeneity", STATISTIC)] = None
    q_df: Annotated[int | None, column("degrees of freedom of Q (k - 1)", "df")] = None
    q_pvalue: Annotated[float | None, column("p-value of Q", P)] = None
    pi_low: Annotated[
        float | None,
        column("lower end of the 95% prediction interval: a new course's true mean gain", GAIN),
    ] = None
    pi_high: Annotated[float | None, column("upper end of the 95% prediction interval", GAIN)] = (
        None
    )
    fe_estimate: Annotated[
        float | None, column("fixed-effect (inverse-variance) pooled mean gain", GAIN)
    ] = None
    fe_ci_low: Annotated[float | None, column("lower end of its 95% interval", GAIN)] = None
    fe_ci_high: Annotated[float | None, column("upper end of its 95% interval", GAIN)] = None
    weights: Annotated[
        list[float], column("each pooled course's share of the random-effects weight", TEXT)
    ] = msgspec.field(default_factory=list)
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


def programme_rows(pc: ProgrammeCohort, populations: Populations, plan: Plan) -> list[ProgrammeRow]:
    """Every pooled and course row (course rows come from the `course` breakdown)."""
    members = {m.course.id: m for m in pc.members}
    out: list[ProgrammeRow] = []
    for row in summary_rows(pc.design, populations, plan, None):
        fields = {name: getattr(row, name) for name in SummaryRow.__struct_fields__}
        if row.measure == "knowledge" and row.skill == TOTAL:
            fields.update(_pass_view(pc, populations, row))
        if row.breakdown == COURSE:
            member = members[row.group]
            fields.update(breakdown=ALL, group=ALL)
            out.append(
                ProgrammeRow(
                    **fields,
                    scope="course",
                    course=member.course.id,
                    country=member.mapping.country,
                    year=member.mapping.year,
                )
            )
        else:
            out.append(ProgrammeRow(**fields, scope="pooled"))
    return out


def release_of(row: ProgrammeRow) -> Release:
    """The programme release a row publishes (course rows: the `course` breakdown)."""
    breakdown, group = (
        (COURSE, row.course or "") if row.scope == "course" else (row.breakdown, row.group)
    )
    return Release("paired", row.measure, row.from_phase, row.to_phase, row.skill, breakdown, group)


def _pass_view(pc: ProgrammeCohort, populations: Populations, row: SummaryRow) -> dict[str, object]:
    """Pass-mark figures of a knowledge total row: each person against their course's
    pass mark, on their course's own total; withheld with the row."""
    if not np.any(~np.isnan(pc.pass_marks)):
        return {}
    if row.withheld:
        return {
            "withheld": {
                **row.withheld,
                **dict.fromkeys(PASS_FIGURES, next(iter(row.withheld.values()))),
            }
        }
    people = _row_people(populations, row)
    before = pc.course_totals[("knowledge", row.from_phase)]
    after = pc.course_totals[("knowledge", row.to_phase)]
    people &= ~np.isnan(pc.pass_marks) & ~np.isnan(before) & ~np.isnan(after)
    n = int(np.count_nonzero(people))
    if n == 0:
        return {}
    marks = pc.pass_marks[people]
    passed_before = np.round(before[people], stats.DECIMALS) >= marks
    passed_after = np.round(after[people], stats.DECIMALS) >= marks
    fields: dict[str, object] = {}
    for prefix, passed in (("pass_from", passed_before), ("pass_to", passed_after)):
        count = int(np.count_nonzero(passed))
        fields[f"{prefix}_share"] = count / n
        interval = stats.wilson_interval(count, n)
        if interval is not None:
            fields[f"{prefix}_ci_low"], fields[f"{prefix}_ci_high"] = interval
    gained = int(np.count_nonzero(~passed_before & passed_after))
    lost = int(np.count_nonzero(passed_before & ~passed_after))
    fields["pass_gained"], fields["pass_lost"] = gained, lost
    fields["pass_mcnemar_p"] = stats.mcnemar_exact(gained, lost)
    if n < row.n_paired:
        fields["notes"] = [
            *row.notes,
            f"pass-mark figures over the {n} paired people of courses with a pass mark",
        ]
    return fields


def _row_people(populations: Populations, row: SummaryRow) -> np.ndarray:
    paired = populations.paired(row.measure, row.from_phase, row.to_phase, row.skill)
    if row.breakdown == ALL:
        return paired.copy()
    groups = populations.design.breakdown(row.breakdown).groups
    return paired & (populations.codes(row.breakdown) == groups.index(row.group))


def meta_rows(pc: ProgrammeCohort, rows: Sequence[ProgrammeRow], method: Method) -> list[MetaRow]:
    """The meta-analysis of each measure, comparison and skill over the course rows.

    Only published course rows take part, so the meta-analysis reveals nothing the
    course rows do not; a course whose row is withheld, or whose gains do not vary
    (no sampling variance), is left out and named in the notes.
    """
    by_cell: dict[tuple[str, str, str], list[ProgrammeRow]] = {}
    for row in rows:
        if row.scope == "course":
            by_cell.setdefault((row.measure, row.comparison, row.skill), []).append(row)
    out = []
    for measure in pc.design.measures:
        for comparison in pc.design.comparisons:
            for skill in pc.design.skills:
                cell = by_cell.get((measure.id, comparison.id, skill), [])
                out.append(_meta_row(measure.id, comparison.id, skill, cell, method))
    return out


def _meta_row(
    measure: str, comparison: str, skill: str, cell: Sequence[ProgrammeRow], method: Method
) -> MetaRow:
    used, notes = [], []
    for row in cell:
        if row.n_paired == 0:
            continue
        if row.withheld:
            notes.append(f"{row.course} left out: its row is withheld")
        elif row.mean_gain is None or row.gain_sd is None or row.gain_sd <= 0 or row.n_paired < 2:
            notes.append(f"{row.course} left out: its gains have no spread to weigh them by")
        else:
            used.append(row)
    result: MetaResult = meta_analysis(
        [r.mean_gain for r in used if r.mean_gain is not None],
        [(r.gain_sd or 0.0) ** 2 / r.n_paired for r in used],
        method,
    )
    fields = {
        name: getattr(result, name)
        for name in MetaResult.__struct_fields__
        if name not in ("notes", "method", "k", "fe_se")
    }
    return MetaRow(
        measure=measure,
        comparison=comparison,
        skill=skill,
        method=method,
        k=result.k,
        courses=[r.course or "" for r in used],
        notes=[*notes, *result.notes],
        **fields,
    )
