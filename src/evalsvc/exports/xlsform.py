"""A course's phases as XLSForms, for KoboToolbox or ODK (one form per phase).

`phase_sheets` lays one phase out as the three XLSForm sheets (rows of dicts);
`xlsform_bytes` writes them as an .xlsx workbook. How the course maps onto XLSForm:

* **survey**: the code (``text`` ``code``, or one ``text`` ``pairing_<id>`` per
  self-generated pairing question) and the agency (``select_one evalsvc_agencies``),
  then one ``begin_group``/``end_group`` per section (its title the group's label, its
  intro the group's hint), holding the section's items: single choice and true/false
  as ``select_one <item>``, multiple choice as ``select_multiple <item>``, likert as
  ``select_one scale_<scale>`` (``scale_<scale>_na`` with "does not apply") with
  appearance ``likert``, numbers as ``decimal`` and texts as ``text`` (long texts with
  appearance ``multiline``). Help is the hint; ``required``, and ``constraint`` for
  number ranges and text lengths, are set so that Kobo/ODK enforce them too.
* Texts are in ``label::<Language> (<code>)`` and ``hint::...`` columns, one per course
  language (e.g. ``label::Russian (ru)``); missing translations are empty cells.
* What XLSForm has no column for travels in ``evalsvc_*`` columns that Kobo and ODK
  ignore: role, kind, skill, the answer key (``evalsvc_correct``, ids separated by
  spaces), points, partial credit, source, scale, min, max, max_length, breakdown.
  "I don't know" is the choice ``dont_know`` and "does not apply" the choice
  ``not_applicable`` of the item's list.
* **choices**: each item's options (true/false with the interface's words), the
  scales' points (labelled where the scale labels them), and the agencies.
* **settings**: ``form_title``, ``form_id`` = ``<course>-<phase>``, ``version``,
  ``default_language``, plus ``evalsvc_phase`` and ``evalsvc_course``: the course
  definition without its items (JSON), for what a form cannot say (skills, scales'
  ranges, phases' windows, comparisons, pairing, official agency names...).

`evalsvc.xlsform_import` reads these files back into a course folder.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import xlsxwriter
from babel import Locale, UnknownLocaleError

from evalsvc.domain.questionnaire import (
    DONT_KNOW,
    NOT_APPLICABLE,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
    LocalText,
)

Row = dict[str, str]

AGENCY_LIST = "evalsvc_agencies"
ITEM_COLUMNS = (
    "role",
    "kind",
    "skill",
    "correct",
    "points",
    "partial_credit",
    "source",
    "scale",
    "min",
    "max",
    "max_length",
    "breakdown",
)
"""Item fields carried in ``evalsvc_<field>`` columns of the survey sheet."""
SURVEY_BASE = ("type", "name")
SURVEY_TAIL = ("required", "constraint", "appearance")

WORDS: dict[str, LocalText] = {
    "code": {"en": "Code from your card", "ru": "Код с вашей карточки", "kk": "Карточкадағы код"},
    "agency": {"en": "Your agency", "ru": "Ваше ведомство", "kk": "Сіздің ведомствоңыз"},
    "true": {"en": "True", "ru": "Верно", "kk": "Дұрыс"},
    "false": {"en": "False", "ru": "Неверно", "kk": "Дұрыс емес"},
    DONT_KNOW: {"en": "I don't know", "ru": "Не знаю", "kk": "Білмеймін"},
    NOT_APPLICABLE: {"en": "Does not apply", "ru": "Неприменимо", "kk": "Қатысы жоқ"},
}


def language_column(kind: str, lang: str) -> str:
    """``label::Russian (ru)``: XLSForm's language column for a language code."""
    try:
        name = Locale.parse(lang).english_name or lang
    except (ValueError, UnknownLocaleError):
        name = lang
    return f"{kind}::{name} ({lang})"


def xml_name(item_or_id: str) -> str:
    """XLSForm names are XML names: an id starting with a digit gets a ``_`` in front
    (our ids never start with ``_``, so the importer can take it off again)."""
    return item_or_id if item_or_id[:1].isalpha() else f"_{item_or_id}"


def form_id(course: Course, phase_id: str) -> str:
    return xml_name(f"{course.id}-{phase_id}")


