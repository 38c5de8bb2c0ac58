"""The planner: which figures of a whole course report are withheld, and why.

With k = ``course.min_cell_size``, for every release of the report (see `releases`):

1. **Small groups.** A release over 1..k-1 people is withheld (reason
   ``small_group``). Over nobody, there is nothing to publish or protect. Counts of
   people are always published: suppression protects scores and answers, not
   headcounts.
2. **Complementary suppression.** A block is a table's rows for one breakdown (one
   measure, comparison or phase, skill or item, part): its groups add up to the "all"
   row, plus people outside every group (an agency not in the course). The withheld
   groups of a block, with those outsiders, must hold nobody or at least k people;
   while they hold 1..k-1, the shown group with the fewest people is withheld too
   (reason ``complementary``; ties go to the group listed first).
   A withheld group must not be alone in its block either (it would be "all" minus the
   shown groups), so one more is withheld with it.
3. **Verification.** The verifier (`verify`) then looks for anything else that can be
   worked out: a withheld figure, or the figures of fewer than k people, from any
   combination of published figures, across tables, breakdowns, phases and skills.
   Each round cuts one route of each finding (a few published figures that together
   give its target) at the figure that matters least: group rows before "all" rows,
   attrition and response summaries before paired results, then the fewest people.
   Each is withheld for every skill of its measure and comparison; their blocks are
   completed as in 2., and the plan is verified again, until nothing is found. A
   report is never published from an unverified plan: if nothing left to withhold
   helps, no figure is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from evalsvc.domain.cohort import Cohort
from evalsvc.domain.design import ALL, Design
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.disclosure.verify import METHOD, Verification, Verifier

Reason = Literal["small_group", "complementary"]


class Audit(msgspec.Struct, frozen=True, kw_only=True):
    """What the disclosure control did, for the methods section and /disclosure."""

    verified: bool
    published: int
    """Releases (sets of figures over one group of people) published."""
    withheld: int
    """Releases withheld: for small groups and complementary suppression."""
    withheld_small_group: int
    withheld_complementary: int
    rounds: int
    """Verification rounds the plan needed."""
    method: str
    min_cell_size: int
    findings: list[str]
    """What the last verification found (empty when verified)."""


@dataclass(frozen=True)
class Plan:
    counts: Mapping[Release, int]
    """Every release with the number of people it is computed over."""
    withheld: Mapping[Release, Reason]
    audit: Audit
    verifier: Verifier
    """The verifier the plan was proven with; it re-checks the finished report."""

    def reason(self, release: Release) -> Reason | None:
        return self.withheld.get(release)

    def published(self, release: Release) -> bool:
        return release not in self.withheld and self.counts.get(release, 0) > 0


MAX_ROUNDS = 200


def plan_disclosure(
    design: Design,
    cohort: Cohort,
    counts: Mapping[Release, int],
    min_cell_size: int,
) -> Plan:
    """Decide, for the whole report at once, which releases are withheld."""
    k = min_cell_size
    withheld: dict[Release, Reason] = {
        release: "small_group" for release, n in counts.items() if 0 < n < k
    }
    blocks = _blocks(counts)
    subjects = _by_subject(counts)
    for members in blocks.values():
        _complete_block(members, counts, withheld, k)
    verifier = Verifier(design, cohort, k)
    verifier.register(r for r, n in counts.items() if n > 0)
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
        for release in _with_all_subjects(added, subjects):
            withheld.setdefault(release, "complementary")
        for release in added:
            if release.breakdown != ALL:
                for subject_release in _with_all_subjects([release], subjects):
                    _complete_block(blocks[_block_key(subject_release)], counts, withheld, k)
    if not result.verified:
        # Nothing left to withhold would help: publish no figure at all.
        for release, n in counts.items():
            if n > 0:
                withheld.setdefault(release, "complementary")
    reasons = [reason for release, reason in withheld.items() if counts.get(release, 0) > 0]
    audit = Audit(
        verified=result.verified,
        published=sum(1 for r, n in counts.items() if n > 0 and r not in withheld),
        withheld=len(reasons),
        withheld_small_group=reasons.count("small_group"),
        withheld_complementary=reasons.count("complementary"),
        rounds=rounds,
        method=METHOD,
        min_cell_size=k,
        findings=result.findings,
    )
    return Plan(counts=dict(counts), withheld=withheld, audit=audit, verifier=verifier)


def check_published(plan: Plan, published: Iterable[Release]) -> Verification:
    """Verify what a finished report publishes, with the plan's verifier.

    The releases come from the report's rows, read back by the caller; whatever the
    rows publish beyond the plan is checked like everything else.
    """
    published = list(published)
    plan.verifier.register(r for r in published if r not in plan.counts)
    return plan.verifier.check(set(published))[0]


def _blocks(counts: Mapping[Release, int]) -> dict[Release, list[Release]]:
    """Releases grouped by block, each list led by the block's "all" release."""
    blocks: dict[Release, list[Release]] = {}
    for release in counts:
        if release.breakdown == ALL:
            continue
        total = release._replace(breakdown=ALL, group=ALL)
        blocks.setdefault(_block_key(release), [total]).append(release)
    return blocks


def _block_key(release: Release) -> Release:
    return release._replace(group="")


def _complete_block(
    members: Sequence[Release],
    counts: Mapping[Release, int],
    withheld: dict[Release, Reason],
    k: int,
) -> None:
    """Withhold the smallest shown groups until the block's hidden part is safe.

    Hidden: the withheld groups and the people outside every group. The hidden
    people must be none or at least k, and not one withheld group alone (which
    would be "all" minus the shown groups).
    """
    total_release, groups = members[0], members[1:]
    total = counts.get(total_release, 0)
    if total_release in withheld or total == 0:
        return
    shown = [g for g in groups if g not in withheld and counts.get(g, 0) > 0]
    hidden_groups = [g for g in groups if g in withheld and counts.get(g, 0) > 0]
    hidden_people = total - sum(counts[g] for g in shown)
    outsiders = hidden_people - sum(counts[g] for g in hidden_groups)
    while shown and (0 < hidden_people < k or (len(hidden_groups) == 1 and outsiders == 0)):
        smallest = min(shown, key=lambda g: counts[g])  # first listed wins ties
        withheld[smallest] = "complementary"
        shown.remove(smallest)
        hidden_groups.append(smallest)
        hidden_people += counts[smallest]


def _by_subject(counts: Mapping[Release, int]) -> dict[Release, list[Release]]:
    """Score releases grouped by everything but their skill."""
    out: dict[Release, list[Release]] = {}
    for release in counts:
        if release.table != "answers":
            out.setdefault(release._replace(subject=""), []).append(release)
    return out


def _with_all_subjects(
    releases: Iterable[Release], subjects: Mapping[Release, list[Release]]
) -> list[Release]:
    """The releases with their siblings for every other skill (and the total).

    A group whose figures must go for one skill goes for all skills of that measure
    and comparison: the findings of one skill almost always recur in the others, and
    readers see a group shown or withheld as a whole.
    """
    releases = list(releases)
    out = list(releases)
    for release in releases:
        out.extend(subjects.get(release._replace(subject=""), ()))
    return out


def _preference(candidate: Release, counts: Mapping[Release, int]) -> tuple[int, int, int, str]:
    """Smaller is withheld first: attrition and response summaries before the paired
    results, a group before an "all" row, then the fewest people."""
    return (
        int(candidate.breakdown == ALL),
        int(candidate.table == "paired"),
        counts.get(candidate, 0),
        candidate.label(),
    )
