"""Summaries of the items that are not scored: feedback, profile and follow-up questions.

Each phase's own items are summarised for that phase, whatever their kind, per
breakdown group (and "all"):

* choice items (single, multiple, true/false) -- how many people chose each answer;
* likert items -- the distribution over the scale, the mean and SD, and the top-two
  box (share on the two highest points); "does not apply" answers (`not_applicable`)
  are counted apart and left out of the means;
* number items -- mean and SD (no minimum, maximum or median: those are one
  person's answer);
* text items -- the answers of the whole phase, sorted, with no group and no link to
  a submission, once at least k people answered.

Figures of small groups are withheld by the plan (`disclosure.plan`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.columns import COUNT, KEY, PEOPLE, SHARE, TEXT, VALUE, column
from evalsvc.domain.disclosure.plan import Plan, Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations, summarised_items
from evalsvc.domain.questionnaire import (
    CHOICE_KINDS,
    NOT_APPLICABLE,
    TEXT_KINDS,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
)


class AnswerSummary(msgspec.Struct, kw_only=True, frozen=True):
    """One summarised item, in one phase, for one group."""

    phase: Annotated[str, column("the phase that asked the item", KEY)]
    item: Annotated[str, column("item id", KEY)]
    kind: Annotated[str, column("the item's kind", KEY)]
    breakdown: Annotated[str, column("all, agency, or a breakdown item", KEY)]
    group: Annotated[str, column("the group within the breakdown", KEY)]
    n: Annotated[int, column("people of the group who answered the item", PEOPLE)]
    n_not_applicable: Annotated[
        int | None, column('answers "does not apply", left out of the mean', COUNT)
    ] = None
    distribution: Annotated[
        dict[str, int] | None,
        column("answer (option id or scale point) -> number of people who gave it", COUNT),
    ] = None
    mean: Annotated[float | None, column("mean answer (likert and number items)", VALUE)] = None
    sd: Annotated[float | None, column("standard deviation (n - 1) of the answers", VALUE)] = None
    top_two_box: Annotated[
        float | None, column("share of answers on the two highest scale points", SHARE)
    ] = None
    withheld: Annotated[dict[str, Reason], column("withheld figures and why", TEXT)] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


class TextAnswers(msgspec.Struct, kw_only=True, frozen=True):
    phase: Annotated[str, column("the phase that asked the item", KEY)]
    item: Annotated[str, column("item id", KEY)]
    answers: Annotated[list[str], column("the answers, sorted, without any group", TEXT)]
    notes: Annotated[list[str], column("remarks, in English", TEXT)]


_FIGURES = ("n_not_applicable", "distribution", "mean", "sd", "top_two_box")


def answer_summaries(
    course: Course, populations: Populations, plan: Plan
) -> tuple[list[AnswerSummary], list[TextAnswers]]:
    rows: list[AnswerSummary] = []
    texts: list[TextAnswers] = []
    keys = [(b.id, group) for b in populations.breakdowns() for group in b.groups]
    for phase, items in summarised_items(course).items():
        for item in items:
            values = populations.cohort.answer_column(phase, item.id)
            if item.kind in TEXT_KINDS:
                texts.append(_texts(phase, item, values, course.min_cell_size))
                continue
            counted = _Counted(course, item, values, populations)
            for g, (breakdown, group) in enumerate(keys):
                release = Release("answers", "", phase, "", item.id, breakdown, group)
                rows.append(counted.row(phase, breakdown, group, g, plan.reason(release)))
    return rows, texts


class _Counted:
    """One item's answers in one phase, counted for every group at once.

    Each person's answer is read once, into a number and the options it chose; those
    are added up per cell of people alike in every breakdown, and the cells per group
    (`Populations.cells`), as for the summary rows.
    """

    def __init__(
        self, course: Course, item: Item, values: Sequence[object], populations: Populations
    ) -> None:
        self.item = item
        cells = populations.cells()
        self.cells, self.groups = cells.of, cells.groups
        people = [i for i, value in enumerate(values) if value is not None]
        self.n = self._count(people)
        self.labels: list[str] = []
        chosen: list[tuple[int, int]] = []  # (person, label) of each answer counted
        numbers: list[tuple[int, float]] = []  # (person, number)
        self.not_applicable: np.ndarray | None = None
        self.top_two: np.ndarray | None = None
        if item.kind == "likert":
            scale = course.scale(item.scale)
            points = list(scale.points) if scale is not None else []
            self.labels = [str(point) for point in points]
            index = {point: j for j, point in enumerate(points)}
            not_applicable, top = [], []
            for i in people:
                value = values[i]
                if _is_number(value):
                    number = int(value)  # type: ignore[call-overload]
                    numbers.append((i, float(number)))
                    if number in index:
                        chosen.append((i, index[number]))
                    if points and number >= points[-1] - 1:
                        top.append(i)
                elif value == NOT_APPLICABLE:
                    not_applicable.append(i)
            self.not_applicable = self._count(not_applicable)
            self.top_two = self._count(top) if points else None
        elif item.kind == "number":
            for i in people:
                value = values[i]
                if isinstance(value, int | float) and _is_number(value):
                    numbers.append((i, float(value)))
        elif item.kind in CHOICE_KINDS:
            self.labels = list(TRUE_FALSE_OPTIONS if item.kind == "true_false" else item.option_ids)
            option_index = {option: j for j, option in enumerate(self.labels)}
            for i in people:
                value = values[i]
                for answer in value if isinstance(value, list) else [str(value)]:
                    j = option_index.get(answer) if isinstance(answer, str) else None
                    if j is not None:
                        chosen.append((i, j))
        self.distribution = self._tally(chosen, len(self.labels))
        self.n_numbers = self._count([i for i, _ in numbers])
        self.mean = self.sd = np.full(self.n.size, np.nan)
        if numbers:
            person = np.array([i for i, _ in numbers], dtype=np.intp)
            moments = stats.grouped_moments(self.cells[person], self.groups.shape[1], self.groups)
            self.mean, self.sd = moments.mean_sd(np.array([x for _, x in numbers]))

    def _count(self, people: list[int]) -> np.ndarray:
        n_cells = self.groups.shape[1]
        per_cell = np.bincount(self.cells[np.array(people, dtype=np.intp)], minlength=n_cells)
        return np.rint(self.groups @ per_cell[:n_cells]).astype(np.int64)

    def _tally(self, chosen: list[tuple[int, int]], width: int) -> np.ndarray:
        n_cells = self.groups.shape[1]
        if not chosen or not width:
            return np.zeros((self.groups.shape[0], width), dtype=np.int64)
        person, label = np.array(chosen, dtype=np.intp).T
        per_cell = np.bincount(self.cells[person] * width + label, minlength=n_cells * width)
        per_cell = per_cell[: n_cells * width].reshape(n_cells, width)
        return np.rint(self.groups @ per_cell).astype(np.int64)

    def row(
        self, phase: str, breakdown: str, group: str, g: int, reason: Reason | None
    ) -> AnswerSummary:
        item, n = self.item, int(self.n[g])
        row = AnswerSummary(
            phase=phase, item=item.id, kind=item.kind, breakdown=breakdown, group=group, n=n
        )
        if reason is not None:
            return msgspec.structs.replace(
                row,
                withheld=dict.fromkeys(_FIGURES, reason),
                notes=[f"figures withheld ({reason}: {n} people)"],
            )
        if not n or item.kind not in ("likert", "number", *CHOICE_KINDS):
            return row
        fields: dict[str, object] = {}
        if item.kind != "number":
            counts = self.distribution[g].tolist()
            fields["distribution"] = dict(zip(self.labels, counts, strict=True))
        numbers = int(self.n_numbers[g])
        if item.kind in ("likert", "number") and numbers:
            fields["mean"] = float(self.mean[g])
            if numbers >= 2:
                fields["sd"] = float(self.sd[g])
        if item.kind == "likert":
            if item.not_applicable:
                assert self.not_applicable is not None
                fields["n_not_applicable"] = int(self.not_applicable[g])
            if numbers and self.top_two is not None:
                fields["top_two_box"] = int(self.top_two[g]) / numbers
        return msgspec.structs.replace(row, **fields)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _texts(phase: str, item: Item, values: Sequence[object], k: int) -> TextAnswers:
    given = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if len(given) < k:
        note = f"answers withheld: {len(given)} people answered, fewer than min_cell_size {k}"
        return TextAnswers(phase=phase, item=item.id, answers=[], notes=[note] if given else [])
    # Sorted, not in submission order, so that no answer can be linked to a submission.
    return TextAnswers(phase=phase, item=item.id, answers=sorted(given, key=str.casefold), notes=[])


def answers_of(records: Mapping[str, object], item_ids: Sequence[str]) -> dict[str, object]:
    """The answers to `item_ids` among a submission's answers (what storage keeps apart)."""
    return {key: records[key] for key in item_ids if key in records}
