"""Independent groups: Welch's two-sample t, Kruskal-Wallis and Welch's ANOVA."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
from scipy import special

from evalsvc.domain.signed_rank import (
    dense_values,
)
from evalsvc.domain.stats._common import (
    CONFIDENCE_LEVEL,
    DECIMALS,
    as_float,
    vector,
)
from evalsvc.domain.stats.moments import GroupedMoments


class WelchTwoSample(msgspec.Struct, kw_only=True, frozen=True):
    """Two independent groups' means; ``difference = a_mean - b_mean``."""

    n_a: int
    n_b: int
    a_mean: float | None = None
    b_mean: float | None = None
    a_sd: float | None = None
    b_sd: float | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    t_statistic: float | None = None
    df: float | None = None
    pvalue: float | None = None
    notes: list[str] = msgspec.field(default_factory=list)


class BetweenGroups(msgspec.Struct, kw_only=True, frozen=True):
    """Do several independent groups differ? Rank-based and Welch's ANOVA."""

    n_groups: int
    kruskal_h: float | None = None
    kruskal_pvalue: float | None = None
    welch_f: float | None = None
    welch_df1: float | None = None
    welch_df2: float | None = None
    welch_pvalue: float | None = None
    notes: list[str] = msgspec.field(default_factory=list)


# -- two independent groups ----------------------------------------------------------


