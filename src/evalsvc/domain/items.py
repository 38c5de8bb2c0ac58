"""Knowledge items: item analysis (difficulty, discrimination, McNemar) and KR-20.

Figures over fewer than ``course.min_cell_size`` people are withheld; the rule is in
`evalsvc.domain.suppression`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.cohort import PHASES, ParticipantScores, correct_matrix
from evalsvc.domain.questionnaire import Course, Item
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.suppression import withheld_note


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


def correct_matrices(
    course: Course, participants: Sequence[ParticipantScores]
) -> dict[str, np.ndarray]:
    """Per phase, participants x knowledge items (1 right, 0 wrong, NaN no submission).

    Item analysis and reliability both need them; build once, pass to both.
    """
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    return {phase: correct_matrix(participants, phase, item_ids) for phase in PHASES}


# -- item analysis ---------------------------------------------------------------------


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
            notes.append(withheld_note(f"p_{phase}", "size", n, k))

    b = c = p = None
    if n_paired >= k:
        before, after = pre[paired], post[paired]
        b = int(np.count_nonzero((before == 0) & (after == 1)))
        c = int(np.count_nonzero((before == 1) & (after == 0)))
        p = stats.mcnemar_exact(b, c)
        if p is None:
            notes.append("no paired participant changed: McNemar's test is undefined")
    elif n_paired > 0:
        notes.append(withheld_note("McNemar counts", "size", n_paired, k))
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
        note = withheld_note("KR-20", "size", n, k)
        return ReliabilityRow(skill=skill, phase=phase, n=n, k=items, kr20=None, notes=[note])
    result = stats.kr20(complete)
    return ReliabilityRow(
        skill=skill, phase=phase, n=n, k=items, kr20=result.kr20, notes=list(result.notes)
    )
