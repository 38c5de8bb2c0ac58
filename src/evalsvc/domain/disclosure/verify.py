"""The verifier: proves that no withheld figure, and no small set of people, is determined.

Written apart from the planner: it takes releases (`releases.Release`: what is
published and what is withheld) and the cohort, and builds its own equations.

**Unknowns.** People who share every attribute that a figure can see (their group in
every breakdown, which phases they answered, which skills they have a score for in
each phase, and the weights of those skills in their total) form one *cell*: no
published figure can tell them apart. The unknowns are the moments of the cells: per
measure, phase and skill, the sum of the scores (family ``L``) and the sum of their
squares (``Q``); per comparison and skill, the sum of the from x to products (``X``)
and the counts and sums of what is computed per pair (who improved, declined or was
at the maximum, individual normalized gains, passes: ``C``); and per summarised item
and phase, the counts (and sums) of each answer (``R``).

**Equations.** Every published figure is a linear equation in these unknowns: a mean
times its count gives a sum; an SD, with its mean and count, a sum of squares; a gain
SD, with both phases' SDs, a sum of products; t, d_z, g_z and the intervals are
functions of those. A total is the weighted sum of its skills in each cell (points per
skill; for confidence the items answered), so total rows and skill rows share
unknowns, and two groups that share people share unknowns. A total's square (or
product) contains products of different skills, which appear in no skill row: so each
cell's total square is an unknown of its own, unless the cell has a single skill,
whose square it then is. That is exact: in any combination of rows where those cross
products cancel, the total rows contribute nothing else on that cell either.

**Check.** Per family, the published rows span the determinable linear functions. A
target is determined when its vector lies in that span, within a relative tolerance
`TOLERANCE` (an SVD rank test, after merging the unknowns that no published row tells
apart). Targets are:

1. every withheld release: its sum, its sum of squares and its products;
2. every set of fewer than `min_cell_size` people made of one or two cells -- which,
   for the default k = 3, is every set of one or two people, since a set that splits
   a cell is never determined. For k > 3, sets of three or more cells are not searched;
3. the difference between any two people who are cells of their own: whoever knows
   one of the two values (every participant knows their own) would learn the other.

Not covered: figures that are not linear in the cells' moments (rank statistics such
as Wilcoxon's W and the rank-biserial r, Kruskal-Wallis, and the item-level products
inside KR-20 and discrimination) are published only for published cells, and their
differences are not exact; and reports taken at different times: each report is
verified on its own data, so publish once a phase is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec
import numpy as np

from evalsvc.domain.cohort import Cohort
from evalsvc.domain.design import ALL, Design
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.signed_rank import dense_values

TOLERANCE = 1e-6
"""A target is determined when its distance from the published span is at most this
fraction of its length."""

METHOD = (
    "linear rank test (SVD) over the moments of the smallest cells of people: sums, sums of "
    "squares and from x to products per measure, phase, comparison and skill, and answer "
    "counts per item; targets: every withheld figure, every set of one or two cells "
    "holding fewer than min_cell_size people, and the difference of any two single "
    "people; relative tolerance 1e-6"
)


class Finding(NamedTuple):
    family: str
    target: str
    """What could be worked out, in words."""
    essential: tuple[Release, ...]
    """Published releases without which it could not be (may be empty: several routes)."""
    contributors: tuple[Release, ...]
    """Published releases that take part in one way of working it out."""
    withheld: Release | None
    """The withheld release it is about, if it is one."""
    vector: np.ndarray
    """The target, over the family's unknowns (over its cells alone when `reduced`)."""
    reduced: bool = False
    """Found in the family's one-skill copy (see `_Family.separable`)."""


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    verified: bool
    families: int
    equations: int
    targets: int
    findings: list[str]


def verify(
    design: Design,
    cohort: Cohort,
    published: Sequence[Release],
    withheld: Sequence[Release],
    min_cell_size: int,
) -> tuple[Verification, list[Finding]]:
    """Check one plan (see the module docstring): the summary and the findings."""
    verifier = Verifier(design, cohort, min_cell_size)
    verifier.register([*published, *withheld])
    return verifier.check(set(published))


