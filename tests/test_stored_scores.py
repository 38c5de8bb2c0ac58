"""Scores decoded straight into arrays make the same cohort as decoding them one by one.

Oracle: `reports.records_from` (each row into `scoring.PhaseScores` and dicts) and
`cohort.build_cohort`, the general path. Data: the bundled course's demo cohort, stored
through the real intake into SQLite (three phases, sex and role, optional
self-assessment items), and rows changed by hand the ways stored rows can differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pytest

from evalsvc import reports
from evalsvc.catalog import load_paths
from evalsvc.domain.cohort import Cohort, build_cohort
from evalsvc.domain.design import analysis_design
from evalsvc.domain.questionnaire import Course
from evalsvc.storage.records import ScoreRow
from tests.conftest import BUNDLED_SURVEYS
from tests.report_builder import build

BUNDLED: Course = load_paths([BUNDLED_SURVEYS]).courses["salw-nexus-kz-2024"]


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[ScoreRow]:
    built = build(tmp_path_factory.mktemp("stored") / "db.sqlite3", BUNDLED, participants=60)
    return built.rows


def assert_same(fast: Cohort, general: Cohort) -> None:
    assert np.array_equal(fast.numbers, general.numbers)
    for name in ("groups", "submitted", "scores", "weights", "correct"):
        mine, theirs = getattr(fast, name), getattr(general, name)
        assert mine.keys() == theirs.keys(), name
        for key in theirs:
            assert np.array_equal(mine[key], theirs[key], equal_nan=True), (name, key)
    assert fast.answers.keys() == general.answers.keys()
    for phase, answers in general.answers.items():
        assert [None if a is None else dict(a) for a in fast.answers[phase]] == answers


def both(rows: list[ScoreRow], course: Course = BUNDLED) -> tuple[Cohort, Cohort]:
    design = analysis_design(course)
    fast = reports.cohort_from_rows(course, design, rows)
    return fast, build_cohort(course, design, reports.records_from(rows))


def test_the_stored_demo_cohort(rows: list[ScoreRow]) -> None:
    fast, general = both(rows)
    assert_same(fast, general)
    # the data has what the fast path must get right
    assert len(general.submitted) == 3 and not general.submitted["follow_up"].all()
    assert set(general.groups) == {"agency", "pr_sex", "pr_role"}


def _edit(row: ScoreRow, change) -> ScoreRow:
    scores = json.loads(row.scores_json)
    change(scores)
    return row._replace(scores_json=json.dumps(scores))


def test_rows_of_other_shapes(rows: list[ScoreRow]) -> None:
    skill = BUNDLED.skill_ids()[1]
    item = BUNDLED.items_by_role("knowledge")[3].id

    def reorder(scores: dict) -> None:  # keys in another order, as an older writer might
        scores["knowledge"] = dict(reversed(scores["knowledge"].items()))
        scores["correct"] = dict(reversed(scores["correct"].items()))

    def drop(scores: dict) -> None:  # a skill and an item the row was not scored on
        scores["knowledge"].pop(skill, None)
        scores["correct"].pop(item, None)
        scores.pop("dont_know", None)
        scores.pop("confidence_answered", None)

    def extra(scores: dict) -> None:  # keys that are not the course's; whole numbers
        scores["knowledge"]["retired_skill"] = 12.5
        scores["correct"]["retired_item"] = True
        scores["confidence"] = {key: 3 for key in scores["confidence"]}
        scores["unknown_part"] = {"x": 1}

    edits = [reorder, drop, extra]
    changed = [
        _edit(row, edits[(i // 3) % len(edits)]) if i % 3 == 0 else row
        for i, row in enumerate(rows)
    ]
    fast, general = both(changed)
    assert_same(fast, general)
    # the dropped skill reads NaN in the rows that lost it, beside submitted ones
    submitted = general.submitted["pre"]
    assert np.isnan(general.scores[("knowledge", "pre")][submitted]).any()


@pytest.mark.parametrize(
    "broken",
    [
        lambda s: s.pop("correct"),  # a required part missing
        lambda s: s["knowledge"].update({BUNDLED.skill_ids()[0]: "high"}),  # a wrong type
        lambda s: s["correct"].update({BUNDLED.items_by_role("knowledge")[0].id: None}),
        lambda s: s["knowledge"].update({BUNDLED.skill_ids()[0]: None}),
    ],
)
def test_a_broken_row_fails_as_it_does_decoded_one_by_one(rows: list[ScoreRow], broken) -> None:
    changed = [_edit(rows[0], broken), *rows[1:]]
    with pytest.raises(msgspec.ValidationError):
        reports.records_from(changed)
    with pytest.raises(msgspec.ValidationError):
        reports.cohort_from_rows(BUNDLED, analysis_design(BUNDLED), changed)


def test_no_rows(tmp_path: Path) -> None:
    fast, general = both([])
    assert_same(fast, general)
    assert fast.size == 0
