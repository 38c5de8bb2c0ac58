"""Test-design lint: item-writing flaws that give answers away, per course and language.

A knowledge test that cues its answers inflates the pre-course score and hides real
gains, which is what evalsvc exists to measure. `check_course` decides whether a
course *works*; this module measures whether its test is *well made*, and
`evalsvc check` prints the result as warnings (`--strict` makes them errors).

Rules (`RULES` holds the same list, with the thresholds below):

* ``key_longest`` / ``key_shortest`` -- over single-choice items, the share whose
  keyed option is strictly the longest (shortest) option, per language; warns above
  `SHARE_LIMIT`. Test-wise candidates pick the longest option.
* ``stem_key_overlap`` -- content words of the stem (`WORD_MIN` letters or more,
  compared on their first `PREFIX` letters so that inflected Russian and Kazakh forms
  match) that appear in a keyed option but in no wrong option; warns from
  `OVERLAP_LIMIT` such words, per item and language.
* ``distractors_same_start`` -- every wrong option starts with the same word and no
  keyed option does (the "Only ..." pattern), per item and language.
* ``all_none_of_the_above`` -- an option such as "all of the above".
* ``partial_credit_mixed`` -- multi-answer knowledge items score by different rules.
* ``skill_few_items`` -- a skill with fewer than `MIN_SKILL_ITEMS` knowledge items.
* ``key_position`` -- over single-choice items with 3 or more options, one display
  position holds more than `POSITION_LIMIT` of the keys.

An item is measured in a language only when its stem and every option are written in
that language; text that falls back to another language is measured there.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import msgspec

from evalsvc.domain.questionnaire import Course, Item, Problem

SHARE_LIMIT: Final = 0.40
POSITION_LIMIT: Final = 0.40
OVERLAP_LIMIT: Final = 2
WORD_MIN: Final = 5
PREFIX: Final = 5
MIN_SKILL_ITEMS: Final = 5
MIN_POSITION_OPTIONS: Final = 3

RULES: Final[dict[str, str]] = {
    "key_longest": f"keyed option is the longest in more than {SHARE_LIMIT:.0%} of items",
    "key_shortest": f"keyed option is the shortest in more than {SHARE_LIMIT:.0%} of items",
    "stem_key_overlap": f"{OVERLAP_LIMIT}+ stem words reappear in the key and no wrong option",
    "distractors_same_start": "every wrong option starts with the same word, the key does not",
    "all_none_of_the_above": "an option says 'all/none of the above'",
    "partial_credit_mixed": "multi-answer items score by different rules",
    "skill_few_items": f"a skill has fewer than {MIN_SKILL_ITEMS} knowledge items",
    "key_position": f"one key position holds more than {POSITION_LIMIT:.0%} of the keys",
}

_WORD = re.compile(r"[^\W\d_]+")
_FIRST_WORD = re.compile(r"\w+")
_ABOVE_PHRASES: Final = (
    # en
    "all of the above",
    "none of the above",
    "all the above",
    "all of these",
    "none of these",
    # ru (ё is compared as е)
    "все перечисленное",
    "все вышеперечисленное",
    "все вышесказанное",
    "все вышеуказанное",
    "ничего из перечисленного",
    "ни один из перечисленных",
    "ни одно из перечисленного",
    "все ответы верны",
    "все варианты верны",
    # kk
    "жоғарыда аталғанның барлығы",
    "жоғарыда аталғандардың барлығы",
    "жоғарыдағылардың барлығы",
    "жоғарыдағының бәрі",
    "барлық жауап дұрыс",
    "ешқайсысы дұрыс емес",
)


class LintWarning(msgspec.Struct, frozen=True, kw_only=True):
    """One test-design flaw; `items` names the items concerned, `lang` the language
    (None when the rule does not depend on wording)."""

    rule: str
    message: str
    items: tuple[str, ...] = ()
    lang: str | None = None


class LanguageMeasures(msgspec.Struct, frozen=True, kw_only=True):
    """The share measures of one language, over its single-choice knowledge items."""

    lang: str
    single_choice: int
    """Single-choice items written in this language (the denominator)."""
    key_longest: tuple[str, ...]
    key_shortest: tuple[str, ...]

    @property
    def longest_share(self) -> float | None:
        return len(self.key_longest) / self.single_choice if self.single_choice else None

    @property
    def shortest_share(self) -> float | None:
        return len(self.key_shortest) / self.single_choice if self.single_choice else None


class CourseLint(msgspec.Struct, frozen=True, kw_only=True):
    course: str
    languages: tuple[LanguageMeasures, ...]
    key_positions: dict[int, int]
    """Display position (1 = first option) -> keys there, over items with 3+ options."""
    warnings: tuple[LintWarning, ...]

    @property
    def positioned(self) -> int:
        return sum(self.key_positions.values())


# -- words -------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Case-folded NFKC text with ё read as е, the form every comparison uses."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def content_words(text: str) -> set[str]:
    """First `PREFIX` letters of every word of `WORD_MIN` letters or more."""
    return {word[:PREFIX] for word in _WORD.findall(normalize(text)) if len(word) >= WORD_MIN}


def stem_key_overlap(stem: str, key: str, wrong: Iterable[str]) -> list[str]:
    """Stem content words (as prefixes) found in `key` and in none of `wrong`, sorted."""
    in_wrong: set[str] = set()
    for option in wrong:
        in_wrong |= content_words(option)
    return sorted((content_words(stem) & content_words(key)) - in_wrong)


def first_word(text: str) -> str:
    match = _FIRST_WORD.search(normalize(text))
    return match.group(0) if match else ""


def says_all_or_none_of_the_above(text: str) -> bool:
    flat = " ".join(_FIRST_WORD.findall(normalize(text)))
    return any(phrase in flat for phrase in _ABOVE_PHRASES)


# -- the lint ----------------------------------------------------------------------


def lint_course(course: Course) -> CourseLint:
    """Every test-design measure and warning of `course` (see the module docstring)."""
    knowledge = [
        item
        for item in course.items_by_role("knowledge")
        if item.kind in ("single_choice", "multiple_choice")
    ]
    warnings: list[LintWarning] = []
    measures = []
    for lang in course.languages:
        written = [item for item in knowledge if _written_in(item, lang)]
        measure, share_warnings = _length_shares(lang, written)
        measures.append(measure)
        warnings.extend(share_warnings)
        for item in written:
            warnings.extend(_item_warnings(item, lang))
    positions = _key_positions(knowledge)
    warnings.extend(_position_warning(positions, knowledge))
    warnings.extend(_partial_credit_warning(course))
    warnings.extend(_skill_warnings(course))
    return CourseLint(
        course=course.id,
        languages=tuple(measures),
        key_positions=positions,
        warnings=tuple(warnings),
    )


def _written_in(item: Item, lang: str) -> bool:
    return bool(item.text.get(lang)) and all(option.text.get(lang) for option in item.options)


def _length_shares(lang: str, items: Sequence[Item]) -> tuple[LanguageMeasures, list[LintWarning]]:
    single = [item for item in items if item.kind == "single_choice" and _keyed_index(item) >= 0]
    longest, shortest = [], []
    for item in single:
        key_id = item.correct[0]
        lengths = {option.id: len(option.text[lang].strip()) for option in item.options}
        key = lengths[key_id]
        others = [length for option_id, length in lengths.items() if option_id != key_id]
        if key > max(others):
            longest.append(item.id)
        if key < min(others):
            shortest.append(item.id)
    measure = LanguageMeasures(
        lang=lang,
        single_choice=len(single),
        key_longest=tuple(longest),
        key_shortest=tuple(shortest),
    )
    warnings = []
    for rule, ids, word in (
        ("key_longest", longest, "longest"),
        ("key_shortest", shortest, "shortest"),
    ):
        if single and len(ids) / len(single) > SHARE_LIMIT:
            warnings.append(
                LintWarning(
                    rule=rule,
                    lang=lang,
                    items=tuple(ids),
                    message=(
                        f"the keyed option is the {word} in {len(ids)} of {len(single)}"
                        f" single-choice items ({len(ids) / len(single):.0%}; aim for at most"
                        f" {SHARE_LIMIT:.0%}): {', '.join(ids)}"
                    ),
                )
            )
    return measure, warnings


def _item_warnings(item: Item, lang: str) -> list[LintWarning]:
    out: list[LintWarning] = []
    keys = [option for option in item.options if option.id in item.correct]
    wrong = [option for option in item.options if option.id not in item.correct]
    stem = item.text[lang]
    for key in keys:
        shared = stem_key_overlap(stem, key.text[lang], (o.text[lang] for o in wrong))
        if len(shared) >= OVERLAP_LIMIT:
            out.append(
                LintWarning(
                    rule="stem_key_overlap",
                    lang=lang,
                    items=(item.id,),
                    message=(
                        f"option {key.id!r} (keyed) repeats {len(shared)} stem words that no"
                        f" wrong option has ({', '.join(w + '…' for w in shared)})"
                    ),
                )
            )
    starts = {first_word(option.text[lang]) for option in wrong}
    if len(wrong) >= 2 and len(starts) == 1:
        start = starts.pop()
        if start and all(first_word(key.text[lang]) != start for key in keys):
            out.append(
                LintWarning(
                    rule="distractors_same_start",
                    lang=lang,
                    items=(item.id,),
                    message=f"every wrong option starts with {start!r} and the key does not",
                )
            )
    for option in item.options:
        if says_all_or_none_of_the_above(option.text[lang]):
            out.append(
                LintWarning(
                    rule="all_none_of_the_above",
                    lang=lang,
                    items=(item.id,),
                    message=(
                        f"option {option.id!r} says 'all/none of the above'; write each"
                        " option as a statement of its own"
                    ),
                )
            )
    return out


def _keyed_index(item: Item) -> int:
    """Display index of a single-choice item's key among 2+ options, else -1."""
    ids = [option.id for option in item.options]
    if len(ids) < 2 or len(item.correct) != 1 or item.correct[0] not in ids:
        return -1
    return ids.index(item.correct[0])


