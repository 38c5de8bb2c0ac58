"""Live turnout during a course: counts only, per phase and agency.

Per phase, per agency (and for everyone): the codes issued, the questionnaires
received so far, and how many of those can already be paired with the same person's
first-phase questionnaire. Counts of people are published as the summary publishes
them (they are not what disclosure control protects); no score is shown.

* codes issued: the codes bound to the agency when issued; codes issued without an
  agency are counted under ``unassigned`` (and in "all");
* received: participants of the agency (as first recorded) who answered the phase;
* paired: of those, the ones who also answered the first phase (for the first phase
  itself, None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated

import msgspec

from evalsvc.domain.columns import KEY, PEOPLE, column
from evalsvc.domain.design import ALL
from evalsvc.domain.questionnaire import Course

UNASSIGNED = "unassigned"
"""Codes issued without an agency."""


class TurnoutRow(msgspec.Struct, kw_only=True, frozen=True):
    phase: Annotated[str, column("the phase", KEY)]
    agency: Annotated[str, column("the agency id, all, or unassigned (codes without one)", KEY)]
    codes_issued: Annotated[int, column("codes issued for the agency", PEOPLE)]
    received: Annotated[int, column("questionnaires of this phase received so far", PEOPLE)]
    paired: Annotated[
        int | None,
        column("of those, people who also answered the first phase (None for it)", PEOPLE),
    ] = None


def turnout_rows(
    course: Course,
    codes_issued: Mapping[str | None, int],
    submissions: Iterable[tuple[int, str, str]],
    agencies: Iterable[str] | None = None,
) -> list[TurnoutRow]:
    """`submissions` are (participant, agency, phase); `agencies` limits the agency rows
    (None: every agency of the course)."""
    phases = course.phase_ids()
    first = phases[0] if phases else ""
    answered: dict[int, set[str]] = {}
    agency_of: dict[int, str] = {}
    for participant, agency, phase in submissions:
        answered.setdefault(participant, set()).add(phase)
        agency_of.setdefault(participant, agency)
    shown = list(course.agency_ids() if agencies is None else agencies)
    groups: list[str] = [ALL, *shown]
    if agencies is None and codes_issued.get(None):
        groups.append(UNASSIGNED)
    rows = []
    for phase in phases:
        for group in groups:
            people = [
                p
                for p in answered
                if group == ALL or (group != UNASSIGNED and agency_of[p] == group)
            ]
            received = [p for p in people if phase in answered[p]]
            if group == ALL:
                issued = sum(codes_issued.values())
            elif group == UNASSIGNED:
                issued = codes_issued.get(None, 0)
                received = []
            else:
                issued = codes_issued.get(group, 0)
            rows.append(
                TurnoutRow(
                    phase=phase,
                    agency=group,
                    codes_issued=issued,
                    received=len(received),
                    paired=None
                    if phase == first
                    else sum(1 for p in received if first in answered[p]),
                )
            )
    return rows
