"""The questionnaire model: a course, its phases, sections, items and options.

Structs here mirror the TOML files in surveys/ one to one (see surveys/README.md),
so that msgspec can decode and type-check them; `check_course` then checks meaning
(ids that must resolve, keys that must name options, scales that must make sense).
Pure: no file I/O here, the catalog module reads files and hands us dicts.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from typing import Literal

import msgspec

LocalText = dict[str, str]
"""Text keyed by language code, e.g. {"en": "...", "ru": "..."}."""

Role = Literal["knowledge", "self_assessment", "feedback", "profile"]
Kind = Literal[
    "single_choice",
    "true_false",
    "multiple_choice",
    "likert",
    "short_text",
    "long_text",
    "number",
]
PairingMethod = Literal["issued_codes", "self_generated"]

CHOICE_KINDS = frozenset({"single_choice", "multiple_choice", "true_false"})
TEXT_KINDS = frozenset({"short_text", "long_text"})
PAIRED_ROLES = frozenset({"knowledge", "self_assessment"})
TRUE_FALSE_OPTIONS = ("true", "false")
DONT_KNOW = "dont_know"
"""Option id of the optional "I don't know" answer; it always scores 0."""
NOT_APPLICABLE = "not_applicable"
"""Answer of a likert item with `not_applicable = true` ("did not take part"): counted
in summaries, left out of means."""
NOT_STATED = "not_stated"
"""Group of the people who did not answer a breakdown item."""
REQUIRED_PHASES = ("pre", "post")
FOLLOW_UP = "follow_up"
"""The phase id that turns on the default follow-up comparisons."""

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""Ids appear in URLs, form field names, file names and CSV headers: keep them plain."""
RESERVED_ITEM_IDS = frozenset({"code", "agency", "lang", "submission_id", "_csrf_token"})
"""Form fields of the questionnaire page itself; pairing answers use "pairing_<id>"."""

SHORT_TEXT_DEFAULT_MAX = 200
LONG_TEXT_DEFAULT_MAX = 4000


class _Def(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class Option(_Def, frozen=True):
    id: str
    text: LocalText


class ScaleLabel(_Def, frozen=True):
    value: int
    text: LocalText


class Scale(_Def, frozen=True):
    id: str
    min: int = 1
    max: int = 5
    labels: tuple[ScaleLabel, ...] = ()

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)


class Item(_Def, frozen=True):
    id: str
    role: Role
    kind: Kind
    section: str
    text: LocalText
    help: LocalText = {}
    skill: str | None = None
    required: bool = False
    options: tuple[Option, ...] = ()
    correct: tuple[str, ...] = ()
    points: float = 1.0
    partial_credit: bool = False
    dont_know: bool = False
    not_applicable: bool = False
    """likert only: offer "does not apply" as an extra choice (see NOT_APPLICABLE)."""
    breakdown: bool = False
    """single_choice profile items only: report results by this item's answers."""
    source: str | None = None
    scale: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None

    @property
    def option_ids(self) -> tuple[str, ...]:
        if self.kind == "true_false":
            ids: tuple[str, ...] = TRUE_FALSE_OPTIONS
        else:
            ids = tuple(o.id for o in self.options)
        return (*ids, DONT_KNOW) if self.dont_know else ids

    @property
    def text_limit(self) -> int:
        if self.max_length is not None:
            return self.max_length
        return LONG_TEXT_DEFAULT_MAX if self.kind == "long_text" else SHORT_TEXT_DEFAULT_MAX


class Section(_Def, frozen=True):
    id: str
    title: LocalText
    intro: LocalText = {}


class Phase(_Def, frozen=True):
    id: str
    sections: tuple[str, ...]
    title: LocalText = {}
    intro: LocalText = {}
    opens: dt.datetime | None = None
    closes: dt.datetime | None = None

    def is_open(self, now: dt.datetime) -> bool:
        return (self.opens is None or now >= self.opens) and (
            self.closes is None or now < self.closes
        )


class Agency(_Def, frozen=True):
    id: str
    name: LocalText
    official_name: LocalText = {}
    """The agency's full official name, for reports; `name` is the short one."""


class Skill(_Def, frozen=True):
    id: str
    name: LocalText
    description: LocalText = {}


class Organiser(_Def, frozen=True):
    name: LocalText
    url: str | None = None


