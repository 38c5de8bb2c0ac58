"""What a participant sees of a questionnaire: localized, and without answer keys.

The view is built field by field from the model rather than by copying and
deleting, so a key, points or source added to `Item` later cannot leak here.
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


class ScalePointView(msgspec.Struct, frozen=True):
    value: int
    text: str | None = None


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
    help: str | None = None
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


class PairingQuestionView(msgspec.Struct, frozen=True):
    id: str
    text: str
    kind: str
    length: int


class NamedView(msgspec.Struct, frozen=True):
    id: str
    name: str


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


def questionnaire_view(
    course: Course, phase_id: str, lang: str, interface: Mapping[str, str]
) -> QuestionnaireView:
    """`interface` gives the labels "true", "false", "dont_know" and "not_applicable"
    in `lang`."""
    phase = course.phase(phase_id)
    if phase is None:
        raise KeyError(phase_id)

    def text(value: Mapping[str, str]) -> str:
        return course.localize(dict(value), lang)

    def optional(value: Mapping[str, str]) -> str | None:
        return text(value) if value else None

    def item_view(item: Item) -> ItemView:
        options = None
        if item.kind == "true_false":
            options = [OptionView(o, interface.get(o, o)) for o in TRUE_FALSE_OPTIONS]
        elif item.options:
            options = [OptionView(o.id, text(o.text)) for o in item.options]
        if item.dont_know and options is not None:
            options.append(OptionView(DONT_KNOW, interface.get(DONT_KNOW, DONT_KNOW)))
        scale_view = None
        scale = course.scale(item.scale)
        if scale is not None:
            labels = {label.value: text(label.text) for label in scale.labels}
            points = [ScalePointView(v, labels.get(v)) for v in scale.points]
            scale_view = ScaleView(scale.min, scale.max, points)
        return ItemView(
            id=item.id,
            kind=item.kind,
            role=item.role,
            required=item.required,
            text=text(item.text),
            help=optional(item.help),
            options=options,
            scale=scale_view,
            not_applicable=(
                OptionView(NOT_APPLICABLE, interface.get(NOT_APPLICABLE, NOT_APPLICABLE))
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
            sections.append(
                SectionView(section.id, text(section.title), optional(section.intro), items)
            )
    return QuestionnaireView(
        course=course.id,
        phase=phase.id,
        lang=lang,
        title=text(course.title),
        phase_title=optional(phase.title),
        intro=optional(phase.intro),
        pairing=course.pairing.method,
        pairing_questions=[
            PairingQuestionView(q.id, text(q.text), q.kind, q.length)
            for q in course.pairing.questions
        ],
        agencies=[NamedView(a.id, text(a.name)) for a in course.agencies],
        sections=sections,
        item_count=sum(len(s.items) for s in sections),
    )
