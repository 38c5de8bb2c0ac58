"""knowledge_scores, confidence_scores, item_correct and score_submission.

Course used (COURSE below): knowledge items
    k_sc         single_choice, key b,       1 point,  skill recall   (dont_know offered)
    k_tf         true_false,    key true,    1 point,  skill recall
    k_mc         multiple,      key {a, c},  2 points, skill practice, partial credit
    k_mc_strict  multiple,      key {a, b},  1 point,  skill practice (dont_know offered)
so recall has 2 points available, practice 3, total 5.
Self-assessment: sa1 (recall), sa2 (practice), scale 1..5.
"""

from __future__ import annotations

import msgspec
import pytest

from evalsvc.domain.answers import validate_answers
from evalsvc.domain.questionnaire import Course, check_course
from evalsvc.domain.scoring import (
    confidence_scores,
    item_correct,
    item_points,
    knowledge_scores,
    score_submission,
)


def _t(text: str) -> dict[str, str]:
    return {"en": text}


def _options(*ids: str) -> list[dict]:
    return [{"id": o, "text": _t(o)} for o in ids]


COURSE_DICT: dict = {
    "id": "scoring-course",
    "title": _t("Scoring"),
    "agencies": [{"id": "a1", "name": _t("Agency")}],
    "skills": [{"id": "recall", "name": _t("Recall")}, {"id": "practice", "name": _t("Practice")}],
    "scales": [{"id": "conf", "min": 1, "max": 5}, {"id": "wide", "min": 0, "max": 10}],
    "sections": [
        {"id": "self", "title": _t("Confidence")},
        {"id": "knowledge", "title": _t("Knowledge")},
        {"id": "feedback", "title": _t("Feedback")},
    ],
    "phases": [
        {"id": "pre", "sections": ["self", "knowledge"]},
        {"id": "post", "sections": ["self", "knowledge", "feedback"]},
    ],
    "items": [
        {
            "id": "sa1",
            "role": "self_assessment",
            "kind": "likert",
            "section": "self",
            "text": _t("Confident?"),
            "skill": "recall",
            "scale": "conf",
            "required": True,
        },
        {
            "id": "sa2",
            "role": "self_assessment",
            "kind": "likert",
            "section": "self",
            "text": _t("Confident 2?"),
            "skill": "practice",
            "scale": "conf",
        },
        {
            "id": "k_sc",
            "role": "knowledge",
            "kind": "single_choice",
            "section": "knowledge",
            "text": _t("Pick b"),
            "skill": "recall",
            "required": True,
            "dont_know": True,
            "options": _options("a", "b", "c"),
            "correct": ["b"],
        },
        {
            "id": "k_tf",
            "role": "knowledge",
            "kind": "true_false",
            "section": "knowledge",
            "text": _t("True?"),
            "skill": "recall",
            "correct": ["true"],
        },
        {
            "id": "k_mc",
            "role": "knowledge",
            "kind": "multiple_choice",
            "section": "knowledge",
            "text": _t("Pick a and c"),
            "skill": "practice",
            "points": 2,
            "partial_credit": True,
            "options": _options("a", "b", "c", "d"),
            "correct": ["a", "c"],
        },
        {
            "id": "k_mc_strict",
            "role": "knowledge",
            "kind": "multiple_choice",
            "section": "knowledge",
            "text": _t("Pick a and b"),
            "skill": "practice",
            "dont_know": True,
            "options": _options("a", "b", "c"),
            "correct": ["a", "b"],
        },
        {
            "id": "f_short",
            "role": "feedback",
            "kind": "short_text",
            "section": "feedback",
            "text": _t("Short"),
        },
        {
            "id": "f_rate",
            "role": "feedback",
            "kind": "likert",
            "section": "feedback",
            "text": _t("Rate"),
            "scale": "wide",
            "not_applicable": True,
        },
    ],
}
COURSE = msgspec.convert(COURSE_DICT, type=Course)
ITEMS = {item.id: item for item in COURSE.items}


def test_course_is_sound():
    assert check_course(COURSE, {}, "course.toml") == []


ALL_CORRECT = {"k_sc": "b", "k_tf": "true", "k_mc": ["a", "c"], "k_mc_strict": ["a", "b"]}


