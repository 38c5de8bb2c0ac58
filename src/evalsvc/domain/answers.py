"""Participants' answers: checking, normalising, HTML form conversion, canonical bytes.

Answers arrive either as a JSON object (API) or as an HTML form (browser). A form
first goes through `answers_from_form`, which turns its lists of strings into the
same raw shape a JSON client would send; `validate_answers` then checks and
normalises raw answers for one phase of a course. Nothing here raises on bad input:
every problem becomes an `ItemError` keyed by item id, and all of them are collected.

Normalised answer values (`AnswerValue`), by item kind:

* single_choice, true_false -- the option id (``"true"``/``"false"`` for true_false);
* multiple_choice -- a sorted list of distinct option ids, never empty;
* likert -- an ``int`` on the item's scale, or the string `NOT_APPLICABLE`
  (``"not_applicable"``, "does not apply") on an item with ``not_applicable = true``;
* number -- an ``int`` when the value is whole (``12.0`` becomes ``12``, ``-0.0``
  becomes ``0``), otherwise a finite ``float``;
* short_text, long_text -- a ``str``: line breaks normalised to ``\\n``, stripped,
  NFC-normalised, non-empty.

Unanswered items are simply absent from the answers.

Error codes (`ItemError.code`; `ERROR_CODES` holds the same list):

* ``required`` -- a required item is unanswered.
* ``unknown_item`` -- the key is not an item of this phase (error under that key).
* ``unknown_option`` -- a choice names an option the item does not offer
  (including ``"dont_know"`` on an item without ``dont_know = true``, and
  ``"not_applicable"`` on a likert item without ``not_applicable = true``).
* ``dont_know_combined`` -- ``"dont_know"`` ticked together with other options.
* ``too_many`` -- several values for an item that takes one (single choice,
  true/false, likert, number, text), e.g. a repeated form field.
* ``wrong_type`` -- the value has the wrong type for the kind: a bool for a likert or
  number (bool is not a number here), a string for a likert or number sent as JSON,
  a non-string choice, a dict, a nested list, a likert value that is not whole
  (``3.5``)... Also used under `BODY_KEY` when the answers are not an object at all.
* ``not_a_number`` -- a likert or number that is NaN or infinite, or a form field that
  does not parse as a finite number (``"abc"``, ``"1e400"``).
* ``out_of_range`` -- a likert value outside its scale, a number outside the item's
  min..max, or any number whose magnitude exceeds `MAX_ABS_NUMBER`.
* ``invalid_text`` -- a text containing control characters (other than newline and
  tab) or lone surrogates.
* ``too_long`` -- a text longer than the item's limit (`Item.text_limit`), counted
  in Unicode code points after stripping and NFC normalisation.

Decisions worth knowing:

* ``None``, strings that are empty or only whitespace, and lists containing nothing
  but those mean "unanswered" for every kind. Blank entries inside a list are dropped
  (a hidden empty input before a checkbox group is a common HTML pattern).
* A one-element list is accepted for single-valued kinds and unwrapped; a bare string
  is accepted for multiple choice as a one-element list (a single ticked checkbox).
* JSON ``true``/``false`` are accepted for true_false items only.
* A likert value may be an int-valued float (``3.0`` -> ``3``), since some JSON
  encoders write whole numbers that way; ``3.5`` is ``wrong_type``.
* Numeric strings are parsed only by `answers_from_form` (ASCII digits, optional sign,
  decimal point and exponent; no thousands separators, no decimal comma, no ``nan``/
  ``inf`` words). In JSON a numeric string for a likert or number is ``wrong_type``.
* ``"not_applicable"`` is the one string a likert item takes, from a form or JSON,
  and only when the item offers it; it is never parsed as a number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Final, Literal, NamedTuple

import msgspec

from evalsvc.domain.per_course import PerCourse
from evalsvc.domain.questionnaire import (
    DONT_KNOW,
    NOT_APPLICABLE,
    TEXT_KINDS,
    Course,
    Item,
    Scale,
)

AnswerValue = str | list[str] | int | float
"""A normalised answer; see the module docstring for which kind gets which type."""

ERROR_CODES: Final[dict[str, str]] = {
    "required": "a required item is unanswered",
    "unknown_item": "the key is not an item of this phase",
    "unknown_option": "a choice names an option the item does not offer",
    "dont_know_combined": "'don't know' is ticked together with other options",
    "too_many": "several values for an item that takes one",
    "wrong_type": "the value has the wrong type for the item's kind",
    "not_a_number": "a likert or number value that is NaN, infinite or unparseable",
    "out_of_range": "a likert value off its scale or a number outside min..max",
    "invalid_text": "a text containing control characters or lone surrogates",
    "too_long": "a text longer than the item allows",
}
"""Every `ItemError.code`, with what it means (for developers; the web layer translates)."""

BODY_KEY: Final = "_body"
"""Error key used when the raw answers are not a mapping at all."""

MAX_ABS_NUMBER: Final = 2**53
"""Largest magnitude accepted for a number item (beyond it floats lose whole numbers)."""

_NUMERIC_KINDS = frozenset({"likert", "number"})
_SINGLE_CHOICE_KINDS = frozenset({"single_choice", "true_false"})
_INVALID_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_NUMBER_TEXT = 100
_ECHO_LIMIT = 40


class ItemError(msgspec.Struct, frozen=True):
    """What is wrong with one answer: a stable `code` and a plain-English message."""

    code: str
    message: str


class NotANumber(msgspec.Struct, frozen=True):
    """Marker left by `answers_from_form` for a likert/number field that did not parse.

    `validate_answers` reports it as ``not_a_number``; `form_values` gives `text` back
    so the participant sees what they typed.
    """

    text: str


class Validated(msgspec.Struct, frozen=True):
    """The outcome of `validate_answers`.

    `answers` holds every valid answer, keyed by item id in the phase's item order;
    `errors` holds one error per problem key (phase items first, in order, then
    unknown keys in input order). Both can be non-empty at once.
    """

    answers: dict[str, AnswerValue]
    errors: dict[str, ItemError]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Unanswered:
    pass


_UNANSWERED: Final = _Unanswered()


# -- validation --------------------------------------------------------------------------


def validate_answers(course: Course, phase_id: str, raw: Mapping[str, object]) -> Validated:
    """Check and normalise raw answers for one phase; collect every error, never raise.

    An unknown `phase_id` has no items, so every key is an ``unknown_item``.

    Answers in their plain form (what the questionnaire pages and well-behaved clients
    send) are checked by one typed conversion (`_plain_answers`); anything else, and
    every invalid submission, goes through the full checks, which explain each error.
    """
    if type(raw) is dict:
        plain = _plain_answers(course, phase_id, raw)
        if plain is not None:
            return Validated(answers=plain, errors={})
    return _validate_fully(course, phase_id, raw)


def _validate_fully(course: Course, phase_id: str, raw: Mapping[str, object]) -> Validated:
    items = phase_rules(course, phase_id)
    answers: dict[str, AnswerValue] = {}
    errors: dict[str, ItemError] = {}
    unknown: dict[str, ItemError] = {}
    given: dict[str, object] = {}

    pairs: list[tuple[object, object]] = []
    if isinstance(raw, Mapping):
        try:
            pairs = list(raw.items())
        except Exception:
            errors[BODY_KEY] = ItemError("wrong_type", "The answers could not be read.")
    else:
        errors[BODY_KEY] = ItemError(
            "wrong_type", "The answers must be an object mapping item ids to answers."
        )
    for key, value in pairs:
        if isinstance(key, str) and key in items:
            given[key] = value
        else:
            label = _key_label(key)
            unknown[label] = ItemError(
                "unknown_item", f"Not a question of this questionnaire: {_echo(label)}."
            )

    for item_id, rule in items.items():
        result = _check_value(rule, given.get(item_id))
        if isinstance(result, ItemError):
            errors[item_id] = result
        elif isinstance(result, _Unanswered):
            if rule.item.required:
                errors[item_id] = ItemError("required", "This question must be answered.")
        else:
            answers[item_id] = result
    for label, error in unknown.items():
        errors.setdefault(label, error)
    return Validated(answers=answers, errors=errors)


class ItemRule(NamedTuple):
    """What `validate_answers` needs of one item, looked up once per course and phase."""

    item: Item
    options: frozenset[str]
    """`item.option_ids` (dont_know included when offered), for membership tests."""
    scale: Scale | None
    """The likert item's scale (None for other kinds, or a scale the course lacks)."""


