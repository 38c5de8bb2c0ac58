"""The analysts' participant-level tables with labels, for SPSS, Stata and R.

`responses_table` (one row per submission) and `scores_table` (one row per
participant) build `labelled.LabelledTable`s; `labelled.sav_bytes`/`dta_bytes` write
them. Labels are in the language asked for (falling back as the course says).

How answers are coded (`item_codings` says it once, for these tables and the R script):

* single choice and true/false: the options get the codes 1, 2, 3... in the order the
  course lists them (true/false: 1 true, 2 false); "I don't know" is always
  `DONT_KNOW_CODE` (99), a real answer that scores 0;
* multiple choice: one 0/1 variable per option (and one for "I don't know"),
  named ``<item>_<option>``; all of them are empty when the item is unanswered;
* likert: the point on the scale, with the scale's labels; "does not apply" is
  `NOT_APPLICABLE_CODE` (99, or the first free code above the scale), declared
  user-missing in SPSS;
* number: the number; text: the text (empty when unanswered).

The fixed columns come first: participant, agency and submitted_agency (coded in the
course's agency order), agency_mismatch (0/1), phase (coded in the course's phase
order), lang and received_at. Scores are wide: one variable per phase, measure and
skill (``<measure>_<skill>_<phase>``), derived from the course's phases and from the
measures found in the stored scores, so a new phase or measure is a new column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from evalsvc.domain.design import course_measures
from evalsvc.domain.questionnaire import DONT_KNOW, NOT_APPLICABLE, Course, Item
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.labelled import Cell, LabelledTable, Variable, variable_names

if TYPE_CHECKING:
    from evalsvc.storage.records import ResponseRow, ScoreRow

DONT_KNOW_CODE = 99
NOT_APPLICABLE_CODE = 99

WORDS: dict[str, dict[str, str]] = {
    "participant": {
        "en": "Participant (pseudonymous number)",
        "ru": "Участник (псевдонимный номер)",
        "kk": "Қатысушы (бүркеншік нөмір)",
    },
    "agency": {"en": "Agency", "ru": "Ведомство", "kk": "Ведомство"},
    "submitted_agency": {
        "en": "Agency chosen in this questionnaire",
        "ru": "Ведомство, указанное в этой анкете",
        "kk": "Осы сауалнамада көрсетілген ведомство",
    },
    "agency_mismatch": {
        "en": "Chosen agency differs from the first one",
        "ru": "Указанное ведомство отличается от первого",
        "kk": "Көрсетілген ведомство біріншісінен өзгеше",
    },
    "phase": {"en": "Questionnaire", "ru": "Анкета", "kk": "Сауалнама"},
    "lang": {"en": "Language answered in", "ru": "Язык ответов", "kk": "Жауап тілі"},
    "received_at": {
        "en": "Stored at (UTC, ISO 8601)",
        "ru": "Время сохранения (UTC, ISO 8601)",
        "kk": "Сақталған уақыты (UTC, ISO 8601)",
    },
    "true": {"en": "True", "ru": "Верно", "kk": "Дұрыс"},
    "false": {"en": "False", "ru": "Неверно", "kk": "Дұрыс емес"},
    DONT_KNOW: {"en": "I don't know", "ru": "Не знаю", "kk": "Білмеймін"},
    NOT_APPLICABLE: {"en": "Does not apply", "ru": "Неприменимо", "kk": "Қатысы жоқ"},
    "chosen": {"en": "chosen", "ru": "выбрано", "kk": "таңдалды"},
    "not_chosen": {"en": "not chosen", "ru": "не выбрано", "kk": "таңдалмады"},
    "yes": {"en": "yes", "ru": "да", "kk": "иә"},
    "no": {"en": "no", "ru": "нет", "kk": "жоқ"},
    "knowledge": {
        "en": "Knowledge (% of points)",
        "ru": "Знания (% баллов)",
        "kk": "Білім (ұпайдың %)",
    },
    "confidence": {
        "en": "Confidence (mean self-rating)",
        "ru": "Уверенность (средняя самооценка)",
        "kk": "Сенімділік (орташа өзін-өзі бағалау)",
    },
    "dont_know_measure": {
        "en": "Share of “I don't know” answers (%)",
        "ru": "Доля ответов «Не знаю» (%)",
        "kk": "«Білмеймін» жауаптарының үлесі (%)",
    },
    TOTAL: {"en": "all skills", "ru": "все навыки", "kk": "барлық дағдылар"},
}


def word(key: str, lang: str) -> str:
    texts = WORDS[key]
    return texts.get(lang) or texts["en"]


class Coding(NamedTuple):
    """How one item's answers become one or more variables."""

    item: Item
    column: str
    """The item's column in responses.csv."""
    codes: dict[str, int]
    """answer (option id or likert point as text) -> code; empty for number and text."""
    labels: dict[int, str]
    """code -> label in the chosen language."""
    missing: tuple[int, ...] = ()