class PairingQuestion(_Def, frozen=True):
    """A stable personal question for self-generated codes (e.g. birth day)."""

    id: str
    text: LocalText
    kind: Literal["letter", "day", "month", "digits"] = "letter"
    length: int = 1


class Pairing(_Def, frozen=True):
    method: PairingMethod = "issued_codes"
    questions: tuple[PairingQuestion, ...] = ()


class Course(_Def, frozen=True):
    id: str
    title: LocalText
    description: LocalText = {}
    venue: LocalText = {}
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    organisers: tuple[Organiser, ...] = ()
    project: LocalText = {}
    languages: tuple[str, ...] = ("en",)
    fallback: tuple[str, ...] = ()
    default_language: str | None = None
    min_cell_size: int = 3
    min_n_reliability: int = 10
    """Fewest people for KR-20 and item discrimination; below it they are null."""
    pass_mark: float | None = None
    """Percent of knowledge points that counts as passing; None: no pass-mark view."""
    timezone: str = "UTC"
    """IANA time zone of the venue, for dates shown to people (e.g. "Asia/Almaty")."""
    comparisons: tuple[tuple[str, str], ...] | None = None
    """(from phase, to phase) pairs; None: the default (see `comparison_pairs`)."""
    pairing: Pairing = Pairing()
    agencies: tuple[Agency, ...] = ()
    skills: tuple[Skill, ...] = ()
    scales: tuple[Scale, ...] = ()
    sections: tuple[Section, ...] = ()
    phases: tuple[Phase, ...] = ()
    items: tuple[Item, ...] = ()

    # -- lookups ---------------------------------------------------------
    @property
    def default_lang(self) -> str:
        return self.default_language or self.languages[0]

    def phase(self, phase_id: str) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    def phase_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.phases)

    def comparison_pairs(self) -> tuple[tuple[str, str], ...]:
        """The declared comparisons, else pre->post, plus pre->follow_up and
        post->follow_up when the course has a `follow_up` phase."""
        if self.comparisons is not None:
            return tuple(tuple(pair) for pair in self.comparisons)  # type: ignore[misc]
        if self.phase(FOLLOW_UP) is not None:
            return (("pre", "post"), ("pre", FOLLOW_UP), ("post", FOLLOW_UP))
        return (("pre", "post"),)

    def self_assessment_scale(self) -> Scale | None:
        """The one scale of the self-assessment items (`check_course` insists on one)."""
        item = next(iter(self.items_by_role("self_assessment")), None)
        return self.scale(item.scale) if item is not None else None

    def breakdown_items(self) -> tuple[Item, ...]:
        """Profile items that results are broken down by, besides agency."""
        return tuple(i for i in self.items if i.breakdown)

    def scale(self, scale_id: str | None) -> Scale | None:
        return next((s for s in self.scales if s.id == scale_id), None)

    def agency_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.agencies)

    def skill_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.skills)

    def items_in_phase(self, phase_id: str) -> tuple[Item, ...]:
        """Items in the order the phase shows them: by section, then file order."""
        phase = self.phase(phase_id)
        if phase is None:
            return ()
        return tuple(
            item for section in phase.sections for item in self.items if item.section == section
        )

    def items_by_role(self, role: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.role == role)

    def language_chain(self, lang: str) -> tuple[str, ...]:
        """Languages to try, in order, for text wanted in `lang`."""
        chain = [lang, *self.fallback, self.default_lang, *self.languages]
        return tuple(dict.fromkeys(chain))

    def localize(self, text: LocalText, lang: str) -> str:
        return self.localized(text, lang)[0]

    def localized(self, text: LocalText, lang: str) -> tuple[str, str]:
        """(text, the language it is in): `lang` if the text has it, else the first
        fallback along `language_chain` that does."""
        for candidate in self.language_chain(lang):
            value = text.get(candidate)
            if value:
                return value, candidate
        for candidate, value in text.items():
            return value, candidate
        return "", lang


# -- meaning checks ------------------------------------------------------------


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with a definition, located as precisely as we can."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f" [{self.where}]" if self.where else ""
        return f"{self.file}{where}: {self.message}"