def _phase_rules(course: Course, phase_id: str) -> dict[str, ItemRule]:
    rules: dict[str, ItemRule] = {}
    for item in course.items_in_phase(phase_id):
        if item.id not in rules:
            scale = course.scale(item.scale) if item.kind == "likert" else None
            rules[item.id] = ItemRule(item, frozenset(item.option_ids), scale)
    return rules


phase_rules = PerCourse(_phase_rules)
"""The phase's items in the order it shows them, with their options and scale
(built once per course and phase: see `per_course`)."""


class _PlainForm(NamedTuple):
    """The msgspec type of a phase's answers in their plain form, and which of its
    items still need Python after the conversion."""

    type: type[msgspec.Struct]
    checked: tuple[tuple[str, ItemRule], ...]
    """Items whose value is then checked as `_validate_fully` would (numbers and
    texts), in the phase's order."""
    multiple: tuple[str, ...]
    """Multiple-choice items, whose options are then sorted and de-duplicated."""


def _plain_type(rule: ItemRule) -> object:
    """The plain form of an answer to the item: only values `_check_value` accepts
    unchanged (or, for multiple choice, as options it then sorts and de-duplicates);
    None for the kinds checked in Python after the conversion."""
    item = rule.item
    # an option that reads as blank would be "unanswered" to the full checks
    options = tuple(sorted(o for o in rule.options if not _is_blank(o)))
    choice: object = Literal[options] if options else None
    if item.kind in _SINGLE_CHOICE_KINDS and options:
        return choice
    if item.kind == "multiple_choice" and options:
        # a bare option is one ticked box, as the full checks take it
        ticked = Annotated[list[choice], msgspec.Meta(min_length=1)]  # type: ignore[valid-type]
        return choice | ticked
    if item.kind == "likert":
        scale = rule.scale
        number: object = (
            Annotated[int, msgspec.Meta(ge=scale.min, le=scale.max)] if scale is not None else int
        )
        return number | Literal[NOT_APPLICABLE] if item.not_applicable else number
    return None


