"""Scores of a course -> the evaluators' tables, with small groups suppressed.

Tables: `summarize` (knowledge and confidence, per agency and skill, pre vs post),
`item_analysis` (per knowledge item), `reliability` (KR-20 per skill and phase) and
`feedback_summary` (post-course feedback). Inputs are `ParticipantScores`, which the
storage layer builds; outputs are msgspec Structs of builtins, ready for JSON.

Suppression rule, with k = ``course.min_cell_size``:

1. **Size.** Every figure computed over fewer than k people is withheld (None). The
   counts of people (n_pre, n_post, n_paired, n) are always shown. A summary row has
   three views, each judged on its own count: the paired statistics (n_paired; when
   withheld the row says ``suppressed=True``), the unpaired pre mean (n_pre) and the
   unpaired post mean (n_post); Welch's unpaired p-value needs both unpaired views.
   The unpaired mean minus the paired mean would give the mean of the people who
   answered one phase only, so those groups (pre only, post only) count too: while
   they hold 1..k-1 people, the unpaired mean of that phase is withheld.
   Item shares, discrimination, McNemar counts, KR-20 and feedback distributions
   follow the same rule on the number of people they are computed over.
2. **Complementary.** The "all" row minus the shown agencies gives the pooled figures
   of the withheld agencies. So, within one block (one measure, skill and view; or one
   feedback item), the withheld groups together must hold either nobody or at least k
   people: while they hold 1..k-1, the shown agency with the smallest count is withheld
   too (reason "complementary"; ties go to the agency listed first). This includes the
   classic case "exactly one agency is withheld for size, so withhold the next
   smallest". Empty agencies hide nobody and do not count. Participants whose agency
   is not one of the course's agencies are counted in "all" only, and count as one
   group that is never shown. When "all" itself is withheld, nothing can be subtracted.
3. Holm's adjustment (``p_holm``) runs over the t-test p-values that are shown, one
   family per measure per summary.

Not covered: differencing across skills of one agency (e.g. total vs. the other
skills when some participants skipped a skill's confidence items) or across reports
taken at different times. Keep k at 3 or more and do not publish reports repeatedly
while few submissions come in.

Free-text feedback is listed per item, sorted, with neither agency nor participant,
and only when the course has at least k post submissions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.questionnaire import TEXT_KINDS, Course, Item, Scale
from evalsvc.domain.scoring import TOTAL

ALL = "all"
"""Agency key of the row that pools every participant."""
MEASURES = ("knowledge", "confidence")
PHASES = ("pre", "post")
KNOWLEDGE_MAX_SCORE = 100.0
"""Knowledge scores are percentages; Hake's normalized gain uses this ceiling."""

Measure = Literal["knowledge", "confidence"]
SuppressionReason = Literal["size", "complementary"]


# -- inputs --------------------------------------------------------------------------


class PhaseScores(msgspec.Struct, frozen=True):
    knowledge: dict[str, float]
    """skill id -> 0..100 percent, plus key "total"."""
    confidence: dict[str, float]
    """skill id -> likert mean, plus "total"; a skill with no answered item is absent."""
    correct: dict[str, bool]
    """knowledge item id -> answered correctly."""


class ParticipantScores(msgspec.Struct, frozen=True):
    participant: int
    """Pseudonymous number within the course."""
    agency: str
    pre: PhaseScores | None
    post: PhaseScores | None


# -- outputs -------------------------------------------------------------------------


