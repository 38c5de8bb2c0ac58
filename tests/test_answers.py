"""validate_answers, answers_from_form, form_values and canonical on a small course."""

from __future__ import annotations

import math
import random

import msgspec
import pytest

from evalsvc.domain.answers import (
    BODY_KEY,
    ERROR_CODES,
    ItemError,
    NotANumber,
    Validated,
    answers_from_form,
    canonical,
    form_values,
    parse_number,
    validate_answers,
)
from evalsvc.domain.questionnaire import NOT_APPLICABLE, Course, check_course


def _t(text: str) -> dict[str, str]:
    return {"en": text}


COURSE_DICT: dict = {
    "id": "test-course",
    "title": _t("Test course"),
    "agencies": [{"id": "a1", "name": _t("Agency")}],
    "skills": [{"id": "recall", "name": _t("Recall")}, {"id": "practice", "name": _t("Practice")}],
    "scales": [
        {"id": "conf", "min": 1, "max": 5},
        {"id": "wide", "min": 0, "max": 10},
    ],
    "sections": [
        {"id": "profile", "title": _t("About you")},
        {"id": "self", "title": _t("Confidence")},
        {"id": "knowledge", "title": _t("Knowledge")},
        {"id": "feedback", "title": _t("Feedback")},
    ],
    "phases": [
        {"id": "pre", "sections": ["profile", "self", "knowledge"]},
        {"id": "post", "sections": ["self", "knowledge", "feedback"]},
    ],
    "items": [
        # profile (pre only)
        {
            "id": "p_years",
            "role": "profile",
            "kind": "number",
            "section": "profile",
            "text": _t("Years of service"),
            "min": 0,
            "max": 50,
        },
        {
            "id": "p_age",
            "role": "profile",
            "kind": "number",
            "section": "profile",
            "text": _t("Any number"),
        },
        {
            "id": "p_role",
            "role": "profile",
            "kind": "single_choice",
            "section": "profile",
            "text": _t("Role"),
            "options": [{"id": "a", "text": _t("A")}, {"id": "b", "text": _t("B")}],
        },
        # self-assessment (pre and post)
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
        # knowledge (pre and post)
        {
            "id": "k_sc",
            "role": "knowledge",
            "kind": "single_choice",
            "section": "knowledge",
            "text": _t("Pick b"),
            "skill": "recall",
            "required": True,
            "dont_know": True,
            "options": [{"id": o, "text": _t(o)} for o in ("a", "b", "c")],
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
            "options": [{"id": o, "text": _t(o)} for o in ("a", "b", "c", "d")],
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
            "options": [{"id": o, "text": _t(o)} for o in ("a", "b", "c")],
            "correct": ["a", "b"],
        },
        # feedback (post only)
        {
            "id": "f_short",
            "role": "feedback",
            "kind": "short_text",
            "section": "feedback",
            "text": _t("Short"),
            "max_length": 10,
        },
        {
            "id": "f_long",
            "role": "feedback",
            "kind": "long_text",
            "section": "feedback",
            "text": _t("Long"),
        },
        {
            "id": "f_rate",
            "role": "feedback",
            "kind": "likert",
            "section": "feedback",
            "text": _t("Rate"),
            "scale": "wide",
        },
        {
            "id": "f_exercises",
            "role": "feedback",
            "kind": "likert",
            "section": "feedback",
            "text": _t("The exercises were good"),
            "scale": "conf",
            "not_applicable": True,
        },
        {
            "id": "f_topics",
            "role": "feedback",
            "kind": "multiple_choice",
            "section": "feedback",
            "text": _t("Topics"),
            "options": [{"id": o, "text": _t(o)} for o in ("x", "y", "z")],
        },
    ],
}

COURSE = msgspec.convert(COURSE_DICT, type=Course)
PRE_ITEMS = ["p_years", "p_age", "p_role", "sa1", "sa2", "k_sc", "k_tf", "k_mc", "k_mc_strict"]
POST_ITEMS = [
    "sa1",
    "sa2",
    "k_sc",
    "k_tf",
    "k_mc",
    "k_mc_strict",
    "f_short",
    "f_long",
    "f_rate",
    "f_exercises",
    "f_topics",
]
PHASE_OF = {item_id: "pre" for item_id in PRE_ITEMS} | {
    item_id: "post" for item_id in POST_ITEMS if item_id not in PRE_ITEMS
}