def _build_plain_form(course: Course, phase_id: str) -> _PlainForm:
    fields: list[tuple[str, object, object]] = []
    checked: list[tuple[str, ItemRule]] = []
    multiple: list[str] = []
    for number, (item_id, rule) in enumerate(phase_rules(course, phase_id).items()):
        kind = _plain_type(rule)
        if kind is None:
            kind = object
            checked.append((item_id, rule))
        elif rule.item.kind == "multiple_choice":
            multiple.append(item_id)
        # a required item has no default: the conversion itself refuses its absence
        default = msgspec.NODEFAULT if rule.item.required else msgspec.UNSET
        fields.append((f"a{number}", kind, msgspec.field(name=item_id, default=default)))
    struct = msgspec.defstruct("PlainAnswers", fields, forbid_unknown_fields=True, kw_only=True)
    return _PlainForm(struct, tuple(checked), tuple(multiple))


_plain_forms = PerCourse(_build_plain_form)


def _plain_answers(
    course: Course, phase_id: str, raw: dict[str, object]
) -> dict[str, AnswerValue] | None:
    """The normalised answers when `raw` is valid in its plain form, else None (then
    `_validate_fully` decides, and explains). Never accepts what it would reject."""
    form = _plain_forms(course, phase_id)
    try:
        converted = msgspec.convert(raw, form.type)
    except Exception:  # not valid in the plain form (or not even text: lone surrogates)
        return None
    # item ids as keys, in the phase's order, the answers not given left out
    answers: dict[str, AnswerValue] = msgspec.to_builtins(converted)
    for item_id, rule in form.checked:
        if item_id not in answers:
            continue
        result = _check_value(rule, raw[item_id])  # the value as sent, not a copy
        if isinstance(result, ItemError):
            return None
        if isinstance(result, _Unanswered):
            if rule.item.required:
                return None
            del answers[item_id]
            continue
        answers[item_id] = result
    for item_id in form.multiple:
        value = answers.get(item_id)
        if isinstance(value, str):  # a bare option: one ticked box
            chosen = [value]
        elif isinstance(value, list):
            chosen = sorted(set(value))
        else:  # not given
            continue
        if DONT_KNOW in chosen and len(chosen) > 1:
            return None
        answers[item_id] = chosen
    return answers


def _key_label(key: object) -> str:
    if isinstance(key, str):
        return key
    try:
        return repr(key)[:100]
    except Exception:
        return "<unreadable key>"