def _positioned(items: Sequence[Item]) -> list[tuple[Item, int]]:
    """(item, 1-based key position) of single-choice items with enough options."""
    return [
        (item, _keyed_index(item) + 1)
        for item in items
        if item.kind == "single_choice"
        and len(item.options) >= MIN_POSITION_OPTIONS
        and _keyed_index(item) >= 0
    ]


def _key_positions(items: Sequence[Item]) -> dict[int, int]:
    positions = Counter(position for _, position in _positioned(items))
    return dict(sorted(positions.items()))


def _position_warning(positions: Mapping[int, int], items: Sequence[Item]) -> list[LintWarning]:
    total = sum(positions.values())
    if not total:
        return []
    position, count = max(positions.items(), key=lambda pair: (pair[1], -pair[0]))
    if count / total <= POSITION_LIMIT:
        return []
    there = tuple(item.id for item, at in _positioned(items) if at == position)
    return [
        LintWarning(
            rule="key_position",
            items=there,
            message=(
                f"option {position} is the key in {count} of {total} single-choice items with"
                f" {MIN_POSITION_OPTIONS}+ options ({count / total:.0%}; aim for at most"
                f" {POSITION_LIMIT:.0%}): {', '.join(there)}"
            ),
        )
    ]


def _partial_credit_warning(course: Course) -> list[LintWarning]:
    multi = [i for i in course.items_by_role("knowledge") if i.kind == "multiple_choice"]
    partial = tuple(i.id for i in multi if i.partial_credit)
    whole = tuple(i.id for i in multi if not i.partial_credit)
    if not partial or not whole:
        return []
    return [
        LintWarning(
            rule="partial_credit_mixed",
            items=(*partial, *whole),
            message=(
                f"multi-answer items score by different rules: partial credit on"
                f" {', '.join(partial)}; all or nothing on {', '.join(whole)}; choose one"
            ),
        )
    ]