def test_course_is_sound():
    assert check_course(COURSE, {}, "course.toml") == []
    assert [i.id for i in COURSE.items_in_phase("pre")] == PRE_ITEMS
    assert [i.id for i in COURSE.items_in_phase("post")] == POST_ITEMS


def _one(item_id: str, value: object) -> tuple[object, ItemError | None]:
    """Validate a single answer in the item's phase: (normalised answer, error)."""
    result = validate_answers(COURSE, PHASE_OF[item_id], {item_id: value})
    return result.answers.get(item_id), result.errors.get(item_id)


NAN, INF = float("nan"), float("inf")

# (item id, raw value, expected normalised answer)
VALID = [
    pytest.param("k_sc", "b", "b", id="single-choice"),
    pytest.param("k_sc", "dont_know", "dont_know", id="single-choice-dont-know"),
    pytest.param("k_sc", ["b"], "b", id="single-choice-one-element-list"),
    pytest.param("k_sc", ["", "b"], "b", id="single-choice-blank-dropped"),
    pytest.param("k_tf", "false", "false", id="true-false-string"),
    pytest.param("k_tf", True, "true", id="true-false-json-true"),
    pytest.param("k_tf", False, "false", id="true-false-json-false"),
    pytest.param("k_mc", ["c", "a"], ["a", "c"], id="multiple-sorted"),
    pytest.param("k_mc", ["a", "a", "c"], ["a", "c"], id="multiple-deduplicated"),
    pytest.param("k_mc", "b", ["b"], id="multiple-single-string"),
    pytest.param("k_mc", ("d", "b"), ["b", "d"], id="multiple-tuple"),
    pytest.param("k_mc", ["", "a", None], ["a"], id="multiple-blank-entries-dropped"),
    pytest.param("k_mc_strict", ["dont_know"], ["dont_know"], id="multiple-dont-know-alone"),
    pytest.param("sa1", 3, 3, id="likert-int"),
    pytest.param("sa1", 1, 1, id="likert-scale-min"),
    pytest.param("sa1", 5, 5, id="likert-scale-max"),
    pytest.param("sa1", 3.0, 3, id="likert-int-valued-float"),
    pytest.param("sa1", [4], 4, id="likert-one-element-list"),
    pytest.param("f_rate", 0, 0, id="likert-zero-based-scale"),
    pytest.param("f_exercises", 4, 4, id="likert-not-applicable-offered-point"),
    pytest.param(
        "f_exercises", "not_applicable", "not_applicable", id="likert-not-applicable-chosen"
    ),
    pytest.param("f_exercises", ["not_applicable"], "not_applicable", id="likert-na-in-list"),
    pytest.param("p_years", 12, 12, id="number-int"),
    pytest.param("p_years", 12.5, 12.5, id="number-float"),
    pytest.param("p_years", 12.0, 12, id="number-whole-float-becomes-int"),
    pytest.param("p_years", 0, 0, id="number-at-min"),
    pytest.param("p_years", 50, 50, id="number-at-max"),
    pytest.param("p_age", -0.0, 0, id="number-negative-zero"),
    pytest.param("p_age", -1e9, -1000000000, id="number-unbounded-negative"),
    pytest.param("p_age", 2**53, 2**53, id="number-at-magnitude-limit"),
    pytest.param("f_short", "  hello \n", "hello", id="text-stripped"),
    pytest.param("f_short", "x" * 10, "x" * 10, id="text-at-limit"),
    pytest.param("f_short", "e\u0301" * 10, "\u00e9" * 10, id="text-nfc-counts-after-normalising"),
    pytest.param("f_long", "a\r\nb\rc", "a\nb\nc", id="text-line-breaks-normalised"),
    pytest.param("f_long", "a\tb", "a\tb", id="text-tab-allowed"),
    pytest.param("f_long", "Сәлем 👋", "Сәлем 👋", id="text-non-latin"),
]


@pytest.mark.parametrize(("item_id", "raw", "expected"), VALID)
def test_valid_answer(item_id, raw, expected):
    answer, error = _one(item_id, raw)
    assert error is None
    assert answer == expected
    assert type(answer) is type(expected)


