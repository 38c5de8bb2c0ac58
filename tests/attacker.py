"""An independent differencing attacker against a course report's disclosure control.

Written from the published rows and the threat model of issue 8 alone, without looking
at the planner or the verifier (domain/disclosure/plan.py, verify.py), so that a
mistake shared by both cannot hide a leak.

**What the attacker knows** (`Background`, read from the stored records' keys, never
from their values): every participant's group in every breakdown (agency, each
breakdown item, `not_stated`; an agency the course does not list puts them outside
every agency), which phases they answered, which scores they have (per measure, phase
and skill), how many self-assessment items they answered per skill (the weights of
their confidence total), and which summarised (feedback, profile) items they answered.
(The last two are more than the issue's threat model grants: a stronger attacker, so
that "nothing is determined" errs on the safe side.) It sees every published figure
of the `Analysis`.

**Unknowns**, one per person and

* knowledge: the credit (0..1 of its points) earned on each item in each phase, and,
  for partial-credit items, whether the item was fully right; "I don't know": whether
  each item offering it was answered so; confidence: the mean self-assessment per skill.
  A person's skill score and total are fixed linear combinations of these (the total
  by the knowledge points, the items offering "I don't know", or the number of
  self-assessment items answered per skill);
* second moments: every product of two of the person's per-skill scores (squares and
  cross-products, across phases), a separate unknown each: SDs give sums of squares,
  gain SDs give cross-products;
* per-person indicators behind published counts: improved / declined (per measure,
  comparison and skill), at the maximum, the individual normalized gain, passing in a
  phase and gaining a pass (knowledge total), McNemar's "wrong then right" per item,
  and each option or scale point of a summarised item (numbers: the value and its
  square).

**Equations**: every published figure that is a linear function of the unknowns
(given the counts, which are published): means, mean gains, SDs (with their means),
differences of means, shares and counts of improved/declined/unchanged/at maximum,
mean individual normalized gains, pass shares and changes, item difficulties and
McNemar counts, answer distributions, means, SDs and top-two boxes. Figures that are
redundant given these (t, d_z, d_av, Hake's gain, intervals, Welch t and df, Wilson
intervals) add nothing and are left out.

**Not modelled** (nonlinear): rank statistics (Wilcoxon, rank-biserial, Kruskal-Wallis),
p-values as such, item discrimination and KR-20 (only from `min_n_reliability` people),
free-text answers, and what bounds and integrality add (a mean of 0% says everyone
scored 0%). `interval_attack` adds the score ranges by linear programming; it is kept
apart because it goes beyond the linear threat model of the issue.

**Decision** (`attack`, `solve_system`): each block of unknowns that no equation links
to another is a linear system E u = b. A linear combination c of unknowns is determined
by the published figures exactly when c lies in the row space of E, i.e. c . N = 0 for
a basis N of E's null space. We compute N by exact Gaussian elimination over the
integers modulo the prime P = 2**31 - 1 (every coefficient is a small rational whose
denominator P does not divide). Anything determined over the rationals is determined
modulo P whenever E keeps its rank modulo P, which we check against a floating-point SVD
rank (`RankMismatch` if they differ): so "not determined" is exact. A "determined"
answer could in principle be an accident of the prime, so every finding is confirmed
with the published numbers: a least-squares combination of the equations must give the
target (relative residual below 1e-9, else `RankMismatch`), and it gives the value
the attacker recovers (`Finding.recovered`).

**Findings** (`Finding.kind`), k = min_cell_size:

* ``withheld`` -- a withheld figure is determined: the sum, sum of squares or count
  behind a withheld mean, SD or count, or a withheld contrast such as an attrition
  row's difference between those who stayed and those who dropped out;
* ``people`` -- the sum of one per-person quantity (a score, a gain, their squares, an
  indicator) over a set of 1..k-1 people is determined. The sets are found without
  enumerating all of them: person i's quantity has null-space coordinates z_i = c_i . N,
  and a set is determined exactly when its z_i sum to 0; sets of up to four people are
  found by hashing (`small_zero_sums`);
* ``relative`` -- some other combination of one quantity of two people is determined,
  such as one person's score minus another's (`small_dependencies`). Not a disclosure
  by the issue's definition, but whoever knows one of the two values (each participant
  knows their own) learns the other; reported apart.

**Explicit attacks**, the human-readable versions: `all_minus_shown` (issue 8's first:
the "all" row minus the shown groups, per table and breakdown), `one_subtraction`
(its second, generalised: any published sum or remainder minus any other of the same
quantity inside it -- across tables, breakdowns, comparisons and phases) and
`subtraction_attack` (subtractions repeated until nothing new comes), each reporting
the withheld sets and sets of fewer than k people reached, and how.

`true_values` and `model_errors` (for the tests only, never used by the attack) check
that every equation holds for the true scores, so that the attacker provably reads the
figures right.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from evalsvc.domain.analysis import Analysis
from evalsvc.domain.cohort import SubmissionRecord
from evalsvc.domain.design import AGENCY, ALL, Design, analysis_design
from evalsvc.domain.questionnaire import (
    DONT_KNOW,
    NOT_APPLICABLE,
    NOT_STATED,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
)
from evalsvc.domain.scoring import TOTAL

PRIME = 2_147_483_647
"""2**31 - 1: entries below it multiply within int64."""
PROJECTED = 48
"""Null spaces wider than this are randomly projected to this many dimensions."""

Var = tuple[object, ...]
"""An unknown: (person, kind, ...)."""
Form = dict[Var, Fraction]
"""A linear combination of unknowns."""
BlockKey = tuple[str, ...]


# -- what the attacker knows ---------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """What the attacker knows of the participants: membership, never a score or answer."""

    people: tuple[int, ...]
    groups: Mapping[str, Mapping[int, str | None]]
    """Breakdown id (and ALL) -> person -> group id, None outside every group."""
    submitted: Mapping[str, frozenset[int]]
    """Phase -> who answered it."""
    present: Mapping[tuple[str, str, str], frozenset[int]]
    """(measure, phase, skill or total) -> who has that score."""
    confidence_items: Mapping[tuple[int, str], Mapping[str, int]]
    """(person, phase) -> skill -> self-assessment items answered."""
    answered: Mapping[tuple[str, str], frozenset[int]]
    """(phase, summarised item) -> who answered it."""


MEASURES = ("knowledge", "confidence", "dont_know")


def background(course: Course, records: Iterable[SubmissionRecord]) -> Background:
    records = list(records)
    design = analysis_design(course)
    by_person: dict[int, dict[str, SubmissionRecord]] = {}
    agency: dict[int, str] = {}
    for record in records:
        by_person.setdefault(record.participant, {})[record.phase] = record
        agency.setdefault(record.participant, record.agency)
    people = tuple(sorted(by_person))
    agencies = set(course.agency_ids())
    groups: dict[str, dict[int, str | None]] = {
        ALL: dict.fromkeys(people, ALL),
        AGENCY: {p: agency[p] if agency[p] in agencies else None for p in people},
    }
    for breakdown in design.breakdowns[1:]:
        chosen: dict[int, str | None] = {}
        for p in people:
            value = NOT_STATED
            for phase in course.phase_ids():
                record = by_person[p].get(phase)
                if record is not None and breakdown.id in record.breakdowns:
                    value = record.breakdowns[breakdown.id]
                    break
            chosen[p] = value if value in breakdown.groups else NOT_STATED
        groups[breakdown.id] = chosen
    submitted = {
        phase: frozenset(p for p in people if phase in by_person[p]) for phase in course.phase_ids()
    }
    present: dict[tuple[str, str, str], set[int]] = {}
    confidence_items: dict[tuple[int, str], dict[str, int]] = {}
    answered: dict[tuple[str, str], set[int]] = {}
    for p in people:
        for phase, record in by_person[p].items():
            for measure in MEASURES:
                for skill, value in getattr(record.scores, measure).items():
                    if value is not None and math.isfinite(value):
                        present.setdefault((measure, phase, skill), set()).add(p)
            confidence_items[(p, phase)] = dict(record.scores.confidence_answered)
            for item, value in record.answers.items():
                if value is not None:
                    answered.setdefault((phase, item), set()).add(p)
    return Background(
        people=people,
        groups=groups,
        submitted=submitted,
        present={key: frozenset(value) for key, value in present.items()},
        confidence_items=confidence_items,
        answered={key: frozenset(value) for key, value in answered.items()},
    )


# -- the linear system ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sum:
    """A figure that is the sum of one per-person quantity over a set of people."""

    quantity: tuple[object, ...]
    """What is summed, e.g. ("score", "knowledge", "pre", "total")."""
    people: frozenset[int]
    table: tuple[object, ...]
    """The column of figures it belongs to, e.g. ("summary", "knowledge", "pre_post",
    "total", "from_mean"): its rows are the breakdowns' groups."""
    breakdown: str
    group: str