def item_codings(course: Course, lang: str, columns: Sequence[str]) -> list[Coding]:
    """One `Coding` per item of the course, in course order; `columns` are the items'
    column names in responses.csv (`tables.responses_columns` without its fixed ones)."""
    out = []
    for item, column in zip(course.items, columns, strict=True):
        codes: dict[str, int] = {}
        labels: dict[int, str] = {}
        missing: tuple[int, ...] = ()
        if item.kind in ("single_choice", "true_false", "multiple_choice"):
            texts = {option.id: course.localize(option.text, lang) for option in item.options}
            for number, option in enumerate((o for o in item.option_ids if o != DONT_KNOW), 1):
                codes[option] = number
                labels[number] = texts.get(option) or word(option, lang)
            if item.dont_know:
                codes[DONT_KNOW] = DONT_KNOW_CODE
                labels[DONT_KNOW_CODE] = word(DONT_KNOW, lang)
        elif item.kind == "likert":
            scale = course.scale(item.scale)
            if scale is not None:
                for point in scale.points:
                    codes[str(point)] = point
                for label in scale.labels:
                    labels[label.value] = course.localize(label.text, lang)
                if item.not_applicable:
                    code = NOT_APPLICABLE_CODE
                    if code in scale.points:
                        code = scale.max + 1
                    codes[NOT_APPLICABLE] = code
                    labels[code] = word(NOT_APPLICABLE, lang)
                    missing = (code,)
        out.append(Coding(item, column, codes, labels, missing))
    return out


def _item_columns(course: Course) -> list[str]:
    from evalsvc.exports import tables

    return list(tables.responses_columns(course)[len(tables.RESPONSES_FIXED_COLUMNS) :])


def _label(course: Course, text: Mapping[str, str], lang: str) -> str:
    return course.localize(dict(text), lang)


# -- responses -------------------------------------------------------------------------------

_decode_answers = msgspec.json.Decoder(dict[str, Any]).decode


class Source(NamedTuple):
    """Where a responses variable comes from: a fixed column, or an item (and option)."""

    column: str
    """The column of responses.csv it is read from."""
    coding: Coding | None = None
    option: str | None = None
    """Multiple choice: the option this 0/1 variable stands for."""


def response_layout(course: Course, lang: str) -> list[tuple[Variable, Source]]:
    """Every variable of the responses table, with where its values come from."""
    codings = item_codings(course, lang, _item_columns(course))
    agency_labels = {n: _label(course, a.name, lang) for n, a in enumerate(course.agencies, 1)}
    phase_labels = {
        n: _label(course, p.title, lang) if p.title else p.id
        for n, p in enumerate(course.phases, 1)
    }
    yes_no = {0: word("no", lang), 1: word("yes", lang)}
    nominal: dict[str, Any] = {"measure": "nominal"}
    text: dict[str, Any] = {"kind": "string", "measure": "nominal"}

    wanted: list[tuple[str, dict[str, Any], Source]] = [
        ("participant", {}, Source("participant")),
        ("agency", {"value_labels": agency_labels, **nominal}, Source("agency")),
        (
            "submitted_agency",
            {"value_labels": agency_labels, **nominal},
            Source("submitted_agency"),
        ),
        ("agency_mismatch", {"value_labels": yes_no, **nominal}, Source("agency_mismatch")),
        ("phase", {"value_labels": phase_labels, **nominal}, Source("phase")),
        ("lang", text, Source("lang")),
        ("received_at", text, Source("received_at")),
    ]
    labels = [word(name, lang) for name, _, _ in wanted]
    for coding in codings:
        item, column = coding.item, coding.column
        question = _label(course, item.text, lang)
        if item.kind == "multiple_choice":
            chosen = {0: word("not_chosen", lang), 1: word("chosen", lang)}
            for option, code in coding.codes.items():
                spec = {"value_labels": chosen, **nominal}
                wanted.append((f"{column}_{option}", spec, Source(column, coding, option)))
                labels.append(f"{question}: {coding.labels[code]}")
            continue
        if item.kind in ("short_text", "long_text"):
            spec = text
        elif item.kind == "number":
            spec = {}
        else:
            measure = "ordinal" if item.kind == "likert" else "nominal"
            spec = {"value_labels": coding.labels, "user_missing": coding.missing}
            spec["measure"] = measure
        wanted.append((column, spec, Source(column, coding)))
        labels.append(question)
    names = variable_names(name for name, _, _ in wanted)
    return [
        (Variable(name=name, label=label, **spec), source)
        for name, label, (_, spec, source) in zip(names, labels, wanted, strict=True)
    ]


