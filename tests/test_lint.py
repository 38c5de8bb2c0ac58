"""The test-design lint (domain/lint.py): each rule fires when it should, not otherwise.

Two crafted courses in tests/data/lint hold every flaw once (lint-flawed) and every
measure at or just short of its limit (lint-clean); small courses built here probe
each rule's boundary; hypothesis checks the word matching on any text.
"""

from __future__ import annotations

import string
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsvc.catalog import load_paths
from evalsvc.domain.lint import (
    PREFIX,
    RULES,
    content_words,
    first_word,
    lint_course,
    lint_problems,
    says_all_or_none_of_the_above,
    stem_key_overlap,
)
from evalsvc.domain.questionnaire import Course, check_course

LINT_DATA = Path(__file__).resolve().parent / "data" / "lint"


def loaded(course_id: str) -> Course:
    result = load_paths([LINT_DATA / course_id])
    assert result.ok, result.problems
    return result.courses[course_id]


def found(course: Course) -> set[tuple[str, str | None, tuple[str, ...]]]:
    return {(w.rule, w.lang, w.items) for w in lint_course(course).warnings}


# -- the crafted courses --------------------------------------------------------------


def test_flawed_course_has_each_flaw_once() -> None:
    assert found(loaded("lint-flawed")) == {
        ("key_longest", "en", ("f1", "f2", "f3")),
        ("distractors_same_start", "en", ("f1",)),
        ("stem_key_overlap", "en", ("f2",)),
        ("all_none_of_the_above", "en", ("f3",)),
        ("stem_key_overlap", "ru", ("f5",)),  # only the Russian text repeats the stem
        ("key_position", None, ("f1", "f2", "f3")),
        ("partial_credit_mixed", None, ("m1", "m2")),
        ("skill_few_items", None, ()),
    }
    # every rule but "shortest" (which cannot fire beside "longest" in one language;
    # test_key_length_share probes it)
    assert {w.rule for w in lint_course(loaded("lint-flawed")).warnings} == set(RULES) - {
        "key_shortest"
    }


def test_flawed_course_measures() -> None:
    lint = lint_course(loaded("lint-flawed"))
    en, ru = lint.languages
    assert (en.lang, en.single_choice, en.key_longest, en.key_shortest) == (
        "en",
        5,
        ("f1", "f2", "f3"),
        ("f4",),
    )
    # only f5 is written in Russian: the other items are not measured there
    assert (ru.lang, ru.single_choice, ru.key_longest, ru.key_shortest) == ("ru", 1, (), ())
    assert lint.key_positions == {1: 3, 2: 1, 3: 1}
    assert en.longest_share == pytest.approx(0.6)


def test_clean_course_at_the_limits_has_no_warning() -> None:
    lint = lint_course(loaded("lint-clean"))
    assert lint.warnings == ()
    for measure in lint.languages:  # exactly 40 %: at the limit, not above it
        assert measure.longest_share == measure.shortest_share == pytest.approx(0.4)
    assert max(lint.key_positions.values()) / lint.positioned == pytest.approx(0.4)


def test_warnings_are_located_like_check_problems() -> None:
    result = load_paths([LINT_DATA / "lint-flawed"])
    lint = lint_course(result.courses["lint-flawed"])
    problems = lint_problems(
        lint, result.item_files["lint-flawed"], result.course_files["lint-flawed"]
    )
    where = {(Path(p.file).name, p.where) for p in problems}
    assert ("items.toml", "item f1") in where  # one item: its file and id
    assert ("course.toml", "test design") in where  # several items: the course
    assert any("(ru)" in p.message and "[stem_key_overlap]" in p.message for p in problems)


def test_bundled_course_has_no_warning() -> None:
    course = load_paths([Path(__file__).resolve().parents[1] / "surveys"]).courses[
        "salw-nexus-kz-2024"
    ]
    lint = lint_course(course)
    assert lint.warnings == ()
    for measure in lint.languages:
        if measure.single_choice:
            assert measure.longest_share is not None and measure.longest_share <= 1 / 3


# -- each rule at its boundary ----------------------------------------------------------


def _course(items: list[dict], *, skills: tuple[str, ...] = ("s",)) -> Course:
    course = msgspec.convert(
        {
            "id": "probe",
            "title": {"en": "Probe"},
            "languages": ["en", "ru"],
            "agencies": [{"id": "a", "name": {"en": "A"}}],
            "skills": [{"id": s, "name": {"en": s}} for s in skills],
            "sections": [{"id": "t", "title": {"en": "Test"}}],
            "phases": [{"id": "pre", "sections": ["t"]}, {"id": "post", "sections": ["t"]}],
            "items": items,
        },
        type=Course,
    )
    assert check_course(course, {}, "course.toml") == []
    return course