@dataclass(frozen=True)
class Equation:
    coeffs: Form
    value: float
    source: str
    """Which published figure it is."""
    sum_of: Sum | None = None


@dataclass(frozen=True)
class Target:
    """A withheld figure's underlying sum: possibly over several independent blocks."""

    label: str
    parts: Mapping[BlockKey, Form]
    people: frozenset[int]
    sum_of: Sum | None = None


@dataclass
class Block:
    key: BlockKey
    equations: list[Equation] = field(default_factory=list)
    forms: dict[tuple[object, ...], dict[int, Form]] = field(default_factory=dict)
    """Per-person quantities whose sums over small sets must stay undetermined:
    quantity -> person -> its form."""


@dataclass
class System:
    blocks: dict[BlockKey, Block]
    targets: list[Target]

    def block(self, key: BlockKey) -> Block:
        found = self.blocks.get(key)
        if found is None:
            found = self.blocks[key] = Block(key)
        return found


class ModelError(AssertionError):
    """The published rows do not match the attacker's reading of who is in them."""


class RankMismatch(AssertionError):
    """The rank modulo P differs from the floating-point rank: no exact answer."""


def _add(into: Form, form: Mapping[Var, Fraction], scale: Fraction = Fraction(1)) -> Form:
    for var, coeff in form.items():
        value = into.get(var, Fraction(0)) + coeff * scale
        if value:
            into[var] = value
        else:
            into.pop(var, None)
    return into


def _sum(people: Iterable[int], form_of: Callable[[int], Mapping[Var, Fraction]]) -> Form:
    """The sum of the people's forms: their union, as no two people share an unknown."""
    total: Form = {}
    for person in people:
        total.update(form_of(person))
    return total


def _product(a: Mapping[Var, Fraction], b: Mapping[Var, Fraction]) -> Form:
    """The product of two linear forms of one person's scores, in monomial unknowns."""
    out: Form = {}
    for (va, ca), (vb, cb) in itertools.product(a.items(), b.items()):
        assert va[0] == vb[0]
        first, second = sorted((va[1:], vb[1:]), key=repr)
        _add(out, {(va[0], "monomial", first, second): ca * cb})
    return out


def _difference(a: Mapping[Var, Fraction], b: Mapping[Var, Fraction]) -> Form:
    return _add(dict(a), b, Fraction(-1))


