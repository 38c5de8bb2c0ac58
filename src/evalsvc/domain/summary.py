"""The paired summary: every measure, comparison, breakdown group and skill.

One `SummaryRow` per measure x comparison x (the "all" row, then each breakdown's
groups) x skill (and "total"): the `stats.Paired` statistics over the group's people
who have the score in both phases of the comparison, plus Holm's adjustment, the
pass-mark view (knowledge total, when the course has a pass mark) and the reasons for
anything withheld. `GroupComparison` tests whether the gains differ between the
shown groups of a breakdown.

Holm's families are fixed by the design, before anything is withheld: per measure and
comparison, the "all" rows (every skill and the total: the course's stated objectives)
are the confirmatory family; each breakdown's group rows form an exploratory family.
Withheld and undefined p-values count as 1 (see `stats.holm_fixed_family`), so no
adjusted p-value depends on what is withheld.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, NamedTuple

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.columns import KEY, PEOPLE, SHARE, TEXT, P, column
from evalsvc.domain.design import ALL, Breakdown, Comparison, Design, Measure
from evalsvc.domain.disclosure.plan import Plan, Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations
from evalsvc.domain.questionnaire import NOT_STATED
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.signed_rank import DenseValues

_Key = Annotated[str, column("which row this is", KEY)]


class SummaryRow(stats.Paired, kw_only=True, frozen=True):
    """One measure, comparison, group and skill: `stats.Paired` and more."""

    measure: Annotated[str, column("knowledge, confidence or dont_know (see the measures)", KEY)]
    comparison: Annotated[str, column("the comparison: <from phase>_<to phase>", KEY)]
    from_phase: Annotated[str, column("the earlier phase of the comparison", KEY)]
    to_phase: Annotated[str, column("the later phase of the comparison", KEY)]
    breakdown: Annotated[
        str, column("what the rows are broken down by: all, agency, or a profile item", KEY)
    ]
    group: Annotated[str, column("the group within the breakdown (all for everyone)", KEY)]
    skill: Annotated[str, column("the skill, or total for all skills together", KEY)]
    n_from: Annotated[int, column("people of the group with a score in the from phase", PEOPLE)]
    n_to: Annotated[int, column("people of the group with a score in the to phase", PEOPLE)]
    p_holm: Annotated[
        float | None, column("t-test p-value adjusted by Holm within its family", P)
    ] = None
    holm_family: Annotated[
        str,
        column("Holm family: confirmatory (the all rows) or exploratory:<breakdown>", TEXT),
    ] = ""
    pass_from_share: Annotated[
        float | None, column("share of the paired people at or above the pass mark, from", SHARE)
    ] = None
    pass_from_ci_low: Annotated[
        float | None, column("lower end of the 95% Wilson interval of pass_from_share", SHARE)
    ] = None
    pass_from_ci_high: Annotated[
        float | None, column("upper end of the 95% Wilson interval of pass_from_share", SHARE)
    ] = None
    pass_to_share: Annotated[
        float | None, column("share of the paired people at or above the pass mark, to", SHARE)
    ] = None
    pass_to_ci_low: Annotated[
        float | None, column("lower end of the 95% Wilson interval of pass_to_share", SHARE)
    ] = None
    pass_to_ci_high: Annotated[
        float | None, column("upper end of the 95% Wilson interval of pass_to_share", SHARE)
    ] = None
    pass_gained: Annotated[
        int | None, column("paired people below the pass mark before and at or above after", PEOPLE)
    ] = None
    pass_lost: Annotated[
        int | None, column("paired people at or above the pass mark before and below after", PEOPLE)
    ] = None
    pass_mcnemar_p: Annotated[
        float | None, column("exact McNemar p-value of the change in passing", P)
    ] = None
    withheld: Annotated[
        dict[str, Reason],
        column("withheld figures and why: small_group or complementary", TEXT),
    ] = {}


PASS_FIGURES = (
    "pass_from_share",
    "pass_from_ci_low",
    "pass_from_ci_high",
    "pass_to_share",
    "pass_to_ci_low",
    "pass_to_ci_high",
    "pass_gained",
    "pass_lost",
    "pass_mcnemar_p",
)
SUMMARY_WITHHELD_FIGURES = (*stats.PAIRED_FIGURES, "p_holm", *PASS_FIGURES)


class GroupComparison(msgspec.Struct, kw_only=True, frozen=True):
    """Do the gains differ between the shown groups of one breakdown?"""

    measure: _Key
    comparison: _Key
    breakdown: _Key
    skill: _Key
    groups: Annotated[list[str], column("the groups compared (those shown)", TEXT)]
    n_groups: Annotated[int, column("groups with at least two paired people", PEOPLE)]
    kruskal_h: Annotated[float | None, column("Kruskal-Wallis H of the gains", "statistic")]
    kruskal_pvalue: Annotated[float | None, column("p-value of Kruskal-Wallis", P)]
    welch_f: Annotated[float | None, column("Welch's one-way ANOVA F of the gains", "statistic")]
    welch_df1: Annotated[float | None, column("numerator df of Welch's F", "df")]
    welch_df2: Annotated[float | None, column("denominator df of Welch's F", "df")]
    welch_pvalue: Annotated[float | None, column("p-value of Welch's ANOVA", P)]
    notes: Annotated[list[str], column("remarks, in English", TEXT)]


def summary_rows(
    design: Design,
    populations: Populations,
    plan: Plan,
    pass_mark: float | None,
) -> list[SummaryRow]:
    rows: list[SummaryRow] = []
    for measure in design.measures:
        computed = _compute(measure, design, populations, plan, pass_mark)
        for comparison in design.comparisons:
            rows.extend(_rows(measure, comparison, design, populations, plan, pass_mark, computed))
    return rows


def release_of(row: SummaryRow) -> Release:
    return Release(
        "paired", row.measure, row.from_phase, row.to_phase, row.skill, row.breakdown, row.group
    )


class _Cell(NamedTuple):
    breakdown: Breakdown
    group: str
    subject: str
    release: Release
    n_from: int
    n_to: int


_Computed = dict[tuple[str, str, str, str], tuple[_Cell, stats.Paired, dict[str, object]]]
"""(comparison, breakdown, group, skill) -> the cell, its statistics and figures."""


def _compute(
    measure: Measure,
    design: Design,
    populations: Populations,
    plan: Plan,
    pass_mark: float | None,
) -> _Computed:
    """The statistics of every comparison, group and skill of one measure, in one call.

    Each person is in one cell per comparison and skill (the people alike in every
    breakdown, `Populations.cells`); a group is a set of those cells, in a block of
    its own per comparison and skill. The gains are indexed into the distinct gains
    of all blocks together.
    """
    max_score = measure.maximum if measure.normalized_gain else None
    cells = populations.cells()
    n_groups, n_cells = cells.groups.shape
    blocks = [(c, s) for c in design.comparisons for s in design.skills]
    groups = np.kron(np.eye(len(blocks)), cells.groups)  # block-diagonal
    befores: list[np.ndarray] = []
    afters: list[np.ndarray] = []
    cell_codes: list[np.ndarray] = []
    gain_codes: list[np.ndarray] = []
    distinct: list[np.ndarray] = []
    listed: list[_Cell] = []
    for b, (comparison, subject) in enumerate(blocks):
        first, second = comparison.from_phase, comparison.to_phase
        paired = populations.paired_gains(measure.id, first, second, subject)
        befores.append(paired.before)
        afters.append(paired.after)
        cell_codes.append(cells.of[paired.people] + b * n_cells)
        gain_codes.append(paired.values.codes + sum(map(len, distinct)))
        distinct.append(paired.values.distinct)
        n_from, n_to = (
            _present_per_group(populations, measure.id, phase, subject) for phase in (first, second)
        )
        g = 0
        for breakdown in populations.breakdowns():
            for group in breakdown.groups:
                release = Release("paired", measure.id, first, second, subject, breakdown.id, group)
                counts = int(n_from[g]), int(n_to[g])
                listed.append(_Cell(breakdown, group, subject, release, *counts))
                g += 1
    codes_all = np.concatenate(cell_codes)
    before, after = np.concatenate(befores), np.concatenate(afters)
    unique_gains, position = np.unique(np.concatenate(distinct), return_inverse=True)
    gains = DenseValues(unique_gains, position.reshape(-1)[np.concatenate(gain_codes)])
    wanted = np.array([plan.reason(cell.release) is None for cell in listed], dtype=bool)
    results = stats.paired_by_cells(
        codes_all,
        len(blocks) * n_cells,
        groups,
        before,
        after,
        max_score=max_score,
        wanted=wanted,
        gain_values=gains,
    )
    passes: list[dict[str, object]] = [{}] * len(listed)
    if pass_mark is not None and measure.id == "knowledge":
        for b, (_, subject) in enumerate(blocks):
            if subject == TOTAL:
                window = slice(b * n_groups, (b + 1) * n_groups)
                passes[window] = _pass_views(
                    codes_all, groups[window], before, after, pass_mark, len(blocks) * n_cells
                )
    computed: _Computed = {}
    for b, (comparison, _) in enumerate(blocks):
        for i in range(b * n_groups, (b + 1) * n_groups):
            cell, result = listed[i], results[i]
            fields = {**_published_fields(result), **passes[i]}
            key = (comparison.id, cell.breakdown.id, cell.group, cell.subject)
            computed[key] = (cell, result, fields)
    return computed


def _present_per_group(
    populations: Populations, measure: str, phase: str, subject: str
) -> np.ndarray:
    """How many of each group have the score (once per phase, for every comparison)."""

    def compute() -> np.ndarray:
        cells = populations.cells()
        n_cells = cells.groups.shape[1]
        present = populations.present(measure, phase, subject)
        per_cell = np.bincount(cells.of, weights=present, minlength=n_cells)[:n_cells]
        return np.rint(cells.groups @ per_cell)

    return populations.memo(("present per group", measure, phase, subject), compute)


def _rows(
    measure: Measure,
    comparison: Comparison,
    design: Design,
    populations: Populations,
    plan: Plan,
    pass_mark: float | None,
    computed: _Computed,
) -> list[SummaryRow]:
    """The rows of one measure and comparison: the "all" row, then each breakdown's
    groups, each with every skill and the total, Holm-adjusted in their families."""
    ordered = [
        computed[(comparison.id, breakdown.id, group, subject)]
        for breakdown in populations.breakdowns()
        for group in breakdown.groups
        for subject in design.skills
    ]
    holm = _holm(ordered, plan)
    rows = []
    for (cell, result, fields), (p_holm, family) in zip(ordered, holm, strict=True):
        reason = plan.reason(cell.release)
        notes = list(result.notes)
        withheld: dict[str, Reason] = {}
        if reason is not None:
            fields = {}
            notes = [_withheld_note(reason, result.n_paired)]
            withheld = dict.fromkeys(_figures(measure, cell.subject, pass_mark), reason)
        rows.append(
            SummaryRow(
                measure=measure.id,
                comparison=comparison.id,
                from_phase=comparison.from_phase,
                to_phase=comparison.to_phase,
                breakdown=cell.breakdown.id,
                group=cell.group,
                skill=cell.subject,
                n_paired=result.n_paired,
                n_from=cell.n_from,
                n_to=cell.n_to,
                notes=notes,
                withheld=withheld,
                p_holm=None if reason is not None else p_holm,
                holm_family=family,
                **fields,  # type: ignore[arg-type]
            )
        )
    return rows


def _figures(measure: Measure, subject: str, pass_mark: float | None) -> tuple[str, ...]:
    figures = [*stats.PAIRED_FIGURES, "p_holm"]
    if not measure.normalized_gain:
        figures = [
            f
            for f in figures
            if f not in ("normalized_gain", "mean_normalized_gain", "n_at_maximum")
        ]
    if pass_mark is not None and measure.id == "knowledge" and subject == TOTAL:
        figures.extend(PASS_FIGURES)
    return tuple(figures)


def _published_fields(result: stats.Paired) -> dict[str, object]:
    return {name: getattr(result, name) for name in stats.PAIRED_FIGURES}


def _pass_views(
    cells: np.ndarray,
    groups: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    pass_mark: float,
    n_cells: int,
) -> list[dict[str, object]]:
    """The pass-mark figures of each group (a set of cells of people)."""
    # scores are rounded like gains so that 70.0000000001 and 69.9999999999 agree
    passed_before = np.round(before, stats.DECIMALS) >= pass_mark
    passed_after = np.round(after, stats.DECIMALS) >= pass_mark

    def count(mask: np.ndarray) -> np.ndarray:
        per_cell = np.bincount(cells, weights=mask, minlength=n_cells)[:n_cells]
        return np.rint(groups @ per_cell).astype(np.int64)

    people = count(np.ones(cells.size, dtype=bool))
    counted = {
        "pass_from": count(passed_before),
        "pass_to": count(passed_after),
        "pass_gained": count(~passed_before & passed_after),
        "pass_lost": count(passed_before & ~passed_after),
    }
    mcnemar = stats.mcnemar_exact_many(counted["pass_gained"], counted["pass_lost"])
    out = []
    for g, n in enumerate(people.tolist()):
        fields: dict[str, object] = {}
        if n:
            for prefix in ("pass_from", "pass_to"):
                passing = int(counted[prefix][g])
                fields[f"{prefix}_share"] = passing / n
                interval = stats.wilson_interval(passing, n)
                if interval is not None:
                    fields[f"{prefix}_ci_low"], fields[f"{prefix}_ci_high"] = interval
            fields["pass_gained"] = int(counted["pass_gained"][g])
            fields["pass_lost"] = int(counted["pass_lost"][g])
            fields["pass_mcnemar_p"] = None if np.isnan(mcnemar[g]) else float(mcnemar[g])
        out.append(fields)
    return out


def _withheld_note(reason: Reason, n: int) -> str:
    if reason == "small_group":
        return f"figures withheld: {n} people, fewer than min_cell_size"
    return (
        "figures withheld so that no smaller group's withheld figures can be worked out "
        "from the figures shown"
    )


def _holm(
    cells: Sequence[tuple[_Cell, stats.Paired, dict[str, object]]], plan: Plan
) -> list[tuple[float | None, str]]:
    """Holm within the families fixed by the design (see the module docstring):
    each cell's adjusted p-value and family."""
    families: dict[str, list[int]] = {}
    for index, (cell, _, _) in enumerate(cells):
        name = "confirmatory" if cell.breakdown.id == ALL else f"exploratory:{cell.breakdown.id}"
        families.setdefault(name, []).append(index)
    out: list[tuple[float | None, str]] = [(None, "")] * len(cells)
    for name, members in families.items():
        known = [
            None if plan.reason(cells[i][0].release) is not None else cells[i][1].t_pvalue
            for i in members
        ]
        adjusted = stats.holm_fixed_family(known, len(members))
        for i, p in zip(members, adjusted, strict=True):
            out[i] = (p, name)
    return out