def _single(
    item_id: str, stem: str, options: list[str], key: int = 0, *, lang: str = "en", **extra
) -> dict:
    return {
        "id": item_id,
        "role": "knowledge",
        "kind": "single_choice",
        "section": "t",
        "skill": "s",
        "correct": [f"o{key}"],
        "text": {lang: stem},
        "options": [{"id": f"o{i}", "text": {lang: text}} for i, text in enumerate(options)],
        **extra,
    }


def _rules(course: Course) -> dict[str, list[tuple[str | None, tuple[str, ...]]]]:
    out: dict[str, list[tuple[str | None, tuple[str, ...]]]] = {}
    for warning in lint_course(course).warnings:
        out.setdefault(warning.rule, []).append((warning.lang, warning.items))
    return out


def _lengths(keyed: list[str], count: int = 5) -> list[dict]:
    """`count` items whose key is longest ("long"), shortest ("short") or in between."""
    shapes = {"long": ["aaaaaaaa", "bb", "cccc"], "short": ["a", "bbbb", "cccccc"]}
    middle = ["aaaa", "bb", "cccccc"]
    return [
        _single(f"q{i}", "Stem?", shapes.get(keyed[i], middle) if i < len(keyed) else middle)
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("keyed", "fires"),
    [
        pytest.param(["long"] * 3, True, id="longest-3-of-5-fires"),
        pytest.param(["long"] * 2, False, id="longest-2-of-5-is-the-limit"),
        pytest.param(["short"] * 3, True, id="shortest-3-of-5-fires"),
        pytest.param(["short"] * 2, False, id="shortest-2-of-5-is-the-limit"),
    ],
)
def test_key_length_share(keyed: list[str], fires: bool) -> None:
    rule = f"key_{'longest' if keyed[0] == 'long' else 'shortest'}"
    warnings = _rules(_course(_lengths(keyed))).get(rule, [])
    assert warnings == ([("en", tuple(f"q{i}" for i in range(len(keyed))))] if fires else [])


def test_a_tie_is_not_the_longest() -> None:
    items = [_single(f"q{i}", "Stem?", ["same", "same", "x"]) for i in range(5)]
    lint = lint_course(_course(items))
    assert lint.languages[0].key_longest == ()


@pytest.mark.parametrize(
    ("stem", "key", "wrong", "fires"),
    [
        pytest.param(
            "Which marking and serial number?",
            "A marking with the serial number",
            ["Colour", "Weight"],
            True,
            id="two-words-in-the-key-alone",
        ),
        pytest.param(
            "Which marking and serial number?",
            "A marking with the serial number",
            ["A serial number alone", "Weight"],
            False,
            id="others-in-a-wrong-option-leave-one",
        ),
        pytest.param(
            "Which mark and code?",
            "A mark and a code",
            ["Colour", "Weight"],
            False,
            id="words-shorter-than-five-letters",
        ),
        pytest.param(
            "Какое оружие и боеприпасы?",
            "Оружия и боеприпасов",
            ["Машины", "Игрушки"],
            True,
            id="russian-inflections-match-on-five-letters",
        ),
    ],
)
def test_stem_key_overlap_rule(stem: str, key: str, wrong: list[str], fires: bool) -> None:
    course = _course([_single("q", stem, [key, *wrong])] + _lengths([], 4))
    assert ("stem_key_overlap" in _rules(course)) is fires


@pytest.mark.parametrize(
    ("options", "fires"),
    [
        pytest.param(["As a source", "Only this", "Only that", "Only those"], True, id="fires"),
        pytest.param(["Only a source", "Only this", "only that"], False, id="key-starts-so-too"),
        pytest.param(["As a source", "Only this", "Then that"], False, id="different-starts"),
        pytest.param(["As a source", "Only this"], False, id="one-wrong-option-is-no-pattern"),
    ],
)
def test_distractors_same_start(options: list[str], fires: bool) -> None:
    course = _course([_single("q", "Stem?", options)] + _lengths([], 4))
    assert ("distractors_same_start" in _rules(course)) is fires


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("All of the above", True),
        ("None of the above.", True),
        ("Всё перечисленное", True),
        ("Ничего из перечисленного", True),
        ("Жоғарыда аталғандардың барлығы", True),
        ("Above all, the key", False),
        ("All records, above the threshold", False),
    ],
)
def test_all_or_none_of_the_above(text: str, says: bool) -> None:
    assert says_all_or_none_of_the_above(text) is says


