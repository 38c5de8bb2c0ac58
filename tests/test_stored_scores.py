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


@pytest.mark.parametrize("missing", [False, True])
def test_item_analysis_and_kr20_against_scipy(rows: list[ScoreRow], missing: bool) -> None:
    # 0/1 items take the whole-number sums; with an item missing from some rows (NaN),
    # the matrices item by item. Oracle: numpy and scipy on the paired people's answers.
    from scipy import stats as sps

    from evalsvc.domain.analysis import analyse

    item = BUNDLED.items_by_role("knowledge")[2].id
    if missing:
        rows = [
            _edit(row, lambda s: s["correct"].pop(item)) if i % 7 == 0 else row
            for i, row in enumerate(rows)
        ]
    design = analysis_design(BUNDLED)
    cohort = reports.cohort_from_rows(BUNDLED, design, rows)
    analysis = analyse(BUNDLED, design, cohort)
    items = BUNDLED.items_by_role("knowledge")
    for comparison in design.comparisons:
        first, second = comparison.from_phase, comparison.to_phase
        people = ~np.isnan(cohort.scores[("knowledge", first)][:, -1])
        people &= ~np.isnan(cohort.scores[("knowledge", second)][:, -1])
        before, after = cohort.correct[first][people], cohort.correct[second][people]
        assert np.isnan(before).any() == missing or not people.any()
        found = {r.item: r for r in analysis.items if r.comparison == comparison.id}
        complete = {
            side: matrix[~np.isnan(matrix).any(axis=1)]
            for side, matrix in (("from", before), ("to", after))
        }
        for j, it in enumerate(items):
            row = found[it.id]
            assert row.n_paired == int(people.sum())
            if row.withheld:
                continue
            b = int(np.sum((before[:, j] == 0) & (after[:, j] == 1)))
            c = int(np.sum((before[:, j] == 1) & (after[:, j] == 0)))
            assert (row.mcnemar_b, row.mcnemar_c) == (b, c)
            if b + c:
                assert row.mcnemar_p == pytest.approx(sps.binomtest(min(b, c), b + c).pvalue)
            assert row.p_from == pytest.approx(np.mean(before[:, j]), nan_ok=True)
            for side in ("from", "to"):
                matrix = complete[side]
                rest = matrix.sum(axis=1) - matrix[:, j]
                got = getattr(row, f"discrimination_{side}")
                if np.ptp(matrix[:, j]) == 0 or np.ptp(rest) == 0:
                    assert got is None
                else:
                    oracle = sps.pointbiserialr(matrix[:, j], rest).statistic
                    assert got == pytest.approx(oracle, abs=1e-12)
        for row in analysis.reliability:
            if row.comparison != comparison.id or row.withheld or row.kr20 is None:
                continue
            matrix = before if row.phase == first else after
            columns = [j for j, it in enumerate(items) if row.skill in (it.skill, "total")]
            chosen = matrix[:, columns]
            chosen = chosen[~np.isnan(chosen).any(axis=1)]
            k = len(columns)
            oracle = (
                k / (k - 1) * (1 - chosen.var(axis=0, ddof=1).sum() / chosen.sum(1).var(ddof=1))
            )
            assert (row.n, row.k) == chosen.shape
            assert row.kr20 == pytest.approx(oracle, abs=1e-12)


def test_answer_summaries_against_counting_by_hand(rows: list[ScoreRow]) -> None:
    # Oracle: each group's answers listed and counted one by one.
    from collections import Counter

    from evalsvc.domain.analysis import analyse
    from evalsvc.domain.populations import summarised_items
    from evalsvc.domain.questionnaire import NOT_APPLICABLE, TRUE_FALSE_OPTIONS

    design = analysis_design(BUNDLED)
    cohort = reports.cohort_from_rows(BUNDLED, design, rows)
    analysis = analyse(BUNDLED, design, cohort)
    kinds = set()
    by_key = {(r.phase, r.item, r.breakdown, r.group): r for r in analysis.answer_summaries}
    for phase, items in summarised_items(BUNDLED).items():
        for item in items:
            if item.kind in ("short_text", "long_text"):
                continue
            values = [a.get(item.id) if a else None for a in cohort.answers[phase]]
            for breakdown in ["all", *(b.id for b in design.breakdowns)]:
                groups = ["all"] if breakdown == "all" else design.breakdown(breakdown).groups
                for g, group in enumerate(groups):
                    members = (
                        np.ones(cohort.size, dtype=bool)
                        if breakdown == "all"
                        else cohort.groups[breakdown] == g
                    )
                    chosen = [
                        v for v, m in zip(values, members, strict=True) if m and v is not None
                    ]
                    row = by_key[(phase, item.id, breakdown, group)]
                    assert row.n == len(chosen)
                    if row.withheld or not chosen:
                        continue
                    kinds.add(item.kind)
                    numbers = [
                        float(v)
                        for v in chosen
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    ]
                    if item.kind in ("likert", "number"):
                        assert row.mean == pytest.approx(np.mean(numbers) if numbers else None)
                        if len(numbers) >= 2:
                            assert row.sd == pytest.approx(np.std(numbers, ddof=1), abs=1e-12)
                    if item.kind == "likert":
                        scale = BUNDLED.scale(item.scale)
                        assert scale is not None
                        counts = Counter(int(x) for x in numbers)
                        assert row.distribution == {str(p): counts[p] for p in scale.points}
                        if item.not_applicable:
                            assert row.n_not_applicable == chosen.count(NOT_APPLICABLE)
                        if numbers:
                            top = sum(x >= scale.max - 1 for x in numbers) / len(numbers)
                            assert row.top_two_box == pytest.approx(top)
                    if item.kind in ("single_choice", "multiple_choice", "true_false"):
                        counts = Counter()
                        for v in chosen:
                            counts.update(v if isinstance(v, list) else [str(v)])
                        options = (
                            TRUE_FALSE_OPTIONS if item.kind == "true_false" else item.option_ids
                        )
                        assert row.distribution == {o: counts[o] for o in options}
    assert {"likert", "single_choice", "multiple_choice"} <= kinds


def test_decoding_in_chunks_changes_nothing(rows: list[ScoreRow]) -> None:
    from evalsvc.stored_scores import _scores

    skills = analysis_design(BUNDLED).skills
    items = tuple(item.id for item in BUNDLED.items_by_role("knowledge"))
    texts = [row.scores_json for row in rows]
    whole = _scores(tuple(skills), items, texts)
    for chunk in (1, 7, len(texts) - 1):
        parts = _scores(tuple(skills), items, texts, chunk=chunk)
        for name, array in whole.items():
            assert np.array_equal(parts[name], array, equal_nan=True), (chunk, name)