# (item id, raw value, expected error code)
INVALID = [
    pytest.param("k_sc", "zzz", "unknown_option", id="single-choice-unknown-option"),
    pytest.param("p_role", "dont_know", "unknown_option", id="dont-know-not-offered"),
    pytest.param("k_sc", 1, "wrong_type", id="single-choice-number"),
    pytest.param("k_sc", True, "wrong_type", id="single-choice-bool"),
    pytest.param("k_sc", ["a", "b"], "too_many", id="single-choice-two-values"),
    pytest.param("k_sc", [["b"]], "wrong_type", id="single-choice-nested-list"),
    pytest.param("k_sc", {"b": 1}, "wrong_type", id="single-choice-dict"),
    pytest.param("k_tf", "yes", "unknown_option", id="true-false-yes"),
    pytest.param("k_tf", 1, "wrong_type", id="true-false-one"),
    pytest.param("k_mc", ["a", "zz"], "unknown_option", id="multiple-unknown-option"),
    pytest.param("k_mc", ["dont_know"], "unknown_option", id="multiple-dont-know-not-offered"),
    pytest.param(
        "k_mc_strict", ["dont_know", "a"], "dont_know_combined", id="multiple-dont-know-with-other"
    ),
    pytest.param("k_mc", [1], "wrong_type", id="multiple-number-entry"),
    pytest.param("k_mc", [["a"]], "wrong_type", id="multiple-nested-list"),
    pytest.param("k_mc", {"a": True}, "wrong_type", id="multiple-dict"),
    pytest.param("k_mc", 7, "wrong_type", id="multiple-number"),
    pytest.param("sa1", 0, "out_of_range", id="likert-below-scale"),
    pytest.param("sa1", 6, "out_of_range", id="likert-above-scale"),
    pytest.param("sa1", -(10**100), "out_of_range", id="likert-huge-negative"),
    pytest.param("sa1", True, "wrong_type", id="likert-bool-true"),
    pytest.param("sa1", False, "wrong_type", id="likert-bool-false"),
    pytest.param("sa1", 3.5, "wrong_type", id="likert-fraction"),
    pytest.param("sa1", "3", "wrong_type", id="likert-json-string"),
    pytest.param("sa1", NAN, "not_a_number", id="likert-nan"),
    pytest.param("sa1", INF, "not_a_number", id="likert-inf"),
    pytest.param("sa1", [3, 4], "too_many", id="likert-two-values"),
    pytest.param("sa1", NotANumber("abc"), "not_a_number", id="likert-form-marker"),
    pytest.param("sa1", "not_applicable", "unknown_option", id="likert-not-applicable-not-offered"),
    pytest.param("f_rate", "not_applicable", "unknown_option", id="feedback-likert-na-not-offered"),
    pytest.param("f_exercises", "n/a", "wrong_type", id="likert-other-string-with-na-offered"),
    pytest.param(
        "f_exercises", ["not_applicable", 3], "too_many", id="likert-na-together-with-a-point"
    ),
    pytest.param("k_sc", "not_applicable", "unknown_option", id="choice-na-is-no-option"),
    pytest.param("p_years", -1, "out_of_range", id="number-below-min"),
    pytest.param("p_years", 50.5, "out_of_range", id="number-above-max"),
    pytest.param("p_years", NAN, "not_a_number", id="number-nan"),
    pytest.param("p_years", INF, "not_a_number", id="number-inf"),
    pytest.param("p_years", -INF, "not_a_number", id="number-minus-inf"),
    pytest.param("p_years", True, "wrong_type", id="number-bool"),
    pytest.param("p_years", "12", "wrong_type", id="number-json-string"),
    pytest.param("p_years", NotANumber("1e400"), "not_a_number", id="number-form-marker"),
    pytest.param("p_age", 10**400, "out_of_range", id="number-huge-int"),
    pytest.param("p_age", 2**53 + 1, "out_of_range", id="number-beyond-magnitude-limit"),
    pytest.param("p_age", 1e300, "out_of_range", id="number-huge-float"),
    pytest.param("f_short", "x" * 11, "too_long", id="text-over-limit"),
    pytest.param("f_long", "x" * 4001, "too_long", id="long-text-default-limit"),
    pytest.param("f_short", "a\x00b", "invalid_text", id="text-nul"),
    pytest.param("f_short", "a\x1bb", "invalid_text", id="text-escape"),
    pytest.param("f_short", "a\x7fb", "invalid_text", id="text-del"),
    pytest.param("f_short", "a\x85b", "invalid_text", id="text-c1-control"),
    pytest.param("f_short", "a\ud800b", "invalid_text", id="text-lone-surrogate"),
    pytest.param("f_short", 42, "wrong_type", id="text-number"),
    pytest.param("f_short", ["a", "b"], "too_many", id="text-two-values"),
]


