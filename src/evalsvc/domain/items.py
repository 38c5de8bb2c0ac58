"""Knowledge items: item analysis (difficulty, discrimination, McNemar) and KR-20.

Both are computed per comparison over its paired people -- the people of the
knowledge "all" row of that comparison -- and published only with that row, so they
add no group of people that the disclosure plan has not judged. Discrimination and
KR-20 need ``course.min_n_reliability`` people (default 10): below that they are null
with a note, since both swing wildly on a handful of people (three people can give a
KR-20 of -7.9). A KR-20 below 0 that remains is flagged as such.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.columns import EFFECT, KEY, PEOPLE, SHARE, TEXT, P, column
from evalsvc.domain.design import ALL, Comparison, Design
from evalsvc.domain.disclosure.plan import Plan, Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL


class ItemRow(msgspec.Struct, kw_only=True, frozen=True):
    """One knowledge item in one comparison: difficulty, discrimination and change."""

    comparison: Annotated[str, column("the comparison: <from phase>_<to phase>", KEY)]
    from_phase: Annotated[str, column("the earlier phase", KEY)]
    to_phase: Annotated[str, column("the later phase", KEY)]
    item: Annotated[str, column("knowledge item id", KEY)]
    skill: Annotated[str | None, column("the item's skill", KEY)]
    n_paired: Annotated[int, column("people who answered both phases", PEOPLE)]
    p_from: Annotated[
        float | None, column("item difficulty: share fully correct in the from phase", SHARE)
    ] = None
    p_to: Annotated[
        float | None, column("item difficulty: share fully correct in the to phase", SHARE)
    ] = None
    discrimination_from: Annotated[
        float | None,
        column("item-rest point-biserial correlation in the from phase", EFFECT),
    ] = None
    discrimination_to: Annotated[
        float | None, column("item-rest point-biserial correlation in the to phase", EFFECT)
    ] = None
    mcnemar_b: Annotated[int | None, column("people wrong before and right after", PEOPLE)] = None
    mcnemar_c: Annotated[int | None, column("people right before and wrong after", PEOPLE)] = None
    mcnemar_p: Annotated[float | None, column("exact McNemar p-value of the change", P)] = None
    withheld: Annotated[dict[str, Reason], column("withheld figures and why", TEXT)] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


class ReliabilityRow(msgspec.Struct, kw_only=True, frozen=True):
    comparison: Annotated[str, column("the comparison whose paired people are used", KEY)]
    phase: Annotated[str, column("the phase whose answers are analysed", KEY)]
    skill: Annotated[str, column("the skill, or total for all knowledge items", KEY)]
    n: Annotated[int, column("people", PEOPLE)]
    k: Annotated[int, column("knowledge items", "count")]
    kr20: Annotated[
        float | None, column("Kuder-Richardson 20 (Cronbach's alpha on 0/1 items)", EFFECT)
    ] = None
    kr20_flag: Annotated[
        Literal["negative"] | None,
        column("negative: KR-20 below 0, the items do not measure one thing here", TEXT),
    ] = None
    withheld: Annotated[dict[str, Reason], column("withheld figures and why", TEXT)] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


_ITEM_FIGURES = (
    "p_from",
    "p_to",
    "discrimination_from",
    "discrimination_to",
    "mcnemar_b",
    "mcnemar_c",
    "mcnemar_p",
)


def _paired_people(populations: Populations, comparison: Comparison) -> np.ndarray:
    return populations.paired("knowledge", comparison.from_phase, comparison.to_phase, TOTAL)


def _reason(plan: Plan, comparison: Comparison) -> Reason | None:
    """Item analysis follows the knowledge "all" total row of its comparison."""
    release = Release(
        "paired", "knowledge", comparison.from_phase, comparison.to_phase, TOTAL, ALL, ALL
    )
    return plan.reason(release)


def item_rows(
    course: Course, design: Design, populations: Populations, plan: Plan
) -> list[ItemRow]:
    if not any(m.id == "knowledge" for m in design.measures):
        return []
    items = course.items_by_role("knowledge")
    rows = []
    for comparison in design.comparisons:
        people = _paired_people(populations, comparison)
        before = populations.cohort.correct[comparison.from_phase][people]
        after = populations.cohort.correct[comparison.to_phase][people]
        n = int(np.count_nonzero(people))
        reason = _reason(plan, comparison)
        enough = n >= course.min_n_reliability
        nothing: list[float | None] = [None] * len(items)
        discrimination = {
            "from": _discriminations(before) if enough and reason is None else nothing,
            "to": _discriminations(after) if enough and reason is None else nothing,
        }
        # every item's discordant pairs and McNemar test at once
        gained = np.count_nonzero((before == 0) & (after == 1), axis=0)
        lost = np.count_nonzero((before == 1) & (after == 0), axis=0)
        mcnemar = stats.mcnemar_exact_many(gained, lost)
        shares = (before.mean(axis=0), after.mean(axis=0)) if n else None
        for j, item in enumerate(items):
            row = ItemRow(
                comparison=comparison.id,
                from_phase=comparison.from_phase,
                to_phase=comparison.to_phase,
                item=item.id,
                skill=item.skill,
                n_paired=n,
            )
            if reason is not None:
                rows.append(
                    msgspec.structs.replace(
                        row,
                        withheld=dict.fromkeys(_ITEM_FIGURES, reason),
                        notes=[f"withheld with the knowledge all row ({reason})"],
                    )
                )
                continue
            if shares is None:
                rows.append(msgspec.structs.replace(row, notes=["no paired participants"]))
                continue
            notes: list[str] = []
            p = None if np.isnan(mcnemar[j]) else float(mcnemar[j])
            if p is None:
                notes.append("nobody changed: McNemar's test is undefined")
            if n < course.min_n_reliability:
                notes.append(
                    f"discrimination needs min_n_reliability {course.min_n_reliability} "
                    f"people; there are {n}"
                )
            rows.append(
                msgspec.structs.replace(
                    row,
                    p_from=float(shares[0][j]),
                    p_to=float(shares[1][j]),
                    discrimination_from=discrimination["from"][j],
                    discrimination_to=discrimination["to"][j],
                    mcnemar_b=int(gained[j]),
                    mcnemar_c=int(lost[j]),
                    mcnemar_p=p,
                    notes=notes,
                )
            )
    return rows


def _discriminations(matrix: np.ndarray) -> list[float | None]:
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    if complete.shape[0] < 2:
        return [None] * matrix.shape[1]
    return stats.item_rest_correlations(complete)


def reliability_rows(
    course: Course, design: Design, populations: Populations, plan: Plan
) -> list[ReliabilityRow]:
    """KR-20 of each skill's knowledge items and of all of them, per comparison and phase."""
    if not any(m.id == "knowledge" for m in design.measures):
        return []
    items = course.items_by_role("knowledge")
    rows = []
    for comparison in design.comparisons:
        people = _paired_people(populations, comparison)
        reason = _reason(plan, comparison)
        for phase in (comparison.from_phase, comparison.to_phase):
            matrix = populations.cohort.correct[phase][people]
            for skill in design.skills:
                columns = [j for j, item in enumerate(items) if skill in (item.skill, TOTAL)]
                rows.append(
                    _reliability_row(
                        comparison.id, phase, skill, matrix[:, columns], reason, course
                    )
                )
    return rows


def _reliability_row(
    comparison: str,
    phase: str,
    skill: str,
    matrix: np.ndarray,
    reason: Reason | None,
    course: Course,
) -> ReliabilityRow:
    complete = matrix[~np.isnan(matrix).any(axis=1)] if matrix.size else matrix
    n, k = int(complete.shape[0]), int(matrix.shape[1])
    row = ReliabilityRow(comparison=comparison, phase=phase, skill=skill, n=n, k=k)
    if reason is not None:
        return msgspec.structs.replace(
            row,
            withheld={"kr20": reason},
            notes=[f"withheld with the knowledge all row ({reason})"],
        )
    if n < course.min_n_reliability:
        return msgspec.structs.replace(
            row,
            notes=[
                f"KR-20 needs min_n_reliability {course.min_n_reliability} people; there are {n}"
            ],
        )
    result = stats.kr20(complete)
    flag = "negative" if result.kr20 is not None and result.kr20 < 0 else None
    notes = list(result.notes)
    if flag:
        notes.append("KR-20 is negative: these items do not hang together for these people")
    return msgspec.structs.replace(row, kr20=result.kr20, kr20_flag=flag, notes=notes)
