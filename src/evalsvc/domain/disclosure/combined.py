"""The verifier across reports: a programme's figures together with its courses' reports.

A programme report publishes sums over unions of its courses' cells of people: pooled
rows, rows per agency type, country, year, sex..., each course's row on the shared
framework, and donor indicators. Each course report is already published, its
withheld figures fixed. This verifier proves, in the spirit of `verify`, that the
programme's figures *together with every course report* determine neither a figure
a course report withholds, nor a figure the programme withholds, nor the figures of
any set of fewer than k people made of one or two cells.

**Unknowns.** Cells are the course verifier's cells (people of one course who share
every group, which phases they answered, which skills they have and the weights of
those in their total): programme groups are functions of them (agency -> agency
type, a breakdown item's option -> a programme group; course, country and year are
fixed per course), so no programme figure splits a cell. Unlike a single course's
figures, programme figures combine skills in new ways (a framework skill is a
weighted mean of some course skills), so the unknowns of each cell are the full
moments of its course skills:

* ``L`` -- per measure and phase: the sum of each skill's scores;
* ``Q`` -- per measure and phase: the sum of the product of every two skills' scores
  (squares included), from which the square of any weighted combination follows;
* ``X`` -- per measure and comparison: the sum of every from-skill x to-skill product;
* ``C`` -- per measure and comparison: per distinct score function (the pair of its
  weight vectors in the two phases) the sums of what is computed per pair of scores
  (improved, declined, at the maximum, normalized gains, passes, gains over a
  threshold); a course skill and a framework skill made of it alone are one function;
* ``R`` -- the answers to each course's "applied" item, per cell.

A figure over a score that is a weighted combination w of skills is then linear in
these unknowns (mean: w·L; SD: w'Qw; gain SD, t, d_z: w_from' X w_to): the equations
are exact, with no separate unknown per combination.

**Check.** Per family, with the course rows C_i of course i (published, fixed) and
the published programme rows P: a target t is determined when it lies in the span of
both. Course rows of different courses share no unknown, so with N_i the projection
away from the span of C_i, t is determined exactly when (N_i t_i)_i lies in the span
of (N_i P_i)_i; the course spans are computed once (they never change) and each
round only the programme's part is recomputed. A target already determined by the
course rows alone is not the programme's doing: it is counted apart
(``course_level``), never hidden. The same relative tolerance as `verify` applies,
after merging unknowns that no row tells apart.

Targets: every withheld figure (course and programme), and every set of one or two
cells of fewer than k people, per score (course skills, course totals, framework
skills, the programme total): two cells of different courses are a target under the
framework scores, which combine courses.

Not covered, as in `verify`: rank statistics (Wilcoxon, rank-biserial) are
published only for published cells and their differences are not exact; the
courses' item analysis and reliability (over their whole paired population, which
the programme neither splits nor combines with groups); and reports taken at
different times.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec
import numpy as np

from evalsvc.domain.design import ALL
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.disclosure.verify import (
    TOLERANCE,
    _Cells,
    _identical_rows,
    _sparse_route,
)
from evalsvc.domain.programme_cohort import Member, ProgrammeCohort
from evalsvc.domain.scoring import TOTAL

PROGRAMME = "programme"
"""Source of the programme's own releases (course releases carry their course id)."""

APPLIED = "applied"
"""Subject of the programme's "applied what they learned" indicator release."""

ROUTES_PER_FAMILY = 64
"""Findings of one family resolved per planning round (the rest wait for the next)."""

Key = tuple[str, Release]
"""(source, release): source is a course id, or `PROGRAMME`."""

METHOD = (
    "linear rank test over the moments of the courses' cells of people, programme and "
    "course reports together: per measure and phase the sums of every skill and of every "
    "product of two skills, per comparison every from x to product and the per-pair counts "
    "of each score function, and the answers to the applied items; course reports fixed, "
    "their spans projected out; targets: every withheld figure of either and every set of "
    "one or two cells of fewer than min_cell_size people; relative tolerance 1e-6"
)


class Finding(NamedTuple):
    family: str
    target: str
    vector: np.ndarray
    """The target's residual direction (merged coordinates), for resolution."""


class CombinedVerification(msgspec.Struct, frozen=True, kw_only=True):
    verified: bool
    families: int
    targets: int
    course_level: int
    """Targets determined by the course reports alone (not the programme's doing)."""
    findings: list[str]


