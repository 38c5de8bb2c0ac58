"""Recomputing what is stored beside the answers: the upgrade to schema 3 and rescoring.

Both go through `Storage.rewrite_submissions` with a transform built here from the
course definition (`domain.derived`): the answers never change, only their scores,
breakdowns, summarised answers and scoring fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from evalsvc.domain.derived import derive
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import PhaseScores, scoring_fingerprint
from evalsvc.storage.records import Rewritten, StoredAnswers

_decode_answers = msgspec.json.Decoder(dict[str, object]).decode
_decode_scores = msgspec.json.Decoder(PhaseScores).decode


def _encode(value: object) -> str:
    return msgspec.json.encode(value).decode()


def upgrade_transform(course: Course) -> Callable[[StoredAnswers], Rewritten | None]:
    """Fill schema 3's columns; keep the scores frozen at intake.

    The stored knowledge, confidence and correctness stay as they were scored. They
    get today's fingerprint only when today's rules give exactly the same scores;
    otherwise the fingerprint stays empty ("other rules"), and the reports say so
    until `evalsvc rescore` is run.
    """
    fingerprint = scoring_fingerprint(course)

    def transform(row: StoredAnswers) -> Rewritten | None:
        derived = derive(course, row.phase, _decode_answers(row.answers_json))
        try:
            stored = _decode_scores(row.scores_json)
        except msgspec.ValidationError:  # nothing was scored: score it now
            stored = derived.scores
        same = (
            stored.knowledge == derived.scores.knowledge
            and stored.confidence == derived.scores.confidence
            and stored.correct == derived.scores.correct
        )
        scores = msgspec.structs.replace(
            stored,
            dont_know=derived.scores.dont_know,
            confidence_answered=derived.scores.confidence_answered,
        )
        return Rewritten(
            _encode(scores),
            _encode(derived.breakdowns),
            _encode(derived.summarised),
            fingerprint if same else "",
        )

    return transform


@dataclass
class RescoreReport:
    """What `evalsvc rescore` changed (or would change, with --dry-run)."""

    rescored: int = 0
    changed_scores: int = 0
    examples: list[str] = field(default_factory=list)


def rescore_transform(
    course: Course, report: RescoreReport
) -> Callable[[StoredAnswers], Rewritten | None]:
    """Rescore every submission whose fingerprint differs from the course's rules."""
    fingerprint = scoring_fingerprint(course)

    def transform(row: StoredAnswers) -> Rewritten | None:
        if row.scoring == fingerprint:
            return None
        derived = derive(course, row.phase, _decode_answers(row.answers_json))
        before = _decode_scores(row.scores_json)
        report.rescored += 1
        if before.knowledge != derived.scores.knowledge or before.confidence != (
            derived.scores.confidence
        ):
            report.changed_scores += 1
            if len(report.examples) < 10:
                old = before.knowledge.get("total")
                new = derived.scores.knowledge.get("total")
                report.examples.append(
                    f"{row.phase}: knowledge total {_percent(old)} -> {_percent(new)}"
                )
        return Rewritten(
            _encode(derived.scores),
            _encode(derived.breakdowns),
            _encode(derived.summarised),
            derived.scoring,
        )

    return transform


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"