class Verifier:
    """Equations built once for a set of releases, checked for any choice of published."""

    def __init__(self, design: Design, cohort: Cohort, min_cell_size: int) -> None:
        self.design = design
        self.cohort = cohort
        self.k = min_cell_size
        self.skills = design.skills[:-1]
        self._families: dict[str, _Family] = {}
        self._score_cells: dict[str, _Cells] = {}
        self._answer_cells: dict[tuple[str, str], tuple[_Cells, np.ndarray]] = {}
        self._separable_cache: dict[tuple[str, tuple[str, ...], bool], bool] = {}
        self._member_cache: dict[tuple[str, str], np.ndarray] = {}
        self._present_cache: dict[tuple[str, str, str], np.ndarray] = {}

    def register(self, releases: Iterable[Release]) -> None:
        for release in releases:
            if release.table == "answers":
                self._add_response(release)
            elif release.table == "paired":
                self._add_paired(release)
            else:
                self._add_attrition(release)

    def check(self, published: set[Release]) -> tuple[Verification, list[Finding]]:
        findings: list[Finding] = []
        equations = targets = 0
        for family in self._families.values():
            family_findings, rows, n_targets = family.check(published, self.k)
            findings.extend(family_findings)
            equations += rows
            targets += n_targets
        summary = Verification(
            verified=not findings,
            families=len(self._families),
            equations=equations,
            targets=targets,
            findings=[f"{f.family}: {f.target}" for f in findings[:20]],
        )
        return summary, findings

    def resolve(
        self,
        published: set[Release],
        findings: Sequence[Finding],
        preference: Callable[[Release], tuple],
    ) -> list[Release]:
        """Published releases to withhold so that each finding loses its route.

        For each finding, one route (a few published rows that give its target, see
        `_sparse_route`) is cut at its most preferred row (smallest `preference`),
        unless a release already chosen cuts it. Other routes may remain: the caller
        verifies again and asks again.
        """
        chosen: dict[Release, None] = {}
        by_family: dict[str, list[Finding]] = {}
        for finding in findings:
            by_family.setdefault(finding.family, []).append(finding)
        for name, family_findings in by_family.items():
            family = self._families[name]
            for reduced in (False, True):
                findings_here = [f for f in family_findings if f.reduced == reduced]
                if not findings_here:
                    continue
                rows, releases = family.rows(published, reduced)
                if not releases:
                    continue
                for finding in findings_here:
                    route = [releases[r] for r in _sparse_route(rows, finding.vector)]
                    if route and not any(release in chosen for release in route):
                        chosen[min(route, key=preference)] = None
        return list(chosen)

    # -- people and cells ----------------------------------------------------------------
    def _members(self, breakdown: str, group: str) -> np.ndarray:
        """The people of a group (read only: computed once)."""
        key = (breakdown, group)
        found = self._member_cache.get(key)
        if found is None:
            if breakdown == ALL:
                found = np.ones(self.cohort.size, dtype=bool)
            else:
                groups = self.design.breakdown(breakdown).groups
                found = self.cohort.groups[breakdown] == groups.index(group)
            found.flags.writeable = False
            self._member_cache[key] = found
        return found

    def _present(self, measure: str, phase: str, subject: str) -> np.ndarray:
        """Who has the score (read only: computed once)."""
        key = (measure, phase, subject)
        found = self._present_cache.get(key)
        if found is None:
            column = self.design.skills.index(subject)
            found = ~np.isnan(self.cohort.scores[(measure, phase)][:, column])
            found.flags.writeable = False
            self._present_cache[key] = found
        return found

    def _cells_of(self, measure: str) -> _Cells:
        cells = self._score_cells.get(measure)
        if cells is None:
            parts = [self.cohort.groups[b.id][:, None] for b in self.design.breakdowns]
            for phase in self.design.phases:
                parts.append(self.cohort.submitted[phase][:, None])
                parts.append(~np.isnan(self.cohort.scores[(measure, phase)]))
                parts.append(np.round(self.cohort.weights[(measure, phase)], 12))
            key = np.hstack([p.astype(float) for p in parts])
            cells = self._score_cells[measure] = _Cells.from_key(key)
        return cells

    def _family(
        self, name: str, cells: _Cells, slots: int, candidates, separable: bool = False
    ) -> _Family:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = _Family(name, cells, slots, separable=separable)
            family.small = candidates()
        return family

    def _separable(self, measure: str, cells: _Cells, phases: Sequence[str], sums: bool) -> bool:
        """Whether every cell has all the skills or none in these phases, and (for sums)
        the same weights: then a family is one incidence system repeated per skill."""
        key = (measure, tuple(phases), sums)
        if key not in self._separable_cache:
            self._separable_cache[key] = self._separable_now(measure, cells, phases, sums)
        return self._separable_cache[key]

    def _separable_now(
        self, measure: str, cells: _Cells, phases: Sequence[str], sums: bool
    ) -> bool:
        for phase in phases:
            scores = self.cohort.scores[(measure, phase)][cells.representative, :-1]
            presence = ~np.isnan(scores)
            if not np.all(presence.all(axis=1) | ~presence.any(axis=1)):
                return False
            if sums:
                weights = self.cohort.weights[(measure, phase)][cells.representative]
                present = weights[presence.all(axis=1)]
                if present.size and not np.allclose(present, present[0], rtol=0, atol=1e-12):
                    return False
        return True

    # -- score releases --------------------------------------------------------------------
    def _add_paired(self, release: Release) -> None:
        measure, first, second, subject = (
            release.measure,
            release.first,
            release.second,
            release.subject,
        )
        cells = self._cells_of(measure)
        both = self._present(measure, first, subject) & self._present(measure, second, subject)
        people = self._members(release.breakdown, release.group) & both
        if not people.any():
            return
        on_cells = people[cells.representative]
        for phase in (first, second):
            self._add_phase(release, measure, phase, subject, cells, on_cells)
        vectors = _Vectors(self, measure, cells)
        self._family(
            f"X {measure} {first}->{second}",
            cells,
            len(self.skills) + 1,
            lambda: vectors.product_candidates(first, second),
            separable=self._separable(measure, cells, (first, second), sums=False),
        ).add(release, vectors.product(first, second, subject, on_cells), on_cells)
        self._family(
            f"C {measure} {first}->{second} {subject}",
            cells,
            1,
            lambda: _unit_candidates(cells, both[cells.representative], self.k),
        ).add(release, on_cells.astype(float), on_cells)

    def _add_attrition(self, release: Release) -> None:
        measure, baseline, later = release.measure, release.first, release.second
        cells = self._cells_of(measure)
        people = (
            self._members(release.breakdown, release.group)
            & self._present(measure, baseline, release.subject)
            & ~self._present(measure, later, release.subject)
        )
        if people.any():
            on_cells = people[cells.representative]
            self._add_phase(release, measure, baseline, release.subject, cells, on_cells)

    def _add_phase(
        self,
        release: Release,
        measure: str,
        phase: str,
        subject: str,
        cells: _Cells,
        on_cells: np.ndarray,
    ) -> None:
        vectors = _Vectors(self, measure, cells)
        self._family(
            f"L {measure} {phase}",
            cells,
            len(self.skills),
            lambda: vectors.phase_candidates(phase, squares=False),
            separable=self._separable(measure, cells, (phase,), sums=True),
        ).add(release, vectors.sums(phase, subject, on_cells), on_cells)
        self._family(
            f"Q {measure} {phase}",
            cells,
            len(self.skills) + 1,
            lambda: vectors.phase_candidates(phase, squares=True),
            separable=self._separable(measure, cells, (phase,), sums=False),
        ).add(release, vectors.squares(phase, subject, on_cells), on_cells)

    # -- summarised items -----------------------------------------------------------------
    def _add_response(self, release: Release) -> None:
        phase, item = release.first, release.subject
        cells, answered = self._cells_of_item(phase, item)
        people = self._members(release.breakdown, release.group) & answered
        if not people.any():
            return
        self._family(
            f"R {phase} {item}",
            cells,
            1,
            lambda: _unit_candidates(cells, answered[cells.representative], self.k),
        ).add(release, people[cells.representative].astype(float), people[cells.representative])

    def _cells_of_item(self, phase: str, item: str) -> tuple[_Cells, np.ndarray]:
        found = self._answer_cells.get((phase, item))
        if found is None:
            column = self.cohort.answer_column(phase, item)
            answered = np.array([value is not None for value in column], dtype=bool).reshape(-1)
            parts = [self.cohort.groups[b.id][:, None] for b in self.design.breakdowns]
            key = np.hstack([*parts, answered[:, None]]).astype(float)
            found = self._answer_cells[(phase, item)] = (_Cells.from_key(key), answered)
        return found


