"""The programme's planner: what the programme report withholds, course reports fixed.

The course reports are published facts: their published and withheld figures never
change. With k the programme's min_cell_size (at least every course's), for every
programme release:

1. **Small groups**: a release over 1..k-1 people is withheld (``small_group``).
2. **Complementary suppression** within each programme block (a breakdown's groups
   add up to the pooled row, plus people outside every group), exactly as a course
   report's planner does (`plan._complete_block`); the course rows of the programme
   (breakdown ``course``) are a block too.
3. **Verification across reports** (`combined.CombinedVerifier`): the programme's
   published figures *with every course report's* must determine no withheld figure
   of either, and no set of one or two cells of fewer than k people. Each round cuts
   one route of each finding at a programme figure -- group rows first, then course
   rows, then the applied indicator, then pooled rows; the fewest people first --
   completes its block again and verifies again. (Unlike a course report's planner,
   it does not withhold a figure for every skill at once: framework skills combine
   course skills, and withholding them all would cascade.) Course figures are never
   candidates. If nothing left to withhold helps, the programme publishes no figure.
4. **Nothing withheld for nothing**: a programme figure that the course reports give
   whole (the sum of published course rows, e.g. a course's own row) protects nobody
   when withheld, so it is published again, and the plan verified once more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from evalsvc.domain.design import ALL
from evalsvc.domain.disclosure.combined import (
    METHOD,
    CombinedVerification,
    CombinedVerifier,
)
from evalsvc.domain.disclosure.plan import (
    MAX_ROUNDS,
    Audit,
    Plan,
    Reason,
    _blocks,
    _complete_block,
)
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.disclosure.verify import Verifier
from evalsvc.domain.programme import COURSE
from evalsvc.domain.programme_cohort import ProgrammeCohort


class ProgrammeAudit(Audit, frozen=True, kw_only=True):
    course_releases: int
    """Figures of the course reports taken as published (their decisions fixed)."""
    course_level: int
    """Targets that the course reports alone determine (not the programme's doing)."""


@dataclass(frozen=True)
class ProgrammePlan:
    counts: Mapping[Release, int]
    withheld: Mapping[Release, Reason]
    audit: ProgrammeAudit
    verifier: CombinedVerifier

    def reason(self, release: Release) -> Reason | None:
        return self.withheld.get(release)

    def as_plan(self, pc: ProgrammeCohort) -> Plan:
        """The core's `Plan` view, for `summary.summary_rows` (which asks `reason`)."""
        return Plan(
            counts=self.counts,
            withheld=self.withheld,
            audit=self.audit,
            verifier=Verifier(pc.design, pc.cohort, self.audit.min_cell_size),
        )


def plan_programme(
    pc: ProgrammeCohort,
    course_releases: Mapping[str, tuple[list[Release], list[Release]]],
    counts: Mapping[Release, int],
    min_cell_size: int,
) -> ProgrammePlan:
    """Decide which programme releases are withheld (see the module docstring).

    `course_releases` holds, per course id, its report's (published, withheld) releases.
    """
    k = min_cell_size
    withheld: dict[Release, Reason] = {r: "small_group" for r, n in counts.items() if 0 < n < k}
    blocks = _blocks(counts)
    for members in blocks.values():
        _complete_block(members, counts, withheld, k)
    verifier = CombinedVerifier(pc, k)
    for course_id, (shown, hidden) in course_releases.items():
        verifier.register_course(course_id, shown, hidden)
    verifier.register_programme(r for r, n in counts.items() if n > 0)
    rounds = 0
    while True:
        rounds += 1
        published = {r for r, n in counts.items() if n > 0 and r not in withheld}
        result, findings = verifier.check(published)
        if result.verified or rounds >= MAX_ROUNDS:
            break
        added = verifier.resolve(published, findings, lambda r: _preference(r, counts))
        if not added:
            break
        for release in added:
            withheld.setdefault(release, "complementary")
            if release.breakdown != ALL and release._replace(group="") in blocks:
                _complete_block(blocks[release._replace(group="")], counts, withheld, k)
    if result.verified:
        # Rows the course reports give whole protect nothing when withheld (their
        # figures are the sums of published course rows): publish them again.
        given = verifier.course_derivable()
        for release in [r for r, why in withheld.items() if why == "complementary"]:
            if release in given:
                del withheld[release]
        published = {r for r, n in counts.items() if n > 0 and r not in withheld}
        result, _ = verifier.check(published)
    if not result.verified:
        for release, n in counts.items():
            if n > 0:
                withheld.setdefault(release, "complementary")
    return ProgrammePlan(
        counts=dict(counts),
        withheld=withheld,
        audit=_audit(counts, withheld, result, rounds, k, course_releases),
        verifier=verifier,
    )


def check_programme_published(
    plan: ProgrammePlan, published: Iterable[Release]
) -> CombinedVerification:
    """Verify what the finished programme report publishes, read back from its rows."""
    published = set(published)
    unplanned = [r for r in published if r not in plan.counts]
    if unplanned:
        return CombinedVerification(
            verified=False,
            families=0,
            targets=0,
            course_level=0,
            findings=[f"published without a plan: {r.label()}" for r in unplanned[:20]],
        )
    return plan.verifier.check(published)[0]


def audit_of(
    plan: ProgrammePlan, result: CombinedVerification, published: int, withheld: int
) -> ProgrammeAudit:
    return msgspec.structs.replace(
        plan.audit,
        verified=result.verified,
        findings=result.findings,
        published=published,
        withheld=withheld,
        course_level=result.course_level,
    )


def _audit(
    counts: Mapping[Release, int],
    withheld: Mapping[Release, Reason],
    result: CombinedVerification,
    rounds: int,
    k: int,
    course_releases: Mapping[str, tuple[list[Release], list[Release]]],
) -> ProgrammeAudit:
    reasons = [reason for release, reason in withheld.items() if counts.get(release, 0) > 0]
    return ProgrammeAudit(
        verified=result.verified,
        published=sum(1 for r, n in counts.items() if n > 0 and r not in withheld),
        withheld=len(reasons),
        withheld_small_group=reasons.count("small_group"),
        withheld_complementary=reasons.count("complementary"),
        rounds=rounds,
        method=METHOD,
        min_cell_size=k,
        findings=result.findings,
        course_releases=sum(len(a) + len(b) for a, b in course_releases.values()),
        course_level=result.course_level,
    )


def _preference(candidate: Release, counts: Mapping[Release, int]) -> tuple[int, int, str]:
    """Smaller is withheld first: group rows, then course rows, then the applied
    indicator, then the pooled rows; then the fewest people."""
    if candidate.breakdown == COURSE:
        rank = 1
    elif candidate.breakdown != ALL:
        rank = 0
    elif candidate.table == "answers":
        rank = 2
    else:
        rank = 3
    return (rank, counts.get(candidate, 0), candidate.label())