class SummaryRow(msgspec.Struct, kw_only=True, frozen=True):
    """One measure for one agency (or "all") and one skill (or "total").

    The statistics are those of `stats.Paired` (paired participants only) plus the
    unpaired view over every submission; see the module docstring for suppression.
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


class ItemRow(msgspec.Struct, kw_only=True, frozen=True):
    """One knowledge item: difficulty (share correct), discrimination and change."""

    item: str
    skill: str | None
    n_pre: int
    n_post: int
    n_paired: int
    p_pre: float | None
    p_post: float | None
    discrimination_pre: float | None
    discrimination_post: float | None
    mcnemar_b: int | None
    """Paired participants wrong before and right after."""
    mcnemar_c: int | None
    """Paired participants right before and wrong after."""
    mcnemar_p: float | None
    notes: list[str]


class ReliabilityRow(msgspec.Struct, kw_only=True, frozen=True):
    skill: str
    phase: str
    n: int
    k: int
    kr20: float | None
    notes: list[str]


class FeedbackLikertRow(msgspec.Struct, kw_only=True, frozen=True):
    item: str
    agency: str
    n: int
    suppressed: bool
    suppressed_reason: SuppressionReason | None
    distribution: dict[int, int] | None
    """Scale point -> number of answers, every point of the scale listed."""
    mean: float | None
    top_two_box: float | None
    """Share of answers on the two highest scale points."""


class FeedbackTexts(msgspec.Struct, kw_only=True, frozen=True):
    item: str
    kind: str
    answers: list[str]
    notes: list[str]


class FeedbackSummary(msgspec.Struct, kw_only=True, frozen=True):
    min_cell_size: int
    likert: list[FeedbackLikertRow]
    texts: list[FeedbackTexts]


# -- suppression -----------------------------------------------------------------------


def suppression_plan(
    group_counts: Mapping[str, int], total: int, min_cell_size: int
) -> dict[str, SuppressionReason]:
    """Which groups (and whether ALL) to withhold, and why; see the module docstring.

    `group_counts` are the shown groups in display order; `total` is the count of the
    "all" group, which may include people outside every listed group.
    """
    plan: dict[str, SuppressionReason] = {
        group: "size" for group, n in group_counts.items() if n < min_cell_size
    }
    if total < min_cell_size:
        plan[ALL] = "size"
        return plan
    hidden_people = total - sum(n for g, n in group_counts.items() if g not in plan)
    shown = [g for g in group_counts if g not in plan]
    while 0 < hidden_people < min_cell_size and shown:
        smallest = min(shown, key=lambda g: group_counts[g])  # first listed wins ties
        plan[smallest] = "complementary"
        shown.remove(smallest)
        hidden_people += group_counts[smallest]
    return plan


def _withheld_note(what: str, reason: SuppressionReason, n: int, k: int) -> str:
    if reason == "size" and n == 0:
        return f"{what}: nobody to report on"
    if reason == "size":
        return f"{what} withheld: {n} people, fewer than min_cell_size {k}"
    return (
        f"{what} withheld so that a smaller group's withheld figures cannot be worked "
        "out from 'all' minus the other agencies"
    )


# -- score matrices --------------------------------------------------------------------


def _score_matrix(
    participants: Sequence[ParticipantScores], phase: str, measure: str, columns: Sequence[str]
) -> np.ndarray:
    """Participants x columns of one phase's scores; NaN where there is none."""
    phases = (getattr(p, phase) for p in participants)
    return _matrix((getattr(s, measure) if s is not None else None for s in phases), columns)


def _correct_matrix(
    participants: Sequence[ParticipantScores], phase: str, item_ids: Sequence[str]
) -> np.ndarray:
    """Participants x knowledge items: 1.0 right, 0.0 wrong, NaN not available."""
    phases = (getattr(p, phase) for p in participants)
    return _matrix((s.correct if s is not None else None for s in phases), item_ids)


def _matrix(
    records: Iterable[Mapping[str, float] | Mapping[str, bool] | None], keys: Sequence[str]
) -> np.ndarray:
    """One row per record, its values in `keys` order; NaN where a key is missing.

    This is the one loop over participants; the per-cell code works on its columns.
    Scoring writes its dicts in course order, so usually the values can be taken as
    they are (much faster for 10,000 participants than looking up every key).
    """
    keys = tuple(keys)
    missing = [math.nan] * len(keys)
    rows = []
    for record in records:
        if record is None:
            rows.append(missing)
        elif tuple(record) == keys:
            rows.append(list(record.values()))
        else:
            rows.append([record.get(key, math.nan) for key in keys])
    matrix = np.array(rows, dtype=float).reshape(len(rows), len(keys))
    matrix[~np.isfinite(matrix)] = np.nan
    return matrix


