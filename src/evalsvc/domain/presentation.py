"""What a participant sees of a questionnaire: localized, and without answer keys.

The view is built field by field from the model rather than by copying and
deleting, so a key, points or source added to `Item` later cannot leak here.

Every text comes with the language it is actually in (`*_lang`, `lang`): a text
missing in the wanted language falls back along the course's chain, and the page
marks such text with its own `lang` so that screen readers switch voice.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from evalsvc.domain.questionnaire import (
    DONT_KNOW,
    NOT_APPLICABLE,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
)


class OptionView(msgspec.Struct, frozen=True):
    id: str
    text: str
    lang: str


class ScalePointView(msgspec.Struct, frozen=True):
    value: int
    text: str | None = None
    lang: str | None = None


class ScaleView(msgspec.Struct, frozen=True):
    min: int
    max: int
    steps: list[ScalePointView]


class ItemView(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    kind: str
    role: str
    required: bool
    text: str
    text_lang: str
    help: str | None = None
    help_lang: str | None = None
    options: list[OptionView] | None = None
    scale: ScaleView | None = None
    not_applicable: OptionView | None = None
    """A likert item's extra "does not apply" choice; its id is the answer to send."""
    min: float | None = None
    max: float | None = None
    max_length: int | None = None


class SectionView(msgspec.Struct, frozen=True):
    id: str
    title: str
    intro: str | None
    items: list[ItemView]
    title_lang: str
    intro_lang: str | None


class PairingQuestionView(msgspec.Struct, frozen=True):
    id: str
    text: str
    kind: str
    length: int
    lang: str


class NamedView(msgspec.Struct, frozen=True):
    id: str
    name: str
    lang: str


class QuestionnaireView(msgspec.Struct, frozen=True):
    course: str
    phase: str
    lang: str
    title: str
    phase_title: str | None
    intro: str | None
    pairing: str
    pairing_questions: list[PairingQuestionView]
    agencies: list[NamedView]
    sections: list[SectionView]
    item_count: int
    title_lang: str
    phase_title_lang: str | None
    intro_lang: str | None
    fallback_languages: list[str]
    """Languages other than `lang` that some text of the view is shown in."""


def questionnaire_view(
    course: Course, phase_id: str, lang: str, interface: Mapping[str, str]
) -> QuestionnaireView:
    """`interface` gives the labels "true", "false", "dont_know" and "not_applicable"
    in `lang`."""
    phase = course.phase(phase_id)
    if phase is None:
        raise KeyError(phase_id)

    used: list[str] = []

    def text(value: Mapping[str, str]) -> tuple[str, str]:
        shown, shown_lang = course.localized(dict(value), lang)
        if shown_lang != lang and shown_lang not in used:
            used.append(shown_lang)
        return shown, shown_lang

    def optional(value: Mapping[str, str]) -> tuple[str | None, str | None]:
        return text(value) if value else (None, None)

    def item_view(item: Item) -> ItemView:
        options = None
        if item.kind == "true_false":
            options = [OptionView(o, interface.get(o, o), lang) for o in TRUE_FALSE_OPTIONS]
        elif item.options:
            options = [OptionView(o.id, *text(o.text)) for o in item.options]
        if item.dont_know and options is not None:
            options.append(OptionView(DONT_KNOW, interface.get(DONT_KNOW, DONT_KNOW), lang))
        scale_view = None
        scale = course.scale(item.scale)
        if scale is not None:
            labels = {label.value: text(label.text) for label in scale.labels}
            points = [ScalePointView(v, *labels.get(v, (None, None))) for v in scale.points]
            scale_view = ScaleView(scale.min, scale.max, points)
        item_text, item_lang = text(item.text)
        help_text, help_lang = optional(item.help)
        return ItemView(
            id=item.id,
            kind=item.kind,
            role=item.role,
            required=item.required,
            text=item_text,
            text_lang=item_lang,
            help=help_text,
            help_lang=help_lang,
            options=options,
            scale=scale_view,
            not_applicable=(
                OptionView(NOT_APPLICABLE, interface.get(NOT_APPLICABLE, NOT_APPLICABLE), lang)
                if item.kind == "likert" and item.not_applicable
                else None
            ),
            min=item.min,
            max=item.max,
            max_length=item.text_limit if item.kind in ("short_text", "long_text") else None,
        )

    sections = []
    for section_id in phase.sections:
        section = next(s for s in course.sections if s.id == section_id)
        items = [item_view(i) for i in course.items if i.section == section_id]
        if items:
            title, title_lang = text(section.title)
            intro, intro_lang = optional(section.intro)
            sections.append(SectionView(section.id, title, intro, items, title_lang, intro_lang))
    title, title_lang = text(course.title)
    phase_title, phase_title_lang = optional(phase.title)
    intro, intro_lang = optional(phase.intro)
    pairing_questions = []
    for question in course.pairing.questions:
        question_text, question_lang = text(question.text)
        pairing_questions.append(
            PairingQuestionView(
                question.id, question_text, question.kind, question.length, question_lang
            )
        )
    agencies = [NamedView(a.id, *text(a.name)) for a in course.agencies]
    return QuestionnaireView(
        course=course.id,
        phase=phase.id,
        lang=lang,
        title=title,
        phase_title=phase_title,
        intro=intro,
        pairing=course.pairing.method,
        pairing_questions=pairing_questions,
        agencies=agencies,
        sections=sections,
        item_count=sum(len(s.items) for s in sections),
        title_lang=title_lang,
        phase_title_lang=phase_title_lang,
        intro_lang=intro_lang,
        fallback_languages=[other for other in course.languages if other in used]
        + [other for other in used if other not in course.languages],
    )
