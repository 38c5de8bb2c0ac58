"""What a report publishes, cell by cell, in the terms both the planner and the
verifier speak: a `Release` names one set of figures computed over one group of
people, and says whether it is published or withheld.

Three tables publish figures computed from people's scores and answers:

* ``paired`` -- one measure, comparison (``first`` -> ``second`` phase), skill (or
  "total"), breakdown and group: every statistic of a summary row, over the people of
  the group with that score in both phases;
* ``attrition`` -- the ``first`` phase's scores of the people of a group who have no
  score in the later phase ``second`` (those who dropped out). The scores of those who
  stayed are the paired row's from figures, published with it;
* ``answers`` -- the answers to one summarised item (``subject``) in one phase
  (``first``), over the people of a group who answered it.

Counts of people are always published and are not releases. Item analysis and
reliability are computed over the paired people of a comparison, the population of
the knowledge row of that comparison for "all", and are published only with it.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Table = Literal["paired", "attrition", "answers"]


class Release(NamedTuple):
    table: Table
    measure: str
    """Measure id; "" for answers."""
    first: str
    """paired: the from phase; attrition: the baseline phase; answers: the phase."""
    second: str
    """paired: the to phase; attrition: the later phase; answers: ""."""
    subject: str
    """A skill id or "total"; for answers, the item id."""
    breakdown: str
    """"all", "agency" or a breakdown item's id."""
    group: str
    """"all" or the group's id."""

    def label(self) -> str:
        phases = f"{self.first}->{self.second}" if self.second else self.first
        what = f"{self.measure} " if self.measure else ""
        return f"{self.table} {what}{phases} {self.subject} {self.breakdown}={self.group}"