class _Model:
    """Builds the `System` of one published analysis."""

    def __init__(
        self, course: Course, design: Design, known: Background, analysis: Analysis
    ) -> None:
        self.course = course
        self.design = design
        self.known = known
        self.analysis = analysis
        self.system = System(blocks={}, targets=[])
        self.knowledge_items = course.items_by_role("knowledge")
        self.skills = design.skills[:-1]
        self._forms: dict[tuple[object, ...], Form] = {}
        for name in ("score", "part", "square", "gain", "gain_square"):
            setattr(self, name, self._memo(getattr(self, name)))

    def _memo(self, method: Callable[..., Form]) -> Callable[..., Form]:
        """Forms are built many times over (every row a person is in): once is enough.
        Callers never change a form they are given."""

        def cached(*args: object) -> Form:
            key = (method.__name__, *args)
            found = self._forms.get(key)
            if found is None:
                found = self._forms[key] = method(*args)
            return found

        return cached

    # who is who ----------------------------------------------------------------------------

    def members(self, breakdown: str, group: str) -> frozenset[int]:
        codes = self.known.groups[breakdown]
        return frozenset(p for p, g in codes.items() if g == group)

    def has(self, measure: str, phase: str, skill: str) -> frozenset[int]:
        return self.known.present.get((measure, phase, skill), frozenset())

    # per-person forms -----------------------------------------------------------------------

    def score(self, measure: str, phase: str, skill: str, person: int) -> Form:
        """A person's score as a linear form of the first-order unknowns."""
        if measure == "knowledge":
            items = [
                i
                for i in self.knowledge_items
                if (skill == TOTAL or i.skill == skill) and i.points > 0
            ]
            available = sum(Fraction(i.points) for i in items)
            return {
                (person, "credit", phase, i.id): 100 * Fraction(i.points) / available for i in items
            }
        if measure == "dont_know":
            items = [i for i in self.knowledge_items if i.dont_know and skill in (TOTAL, i.skill)]
            return {(person, "dont_know", phase, i.id): Fraction(100, len(items)) for i in items}
        return self._confidence(person, phase, skill, "confidence")

    def _confidence(self, person: int, phase: str, skill: str, kind: str) -> Form:
        if skill != TOTAL:
            return {(person, kind, phase, skill): Fraction(1)}
        counts = {
            s: n for s, n in self.known.confidence_items.get((person, phase), {}).items() if n
        }
        answered = sum(counts.values())
        return {(person, kind, phase, s): Fraction(n, answered) for s, n in counts.items()}

    def part(self, measure: str, phase: str, skill: str, person: int) -> Form:
        """A person's score as a linear form of their per-skill scores (for products)."""
        if measure == "confidence":
            return self._confidence(person, phase, skill, "skill score")
        if skill != TOTAL:
            return {(person, "skill score", phase, skill): Fraction(1)}
        weights: dict[str, Fraction] = {}
        for item in self.knowledge_items:
            if measure == "knowledge" and item.points > 0:
                weight = Fraction(item.points)
            elif measure == "dont_know" and item.dont_know:
                weight = Fraction(1)
            else:
                continue
            key = item.skill if item.skill is not None else "(items without a skill)"
            weights[key] = weights.get(key, Fraction(0)) + weight
        total = sum(weights.values())
        return {(person, "skill score", phase, s): w / total for s, w in weights.items()}

    def square(self, measure: str, phase: str, skill: str, person: int) -> Form:
        form = self.part(measure, phase, skill, person)
        return _product(form, form)

    def gain(self, measure: str, first: str, second: str, skill: str, person: int) -> Form:
        return _difference(
            self.score(measure, second, skill, person), self.score(measure, first, skill, person)
        )

    def gain_square(self, measure: str, first: str, second: str, skill: str, person: int) -> Form:
        form = _difference(
            self.part(measure, second, skill, person), self.part(measure, first, skill, person)
        )
        return _product(form, form)

    def correct(self, phase: str, item: Item, person: int) -> Form:
        """Whether the item was fully right: its credit, unless partial credit is given."""
        kind = "correct" if item.kind == "multiple_choice" and item.partial_credit else "credit"
        return {(person, kind, phase, item.id): Fraction(1)}

    # building ---------------------------------------------------------------------------

    def place(self, table: tuple[object, ...], breakdown: str, group: str) -> None:
        """The table, breakdown and group of the row being read."""
        self._place = (table, breakdown, group)

    def _sum_of(
        self, quantity: tuple[object, ...] | None, people: frozenset[int], figure: str
    ) -> Sum | None:
        if quantity is None:
            return None
        table, breakdown, group = self._place
        return Sum(quantity, people, (*table, figure), breakdown, group)

    def equation(
        self,
        block: BlockKey,
        people: Iterable[int],
        form_of: Callable[[int], Form],
        value: float,
        source: str,
        quantity: tuple[object, ...] | None = None,
    ) -> None:
        people = frozenset(people)
        coeffs = _sum(sorted(people), form_of)
        sum_of = self._sum_of(quantity, people, source.rsplit(" ", 1)[-1])
        self.system.block(block).equations.append(Equation(coeffs, value, source, sum_of))

    def target(
        self,
        label: str,
        people: frozenset[int],
        parts: Mapping[BlockKey, Callable[[int], Form]],
        quantity: tuple[object, ...] | None = None,
    ) -> None:
        if not people:
            return
        forms = {block: _sum(sorted(people), form_of) for block, form_of in parts.items()}
        sum_of = self._sum_of(quantity, people, label.rsplit(" ", 1)[-1])
        self.system.targets.append(Target(label, forms, people, sum_of))

    def form(
        self, block: BlockKey, quantity: tuple[object, ...], people: Iterable[int], form_of
    ) -> None:
        forms = self.system.block(block).forms.setdefault(quantity, {})
        for person in people:
            forms.setdefault(person, form_of(person))

    def build(self) -> System:
        for row in self.analysis.summary:
            self.summary_row(row)
        for row in self.analysis.attrition:
            self.attrition_row(row)
        for row in self.analysis.items:
            self.item_row(row)
        for row in self.analysis.answer_summaries:
            self.response_row(row)
        self.one_answer_each()
        self.person_forms()
        return self.system

    def one_answer_each(self) -> None:
        """Known without any figure: whoever answered a likert or single-choice item
        chose exactly one of its answers."""
        self.place(("known",), ALL, ALL)
        for (phase, item_id), people in self.known.answered.items():
            item = next((i for i in self.course.items if i.id == item_id), None)
            if item is None or item.kind not in ("likert", "single_choice", "true_false"):
                continue
            options = _options(self.course, item)
            for person in sorted(people):
                self.equation(
                    ("responses", phase, item_id),
                    (person,),
                    lambda p, options=options: {(p, "chose", o): Fraction(1) for o in options},
                    1,
                    f"participant {person} gave one answer to {phase} {item_id}",
                )

    def summary_row(self, row) -> None:
        m, f, t, s = row.measure, row.from_phase, row.to_phase, row.skill
        people = self.members(row.breakdown, row.group) & self.has(m, f, s) & self.has(m, t, s)
        label = f"summary {m} {row.comparison} {row.breakdown}={row.group} {s}"
        self.place(("summary", m, row.comparison, s), row.breakdown, row.group)
        if len(people) != row.n_paired:
            raise ModelError(f"{label}: n_paired {row.n_paired}, attacker counts {len(people)}")
        n = len(people)
        first, second = ("first", m), ("second", m)
        change, maximum = ("change", m, row.comparison, s), ("at maximum", m, f, s)
        normalized, passing = ("normalized gain", m, row.comparison, s), ("pass",)

        def score(phase: str) -> Callable[[int], Form]:
            return lambda p: self.score(m, phase, s, p)

        def square(phase: str) -> Callable[[int], Form]:
            return lambda p: self.square(m, phase, s, p)

        def gain(p: int) -> Form:
            return self.gain(m, f, t, s, p)

        def gain_square(p: int) -> Form:
            return self.gain_square(m, f, t, s, p)

        def indicator(name: str, *key: object) -> Callable[[int], Form]:
            return lambda p: {(p, name, *key): Fraction(1)}

        up, down = indicator("improved"), indicator("declined")

        def changed(p: int) -> Form:
            return {(p, "improved"): Fraction(1), (p, "declined"): Fraction(1)}

        pass_from, pass_to = indicator("passes", f), indicator("passes", t)
        gained = indicator("gains a pass", row.comparison)

        def pass_change(p: int) -> Form:
            return {(p, "passes", t): Fraction(1), (p, "passes", f): Fraction(-1)}

        def lost(p: int) -> Form:
            return _add(gained(p), pass_change(p), Fraction(-1))

        sums = {
            "from_mean": (first, score(f), ("score", m, f, s), row.from_mean),
            "to_mean": (first, score(t), ("score", m, t, s), row.to_mean),
            "mean_gain": (first, gain, ("gain", m, row.comparison, s), row.mean_gain),
        }
        for figure, (block, form_of, quantity, mean) in sums.items():
            if mean is not None:
                self.equation(block, people, form_of, n * mean, f"{label} {figure}", quantity)
        squares = {
            "from_sd": (square(f), ("square", m, f, s), row.from_sd, row.from_mean),
            "to_sd": (square(t), ("square", m, t, s), row.to_sd, row.to_mean),
            "gain_sd": (
                gain_square,
                ("gain square", m, row.comparison, s),
                row.gain_sd,
                row.mean_gain,
            ),
        }
        for figure, (form_of, quantity, sd, mean) in squares.items():
            if sd is not None and mean is not None:
                value = (n - 1) * sd * sd + n * mean * mean
                self.equation(second, people, form_of, value, f"{label} {figure}", quantity)
        counts = {
            "n_improved": (change, up, row.n_improved, ("improved", m, row.comparison, s)),
            "n_declined": (change, down, row.n_declined, ("declined", m, row.comparison, s)),
            "n_unchanged": (
                change,
                changed,
                None if row.n_unchanged is None else n - row.n_unchanged,
                ("changed", m, row.comparison, s),
            ),
            "n_at_maximum": (
                maximum,
                indicator("at maximum"),
                row.n_at_maximum,
                ("at maximum", m, f, s),
            ),
            "pass_from_share": (
                passing,
                pass_from,
                None if row.pass_from_share is None else round(row.pass_from_share * n),
                ("passes", f),
            ),
            "pass_to_share": (
                passing,
                pass_to,
                None if row.pass_to_share is None else round(row.pass_to_share * n),
                ("passes", t),
            ),
            "pass_gained": (
                passing,
                gained,
                row.pass_gained,
                ("gains a pass", row.comparison),
            ),
        }
        for figure, (block, form_of, value, quantity) in counts.items():
            if value is not None:
                self.equation(block, people, form_of, value, f"{label} {figure}", quantity)
        if row.pass_gained is not None and row.pass_lost is not None:
            self.equation(
                passing, people, pass_change, row.pass_gained - row.pass_lost, f"{label} pass_lost"
            )
        if row.mean_normalized_gain is not None and row.n_at_maximum is not None:
            self.equation(
                normalized,
                people,
                indicator("normalized gain"),
                row.mean_normalized_gain * (n - row.n_at_maximum),
                f"{label} mean_normalized_gain",
                ("normalized gain", m, row.comparison, s),
            )
        withheld = set(row.withheld)
        if not withheld or not people:
            return
        wanted: dict[str, tuple[dict[BlockKey, Callable[[int], Form]], tuple[object, ...]]] = {
            "from_mean": ({first: score(f)}, ("score", m, f, s)),
            "to_mean": ({first: score(t)}, ("score", m, t, s)),
            "mean_gain": ({first: gain}, ("gain", m, row.comparison, s)),
            "from_sd": ({second: square(f)}, ("square", m, f, s)),
            "to_sd": ({second: square(t)}, ("square", m, t, s)),
            "gain_sd": ({second: gain_square}, ("gain square", m, row.comparison, s)),
            "n_improved": ({change: up}, ("improved", m, row.comparison, s)),
            "n_declined": ({change: down}, ("declined", m, row.comparison, s)),
            "n_unchanged": ({change: changed}, ("changed", m, row.comparison, s)),
            "n_at_maximum": ({maximum: indicator("at maximum")}, ("at maximum", m, f, s)),
            "mean_normalized_gain": (
                {normalized: indicator("normalized gain")},
                ("normalized gain", m, row.comparison, s),
            ),
            "pass_from_share": ({passing: pass_from}, ("passes", f)),
            "pass_to_share": ({passing: pass_to}, ("passes", t)),
            "pass_gained": ({passing: gained}, ("gains a pass", row.comparison)),
            "pass_lost": ({passing: lost}, ("loses a pass", row.comparison)),
        }
        for figure, (parts, quantity) in wanted.items():
            if figure in withheld:
                self.target(f"{label} {figure}", people, parts, quantity)

    def attrition_row(self, row) -> None:
        m, base, later, s = row.measure, row.baseline_phase, row.later_phase, row.skill
        group = self.members(row.breakdown, row.group) & self.has(m, base, s)
        completed = group & self.has(m, later, s)
        dropped = group - self.has(m, later, s)
        label = f"attrition {m} {base}->{later} {row.breakdown}={row.group} {s}"
        self.place(("attrition", m, later, s), row.breakdown, row.group)
        if (len(completed), len(dropped)) != (row.n_completed, row.n_dropped):
            raise ModelError(
                f"{label}: n {row.n_completed}/{row.n_dropped}, attacker counts "
                f"{len(completed)}/{len(dropped)}"
            )
        first, second = ("first", m), ("second", m)

        def score(p: int) -> Form:
            return self.score(m, base, s, p)

        def square(p: int) -> Form:
            return self.square(m, base, s, p)

        for part, people, mean, sd in (
            ("completed", completed, row.completed_mean, row.completed_sd),
            ("dropped", dropped, row.dropped_mean, row.dropped_sd),
        ):
            n = len(people)
            if mean is not None:
                quantity = ("score", m, base, s)
                self.equation(first, people, score, n * mean, f"{label} {part}_mean", quantity)
            if sd is not None and mean is not None:
                value = (n - 1) * sd * sd + n * mean * mean
                quantity = ("square", m, base, s)
                self.equation(second, people, square, value, f"{label} {part}_sd", quantity)
        nc, nd = len(completed), len(dropped)

        def difference(p: int) -> Form:
            scale = Fraction(1, nc) if p in completed else Fraction(-1, nd)
            return _add({}, score(p), scale)

        if row.difference is not None and nc and nd:
            people = completed | dropped
            self.equation(first, people, difference, row.difference, f"{label} difference")
        withheld = set(row.withheld)
        for people, names in (
            (completed, ("completed_mean", "completed_sd")),
            (dropped, ("dropped_mean", "dropped_sd")),
        ):
            if names[0] in withheld:
                self.target(f"{label} {names[0]}", people, {first: score}, ("score", m, base, s))
            if names[1] in withheld:
                self.target(f"{label} {names[1]}", people, {second: square}, ("square", m, base, s))
        if "difference" in withheld and nc and nd:
            self.target(f"{label} difference", completed | dropped, {first: difference})

    def item_row(self, row) -> None:
        item = next(i for i in self.knowledge_items if i.id == row.item)
        f, t = row.from_phase, row.to_phase
        people = self.has("knowledge", f, TOTAL) & self.has("knowledge", t, TOTAL)
        label = f"items {row.comparison} {row.item}"
        self.place(("items", row.comparison, row.item), ALL, ALL)
        if len(people) != row.n_paired:
            raise ModelError(f"{label}: n_paired {row.n_paired}, attacker counts {len(people)}")
        n = len(people)
        first, mcnemar = ("first", "knowledge"), ("mcnemar", row.comparison, row.item)

        def right(phase: str) -> Callable[[int], Form]:
            return lambda p: self.correct(phase, item, p)

        def change(p: int) -> Form:
            return _difference(self.correct(t, item, p), self.correct(f, item, p))

        def wrong_then_right(p: int) -> Form:
            return {(p, "wrong then right", row.comparison, row.item): Fraction(1)}

        for figure, phase, share in (("p_from", f, row.p_from), ("p_to", t, row.p_to)):
            if share is not None:
                quantity = ("correct", phase, row.item)
                self.equation(
                    first, people, right(phase), round(share * n), f"{label} {figure}", quantity
                )
        if row.mcnemar_b is not None:
            self.equation(
                mcnemar,
                people,
                wrong_then_right,
                row.mcnemar_b,
                f"{label} mcnemar_b",
                ("wrong then right", row.comparison, row.item),
            )
            if row.mcnemar_c is not None:
                self.equation(
                    first, people, change, row.mcnemar_b - row.mcnemar_c, f"{label} mcnemar_c"
                )
        withheld = set(row.withheld)
        wanted = {
            "p_from": ({first: right(f)}, ("correct", f, row.item)),
            "p_to": ({first: right(t)}, ("correct", t, row.item)),
            "mcnemar_b": (
                {mcnemar: wrong_then_right},
                ("wrong then right", row.comparison, row.item),
            ),
            "mcnemar_c": (
                {mcnemar: wrong_then_right, first: lambda p: _add({}, change(p), Fraction(-1))},
                None,
            ),
        }
        for figure, (parts, quantity) in wanted.items():
            if figure in withheld:
                self.target(f"{label} {figure}", people, parts, quantity)

    def response_row(self, row) -> None:
        item = next(i for i in self.course.items if i.id == row.item)
        people = self.members(row.breakdown, row.group) & self.known.answered.get(
            (row.phase, row.item), frozenset()
        )
        label = f"responses {row.phase} {row.item} {row.breakdown}={row.group}"
        self.place(("responses", row.phase, row.item), row.breakdown, row.group)
        if len(people) != row.n:
            raise ModelError(f"{label}: n {row.n}, attacker counts {len(people)}")
        n = len(people)
        block = ("responses", row.phase, row.item)
        squares = ("responses squared", row.phase, row.item)
        options = _options(self.course, item)

        def chose(option: str) -> Callable[[int], Form]:
            return lambda p: {(p, "chose", option): Fraction(1)}

        def points(power: int) -> Callable[[int], Form]:
            return lambda p: {
                (p, "chose", o): Fraction(int(o)) ** power for o in options if o != NOT_APPLICABLE
            }

        def top_two(p: int) -> Form:
            scale = self.course.scale(item.scale)
            assert scale is not None
            return {(p, "chose", str(x)): Fraction(1) for x in scale.points if x >= scale.max - 1}

        def value(p: int) -> Form:
            return {(p, "value"): Fraction(1)}

        def value_square(p: int) -> Form:
            return {(p, "value squared"): Fraction(1)}

        for option, count in (row.distribution or {}).items():
            quantity = ("chose", row.phase, row.item, option)
            self.equation(block, people, chose(option), count, f"{label} {option}", quantity)
        if row.n_not_applicable is not None:
            quantity = ("chose", row.phase, row.item, NOT_APPLICABLE)
            self.equation(
                block,
                people,
                chose(NOT_APPLICABLE),
                row.n_not_applicable,
                f"{label} n_not_applicable",
                quantity,
            )
        numeric = n - (row.n_not_applicable or 0)
        if item.kind == "likert" and (row.n_not_applicable is not None or not item.not_applicable):
            if row.mean is not None:
                self.equation(block, people, points(1), row.mean * numeric, f"{label} mean")
                if row.sd is not None:
                    total = (numeric - 1) * row.sd**2 + numeric * row.mean**2
                    self.equation(block, people, points(2), total, f"{label} sd")
            if row.top_two_box is not None:
                self.equation(
                    block, people, top_two, round(row.top_two_box * numeric), f"{label} top two"
                )
        if item.kind == "number" and row.mean is not None:
            quantity = ("value", row.phase, row.item)
            self.equation(block, people, value, row.mean * n, f"{label} mean", quantity)
            if row.sd is not None:
                total = (n - 1) * row.sd**2 + n * row.mean**2
                quantity = ("value squared", row.phase, row.item)
                self.equation(squares, people, value_square, total, f"{label} sd", quantity)
        if not row.withheld or not people:
            return
        for option in options:
            quantity = ("chose", row.phase, row.item, option)
            self.target(f"{label} {option}", people, {block: chose(option)}, quantity)
        if item.kind == "number":
            self.target(f"{label} mean", people, {block: value}, ("value", row.phase, row.item))
            self.target(
                f"{label} sd",
                people,
                {squares: value_square},
                ("value squared", row.phase, row.item),
            )

    def person_forms(self) -> None:
        """Each person's quantities, whose sums over sets of < k people must stay unknown."""
        for measure in self.design.measures:
            m = measure.id
            for phase in self.design.phases:
                for s in self.design.skills:
                    people = self.has(m, phase, s)
                    self.form(
                        ("first", m),
                        ("score", m, phase, s),
                        people,
                        lambda p, phase=phase, s=s, m=m: self.score(m, phase, s, p),
                    )
                    self.form(
                        ("second", m),
                        ("square", m, phase, s),
                        people,
                        lambda p, phase=phase, s=s, m=m: self.square(m, phase, s, p),
                    )
                    self.form(
                        ("at maximum", m, phase, s),
                        ("at maximum", m, phase, s),
                        people,
                        lambda p: {(p, "at maximum"): Fraction(1)},
                    )
            for comparison in self.design.comparisons:
                f, t, c = comparison.from_phase, comparison.to_phase, comparison.id
                for s in self.design.skills:
                    people = self.has(m, f, s) & self.has(m, t, s)
                    self.form(
                        ("first", m),
                        ("gain", m, c, s),
                        people,
                        lambda p, f=f, t=t, s=s, m=m: self.gain(m, f, t, s, p),
                    )
                    self.form(
                        ("second", m),
                        ("gain square", m, c, s),
                        people,
                        lambda p, f=f, t=t, s=s, m=m: self.gain_square(m, f, t, s, p),
                    )
                    for name in ("improved", "declined"):
                        self.form(
                            ("change", m, c, s),
                            (name, m, c, s),
                            people,
                            lambda p, name=name: {(p, name): Fraction(1)},
                        )
                    self.form(
                        ("normalized gain", m, c, s),
                        ("normalized gain", m, c, s),
                        people,
                        lambda p: {(p, "normalized gain"): Fraction(1)},
                    )
        if any(m.id == "knowledge" for m in self.design.measures):
            for phase in self.design.phases:
                people = self.has("knowledge", phase, TOTAL)
                for item in self.knowledge_items:
                    self.form(
                        ("first", "knowledge"),
                        ("correct", phase, item.id),
                        people,
                        lambda p, phase=phase, item=item: self.correct(phase, item, p),
                    )
                self.form(
                    ("pass",),
                    ("passes", phase),
                    people,
                    lambda p, phase=phase: {(p, "passes", phase): Fraction(1)},
                )
        for (phase, item_id), people in self.known.answered.items():
            item = next((i for i in self.course.items if i.id == item_id), None)
            if item is None:
                continue
            for option in _options(self.course, item):
                self.form(
                    ("responses", phase, item_id),
                    ("chose", phase, item_id, option),
                    people,
                    lambda p, option=option: {(p, "chose", option): Fraction(1)},
                )
            if item.kind == "number":
                self.form(
                    ("responses", phase, item_id),
                    ("value", phase, item_id),
                    people,
                    lambda p: {(p, "value"): Fraction(1)},
                )
                self.form(
                    ("responses squared", phase, item_id),
                    ("value squared", phase, item_id),
                    people,
                    lambda p: {(p, "value squared"): Fraction(1)},
                )