# -- cells and the vectors over them ----------------------------------------------------


@dataclass
class _Cells:
    """People grouped by every attribute the figures of a family can see."""

    size: np.ndarray
    representative: np.ndarray

    @classmethod
    def from_key(cls, key: np.ndarray) -> _Cells:
        if key.shape[0] == 0:
            empty = np.zeros(0, dtype=np.intp)
            return cls(empty, empty)
        _, first, counts = _identical_rows(key)
        return cls(counts, first)

    @property
    def count(self) -> int:
        return int(self.size.size)


class _Vectors:
    """Row vectors over (cell, slot) for one measure; see the module docstring."""

    def __init__(self, verifier: Verifier, measure: str, cells: _Cells) -> None:
        self.verifier = verifier
        self.measure = measure
        self.cells = cells
        self.skills = verifier.skills

    def _presence(self, phase: str) -> np.ndarray:
        scores = self.verifier.cohort.scores[(self.measure, phase)]
        return ~np.isnan(scores[self.cells.representative, :-1])

    def sums(self, phase: str, subject: str, on_cells: np.ndarray) -> np.ndarray:
        vector = np.zeros((self.cells.count, len(self.skills)))
        if subject in self.skills:
            vector[:, self.skills.index(subject)] = on_cells
        else:
            weights = self.verifier.cohort.weights[(self.measure, phase)]
            vector[:] = weights[self.cells.representative] * on_cells[:, None]
        return vector.reshape(-1)

    def squares(self, phase: str, subject: str, on_cells: np.ndarray) -> np.ndarray:
        vector = np.zeros((self.cells.count, len(self.skills) + 1))
        if subject in self.skills:
            vector[:, self.skills.index(subject)] = on_cells
            return vector.reshape(-1)
        presence = self._presence(phase)
        single = presence.sum(axis=1) == 1
        vector[:, -1] = on_cells & ~single
        rows = np.flatnonzero(on_cells & single)
        vector[rows, np.argmax(presence, axis=1)[rows]] = 1.0
        return vector.reshape(-1)

    def product(self, first: str, second: str, subject: str, on_cells: np.ndarray) -> np.ndarray:
        vector = np.zeros((self.cells.count, len(self.skills) + 1))
        if subject in self.skills:
            vector[:, self.skills.index(subject)] = on_cells
            return vector.reshape(-1)
        before, after = self._presence(first), self._presence(second)
        same_single = (before.sum(axis=1) == 1) & np.all(before == after, axis=1)
        vector[:, -1] = on_cells & ~same_single
        rows = np.flatnonzero(on_cells & same_single)
        vector[rows, np.argmax(before, axis=1)[rows]] = 1.0
        return vector.reshape(-1)

    def _small(self, present_people: np.ndarray) -> np.ndarray:
        present = present_people[self.cells.representative]
        return np.flatnonzero(present & (self.cells.size < self.verifier.k))

    def phase_candidates(self, phase: str, squares: bool) -> list[_Candidates]:
        """Each small cell alone, per subject: its sum (or square) as a sparse vector."""
        out = []
        skills = len(self.skills)
        slots = skills + 1 if squares else skills
        presence = self._presence(phase)
        for subject in self.verifier.design.skills:
            ids = self._small(self.verifier._present(self.measure, phase, subject))
            if subject in self.skills:
                cols = (ids * slots + self.skills.index(subject))[:, None]
                values = np.ones(cols.shape)
            elif squares:
                single = presence[ids].sum(axis=1) == 1
                slot = np.where(single, np.argmax(presence[ids], axis=1), skills)
                cols = (ids * slots + slot)[:, None]
                values = np.ones(cols.shape)
            else:
                weights = self.verifier.cohort.weights[(self.measure, phase)]
                values = weights[self.cells.representative[ids]]
                cols = ids[:, None] * slots + np.arange(skills)[None, :]
            out.append(_Candidates(cols, values, ids, self.cells.size[ids]))
        return out

    def product_candidates(self, first: str, second: str) -> list[_Candidates]:
        out = []
        slots = len(self.skills) + 1
        before, after = self._presence(first), self._presence(second)
        for subject in self.verifier.design.skills:
            present = self.verifier._present(self.measure, first, subject)
            present = present & self.verifier._present(self.measure, second, subject)
            ids = self._small(present)
            if subject in self.skills:
                slot = np.full(ids.shape, self.skills.index(subject))
            else:
                same_single = (before[ids].sum(axis=1) == 1) & np.all(
                    before[ids] == after[ids], axis=1
                )
                slot = np.where(same_single, np.argmax(before[ids], axis=1), slots - 1)
            cols = (ids * slots + slot)[:, None]
            out.append(_Candidates(cols, np.ones(cols.shape), ids, self.cells.size[ids]))
        return out