@pytest.mark.parametrize(
    ("item_id", "answer", "points"),
    [
        pytest.param("k_sc", "b", 1.0, id="single-key"),
        pytest.param("k_sc", "a", 0.0, id="single-wrong"),
        pytest.param("k_sc", "zzz", 0.0, id="single-unknown-option"),
        pytest.param("k_sc", "dont_know", 0.0, id="single-dont-know"),
        pytest.param("k_sc", None, 0.0, id="single-unanswered"),
        pytest.param("k_sc", 5, 0.0, id="single-garbage"),
        pytest.param("k_tf", "true", 1.0, id="true-false-key"),
        pytest.param("k_tf", "false", 0.0, id="true-false-wrong"),
        # partial credit: 2 * max(0, (right - wrong) / 2)
        pytest.param("k_mc", ["a", "c"], 2.0, id="partial-all-right"),  # 2 * (2-0)/2
        pytest.param("k_mc", ["a"], 1.0, id="partial-half"),  # 2 * (1-0)/2
        pytest.param("k_mc", ["a", "b", "c"], 1.0, id="partial-one-wrong"),  # 2 * (2-1)/2
        pytest.param("k_mc", ["a", "b"], 0.0, id="partial-cancels-out"),  # 2 * (1-1)/2
        pytest.param("k_mc", ["b", "d"], 0.0, id="partial-floored-at-zero"),  # 2 * max(0, -2/2)
        pytest.param("k_mc", ["a", "b", "c", "d"], 0.0, id="partial-everything"),  # 2 * (2-2)/2
        pytest.param("k_mc", "a", 1.0, id="partial-bare-string"),  # 2 * (1-0)/2
        pytest.param("k_mc", [], 0.0, id="partial-empty"),
        # all or nothing
        pytest.param("k_mc_strict", ["a", "b"], 1.0, id="strict-exact"),
        pytest.param("k_mc_strict", ["b", "a"], 1.0, id="strict-any-order"),
        pytest.param("k_mc_strict", ["a"], 0.0, id="strict-subset"),
        pytest.param("k_mc_strict", ["a", "b", "c"], 0.0, id="strict-superset"),
        pytest.param("k_mc_strict", ["dont_know"], 0.0, id="strict-dont-know"),
        pytest.param("k_mc_strict", ["a", "b", "dont_know"], 0.0, id="strict-dont-know-mixed"),
    ],
)
def test_item_points(item_id, answer, points):
    earned = item_points(ITEMS[item_id], answer)
    assert earned == pytest.approx(points)
    assert type(earned) is float


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({}, {"recall": 0.0, "practice": 0.0, "total": 0.0}, id="no-answers"),
        pytest.param(
            ALL_CORRECT, {"recall": 100.0, "practice": 100.0, "total": 100.0}, id="all-correct"
        ),
        # recall: k_sc 1 + k_tf 0 = 1/2 = 50 %
        # practice: k_mc ["a"] 2 * 1/2 = 1, k_mc_strict ["a"] 0 -> 1/3 = 33.33 %
        # total: 2/5 = 40 %
        pytest.param(
            {"k_sc": "b", "k_tf": "false", "k_mc": ["a"], "k_mc_strict": ["a"]},
            {"recall": 50.0, "practice": 100 / 3, "total": 40.0},
            id="partial-credit",
        ),
        # recall: dont_know 0 + unanswered 0 = 0 %; practice: 0 + strict 1 = 1/3;
        # total: 1/5 = 20 %
        pytest.param(
            {"k_sc": "dont_know", "k_mc": ["b", "d"], "k_mc_strict": ["b", "a"]},
            {"recall": 0.0, "practice": 100 / 3, "total": 20.0},
            id="dont-know-and-wrong",
        ),
        # recall: k_tf 1 -> 1/2; practice: k_mc 2 -> 2/3; total 3/5
        pytest.param(
            {"k_sc": "zzz", "k_tf": "true", "k_mc": ["c", "a"], "sa1": 5, "f_short": "x"},
            {"recall": 50.0, "practice": 200 / 3, "total": 60.0},
            id="unknown-option-and-other-roles-ignored",
        ),
    ],
)
def test_knowledge_scores(answers, expected):
    scores = knowledge_scores(COURSE, answers)
    assert list(scores) == list(expected)  # skills in course order, total last
    assert scores == pytest.approx(expected)
    assert all(type(v) is float for v in scores.values())


def test_all_correct_is_exactly_one_hundred():
    assert knowledge_scores(COURSE, ALL_CORRECT) == {
        "recall": 100.0,
        "practice": 100.0,
        "total": 100.0,
    }


def test_skill_without_knowledge_items_is_absent():
    data = dict(COURSE_DICT)
    data["skills"] = [*COURSE_DICT["skills"], {"id": "unused", "name": {"en": "Unused"}}]
    course = msgspec.convert(data, type=Course)
    assert "unused" not in knowledge_scores(course, ALL_CORRECT)
    assert "unused" not in confidence_scores(course, {"sa1": 3})