def _options(course: Course, item: Item) -> tuple[str, ...]:
    """The answers whose choice is an unknown per person (choice and likert items)."""
    if item.kind == "likert":
        scale = course.scale(item.scale)
        points = tuple(str(x) for x in scale.points) if scale is not None else ()
        return (*points, NOT_APPLICABLE) if item.not_applicable else points
    if item.kind == "true_false":
        return TRUE_FALSE_OPTIONS
    if item.kind in ("single_choice", "multiple_choice"):
        return tuple(o for o in item.option_ids if o != DONT_KNOW) + (
            (DONT_KNOW,) if item.dont_know else ()
        )
    return ()


def build_system(course: Course, known: Background, analysis: Analysis) -> System:
    return _Model(course, analysis_design(course), known, analysis).build()


# -- exact linear algebra modulo PRIME -----------------------------------------------------


@functools.cache
def _residue(value: Fraction) -> int:
    return value.numerator % PRIME * pow(value.denominator, -1, PRIME) % PRIME


def _matmul_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a @ b) mod PRIME, exactly, for entries in [0, PRIME), through float64 BLAS.

    b is cut into 11-bit pieces and the inner dimension into runs of 2048, so that
    every partial sum is an integer below 2**53 and therefore exact in a double.
    """
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for start in range(0, a.shape[1], 2048):
        left = a[:, start : start + 2048].astype(np.float64)
        right = b[start : start + 2048]
        for shift in (0, 11, 22):
            piece = ((right >> shift) & 0x7FF).astype(np.float64)
            part = (left @ piece).astype(np.int64) % PRIME
            out = (out + part * pow(2, shift, PRIME)) % PRIME
    return out


def _null_space(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """A basis of the null space of `matrix` modulo PRIME (columns), and its rank.

    Gauss-Jordan elimination; every product of two residues fits in int64.
    """
    a = matrix % PRIME
    rows, cols = a.shape
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        if r == rows:
            break
        candidates = np.flatnonzero(a[r:, c])
        if not candidates.size:
            continue
        pivot = r + int(candidates[0])
        if pivot != r:
            a[[r, pivot]] = a[[pivot, r]]
        a[r, c:] = a[r, c:] * pow(int(a[r, c]), PRIME - 2, PRIME) % PRIME
        others = np.flatnonzero(a[:, c])
        others = others[others != r]
        if others.size:
            update = np.outer(a[others, c], a[r, c:]) % PRIME
            a[others, c:] = (a[others, c:] - update) % PRIME
        pivots.append(c)
        r += 1
    free = [c for c in range(cols) if c not in set(pivots)]
    basis = np.zeros((cols, len(free)), dtype=np.int64)
    for j, c in enumerate(free):
        basis[c, j] = 1
    for i, c in enumerate(pivots):
        basis[c, :] = (-a[i, free]) % PRIME
    return basis, len(pivots)


@dataclass
class _Solved:
    """One block's equations, solved: which combinations of its unknowns are known."""

    columns: dict[Var, int]
    null: np.ndarray
    floats: np.ndarray
    values: np.ndarray

    def coordinates(self, forms: Sequence[Mapping[Var, Fraction]]) -> list[np.ndarray | None]:
        """Null-space coordinates of each form (all zero: determined); None when the form
        involves an unknown that no published figure mentions (never determined)."""
        out: list[np.ndarray | None] = [None] * len(forms)
        rows, dense = [], []
        for index, form in enumerate(forms):
            if any(var not in self.columns for var in form):
                continue
            vector = np.zeros(len(self.columns), dtype=np.int64)
            for var, coeff in form.items():
                vector[self.columns[var]] = _residue(coeff)
            rows.append(index)
            dense.append(vector)
        if rows:
            if self.null.shape[1]:
                product = _matmul_mod(np.array(dense), self.null)
            else:
                product = np.zeros((len(rows), 0), dtype=np.int64)
            for index, coords in zip(rows, product, strict=True):
                out[index] = coords
        return out

    def recover(self, forms: Sequence[Mapping[Var, Fraction]], where: str) -> list[float]:
        """The values of determined forms, from the published figures: the least-squares
        combination of the equations that gives each form, applied to their values. A
        form that no combination gives (relative residual above 1e-9) would mean the
        modular answer was an accident of the prime: `RankMismatch`."""
        if not forms:
            return []
        targets = np.zeros((len(self.columns), len(forms)))
        for j, form in enumerate(forms):
            for var, coeff in form.items():
                targets[self.columns[var], j] = float(coeff)
        weights, *_ = np.linalg.lstsq(self.floats.T, targets, rcond=None)
        residuals = np.linalg.norm(self.floats.T @ weights - targets, axis=0)
        scale = np.maximum(1.0, np.linalg.norm(targets, axis=0))
        if np.any(residuals / scale > 1e-9):
            raise RankMismatch(f"{where}: determined modulo P but not in floating point")
        return [float(v) for v in weights.T @ self.values]


