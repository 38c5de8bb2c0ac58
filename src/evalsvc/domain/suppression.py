"""The suppression rule: which figures of the report tables are withheld, and why.

Every table applies it: `evalsvc.domain.summary` (pre/post summary and Holm),
`evalsvc.domain.items` (item analysis and reliability) and `evalsvc.domain.feedback`.

Suppression rule, with k = ``course.min_cell_size``:

1. **Size.** Every figure computed over fewer than k people is withheld (None). The
   counts of people (n_pre, n_post, n_paired, n) are always shown. A summary row has
   three views, each judged on its own count: the paired statistics (n_paired; when
   withheld the row says ``suppressed=True``), the unpaired pre mean (n_pre) and the
   unpaired post mean (n_post); Welch's unpaired p-value needs both unpaired views.
   The unpaired mean minus the paired mean would give the mean of the people who
   answered one phase only, so those groups (pre only, post only) count too: while
   they hold 1..k-1 people, the unpaired mean of that phase is withheld.
   Item shares, discrimination, McNemar counts, KR-20 and feedback distributions
   follow the same rule on the number of people they are computed over.
2. **Complementary.** The "all" row minus the shown agencies gives the pooled figures
   of the withheld agencies. So, within one block (one measure, skill and view; or one
   feedback item), the withheld groups together must hold either nobody or at least k
   people: while they hold 1..k-1, the shown agency with the smallest count is withheld
   too (reason "complementary"; ties go to the agency listed first). This includes the
   classic case "exactly one agency is withheld for size, so withhold the next
   smallest". Empty agencies hide nobody and do not count. Participants whose agency
   is not one of the course's agencies are counted in "all" only, and count as one
   group that is never shown. When "all" itself is withheld, nothing can be subtracted.
3. Holm's adjustment (``p_holm``) runs over the t-test p-values that are shown, one
   family per measure per summary.

Not covered: differencing across skills of one agency (e.g. total vs. the other
skills when some participants skipped a skill's confidence items) or across reports
taken at different times. Keep k at 3 or more and do not publish reports repeatedly
while few submissions come in.

Free-text feedback is listed per item, sorted, with neither agency nor participant,
and only when the course has at least k post submissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from evalsvc.domain.cohort import ALL

SuppressionReason = Literal["size", "complementary"]


def suppression_plan(
    group_counts: Mapping[str, int], total: int, min_cell_size: int
) -> dict[str, SuppressionReason]:
    """Which groups (and whether ALL) to withhold, and why; see the module docstring.

    `group_counts` are the shown groups in display order; `total` is the count of the
    "all" group, which may include people outside every listed group.
    """
    plan: dict[str, SuppressionReason] = {
        group: "size" for group, n in group_counts.items() if n < min_cell_size
    }
    if total < min_cell_size:
        plan[ALL] = "size"
        return plan
    hidden_people = total - sum(n for g, n in group_counts.items() if g not in plan)
    shown = [g for g in group_counts if g not in plan]
    while 0 < hidden_people < min_cell_size and shown:
        smallest = min(shown, key=lambda g: group_counts[g])  # first listed wins ties
        plan[smallest] = "complementary"
        shown.remove(smallest)
        hidden_people += group_counts[smallest]
    return plan


def withheld_note(what: str, reason: SuppressionReason, n: int, k: int) -> str:
    """The note a table row carries when `what` is withheld for `reason`."""
    if reason == "size" and n == 0:
        return f"{what}: nobody to report on"
    if reason == "size":
        return f"{what} withheld: {n} people, fewer than min_cell_size {k}"
    return (
        f"{what} withheld so that a smaller group's withheld figures cannot be worked "
        "out from 'all' minus the other agencies"
    )