# -- score functions on the cells of one course ------------------------------------------

Subject = tuple[str, ...]
"""("skill", id) | ("total",) for a course's own scores; ("framework", id) for the
programme's (id "total": the programme total)."""


def _weights(
    member: Member, measure: str, phase: str, subject: Subject, people: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per person of `people` (local indices): the subject's weights over the course's
    skills (rows sum to 1) and whether the person has the score."""
    key = (measure, phase)
    skills = member.design.skills[:-1]
    n = people.size
    if key not in member.cohort.scores:
        return np.zeros((n, len(skills))), np.zeros(n, dtype=bool)
    scores = member.cohort.scores[key][people]
    present = ~np.isnan(scores[:, :-1])
    if subject[0] == "skill":
        column = skills.index(subject[1])
        out = np.zeros((n, len(skills)))
        out[:, column] = 1.0
        return out, present[:, column]
    weights = np.where(present, member.cohort.weights[key][people], 0.0)
    if subject[0] == "total":
        has = ~np.isnan(scores[:, -1])
    else:
        columns = member.framework_columns(subject[1])
        mask = np.zeros(len(skills), dtype=bool)
        mask[columns] = True
        weights = np.where(mask[None, :], weights, 0.0)
        has = weights.sum(axis=1) > 0
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 0.0)
    return normalized, has & (total[:, 0] > 0)


@functools.cache
def _upper(size: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(size)


def _square_coefficients(w: np.ndarray) -> np.ndarray:
    """Cells x (skill pairs i <= j): coefficients of sum (w·x)² in the products x_i x_j."""
    rows, cols = _upper(w.shape[1])
    outer = w[:, rows] * w[:, cols]
    return np.where(rows == cols, outer, 2.0 * outer)


def _product_coefficients(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, :, None] * b[:, None, :]).reshape(a.shape[0], -1)


# -- one family: its blocks, rows and targets ---------------------------------------------


class _Sparse(NamedTuple):
    """A vector over one course's block of a family: its columns and values."""

    columns: np.ndarray
    values: np.ndarray

    def norm(self) -> float:
        return float(self.values @ self.values)


class _Candidate(NamedTuple):
    label: str
    subject: tuple
    """Cells of one subject may be paired (framework subjects: across courses)."""
    size: int
    block: int
    vector: _Sparse


@dataclass
class _Block:
    """A family's unknowns of one course, and that course's fixed span over them."""

    columns: int = 0
    keys: dict[tuple, int] = field(default_factory=dict)
    """Columns allocated by key (C and R families)."""
    course_rows: list[_Sparse] = field(default_factory=list)
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    course_basis: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """Orthonormal basis (merged coordinates) of the course rows' span."""
    programme_basis: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """Orthonormal basis of the programme rows' parts outside the course span."""

    def column(self, key: tuple) -> int:
        found = self.keys.get(key)
        if found is None:
            found = self.keys[key] = self.columns
            self.columns += 1
        return found

    def split(self, vectors: Sequence[_Sparse]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each vector: the squared distance from the course span, its coordinates
        in the course span, and the coordinates (in the programme basis) of what the
        course span leaves."""
        count = len(vectors)
        merged = np.zeros((count, self.sizes.size))
        if count:
            rows = np.repeat(np.arange(count), [v.columns.size for v in vectors])
            columns = np.concatenate([v.columns for v in vectors])
            values = np.concatenate([v.values for v in vectors])
            np.add.at(merged, (rows, self.group[columns]), values)
        merged /= np.sqrt(self.sizes)[None, :]
        inside = merged @ self.course_basis
        away = merged - inside @ self.course_basis.T
        norms = np.array([v.norm() for v in vectors])
        residual = norms - np.einsum("ij,ij->i", inside, inside)
        return residual, inside, away @ self.programme_basis


class _Target(NamedTuple):
    label: str
    norm: float
    course_residual: float
    coordinates: np.ndarray
    """Over the family's programme coordinates (every block's programme basis)."""


@dataclass
class _Family:
    name: str
    blocks: dict[int, _Block] = field(default_factory=dict)
    programme: list[tuple[Release, dict[int, _Sparse]]] = field(default_factory=list)
    course_withheld: list[tuple[str, int, _Sparse]] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    # set by prepare:
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """Programme rows (columns) in programme coordinates."""
    programme_targets: list[_Target] = field(default_factory=list)
    fixed_targets: list[_Target] = field(default_factory=list)
    subjects: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    """Per subject: candidate positions (in fixed_targets), sizes, and the Gram matrix
    of their course-span coordinates (for pairs)."""
    _cache: dict[frozenset[int], tuple[list[Finding], int, int]] = field(default_factory=dict)

    def block(self, course: int) -> _Block:
        return self.blocks.setdefault(course, _Block())

    def prepare(self) -> None:
        """Merge unknowns no row tells apart; project out each course's fixed span."""
        for index, block in self.blocks.items():
            programme_parts = [rows[index] for _, rows in self.programme if index in rows]
            dense = _dense([*block.course_rows, *programme_parts], block.columns)
            if block.columns == 0:
                continue
            group, first, sizes = _identical_rows(dense.T)
            block.group = group
            block.sizes = sizes.astype(float)
            merged = dense[:, first] * np.sqrt(block.sizes)
            course = merged[: len(block.course_rows)]
            block.course_basis = _basis(course)
            programme = merged[len(block.course_rows) :]
            if block.course_basis.size:
                away = programme - (programme @ block.course_basis) @ block.course_basis.T
                # a row the course reports already give adds nothing; its rounding
                # noise must not become a direction of its own
                inside = np.einsum("ij,ij->i", away, away) <= (TOLERANCE**2) * np.einsum(
                    "ij,ij->i", programme, programme
                )
                away[inside] = 0.0
                programme = away
            block.programme_basis = _basis(programme)
            block.course_rows = []
        offsets = self._offsets()
        length = sum(b.programme_basis.shape[1] for b in self.blocks.values())
        self.matrix = np.zeros((length, len(self.programme)))
        norms = np.zeros(len(self.programme))
        residuals = np.zeros(len(self.programme))
        for index, block in self.blocks.items():
            parts = [
                (i, rows[index]) for i, (_, rows) in enumerate(self.programme) if index in rows
            ]
            if not parts:
                continue
            residual, _, coordinates = block.split([v for _, v in parts])
            part_norms = np.array([v.norm() for _, v in parts])
            coordinates[residual <= (TOLERANCE**2) * part_norms] = 0.0
            positions = np.array([i for i, _ in parts])
            start = offsets[index]
            self.matrix[start : start + coordinates.shape[1], positions] = coordinates.T
            residuals[positions] += residual
            norms[positions] += part_norms
        self.programme_targets = [
            _Target(
                f"withheld programme {release.label()}",
                float(norms[i]),
                float(residuals[i]),
                self.matrix[:, i],
            )
            for i, (release, _) in enumerate(self.programme)
        ]
        self.fixed_targets = []
        withheld_by_block: dict[int, list[tuple[str, _Sparse]]] = {}
        for label, index, vector in self.course_withheld:
            withheld_by_block.setdefault(index, []).append((label, vector))
        for index, entries in withheld_by_block.items():
            residual, _, coordinates = self.blocks[index].split([v for _, v in entries])
            start = offsets[index]
            for row, (label, vector) in enumerate(entries):
                stacked = np.zeros(length)
                stacked[start : start + coordinates.shape[1]] = coordinates[row]
                self.fixed_targets.append(
                    _Target(label, vector.norm(), float(residual[row]), stacked)
                )
        first_candidate = len(self.fixed_targets)
        insides: dict[int, np.ndarray] = {}
        by_block: dict[int, list[int]] = {}
        for position, candidate in enumerate(self.candidates):
            by_block.setdefault(candidate.block, []).append(position)
        candidate_targets: list[_Target | None] = [None] * len(self.candidates)
        for index, members in by_block.items():
            block = self.blocks[index]
            residual, inside, coordinates = block.split(
                [self.candidates[p].vector for p in members]
            )
            start = offsets[index]
            for row, position in enumerate(members):
                stacked = np.zeros(length)
                stacked[start : start + coordinates.shape[1]] = coordinates[row]
                candidate = self.candidates[position]
                candidate_targets[position] = _Target(
                    candidate.label, candidate.vector.norm(), float(residual[row]), stacked
                )
                insides[position] = inside[row]
        self.fixed_targets.extend(t for t in candidate_targets if t is not None)
        by_subject: dict[tuple, list[int]] = {}
        for position, candidate in enumerate(self.candidates):
            by_subject.setdefault(candidate.subject, []).append(position)
        self.subjects = []
        for subject_members in by_subject.values():
            if len(subject_members) < 2:
                continue
            gram = np.zeros((len(subject_members), len(subject_members)))
            blocks = np.array([self.candidates[p].block for p in subject_members])
            for index in set(blocks.tolist()):
                here = np.flatnonzero(blocks == index)
                vectors = np.array([insides[subject_members[h]] for h in here])
                if vectors.size:
                    gram[np.ix_(here, here)] = vectors @ vectors.T
            np.fill_diagonal(gram, 0.0)
            sizes = np.array([self.candidates[p].size for p in subject_members])
            self.subjects.append((np.array(subject_members) + first_candidate, sizes, gram))
        self.candidates = []
        self.course_withheld = []

    def _offsets(self) -> dict[int, int]:
        offsets: dict[int, int] = {}
        total = 0
        for index in sorted(self.blocks):
            offsets[index] = total
            total += self.blocks[index].programme_basis.shape[1]
        return offsets

    def derivable(self) -> dict[Release, bool]:
        """Per programme release: whether the course reports alone give all of it here."""
        out: dict[Release, bool] = {}
        for (release, _), target in zip(self.programme, self.programme_targets, strict=True):
            alone = target.course_residual <= (TOLERANCE**2) * target.norm
            out[release] = out.get(release, True) and alone
        return out

    def shown(self, published: set[Release]) -> frozenset[int]:
        return frozenset(i for i, (release, _) in enumerate(self.programme) if release in published)

    def check(self, shown: frozenset[int], k: int) -> tuple[list[Finding], int, int]:
        """(findings, targets, targets determined by the course reports alone)."""
        cached = self._cache.get(shown)
        if cached is not None:
            return cached
        basis = _basis(self.matrix[:, sorted(shown)].T)
        hidden = [t for i, t in enumerate(self.programme_targets) if i not in shown]
        targets = [*self.fixed_targets, *hidden]
        findings: list[Finding] = []
        course_level = 0
        coordinates = np.array([t.coordinates for t in targets]) if targets else np.zeros((0, 0))
        projected = coordinates @ basis if targets else np.zeros((0, 0))
        seen = np.einsum("ij,ij->i", projected, projected) if targets else np.zeros(0)
        residual = np.array([t.course_residual for t in targets]) - seen
        norms = np.array([t.norm for t in targets])
        limit = (TOLERANCE**2) * norms
        alone = np.zeros(len(targets), dtype=bool)
        fixed = len(self.fixed_targets)
        for i, target in enumerate(targets):
            if target.norm == 0:
                continue
            if target.course_residual <= limit[i]:
                # given by the course reports alone: not the programme's doing (a
                # programme figure's part here may be, when its other parts are not)
                course_level += int(i < fixed)
            elif residual[i] <= limit[i]:
                alone[i] = True
                findings.append(Finding(self.name, f"{target.label} is determined", coordinates[i]))
        for positions, sizes, gram in self.subjects:
            course_pair = (
                np.array([targets[p].course_residual for p in positions])[:, None]
                + np.array([targets[p].course_residual for p in positions])[None, :]
                - 2.0 * gram
            )
            pair = course_pair - (
                seen[positions][:, None]
                + seen[positions][None, :]
                + 2.0 * projected[positions] @ projected[positions].T
            )
            pair_norm = norms[positions][:, None] + norms[positions][None, :]
            hits = (
                np.triu(np.ones(gram.shape, dtype=bool), 1)
                & ((sizes[:, None] + sizes[None, :]) < k)
                & (pair <= (TOLERANCE**2) * pair_norm)
                & (course_pair > (TOLERANCE**2) * pair_norm)
                & ~(alone[positions][:, None] | alone[positions][None, :])
            )
            for a, b in zip(*np.nonzero(hits), strict=True):
                pa, pb = int(positions[a]), int(positions[b])
                people = int(sizes[a] + sizes[b])
                findings.append(
                    Finding(
                        self.name,
                        f"two cells of {people} people together ({targets[pa].label};"
                        f" {targets[pb].label}) are determined",
                        coordinates[pa] + coordinates[pb],
                    )
                )
        result = (
            findings,
            len(targets) + sum(len(s[0]) ** 2 // 2 for s in self.subjects),
            course_level,
        )
        self._cache[shown] = result
        return result

    def route(self, shown: frozenset[int], vector: np.ndarray) -> list[Release]:
        """A few published programme releases that together give `vector`."""
        columns = sorted(shown)
        if not columns:
            return []
        rows = self.matrix[:, columns].T
        return [self.programme[columns[r]][0] for r in _sparse_route(rows, vector)]


def _dense(vectors: Sequence[_Sparse], width: int) -> np.ndarray:
    out = np.zeros((len(vectors), width))
    if vectors:
        rows = np.repeat(np.arange(len(vectors)), [v.columns.size for v in vectors])
        columns = np.concatenate([v.columns for v in vectors])
        values = np.concatenate([v.values for v in vectors])
        np.add.at(out, (rows, columns), values)
    return out


def _basis(rows: np.ndarray) -> np.ndarray:
    """Orthonormal basis (as columns) of the span of `rows` (one vector per row)."""
    width = rows.shape[1] if rows.ndim == 2 else 0
    if rows.size == 0:
        return np.zeros((width, 0))
    _, singular, vt = np.linalg.svd(rows, full_matrices=False)
    tolerance = singular[0] * max(rows.shape) * 1e-12 if singular.size else 0.0
    rank = int(np.sum(singular > tolerance))
    return vt[:rank].T


# -- the verifier ----------------------------------------------------------------------------


class CombinedVerifier:
    """The course reports' releases (fixed) and the programme's, over one programme cohort.

    Register every course's published and withheld releases and every programme
    release (with people), then `check` any choice of published programme releases.
    """

    def __init__(self, cohort: ProgrammeCohort, min_cell_size: int) -> None:
        self.pc = cohort
        self.k = min_cell_size
        self.families: dict[str, _Family] = {}
        self._cells: dict[tuple[int, str], _Cells] = {}
        self._answer_cells: dict[int, tuple[_Cells, np.ndarray, np.ndarray]] = {}
        self._prepared = False
        self._weight_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._pass_courses = np.array(
            [m.course.pass_mark is not None for m in cohort.members], dtype=bool
        )

    # -- registration -------------------------------------------------------------------
    def register_course(
        self, course_id: str, published: Iterable[Release], withheld: Iterable[Release]
    ) -> None:
        index = next(i for i, m in enumerate(self.pc.members) if m.course.id == course_id)
        member = self.pc.members[index]
        for shown, releases in ((True, published), (False, withheld)):
            for release in releases:
                if release.table == "answers":
                    applied = member.mapping.applied
                    if applied is None or (release.first, release.subject) != (
                        applied.phase,
                        applied.item,
                    ):
                        continue  # no programme figure touches it
                    people = self._course_members(member, release) & self._answered(index)
                    self._add_answers(index, (course_id, release), people, shown)
                    continue
                subject: Subject = (
                    ("total",) if release.subject == TOTAL else ("skill", release.subject)
                )
                members = self._course_members(member, release)
                self._add_scores(index, (course_id, release), subject, members, shown)

    def register_programme(self, releases: Iterable[Release]) -> None:
        for release in releases:
            if release.table == "answers":
                people = self._programme_members(release)
                for index, member in enumerate(self.pc.members):
                    local = people[member.start : member.stop] & self._answered(index)
                    self._add_answers(index, (PROGRAMME, release), local, None)
                continue
            self._add_programme_scores(release)

    # -- checking -----------------------------------------------------------------------
    def prepare(self) -> None:
        if self._prepared:
            return
        # Families that no programme release touches were proven with their course.
        for name in [n for n, f in self.families.items() if not f.programme]:
            del self.families[name]
        for family in self.families.values():
            self._add_candidates(family)
            family.prepare()
        self._prepared = True

    def check(self, published: set[Release]) -> tuple[CombinedVerification, list[Finding]]:
        self.prepare()
        findings: list[Finding] = []
        targets = course_level = 0
        for family in self.families.values():
            found, counted, level = family.check(family.shown(published), self.k)
            findings.extend(found)
            targets += counted
            course_level += level
        return (
            CombinedVerification(
                verified=not findings,
                families=len(self.families),
                targets=targets,
                course_level=course_level,
                findings=[f"{f.family}: {f.target}" for f in findings[:20]],
            ),
            findings,
        )

    def course_derivable(self) -> set[Release]:
        """Programme releases that the course reports alone give whole: publishing them
        tells nothing new, so withholding them protects nothing."""
        self.prepare()
        verdict: dict[Release, bool] = {}
        for family in self.families.values():
            for release, alone in family.derivable().items():
                verdict[release] = verdict.get(release, True) and alone
        return {release for release, alone in verdict.items() if alone}

    def resolve(
        self,
        published: set[Release],
        findings: Sequence[Finding],
        preference: Callable[[Release], tuple],
    ) -> list[Release]:
        """Published programme releases to withhold so that each finding loses a route."""
        chosen: dict[Release, None] = {}
        per_family: dict[str, int] = {}
        for finding in findings:
            # a few per family and round: the next round verifies again anyway
            per_family[finding.family] = per_family.get(finding.family, 0) + 1
            if per_family[finding.family] > ROUTES_PER_FAMILY:
                continue
            family = self.families[finding.family]
            route = family.route(family.shown(published), finding.vector)
            if route and not any(release in chosen for release in route):
                chosen[min(route, key=preference)] = None
        return list(chosen)

    # -- people ---------------------------------------------------------------------------
    def _course_members(self, member: Member, release: Release) -> np.ndarray:
        size = member.cohort.size
        if release.breakdown == ALL:
            return np.ones(size, dtype=bool)
        groups = member.design.breakdown(release.breakdown).groups
        return member.cohort.groups[release.breakdown] == groups.index(release.group)

    def _programme_members(self, release: Release) -> np.ndarray:
        size = self.pc.cohort.size
        if release.breakdown == ALL:
            return np.ones(size, dtype=bool)
        groups = self.pc.design.breakdown(release.breakdown).groups
        return self.pc.cohort.groups[release.breakdown] == groups.index(release.group)

    def _answered(self, index: int) -> np.ndarray:
        return self._answer_cells_of(index)[1]

    def _answer_cells_of(self, index: int) -> tuple[_Cells, np.ndarray, np.ndarray]:
        found = self._answer_cells.get(index)
        if found is None:
            member = self.pc.members[index]
            applied = member.mapping.applied
            answers = (
                member.cohort.answers.get(applied.phase) if applied is not None else None
            ) or [None] * member.cohort.size
            item = applied.item if applied is not None else ""
            answered = np.array(
                [a is not None and a.get(item) is not None for a in answers], dtype=bool
            ).reshape(-1)
            parts = [member.cohort.groups[b.id][:, None] for b in member.design.breakdowns]
            key = np.hstack([*parts, answered[:, None]]).astype(float)
            cells = _Cells.from_key(key)
            found = self._answer_cells[index] = (cells, answered, key)
        return found

    def _cells_of(self, index: int, measure: str) -> _Cells:
        found = self._cells.get((index, measure))
        if found is None:
            member = self.pc.members[index]
            cohort, design = member.cohort, member.design
            parts = [cohort.groups[b.id][:, None] for b in design.breakdowns]
            for phase in design.phases:
                parts.append(cohort.submitted[phase][:, None])
                if (measure, phase) in cohort.scores:
                    parts.append(~np.isnan(cohort.scores[(measure, phase)]))
                    parts.append(np.round(cohort.weights[(measure, phase)], 12))
            key = np.hstack([p.astype(float) for p in parts])
            found = self._cells[(index, measure)] = _Cells.from_key(key)
        return found

    # -- vectors ---------------------------------------------------------------------------
    def _w(
        self, index: int, measure: str, phase: str, subject: Subject
    ) -> tuple[np.ndarray, np.ndarray]:
        """`_weights` of a subject on the representatives of a course's cells (cached)."""
        key = (index, measure, phase, subject)
        found = self._weight_cache.get(key)
        if found is None:
            reps = self._cells_of(index, measure).representative
            found = _weights(self.pc.members[index], measure, phase, subject, reps)
            self._weight_cache[key] = found
        return found

    def _family(self, name: str) -> _Family:
        return self.families.setdefault(name, _Family(name))

    def _add_scores(
        self, index: int, key: Key, subject: Subject, people: np.ndarray, shown: bool
    ) -> None:
        release = key[1]
        member = self.pc.members[index]
        measure = release.measure
        phases = (release.first, release.second) if release.table == "paired" else (release.first,)
        cells = self._cells_of(index, measure)
        reps = cells.representative
        present = [self._w(index, measure, phase, subject) for phase in phases]
        if release.table == "paired":
            on = people[reps] & present[0][1] & present[1][1]
        else:
            has_later = self._w(index, measure, release.second, subject)[1]
            on = people[reps] & present[0][1] & ~has_later
        if not on.any():
            return
        vectors = self._score_vectors(index, measure, phases, present, on, cells)
        label = f"{key[1].label()} ({key[0]})"
        for name, vector in vectors:
            family = self._family(name)
            _size_block(family.block(index), name, cells.count, len(member.design.skills) - 1)
            if shown:
                family.block(index).course_rows.append(vector)
            else:
                family.course_withheld.append((f"withheld {label}", index, vector))

    def _score_vectors(
        self,
        index: int,
        measure: str,
        phases: tuple[str, ...],
        present: list[tuple[np.ndarray, np.ndarray]],
        on: np.ndarray,
        cells: _Cells,
    ) -> list[tuple[str, _Sparse]]:
        """The release's vectors in the L, Q (and, paired, X and C) families."""
        ids = np.flatnonzero(on)
        skills = present[0][0].shape[1]
        out: list[tuple[str, _Sparse]] = []
        for phase, (weights, _) in zip(phases, present, strict=True):
            w = weights[ids]
            out.append((f"L {measure} {phase}", _dense_rows(ids, w, skills)))
            pairs = skills * (skills + 1) // 2
            out.append(
                (
                    f"Q {measure} {phase}",
                    _dense_rows(ids, _square_coefficients(w), pairs),
                )
            )
            if len(phases) == 1:
                return out
        first, second = present[0][0][ids], present[1][0][ids]
        comparison = f"{phases[0]}->{phases[1]}"
        out.append(
            (
                f"X {measure} {comparison}",
                _dense_rows(ids, _product_coefficients(first, second), skills * skills),
            )
        )
        family = self._family(f"C {measure} {comparison}")
        block = family.block(index)
        columns = np.array(
            [
                block.column((int(i), _function_key(a, b)))
                for i, a, b in zip(ids, first, second, strict=True)
            ],
            dtype=np.intp,
        )
        out.append((f"C {measure} {comparison}", _Sparse(columns, np.ones(columns.size))))
        return out

    def _add_programme_scores(self, release: Release) -> None:
        people = self._programme_members(release)
        subject: Subject = ("framework", release.subject)
        per_block: dict[str, dict[int, _Sparse]] = {}
        for index, member in enumerate(self.pc.members):
            measure = release.measure
            if (measure, release.first) not in member.cohort.scores:
                continue
            if (measure, release.second) not in member.cohort.scores:
                continue
            cells = self._cells_of(index, measure)
            reps = cells.representative
            local = people[member.start : member.stop]
            phases = (release.first, release.second)
            present = [self._w(index, measure, phase, subject) for phase in phases]
            on = local[reps] & present[0][1] & present[1][1]
            if not on.any():
                continue
            skills = len(member.design.skills) - 1
            for name, vector in self._score_vectors(index, measure, phases, present, on, cells):
                _size_block(self._family(name).block(index), name, cells.count, skills)
                per_block.setdefault(name, {})[index] = vector
            if measure == "knowledge" and release.subject == TOTAL and self._pass_courses[index]:
                course_total = [self._w(index, measure, phase, ("total",)) for phase in phases]
                on_pass = local[reps] & course_total[0][1] & course_total[1][1] & on
                if on_pass.any():
                    name = f"C {measure} {phases[0]}->{phases[1]}"
                    block = self._family(name).block(index)
                    ids = np.flatnonzero(on_pass)
                    columns = np.array(
                        [
                            block.column((int(i), _function_key(a, b)))
                            for i, a, b in zip(
                                ids, course_total[0][0][ids], course_total[1][0][ids], strict=True
                            )
                        ],
                        dtype=np.intp,
                    )
                    per_block.setdefault(f"{name} pass", {})[index] = _Sparse(
                        columns, np.ones(columns.size)
                    )
        for name, parts in per_block.items():
            family = self._family(name.removesuffix(" pass"))
            family.programme.append((release, parts))

    def _add_answers(self, index: int, key: Key, people: np.ndarray, shown: bool | None) -> None:
        cells, answered, _ = self._answer_cells_of(index)
        on = (people & answered)[cells.representative]
        if not on.any():
            return
        family = self._family("R applied")
        block = family.block(index)
        ids = np.flatnonzero(on)
        vector = _Sparse(
            np.array([block.column((int(i),)) for i in ids], dtype=np.intp), np.ones(ids.size)
        )
        if shown is None:
            family.programme.append((key[1], {index: vector}))
        elif shown:
            block.course_rows.append(vector)
        else:
            family.course_withheld.append((f"withheld {key[1].label()} ({key[0]})", index, vector))

    # -- small cells ----------------------------------------------------------------------
    def _add_candidates(self, family: _Family) -> None:
        kind, rest = family.name.split(" ", 1)
        if kind == "R":
            for index in family.blocks:
                cells, answered, _ = self._answer_cells_of(index)
                block = family.blocks[index]
                for cell in np.flatnonzero(answered[cells.representative] & (cells.size < self.k)):
                    column = block.keys.get((int(cell),))
                    if column is None:
                        continue
                    family.candidates.append(
                        _Candidate(
                            f"a cell of {int(cells.size[cell])} people (applied item, "
                            f"{self.pc.members[index].course.id})",
                            ("applied",),
                            int(cells.size[cell]),
                            index,
                            _Sparse(np.array([column]), np.ones(1)),
                        )
                    )
            return
        measure, where = rest.split(" ", 1)
        phases = tuple(where.split("->"))
        for index, member in enumerate(self.pc.members):
            if index not in family.blocks:
                continue
            if any((measure, phase) not in member.cohort.scores for phase in phases):
                continue
            cells = self._cells_of(index, measure)
            small = cells.size < self.k
            if not small.any():
                continue
            subjects: list[tuple[Subject, tuple]] = [
                (("skill", s), (member.course.id, s)) for s in member.design.skills[:-1]
            ]
            subjects.append((("total",), (member.course.id, TOTAL)))
            subjects += [(("framework", f), ("framework", f)) for f in self.pc.design.skills]
            block = family.blocks[index]
            skills = len(member.design.skills) - 1
            for subject, group in subjects:
                present = [self._w(index, measure, phase, subject) for phase in phases]
                on = small.copy()
                for _, has in present:
                    on &= has
                for cell in np.flatnonzero(on):
                    vector = self._candidate_vector(kind, block, int(cell), present, skills)
                    if vector is None:
                        continue
                    family.candidates.append(
                        _Candidate(
                            f"a cell of {int(cells.size[cell])} people ({'/'.join(group)},"
                            f" {member.course.id})",
                            group,
                            int(cells.size[cell]),
                            index,
                            vector,
                        )
                    )

    @staticmethod
    def _candidate_vector(
        kind: str,
        block: _Block,
        cell: int,
        present: list[tuple[np.ndarray, np.ndarray]],
        skills: int,
    ) -> _Sparse | None:
        w = present[0][0][cell : cell + 1]
        if kind == "L":
            return _dense_rows(np.array([cell]), w, skills)
        if kind == "Q":
            return _dense_rows(
                np.array([cell]), _square_coefficients(w), skills * (skills + 1) // 2
            )
        second = present[1][0][cell : cell + 1]
        if kind == "X":
            return _dense_rows(np.array([cell]), _product_coefficients(w, second), skills * skills)
        column = block.keys.get((int(cell), _function_key(w[0], second[0])))
        if column is None:
            return None  # no row holds this function of this cell
        return _Sparse(np.array([column]), np.ones(1))


def _dense_rows(ids: np.ndarray, values: np.ndarray, slots: int) -> _Sparse:
    """Per cell id its `slots` coefficients, as one sparse vector (column = cell*slots + slot)."""
    columns = (ids[:, None] * slots + np.arange(slots)[None, :]).reshape(-1)
    flat = values.reshape(-1)
    keep = flat != 0
    return _Sparse(columns[keep], flat[keep])


def _size_block(block: _Block, name: str, cells: int, skills: int) -> None:
    """Fixed-width families: cells x slots (C and R allocate their columns as they go)."""
    slots = {"L": skills, "Q": skills * (skills + 1) // 2, "X": skills * skills}.get(name[0])
    if slots is not None:
        block.columns = cells * slots


def _function_key(first: np.ndarray, second: np.ndarray) -> bytes:
    """Which score function a cell's per-pair figures are of: its two weight vectors."""
    return np.round(first, 9).tobytes() + np.round(second, 9).tobytes()