def check_course(course: Course, item_files: dict[str, str], course_file: str) -> list[Problem]:
    """Every meaning problem of a decoded course; an empty list means it is sound.

    `item_files` maps item id to the file it came from, for messages.
    """
    problems: list[Problem] = []

    def at_course(where: str, message: str) -> None:
        problems.append(Problem(course_file, where, message))

    def at_item(item: Item, message: str) -> None:
        problems.append(Problem(item_files.get(item.id, course_file), f"item {item.id}", message))

    for kind, ids in (
        ("agency", [a.id for a in course.agencies]),
        ("skill", [s.id for s in course.skills]),
        ("scale", [s.id for s in course.scales]),
        ("section", [s.id for s in course.sections]),
        ("phase", [p.id for p in course.phases]),
    ):
        for dup in _duplicates(ids):
            at_course(f"{kind} {dup}", f"duplicate {kind} id {dup!r}")
    for label, value in _ids(course):
        if not ID_PATTERN.match(value):
            at_course(label, f"id {value!r} must be letters, digits, - or _ (at most 64)")
    for item in course.items:
        if item.id in RESERVED_ITEM_IDS or item.id.startswith("pairing_"):
            at_item(item, f"item id {item.id!r} is reserved for the form itself")
    for dup in _duplicates(i.id for i in course.items):
        problems.append(
            Problem(item_files.get(dup, course_file), f"item {dup}", "duplicate item id")
        )

    if not course.languages:
        at_course("languages", "a course needs at least one language")
    for lang in (*course.fallback, *([course.default_language] if course.default_language else [])):
        if lang not in course.languages:
            at_course("languages", f"{lang!r} is not one of the course languages")
    if course.min_cell_size < 1:
        at_course("min_cell_size", "min_cell_size must be at least 1")
    if course.min_n_reliability < 2:
        at_course("min_n_reliability", "min_n_reliability must be at least 2")
    if course.pass_mark is not None and not 0 < course.pass_mark <= 100:
        at_course(
            "pass_mark", "pass_mark is a percentage of knowledge points: above 0, at most 100"
        )
    if not _known_timezone(course.timezone):
        at_course(
            "timezone", f"unknown time zone {course.timezone!r}; use an IANA name, e.g. Asia/Almaty"
        )
    if course.start_date and course.end_date and course.end_date < course.start_date:
        at_course("dates", "end_date is before start_date")
    if not course.agencies:
        at_course("agencies", "a course needs at least one agency")
    if "all" in course.agency_ids():
        at_course("agency all", "'all' is reserved for the whole course; pick another agency id")
    if "total" in course.skill_ids():
        at_course("skill total", "'total' is reserved for the score over all skills")
    if not course.skills:
        at_course("skills", "a course needs at least one skill")

    if course.pairing.method == "self_generated" and len(course.pairing.questions) < 2:
        at_course("pairing", "self_generated pairing needs at least two questions")
    if course.pairing.method == "issued_codes" and course.pairing.questions:
        at_course("pairing", "pairing questions are only used with method = 'self_generated'")

    for scale in course.scales:
        problems.extend(_check_scale(scale, course_file))
    self_assessment_scales = sorted(
        {item.scale for item in course.items_by_role("self_assessment") if item.scale}
    )
    if len(self_assessment_scales) > 1:
        at_course(
            "self_assessment",
            "self-assessment items must share one scale, so that confidence is one measure;"
            f" found {', '.join(self_assessment_scales)}",
        )

    phase_ids = {p.id for p in course.phases}
    for required_phase in REQUIRED_PHASES:
        if required_phase not in phase_ids:
            at_course("phases", f"a course needs a {required_phase!r} phase")
    problems.extend(_check_comparisons(course, course_file))
    section_ids = {s.id for s in course.sections}
    for phase in course.phases:
        for section in phase.sections:
            if section not in section_ids:
                at_course(f"phase {phase.id}", f"names unknown section {section!r}")
        stamps = [stamp for stamp in (phase.opens, phase.closes) if stamp is not None]
        if any(stamp.tzinfo is None for stamp in stamps):
            at_course(f"phase {phase.id}", "opens/closes need a UTC offset, e.g. +05:00")
        elif phase.opens and phase.closes and phase.closes <= phase.opens:
            at_course(f"phase {phase.id}", "closes is not after opens")

    for label, value in _todo_markers(course):
        at_course(label, f"TODO left by an import: {value!r}; replace it with the real value")

    skills = set(course.skill_ids())
    pre, post = course.phase("pre"), course.phase("post")
    for item in course.items:
        for message in _check_item(item, course, skills, section_ids):
            at_item(item, message)
        in_both = pre and post and item.section in pre.sections and item.section in post.sections
        if item.role in PAIRED_ROLES and pre and post and not in_both:
            at_item(
                item,
                f"{item.role} items must be shown in both pre and post; section "
                f"{item.section!r} is not in both phases",
            )
    return problems