@pytest.mark.parametrize(("item_id", "raw", "code"), INVALID)
def test_invalid_answer(item_id, raw, code):
    answer, error = _one(item_id, raw)
    assert answer is None
    assert error is not None
    assert error.code == code
    assert code in ERROR_CODES
    assert error.message and error.message[0].isupper()


@pytest.mark.parametrize(
    "blank",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty-string"),
        pytest.param("   \n", id="whitespace"),
        pytest.param([], id="empty-list"),
        pytest.param(["", None], id="list-of-blanks"),
    ],
)
@pytest.mark.parametrize("item_id", ["k_sc", "sa1"])
def test_required_item_blank(item_id, blank):
    answer, error = _one(item_id, blank)
    assert answer is None
    assert error == ItemError("required", "This question must be answered.")


@pytest.mark.parametrize("item_id", ["k_tf", "k_mc", "sa2", "p_years", "f_short", "f_topics"])
def test_optional_item_blank_is_simply_absent(item_id):
    result = validate_answers(COURSE, PHASE_OF[item_id], {item_id: ""})
    assert item_id not in result.answers
    assert item_id not in result.errors


def test_no_answers_reports_only_required_items():
    result = validate_answers(COURSE, "pre", {})
    assert result.answers == {}
    assert {k: e.code for k, e in result.errors.items()} == {"sa1": "required", "k_sc": "required"}
    assert not result.ok


def test_complete_valid_submission_in_phase_order():
    raw = {"k_mc": ["c", "a"], "sa1": 4, "k_sc": "b", "p_years": 3.0, "k_tf": True}
    result = validate_answers(COURSE, "pre", raw)
    assert result.ok
    assert result == Validated(
        answers={"p_years": 3, "sa1": 4, "k_sc": "b", "k_tf": "true", "k_mc": ["a", "c"]},
        errors={},
    )
    assert list(result.answers) == ["p_years", "sa1", "k_sc", "k_tf", "k_mc"]


def test_all_errors_are_collected():
    raw = {
        "f_short": "x" * 11,
        "bogus": 1,
        "sa2": 9,
        "k_mc": ["a", "nope"],
        "k_tf": "true",
        "p_years": 5,  # pre-only item: unknown in post
    }
    result = validate_answers(COURSE, "post", raw)
    assert result.answers == {"k_tf": "true"}
    # phase items in order first, then unknown keys in input order
    assert [(k, e.code) for k, e in result.errors.items()] == [
        ("sa1", "required"),
        ("sa2", "out_of_range"),
        ("k_sc", "required"),
        ("k_mc", "unknown_option"),
        ("f_short", "too_long"),
        ("bogus", "unknown_item"),
        ("p_years", "unknown_item"),
    ]


def test_unknown_phase_has_no_items():
    result = validate_answers(COURSE, "mid", {"sa1": 3})
    assert result.answers == {}
    assert {k: e.code for k, e in result.errors.items()} == {"sa1": "unknown_item"}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(["sa1", 3], id="list"),
        pytest.param("sa1=3", id="string"),
        pytest.param(None, id="none"),
        pytest.param(42, id="number"),
    ],
)
def test_body_that_is_not_an_object(raw):
    result = validate_answers(COURSE, "pre", raw)  # type: ignore[arg-type]
    assert result.answers == {}
    assert result.errors[BODY_KEY].code == "wrong_type"
    assert result.errors["sa1"].code == "required"


def test_non_string_keys_are_unknown_items():
    result = validate_answers(COURSE, "post", {1: "x", None: 3, ("a",): 1, "sa1": 2})  # type: ignore[dict-item]
    assert result.answers == {"sa1": 2}
    assert {k: e.code for k, e in result.errors.items()} == {
        "k_sc": "required",
        "1": "unknown_item",
        "None": "unknown_item",
        "('a',)": "unknown_item",
    }


def test_unknown_option_message_is_bounded():
    _, error = _one("k_mc", ["junk" * 1000, "more", "and", "more2"])
    assert error is not None and error.code == "unknown_option"
    assert len(error.message) < 200


