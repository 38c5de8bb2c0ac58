"""Finding a report's summary rows by what they are about."""

from __future__ import annotations

from collections.abc import Iterable

from evalsvc.domain.design import ALL
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow


class SummaryIndex:
    """Summary rows by (measure, comparison, breakdown, group, skill)."""

    def __init__(self, rows: Iterable[SummaryRow]) -> None:
        self._rows = {(r.measure, r.comparison, r.breakdown, r.group, r.skill): r for r in rows}

    def get(
        self,
        measure: str,
        comparison: str,
        breakdown: str = ALL,
        group: str = ALL,
        skill: str = TOTAL,
    ) -> SummaryRow | None:
        return self._rows.get((measure, comparison, breakdown, group, skill))