def _unit_candidates(cells: _Cells, present: np.ndarray, k: int) -> list[_Candidates]:
    ids = np.flatnonzero(present & (cells.size < k))
    cols = ids[:, None]
    return [_Candidates(cols, np.ones(cols.shape), ids, cells.size[ids])]


class _Candidates(NamedTuple):
    """Single cells of fewer than k people, for one subject, as sparse vectors: the
    columns and values of each (one row per cell), the cell ids and their sizes."""

    columns: np.ndarray
    values: np.ndarray
    cells: np.ndarray
    sizes: np.ndarray

    def dense(self, index: int, length: int) -> np.ndarray:
        vector = np.zeros(length)
        np.add.at(vector, self.columns[index], self.values[index])
        return vector


# -- one family: its rows, targets and the rank test --------------------------------------


@dataclass
class _Family:
    name: str
    cells: _Cells
    slots: int
    separable: bool = False
    """Every cell has all skills or none, with the same weights: the family is one
    incidence system over the cells, repeated per skill. When, moreover, every
    release is published or withheld for all skills alike, a target is determined in
    the family exactly when its population is in one copy, which is far smaller."""
    releases: list[Release] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    populations: list[np.ndarray] = field(default_factory=list)
    keys: list[Release] = field(default_factory=list)
    """Each release without its skill: the same release for every skill."""
    small: list[_Candidates] = field(default_factory=list)
    _cache: dict[frozenset[int], tuple[list[Finding], int, int]] = field(default_factory=dict)

    def add(self, release: Release, vector: np.ndarray, population: np.ndarray) -> None:
        self.releases.append(release)
        self.vectors.append(vector)
        self.populations.append(population)
        self.keys.append(release._replace(subject=""))

    def check(self, published: set[Release], k: int) -> tuple[list[Finding], int, int]:
        shown = frozenset(i for i, r in enumerate(self.releases) if r in published)
        cached = self._cache.get(shown)
        if cached is None:
            if self._uniform(shown):
                cached = self._check_reduced(shown, k)
            else:
                cached = self._check(sorted(shown), k)
            self._cache[shown] = cached
        return cached

    def rows(self, published: set[Release], reduced: bool) -> tuple[np.ndarray, list[Release]]:
        """The published rows (reduced: one per release of all skills) and their releases."""
        shown = [i for i, r in enumerate(self.releases) if r in published]
        if reduced:
            shown = list(self._representatives(shown).values())
            vectors = [self.populations[i].astype(float) for i in shown]
        else:
            vectors = [self.vectors[i] for i in shown]
        return np.array(vectors), [self.releases[i] for i in shown]

    def _representatives(self, indices: Iterable[int]) -> dict[Release, int]:
        out: dict[Release, int] = {}
        for i in indices:
            out.setdefault(self.keys[i], i)
        return out

    def _uniform(self, shown: frozenset[int]) -> bool:
        if not self.separable:
            return False
        status: dict[Release, bool] = {}
        for i, key in enumerate(self.keys):
            if status.setdefault(key, i in shown) != (i in shown):
                return False
        return True

    def _check_reduced(self, shown: frozenset[int], k: int) -> tuple[list[Finding], int, int]:
        published = self._representatives(sorted(shown))
        hidden = self._representatives(i for i in range(len(self.releases)) if i not in shown)
        present = np.zeros(self.cells.count, dtype=bool)
        for population in self.populations:
            present |= population
        small = np.flatnonzero(present & (self.cells.size < k))
        if not published or (not hidden and not small.size):
            return [], len(published), 0
        rows = [self.populations[i].astype(float) for i in published.values()]
        row_releases = [self.releases[i] for i in published.values()]
        span = _Span(np.array(rows))
        findings: list[Finding] = []
        if hidden:
            vectors = np.array([self.populations[i].astype(float) for i in hidden.values()])
            for i in np.flatnonzero(span.determined(vectors)):
                release = self.releases[list(hidden.values())[i]]
                what = f"withheld {release._replace(subject='(every skill)').label()}"
                findings.append(
                    _finding(self.name, span, row_releases, vectors[i], what, release, True)
                )
        targets = len(hidden)
        if small.size:
            candidates = _Candidates(
                small[:, None], np.ones((small.size, 1)), small, self.cells.size[small]
            )
            findings.extend(self._small_findings(span, row_releases, candidates, k, True))
            targets += small.size + small.size * (small.size - 1) // 2
        return findings, len(published), targets

    def _check(self, shown: list[int], k: int) -> tuple[list[Finding], int, int]:
        hidden = [i for i in range(len(self.releases)) if i not in set(shown)]
        has_small = any(len(c.cells) for c in self.small)
        if not shown or (not hidden and not has_small):
            return [], len(shown), 0
        span = _Span(np.array([self.vectors[i] for i in shown]))
        row_releases = [self.releases[i] for i in shown]
        findings: list[Finding] = []
        targets = 0
        if hidden:
            vectors = np.array([self.vectors[i] for i in hidden])
            targets += len(hidden)
            for i in np.flatnonzero(span.determined(vectors)):
                release = self.releases[hidden[i]]
                what = f"withheld {release.label()}"
                findings.append(
                    _finding(self.name, span, row_releases, vectors[i], what, release, False)
                )
        for candidates in self.small:
            if len(candidates.cells):
                findings.extend(self._small_findings(span, row_releases, candidates, k, False))
                count = len(candidates.cells)
                targets += count + count * (count - 1) // 2
        return findings, len(shown), targets

    def _small_findings(
        self,
        span: _Span,
        row_releases: list[Release],
        candidates: _Candidates,
        k: int,
        reduced: bool,
    ) -> list[Finding]:
        length = self.cells.count * (1 if reduced else self.slots)
        residual, projected, norms = span.residual_sparse(candidates.columns, candidates.values)
        alone = residual <= (TOLERANCE**2) * norms
        findings = []
        for index in np.flatnonzero(alone):
            i = int(index)
            what = f"a cell of {int(candidates.sizes[i])} people"
            vector = candidates.dense(i, length)
            findings.append(_finding(self.name, span, row_releases, vector, what, None, reduced))
        for i, j, sign in _determined_pairs(candidates, residual, projected, norms, alone, k):
            vector = candidates.dense(i, length) + sign * candidates.dense(j, length)
            people = int(candidates.sizes[i] + candidates.sizes[j])
            what = (
                f"two cells of {people} people together"
                if sign > 0
                else "the difference between two people"
            )
            findings.append(_finding(self.name, span, row_releases, vector, what, None, reduced))
        return findings