# -- forms ------------------------------------------------------------------------------


def test_form_with_csrf_token_and_other_fields():
    form = {
        "_csrf_token": ["abc"],
        "code": ["K7QX-2M"],
        "agency": ["a1"],
        "submission_id": ["0f7c"],
        "lang": ["ru"],
        "p_years": ["12"],
        "p_age": ["  -3.25 "],
        "p_role": ["a"],
        "sa1": ["4"],
        "sa2": [""],
        "k_sc": ["b"],
        "k_tf": ["false"],
        "k_mc": ["", "c", "a"],  # hidden empty input, then two ticked boxes
        "k_mc_strict": ["dont_know"],
    }
    raw = answers_from_form(COURSE, "pre", form)
    assert raw == {
        "p_years": 12,
        "p_age": -3.25,
        "p_role": "a",
        "sa1": 4,
        "k_sc": "b",
        "k_tf": "false",
        "k_mc": ["c", "a"],
        "k_mc_strict": ["dont_know"],
    }
    result = validate_answers(COURSE, "pre", raw)
    assert result.ok
    assert result.answers["k_mc"] == ["a", "c"]


def test_form_single_checkbox_arrives_as_string():
    raw = answers_from_form(COURSE, "post", {"f_topics": "y", "sa1": "2", "k_sc": "a"})  # type: ignore[dict-item]
    assert raw == {"sa1": 2, "k_sc": "a", "f_topics": ["y"]}
    assert validate_answers(COURSE, "post", raw).answers["f_topics"] == ["y"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("3", 3, id="int"),
        pytest.param(" +3 ", 3, id="signed-padded"),
        pytest.param("007", 7, id="leading-zeros"),
        pytest.param("12.5", 12.5, id="decimal"),
        pytest.param(".5", 0.5, id="leading-point"),
        pytest.param("3.", 3.0, id="trailing-point"),
        pytest.param("-2e3", -2000.0, id="exponent"),
        pytest.param("1e400", NotANumber("1e400"), id="overflow-to-inf"),
        pytest.param("abc", NotANumber("abc"), id="letters"),
        pytest.param("nan", NotANumber("nan"), id="nan-word"),
        pytest.param("inf", NotANumber("inf"), id="inf-word"),
        pytest.param("1_000", NotANumber("1_000"), id="underscore"),
        pytest.param("12,5", NotANumber("12,5"), id="decimal-comma"),
        pytest.param("١٢", NotANumber("١٢"), id="non-ascii-digits"),
        pytest.param("9" * 101, NotANumber("9" * 101), id="too-many-digits"),
    ],
)
def test_parse_number(text, expected):
    parsed = parse_number(text)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("item_id", "values", "code"),
    [
        pytest.param("sa1", ["abc"], "not_a_number", id="likert-letters"),
        pytest.param("p_years", ["1e400"], "not_a_number", id="number-overflow"),
        pytest.param("p_years", ["51"], "out_of_range", id="number-over-max"),
        pytest.param("sa1", ["3.5"], "wrong_type", id="likert-fraction"),
        pytest.param("k_sc", ["a", "b"], "too_many", id="radio-repeated"),
        pytest.param("sa1", ["3", "4"], "too_many", id="likert-repeated"),
        pytest.param("k_sc", ["   "], "required", id="required-blank"),
        pytest.param("sa1", ["not_applicable"], "unknown_option", id="likert-na-not-offered"),
        pytest.param("f_exercises", ["not_applicable", "2"], "too_many", id="likert-na-and-point"),
    ],
)
def test_form_errors(item_id, values, code):
    phase = PHASE_OF[item_id]
    raw = answers_from_form(COURSE, phase, {item_id: values})
    assert validate_answers(COURSE, phase, raw).errors[item_id].code == code


def test_form_keeps_not_applicable_as_the_answer_not_a_number():
    raw = answers_from_form(COURSE, "post", {"f_exercises": [" not_applicable "], "sa1": ["4"]})
    assert raw == {"sa1": 4, "f_exercises": NOT_APPLICABLE}
    validated = validate_answers(COURSE, "post", raw)
    assert validated.answers["f_exercises"] == NOT_APPLICABLE
    assert canonical({"f_exercises": validated.answers["f_exercises"]}) == (
        b'{"f_exercises":"not_applicable"}'
    )


