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
from typing import Annotated

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
        for comparison in design.comparisons:
            block: list[SummaryRow] = []
            for breakdown in populations.breakdowns():
                for group in breakdown.groups:
                    for subject in design.skills:
                        block.append(_placeholder(measure, comparison, breakdown, group, subject))
            rows.extend(_fill(measure, comparison, design, populations, plan, pass_mark, block))
    return rows


def _placeholder(
    measure: Measure, comparison: Comparison, breakdown: Breakdown, group: str, subject: str
) -> SummaryRow:
    return SummaryRow(
        measure=measure.id,
        comparison=comparison.id,
        from_phase=comparison.from_phase,
        to_phase=comparison.to_phase,
        breakdown=breakdown.id,
        group=group,
        skill=subject,
        n_from=0,
        n_to=0,
    )


def release_of(row: SummaryRow) -> Release:
    return Release(
        "paired", row.measure, row.from_phase, row.to_phase, row.skill, row.breakdown, row.group
    )


def _fill(
    measure: Measure,
    comparison: Comparison,
    design: Design,
    populations: Populations,
    plan: Plan,
    pass_mark: float | None,
    placeholders: list[SummaryRow],
) -> list[SummaryRow]:
    """The statistics of one measure and comparison, every group and skill."""
    first, second = comparison.from_phase, comparison.to_phase
    max_score = measure.maximum if measure.normalized_gain else None
    # Every cell of this measure and comparison in one call: the cells' people are
    # laid end to end, each with the index of its cell.
    cells: list[tuple[str, str, str]] = []
    releases: list[Release] = []
    cell_codes: list[np.ndarray] = []
    befores: list[np.ndarray] = []
    afters: list[np.ndarray] = []
    n_from: list[int] = []
    n_to: list[int] = []
    for subject in design.skills:
        before = populations.scores(measure.id, first, subject)
        after = populations.scores(measure.id, second, subject)
        has_before, has_after = ~np.isnan(before), ~np.isnan(after)
        paired = has_before & has_after
        for breakdown in populations.breakdowns():
            codes = populations.codes(breakdown.id)
            known = codes >= 0
            size = len(breakdown.groups)
            in_pairs = paired & known
            cell_codes.append(codes[in_pairs] + len(cells))
            befores.append(before[in_pairs])
            afters.append(after[in_pairs])
            n_from.extend(np.bincount(codes[has_before & known], minlength=size)[:size])
            n_to.extend(np.bincount(codes[has_after & known], minlength=size)[:size])
            for group in breakdown.groups:
                cells.append((breakdown.id, group, subject))
                releases.append(
                    Release("paired", measure.id, first, second, subject, breakdown.id, group)
                )
    codes_all = np.concatenate(cell_codes) if cell_codes else np.zeros(0, dtype=np.int64)
    before_all = np.concatenate(befores) if befores else np.zeros(0)
    after_all = np.concatenate(afters) if afters else np.zeros(0)
    reasons = [plan.reason(release) for release in releases]
    computed = stats.paired_by_group(
        codes_all,
        len(cells),
        before_all,
        after_all,
        max_score=max_score,
        wanted=np.array([reason is None for reason in reasons], dtype=bool),
    )
    results: dict[tuple[str, str, str], SummaryRow] = {}
    for index, (breakdown_id, group, subject) in enumerate(cells):
        fields = _published_fields(computed[index])
        if pass_mark is not None and measure.id == "knowledge" and subject == TOTAL:
            members = codes_all == index
            fields.update(_pass_view(before_all[members], after_all[members], pass_mark))
        reason = reasons[index]
        notes = list(computed[index].notes)
        withheld: dict[str, Reason] = {}
        if reason is not None:
            fields = {}
            notes = [_withheld_note(reason, computed[index].n_paired)]
            withheld = dict.fromkeys(_figures(measure, subject, pass_mark), reason)
        results[(breakdown_id, group, subject)] = msgspec.structs.replace(
            placeholders[0],
            breakdown=breakdown_id,
            group=group,
            skill=subject,
            n_paired=computed[index].n_paired,
            n_from=int(n_from[index]),
            n_to=int(n_to[index]),
            notes=notes,
            withheld=withheld,
            **fields,
        )
    ordered = [results[(row.breakdown, row.group, row.skill)] for row in placeholders]
    return _with_holm(ordered, design)


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


def _pass_view(before: np.ndarray, after: np.ndarray, pass_mark: float) -> dict[str, object]:
    n = before.size
    if n == 0:
        return {}
    # scores are rounded like gains so that 70.0000000001 and 69.9999999999 agree
    passed_before = np.round(before, stats.DECIMALS) >= pass_mark
    passed_after = np.round(after, stats.DECIMALS) >= pass_mark
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
    return fields


def _withheld_note(reason: Reason, n: int) -> str:
    if reason == "small_group":
        return f"figures withheld: {n} people, fewer than min_cell_size"
    return (
        "figures withheld so that no smaller group's withheld figures can be worked out "
        "from the figures shown"
    )


def _with_holm(rows: list[SummaryRow], design: Design) -> list[SummaryRow]:
    """Holm within the families fixed by the design (see the module docstring)."""
    families: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        name = "confirmatory" if row.breakdown == ALL else f"exploratory:{row.breakdown}"
        families.setdefault(name, []).append(index)
    out = list(rows)
    for name, members in families.items():
        adjusted = stats.holm_fixed_family(
            [rows[i].t_pvalue if not rows[i].withheld else None for i in members], len(members)
        )
        for i, p in zip(members, adjusted, strict=True):
            out[i] = msgspec.structs.replace(
                rows[i], p_holm=None if rows[i].withheld else p, holm_family=name
            )
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
                for subject in design.skills:
                    before = populations.scores(measure.id, comparison.from_phase, subject)
                    after = populations.scores(measure.id, comparison.to_phase, subject)
                    paired = ~np.isnan(before) & ~np.isnan(after)
                    groups = [
                        (i, g)
                        for i, g in enumerate(breakdown.groups)
                        if g != NOT_STATED
                        and (measure.id, comparison.id, breakdown.id, g, subject) in shown
                    ]
                    gains = [
                        after[paired & (codes == i)] - before[paired & (codes == i)]
                        for i, _ in groups
                    ]
                    result = stats.between_groups(gains)
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