TODO_MARK = "TODO"
"""What `evalsvc import xlsform` writes where a form did not say (see xlsform_import)."""


def _todo_markers(course: Course) -> Iterable[tuple[str, str]]:
    for label, value in _ids(course):
        if value.startswith(TODO_MARK):
            yield label, value
    for label, text in texts_of(course):
        for value in text.values():
            if value.startswith(TODO_MARK):
                yield label, value


def _known_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_comparisons(course: Course, file: str) -> list[Problem]:
    """Each comparison names two declared phases, earlier first, showing the same
    knowledge and self-assessment items (a later phase pairs by item id)."""
    out: list[Problem] = []
    order = {phase_id: i for i, phase_id in enumerate(course.phase_ids())}
    if course.comparisons is not None and not course.comparisons:
        out.append(Problem(file, "comparisons", "declare at least one comparison"))
    seen: set[tuple[str, ...]] = set()
    for pair in course.comparisons or ():
        where = f"comparison {pair[0]}->{pair[1]}" if len(pair) == 2 else "comparisons"
        if len(pair) != 2:
            out.append(Problem(file, where, "a comparison is [from phase, to phase]"))
            continue
        if any(phase not in order for phase in pair):
            out.append(Problem(file, where, "names a phase the course does not declare"))
        elif order[pair[0]] >= order[pair[1]]:
            out.append(Problem(file, where, "the from phase must be declared before the to phase"))
        if tuple(pair) in seen:
            out.append(Problem(file, where, "declared twice"))
        seen.add(tuple(pair))
    if out:
        return out
    for first, second in course.comparison_pairs():
        for role in sorted(PAIRED_ROLES):
            shown = [
                {item.id for item in course.items_in_phase(phase) if item.role == role}
                for phase in (first, second)
            ]
            if shown[0] != shown[1]:
                differ = sorted(shown[0] ^ shown[1])
                out.append(
                    Problem(
                        file,
                        f"comparison {first}->{second}",
                        f"{role} items must be the same in both phases to pair them;"
                        f" only one shows {', '.join(differ[:5])}"
                        + (" ..." if len(differ) > 5 else ""),
                    )
                )
    return out


def _ids(course: Course) -> Iterable[tuple[str, str]]:
    yield "id", course.id
    for kind, things in (
        ("agency", course.agencies),
        ("skill", course.skills),
        ("scale", course.scales),
        ("section", course.sections),
        ("phase", course.phases),
        ("pairing", course.pairing.questions),
        ("item", course.items),
    ):
        for thing in things:
            yield f"{kind} {thing.id}", thing.id
    for item in course.items:
        for option in item.options:
            yield f"item {item.id} option {option.id}", option.id


def _duplicates(ids: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(ids).items() if count > 1]


def _check_scale(scale: Scale, file: str) -> list[Problem]:
    out: list[Problem] = []
    where = f"scale {scale.id}"
    if scale.max <= scale.min:
        out.append(
            Problem(file, where, f"max ({scale.max}) must be greater than min ({scale.min})")
        )
    elif scale.max - scale.min > 10:
        out.append(Problem(file, where, "a likert scale has at most 11 points"))
    values = [label.value for label in scale.labels]
    for value in values:
        if not scale.min <= value <= scale.max:
            out.append(
                Problem(file, where, f"label for {value} is outside {scale.min}..{scale.max}")
            )
    for dup in _duplicates(str(v) for v in values):
        out.append(Problem(file, where, f"two labels for point {dup}"))
    return out


