"""Stored submissions' scores, decoded from their JSON straight into arrays.

`submission_columns` turns storage's `ScoreRow`s into the `cohort.SubmissionColumns` a
cohort is built from. A report decodes every submission of a course (some 26,000 for
10,000 participants in three phases), so the scores are not decoded into dicts: a
msgspec Struct type is made for the course's keys (its skills and "total", its
knowledge items), whose fields take the values wherever they are in the stored object,
and each part is read off into an array in one pass.

The result is what decoding into `scoring.PhaseScores` and looking every key up gives
(`reports.records_from` and `cohort.build_cohort`; the tests compare the two): a key
that is missing reads NaN (for confidence_answered, 0); keys that are not the course's
are ignored; a value that is not finite reads NaN; the same parts are required, and a
value of the wrong type fails as it would there.
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
from evalsvc.storage.records import ScoreRow

_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
"""The breakdowns or answers of the many submissions that have none (read only)."""
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
    skills: tuple[str, ...], items: tuple[str, ...], texts: list[str], chunk: int = 8192
) -> dict[str, np.ndarray]:
    """Every part of every row's scores, as rows x keys arrays, a chunk of rows at a
    time (so that the decoded objects of only one chunk are alive at once)."""
    decode = _scores_decoder(skills, items)
    widths = {
        **dict.fromkeys(_FLOAT_PARTS, len(skills)),
        "correct": len(items),
        "confidence_answered": len(skills) - 1,
    }
    out = {part: np.empty((len(texts), width)) for part, width in widths.items()}
    astuple = msgspec.structs.astuple
    for start in range(0, len(texts), chunk):
        decoded = list(map(decode, texts[start : start + chunk]))
        rows = slice(start, start + len(decoded))
        for part, width in widths.items():
            # True and False read 1.0 and 0.0, a missing knowledge item (NaN) stays NaN
            values = chain.from_iterable(astuple(getattr(d, part)) for d in decoded)
            block = np.fromiter(values, dtype=float, count=len(decoded) * width)
            out[part][rows] = block.reshape(len(decoded), width)
    for part in _FLOAT_PARTS:
        out[part][~np.isfinite(out[part])] = np.nan
    return out


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
    correct = part("Correct", items, bool, math.nan)  # NaN: not in the stored object
    # required and optional parts as in PhaseScores, so that the same objects decode
    scores = msgspec.defstruct(
        "StoredScores",
        [
            ("knowledge", skill_values),
            ("confidence", skill_values),
            ("correct", correct),
            ("dont_know", skill_values, msgspec.field(default_factory=skill_values)),
            ("confidence_answered", answered, msgspec.field(default_factory=answered)),
        ],
        gc=False,
    )
    return msgspec.json.Decoder(scores).decode