def test_form_ignores_non_string_values_and_missing_phase():
    assert answers_from_form(COURSE, "pre", {"sa1": [3, None, b"4"], "k_sc": 5}) == {}  # type: ignore[dict-item]
    assert answers_from_form(COURSE, "nope", {"sa1": ["3"]}) == {}


def test_prefill_after_error_shows_every_answer_given():
    form = {
        "_csrf_token": ["tok"],
        "sa1": ["9"],  # out of range
        "sa2": ["2"],
        "k_sc": ["b"],
        "k_mc": ["a", "c"],
        "k_tf": ["true"],
        "f_short": ["far too long text"],
        "f_long": ["line 1\r\nline 2"],
        "f_rate": ["ten"],  # not a number
        "f_exercises": ["not_applicable"],
        "f_topics": ["x"],
    }
    raw = answers_from_form(COURSE, "post", form)
    result = validate_answers(COURSE, "post", raw)
    assert {k: e.code for k, e in result.errors.items()} == {
        "sa1": "out_of_range",
        "f_short": "too_long",
        "f_rate": "not_a_number",
    }
    prefill = form_values(COURSE, "post", raw)
    assert prefill == {
        "sa1": ["9"],
        "sa2": ["2"],
        "k_sc": ["b"],
        "k_tf": ["true"],
        "k_mc": ["a", "c"],
        "k_mc_strict": [],
        "f_short": ["far too long text"],
        "f_long": ["line 1\r\nline 2"],
        "f_rate": ["ten"],
        "f_exercises": ["not_applicable"],
        "f_topics": ["x"],
    }
    # and submitting the pre-filled form again gives the same raw answers
    assert answers_from_form(COURSE, "post", prefill) == raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("b", ["b"], id="string"),
        pytest.param(["a", "c"], ["a", "c"], id="list"),
        pytest.param(True, ["true"], id="bool"),
        pytest.param(4, ["4"], id="int"),
        pytest.param(12.0, ["12"], id="whole-float"),
        pytest.param(12.5, ["12.5"], id="float"),
        pytest.param(1e20, ["1e+20"], id="big-float"),
        pytest.param(NotANumber(" 1e400"), [" 1e400"], id="marker"),
        pytest.param(None, [], id="none"),
        pytest.param("", [], id="blank"),
        pytest.param({"a": 1}, [], id="dict"),
        pytest.param([["a"], "b", None], ["b"], id="nested-list"),
        pytest.param(10**5000, [], id="int-too-long-to-print"),
    ],
)
def test_form_values_of_one_value(value, expected):
    assert form_values(COURSE, "pre", {"p_age": value})["p_age"] == expected


def test_form_values_round_trip_of_validated_answers():
    raw = {
        "sa1": 3,
        "sa2": 5.0,
        "k_sc": "dont_know",
        "k_tf": False,
        "k_mc": ["d", "a"],
        "k_mc_strict": "c",
        "f_short": " ok ",
        "f_long": "e\u0301\r\nz",
        "f_rate": 10,
        "f_exercises": "not_applicable",
        "f_topics": ["z", "x"],
    }
    validated = validate_answers(COURSE, "post", raw)
    assert validated.ok
    assert validated.answers["f_exercises"] == "not_applicable"
    again = validate_answers(
        COURSE,
        "post",
        answers_from_form(COURSE, "post", form_values(COURSE, "post", validated.answers)),
    )
    assert again == validated
    assert canonical(again.answers) == canonical(validated.answers)


# -- canonical --------------------------------------------------------------------------


def test_canonical_sorted_compact_and_order_independent():
    a = validate_answers(COURSE, "pre", {"sa1": 4, "k_sc": "b", "k_mc": ["c", "a"], "p_years": 7.0})
    b = validate_answers(
        COURSE, "pre", {"p_years": 7, "k_mc": ["a", "c", "a"], "k_sc": "b", "sa1": 4.0}
    )
    assert canonical(a.answers) == canonical(b.answers)
    assert canonical(a.answers) == b'{"k_mc":["a","c"],"k_sc":"b","p_years":7,"sa1":4}'
    c = validate_answers(COURSE, "pre", {"sa1": 5, "k_sc": "b", "k_mc": ["c", "a"], "p_years": 7})
    assert canonical(c.answers) != canonical(a.answers)