def test_course_without_knowledge_items_has_no_scores():
    data = dict(COURSE_DICT)
    data["items"] = [i for i in COURSE_DICT["items"] if i["role"] != "knowledge"]
    course = msgspec.convert(data, type=Course)
    assert knowledge_scores(course, {"k_sc": "b"}) == {}
    assert item_correct(course, {"k_sc": "b"}) == {}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({}, {}, id="nothing-answered"),
        pytest.param(
            {"sa1": 4, "sa2": 2}, {"recall": 4.0, "practice": 2.0, "total": 3.0}, id="both"
        ),  # total (4 + 2) / 2
        pytest.param({"sa1": 4}, {"recall": 4.0, "total": 4.0}, id="only-recall"),
        pytest.param(
            {"sa2": 1, "f_rate": 10}, {"practice": 1.0, "total": 1.0}, id="feedback-likert-ignored"
        ),
        pytest.param({"sa1": True, "sa2": 9, "k_sc": "b"}, {}, id="bool-and-off-scale-ignored"),
        pytest.param(
            {"sa1": 5.0, "sa2": float("nan")},
            {"recall": 5.0, "total": 5.0},
            id="whole-float-counts-nan-ignored",
        ),
    ],
)
def test_confidence_scores(answers, expected):
    scores = confidence_scores(COURSE, answers)
    assert scores == expected
    assert list(scores) == list(expected)
    assert all(type(v) is float for v in scores.values())


def test_confidence_mean_over_several_items_of_a_skill():
    data = dict(COURSE_DICT)
    extra = {
        "id": "sa3",
        "role": "self_assessment",
        "kind": "likert",
        "section": "self",
        "text": {"en": "More"},
        "skill": "recall",
        "scale": "conf",
    }
    data["items"] = [*COURSE_DICT["items"], extra]
    course = msgspec.convert(data, type=Course)
    # recall: (2 + 5) / 2 = 3.5; practice: 3; total: (2 + 3 + 5) / 3 = 3.333...
    scores = confidence_scores(course, {"sa1": 2, "sa2": 3, "sa3": 5})
    assert scores == pytest.approx({"recall": 3.5, "practice": 3.0, "total": 10 / 3})


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param(
            {}, {"k_sc": False, "k_tf": False, "k_mc": False, "k_mc_strict": False}, id="no-answers"
        ),
        pytest.param(
            ALL_CORRECT,
            {"k_sc": True, "k_tf": True, "k_mc": True, "k_mc_strict": True},
            id="all-correct",
        ),
        pytest.param(
            {"k_sc": "dont_know", "k_tf": "true", "k_mc": ["a"], "k_mc_strict": ["dont_know"]},
            {"k_sc": False, "k_tf": True, "k_mc": False, "k_mc_strict": False},
            id="partial-credit-is-not-correct",
        ),
    ],
)
def test_item_correct(answers, expected):
    assert item_correct(COURSE, answers) == expected


def test_score_submission_from_validated_answers():
    raw = {
        "sa1": "4",
        "sa2": 2,
        "k_sc": "b",
        "k_tf": False,
        "k_mc": ["c", "b", "a"],
        "k_mc_strict": "a",
    }
    validated = validate_answers(COURSE, "pre", raw)
    assert validated.errors["sa1"].code == "wrong_type"  # JSON string for a likert
    scores = score_submission(COURSE, validated.answers)
    knowledge, confidence, correct = scores.knowledge, scores.confidence, scores.correct
    # recall: k_sc 1 + k_tf 0 -> 50 %; practice: k_mc 2 * (2-1)/2 = 1, strict 0 -> 1/3;
    # total: 2/5 = 40 %
    assert knowledge == pytest.approx({"recall": 50.0, "practice": 100 / 3, "total": 40.0})
    # sa1 was rejected, so only sa2 counts
    assert confidence == {"practice": 2.0, "total": 2.0}
    assert correct == {"k_sc": True, "k_tf": False, "k_mc": False, "k_mc_strict": False}


def test_does_not_apply_scores_nothing_and_changes_no_score():
    answers = {"sa1": 4, "sa2": 2, "k_sc": "b", "k_tf": "true", "k_mc": ["a"]}
    with_na = validate_answers(COURSE, "post", {**answers, "f_rate": "not_applicable"})
    assert with_na.ok, with_na.errors
    assert with_na.answers["f_rate"] == "not_applicable"
    without = validate_answers(COURSE, "post", answers)
    assert score_submission(COURSE, with_na.answers) == score_submission(COURSE, without.answers)
    # a "does not apply" that reached a self-assessment item some other way is no point either
    assert confidence_scores(COURSE, {"sa1": "not_applicable", "sa2": 2}) == {
        "practice": 2.0,
        "total": 2.0,
    }