def _finding(
    family: str,
    span: _Span,
    row_releases: list[Release],
    vector: np.ndarray,
    what: str,
    release: Release | None,
    reduced: bool,
) -> Finding:
    weights = span.combination(vector)
    essential = span.essential(weights)
    return Finding(
        family=family,
        target=f"{what} is determined",
        essential=tuple(row_releases[r] for r in essential),
        contributors=tuple(row_releases[r] for r in np.flatnonzero(np.abs(weights) > 1e-9)),
        withheld=release,
        vector=vector,
        reduced=reduced,
    )


def _determined_pairs(
    candidates: _Candidates,
    residual: np.ndarray,
    projected: np.ndarray,
    norms: np.ndarray,
    alone: np.ndarray,
    k: int,
) -> list[tuple[int, int, int]]:
    """(i, j, sign) of the pairs of cells determined although neither cell is: their
    sum (sign +1) when they hold fewer than k people together, and the difference of
    two single people (sign -1), which tells either of them the other's value.

    Cells are disjoint, so |a ± b|² = |a|² + |b|², and as projections add, the squared
    residual of a ± b is res(a) + res(b) ∓ 2·proj(a)·proj(b).
    """
    count = len(candidates.cells)
    if count < 2:
        return []
    sizes = candidates.sizes
    gram = projected @ projected.T
    base = residual[:, None] + residual[None, :]
    pair_norm = norms[:, None] + norms[None, :]
    neither = np.triu(np.ones((count, count), dtype=bool), 1) & ~(alone[:, None] | alone[None, :])
    found: list[tuple[int, int, int]] = []
    for sign, wanted in (
        (1, (sizes[:, None] + sizes[None, :]) < k),
        (-1, (sizes[:, None] == 1) & (sizes[None, :] == 1)),
    ):
        hit = neither & wanted & (base - 2.0 * sign * gram <= (TOLERANCE**2) * pair_norm)
        found.extend((int(i), int(j), sign) for i, j in zip(*np.nonzero(hit), strict=True))
    return found


