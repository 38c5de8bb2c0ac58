"""The programme model: many courses across countries and years, reported together.

A programme is declared in ``programmes/<id>.toml`` inside any surveys folder (see
surveys/README.md, "Programmes"). Structs here mirror that file one to one, so that
msgspec decodes and type-checks it; `check_programme` then checks its meaning against
the courses it names, with messages as precise as the course checks'. Pure: the
catalog reads the files and hands us dicts and courses.

What a programme says:

* its member courses, each with its country and year;
* a shared skill **framework**, and per course the mapping of the course's skill ids
  onto it (several course skills may map to one framework skill; a course skill may
  stay outside the framework);
* **agency types** (border, customs, police...), and per course the type of each of
  its agencies;
* programme **breakdowns** such as sex or role, and per course which breakdown item
  (and which of its options) gives each group;
* per course, the item and options that say a participant **applied** what they
  learned (for the donor indicator);
* the donor's logframe **indicators**, each with baseline and target.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from evalsvc.domain.questionnaire import (
    ID_PATTERN,
    NOT_STATED,
    PAIRED_ROLES,
    Course,
    LocalText,
    Problem,
)

PROGRAMMES_FOLDER = "programmes"
"""The folder, inside a surveys folder, that holds programme files."""

COURSE = "course"
COUNTRY = "country"
YEAR = "year"
AGENCY_TYPE = "agency_type"
FIXED_BREAKDOWNS = (COURSE, COUNTRY, YEAR, AGENCY_TYPE)
"""Breakdowns every programme has, before its declared ones (sex, role...)."""

MetaMethod = Literal["REML", "DL"]
IndicatorKind = Literal["gain_at_least", "pass_mark", "applied", "group_share"]
Direction = Literal["increase", "decrease"]


class _Def(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class Named(_Def, frozen=True, kw_only=True):
    id: str
    name: LocalText


class ProgrammeBreakdown(_Def, frozen=True, kw_only=True):
    """A breakdown of the programme's people, e.g. sex, given by a course item each."""

    id: str
    name: LocalText
    groups: tuple[Named, ...]


class BreakdownSource(_Def, frozen=True, kw_only=True):
    """Which course item gives a programme breakdown, and which option is which group."""

    item: str
    groups: dict[str, str]
    """Course option id -> programme group id; options left out count as not stated."""


class AppliedSource(_Def, frozen=True, kw_only=True):
    """The course item that says a participant applied what they learned."""

    item: str
    phase: str = "follow_up"
    options: tuple[str, ...]
    """The options that mean "yes, applied"."""


class MemberCourse(_Def, frozen=True, kw_only=True):
    id: str
    country: str
    year: int
    skills: dict[str, str]
    """Course skill id -> framework skill id."""
    agencies: dict[str, str]
    """Course agency id -> agency type id."""
    breakdowns: dict[str, BreakdownSource] = {}
    """Programme breakdown id -> where this course records it."""
    applied: AppliedSource | None = None


class Indicator(_Def, frozen=True, kw_only=True):
    """A logframe indicator: a share of participants, with baseline and target.

    Kinds (all over the programme's pooled participants):

    * ``gain_at_least`` -- paired in `comparison`, whose `measure` total rose by at
      least `threshold` (in the measure's unit; fell, for a measure where lower is
      better);
    * ``pass_mark`` -- paired in `comparison`, at or above their course's pass mark in
      its later phase (courses without a pass mark are left out);
    * ``applied`` -- answered their course's "applied" item, with one of its options
      that mean yes;
    * ``group_share`` -- stated their `breakdown`, and are in `group` (e.g. women
      among those who stated their sex).
    """

    id: str
    kind: IndicatorKind
    title: LocalText
    measure: str = "knowledge"
    comparison: str = "pre_post"
    threshold: float | None = None
    breakdown: str | None = None
    group: str | None = None
    baseline_percent: float | None = None
    target_percent: float | None = None
    direction: Direction = "increase"
    """Whether the target is reached from below (increase) or from above (decrease)."""