def _check_item(item: Item, course: Course, skills: set[str], sections: set[str]) -> list[str]:
    out: list[str] = []
    if item.section not in sections:
        out.append(f"unknown section {item.section!r}")
    if not item.text:
        out.append("has no text")

    if item.role in PAIRED_ROLES:
        if item.skill is None:
            out.append(f"a {item.role} item needs a skill")
        elif item.skill not in skills:
            out.append(f"unknown skill {item.skill!r} (the course has {', '.join(sorted(skills))})")
    elif item.skill is not None and item.skill not in skills:
        out.append(f"unknown skill {item.skill!r}")

    if item.role == "knowledge":
        if item.kind not in CHOICE_KINDS:
            out.append(f"a knowledge item must be a choice item, not {item.kind}")
        if not item.correct:
            out.append("a knowledge item needs an answer key (correct)")
        if item.points <= 0:
            out.append("points must be positive")
        if item.kind in ("single_choice", "true_false") and len(item.correct) > 1:
            out.append(f"a {item.kind} item has exactly one correct option")
    elif item.correct or item.source or item.partial_credit or item.dont_know:
        out.append("correct, source, partial_credit and dont_know belong to knowledge items")

    if item.role == "self_assessment" and item.kind != "likert":
        out.append("a self_assessment item must be likert")
    if item.role == "self_assessment" and item.not_applicable:
        out.append(
            "not_applicable is for feedback likert items; leave a self-assessment unanswered"
        )
    if item.not_applicable and item.kind != "likert":
        out.append("not_applicable belongs to likert items")
    if item.breakdown:
        if item.role != "profile" or item.kind != "single_choice":
            out.append("breakdown = true needs a single_choice profile item")
        for option in item.options:
            if option.id in (NOT_STATED, "all"):
                out.append(f"option id {option.id!r} is reserved in breakdown items")
        if item.id in ("agency", "all"):
            out.append(f"{item.id!r} cannot name a breakdown")

    if item.kind in ("single_choice", "multiple_choice"):
        if len(item.options) < 2:
            out.append(f"a {item.kind} item needs at least two options")
        for dup in _duplicates(o.id for o in item.options):
            out.append(f"duplicate option id {dup!r}")
        if any(o.id == DONT_KNOW for o in item.options):
            out.append(f"option id {DONT_KNOW!r} is reserved; set dont_know = true instead")
    elif item.options:
        out.append(f"a {item.kind} item has no options")

    if item.kind in CHOICE_KINDS:
        valid = set(item.option_ids) - {DONT_KNOW}
        for key in item.correct:
            if key not in valid:
                out.append(f"answer key names missing option {key!r}")
    if item.partial_credit and item.kind != "multiple_choice":
        out.append("partial_credit only applies to multiple_choice")

    if item.kind == "likert":
        if item.scale is None:
            out.append("a likert item needs a scale")
        elif course.scale(item.scale) is None:
            out.append(f"unknown scale {item.scale!r}")
    elif item.scale is not None:
        out.append("only likert items have a scale")

    if item.kind == "number":
        if item.min is not None and item.max is not None and item.max < item.min:
            out.append("max is below min")
    elif item.min is not None or item.max is not None:
        out.append("min and max belong to number items")

    if item.max_length is not None and (item.kind not in TEXT_KINDS or item.max_length < 1):
        out.append("max_length belongs to text items and must be positive")
    return out


# -- translation completeness -----------------------------------------------------


def texts_of(course: Course) -> Iterable[tuple[str, LocalText]]:
    """Every participant-visible text with a label saying where it is."""
    yield "title", course.title
    if course.description:
        yield "description", course.description
    for agency in course.agencies:
        yield f"agency {agency.id}", agency.name
    for skill in course.skills:
        yield f"skill {skill.id}", skill.name
    for scale in course.scales:
        for label in scale.labels:
            yield f"scale {scale.id} point {label.value}", label.text
    for section in course.sections:
        yield f"section {section.id} title", section.title
        if section.intro:
            yield f"section {section.id} intro", section.intro
    for phase in course.phases:
        if phase.title:
            yield f"phase {phase.id} title", phase.title
        if phase.intro:
            yield f"phase {phase.id} intro", phase.intro
    for question in course.pairing.questions:
        yield f"pairing {question.id}", question.text
    for item in course.items:
        yield f"item {item.id}", item.text
        if item.help:
            yield f"item {item.id} help", item.help
        for option in item.options:
            yield f"item {item.id} option {option.id}", option.text


def missing_translations(course: Course) -> dict[str, list[str]]:
    """For each course language, the labels of texts it lacks (they fall back)."""
    missing: dict[str, list[str]] = {lang: [] for lang in course.languages}
    for label, text in texts_of(course):
        for lang in course.languages:
            if not text.get(lang):
                missing[lang].append(label)
    return missing