def _echo(value: object) -> str:
    """A short, safe rendering of participant input for a message."""
    try:
        text = repr(value)
    except Exception:
        return "this value"
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 3] + "..."


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_is_blank_scalar(v) for v in value)
    return False


def _is_blank_scalar(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_Checked = AnswerValue | ItemError | _Unanswered


def _check_value(rule: ItemRule, value: object) -> _Checked:
    if _is_blank(value):
        return _UNANSWERED
    item = rule.item
    if item.kind == "multiple_choice":
        return _check_multiple(rule, value)
    if isinstance(value, list | tuple):
        values = [v for v in value if not _is_blank_scalar(v)]
        if len(values) > 1:
            return ItemError("too_many", "This question takes only one answer.")
        value = values[0]
        if isinstance(value, list | tuple | dict):
            return ItemError("wrong_type", "This answer has the wrong form.")
    if item.kind in _SINGLE_CHOICE_KINDS:
        return _check_choice(rule, value)
    if item.kind == "likert":
        return _check_likert(rule, value)
    if item.kind == "number":
        return _check_number(item, value)
    if item.kind in TEXT_KINDS:
        return _check_text(item, value)
    return ItemError("wrong_type", f"Questions of kind {item.kind!r} cannot be answered.")


def _check_choice(rule: ItemRule, value: object) -> _Checked:
    if isinstance(value, bool) and rule.item.kind == "true_false":
        return "true" if value else "false"
    if not isinstance(value, str):
        return ItemError("wrong_type", "The answer must be one of the options.")
    if value not in rule.options:
        return ItemError("unknown_option", f"Not one of the options: {_echo(value)}.")
    return value


def _check_multiple(rule: ItemRule, value: object) -> _Checked:
    if isinstance(value, str):
        values: list[object] = [value]
    elif isinstance(value, list | tuple):
        values = [v for v in value if not _is_blank_scalar(v)]
    else:
        return ItemError("wrong_type", "The answer must be a list of options.")
    if not all(isinstance(v, str) for v in values):
        return ItemError("wrong_type", "Each ticked answer must be one of the options.")
    chosen = sorted({v for v in values if isinstance(v, str)})
    offered = rule.options
    unknown = [v for v in chosen if v not in offered]
    if unknown:
        names = ", ".join(_echo(v) for v in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        return ItemError("unknown_option", f"Not among the options: {names}.")
    if DONT_KNOW in chosen and len(chosen) > 1:
        return ItemError(
            "dont_know_combined", "Don't tick \"I don't know\" together with other answers."
        )
    return chosen


def _check_likert(rule: ItemRule, value: object) -> _Checked:
    if value == NOT_APPLICABLE:
        if rule.item.not_applicable:
            return NOT_APPLICABLE
        return ItemError("unknown_option", "This question has no “does not apply” answer.")
    number = _as_number(value)
    if isinstance(number, ItemError):
        return number
    if isinstance(number, float):
        if not number.is_integer():
            return ItemError("wrong_type", "The answer must be a whole point on the scale.")
        number = int(number)
    scale = rule.scale
    if scale is not None and not scale.min <= number <= scale.max:
        return ItemError("out_of_range", f"The answer must be between {scale.min} and {scale.max}.")
    return number


def _check_number(item: Item, value: object) -> _Checked:
    number = _as_number(value)
    if isinstance(number, ItemError):
        return number
    low, high = item.min, item.max
    if abs(number) > MAX_ABS_NUMBER:
        return ItemError("out_of_range", "The number is too large.")
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            bounds = f"between {_show(low)} and {_show(high)}"
        elif low is not None:
            bounds = f"at least {_show(low)}"
        else:
            assert high is not None
            bounds = f"at most {_show(high)}"
        return ItemError("out_of_range", f"The number must be {bounds}.")
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _as_number(value: object) -> int | float | ItemError:
    """A finite int or float, or the error for a non-number (bool is not a number)."""
    if isinstance(value, NotANumber):
        return ItemError("not_a_number", "Please enter a number.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ItemError("wrong_type", "The answer must be a number.")
    if isinstance(value, float) and not math.isfinite(value):
        return ItemError("not_a_number", "Please enter a finite number.")
    return int(value) if isinstance(value, int) else float(value)


def _show(bound: float) -> str:
    return _format_float(float(bound))


def _check_text(item: Item, value: object) -> _Checked:
    if not isinstance(value, str):
        return ItemError("wrong_type", "The answer must be text.")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return _UNANSWERED
    if _INVALID_TEXT.search(text):
        return ItemError("invalid_text", "The text contains characters that are not allowed.")
    text = unicodedata.normalize("NFC", text)
    limit = item.text_limit
    if len(text) > limit:
        return ItemError(
            "too_long", f"The text may have at most {limit} characters (it has {len(text)})."
        )
    return text


# -- HTML forms ----------------------------------------------------------------------------


def answers_from_form(
    course: Course, phase_id: str, form: Mapping[str, list[str]]
) -> dict[str, object]:
    """Raw answers (for `validate_answers`) from an HTML form of the phase.

    Field name = item id; each field may be repeated. Fields that are not items of
    the phase (``_csrf_token``, ``code``, ``lang``...) are ignored, as are blank
    values and non-string values. Per item: multiple choice gets the list of values;
    any other kind gets its single value (a list when the field was repeated, which
    validation reports as ``too_many``). Likert and number values are parsed: ``"3"``
    -> ``3``, ``"12.5"`` -> ``12.5``, anything unparseable or infinite -> `NotANumber`;
    a likert's ``"not_applicable"`` stays a string, for validation to judge.
    """
    raw: dict[str, object] = {}
    for item_id, (item, _, _) in phase_rules(course, phase_id).items():
        field = form.get(item_id) if isinstance(form, Mapping) else None
        if isinstance(field, str):
            field = [field]
        if not isinstance(field, list | tuple):
            continue
        texts = [v for v in field if isinstance(v, str) and v.strip()]
        if not texts:
            continue
        if item.kind == "multiple_choice":
            raw[item_id] = texts
            continue
        values: list[object] = (
            [_parse_field(item, t) for t in texts] if item.kind in _NUMERIC_KINDS else list(texts)
        )
        raw[item_id] = values[0] if len(values) == 1 else values
    return raw


def _parse_field(item: Item, text: str) -> object:
    """A likert or number field: ``"not_applicable"`` kept for a likert, else a number."""
    if item.kind == "likert" and text.strip() == NOT_APPLICABLE:
        return NOT_APPLICABLE
    return parse_number(text)


def parse_number(text: str) -> int | float | NotANumber:
    """Parse a form field: a plain ASCII integer or decimal, else a `NotANumber` marker."""
    stripped = text.strip()
    if len(stripped) <= _MAX_NUMBER_TEXT:
        if _INT_TEXT.fullmatch(stripped):
            return int(stripped)
        if _FLOAT_TEXT.fullmatch(stripped):
            number = float(stripped)
            if math.isfinite(number):
                return number
    return NotANumber(text)


def form_values(
    course: Course, phase_id: str, answers_or_raw: Mapping[str, object]
) -> dict[str, list[str]]:
    """Per item of the phase (in order), the strings to pre-fill its form field with.

    Accepts validated answers, raw answers from `answers_from_form` (including
    `NotANumber`, which gives back the text typed) or raw JSON answers. Unanswered
    items get ``[]``; values that cannot be shown (dicts, nested lists) are left out.
    Feeding the result back through `answers_from_form` gives equivalent raw answers.
    """
    source = answers_or_raw if isinstance(answers_or_raw, Mapping) else {}
    out: dict[str, list[str]] = {}
    for item_id in phase_rules(course, phase_id):
        try:
            value = source.get(item_id)
        except Exception:
            value = None
        if isinstance(value, list | tuple):
            strings = [s for v in value for s in (_scalar_text(v),) if s is not None]
        else:
            single = _scalar_text(value)
            strings = [] if single is None else [single]
        out[item_id] = [s for s in strings if s.strip()]
    return out


def _scalar_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, NotANumber):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than int -> str allows
            return None
    if isinstance(value, float):
        return _format_float(value)
    return None


def _format_float(value: float) -> str:
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


# -- canonical encoding --------------------------------------------------------------------


def canonical(answers: Mapping[str, AnswerValue]) -> bytes:
    """Canonical JSON bytes of validated answers: sorted keys, no whitespace.

    Two submissions with equal validated answers give equal bytes, whatever order
    or form (JSON or HTML) they arrived in; used to tell whether a resubmission with
    the same submission_id carries the same body.
    """
    return msgspec.json.encode(dict(answers), order="sorted")