class _Span:
    """The span of a family's published rows, after merging identical columns.

    Columns (unknowns) that every published row treats alike are merged: a target can
    only be determined if it treats them alike too, and then only through their sum.
    In the merged space, with D the number of unknowns merged into each column, the
    span's orthonormal basis comes from the SVD of the merged rows scaled by sqrt(D).
    """

    singular: np.ndarray

    def __init__(self, matrix: np.ndarray) -> None:
        unique, group, sizes = _unique_columns(matrix)
        self.group = group.reshape(-1)
        self.sizes = sizes.astype(float)
        self._order = np.argsort(self.group, kind="stable")
        self._starts = np.searchsorted(self.group[self._order], np.arange(self.sizes.size))
        scaled = unique.T * np.sqrt(self.sizes)
        u, singular, vt = np.linalg.svd(scaled, full_matrices=False)
        tolerance = singular[0] * max(scaled.shape) * 1e-12 if singular.size else 0.0
        rank = int(np.sum(singular > tolerance))
        self.basis = vt[:rank].T
        self.left = u[:, :rank]
        self.singular = singular[:rank]

    def residual(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Squared distances from the span, coordinates in it, and squared lengths."""
        sums = np.add.reduceat(targets[:, self._order], self._starts, axis=1)
        projected = (sums / np.sqrt(self.sizes)) @ self.basis
        norms = np.einsum("ij,ij->i", targets, targets)
        residual = np.maximum(norms - np.einsum("ij,ij->i", projected, projected), 0.0)
        return residual, projected, norms

    def residual_sparse(
        self, columns: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`residual` of vectors given by their few non-zero columns and values."""
        groups = self.group[columns]
        scale = values / np.sqrt(self.sizes[groups])
        projected = np.einsum("mw,mwr->mr", scale, self.basis[groups])
        norms = np.einsum("mw,mw->m", values, values)
        residual = np.maximum(norms - np.einsum("ij,ij->i", projected, projected), 0.0)
        return residual, projected, norms

    def determined(self, targets: np.ndarray) -> np.ndarray:
        residual, _, norms = self.residual(targets)
        return (residual <= (TOLERANCE**2) * norms) & (norms > 0)

    def combination(self, vector: np.ndarray) -> np.ndarray:
        """Weights of the published rows that give `vector` (the minimum-norm ones).

        With the merged rows scaled as B = U S V', the weights are U S^-1 y, where y
        are the vector's coordinates in the span.
        """
        _, projected, _ = self.residual(vector[None, :])
        return self.left @ (projected[0] / self.singular)

    def essential(self, weights: np.ndarray) -> np.ndarray:
        """Rows used (weight != 0) that no combination of the other rows can replace.

        A row is replaceable when some combination of rows that gives nothing uses
        it: when it has a part outside the span of U's first columns, 1 - |U_r|² > 0.
        """
        used = np.abs(weights) > 1e-9
        replaceable = 1.0 - np.einsum("ij,ij->i", self.left, self.left) > 1e-9
        return np.flatnonzero(used & ~replaceable)


def _sparse_route(rows: np.ndarray, target: np.ndarray, steps: int = 64) -> list[int]:
    """A few rows that together give `target` (orthogonal matching pursuit).

    The minimum-norm combination spreads over every route at once; the planner wants
    one route, so that it withholds a figure that really takes part in the finding.
    Falls back to every row the minimum-norm combination uses.
    """
    norms = np.linalg.norm(rows, axis=1)
    norms[norms == 0] = 1.0
    support: list[int] = []
    residual = target.astype(float).copy()
    scale = float(np.linalg.norm(target)) or 1.0
    for _ in range(min(steps, rows.shape[0])):
        scores = np.abs(rows @ residual) / norms
        scores[support] = -1.0
        best = int(np.argmax(scores))
        if scores[best] <= 0:
            break
        support.append(best)
        weights, *_ = np.linalg.lstsq(rows[support].T, target, rcond=None)
        residual = target - rows[support].T @ weights
        if np.linalg.norm(residual) <= TOLERANCE * scale:
            return [r for r, w in zip(support, weights, strict=True) if abs(w) > 1e-12]
    weights, *_ = np.linalg.lstsq(rows.T, target, rcond=None)
    return [int(r) for r in np.flatnonzero(np.abs(weights) > 1e-9)]


def _identical_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group identical rows: each row's group, each group's first row, group sizes.

    Hashes each row by two random projections (np.unique over whole rows sorts them
    byte by byte, far slower), then confirms that every row equals its group's first;
    on any collision it falls back to the exact np.unique.
    """
    rows = np.ascontiguousarray(rows, dtype=float)
    projections = np.random.default_rng(20240312).standard_normal((rows.shape[1], 2))
    hashed = rows @ projections
    group, first, sizes = _unique_pairs(hashed)
    if not np.array_equal(rows, rows[first[group]]):
        _, first, group, sizes = np.unique(
            rows, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        group = group.reshape(-1)
    return group, first, sizes


def _unique_pairs(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(pairs, axis=0, return_index, return_inverse, return_counts)`` of an
    n x 2 float array, as (inverse, index, counts): the same groups in the same
    (ascending) order, each group's first row, without sorting rows as records.

    Each column is replaced by its value's rank among the column's distinct values
    (`dense_values`: order and equality kept), and the pair of ranks by one number.
    """
    n = pairs.shape[0]
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, empty
    left, right = dense_values(pairs[:, 0]), dense_values(pairs[:, 1])
    key = left.codes.astype(np.int64) * right.distinct.size + right.codes
    space = left.distinct.size * right.distinct.size
    if space > 4 * n:
        _, first, group, sizes = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True
        )
        return group.reshape(-1), first, sizes
    counts = np.bincount(key, minlength=space)
    present = np.flatnonzero(counts)
    number = np.zeros(space, dtype=np.intp)
    number[present] = np.arange(present.size)
    group = number[key]
    first = np.full(present.size, n, dtype=np.intp)
    np.minimum.at(first, group, np.arange(n))
    return group, first, counts[present]


def _unique_columns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(matrix.T, axis=0, return_inverse=True, return_counts=True)``: the
    distinct columns (as rows, in ascending order), each column's group, group sizes.

    Columns are grouped as `_identical_rows` groups rows (hashed, then confirmed), and
    only the distinct ones are sorted; any collision falls back to np.unique.
    """
    columns = np.ascontiguousarray(matrix.T, dtype=float)
    group, first, sizes = _identical_rows(columns)
    distinct = columns[first]
    order = np.lexsort(distinct.T[::-1])  # ascending, first element first, as np.unique
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return distinct[order], rank[group], sizes[order]
