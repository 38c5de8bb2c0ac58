"""Pre/post summary: knowledge and confidence per agency and skill, with Holm's adjustment.

`summarize` gives one `SummaryRow` per measure, agency (and "all") and skill (and
"total"), pre vs post, plus an `AgencyComparison` of the gains per measure and skill.
Small groups are withheld by the rule in `evalsvc.domain.suppression`, which also
explains the Holm family. Outputs are msgspec Structs of builtins, ready for JSON.

The other tables of a report live next door: `evalsvc.domain.items` (item analysis,
KR-20 reliability) and `evalsvc.domain.feedback` (post-course feedback); their input,
`ParticipantScores` (built by the storage layer), is in `evalsvc.domain.cohort`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.cohort import (
    ALL,
    MEASURES,
    Measure,
    ParticipantScores,
    agency_codes,
    score_matrix,
)
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.suppression import SuppressionReason, suppression_plan, withheld_note

KNOWLEDGE_MAX_SCORE = 100.0
"""Knowledge scores are percentages; Hake's normalized gain uses this ceiling."""


class SummaryRow(msgspec.Struct, kw_only=True, frozen=True):
    """One measure for one agency (or "all") and one skill (or "total").

    The statistics are those of `stats.Paired` (paired participants only) plus the
    unpaired view over every submission; see `evalsvc.domain.suppression` for suppression.
    """

    measure: Measure
    agency: str
    skill: str
    n_pre: int
    n_post: int
    n_paired: int
    suppressed: bool
    suppressed_reason: SuppressionReason | None
    pre_mean: float | None
    post_mean: float | None
    pre_sd: float | None
    post_sd: float | None
    mean_gain: float | None
    gain_sd: float | None
    gain_ci_low: float | None
    gain_ci_high: float | None
    t_statistic: float | None
    t_df: int | None
    t_pvalue: float | None
    p_holm: float | None
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float | None
    wilcoxon_method: stats.WilcoxonMethod | None
    rank_biserial: float | None
    cohens_dz: float | None
    dz_ci_low: float | None
    dz_ci_high: float | None
    hedges_gz: float | None
    hedges_gz_ci_low: float | None
    hedges_gz_ci_high: float | None
    normalized_gain: float | None
    n_improved: int | None
    n_unchanged: int | None
    n_declined: int | None
    pre_mean_all: float | None
    post_mean_all: float | None
    welch_t_pvalue: float | None
    notes: list[str]


class AgencyComparison(msgspec.Struct, kw_only=True, frozen=True):
    """Do the gains differ between agencies? Only agencies whose rows are shown."""

    measure: Measure
    skill: str
    agencies: list[str]
    n_groups: int
    kruskal_h: float | None
    kruskal_pvalue: float | None
    welch_f: float | None
    welch_df1: float | None
    welch_df2: float | None
    welch_pvalue: float | None
    notes: list[str]


class Summary(msgspec.Struct, kw_only=True, frozen=True):
    min_cell_size: int
    rows: list[SummaryRow]
    agency_comparison: list[AgencyComparison]
    notes: list[str]


# -- summarize -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One measure and skill: per-participant scores and which views are withheld."""

    pre: np.ndarray
    post: np.ndarray
    plans: dict[str, dict[str, SuppressionReason]]
    """view ("paired", "pre", "post") -> group (agency id or ALL) -> reason."""


def summarize(course: Course, participants: Sequence[ParticipantScores]) -> Summary:
    """Knowledge and confidence, per agency (and "all") and skill (and "total")."""
    k = course.min_cell_size
    agencies = course.agency_ids()
    columns = (*course.skill_ids(), TOTAL)
    codes = agency_codes(course, participants)
    groups = {agency: codes == i for i, agency in enumerate(agencies)}
    groups[ALL] = np.ones(len(participants), dtype=bool)

    rows: list[SummaryRow] = []
    comparisons: list[AgencyComparison] = []
    for measure in MEASURES:
        pre = score_matrix(participants, "pre", measure, columns)
        post = score_matrix(participants, "post", measure, columns)
        blocks = {
            skill: _block(pre[:, j], post[:, j], groups, agencies, k)
            for j, skill in enumerate(columns)
        }
        measure_rows = [
            _summary_row(measure, agency, skill, blocks[skill], groups[agency], k)
            for agency in (*agencies, ALL)
            for skill in columns
        ]
        rows.extend(_with_holm(measure_rows))
        comparisons.extend(
            _agency_comparison(measure, skill, blocks[skill], groups, agencies) for skill in columns
        )

    notes = []
    unknown = int(np.count_nonzero(codes < 0))
    if unknown:
        notes.append(
            f"{unknown} participant(s) with an agency not in the course are counted in 'all' only"
        )
    return Summary(min_cell_size=k, rows=rows, agency_comparison=comparisons, notes=notes)


def _block(
    pre: np.ndarray,
    post: np.ndarray,
    groups: Mapping[str, np.ndarray],
    agencies: Sequence[str],
    k: int,
) -> _Block:
    has_pre, has_post = ~np.isnan(pre), ~np.isnan(post)
    present = {
        "paired": has_pre & has_post,
        "pre": has_pre,
        "post": has_post,
        # mean over everyone minus mean over the paired = mean of the one-phase-only
        # people, so those groups are judged like any other
        "pre_only": has_pre & ~has_post,
        "post_only": has_post & ~has_pre,
    }
    plans = {}
    for view, mask in present.items():
        counts = {agency: int(np.count_nonzero(mask & groups[agency])) for agency in agencies}
        total = int(np.count_nonzero(mask))
        if view.endswith("_only"):
            # an agency with nobody in this view has nothing to hide and protects nobody
            counts = {agency: n for agency, n in counts.items() if n > 0}
            plans[view] = suppression_plan(counts, total, k) if total else {}
        else:
            plans[view] = suppression_plan(counts, total, k)
    return _Block(pre=pre, post=post, plans=plans)