def _solve(block: Block) -> _Solved | None:
    if not block.equations:
        return None
    columns: dict[Var, int] = {}
    for equation in block.equations:
        for var in equation.coeffs:
            columns.setdefault(var, len(columns))
    exact = np.zeros((len(block.equations), len(columns)), dtype=np.int64)
    floats = np.zeros((len(block.equations), len(columns)))
    for i, equation in enumerate(block.equations):
        for var, coeff in equation.coeffs.items():
            exact[i, columns[var]] = _residue(coeff)
            floats[i, columns[var]] = float(coeff)
    null, rank = _null_space(exact)
    if null.shape[1] > PROJECTED:
        # Only whether c . N is zero matters: c . N . G is zero for a random G whenever
        # c . N is, and otherwise only with chance P**-PROJECTED (and then the float
        # check of every finding would raise). Much less to multiply.
        rng = np.random.default_rng(len(columns))
        null = _matmul_mod(null, rng.integers(0, PRIME, size=(null.shape[1], PROJECTED)))
    scaled = floats / np.maximum(np.abs(floats).max(axis=1, keepdims=True), 1e-300)
    float_rank = int(np.linalg.matrix_rank(scaled)) if scaled.size else 0
    if float_rank != rank:
        raise RankMismatch(
            f"block {block.key}: rank {rank} modulo P but {float_rank} in floating point"
        )
    values = np.array([e.value for e in block.equations], dtype=float)
    return _Solved(columns=columns, null=null, floats=floats, values=values)