def _skill_warnings(course: Course) -> list[LintWarning]:
    counts = Counter(item.skill for item in course.items_by_role("knowledge"))
    return [
        LintWarning(
            rule="skill_few_items",
            message=(
                f"skill {skill!r} has {counts[skill]} knowledge item(s); a per-skill score"
                f" needs at least {MIN_SKILL_ITEMS}"
            ),
        )
        for skill in course.skill_ids()
        if counts[skill] < MIN_SKILL_ITEMS
    ]


# -- for `evalsvc check` -------------------------------------------------------------


def lint_problems(
    lint: CourseLint, item_files: Mapping[str, str], course_file: str
) -> list[Problem]:
    """The warnings located like check problems: an item's file, or the course file."""
    out = []
    for warning in lint.warnings:
        lang = f"({warning.lang}) " if warning.lang else ""
        message = f"{lang}{warning.message} [{warning.rule}]"
        if len(warning.items) == 1:
            item_id = warning.items[0]
            out.append(Problem(item_files.get(item_id, course_file), f"item {item_id}", message))
        else:
            out.append(Problem(course_file, "test design", message))
    return out


def describe_lint(lint: CourseLint) -> str:
    """One line of the measures, e.g. for `evalsvc check`."""
    parts = []
    for measure in lint.languages:
        if measure.single_choice:
            parts.append(
                f"{measure.lang} longest {_share(measure.key_longest, measure.single_choice)}"
                f" shortest {_share(measure.key_shortest, measure.single_choice)}"
            )
    positions = ", ".join(
        f"{position}: {count}" for position, count in sorted(lint.key_positions.items())
    )
    return (
        f"test design: keyed option {'; '.join(parts) or 'no single-choice items'};"
        f" key positions {positions or 'none'}; {len(lint.warnings)} warning(s)"
    )


def _share(ids: Sequence[str], total: int) -> str:
    return f"{len(ids)}/{total} ({len(ids) / total:.0%})"