def phase_sheets(course: Course, phase_id: str) -> dict[str, list[Row]]:
    """The survey, choices and settings sheets of one phase, as rows of cells."""
    phase = course.phase(phase_id)
    if phase is None:
        raise KeyError(phase_id)
    langs = course.languages

    def texts(kind: str, text: Mapping[str, str]) -> Row:
        return {language_column(kind, lang): text.get(lang, "") for lang in langs}

    def words(key: str) -> LocalText:
        return {lang: WORDS[key].get(lang) or WORDS[key]["en"] for lang in langs}

    survey: list[Row] = []
    choices: list[Row] = []
    if phase.intro:
        survey.append({"type": "note", "name": "evalsvc_intro", **texts("label", phase.intro)})
        survey[-1]["evalsvc_role"] = "phase_intro"
    if course.pairing.method == "self_generated":
        for question in course.pairing.questions:
            survey.append(
                {
                    "type": "text",
                    "name": f"pairing_{question.id}",
                    **texts("label", question.text),
                    "required": "yes",
                    "evalsvc_role": "pairing",
                }
            )
    else:
        survey.append(
            {
                "type": "text",
                "name": "code",
                **texts("label", words("code")),
                "required": "yes",
                "evalsvc_role": "code",
            }
        )
    survey.append(
        {
            "type": f"select_one {AGENCY_LIST}",
            "name": "agency",
            **texts("label", words("agency")),
            "evalsvc_role": "agency",
        }
    )
    for agency in course.agencies:
        choices.append({"list_name": AGENCY_LIST, "name": agency.id, **texts("label", agency.name)})

    lists_done: set[str] = set()
    sections = {section.id: section for section in course.sections}
    for section_id in phase.sections:
        section = sections[section_id]
        survey.append(
            {
                "type": "begin_group",
                "name": xml_name(section.id),
                **texts("label", section.title),
                **texts("hint", section.intro),
                "evalsvc_role": "section",
            }
        )
        for item in (i for i in course.items if i.section == section_id):
            list_name, options = _choice_list(course, item, words)
            if list_name and list_name not in lists_done:
                lists_done.add(list_name)
                for name, text in options:
                    choices.append({"list_name": list_name, "name": name, **texts("label", text)})
            survey.append(
                {
                    "type": _type(item, list_name),
                    "name": xml_name(item.id),
                    **texts("label", item.text),
                    **texts("hint", item.help),
                    "required": "yes" if item.required else "",
                    "constraint": _constraint(item),
                    "appearance": _appearance(item),
                    **{f"evalsvc_{field}": _cell(item, field) for field in ITEM_COLUMNS},
                }
            )
        survey.append({"type": "end_group", "name": ""})

    title = course.localize(course.title, course.default_lang)
    if phase.title:
        title = f"{title}: {course.localize(phase.title, course.default_lang)}"
    settings = {
        "form_title": title,
        "form_id": form_id(course, phase_id),
        "version": dt.date.today().strftime("%Y%m%d"),
        "default_language": language_column("label", course.default_lang).split("::", 1)[1],
        "evalsvc_phase": phase_id,
        "evalsvc_course": course_metadata(course),
    }
    return {"survey": survey, "choices": choices, "settings": [settings]}


def course_metadata(course: Course) -> str:
    """The course definition without its items, as compact JSON."""
    data = msgspec.to_builtins(course)
    data.pop("items")
    return msgspec.json.encode(data).decode()


def _choice_list(course: Course, item: Item, words) -> tuple[str | None, list[tuple[str, Any]]]:
    if item.kind == "true_false":
        options = [(o, words(o)) for o in TRUE_FALSE_OPTIONS]
    elif item.kind in ("single_choice", "multiple_choice"):
        options = [(o.id, o.text) for o in item.options]
    elif item.kind == "likert":
        scale = course.scale(item.scale)
        if scale is None:
            return None, []
        labels = {label.value: label.text for label in scale.labels}
        points = [(str(p), labels.get(p, {lang: str(p) for lang in course.languages}))
                  for p in scale.points]  # fmt: skip
        if item.not_applicable:
            return f"scale_{scale.id}_na", [*points, (NOT_APPLICABLE, words(NOT_APPLICABLE))]
        return f"scale_{scale.id}", points
    else:
        return None, []
    if item.dont_know:
        options.append((DONT_KNOW, words(DONT_KNOW)))
    return xml_name(item.id), options


def _type(item: Item, list_name: str | None) -> str:
    if item.kind == "multiple_choice":
        return f"select_multiple {list_name}"
    if list_name is not None:
        return f"select_one {list_name}"
    return "decimal" if item.kind == "number" else "text"


def _appearance(item: Item) -> str:
    if item.kind == "likert":
        return "likert"
    return "multiline" if item.kind == "long_text" else ""


def _constraint(item: Item) -> str:
    if item.kind == "number":
        bounds = []
        if item.min is not None:
            bounds.append(f". >= {_number(item.min)}")
        if item.max is not None:
            bounds.append(f". <= {_number(item.max)}")
        return " and ".join(bounds)
    if item.kind in ("short_text", "long_text"):
        return f"string-length(.) <= {item.text_limit}"
    return ""


def generated_constraint(item: Item) -> str:
    """The constraint the export writes for `item` (the importer knows it as ours)."""
    return _constraint(item)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _cell(item: Item, field: str) -> str:
    value = getattr(item, field)
    if field == "correct":
        return " ".join(value)
    if field == "points":
        return _number(value) if item.role == "knowledge" else ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if value is None:
        return ""
    if isinstance(value, float):
        return _number(value)
    return str(value)


# -- the workbook ----------------------------------------------------------------------------


def xlsform_bytes(sheets: Mapping[str, list[Row]]) -> bytes:
    """The sheets as an .xlsx file: every cell a string, headers in the first row."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = book.add_format({"bold": True})
    for sheet_name, rows in sheets.items():
        sheet = book.add_worksheet(sheet_name)
        columns = _columns(rows)
        for c, column in enumerate(columns):
            sheet.write_string(0, c, column, bold)
            sheet.set_column(c, c, 40 if column.startswith(("label", "hint")) else 16)
        for r, row in enumerate(rows, start=1):
            for c, column in enumerate(columns):
                value = row.get(column, "")
                if value:
                    sheet.write_string(r, c, value)
        sheet.freeze_panes(1, 0)
    book.close()
    return output.getvalue()


def _columns(rows: Iterable[Row]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    tail = [c for c in SURVEY_TAIL if c in seen]
    texts = [c for c in seen if "::" in c]
    rest = [c for c in seen if c not in texts and c not in tail]
    head = [c for c in rest if c in (*SURVEY_BASE, "list_name")]
    others = [c for c in rest if c not in head]
    return [*head, *texts, *tail, *others]


def course_xlsforms(course: Course) -> dict[str, bytes]:
    """Every phase's XLSForm: file name (``<course>-<phase>.xlsx``) -> bytes."""
    return {
        f"{course.id}-{phase.id}.xlsx": xlsform_bytes(phase_sheets(course, phase.id))
        for phase in course.phases
    }