# -- the attack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: Literal["withheld", "people", "relative"]
    """withheld: a withheld figure is determined; people: a sum over 1..k-1 people is;
    relative: another combination of one quantity of 2..k-1 people is (such as one
    person's score minus another's: whoever knows one learns the other)."""
    what: str
    people: frozenset[int]
    recovered: float | None = None
    """The value the published figures give (None for a withheld figure spanning blocks)."""
    how: str = ""
    quantity: tuple[object, ...] | None = None
    block: BlockKey | None = None
    parts: Mapping[BlockKey, Form] | None = field(default=None, repr=False, compare=False)
    """The determined combination of unknowns (rank findings), to check against the truth."""

    def __str__(self) -> str:
        value = "" if self.recovered is None else f" = {self.recovered:.6g}"
        people = ",".join(str(p) for p in sorted(self.people))
        how = f" [{self.how}]" if self.how else ""
        return f"{self.kind}: {self.what}{value} (people {people}){how}"


@dataclass
class Outcome:
    findings: list[Finding]
    blocks: int = 0
    unknowns: int = 0
    equations: int = 0
    targets: int = 0
    """Withheld figures checked."""
    quantities: int = 0
    """Per-person quantities whose small-set sums were searched."""


def attack(course: Course, known: Background, analysis: Analysis) -> Outcome:
    """Every disclosure the linear system of the published figures allows (module doc)."""
    system = build_system(course, known, analysis)
    return solve_system(system, course.min_cell_size)


def solve_system(system: System, k: int) -> Outcome:
    solved = {key: _solve(block) for key, block in system.blocks.items()}
    outcome = Outcome(findings=[], blocks=len(solved))
    for key, block in system.blocks.items():
        found = solved[key]
        outcome.equations += len(block.equations)
        outcome.unknowns += len(found.columns) if found is not None else 0
    outcome.targets = len(system.targets)
    outcome.findings.extend(_withheld_findings(system.targets, solved))
    for key, block in system.blocks.items():
        found = solved[key]
        if found is None:
            outcome.quantities += len(block.forms)
            continue
        pending: list[tuple[Form, Callable[[float], Finding]]] = []
        for quantity, forms in block.forms.items():
            outcome.quantities += 1
            people = sorted(forms)
            coords = found.coordinates([forms[p] for p in people])
            # a person whose quantity involves an unknown that no figure mentions is in
            # no determined set: nobody else's quantity involves that unknown
            usable = {p: c for p, c in zip(people, coords, strict=True) if c is not None}
            sums = small_zero_sums(usable, k - 1)
            for subset in sums:
                what = f"sum of {_quantity(quantity)} over {len(subset)} people"
                combined = _sum(sorted(subset), forms.__getitem__)
                pending.append(
                    (combined, _finding("people", what, subset, quantity, key, combined))
                )
            for subset, weights in small_dependencies(usable, k - 1):
                if any(subset >= other for other in sums):
                    continue
                combined: Form = {}
                for person, weight in weights.items():
                    _add(combined, forms[person], weight)
                terms = " ".join(
                    f"{'+' if w > 0 else '-'}{abs(w)}*[{p}]" for p, w in sorted(weights.items())
                )
                what = f"{terms} of {_quantity(quantity)}"
                make = _finding("relative", what, subset, quantity, key, combined)
                pending.append((combined, make))
        values = found.recover([form for form, _ in pending], str(key))
        outcome.findings.extend(
            make(value) for (_, make), value in zip(pending, values, strict=True)
        )
    return outcome


def _finding(
    kind: Literal["withheld", "people", "relative"],
    what: str,
    people: frozenset[int],
    quantity: tuple[object, ...] | None,
    block: BlockKey,
    form: Form,
) -> Callable[[float], Finding]:
    def make(value: float) -> Finding:
        parts = {block: form}
        return Finding(kind, what, people, value, quantity=quantity, block=block, parts=parts)

    return make


def _withheld_findings(
    targets: Sequence[Target], solved: Mapping[BlockKey, _Solved | None]
) -> list[Finding]:
    """The withheld figures the published ones determine; a target spanning independent
    blocks is determined only if each block's part is."""
    parts: dict[BlockKey, list[tuple[int, Form]]] = {}
    for index, target in enumerate(targets):
        for key, form in target.parts.items():
            if form:
                parts.setdefault(key, []).append((index, form))
    undetermined: set[int] = set()
    values = [0.0] * len(targets)
    for key, entries in parts.items():
        found = solved.get(key)
        if found is None:
            undetermined.update(index for index, _ in entries)
            continue
        coords = found.coordinates([form for _, form in entries])
        known = []
        for (index, form), c in zip(entries, coords, strict=True):
            if c is None or c.any():
                undetermined.add(index)
            else:
                known.append((index, form))
        for (index, _), value in zip(
            known, found.recover([form for _, form in known], str(key)), strict=True
        ):
            values[index] += value
    return [
        Finding(
            kind="withheld",
            what=f"withheld {target.label}",
            people=target.people,
            recovered=values[index],
            quantity=target.sum_of.quantity if target.sum_of else None,
            parts=target.parts,
        )
        for index, target in enumerate(targets)
        if index not in undetermined and any(target.parts.values())
    ]


def _quantity(quantity: tuple[object, ...]) -> str:
    return " ".join(str(q) for q in quantity)


def small_zero_sums(vectors: Mapping[int, np.ndarray], largest: int) -> list[frozenset[int]]:
    """Every set of 1..`largest` people whose vectors sum to 0 modulo PRIME, leaving out
    sets that contain a smaller one found.

    Sets of up to four are found by hashing (singles against singles and pair sums,
    pair sums against pair sums); larger ones by enumeration.
    """
    people = sorted(vectors)
    found: list[frozenset[int]] = []

    def add(subset: frozenset[int]) -> None:
        if not any(smaller <= subset for smaller in found):
            found.append(subset)

    if largest < 1 or not people:
        return found
    for p in people:
        if not vectors[p].any():
            add(frozenset((p,)))
    rest = [p for p in people if vectors[p].any()]
    if largest < 2 or len(rest) < 2:
        return found
    matrix = np.array([vectors[p] for p in rest]) % PRIME
    singles: dict[bytes, list[int]] = {}
    for i, row in enumerate(matrix):
        singles.setdefault(row.tobytes(), []).append(i)
    negated = (-matrix) % PRIME
    for i, row in enumerate(negated):
        for j in singles.get(row.tobytes(), []):
            if j > i:
                add(frozenset((rest[i], rest[j])))
    if largest >= 3:
        first, second = np.triu_indices(len(rest), 1)
        pair_sums = (matrix[first] + matrix[second]) % PRIME
        pairs: dict[bytes, list[int]] = {}
        for n, row in enumerate(pair_sums):
            pairs.setdefault(row.tobytes(), []).append(n)
        negated_pairs = (-pair_sums) % PRIME
        for n, row in enumerate(negated_pairs):
            i, j = int(first[n]), int(second[n])
            for m in singles.get(row.tobytes(), []):
                if m > j:
                    add(frozenset((rest[i], rest[j], rest[m])))
        for n, row in enumerate(negated_pairs if largest >= 4 else ()):
            i, j = int(first[n]), int(second[n])
            for other in pairs.get(row.tobytes(), []):
                a, b = int(first[other]), int(second[other])
                if a > j:
                    add(frozenset((rest[i], rest[j], rest[a], rest[b])))
    for size in range(5, largest + 1):
        for combo in itertools.combinations(range(len(rest)), size):
            if not (matrix[list(combo)].sum(axis=0) % PRIME).any():
                add(frozenset(rest[i] for i in combo))
    return found


