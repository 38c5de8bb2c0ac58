"""Who each figure of a report is computed over, and how many people that is.

The tables (`summary`, `attrition`, `responses`, `items`) and the planner take their
groups of people from here, so that a figure is computed over exactly the people the
planner counted. (The verifier derives the same groups with code of its own.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, TypeVar

import numpy as np

from evalsvc.domain.cohort import UNKNOWN_GROUP, Cohort
from evalsvc.domain.design import ALL, Breakdown, Design
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.questionnaire import PAIRED_ROLES, Course, Item
from evalsvc.domain.signed_rank import DenseValues, dense_values
from evalsvc.domain.stats import DECIMALS

T = TypeVar("T")


class PairedGains(NamedTuple):
    """The people with a score in both phases of a comparison (for one measure and
    skill), their scores, and their gains rounded as the statistics round them."""

    people: np.ndarray
    """Whether each participant is paired."""
    before: np.ndarray
    after: np.ndarray
    values: DenseValues
    """The distinct rounded gains and each paired person's index into them."""


class Cells(NamedTuple):
    """People alike in every breakdown (agency, sex...) share a cell: a figure of any
    group is a sum over its cells."""

    of: np.ndarray
    """Each participant's cell."""
    groups: np.ndarray
    """groups x cells, 1 where a cell belongs to a group; the groups in the order of
    `Populations.breakdowns()` and their groups ("all" first)."""


