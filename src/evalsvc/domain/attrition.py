"""Who answered which phases, and whether those who came back differed from those who did not.

* `phase_count_rows` -- per breakdown group, how many answered each phase (kind
  ``phase``) and each combination of phases exactly (kind ``exactly``). Counts of
  people are published as the summary publishes them.
* `attrition_rows` -- per measure, later phase, group and skill: the baseline (first
  phase) scores of the people who also have a score in the later phase against those
  who do not, with Welch's t test of the difference. This is the check for drop-out bias: if those
  who left had started lower, the paired gains describe a selected group.
"""

from __future__ import annotations

from itertools import combinations
from typing import Annotated

import msgspec
import numpy as np

from evalsvc.domain import stats
from evalsvc.domain.columns import DF, GAIN, KEY, MEASURE, PEOPLE, STATISTIC, TEXT, P, column
from evalsvc.domain.design import Design
from evalsvc.domain.disclosure.plan import Plan, Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations, masks_by_group


class PhaseCountRow(msgspec.Struct, kw_only=True, frozen=True):
    breakdown: Annotated[str, column("all, agency, or a breakdown item", KEY)]
    group: Annotated[str, column("the group within the breakdown", KEY)]
    kind: Annotated[
        str,
        column(
            "phase: answered this phase (whatever else); exactly: answered these phases "
            "and no other",
            KEY,
        ),
    ]
    phases: Annotated[str, column("the phase, or the phases joined by +", KEY)]
    n: Annotated[int, column("people", PEOPLE)]


class AttritionRow(msgspec.Struct, kw_only=True, frozen=True):
    measure: Annotated[str, column("the measure", KEY)]
    baseline_phase: Annotated[str, column("the first phase, whose scores are compared", KEY)]
    later_phase: Annotated[str, column("the phase that some answered and some did not", KEY)]
    breakdown: Annotated[str, column("all, agency, or a breakdown item", KEY)]
    group: Annotated[str, column("the group within the breakdown", KEY)]
    skill: Annotated[str, column("the skill, or total", KEY)]
    n_completed: Annotated[
        int, column("people with a score in the baseline and in the later phase", PEOPLE)
    ]
    n_dropped: Annotated[
        int, column("people with a baseline score and none in the later phase", PEOPLE)
    ]
    completed_mean: Annotated[
        float | None,
        column("mean baseline score of those who stayed (the paired row's from_mean)", MEASURE),
    ] = None
    completed_sd: Annotated[float | None, column("their standard deviation (n - 1)", MEASURE)] = (
        None
    )
    dropped_mean: Annotated[
        float | None, column("mean baseline score of those who did not", MEASURE)
    ] = None
    dropped_sd: Annotated[float | None, column("their standard deviation (n - 1)", MEASURE)] = None
    difference: Annotated[float | None, column("completed_mean minus dropped_mean", GAIN)] = None
    difference_ci_low: Annotated[
        float | None, column("lower end of the 95% Welch interval of the difference", GAIN)
    ] = None
    difference_ci_high: Annotated[
        float | None, column("upper end of the 95% Welch interval of the difference", GAIN)
    ] = None
    welch_t: Annotated[float | None, column("Welch's t statistic", STATISTIC)] = None
    welch_df: Annotated[float | None, column("Welch-Satterthwaite degrees of freedom", DF)] = None
    welch_pvalue: Annotated[float | None, column("two-sided p-value of Welch's t test", P)] = None
    withheld: Annotated[
        dict[str, Reason], column("withheld figures and why: small_group or complementary", TEXT)
    ] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


_PART_FIGURES = {
    "completed": ("completed_mean", "completed_sd"),
    "dropped": ("dropped_mean", "dropped_sd"),
}
_JOINT_FIGURES = (
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "welch_t",
    "welch_df",
    "welch_pvalue",
)