def small_dependencies(
    vectors: Mapping[int, np.ndarray], largest: int
) -> list[tuple[frozenset[int], dict[int, Fraction]]]:
    """Pairs of people whose vectors are parallel modulo PRIME: some combination of
    their two values (not only the sum) is determined. Found by hashing the vectors
    scaled to a leading 1; the weights are reconstructed as small rationals. (Larger
    sets are not searched: this is a report beyond the threat model, kept fast.)"""
    found: list[tuple[frozenset[int], dict[int, Fraction]]] = []
    if largest < 2:
        return found
    by_direction: dict[bytes, list[tuple[int, int]]] = {}
    for p, v in sorted(vectors.items()):
        v = v % PRIME
        if not v.any():
            continue
        lead = int(v[np.flatnonzero(v)[0]])
        scaled = v * pow(lead, PRIME - 2, PRIME) % PRIME
        by_direction.setdefault(scaled.tobytes(), []).append((p, lead))
    for members in by_direction.values():
        for (a, lead_a), (b, lead_b) in itertools.combinations(members, 2):
            # lead_b * v_a - lead_a * v_b = 0
            ratio = _rational(lead_a * pow(lead_b, PRIME - 2, PRIME) % PRIME)
            found.append((frozenset((a, b)), {a: Fraction(1), b: -ratio}))
    return found


def _rational(residue: int) -> Fraction:
    """The small rational whose residue modulo PRIME this is (rational reconstruction)."""
    r0, r1, s0, s1 = PRIME, residue % PRIME, 0, 1
    while r1 * r1 * 2 > PRIME:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    return Fraction(r1, s1)


# -- bounds: what the published figures and the ranges of the scores give together ---------


def interval_attack(
    course: Course,
    system: System,
    wanted: Callable[[tuple[object, ...]], bool] = lambda quantity: True,
    tolerance: float = 1e-4,
) -> list[Finding]:
    """People whose score, item result or answer the published figures pin down once the
    ranges are known: the classic interval audit, by linear programming. Beyond the
    linear threat model (two scores that differ by exactly 100 points are 100 and 0; two
    0/1 answers that differ by 1 are 1 and 0), so kept apart.

    Ranges: credits, "I don't know" and chosen answers 0..1, self-assessments on their
    scale, numbers within the item's min..max. The first-order blocks of the scored
    measures and the answer blocks are examined; an interval narrower than `tolerance`
    times the quantity's range counts as determined. `wanted` picks the quantities to
    examine (each person's takes two linear programs).
    """
    from scipy.optimize import linprog

    design = analysis_design(course)
    ranges = {m.id: m.maximum - m.minimum for m in design.measures}
    scale = course.self_assessment_scale()
    items = {item.id: item for item in course.items}
    findings = []
    for key, block in system.blocks.items():
        if key[0] not in ("first", "responses") or not block.equations:
            continue
        if not any(wanted(quantity) for quantity in block.forms):
            continue
        solved = _solve(block)
        assert solved is not None
        bounds: list[tuple[float | None, float | None]] = []
        for var in solved.columns:
            if var[1] == "confidence":
                assert scale is not None
                bounds.append((float(scale.min), float(scale.max)))
            elif var[1] == "value":
                item = items[str(key[2])]
                bounds.append((item.min, item.max))
            else:
                bounds.append((0.0, 1.0))
        slack = 1e-7 * np.maximum(1.0, np.abs(solved.values))
        a_ub = np.vstack([solved.floats, -solved.floats])
        b_ub = np.concatenate([solved.values + slack, -(solved.values - slack)])
        for quantity, forms in block.forms.items():
            if not wanted(quantity):
                continue
            if quantity[0] == "score":
                width = ranges[key[1]]
            elif quantity[0] in ("correct", "chose"):
                width = 1.0
            elif quantity[0] == "value":
                item = items[str(quantity[2])]
                if item.min is None or item.max is None:
                    continue
                width = item.max - item.min
            else:
                continue
            for person, form in sorted(forms.items()):
                if any(var not in solved.columns for var in form):
                    continue
                objective = np.zeros(len(solved.columns))
                for var, coeff in form.items():
                    objective[solved.columns[var]] = float(coeff)
                low = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
                high = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
                if low.status != 0 or high.status != 0:
                    raise ModelError(f"{key} {quantity}: the published figures are infeasible")
                if -high.fun - low.fun < tolerance * width:
                    findings.append(
                        Finding(
                            kind="people",
                            what=f"{_quantity(quantity)} of one person, with the ranges",
                            people=frozenset((person,)),
                            recovered=float(low.fun),
                            how="linear programming over the published figures and ranges",
                            quantity=quantity,
                            block=key,
                            parts={key: dict(form)},
                        )
                    )
    return findings


# -- the explicit subtraction attack ---------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """A sum the attacker knows: published, or worked out by subtraction."""

    quantity: tuple[object, ...]
    people: frozenset[int]
    value: float
    how: str


def _published_sums(system: System) -> list[tuple[Sum, float, str]]:
    return [
        (e.sum_of, e.value, e.source)
        for block in system.blocks.values()
        for e in block.equations
        if e.sum_of is not None and e.sum_of.people
    ]


def _withheld_sets(system: System) -> dict[tuple[object, ...], dict[frozenset[int], str]]:
    out: dict[tuple[object, ...], dict[frozenset[int], str]] = {}
    for target in system.targets:
        if target.sum_of is not None:
            out.setdefault(target.sum_of.quantity, {}).setdefault(
                target.sum_of.people, target.label
            )
    return out


def _judge(known: Iterable[_Known], system: System, k: int) -> list[Finding]:
    """The known sums that are a withheld figure's, or over 1..k-1 people."""
    withheld = _withheld_sets(system)
    findings = []
    for sum_ in known:
        if not sum_.people:
            continue
        hidden = withheld.get(sum_.quantity, {})
        if sum_.people in hidden:
            what = f"withheld {hidden[sum_.people]}"
            findings.append(
                Finding("withheld", what, sum_.people, sum_.value, sum_.how, sum_.quantity)
            )
        elif len(sum_.people) < k:
            what = f"sum of {_quantity(sum_.quantity)} over {len(sum_.people)} people"
            findings.append(
                Finding("people", what, sum_.people, sum_.value, sum_.how, sum_.quantity)
            )
    return findings


def all_minus_shown(system: System, k: int) -> list[Finding]:
    """Issue 8's first attack, for every table and breakdown: the "all" row's sum minus
    the sums of the groups shown leaves the withheld groups (and the people outside
    every group); a leak if that is one withheld group, or fewer than k people."""
    return _judge(_residuals(system), system, k)


def _residuals(system: System) -> list[_Known]:
    everyone: dict[tuple[object, ...], tuple[Sum, float]] = {}
    shown: dict[tuple[tuple[object, ...], str], list[tuple[Sum, float]]] = {}
    for sum_, value, _ in _published_sums(system):
        if sum_.breakdown == ALL:
            everyone[sum_.table] = (sum_, value)
        else:
            shown.setdefault((sum_.table, sum_.breakdown), []).append((sum_, value))
    out = []
    for (table, breakdown), groups in shown.items():
        if table not in everyone:
            continue
        whole, total = everyone[table]
        rest = whole.people.difference(*(g.people for g, _ in groups))
        value = total - sum(v for _, v in groups)
        names = ", ".join(g.group for g, _ in groups)
        how = f"{_table(table)}: all minus the shown {breakdown} groups ({names})"
        out.append(_Known(whole.quantity, rest, value, how))
    return out


