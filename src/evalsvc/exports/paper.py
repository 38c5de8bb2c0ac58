"""Paper questionnaires: a printable PDF of one phase, and the CSV template that the
typed-in answers are imported from (`evalsvc.paper_import`).

The PDF is drawn from `domain.presentation.questionnaire_view`, the participant's own
view of the questionnaire, which is built without answer keys: what the web form does
not show, paper does not show either. Every page repeats the code box at its top, so
loose pages can still be matched. Next to each box is the value to type into the CSV
(the option id, the scale point), small and grey, so typing needs no key.

The CSV template has one column per thing to type: the code (or the pairing
answers, ``pairing_<question>``, for self-generated codes), ``agency`` (used only
when the code is not bound to one), ``lang``, ``received_at`` (optional; empty means
the time of the import), then one column per item of the phase, named by item id.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jinja2

from evalsvc.domain.presentation import questionnaire_view
from evalsvc.domain.questionnaire import NOT_APPLICABLE, Course
from evalsvc.exports import csv_export, html_report, pdf

META_COLUMNS = ("agency", "lang", "received_at")
MULTIPLE_SEPARATOR = "|"

WORDS: dict[str, dict[str, str]] = {
    "tick_one": {
        "en": "Tick one box.",
        "ru": "Отметьте один вариант.",
        "kk": "Бір нұсқаны белгілеңіз.",
    },
    "write": {
        "en": "Write clearly in the box.",
        "ru": "Пишите разборчиво в рамке.",
        "kk": "Жақтауға анық жазыңыз.",
    },
    "code_help": {
        "en": "Copy the code from your card, one character per box.",
        "ru": "Перепишите код с карточки, по одному знаку в клетку.",
        "kk": "Карточкадағы кодты әр шаршыға бір таңбадан көшіріңіз.",
    },
    "agency_help": {
        "en": "Only if your card names no agency.",
        "ru": "Только если на карточке не указано ведомство.",
        "kk": "Карточкада ведомство көрсетілмесе ғана.",
    },
    "code": {"en": "Code", "ru": "Код", "kk": "Код"},
    NOT_APPLICABLE: {"en": "Does not apply", "ru": "Неприменимо", "kk": "Қатысы жоқ"},
}


def paper_columns(course: Course, phase_id: str) -> tuple[str, ...]:
    """The columns of the typed-in CSV for one phase (see the module docstring)."""
    if course.pairing.method == "self_generated":
        identity = tuple(f"pairing_{q.id}" for q in course.pairing.questions)
    else:
        identity = ("code",)
    items = tuple(dict.fromkeys(item.id for item in course.items_in_phase(phase_id)))
    return (*identity, *META_COLUMNS, *items)


def csv_template(course: Course, phase_id: str) -> str:
    """The empty CSV (header only), UTF-8 with a BOM for Excel."""
    return csv_export.table_csv(paper_columns(course, phase_id), [])


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(html_report.WEB_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def paper_html(course: Course, phase_id: str, lang: str, gettext: Callable[..., str]) -> str:
    """The paper questionnaire as an HTML page for print; `gettext` translates the
    interface's words into `lang` (web.i18n.gettext_for)."""
    interface = {"true": gettext("True"), "false": gettext("False")}
    interface["dont_know"] = gettext("I don't know")
    view = questionnaire_view(course, phase_id, lang, interface)
    not_applicable = {item.id for item in course.items if item.not_applicable}

    def word(key: str) -> str:
        return WORDS[key].get(lang) or WORDS[key]["en"]

    return (
        _environment()
        .get_template("paper.html")
        .render(
            view=view,
            _=gettext,
            word=word,
            not_applicable=not_applicable,
            not_applicable_id=NOT_APPLICABLE,
            separator=MULTIPLE_SEPARATOR,
        )
    )


def paper_pdf(course: Course, phase_id: str, lang: str, gettext: Callable[..., str]) -> bytes:
    html = paper_html(course, phase_id, lang, gettext)
    title = course.localize(course.title, lang)
    return pdf.html_to_pdf(html, title=f"{title} ({phase_id})")
