"""Statistics of paired scores: plain floats or None, never NaN, inf or numpy scalars.

Every function returns builtins (inside msgspec Structs), so results encode to JSON as
they are. A value that is undefined for the data at hand is ``None`` and the result's
``notes`` say why; a computation that fails for one cell (a special function out of
its range, say) also gives ``None`` with a note, never an exception. We check the
undefined cases *before* calling scipy, which would answer them with ``nan`` and a
RuntimeWarning (the test suite turns warnings into errors).

What is computed, and against what it is checked (tests/test_stats.py):

* `paired_by_group` -- every paired statistic for many groups at once (the report's
  cells; `paired_by_cells` for groups that share people, each person counted once in
  the cell of people alike in every breakdown): paired t test (as
  ``scipy.stats.ttest_rel(to, from)``: on the gains ``to - from``), the Wilcoxon
  signed-rank test with scipy's default method choice, rank-biserial correlation,
  Cohen's d_z with its noncentral-t interval (R: effectsize::cohens_d on a paired
  design), d_av, Hedges' g_z with the exact gamma correction, Hake's normalized gain
  of the class averages and the mean of the individual normalized gains.
  `paired_comparison` is the same for one group.
* `noncentral_t_intervals` -- the d_z interval, vectorised over cells, with a documented
  asymptotic fallback where the noncentral t cannot be inverted.
* `welch_two_sample` -- Welch's t test and interval of a difference of two means
  (`welch_two_sample_by_group`: of many groups at once).
* `wilson_interval` -- Wilson score interval of a proportion (R: prop.test, correct=FALSE).
* `holm`, `holm_fixed_family`, `benjamini_hochberg` -- multiplicity adjustments.
* `between_groups` -- Kruskal-Wallis and Welch's one-way ANOVA (R: ``oneway.test``);
  `between_groups_counted` from each group's counts of the distinct values.
* `kr20`, `item_rest_correlations`, `mcnemar_exact` -- item analysis of 0/1 items
  (`BinaryItemSums`: from whole-number sums; `mcnemar_exact_many`: vectorised).

Nothing here calls scipy once per group: the vectorised versions are checked against
scipy's per-group answers in tests/test_fast_stats.py.

Differences are rounded to `DECIMALS` places before testing, so that scores computed
along different float paths (``100/3`` vs ``1/3*100``) give exactly zero or exactly
tied gains instead of roundoff noise that breaks ties and zero checks.
"""

from evalsvc.domain.stats._common import (
    CONFIDENCE_LEVEL,
    DECIMALS,
    IntervalMethod,
    WilcoxonMethod,
)
from evalsvc.domain.stats.independent import (
    BetweenGroups,
    WelchTwoSample,
    between_groups,
    between_groups_counted,
    welch_two_sample,
    welch_two_sample_by_group,
)
from evalsvc.domain.stats.moments import grouped_moments
from evalsvc.domain.stats.multiplicity import benjamini_hochberg, holm, holm_fixed_family
from evalsvc.domain.stats.noncentral_t import (
    hedges_j,
    hedges_j_array,
    noncentral_t_interval,
    noncentral_t_intervals,
)
from evalsvc.domain.stats.paired import (
    PAIRED_FIGURES,
    Paired,
    paired_by_cells,
    paired_by_group,
    paired_comparison,
    rank_biserial,
    wilcoxon_method,
)
from evalsvc.domain.stats.proportions import mcnemar_exact, mcnemar_exact_many, wilson_interval
from evalsvc.domain.stats.reliability import (
    BinaryItemSums,
    Kr20,
    item_rest_correlation,
    item_rest_correlations,
    kr20,
)

__all__ = [
    "CONFIDENCE_LEVEL",
    "DECIMALS",
    "PAIRED_FIGURES",
    "BetweenGroups",
    "BinaryItemSums",
    "IntervalMethod",
    "Kr20",
    "Paired",
    "WelchTwoSample",
    "WilcoxonMethod",
    "benjamini_hochberg",
    "between_groups",
    "between_groups_counted",
    "grouped_moments",
    "hedges_j",
    "hedges_j_array",
    "holm",
    "holm_fixed_family",
    "item_rest_correlation",
    "item_rest_correlations",
    "kr20",
    "mcnemar_exact",
    "mcnemar_exact_many",
    "noncentral_t_interval",
    "noncentral_t_intervals",
    "paired_by_cells",
    "paired_by_group",
    "paired_comparison",
    "rank_biserial",
    "welch_two_sample",
    "welch_two_sample_by_group",
    "wilcoxon_method",
    "wilson_interval",
]
