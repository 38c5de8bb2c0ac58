"""Knowledge items: item analysis (difficulty, discrimination, McNemar) and KR-20.

Both are computed per comparison over its paired people -- the people of the
knowledge "all" row of that comparison -- and published only with that row, so they
add no group of people that the disclosure plan has not judged. Discrimination and
KR-20 need ``course.min_n_reliability`` people (default 10): below that they are null
with a note, since both swing wildly on a handful of people (three people can give a
KR-20 of -7.9). A KR-20 below 0 that remains is flagged as such.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Literal, NamedTuple

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


class _ItemSums(NamedTuple):
    """A comparison's paired people's knowledge items, summed (all 0/1, none missing):
    per phase `stats.BinaryItemSums` over all items and over each skill's items (in
    `design.skills` order), and per item how many were right in both phases."""

    n: int
    phases: dict[str, tuple[stats.BinaryItemSums, ...]]
    """phase -> sums per skill, then over all items (with the products)."""
    both: np.ndarray


def _item_sums(
    course: Course, design: Design, populations: Populations, comparison: Comparison
) -> _ItemSums | None:
    """Computed once for the item rows and the reliability rows; None when an answer
    is missing or not 0/1 (then they go through the matrices, item by item)."""

    def compute() -> _ItemSums | None:
        people = _paired_people(populations, comparison)
        matrices = {
            phase: populations.cohort.correct[phase][people]
            for phase in (comparison.from_phase, comparison.to_phase)
        }
        if any(not np.array_equal(m, m.astype(bool)) for m in matrices.values()):
            return None  # NaN (a missing item) or another value
        items = course.items_by_role("knowledge")
        membership = np.array(
            [[skill in (item.skill, TOTAL) for skill in design.skills] for item in items],
            dtype=float,
        )
        n = int(np.count_nonzero(people))
        phases = {}
        for phase, matrix in matrices.items():
            totals = matrix @ membership  # each person's total per skill (whole numbers)
            item_sums = matrix.sum(axis=0).astype(np.int64)
            total_sums = totals.sum(axis=0)
            total_squares = np.einsum("ij,ij->j", totals, totals)
            sums = []
            for s, skill in enumerate(design.skills):
                columns = membership[:, s] > 0
                sums.append(
                    stats.BinaryItemSums(
                        n=n,
                        items=item_sums[columns],
                        total=int(total_sums[s]),
                        total_squares=int(total_squares[s]),
                        products=(matrix.T @ totals[:, s]).astype(np.int64)
                        if skill == TOTAL
                        else None,
                    )
                )
            phases[phase] = tuple(sums)
        before, after = matrices.values()
        both = np.einsum("ij,ij->j", before, after).astype(np.int64)
        return _ItemSums(n=n, phases=phases, both=both)

    return populations.memo(("item sums", comparison.id), compute)


def item_rows(
    course: Course, design: Design, populations: Populations, plan: Plan
) -> list[ItemRow]:
    if not any(m.id == "knowledge" for m in design.measures):
        return []
    items = course.items_by_role("knowledge")
    rows = []
    for comparison in design.comparisons:
        people = _paired_people(populations, comparison)
        n = int(np.count_nonzero(people))
        reason = _reason(plan, comparison)
        enough = n >= course.min_n_reliability
        nothing: list[float | None] = [None] * len(items)
        sums = _item_sums(course, design, populations, comparison)
        if sums is not None:
            before = sums.phases[comparison.from_phase][-1]
            after = sums.phases[comparison.to_phase][-1]
            discrimination = {
                "from": before.item_rest_correlations() if enough else nothing,
                "to": after.item_rest_correlations() if enough else nothing,
            }
            # right after and not before: all right after, less those right both times
            gained, lost = after.items - sums.both, before.items - sums.both
            shares = (before.items / n, after.items / n) if n else None
        else:
            from_matrix = populations.cohort.correct[comparison.from_phase][people]
            to_matrix = populations.cohort.correct[comparison.to_phase][people]
            discrimination = {
                "from": _discriminations(from_matrix) if enough and reason is None else nothing,
                "to": _discriminations(to_matrix) if enough and reason is None else nothing,
            }
            gained = np.count_nonzero((from_matrix == 0) & (to_matrix == 1), axis=0)
            lost = np.count_nonzero((from_matrix == 1) & (to_matrix == 0), axis=0)
            shares = (from_matrix.mean(axis=0), to_matrix.mean(axis=0)) if n else None
        # every item's McNemar test at once
        mcnemar = stats.mcnemar_exact_many(gained, lost)
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
    complete = _complete_rows(matrix)
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
        sums = _item_sums(course, design, populations, comparison)
        for phase in (comparison.from_phase, comparison.to_phase):
            matrix = populations.cohort.correct[phase][people] if sums is None else None
            for s, skill in enumerate(design.skills):
                row = ReliabilityRow(comparison=comparison.id, phase=phase, skill=skill, n=0, k=0)
                if sums is not None:
                    skill_sums = sums.phases[phase][s]
                    row = msgspec.structs.replace(row, n=sums.n, k=int(skill_sums.items.size))
                    rows.append(_reliability_row(row, reason, course, skill_sums.kr20))
                    continue
                assert matrix is not None
                columns = [j for j, item in enumerate(items) if skill in (item.skill, TOTAL)]
                complete = _complete_rows(matrix[:, columns])
                row = msgspec.structs.replace(row, n=int(complete.shape[0]), k=len(columns))
                rows.append(_reliability_row(row, reason, course, partial(stats.kr20, complete)))
    return rows


def _reliability_row(
    row: ReliabilityRow,
    reason: Reason | None,
    course: Course,
    kr20: Callable[[], stats.Kr20],
) -> ReliabilityRow:
    if reason is not None:
        return msgspec.structs.replace(
            row,
            withheld={"kr20": reason},
            notes=[f"withheld with the knowledge all row ({reason})"],
        )
    if row.n < course.min_n_reliability:
        return msgspec.structs.replace(
            row,
            notes=[
                f"KR-20 needs min_n_reliability {course.min_n_reliability} people; "
                f"there are {row.n}"
            ],
        )
    result = kr20()
    flag = "negative" if result.kr20 is not None and result.kr20 < 0 else None
    notes = list(result.notes)
    if flag:
        notes.append("KR-20 is negative: these items do not hang together for these people")
    return msgspec.structs.replace(row, kr20=result.kr20, kr20_flag=flag, notes=notes)


def _complete_rows(matrix: np.ndarray) -> np.ndarray:
    """The rows without a missing answer (usually all of them: then no copy)."""
    missing = np.isnan(matrix).any(axis=1)
    return matrix[~missing] if missing.any() else matrix