def welch_two_sample(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> WelchTwoSample:
    """Welch's t test of ``mean(a) - mean(b)`` with its 95% interval.

    Equal to ``scipy.stats.ttest_ind(a, b, equal_var=False)`` (checked in the tests),
    computed here because scipy warns about "catastrophic cancellation" whenever one
    group is constant, which is a legitimate case for Welch's test: only the other
    group's variance is used.
    """
    first, second = vector(a, "a"), vector(b, "b")
    zeros = np.zeros(first.size, dtype=np.intp), np.zeros(second.size, dtype=np.intp)
    return welch_two_sample_by_group(zeros[0], first, zeros[1], second, 1)[0]


def welch_two_sample_by_group(
    codes_a: np.ndarray,
    a: np.ndarray,
    codes_b: np.ndarray,
    b: np.ndarray,
    n_groups: int,
    groups: np.ndarray | None = None,
) -> list[WelchTwoSample]:
    """`welch_two_sample` of each group ``0 .. n_groups-1``: its values of `a` (where
    `codes_a` is the group) against its values of `b`, all groups at once.

    With `groups`, the codes are cells (``0 .. n_groups-1``) and each group a set of
    them (``groups[g, c]`` is 1 where cell c is in group g), as in `paired_by_cells`.
    """
    first = np.round(np.asarray(a, dtype=float), DECIMALS)
    second = np.round(np.asarray(b, dtype=float), DECIMALS)
    codes_a, codes_b = np.asarray(codes_a, dtype=np.intp), np.asarray(codes_b, dtype=np.intp)
    moments_a = GroupedMoments(codes_a, n_groups, groups)
    moments_b = GroupedMoments(codes_b, n_groups, groups)
    n_a, n_b = moments_a.n, moments_b.n
    a_mean, a_sd = moments_a.mean_sd(first)
    b_mean, b_sd = moments_b.mean_sd(second)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a_share = a_sd**2 / n_a  # squared standard error of each mean
        b_share = b_sd**2 / n_b
        standard_error_sq = a_share + b_share
        difference = a_mean - b_mean
        standard_error = np.sqrt(standard_error_sq)
        t_stat = difference / standard_error
        # Welch-Satterthwaite degrees of freedom
        df = standard_error_sq**2 / (a_share**2 / (n_a - 1) + b_share**2 / (n_b - 1))
        critical = special.stdtrit(df, 0.5 + CONFIDENCE_LEVEL / 2)
        pvalue = np.minimum(1.0, 2.0 * special.stdtr(df, -np.abs(t_stat)))
    out = []
    for g in range(int(n_a.size)):
        na, nb = int(n_a[g]), int(n_b[g])
        notes: list[str] = []
        fields: dict[str, object] = {}
        if na:
            fields["a_mean"] = as_float(a_mean[g])
        if nb:
            fields["b_mean"] = as_float(b_mean[g])
        if na >= 2:
            fields["a_sd"] = as_float(a_sd[g])
        if nb >= 2:
            fields["b_sd"] = as_float(b_sd[g])
        if na and nb:
            fields["difference"] = as_float(difference[g])
        if na < 2 or nb < 2:
            notes.append("Welch's t test needs at least two people in each group")
        elif standard_error_sq[g] == 0.0:
            notes.append("both groups have zero variance: Welch's t test is undefined")
        else:
            fields.update(
                ci_low=as_float(difference[g] - critical[g] * standard_error[g]),
                ci_high=as_float(difference[g] + critical[g] * standard_error[g]),
                t_statistic=as_float(t_stat[g]),
                df=as_float(df[g]),
                pvalue=as_float(pvalue[g]),
            )
        out.append(WelchTwoSample(n_a=na, n_b=nb, notes=notes, **fields))  # type: ignore[arg-type]
    return out


# -- independent groups ----------------------------------------------------------------


def between_groups(groups: Sequence[Sequence[float] | np.ndarray]) -> BetweenGroups:
    """Kruskal-Wallis H and Welch's one-way ANOVA over groups with at least two values.

    Groups with fewer than two values are left out of both tests (Welch's weights need
    a variance per group). Kruskal-Wallis is undefined when all values are equal;
    Welch's ANOVA when any group has zero variance. See `between_groups_counted`.
    """
    arrays = [np.round(vector(g, "group"), DECIMALS) for g in groups]
    pooled = np.concatenate(arrays) if arrays else np.zeros(0)
    values = dense_values(pooled)
    width = values.distinct.size
    group = np.repeat(np.arange(len(arrays)), [a.size for a in arrays])
    size = len(arrays) * width
    counts = np.bincount(group * width + values.codes, minlength=size)[:size]
    return between_groups_counted(counts.reshape(len(arrays), width), values.distinct)


def between_groups_counted(counts: np.ndarray, values: np.ndarray) -> BetweenGroups:
    """`between_groups` from each group's count of every value: ``counts[g, v]`` people
    of group g have ``values[v]`` (distinct, ascending, rounded to `DECIMALS`).

    Kruskal-Wallis is scipy's ``kruskal`` expression by expression: average ranks of the
    pooled values (here: those below plus the middle of the value's ties), H from the
    groups' rank sums (exact: sums of half-integers) in the groups' order, scipy's tie
    correction, ``chdtrc(k - 1, H)``. Welch's one-way ANOVA is Welch (1951), as
    ``scipy.stats.f_oneway(..., equal_var=False)`` computes it, and ``fdtrc`` for p;
    its means and variances add up the counted values, so they may differ from numpy's
    sums over the raw values in the last bits (the tests compare with scipy).
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = counts.sum(axis=1)
    usable = counts[sizes >= 2]
    notes: list[str] = []
    if usable.shape[0] < counts.shape[0]:
        notes.append(
            f"{counts.shape[0] - usable.shape[0]} group(s) with fewer than two values left out"
        )
    k = usable.shape[0]
    if k < 2:
        notes.append("fewer than two groups with at least two values: no comparison")
        return BetweenGroups(n_groups=k, notes=notes)

    fields: dict[str, object] = {}
    pooled = usable.sum(axis=0)
    if np.count_nonzero(pooled) <= 1:
        notes.append("all values are equal: Kruskal-Wallis is undefined")
    else:
        fields.update(_kruskal_counted(usable, pooled))
    if np.any(np.count_nonzero(usable, axis=1) == 1):
        notes.append("a group has zero variance: Welch's ANOVA is undefined")
    else:
        fields.update(_welch_anova_counted(usable, values))
    return BetweenGroups(n_groups=k, notes=notes, **fields)  # type: ignore[arg-type]


def _kruskal_counted(counts: np.ndarray, pooled: np.ndarray) -> dict[str, float | None]:
    total = int(pooled.sum())
    ranks = np.cumsum(pooled) - pooled + (pooled + 1) / 2.0
    rank_sums = counts @ ranks
    t = pooled.astype(float)
    ties = 1 - np.sum(t**3 - t) / (total**3 - total)
    ssbn = sum(float(r) ** 2 / int(n) for r, n in zip(rank_sums, counts.sum(axis=1), strict=True))
    h = 12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)
    h /= ties
    return {
        "kruskal_h": as_float(h),
        "kruskal_pvalue": as_float(special.chdtrc(float(counts.shape[0] - 1), h)),
    }


def _welch_anova_counted(counts: np.ndarray, values: np.ndarray) -> dict[str, float | None]:
    """Welch (1951) F test; every group has n >= 2 and non-zero variance.

    scipy does not return the denominator df, so it is given here too (R:
    oneway.test(var.equal = FALSE) prints both).
    """
    k = counts.shape[0]
    sizes = counts.sum(axis=1).astype(float)
    means = (counts @ values) / sizes
    variances = (counts * (values[None, :] - means[:, None]) ** 2).sum(axis=1) / (sizes - 1)
    weights = sizes / variances
    total_weight = weights.sum()
    grand = (weights @ means) / total_weight
    numerator = (weights @ (means - grand) ** 2) / (k - 1)
    spread = np.sum((1.0 - weights / total_weight) ** 2 / (sizes - 1.0))
    f = numerator / (1 + 2 * (k - 2) / (k**2 - 1) * spread)
    df2 = (k**2 - 1) / (3.0 * spread)
    return {
        "welch_f": as_float(f),
        "welch_df1": float(k - 1),
        "welch_df2": as_float(df2),
        "welch_pvalue": as_float(special.fdtrc(float(k - 1), df2, f)),
    }
