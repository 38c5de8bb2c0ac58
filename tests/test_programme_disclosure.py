"""A programme report never lets a course report's withheld figures be worked out.

Course reports are published first, and their decisions are fixed: the programme
withholds more instead. Tested three ways:

* a concrete attack: a course withholds an agency of two people; the programme's row
  of that agency's type pools it with another course's agency of the same type, whose
  row that course publishes. Subtracting gives the two people's sum -- unless the
  programme withholds (it must, and does);
* an independent differencing attacker, written without the verifier's cells or
  families: people as unknowns, every published mean times its count as an equation
  over the people it covers, across both course reports and the programme report; it
  must determine no withheld sum and no sum of one or two people;
* a property test of that attacker over random small programmes (hypothesis).

The data go through the real scoring and the real reports; only the storage round
trip is skipped (the rows are built as storage returns them).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable

import msgspec
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalsvc import programme_reports, reports
from evalsvc.catalog import load_paths
from evalsvc.demo import synthetic_answers
from evalsvc.domain import answers as answers_mod
from evalsvc.domain.derived import derive
from evalsvc.domain.programme import Programme
from evalsvc.domain.scoring import TOTAL
from evalsvc.storage.records import ScoreRow
from tests.programme_helpers import PROGRAMME, PROGRAMME_SURVEYS

CATALOG = load_paths([PROGRAMME_SURVEYS])
COURSES = CATALOG.courses
PROG: Programme = CATALOG.programmes[PROGRAMME]
EXAMPLES = 40 if os.environ.get("EVALSVC_SLOW") == "1" else 5


class Person(msgspec.Struct, frozen=True):
    course: str
    number: int
    agency: str
    sex: str | None
    phases: tuple[str, ...]


def build_rows(people: Iterable[Person], seed: int) -> dict[str, list[ScoreRow]]:
    """Score rows as storage returns them, made by the real validation and scoring."""
    rng = random.Random(seed)
    rows: dict[str, list[ScoreRow]] = {c: [] for c in PROG.course_ids()}
    for person in people:
        course = COURSES[person.course]
        level = {s: rng.uniform(0.1, 0.9) for s in course.skill_ids()}
        for position, phase in enumerate(person.phases):
            answers = synthetic_answers(
                course, phase, rng, {s: v + 0.2 * position for s, v in level.items()}
            )
            answers.pop("sex", None)
            if phase == "pre" and person.sex is not None:
                answers["sex"] = person.sex
            validated = answers_mod.validate_answers(course, phase, answers)
            assert validated.ok, validated.errors
            derived = derive(course, phase, validated.answers)
            rows[person.course].append(
                ScoreRow(
                    person.number,
                    person.agency,
                    phase,
                    msgspec.json.encode(derived.scores).decode(),
                    msgspec.json.encode(derived.breakdowns).decode(),
                    msgspec.json.encode(derived.summarised).decode(),
                    derived.scoring,
                )
            )
    return rows


def reports_of(rows: dict[str, list[ScoreRow]]):
    courses = {c: reports.report_from(COURSES[c], rows[c], {}, "en") for c in PROG.course_ids()}
    analysis = programme_reports.programme_analysis(PROG, COURSES, rows)
    return courses, analysis


# -- the independent attacker ---------------------------------------------------------------


TYPES = {(m.id, a): t for m in PROG.courses for a, t in m.agencies.items()}
SEX = {"f": "female", "m": "male"}


def members(people: list[Person], course: str | None, breakdown: str, group: str) -> np.ndarray:
    """Who a row is over (before pairing), from what a colleague could know about them."""
    out = []
    for person in people:
        if course is not None and person.course != course:
            out.append(False)
            continue
        if breakdown == "all":
            out.append(True)
        elif breakdown == "agency":
            out.append(person.agency == group)
        elif breakdown == "agency_type":
            out.append(TYPES.get((person.course, person.agency)) == group)
        elif breakdown == "course":
            out.append(person.course == group)
        elif breakdown == "country":
            out.append(PROG.member(person.course).country == group)
        elif breakdown == "year":
            out.append(str(PROG.member(person.course).year) == group)
        elif breakdown in ("sex", "pr_sex"):
            stated = (
                person.sex
                if breakdown == "sex" and course is not None
                else SEX.get(person.sex or "")
            )
            if breakdown == "sex" and course is not None:
                out.append((person.sex or "not_stated") == group)
            else:
                out.append((stated or "not_stated") == group)
        else:
            raise AssertionError(breakdown)
    return np.array(out, dtype=bool)


def attack(people: list[Person], courses, analysis, phase_side: str) -> list[str]:
    """Every withheld sum (or one or two people's) that published sums determine.

    Unknowns: each person's knowledge total in the `from` or `to` phase of pre_post
    (course and programme totals are the same score: every course skill is mapped).
    """
    paired = np.array([{"pre", "post"} <= set(p.phases) for p in people], dtype=bool)
    field = "from_mean" if phase_side == "from" else "to_mean"
    published: list[np.ndarray] = []
    from_courses: list[np.ndarray] = []
    hidden: list[tuple[str, np.ndarray]] = []

    def add(label: str, vector: np.ndarray, row, course_row: bool) -> None:
        if not vector.any():
            return
        if row.withheld:
            hidden.append((label, vector.astype(float)))
        elif getattr(row, field) is not None:
            published.append(vector.astype(float))
            if course_row:
                from_courses.append(vector.astype(float))

    for course_id, report in courses.items():
        for row in report.analysis.summary:
            if (row.measure, row.comparison, row.skill) != ("knowledge", "pre_post", TOTAL):
                continue
            vector = members(people, course_id, row.breakdown, row.group) & paired
            add(f"{course_id} {row.breakdown}={row.group}", vector, row, True)
    for row in analysis.summary:
        if (row.measure, row.comparison, row.skill) != ("knowledge", "pre_post", TOTAL):
            continue
        if row.scope == "course":
            vector = members(people, row.course, "all", "all") & paired
            label = f"programme course={row.course}"
        else:
            vector = members(people, None, row.breakdown, row.group) & paired
            label = f"programme {row.breakdown}={row.group}"
        add(label, vector, row, False)
    if not published:
        return []
    targets = list(hidden)
    index = np.flatnonzero(paired)
    for i in index:
        one = np.zeros(len(people))
        one[i] = 1.0
        targets.append((f"person {i}", one))
    for i in index:
        for j in index:
            if i < j:
                two = np.zeros(len(people))
                two[[i, j]] = 1.0
                targets.append((f"people {i} and {j}", two))
    # what the programme adds: determined with it, and not by the course reports alone
    return [
        label
        for label, target in targets
        if determined(np.array(published), target)
        and not (from_courses and determined(np.array(from_courses), target))
    ]


def determined(rows: np.ndarray, target: np.ndarray) -> bool:
    weights, *_ = np.linalg.lstsq(rows.T, target, rcond=None)
    return bool(np.linalg.norm(rows.T @ weights - target) <= 1e-6 * np.linalg.norm(target))


# -- the concrete attack --------------------------------------------------------------------


def concrete_people() -> list[Person]:
    both = ("pre", "post")
    people = []
    n = 0
    for course, plan in (
        ("prog-a", {"customs": 2, "border": 5, "courts": 5}),
        ("prog-b", {"douane": 5, "frontier": 4, "police": 4}),
    ):
        for agency, count in plan.items():
            for _ in range(count):
                n += 1
                people.append(Person(course, n, agency, "f" if n % 2 else "m", both))
    return people


def test_a_course_withheld_agency_cannot_be_recovered_through_its_agency_type() -> None:
    people = concrete_people()
    courses, analysis = reports_of(build_rows(people, seed=11))

    def course_row(course: str, agency: str):
        return next(
            r
            for r in courses[course].analysis.summary
            if (r.measure, r.comparison, r.breakdown, r.group, r.skill)
            == ("knowledge", "pre_post", "agency", agency, TOTAL)
        )

    hidden = course_row("prog-a", "customs")
    assert hidden.withheld and hidden.withheld["from_mean"] == "small_group"
    douane = course_row("prog-b", "douane")
    assert not douane.withheld  # the other course publishes its customs agency
    customs_type = next(
        r
        for r in analysis.summary
        if (r.scope, r.measure, r.comparison, r.breakdown, r.group, r.skill)
        == ("pooled", "knowledge", "pre_post", "agency_type", "customs", TOTAL)
    )
    assert customs_type.n_paired == hidden.n_paired + douane.n_paired
    # the subtraction needs the programme's customs row: it is withheld
    assert customs_type.withheld, "the programme published the row that gives the withheld one away"
    assert customs_type.from_mean is None
    assert analysis.disclosure.verified
    # and no other combination of published figures gives it either
    for side in ("from", "to"):
        assert attack(people, courses, analysis, side) == []


def test_without_the_programme_s_extra_withholding_the_attack_would_succeed() -> None:
    """The attacker can fail: with the customs row published, it finds the two people."""
    people = concrete_people()
    courses, analysis = reports_of(build_rows(people, seed=11))
    leaked = msgspec.structs.replace(
        analysis,
        summary=[
            msgspec.structs.replace(
                r, withheld={}, from_mean=r.from_mean if r.from_mean is not None else 1.0
            )
            if (r.scope, r.breakdown, r.group) == ("pooled", "agency_type", "customs")
            else r
            for r in analysis.summary
        ],
    )
    found = attack(people, courses, leaked, "from")
    assert "prog-a agency=customs" in found


def test_course_decisions_stay_as_the_course_reports_published_them() -> None:
    people = concrete_people()
    rows = build_rows(people, seed=11)
    courses, analysis = reports_of(rows)
    alone = {c: reports.report_from(COURSES[c], rows[c], {}, "en") for c in PROG.course_ids()}
    for course_id in PROG.course_ids():
        assert [r.withheld for r in courses[course_id].analysis.summary] == [
            r.withheld for r in alone[course_id].analysis.summary
        ]
    audit = analysis.disclosure
    assert audit.verified and audit.course_releases > 0 and audit.course_level == 0
    assert audit.withheld_complementary > 0


# -- random programmes -------------------------------------------------------------------------


@st.composite
def programmes(draw: st.DrawFn) -> list[Person]:
    people = []
    n = 0
    for course in PROG.course_ids():
        for agency in COURSES[course].agency_ids():
            for _ in range(draw(st.integers(0, 5))):
                n += 1
                phases = draw(
                    st.sampled_from(
                        [("pre", "post"), ("pre", "post"), ("pre",), ("pre", "post", "follow_up")]
                    )
                )
                sex = draw(st.sampled_from(["f", "m", None]))
                people.append(Person(course, n, agency, sex, phases))
    return people


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes(), st.integers(0, 1000))
def test_no_random_programme_gives_away_a_withheld_figure(people: list[Person], seed: int) -> None:
    if not any(p.course == "prog-a" for p in people) or not any(
        p.course == "prog-b" for p in people
    ):
        return
    courses, analysis = reports_of(build_rows(people, seed))
    assert analysis.disclosure.verified, analysis.disclosure.findings
    for side in ("from", "to"):
        assert attack(people, courses, analysis, side) == []