class Populations:
    def __init__(self, design: Design, cohort: Cohort) -> None:
        self.design = design
        self.cohort = cohort
        self._answered: dict[tuple[str, str], np.ndarray] = {}
        self._gains: dict[tuple[str, str, str, str], PairedGains] = {}
        self._memo: dict[tuple[str, ...], object] = {}

    @property
    def baseline(self) -> str:
        """The first phase: attrition compares who came back after it."""
        return self.design.phases[0]

    def later_phases(self) -> tuple[str, ...]:
        return self.design.phases[1:]

    def breakdowns(self) -> tuple[Breakdown, ...]:
        """`ALL` (one group, "all"), then the course's breakdowns."""
        return (Breakdown(id=ALL, groups=(ALL,)), *self.design.breakdowns)

    def codes(self, breakdown: str) -> np.ndarray:
        """Each person's group index in the breakdown; `UNKNOWN_GROUP` for outsiders."""
        if breakdown == ALL:
            return np.zeros(self.cohort.size, dtype=np.int64)
        return self.cohort.groups[breakdown]

    def present(self, measure: str, phase: str, subject: str) -> np.ndarray:
        """Who has the score (read only: computed once)."""

        def compute() -> np.ndarray:
            column = self.design.skills.index(subject)
            found = ~np.isnan(self.cohort.scores[(measure, phase)][:, column])
            found.flags.writeable = False
            return found

        return self.memo(("present", measure, phase, subject), compute)

    def scores(self, measure: str, phase: str, subject: str) -> np.ndarray:
        return self.cohort.scores[(measure, phase)][:, self.design.skills.index(subject)]

    def paired(self, measure: str, first: str, second: str, subject: str) -> np.ndarray:
        return self.present(measure, first, subject) & self.present(measure, second, subject)

    def paired_gains(self, measure: str, first: str, second: str, subject: str) -> PairedGains:
        """Computed once, for the summary rows and the comparisons between groups."""
        key = (measure, first, second, subject)
        found = self._gains.get(key)
        if found is None:
            people = self.paired(measure, first, second, subject)
            before = self.scores(measure, first, subject)[people]
            after = self.scores(measure, second, subject)[people]
            gains = dense_values(np.round(after - before, DECIMALS))
            found = self._gains[key] = PairedGains(people, before, after, gains)
        return found

    def cells(self) -> Cells:
        """The cells of people alike in every breakdown, and the cells of each group."""

        def compute() -> Cells:
            key = np.zeros(self.cohort.size, dtype=np.int64)
            strides = []
            stride = 1
            for breakdown in self.design.breakdowns:
                key += (self.cohort.groups[breakdown.id] + 1) * stride  # 0: outside any group
                strides.append(stride)
                stride *= len(breakdown.groups) + 1
            distinct, of = np.unique(key, return_inverse=True)
            rows = [np.ones(distinct.size)]
            for breakdown, stride in zip(self.design.breakdowns, strides, strict=True):
                code = (distinct // stride) % (len(breakdown.groups) + 1) - 1
                rows.extend(code == i for i in range(len(breakdown.groups)))
            return Cells(of.reshape(-1), np.array(rows, dtype=float))

        return self.memo(("cells",), compute)

    def memo(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """`compute()`, once per key: for what several tables compute alike."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def dropped(self, measure: str, baseline: str, later: str, subject: str) -> np.ndarray:
        """People with a baseline score and none in the later phase (for this skill)."""
        return self.present(measure, baseline, subject) & ~self.present(measure, later, subject)

    def answered(self, phase: str, item: str) -> np.ndarray:
        found = self._answered.get((phase, item))
        if found is None:
            column = self.cohort.answer_column(phase, item)
            found = np.array([value is not None for value in column], dtype=bool).reshape(-1)
            self._answered[(phase, item)] = found
        return found

    def group_counts(self, breakdown: Breakdown, mask: np.ndarray) -> np.ndarray:
        """People of `mask` in each group of the breakdown."""
        codes = self.codes(breakdown.id)[mask]
        codes = codes[codes != UNKNOWN_GROUP]
        return np.bincount(codes, minlength=len(breakdown.groups))[: len(breakdown.groups)]


def summarised_items(course: Course) -> dict[str, tuple[Item, ...]]:
    """Phase -> the items it shows that are summarised rather than scored.

    Knowledge and self-assessment items are scored; breakdown items define groups,
    whose sizes the phase counts give.
    """
    return {
        phase.id: tuple(
            item
            for item in course.items_in_phase(phase.id)
            if item.role not in PAIRED_ROLES and not item.breakdown
        )
        for phase in course.phases
    }


def release_counts(course: Course, design: Design, populations: Populations) -> dict[Release, int]:
    """Every release of a report with the number of people it is computed over."""
    counts: dict[Release, int] = {}
    cells = populations.cells()
    n_cells = cells.groups.shape[1]
    keys = [(b.id, group) for b in populations.breakdowns() for group in b.groups]
    for release, mask in _release_masks(course, design, populations):
        # the people of each cell, added up per group ("all" is every cell)
        per_cell = np.bincount(cells.of[mask], minlength=n_cells)[:n_cells]
        per_group = np.rint(cells.groups @ per_cell).astype(np.int64).tolist()
        for (breakdown, group), n in zip(keys, per_group, strict=True):
            counts[release._replace(breakdown=breakdown, group=group)] = n
    return counts


def _release_masks(
    course: Course, design: Design, populations: Populations
) -> Iterator[tuple[Release, np.ndarray]]:
    """Each release (without breakdown and group) with the people it may cover."""
    for measure in design.measures:
        for comparison in design.comparisons:
            for subject in design.skills:
                mask = populations.paired(
                    measure.id, comparison.from_phase, comparison.to_phase, subject
                )
                yield (
                    Release(
                        "paired",
                        measure.id,
                        comparison.from_phase,
                        comparison.to_phase,
                        subject,
                        "",
                        "",
                    ),
                    mask,
                )
        baseline = populations.baseline
        for later in populations.later_phases():
            for subject in design.skills:
                yield (
                    Release("attrition", measure.id, baseline, later, subject, "", ""),
                    populations.dropped(measure.id, baseline, later, subject),
                )
    for phase, items in summarised_items(course).items():
        for item in items:
            yield (
                Release("answers", "", phase, "", item.id, "", ""),
                populations.answered(phase, item.id),
            )


def masks_by_group(
    populations: Populations, breakdown: Breakdown, mask: np.ndarray
) -> Sequence[tuple[str, np.ndarray]]:
    """(group, people) of each group of a breakdown, restricted to `mask`."""
    if breakdown.id == ALL:
        return [(ALL, mask)]
    codes = populations.codes(breakdown.id)
    return [(group, mask & (codes == i)) for i, group in enumerate(breakdown.groups)]


def counts_of(counts: Mapping[Release, int], release: Release) -> int:
    return counts.get(release, 0)