def phase_count_rows(design: Design, populations: Populations) -> list[PhaseCountRow]:
    submitted = populations.cohort.submitted
    phases = design.phases
    rows = []
    for breakdown in populations.breakdowns():
        everyone = np.ones(populations.cohort.size, dtype=bool)
        for group, members in masks_by_group(populations, breakdown, everyone):
            for phase in phases:
                rows.append(
                    PhaseCountRow(
                        breakdown=breakdown.id,
                        group=group,
                        kind="phase",
                        phases=phase,
                        n=int(np.count_nonzero(members & submitted[phase])),
                    )
                )
            for size in range(1, len(phases) + 1):
                for chosen in combinations(phases, size):
                    exactly = members.copy()
                    for phase in phases:
                        exactly &= submitted[phase] if phase in chosen else ~submitted[phase]
                    rows.append(
                        PhaseCountRow(
                            breakdown=breakdown.id,
                            group=group,
                            kind="exactly",
                            phases="+".join(chosen),
                            n=int(np.count_nonzero(exactly)),
                        )
                    )
    return rows


def attrition_rows(design: Design, populations: Populations, plan: Plan) -> list[AttritionRow]:
    baseline = populations.baseline
    cells = populations.cells()
    n_cells = cells.groups.shape[1]
    rows = []
    for measure in design.measures:
        for later in populations.later_phases():
            # every group of every breakdown at once: the people of each cell, added up
            results: dict[tuple[str, str, str], stats.WelchTwoSample] = {}
            for subject in design.skills:
                scores = populations.scores(measure.id, baseline, subject)
                present = populations.present(measure.id, baseline, subject)
                answered_later = populations.present(measure.id, later, subject)
                stayed = np.flatnonzero(present & answered_later)
                left = np.flatnonzero(present & ~answered_later)
                found = stats.welch_two_sample_by_group(
                    cells.of[stayed],
                    scores[stayed],
                    cells.of[left],
                    scores[left],
                    n_cells,
                    cells.groups,
                )
                keys = [(b.id, g) for b in populations.breakdowns() for g in b.groups]
                for (breakdown_id, group), result in zip(keys, found, strict=True):
                    results[(breakdown_id, group, subject)] = result
            for breakdown in populations.breakdowns():
                for subject in design.skills:
                    for group in breakdown.groups:
                        rows.append(
                            _attrition_row(
                                measure.id,
                                baseline,
                                later,
                                breakdown.id,
                                group,
                                subject,
                                results[(breakdown.id, group, subject)],
                                plan,
                            )
                        )
    return rows


def _attrition_row(
    measure: str,
    baseline: str,
    later: str,
    breakdown: str,
    group: str,
    subject: str,
    result: stats.WelchTwoSample,
    plan: Plan,
) -> AttritionRow:
    # those who stayed are the paired row's people: their figures follow that row
    reasons = {
        "completed": plan.reason(
            Release("paired", measure, baseline, later, subject, breakdown, group)
        ),
        "dropped": plan.reason(
            Release("attrition", measure, baseline, later, subject, breakdown, group)
        ),
    }
    fields: dict[str, object] = {
        "completed_mean": result.a_mean,
        "completed_sd": result.a_sd,
        "dropped_mean": result.b_mean,
        "dropped_sd": result.b_sd,
        "difference": result.difference,
        "difference_ci_low": result.ci_low,
        "difference_ci_high": result.ci_high,
        "welch_t": result.t_statistic,
        "welch_df": result.df,
        "welch_pvalue": result.pvalue,
    }
    withheld: dict[str, Reason] = {}
    withheld_notes = []
    for part, reason in reasons.items():
        if reason is None:
            continue
        for name in (*_PART_FIGURES[part], *_JOINT_FIGURES):
            fields[name] = None
            withheld.setdefault(name, reason)
        n = result.n_a if part == "completed" else result.n_b
        who = "stayed" if part == "completed" else "dropped out"
        withheld_notes.append(f"figures of those who {who} withheld ({reason}: {n} people)")
    # a withheld part's own remarks (zero variance, say) would tell something about it
    notes = withheld_notes or list(result.notes)
    return AttritionRow(
        measure=measure,
        baseline_phase=baseline,
        later_phase=later,
        breakdown=breakdown,
        group=group,
        skill=subject,
        n_completed=result.n_a,
        n_dropped=result.n_b,
        withheld=withheld,
        notes=notes,
        **fields,  # type: ignore[arg-type]
    )