def _agency_codes(course: Course, participants: Sequence[ParticipantScores]) -> np.ndarray:
    """Index of each participant's agency in course.agency_ids(), -1 when unknown."""
    index = {agency: i for i, agency in enumerate(course.agency_ids())}
    return np.array([index.get(p.agency, -1) for p in participants], dtype=int)


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
    codes = _agency_codes(course, participants)
    groups = {agency: codes == i for i, agency in enumerate(agencies)}
    groups[ALL] = np.ones(len(participants), dtype=bool)

    rows: list[SummaryRow] = []
    comparisons: list[AgencyComparison] = []
    for measure in MEASURES:
        pre = _score_matrix(participants, "pre", measure, columns)
        post = _score_matrix(participants, "post", measure, columns)
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
        notes.append(_withheld_note("paired statistics", paired_reason, n_paired, k))

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
        return _withheld_note(what, reason, n_all, k)
    reason = block.plans[f"{phase}_only"].get(agency)
    if reason == "size":
        return (
            f"{what} withheld: {n_only} answered only the {phase} questionnaire, fewer than "
            f"min_cell_size {k} (their mean would follow from {what} and {phase}_mean)"
        )
    if reason is not None:
        return _withheld_note(what, reason, n_only, k)
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


# -- item analysis ---------------------------------------------------------------------


def correct_matrices(
    course: Course, participants: Sequence[ParticipantScores]
) -> dict[str, np.ndarray]:
    """Per phase, participants x knowledge items (1 right, 0 wrong, NaN no submission).

    Item analysis and reliability both need them; build once, pass to both.
    """
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    return {phase: _correct_matrix(participants, phase, item_ids) for phase in PHASES}


def item_analysis(
    course: Course,
    participants: Sequence[ParticipantScores],
    correct: Mapping[str, np.ndarray] | None = None,
) -> list[ItemRow]:
    """Per knowledge item: share correct, item-rest discrimination, McNemar pre->post."""
    k = course.min_cell_size
    items = course.items_by_role("knowledge")
    correct = correct if correct is not None else correct_matrices(course, participants)
    pre, post = correct["pre"], correct["post"]
    discrimination = {"pre": _discriminations(pre, k), "post": _discriminations(post, k)}
    return [
        _item_row(item, pre[:, j], post[:, j], discrimination, j, k) for j, item in enumerate(items)
    ]


def _discriminations(matrix: np.ndarray, k: int) -> list[float | None]:
    """Item-rest correlation of every item over the participants who have them all."""
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    if complete.shape[0] < k:
        return [None] * matrix.shape[1]
    return stats.item_rest_correlations(complete)


def _item_row(
    item: Item,
    pre: np.ndarray,
    post: np.ndarray,
    discrimination: Mapping[str, list[float | None]],
    j: int,
    k: int,
) -> ItemRow:
    notes: list[str] = []
    has_pre, has_post = ~np.isnan(pre), ~np.isnan(post)
    paired = has_pre & has_post
    n_pre, n_post, n_paired = (int(np.count_nonzero(m)) for m in (has_pre, has_post, paired))

    shares: dict[str, float | None] = {}
    for phase, values, n in (("pre", pre[has_pre], n_pre), ("post", post[has_post], n_post)):
        shares[phase] = float(values.mean()) if n >= k else None
        if 0 < n < k:
            notes.append(_withheld_note(f"p_{phase}", "size", n, k))

    b = c = p = None
    if n_paired >= k:
        before, after = pre[paired], post[paired]
        b = int(np.count_nonzero((before == 0) & (after == 1)))
        c = int(np.count_nonzero((before == 1) & (after == 0)))
        p = stats.mcnemar_exact(b, c)
        if p is None:
            notes.append("no paired participant changed: McNemar's test is undefined")
    elif n_paired > 0:
        notes.append(_withheld_note("McNemar counts", "size", n_paired, k))
    return ItemRow(
        item=item.id,
        skill=item.skill,
        n_pre=n_pre,
        n_post=n_post,
        n_paired=n_paired,
        p_pre=shares["pre"],
        p_post=shares["post"],
        discrimination_pre=discrimination["pre"][j],
        discrimination_post=discrimination["post"][j],
        mcnemar_b=b,
        mcnemar_c=c,
        mcnemar_p=p,
        notes=notes,
    )


# -- reliability -----------------------------------------------------------------------


def reliability(
    course: Course,
    participants: Sequence[ParticipantScores],
    correct: Mapping[str, np.ndarray] | None = None,
) -> list[ReliabilityRow]:
    """KR-20 of the knowledge items of each skill and of all of them, per phase.

    Over the participants who have every item of the skill in that phase.
    """
    k = course.min_cell_size
    items = course.items_by_role("knowledge")
    matrices = correct if correct is not None else correct_matrices(course, participants)
    rows = []
    for skill in (*course.skill_ids(), TOTAL):
        columns = [j for j, item in enumerate(items) if skill in (item.skill, TOTAL)]
        for phase in PHASES:
            selected = matrices[phase][:, columns]
            complete = selected[~np.isnan(selected).any(axis=1)]
            rows.append(_reliability_row(skill, phase, complete, k))
    return rows