def one_subtraction(system: System, k: int) -> list[Finding]:
    """Issue 8's second attack, generalised: any published sum or "all minus shown"
    remainder, minus any other of the same quantity contained in it -- from any table,
    breakdown, comparison or phase (one table's complement against another's; the
    pre->follow_up "all" row minus the post->follow_up one...)."""
    known = [
        _Known(sum_.quantity, sum_.people, value, source)
        for sum_, value, source in _published_sums(system)
    ] + _residuals(system)
    by_quantity: dict[tuple[object, ...], list[_Known]] = {}
    for sum_ in known:
        by_quantity.setdefault(sum_.quantity, []).append(sum_)
    derived = list(known)
    for sums in by_quantity.values():
        for a, b in itertools.permutations(sums, 2):
            if b.people < a.people:
                how = f"({a.how}) minus ({b.how})"
                derived.append(_Known(a.quantity, a.people - b.people, a.value - b.value, how))
    return _judge(derived, system, k)


def subtraction_attack(system: System, k: int, limit: int = 4000) -> list[Finding]:
    """`one_subtraction` repeated until nothing new comes (at most `limit` sets per
    quantity), also adding disjoint published sums together."""
    sets: dict[tuple[object, ...], dict[frozenset[int], tuple[float, str]]] = {}
    for sum_ in [
        _Known(sum_.quantity, sum_.people, value, source)
        for sum_, value, source in _published_sums(system)
    ] + _residuals(system):
        sets.setdefault(sum_.quantity, {}).setdefault(sum_.people, (sum_.value, sum_.how))
    known = []
    for quantity, found in sets.items():
        _close(found, limit)
        known.extend(_Known(quantity, people, v, how) for people, (v, how) in found.items())
    return _judge(known, system, k)


def _table(table: tuple[object, ...]) -> str:
    return " ".join(str(t) for t in table)


def _close(sets: dict[frozenset[int], tuple[float, str]], limit: int) -> None:
    published = list(sets)
    for a, b in itertools.combinations(published, 2):
        if a.isdisjoint(b) and (a | b) not in sets:
            sets[a | b] = (sets[a][0] + sets[b][0], f"({sets[a][1]}) plus ({sets[b][1]})")
    queue = list(sets)
    while queue and len(sets) < limit:
        a = queue.pop()
        for b in list(sets):
            if b < a:
                bigger, smaller = a, b
            elif a < b:
                bigger, smaller = b, a
            else:
                continue
            rest = bigger - smaller
            if rest in sets:
                continue
            value = sets[bigger][0] - sets[smaller][0]
            sets[rest] = (value, f"({_short(sets[bigger][1])}) minus ({_short(sets[smaller][1])})")
            queue.append(rest)


def _short(how: str, width: int = 300) -> str:
    return how if len(how) <= width else how[: width - 3] + "..."


# -- the true values of the unknowns (for checking the model, never used by the attack) ----


def true_values(
    course: Course,
    records: Iterable[SubmissionRecord],
    answers: Mapping[tuple[int, str], Mapping[str, object]],
) -> Callable[[BlockKey, Var], float]:
    """What each unknown really is, from the cohort: to check that every equation the
    attacker reads holds for the truth, and what a finding recovers."""
    from evalsvc.domain.scoring import item_correct, item_points

    design = analysis_design(course)
    scores = {(r.participant, r.phase): r.scores for r in records}
    items = {i.id: i for i in course.items}
    maximum = {m.id: m.maximum for m in design.measures}
    comparisons = {c.id: c for c in design.comparisons}

    def score(measure: str, person: int, phase: str, skill: str) -> float:
        return float(getattr(scores[(person, phase)], measure)[skill])

    def part(measure: str, person: int, phase: str, skill: str) -> float:
        if skill != "(items without a skill)":
            return score(measure, person, phase, skill)
        loose = [i for i in course.items_by_role("knowledge") if i.skill is None]
        given = answers[(person, phase)]
        if measure == "knowledge":
            earned = sum(item_points(i, given.get(i.id)) for i in loose)
            return 100 * earned / sum(i.points for i in loose)
        offered = [i for i in loose if i.dont_know]
        said = sum(1 for i in offered if _said_dont_know(given.get(i.id)))
        return 100 * said / len(offered)

    def gain(measure: str, person: int, comparison: str, skill: str) -> float:
        c = comparisons[comparison]
        after = score(measure, person, c.to_phase, skill)
        return round(after - score(measure, person, c.from_phase, skill), 10)

    def value(block: BlockKey, var: Var) -> float:
        person, kind, *rest = var
        assert isinstance(person, int)
        if kind == "credit":
            phase, item_id = rest
            item = items[item_id]
            return item_points(item, answers[(person, phase)].get(item_id)) / item.points
        if kind == "correct":
            phase, item_id = rest
            return float(item_correct(course, answers[(person, phase)])[item_id])
        if kind == "dont_know":
            phase, item_id = rest
            return float(_said_dont_know(answers[(person, phase)].get(item_id)))
        if kind == "confidence":
            phase, skill = rest
            return score("confidence", person, phase, skill)
        if kind == "skill score":
            phase, skill = rest
            return part(block[1], person, phase, skill)
        if kind == "monomial":
            first, second = rest
            return value(block, (person, *first)) * value(block, (person, *second))
        if kind in ("improved", "declined"):
            _, measure, comparison, skill = block
            change = gain(measure, person, comparison, skill)
            return float(change > 0 if kind == "improved" else change < 0)
        if kind == "at maximum":
            _, measure, phase, skill = block
            top = maximum[measure]
            return float(score(measure, person, phase, skill) >= top - 1e-10 * max(1.0, top))
        if kind == "normalized gain":
            _, measure, comparison, skill = block
            c = comparisons[comparison]
            before = score(measure, person, c.from_phase, skill)
            top = maximum[measure]
            if before >= top - 1e-10 * max(1.0, top):
                return 0.0
            return (score(measure, person, c.to_phase, skill) - before) / (top - before)
        if kind == "passes":
            (phase,) = rest
            assert course.pass_mark is not None
            return float(round(score("knowledge", person, phase, TOTAL), 10) >= course.pass_mark)
        if kind == "gains a pass":
            (comparison,) = rest
            c = comparisons[comparison]
            before = value(block, (person, "passes", c.from_phase))
            return float(not before and value(block, (person, "passes", c.to_phase)))
        if kind == "wrong then right":
            comparison, item_id = rest
            c = comparisons[comparison]
            before = item_correct(course, answers[(person, c.from_phase)])[item_id]
            after = item_correct(course, answers[(person, c.to_phase)])[item_id]
            return float(not before and after)
        if kind == "chose":
            (option,) = rest
            _, phase, item_id = block
            given = answers[(person, phase)].get(item_id)
            if isinstance(given, list):
                return float(option in given)
            return float(str(given) == option)
        if kind in ("value", "value squared"):
            _, phase, item_id = block
            number = float(answers[(person, phase)][item_id])  # type: ignore[arg-type]
            return number if kind == "value" else number * number
        raise KeyError(var)

    return value


def _said_dont_know(answer: object) -> bool:
    return answer == DONT_KNOW or (isinstance(answer, list) and DONT_KNOW in answer)


def model_errors(
    system: System, truth: Callable[[BlockKey, Var], float], tolerance: float = 1e-6
) -> list[str]:
    """Equations that the true values do not satisfy: the attacker misreads a figure."""
    errors = []
    for key, block in system.blocks.items():
        for equation in block.equations:
            actual = sum(float(c) * truth(key, var) for var, c in equation.coeffs.items())
            if abs(actual - equation.value) > tolerance * max(1.0, abs(equation.value)):
                errors.append(f"{equation.source}: published {equation.value!r}, truth {actual!r}")
    return errors


def true_value_of(
    finding: Finding, system: System, truth: Callable[[BlockKey, Var], float]
) -> float:
    """What a finding's recovered value really is: its combination of unknowns (rank
    findings), or its quantity summed over its people (subtraction findings)."""
    parts = finding.parts
    if parts is None:
        assert finding.quantity is not None
        parts = {
            key: _sum(sorted(finding.people), block.forms[finding.quantity].__getitem__)
            for key, block in system.blocks.items()
            if finding.quantity in block.forms
        }
    return sum(float(c) * truth(key, var) for key, form in parts.items() for var, c in form.items())