def test_canonical_from_form_equals_from_json():
    via_form = validate_answers(
        COURSE,
        "post",
        answers_from_form(
            COURSE, "post", {"sa1": ["2"], "k_sc": ["a"], "f_long": ["hi\r\nthere "]}
        ),
    )
    via_json = validate_answers(COURSE, "post", {"f_long": "hi\nthere", "k_sc": "a", "sa1": 2})
    assert canonical(via_form.answers) == canonical(via_json.answers)


# -- fuzzing ----------------------------------------------------------------------------

_ATOMS: list[object] = [
    None,
    True,
    False,
    0,
    1,
    3,
    -1,
    2**53 + 1,
    10**30,
    -(10**400),
    0.5,
    3.0,
    -0.0,
    NAN,
    INF,
    -INF,
    1e308,
    "",
    " ",
    "a",
    "b",
    "c",
    "x",
    "true",
    "false",
    "dont_know",
    "not_applicable",
    "3",
    "12.5",
    "abc",
    "a\x00",
    "\ud800",
    "e\u0301",
    "x" * 50,
    "\r\n",
    NotANumber("zz"),
    b"bytes",
    object(),
]


def _random_value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 3 and roll < 0.25:
        return {rng.choice(["a", "sa1", 1]): _random_value(rng, depth + 1)}
    if depth < 3 and roll < 0.3:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    return rng.choice(_ATOMS)


_KEYS: list[object] = [*PRE_ITEMS, *POST_ITEMS, "bogus", "_csrf_token", 1, None, ("t",)]


@pytest.mark.parametrize("seed", range(20), ids=lambda s: f"seed-{s}")
@pytest.mark.parametrize("phase", ["pre", "post", "nope"])
def test_fuzz_validate_never_raises_and_is_idempotent(phase, seed):
    rng = random.Random(seed)
    for _ in range(100):
        raw = {rng.choice(_KEYS): _random_value(rng) for _ in range(rng.randrange(8))}
        result = validate_answers(COURSE, phase, raw)  # type: ignore[arg-type]
        assert set(result.answers).isdisjoint(result.errors)
        for error in result.errors.values():
            assert error.code in ERROR_CODES
        for value in result.answers.values():
            assert isinstance(value, str | list | int | float) and not isinstance(value, bool)
            if isinstance(value, float):
                assert math.isfinite(value) and not value.is_integer()
        encoded = canonical(result.answers)
        assert msgspec.json.decode(encoded) == result.answers
        again = validate_answers(COURSE, phase, result.answers)
        assert again.answers == result.answers
        assert all(e.code == "required" for e in again.errors.values())
        # the form path reproduces the validated answers too
        via_form = validate_answers(
            COURSE,
            phase,
            answers_from_form(COURSE, phase, form_values(COURSE, phase, result.answers)),
        )
        assert via_form.answers == result.answers


_FORM_VALUES = [
    "",
    " ",
    "a",
    "b",
    "c",
    "d",
    "x",
    "y",
    "true",
    "false",
    "dont_know",
    "not_applicable",
    " not_applicable ",
    "3",
    "03",
    "3.0",
    "3.5",
    "-1",
    "1e400",
    "abc",
    "nan",
    "12.50",
    "1e-7",
    " 7 ",
    "\x00",
    "hello\r\nworld",
    "x" * 12,
]


@pytest.mark.parametrize("seed", range(20), ids=lambda s: f"seed-{s}")
@pytest.mark.parametrize("phase", ["pre", "post"])
def test_fuzz_form_prefill_round_trip(phase, seed):
    rng = random.Random(1000 + seed)
    fields = [*PRE_ITEMS, *POST_ITEMS, "_csrf_token", "lang"]
    for _ in range(100):
        form = {
            rng.choice(fields): [rng.choice(_FORM_VALUES) for _ in range(rng.randrange(4))]
            for _ in range(rng.randrange(8))
        }
        raw = answers_from_form(COURSE, phase, form)
        prefill = form_values(COURSE, phase, raw)
        assert list(prefill) == [i.id for i in COURSE.items_in_phase(phase)]
        raw_again = answers_from_form(COURSE, phase, prefill)
        assert raw_again == raw
        first, second = (
            validate_answers(COURSE, phase, raw),
            validate_answers(COURSE, phase, raw_again),
        )
        assert first.answers == second.answers
        assert {k: e.code for k, e in first.errors.items()} == {
            k: e.code for k, e in second.errors.items()
        }