class Programme(_Def, frozen=True, kw_only=True):
    id: str
    title: LocalText
    donor: LocalText = {}
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    languages: tuple[str, ...] = ("en",)
    min_cell_size: int | None = None
    """Smallest group shown; default (and at least): the largest of the courses'."""
    meta_method: MetaMethod = "REML"
    """How the random-effects meta-analysis estimates tau²."""
    countries: tuple[Named, ...] = ()
    framework: tuple[Named, ...] = ()
    agency_types: tuple[Named, ...] = ()
    breakdowns: tuple[ProgrammeBreakdown, ...] = ()
    courses: tuple[MemberCourse, ...] = ()
    indicators: tuple[Indicator, ...] = ()

    # -- lookups -------------------------------------------------------------------
    def course_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.courses)

    def member(self, course_id: str) -> MemberCourse | None:
        return next((c for c in self.courses if c.id == course_id), None)

    def skill_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.framework)

    def agency_type_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.agency_types)

    def country_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.countries)

    def years(self) -> tuple[int, ...]:
        return tuple(sorted({c.year for c in self.courses}))

    def breakdown(self, breakdown_id: str) -> ProgrammeBreakdown | None:
        return next((b for b in self.breakdowns if b.id == breakdown_id), None)

    def breakdown_groups(self, breakdown_id: str) -> tuple[str, ...]:
        """Every group of a breakdown in display order (declared ones end with not_stated)."""
        if breakdown_id == COURSE:
            return self.course_ids()
        if breakdown_id == COUNTRY:
            used = {c.country for c in self.courses}
            return tuple(c for c in self.country_ids() if c in used)
        if breakdown_id == YEAR:
            return tuple(str(year) for year in self.years())
        if breakdown_id == AGENCY_TYPE:
            return self.agency_type_ids()
        declared = self.breakdown(breakdown_id)
        if declared is None:
            return ()
        return (*(g.id for g in declared.groups), NOT_STATED)

    def breakdown_ids(self) -> tuple[str, ...]:
        return (*FIXED_BREAKDOWNS, *(b.id for b in self.breakdowns))

    def agencies_of_type(self, course_id: str, agency_types: Iterable[str]) -> tuple[str, ...]:
        member = self.member(course_id)
        if member is None:
            return ()
        wanted = set(agency_types)
        return tuple(a for a, t in member.agencies.items() if t in wanted)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def localize(self, text: LocalText, lang: str) -> str:
        for candidate in (lang, *self.languages, "en"):
            if text.get(candidate):
                return text[candidate]
        return next(iter(text.values()), "")

    def localized(self, text: LocalText, lang: str) -> tuple[str, str]:
        """(text, the language it is in)."""
        for candidate in (lang, *self.languages, "en"):
            if text.get(candidate):
                return text[candidate], candidate
        for candidate, value in text.items():
            return value, candidate
        return "", lang


def min_cell_size(programme: Programme, courses: Mapping[str, Course]) -> int:
    """The programme's k: as declared, else the largest of its courses'."""
    ks = [courses[c].min_cell_size for c in programme.course_ids() if c in courses]
    return programme.min_cell_size or max(ks, default=3)


def agency_types_of(programmes: Iterable[Programme], course_id: str) -> dict[str, str]:
    """Agency id -> agency type for a course, from every programme that has it."""
    out: dict[str, str] = {}
    for programme in programmes:
        member = programme.member(course_id)
        if member is not None:
            for agency, agency_type in member.agencies.items():
                out.setdefault(agency, agency_type)
    return out


# -- meaning checks ---------------------------------------------------------------------


def check_programme(
    programme: Programme, courses: Mapping[str, Course], file: str
) -> list[Problem]:
    """Every meaning problem of a decoded programme, given the courses it may name."""
    problems: list[Problem] = []

    def at(where: str, message: str) -> None:
        problems.append(Problem(file, where, message))

    for label, value in _ids(programme):
        if not ID_PATTERN.match(value):
            at(label, f"id {value!r} must be letters, digits, - or _ (at most 64)")
    for kind, ids in (
        ("framework skill", programme.skill_ids()),
        ("agency type", programme.agency_type_ids()),
        ("country", programme.country_ids()),
        ("breakdown", [b.id for b in programme.breakdowns]),
        ("course", programme.course_ids()),
        ("indicator", [i.id for i in programme.indicators]),
    ):
        for dup in _duplicates(ids):
            at(f"{kind} {dup}", f"{kind} {dup!r} is declared twice")
    for breakdown in programme.breakdowns:
        if breakdown.id in (*FIXED_BREAKDOWNS, "all", "agency"):
            at(f"breakdown {breakdown.id}", f"{breakdown.id!r} is a breakdown of its own already")
        if not breakdown.groups:
            at(f"breakdown {breakdown.id}", "a breakdown needs at least one group")
        for dup in _duplicates(g.id for g in breakdown.groups):
            at(f"breakdown {breakdown.id}", f"group {dup!r} is declared twice")
        if NOT_STATED in (g.id for g in breakdown.groups):
            at(f"breakdown {breakdown.id}", f"{NOT_STATED!r} is added by evalsvc; leave it out")
    if not programme.title:
        at("title", "a programme needs a title")
    if not programme.languages:
        at("languages", "a programme needs at least one language")
    if programme.start_date and programme.end_date and programme.end_date < programme.start_date:
        at("dates", "end_date is before start_date")
    if not programme.courses:
        at("courses", "a programme needs at least one course")
    if not programme.framework:
        at("framework", "a programme needs a skill framework ([[framework]])")
    if "total" in programme.skill_ids():
        at("framework total", "'total' is reserved for the score over all skills")
    if programme.min_cell_size is not None:
        largest = max(
            (courses[c].min_cell_size for c in programme.course_ids() if c in courses), default=1
        )
        if programme.min_cell_size < largest:
            at(
                "min_cell_size",
                f"min_cell_size {programme.min_cell_size} is below a member course's"
                f" ({largest}): the programme may withhold more than its courses, never less",
            )

    for member in programme.courses:
        course = courses.get(member.id)
        if course is None:
            known = ", ".join(sorted(courses)) or "none"
            at(
                f"course {member.id}",
                f"no course {member.id!r} in the surveys folders given (found: {known});"
                " pass every folder that holds the programme's courses",
            )
            continue
        for message in _check_member(programme, member, course):
            at(f"course {member.id}", message)
    problems.extend(_check_coverage(programme, courses, file))
    for indicator in programme.indicators:
        for message in _check_indicator(programme, indicator, courses):
            at(f"indicator {indicator.id}", message)
    return problems


