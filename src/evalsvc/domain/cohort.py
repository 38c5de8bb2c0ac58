"""The participants' scores that every report table takes, and their matrices.

`ParticipantScores` (one per participant, built by the storage layer from the stored
`PhaseScores`), the keys the tables share (`ALL`, `MEASURES`, `PHASES`) and the
builders of participants x columns matrices that the tables compute on. Which figures
are withheld for small groups is decided in `evalsvc.domain.suppression`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Literal

import msgspec
import numpy as np

from evalsvc.domain.questionnaire import Course

ALL = "all"
"""Agency key of the row that pools every participant."""
MEASURES = ("knowledge", "confidence")
PHASES = ("pre", "post")

Measure = Literal["knowledge", "confidence"]


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


def score_matrix(
    participants: Sequence[ParticipantScores], phase: str, measure: str, columns: Sequence[str]
) -> np.ndarray:
    """Participants x columns of one phase's scores; NaN where there is none."""
    phases = (getattr(p, phase) for p in participants)
    return _matrix((getattr(s, measure) if s is not None else None for s in phases), columns)


def correct_matrix(
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
    they are (much faster for 10,000 participants than looking up every key), and
    numpy reads them straight from the dicts without an intermediate list per row.
    """
    keys = list(keys)
    missing = [math.nan] * len(keys)

    def values(record: Mapping[str, float] | Mapping[str, bool] | None) -> Iterable[float]:
        if record is None:
            return missing
        if list(record) == keys:
            return record.values()  # type: ignore[return-value]
        return [record.get(key, math.nan) for key in keys]

    records = list(records)
    flat = chain.from_iterable(map(values, records))
    matrix = np.fromiter(flat, dtype=float, count=len(records) * len(keys))
    matrix = matrix.reshape(len(records), len(keys))
    matrix[~np.isfinite(matrix)] = np.nan
    return matrix


def agency_codes(course: Course, participants: Sequence[ParticipantScores]) -> np.ndarray:
    """Index of each participant's agency in course.agency_ids(), -1 when unknown."""
    index = {agency: i for i, agency in enumerate(course.agency_ids())}
    return np.array([index.get(p.agency, -1) for p in participants], dtype=int)