def _reliability_row(skill: str, phase: str, complete: np.ndarray, k: int) -> ReliabilityRow:
    n, items = int(complete.shape[0]), int(complete.shape[1])
    if n < k:
        note = _withheld_note("KR-20", "size", n, k)
        return ReliabilityRow(skill=skill, phase=phase, n=n, k=items, kr20=None, notes=[note])
    result = stats.kr20(complete)
    return ReliabilityRow(
        skill=skill, phase=phase, n=n, k=items, kr20=result.kr20, notes=list(result.notes)
    )


# -- feedback --------------------------------------------------------------------------


def feedback_summary(
    course: Course,
    responses: Sequence[tuple[str, Mapping[str, object]]],
    min_cell_size: int,
) -> FeedbackSummary:
    """Feedback of the post submissions; each response is (agency, answers)."""
    likert_rows: list[FeedbackLikertRow] = []
    texts: list[FeedbackTexts] = []
    for item in course.items_by_role("feedback"):
        scale = course.scale(item.scale)
        if item.kind == "likert" and scale is not None:
            likert_rows.extend(_likert_rows(course, item, scale, responses, min_cell_size))
        elif item.kind in TEXT_KINDS:
            texts.append(_text_answers(item, responses, min_cell_size))
    return FeedbackSummary(min_cell_size=min_cell_size, likert=likert_rows, texts=texts)


def _likert_rows(
    course: Course,
    item: Item,
    scale: Scale,
    responses: Sequence[tuple[str, Mapping[str, object]]],
    k: int,
) -> list[FeedbackLikertRow]:
    agencies = course.agency_ids()
    values: dict[str, list[int]] = {agency: [] for agency in (*agencies, ALL)}
    for agency, answers in responses:
        point = _likert_point(answers.get(item.id), scale)
        if point is None:
            continue
        values[ALL].append(point)
        if agency in values and agency != ALL:
            values[agency].append(point)
    counts = {agency: len(values[agency]) for agency in agencies}
    plan = suppression_plan(counts, len(values[ALL]), k)
    return [
        _likert_row(item.id, agency, values[agency], scale, plan.get(agency))
        for agency in (*agencies, ALL)
    ]


def _likert_row(
    item_id: str,
    agency: str,
    points: list[int],
    scale: Scale,
    reason: SuppressionReason | None,
) -> FeedbackLikertRow:
    n = len(points)
    if reason is not None or n == 0:
        return FeedbackLikertRow(
            item=item_id,
            agency=agency,
            n=n,
            suppressed=reason is not None,
            suppressed_reason=reason,
            distribution=None,
            mean=None,
            top_two_box=None,
        )
    counts = np.bincount(np.array(points) - scale.min, minlength=len(scale.points))
    top_two = int(np.count_nonzero(np.array(points) >= scale.max - 1))
    return FeedbackLikertRow(
        item=item_id,
        agency=agency,
        n=n,
        suppressed=False,
        suppressed_reason=None,
        distribution={point: int(count) for point, count in zip(scale.points, counts, strict=True)},
        mean=float(np.mean(points)),
        top_two_box=top_two / n,
    )


def _likert_point(answer: object, scale: Scale) -> int | None:
    """A whole number on the scale (int, or int-valued float), else None."""
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return None
    if isinstance(answer, float) and not (math.isfinite(answer) and answer.is_integer()):
        return None
    point = int(answer)
    return point if scale.min <= point <= scale.max else None


def _text_answers(
    item: Item, responses: Sequence[tuple[str, Mapping[str, object]]], k: int
) -> FeedbackTexts:
    if len(responses) < k:
        note = f"answers withheld: {len(responses)} post submissions, fewer than {k}"
        return FeedbackTexts(item=item.id, kind=item.kind, answers=[], notes=[note])
    answers = _non_empty_texts(answers.get(item.id) for _, answers in responses)
    # Sorted, not in submission order, so that no answer can be linked to a submission.
    return FeedbackTexts(
        item=item.id, kind=item.kind, answers=sorted(answers, key=str.casefold), notes=[]
    )


def _non_empty_texts(values: Iterable[object]) -> list[str]:
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]
