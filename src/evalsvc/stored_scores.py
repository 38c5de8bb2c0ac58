"""Stored submissions' scores, decoded from their JSON straight into arrays.

`submission_columns` turns storage's `ScoreRow`s into the `cohort.SubmissionColumns` a
cohort is built from. A report decodes every submission of a course (some 26,000 for
10,000 participants in three phases), so the scores are not decoded into dicts: a
msgspec Struct type is made for the course's keys (its skills and "total", its
knowledge items), whose fields take the values wherever they are in the stored object,
and each part is read off into an array in one pass.

The result is what decoding into `scoring.PhaseScores` and looking every key up gives
(`cohort.build_cohort`): a key that is missing reads NaN (for confidence_answered, 0);
keys that are not the course's are ignored; a value that is not finite reads NaN. A
row of some other shape (a value of the wrong type) is decoded the general way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from types import MappingProxyType
from typing import Any

import msgspec
import numpy as np

from evalsvc.domain.cohort import SubmissionColumns
from evalsvc.domain.design import Design
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import PhaseScores
from evalsvc.storage.records import ScoreRow

_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
"""The breakdowns or answers of the many submissions that have none (read only)."""
_decode_scores = msgspec.json.Decoder(PhaseScores).decode
_decode_answers = msgspec.json.Decoder(dict[str, object]).decode
_decode_breakdowns = msgspec.json.Decoder(dict[str, str]).decode

_FLOAT_PARTS = ("knowledge", "confidence", "dont_know")


def submission_columns(
    course: Course, design: Design, rows: Sequence[ScoreRow]
) -> SubmissionColumns:
    skills = tuple(design.skills)
    items = tuple(item.id for item in course.items_by_role("knowledge"))
    scores = _scores(skills, items, [row.scores_json for row in rows])
    return SubmissionColumns(
        participant=np.fromiter((row.participant for row in rows), dtype=np.int64, count=len(rows)),
        agency=[row.agency for row in rows],
        phase=[row.phase for row in rows],
        scores={measure.id: scores[measure.id] for measure in design.measures},
        confidence_answered=scores["confidence_answered"],
        correct=scores["correct"],
        breakdowns=_small_objects(_decode_breakdowns, [row.breakdowns_json for row in rows]),
        answers=_small_objects(_decode_answers, [row.summarised_json for row in rows]),
    )


def _small_objects(decode: Callable[[str], Any], texts: list[str]) -> list[Any]:
    return [_EMPTY if text == "{}" else decode(text) for text in texts]


def _scores(
    skills: tuple[str, ...], items: tuple[str, ...], texts: list[str]
) -> dict[str, np.ndarray]:
    decode = _scores_decoder(skills, items)
    try:
        decoded = list(map(decode, texts))
    except msgspec.ValidationError:
        decoded = [_typed_or_none(decode, text) for text in texts]
    out: dict[str, np.ndarray] = {}
    astuple = msgspec.structs.astuple
    for part in _FLOAT_PARTS:
        values = chain.from_iterable(astuple(getattr(d, part)) for d in decoded if d is not None)
        out[part] = _rows(values, decoded, len(skills))
    answered = chain.from_iterable(astuple(d.confidence_answered) for d in decoded if d is not None)
    out["confidence_answered"] = _rows(answered, decoded, len(skills) - 1)
    # True or False read 1.0 or 0.0; a missing item (None) reads NaN
    flags = [astuple(d.correct) for d in decoded if d is not None]
    try:
        block = np.fromiter(chain.from_iterable(flags), dtype=float, count=len(flags) * len(items))
    except TypeError:  # float(None)
        block = np.array(
            [[math.nan if flag is None else float(flag) for flag in row] for row in flags]
        ).reshape(-1)
    block = block.reshape(len(flags), len(items))
    out["correct"] = _with_general_rows(block, decoded)
    for index, text in enumerate(texts):
        if decoded[index] is None:
            _general_row(out, _decode_scores(text), skills, items, index)
    for part in _FLOAT_PARTS:
        out[part][~np.isfinite(out[part])] = np.nan
    return out


def _rows(values: Any, decoded: list[Any], width: int) -> np.ndarray:
    present = sum(d is not None for d in decoded)
    block = np.fromiter(values, dtype=float, count=present * width).reshape(present, width)
    return _with_general_rows(block, decoded)


def _with_general_rows(block: np.ndarray, decoded: list[Any]) -> np.ndarray:
    """The typed rows in place, room (NaN) for the rows decoded the general way."""
    if len(block) == len(decoded):
        return block
    out = np.full((len(decoded), block.shape[1]), np.nan)
    out[[i for i, d in enumerate(decoded) if d is not None]] = block
    return out


def _typed_or_none(decode: Callable[[str], Any], text: str) -> Any:
    try:
        return decode(text)
    except msgspec.ValidationError:
        return None


def _general_row(
    out: dict[str, np.ndarray],
    scores: PhaseScores,
    skills: tuple[str, ...],
    items: tuple[str, ...],
    index: int,
) -> None:
    for part in _FLOAT_PARTS:
        found: dict[str, float] = getattr(scores, part)
        out[part][index] = [found.get(key, math.nan) for key in skills]
    answered = scores.confidence_answered
    out["confidence_answered"][index] = [answered.get(key, 0) for key in skills[:-1]]
    out["correct"][index] = [
        float(scores.correct[key]) if key in scores.correct else math.nan for key in items
    ]


@lru_cache(maxsize=64)
def _scores_decoder(skills: tuple[str, ...], items: tuple[str, ...]) -> Callable[[str], Any]:
    """A decoder of stored scores into a Struct made for these keys.

    Ids need not be Python names, so the fields are f0, f1... renamed to the ids.
    """

    def part(name: str, keys: Sequence[str], kind: Any, default: object) -> type:
        return msgspec.defstruct(
            name,
            [(f"f{i}", kind, default) for i in range(len(keys))],
            rename={f"f{i}": key for i, key in enumerate(keys)},
            gc=False,
        )

    skill_values = part("SkillValues", skills, float, math.nan)
    answered = part("Answered", skills[:-1], int, 0)
    correct = part("Correct", items, bool | None, None)
    scores = msgspec.defstruct(
        "StoredScores",
        [
            ("knowledge", skill_values, msgspec.field(default_factory=skill_values)),
            ("confidence", skill_values, msgspec.field(default_factory=skill_values)),
            ("correct", correct, msgspec.field(default_factory=correct)),
            ("dont_know", skill_values, msgspec.field(default_factory=skill_values)),
            ("confidence_answered", answered, msgspec.field(default_factory=answered)),
        ],
        gc=False,
    )
    return msgspec.json.Decoder(scores).decode