def check_programmes(
    programmes: Mapping[str, Programme], files: Mapping[str, str]
) -> list[Problem]:
    """Across programmes: a course's agencies have one type whichever programme says it
    (an agency-type scope on a course must not depend on which programme is asked)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for programme in programmes.values():
        for member in programme.courses:
            for agency, agency_type in member.agencies.items():
                first = seen.setdefault((member.id, agency), (programme.id, agency_type))
                if first[1] != agency_type:
                    problems.append(
                        Problem(
                            files.get(programme.id, programme.id),
                            f"course {member.id}",
                            f"agency {agency!r} is of type {agency_type!r} here but"
                            f" {first[1]!r} in programme {first[0]!r}; give it one type",
                        )
                    )
    return problems


def _check_member(programme: Programme, member: MemberCourse, course: Course) -> list[str]:
    out: list[str] = []
    if member.country not in programme.country_ids():
        out.append(
            f"country {member.country!r} is not declared in [[countries]]"
            f" ({', '.join(programme.country_ids()) or 'none'})"
        )
    if not 1990 <= member.year <= 2100:
        out.append(f"year {member.year} is not a plausible course year")
    framework = set(programme.skill_ids())
    for course_skill, framework_skill in member.skills.items():
        if course_skill not in course.skill_ids():
            out.append(
                f"skills: {course_skill!r} is not a skill of the course"
                f" ({', '.join(course.skill_ids())})"
            )
        if framework_skill not in framework:
            out.append(f"skills: {framework_skill!r} is not a framework skill")
    if not member.skills:
        out.append("skills: map at least one course skill onto the framework")
    types = set(programme.agency_type_ids())
    for agency, agency_type in member.agencies.items():
        if agency not in course.agency_ids():
            out.append(
                f"agencies: {agency!r} is not an agency of the course"
                f" ({', '.join(course.agency_ids())})"
            )
        if agency_type not in types:
            out.append(f"agencies: {agency_type!r} is not a declared agency type")
    unmapped = [a for a in course.agency_ids() if a not in member.agencies]
    if unmapped:
        out.append(f"agencies: give every agency a type; missing {', '.join(unmapped)}")
    for breakdown_id, source in member.breakdowns.items():
        out.extend(_check_breakdown_source(programme, breakdown_id, source, course))
    if member.applied is not None:
        out.extend(_check_applied(member.applied, course))
    return out


def _check_breakdown_source(
    programme: Programme, breakdown_id: str, source: BreakdownSource, course: Course
) -> list[str]:
    where = f"breakdowns.{breakdown_id}"
    declared = programme.breakdown(breakdown_id)
    if declared is None:
        return [f"{where}: no programme breakdown {breakdown_id!r} ([[breakdowns]])"]
    item = next((i for i in course.items if i.id == source.item), None)
    if item is None:
        return [f"{where}: the course has no item {source.item!r}"]
    out = []
    if not item.breakdown:
        # Its group sizes must be ones the course report already publishes: the
        # course publishes counts by its breakdown items, never by other items.
        out.append(
            f"{where}: item {item.id!r} must be a breakdown item of the course"
            " (breakdown = true), whose group counts the course report already shows"
        )
    groups = {g.id for g in declared.groups}
    options = {o.id for o in item.options}
    for option, group in source.groups.items():
        if option not in options:
            out.append(f"{where}: {option!r} is not an option of item {item.id!r}")
        if group not in groups:
            out.append(f"{where}: {group!r} is not a group of breakdown {breakdown_id!r}")
    return out


def _check_applied(applied: AppliedSource, course: Course) -> list[str]:
    item = next((i for i in course.items if i.id == applied.item), None)
    if item is None:
        return [f"applied: the course has no item {applied.item!r}"]
    out = []
    if item.role in PAIRED_ROLES or item.breakdown:
        out.append(f"applied: item {item.id!r} is scored or a breakdown; use an answered question")
    if item.kind not in ("single_choice", "true_false"):
        out.append(f"applied: item {item.id!r} must be single_choice or true_false")
    if item not in course.items_in_phase(applied.phase):
        out.append(f"applied: phase {applied.phase!r} does not show item {item.id!r}")
    for option in applied.options:
        if option not in item.option_ids:
            out.append(f"applied: {option!r} is not an option of item {item.id!r}")
    if not applied.options:
        out.append("applied: name the options that mean the participant applied it")
    return out


def _check_coverage(
    programme: Programme, courses: Mapping[str, Course], file: str
) -> list[Problem]:
    out: list[Problem] = []
    members = [courses[m.id] for m in programme.courses if m.id in courses]
    if len(members) < len(programme.courses):
        return out
    covered = {f for m in programme.courses for f in m.skills.values()}
    for skill in programme.skill_ids():
        if skill not in covered:
            out.append(
                Problem(file, f"framework skill {skill}", "no member course maps a skill onto it")
            )
    scales = {
        (scale.min, scale.max)
        for course in members
        if (scale := course.self_assessment_scale()) is not None
    }
    if len(scales) > 1:
        spans = ", ".join(f"{low}-{high}" for low, high in sorted(scales))
        out.append(
            Problem(
                file,
                "courses",
                f"the courses' self-assessment scales differ ({spans}): confidence on"
                " different scales cannot be pooled; use one scale in every course",
            )
        )
    return out


def _check_indicator(
    programme: Programme, indicator: Indicator, courses: Mapping[str, Course]
) -> list[str]:
    out = []
    members = [courses[c] for c in programme.course_ids() if c in courses]
    for name in ("baseline_percent", "target_percent"):
        value = getattr(indicator, name)
        if value is not None and not 0 <= value <= 100:
            out.append(f"{name} is a percentage: 0 to 100")
    if not indicator.title:
        out.append("an indicator needs a title")
    if indicator.kind in ("gain_at_least", "pass_mark"):
        comparisons = {f"{a}_{b}" for course in members for a, b in course.comparison_pairs()}
        if indicator.comparison not in comparisons:
            out.append(
                f"comparison {indicator.comparison!r} is in no member course"
                f" ({', '.join(sorted(comparisons))})"
            )
    if indicator.kind == "gain_at_least":
        if indicator.threshold is None or indicator.threshold <= 0:
            out.append("gain_at_least needs a threshold above 0, in the measure's unit")
        if indicator.measure not in ("knowledge", "confidence", "dont_know"):
            out.append(f"measure {indicator.measure!r}: use knowledge, confidence or dont_know")
    if indicator.kind == "pass_mark" and not any(c.pass_mark is not None for c in members):
        out.append("no member course has a pass_mark")
    if indicator.kind == "applied" and not any(m.applied for m in programme.courses):
        out.append("no member course names its applied item ([courses.applied])")
    if indicator.kind == "group_share":
        breakdown = programme.breakdown(indicator.breakdown or "")
        if breakdown is None:
            out.append("group_share needs breakdown = one of the programme's [[breakdowns]]")
        elif indicator.group not in {g.id for g in breakdown.groups}:
            out.append(f"group {indicator.group!r} is not a group of {breakdown.id!r}")
    return out


def _ids(programme: Programme) -> Iterable[tuple[str, str]]:
    yield "id", programme.id
    for kind, things in (
        ("framework skill", programme.framework),
        ("agency type", programme.agency_types),
        ("country", programme.countries),
        ("breakdown", programme.breakdowns),
        ("indicator", programme.indicators),
    ):
        for thing in things:
            yield f"{kind} {thing.id}", thing.id
    for breakdown in programme.breakdowns:
        for group in breakdown.groups:
            yield f"breakdown {breakdown.id}", group.id


def _duplicates(ids: Iterable[str]) -> list[str]:
    return [value for value, n in Counter(ids).items() if n > 1]