def _multiple(item_id: str, partial: bool) -> dict:
    return {
        "id": item_id,
        "role": "knowledge",
        "kind": "multiple_choice",
        "section": "t",
        "skill": "s",
        "partial_credit": partial,
        "correct": ["a"],
        "text": {"en": "Pick. Select all that apply."},
        "options": [{"id": o, "text": {"en": o.upper() * 3}} for o in "abc"],
    }


@pytest.mark.parametrize(
    ("rules", "fires"),
    [
        pytest.param([True, False], True, id="mixed"),
        pytest.param([True, True], False, id="all-partial"),
        pytest.param([False, False], False, id="all-or-nothing"),
        pytest.param([True], False, id="one-item"),
    ],
)
def test_partial_credit_mixed(rules: list[bool], fires: bool) -> None:
    items = [_multiple(f"m{i}", partial) for i, partial in enumerate(rules)]
    course = _course(items + _lengths([], 5))
    assert ("partial_credit_mixed" in _rules(course)) is fires


@pytest.mark.parametrize(("count", "fires"), [(4, True), (5, False)])
def test_skill_few_items(count: int, fires: bool) -> None:
    course = _course(_lengths([], count))
    assert ("skill_few_items" in _rules(course)) is fires


@pytest.mark.parametrize(
    ("keys", "fires"),
    [
        pytest.param([0, 0, 0, 1, 2], True, id="3-of-5-first"),
        pytest.param([0, 0, 1, 1, 2], False, id="2-of-5-is-the-limit"),
    ],
)
def test_key_position(keys: list[int], fires: bool) -> None:
    items = [_single(f"q{i}", "Stem?", ["aa", "bb", "cc"], key) for i, key in enumerate(keys)]
    warnings = _rules(_course(items)).get("key_position", [])
    assert warnings == ([(None, ("q0", "q1", "q2"))] if fires else [])


def test_two_option_items_have_no_key_position() -> None:
    items = [_single(f"q{i}", "Stem?", ["aa", "bb"], 0) for i in range(5)]
    lint = lint_course(_course(items))
    assert lint.key_positions == {}
    assert "key_position" not in _rules(_course(items))


def test_a_flaw_in_one_language_is_reported_in_that_language() -> None:
    item = _single("q", "Stem?", ["As a source", "Only this", "Only that"])
    item["text"]["ru"] = "Вопрос?"
    for option, text in zip(item["options"], ["Как источник", "Как это", "Иначе"], strict=True):
        option["text"]["ru"] = text
    assert _rules(_course([item] + _lengths([], 4)))["distractors_same_start"] == [("en", ("q",))]


# -- word matching, for every input -----------------------------------------------------

LETTERS = string.ascii_letters + "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ"
LETTERS += "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
words = st.text(alphabet=LETTERS, min_size=PREFIX, max_size=12)
# no example database in the repository, no wall-clock deadline in a correctness test
quiet = settings(database=None, deadline=None)
tails = st.text(alphabet=LETTERS, max_size=6)


@quiet
@given(st.text(), st.text(), st.lists(st.text(), max_size=4))
def test_overlap_never_crashes_and_stays_within_its_inputs(
    stem: str, key: str, wrong: list[str]
) -> None:
    shared = stem_key_overlap(stem, key, wrong)
    assert shared == sorted(set(shared))
    assert set(shared) <= content_words(stem) & content_words(key)
    for option in wrong:
        assert not set(shared) & content_words(option)
    assert all(len(prefix) == PREFIX for prefix in content_words(stem))
    first_word(stem)  # never raises either


@quiet
@given(words, tails, tails)
def test_words_sharing_five_first_letters_match(word: str, stem_tail: str, key_tail: str) -> None:
    stem, key = f"Q {word}{stem_tail}?", f"A {word}{key_tail}."
    prefix = word.casefold().replace("ё", "е")[:PREFIX]
    assert prefix in stem_key_overlap(stem, key, ["other"])
    # the same word in a wrong option takes it out of the count
    assert prefix not in stem_key_overlap(stem, key, [f"{word}{key_tail}"])


@quiet
@given(st.text(alphabet=LETTERS, max_size=PREFIX - 1), st.text())
def test_short_words_never_count(word: str, other: str) -> None:
    assert stem_key_overlap(f"{word} {word}", f"{word}", [other]) == []