# -- between groups ----------------------------------------------------------------------


def group_comparisons(
    design: Design, populations: Populations, rows: Sequence[SummaryRow]
) -> list[GroupComparison]:
    """Kruskal-Wallis and Welch's ANOVA of the gains over each breakdown's shown groups.

    Groups with withheld figures are left out, and so is `not_stated`, which is not
    a category of the item.
    """
    shown = {
        (r.measure, r.comparison, r.breakdown, r.group, r.skill)
        for r in rows
        if not r.withheld and r.n_paired > 0
    }
    out = []
    for measure in design.measures:
        for comparison in design.comparisons:
            for breakdown in design.breakdowns:
                codes = populations.codes(breakdown.id)
                size = len(breakdown.groups)
                for subject in design.skills:
                    paired = populations.paired_gains(
                        measure.id, comparison.from_phase, comparison.to_phase, subject
                    )
                    # how many of each group have each distinct gain
                    group_of = codes[paired.people]
                    known = group_of >= 0
                    width = paired.values.distinct.size
                    cell = group_of[known] * width + paired.values.codes[known]
                    counts = np.bincount(cell, minlength=size * width)[: size * width]
                    groups = [
                        (i, g)
                        for i, g in enumerate(breakdown.groups)
                        if g != NOT_STATED
                        and (measure.id, comparison.id, breakdown.id, g, subject) in shown
                    ]
                    result = stats.between_groups_counted(
                        counts.reshape(size, width)[[i for i, _ in groups]],
                        paired.values.distinct,
                    )
                    notes = list(result.notes)
                    left_out = [
                        g for g in breakdown.groups if g not in {name for _, name in groups}
                    ]
                    if left_out:
                        notes.insert(
                            0,
                            "groups left out (withheld, empty or not stated): "
                            + ", ".join(left_out),
                        )
                    out.append(
                        GroupComparison(
                            measure=measure.id,
                            comparison=comparison.id,
                            breakdown=breakdown.id,
                            skill=subject,
                            groups=[name for _, name in groups],
                            n_groups=result.n_groups,
                            kruskal_h=result.kruskal_h,
                            kruskal_pvalue=result.kruskal_pvalue,
                            welch_f=result.welch_f,
                            welch_df1=result.welch_df1,
                            welch_df2=result.welch_df2,
                            welch_pvalue=result.welch_pvalue,
                            notes=notes,
                        )
                    )
    return out