def responses_table(course: Course, rows: Iterable[ResponseRow], lang: str) -> LabelledTable:
    layout = response_layout(course, lang)
    codings = {s.coding.item.id: s.coding for _, s in layout if s.coding is not None}.values()
    agency_codes = {agency: n for n, agency in enumerate(course.agency_ids(), 1)}
    phase_codes = {phase: n for n, phase in enumerate(course.phase_ids(), 1)}
    out_rows: list[tuple[Cell, ...]] = []
    for row in rows:
        answers = _decode_answers(row.answers_json)
        cells: list[Cell] = [
            row.participant,
            agency_codes.get(row.agency),
            agency_codes.get(row.submitted_agency),
            int(bool(row.agency_mismatch)),
            phase_codes.get(row.phase),
            row.lang,
            row.received_at,
        ]
        for coding in codings:
            cells.extend(_answer_cells(coding, answers.get(coding.item.id)))
        out_rows.append(tuple(cells))
    variables = tuple(variable for variable, _ in layout)
    return LabelledTable(course.localize(course.title, lang), variables, out_rows)


def _answer_cells(coding: Coding, answer: object) -> list[Cell]:
    kind = coding.item.kind
    if kind == "multiple_choice":
        if not isinstance(answer, list):
            return [None] * len(coding.codes)
        return [int(option in answer) for option in coding.codes]
    if answer is None:
        return [None]
    if kind in ("short_text", "long_text"):
        return [str(answer)]
    if kind == "number":
        return [answer if isinstance(answer, int | float) else None]
    return [coding.codes.get(str(answer))]


# -- scores ----------------------------------------------------------------------------------

_decode_scores = msgspec.json.Decoder(dict[str, Any]).decode


def scores_table(course: Course, rows: Iterable[ScoreRow], lang: str) -> LabelledTable:
    """One row per participant: agency, then each phase x measure x skill score.

    The measures are the course's (`domain.design`: knowledge, confidence and "I don't
    know", each where the course has items for it), in that order.
    """
    ordered_measures = [m.id for m in course_measures(course)]
    people: dict[int, tuple[str, dict[tuple[str, str, str], float]]] = {}
    keys_seen: set[str] = set()
    for row in rows:
        agency, values = people.setdefault(row.participant, (row.agency, {}))
        stored = _decode_scores(row.scores_json)
        for measure in ordered_measures:
            scores = stored.get(measure)
            if not isinstance(scores, dict):
                continue
            for key, value in scores.items():
                if _is_number(value):
                    keys_seen.add(key)
                    values[(row.phase, measure, key)] = float(value)
    skills = [s for s in course.skill_ids() if s in keys_seen or not keys_seen]
    skills += sorted(keys_seen - set(skills) - {TOTAL}) + [TOTAL]
    skill_names = {s.id: _label(course, s.name, lang) for s in course.skills}
    phases = [(p.id, _label(course, p.title, lang) if p.title else p.id) for p in course.phases]
    columns = [
        (phase, measure, skill)
        for phase, _ in phases
        for measure in ordered_measures
        for skill in skills
    ]
    phase_names = dict(phases)
    agency_codes = {agency: n for n, agency in enumerate(course.agency_ids(), 1)}
    agency_labels = {n: _label(course, a.name, lang) for n, a in enumerate(course.agencies, 1)}

    wanted = ["participant", "agency"]
    specs: list[dict[str, Any]] = [
        {"label": word("participant", lang)},
        {"label": word("agency", lang), "value_labels": agency_labels, "measure": "nominal"},
    ]
    for phase, measure, skill in columns:
        wanted.append(f"{measure}_{skill}_{phase}")
        measure_key = "dont_know_measure" if measure == "dont_know" else measure
        measure_name = word(measure_key, lang) if measure_key in WORDS else measure
        skill_name = skill_names.get(skill) or (word(TOTAL, lang) if skill == TOTAL else skill)
        specs.append({"label": f"{measure_name}: {skill_name}, {phase_names[phase]}"})
    names = variable_names(wanted)
    variables = tuple(Variable(name=n, **spec) for n, spec in zip(names, specs, strict=True))
    out_rows: list[tuple[Cell, ...]] = [
        (number, agency_codes.get(agency), *(values.get(key) for key in columns))
        for number, (agency, values) in sorted(people.items())
    ]
    return LabelledTable(course.localize(course.title, lang), variables, out_rows)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