def _summary_row(
    measure: Measure, agency: str, skill: str, block: _Block, members: np.ndarray, k: int
) -> SummaryRow:
    pre, post = block.pre[members], block.post[members]
    has_pre, has_post = ~np.isnan(pre), ~np.isnan(post)
    paired = has_pre & has_post
    n_pre, n_post, n_paired = (int(np.count_nonzero(m)) for m in (has_pre, has_post, paired))
    notes: list[str] = []

    paired_reason = block.plans["paired"].get(agency)
    if paired_reason is None:
        max_score = KNOWLEDGE_MAX_SCORE if measure == "knowledge" else None
        result = stats.paired_comparison(pre[paired], post[paired], max_score=max_score)
        paired_fields = _paired_fields(result)
        notes.extend(result.notes)
    else:
        paired_fields = dict.fromkeys(_PAIRED_STATISTICS)
        notes.append(withheld_note("paired statistics", paired_reason, n_paired, k))

    unpaired_fields, unpaired_notes = _unpaired_fields(
        pre[has_pre],
        post[has_post],
        _unpaired_withheld(block, agency, "pre", n_pre, n_pre - n_paired, k),
        _unpaired_withheld(block, agency, "post", n_post, n_post - n_paired, k),
    )
    notes.extend(unpaired_notes)
    return SummaryRow(
        measure=measure,
        agency=agency,
        skill=skill,
        n_pre=n_pre,
        n_post=n_post,
        n_paired=n_paired,
        suppressed=paired_reason is not None,
        suppressed_reason=paired_reason,
        p_holm=None,
        notes=notes,
        **paired_fields,
        **unpaired_fields,
    )


_PAIRED_STATISTICS = tuple(
    name for name in stats.Paired.__struct_fields__ if name not in ("n_paired", "notes")
)
"""The `stats.Paired` fields a summary row carries over (n_paired is counted here)."""


def _paired_fields(result: stats.Paired) -> dict[str, object]:
    return {name: getattr(result, name) for name in _PAIRED_STATISTICS}


def _unpaired_withheld(
    block: _Block, agency: str, phase: str, n_all: int, n_only: int, k: int
) -> str | None:
    """Why the unpaired mean of `phase` is withheld (a note), or None when it is shown."""
    what = f"{phase}_mean_all"
    reason = block.plans[phase].get(agency)
    if reason is not None:
        return withheld_note(what, reason, n_all, k)
    reason = block.plans[f"{phase}_only"].get(agency)
    if reason == "size":
        return (
            f"{what} withheld: {n_only} answered only the {phase} questionnaire, fewer than "
            f"min_cell_size {k} (their mean would follow from {what} and {phase}_mean)"
        )
    if reason is not None:
        return withheld_note(what, reason, n_only, k)
    return None


def _unpaired_fields(
    pre_all: np.ndarray,
    post_all: np.ndarray,
    pre_withheld: str | None,
    post_withheld: str | None,
) -> tuple[dict[str, float | None], list[str]]:
    """Means over every submission and Welch's p, each shown only when its view is."""
    notes: list[str] = []
    result = stats.welch_unpaired(pre_all, post_all)
    fields: dict[str, float | None] = {
        "pre_mean_all": result.pre_mean_all,
        "post_mean_all": result.post_mean_all,
        "welch_t_pvalue": result.welch_t_pvalue,
    }
    if pre_withheld is not None:
        fields["pre_mean_all"] = None
        notes.append(pre_withheld)
    if post_withheld is not None:
        fields["post_mean_all"] = None
        notes.append(post_withheld)
    if pre_withheld is None and post_withheld is None:
        notes.extend(result.notes)
    else:
        fields["welch_t_pvalue"] = None
    return fields, notes


def _with_holm(rows: list[SummaryRow]) -> list[SummaryRow]:
    """Fill p_holm: Holm over every shown t-test p-value of these rows (one family)."""
    adjusted = stats.holm([row.t_pvalue for row in rows])
    return [msgspec.structs.replace(row, p_holm=p) for row, p in zip(rows, adjusted, strict=True)]


def _agency_comparison(
    measure: Measure,
    skill: str,
    block: _Block,
    groups: Mapping[str, np.ndarray],
    agencies: Sequence[str],
) -> AgencyComparison:
    shown = [agency for agency in agencies if agency not in block.plans["paired"]]
    gains = []
    for agency in shown:
        pre, post = block.pre[groups[agency]], block.post[groups[agency]]
        paired = ~np.isnan(pre) & ~np.isnan(post)
        gains.append(post[paired] - pre[paired])
    result = stats.between_groups(gains)
    notes = list(result.notes)
    left_out = [agency for agency in agencies if agency not in shown]
    if left_out:
        notes.insert(0, f"agencies with withheld figures left out: {', '.join(left_out)}")
    return AgencyComparison(
        measure=measure,
        skill=skill,
        agencies=shown,
        n_groups=result.n_groups,
        kruskal_h=result.kruskal_h,
        kruskal_pvalue=result.kruskal_pvalue,
        welch_f=result.welch_f,
        welch_df1=result.welch_df1,
        welch_df2=result.welch_df2,
        welch_pvalue=result.welch_pvalue,
        notes=notes,
    )
