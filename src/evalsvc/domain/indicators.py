"""Donor indicators: logframe shares with a Wilson interval, against baseline and target.

Each `Indicator` of the programme file is a share of the programme's participants
(see `programme.Indicator` for the kinds), computed from what the programme cohort
already holds:

* ``gain_at_least`` -- people paired in the comparison on the measure's programme
  total; success: the gain (to - from, rounded as every gain) is at least the
  threshold (for a measure where lower is better: the fall);
* ``pass_mark`` -- people paired in the comparison on the knowledge total, of courses
  with a pass mark; success: their course total at the later phase is at or above
  their course's pass mark;
* ``applied`` -- people who answered their course's applied item; success: one of
  the options that mean yes;
* ``group_share`` -- people of the courses that record the breakdown who stated it;
  success: in the group.

**Status** compares the 95% Wilson interval with the target: ``met`` when the whole
interval is at or beyond it, ``not_met`` when the whole interval falls short,
``uncertain`` when it contains the target; ``no_data`` when there is no value
(nobody, or withheld), ``no_target`` when the programme set none.

Disclosure: the first two are figures over the people of the pooled total row of
their comparison (and so published or withheld with it, whose release carries their
per-pair counts); ``applied`` is a release of its own, verified with the courses'
answers to the same items; ``group_share`` is a count of people by a breakdown whose
group counts every course report already publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Literal

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.cohort import UNKNOWN_GROUP
from evalsvc.domain.columns import KEY, PEOPLE, SHARE, TEXT, column
from evalsvc.domain.design import ALL
from evalsvc.domain.disclosure.plan import Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations
from evalsvc.domain.programme import Indicator
from evalsvc.domain.programme_cohort import ProgrammeCohort
from evalsvc.domain.questionnaire import NOT_STATED
from evalsvc.domain.scoring import TOTAL

Status = Literal["met", "not_met", "uncertain", "no_data", "no_target"]
APPLIED_RELEASE = Release("answers", "", "applied", "", "applied", ALL, ALL)
"""The applied indicator's release: the programme's pooled answers to the applied items."""


class IndicatorRow(msgspec.Struct, kw_only=True, frozen=True):
    indicator: Annotated[str, column("the indicator's id in the programme file", KEY)]
    kind: Annotated[
        str, column("gain_at_least, pass_mark, applied or group_share (see the methods)", TEXT)
    ]
    title: Annotated[str, column("the indicator as the logframe states it", TEXT)]
    definition: Annotated[str, column("exactly what is counted, in English", TEXT)]
    n: Annotated[int, column("people the share is taken over (the denominator)", PEOPLE)]
    count: Annotated[int | None, column("people counted as a success (the numerator)", PEOPLE)] = (
        None
    )
    value: Annotated[float | None, column("count / n", SHARE)] = None
    ci_low: Annotated[float | None, column("lower end of the 95% Wilson interval", SHARE)] = None
    ci_high: Annotated[float | None, column("upper end of the 95% Wilson interval", SHARE)] = None
    baseline: Annotated[float | None, column("the logframe's baseline", SHARE)] = None
    target: Annotated[float | None, column("the logframe's target", SHARE)] = None
    change_from_baseline: Annotated[float | None, column("value minus baseline", SHARE)] = None
    direction: Annotated[
        str, column("increase: the target is reached from below; decrease: from above", TEXT)
    ] = "increase"
    status: Annotated[
        Status,
        column(
            "met: the whole 95% interval reaches the target; not_met: none of it does; "
            "uncertain: it contains the target; no_data; no_target",
            TEXT,
        ),
    ] = "no_data"
    withheld: Annotated[
        dict[str, Reason], column("withheld figures and why: small_group or complementary", TEXT)
    ] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


def indicator_rows(
    pc: ProgrammeCohort,
    populations: Populations,
    reason: Callable[[Release], Reason | None],
    titles: Mapping[str, str],
) -> list[IndicatorRow]:
    """Every indicator of the programme, in file order. `reason` says why a programme
    release is withheld (None: published); `titles` are the titles in the report's
    language."""
    out = []
    for indicator in pc.programme.indicators:
        counted = _count(pc, populations, indicator)
        release = _release(pc, indicator)
        why = reason(release) if release is not None and counted.n else None
        out.append(_row(indicator, titles.get(indicator.id, indicator.id), counted, why))
    return out


class _Counted(msgspec.Struct, frozen=True):
    n: int
    count: int
    definition: str
    notes: list[str]


def _release(pc: ProgrammeCohort, indicator: Indicator) -> Release | None:
    """The release an indicator is published with (None: counts of people only)."""
    if indicator.kind in ("gain_at_least", "pass_mark"):
        comparison = next((c for c in pc.design.comparisons if c.id == indicator.comparison), None)
        if comparison is None:
            return None
        measure = "knowledge" if indicator.kind == "pass_mark" else indicator.measure
        return Release(
            "paired", measure, comparison.from_phase, comparison.to_phase, TOTAL, ALL, ALL
        )
    if indicator.kind == "applied":
        return APPLIED_RELEASE
    return None


def _count(pc: ProgrammeCohort, populations: Populations, indicator: Indicator) -> _Counted:
    if indicator.kind in ("gain_at_least", "pass_mark"):
        comparison = next((c for c in pc.design.comparisons if c.id == indicator.comparison), None)
        if comparison is None:
            return _Counted(0, 0, "", ["no member course has this comparison"])
        first, second = comparison.from_phase, comparison.to_phase
        if indicator.kind == "gain_at_least":
            return _gain(pc, populations, indicator, first, second)
        return _pass(pc, populations, first, second)
    if indicator.kind == "applied":
        return _applied(pc)
    return _group_share(pc, indicator)


def _gain(
    pc: ProgrammeCohort, populations: Populations, indicator: Indicator, first: str, second: str
) -> _Counted:
    measure = next((m for m in pc.design.measures if m.id == indicator.measure), None)
    if measure is None:
        return _Counted(0, 0, "", [f"no member course has the measure {indicator.measure}"])
    before = populations.scores(measure.id, first, TOTAL)
    after = populations.scores(measure.id, second, TOTAL)
    paired = ~np.isnan(before) & ~np.isnan(after)
    gains = np.round(after[paired] - before[paired], stats.DECIMALS)
    threshold = float(indicator.threshold or 0.0)
    rose = gains >= threshold if measure.higher_is_better else gains <= -threshold
    verb = "rose" if measure.higher_is_better else "fell"
    definition = (
        f"people paired in {first}->{second} on the programme's {measure.id} total (over the "
        f"framework skills); counted when their score {verb} by at least {threshold:g} "
        f"{measure.gain_unit}"
    )
    return _Counted(int(paired.sum()), int(rose.sum()), definition, [])


def _pass(pc: ProgrammeCohort, populations: Populations, first: str, second: str) -> _Counted:
    before = populations.scores("knowledge", first, TOTAL)
    after = populations.scores("knowledge", second, TOTAL)
    people = ~np.isnan(before) & ~np.isnan(after) & ~np.isnan(pc.pass_marks)
    own_before = pc.course_totals[("knowledge", first)]
    own_after = pc.course_totals[("knowledge", second)]
    people &= ~np.isnan(own_before) & ~np.isnan(own_after)
    passed = np.round(own_after[people], stats.DECIMALS) >= pc.pass_marks[people]
    without = [m.course.id for m in pc.members if m.course.pass_mark is None]
    notes = [f"left out, no pass mark: {', '.join(without)}"] if without else []
    definition = (
        f"people paired in {first}->{second} on the knowledge total, of courses with a pass "
        f"mark; counted when their course's own knowledge total at {second} is at or above "
        "its pass mark"
    )
    return _Counted(int(people.sum()), int(passed.sum()), definition, notes)


def _applied(pc: ProgrammeCohort) -> _Counted:
    n = count = 0
    items = []
    for member in pc.members:
        applied = member.mapping.applied
        if applied is None:
            continue
        items.append(
            f"{member.course.id}: {applied.item} in {applied.phase} = {'|'.join(applied.options)}"
        )
        for answers in member.cohort.answers.get(applied.phase) or []:
            answer = answers.get(applied.item) if answers is not None else None
            if answer is None:
                continue
            n += 1
            count += int(answer in applied.options)
    definition = (
        "people who answered their course's applied item; counted when they chose an option "
        "meaning yes (" + "; ".join(items) + ")"
    )
    return _Counted(n, count, definition, [])


def _group_share(pc: ProgrammeCohort, indicator: Indicator) -> _Counted:
    breakdown = indicator.breakdown or ""
    groups = pc.design.breakdown(breakdown).groups
    codes = pc.cohort.groups[breakdown]
    stated = (codes != UNKNOWN_GROUP) & (codes != groups.index(NOT_STATED))
    in_group = codes == groups.index(indicator.group or "")
    unstated = int(np.count_nonzero((codes != UNKNOWN_GROUP) & ~stated))
    definition = (
        f"people of the courses that record {breakdown} who stated it; counted when in "
        f"{indicator.group}"
    )
    notes = [f"{unstated} did not state their {breakdown}"] if unstated else []
    return _Counted(int(stated.sum()), int((in_group & stated).sum()), definition, notes)


def _row(
    indicator: Indicator, title: str, counted: _Counted, reason: Reason | None
) -> IndicatorRow:
    baseline = _share(indicator.baseline_percent)
    target = _share(indicator.target_percent)
    base = {
        "indicator": indicator.id,
        "kind": indicator.kind,
        "title": title,
        "definition": counted.definition,
        "n": counted.n,
        "baseline": baseline,
        "target": target,
        "direction": indicator.direction,
        "notes": counted.notes,
    }
    if counted.n == 0:
        return IndicatorRow(**base, status="no_data")  # type: ignore[arg-type]
    if reason is not None:
        return IndicatorRow(
            **base,  # type: ignore[arg-type]
            status="no_data",
            withheld=dict.fromkeys(("count", "value", "ci_low", "ci_high"), reason),
        )
    value = counted.count / counted.n
    interval = stats.wilson_interval(counted.count, counted.n)
    assert interval is not None
    return IndicatorRow(
        **base,  # type: ignore[arg-type]
        count=counted.count,
        value=value,
        ci_low=interval[0],
        ci_high=interval[1],
        change_from_baseline=None if baseline is None else value - baseline,
        status=_status(interval, target, indicator.direction),
    )


def _share(percent: float | None) -> float | None:
    return None if percent is None else percent / 100.0


def _status(interval: tuple[float, float], target: float | None, direction: str) -> Status:
    if target is None:
        return "no_target"
    low, high = interval
    if direction == "decrease":
        low, high, target = -high, -low, -target
    if low >= target:
        return "met"
    if high < target:
        return "not_met"
    return "uncertain"
