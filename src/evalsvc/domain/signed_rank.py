"""Wilcoxon's signed-rank test and the rank-biserial correlation of many groups at once.

The same numbers as ``scipy.stats.wilcoxon(d)`` with its defaults, one call per group
(tests/test_fast_stats.py compares every branch), without calling scipy per group:

* **Ranks.** Each group's non-zero differences are counted per distinct absolute
  value; a value's rank is the count of smaller ones in the group plus the middle of
  its own run of ties, the average rank ``scipy.stats.rankdata`` gives tied values.
  (With very many distinct values and groups, all differences are sorted by group and
  absolute value instead.) Groups that share people (`signed_rank_tests_of_cells`)
  add up the counts of their cells. R+ and R- are sums of half-integers, so they are
  exact whatever the order of summation.
* **Method.** scipy 1.17's ``method='auto'`` (`_wilcoxon_iv`, `_wilcoxon_nd` in
  scipy/stats/_wilcoxon.py): more than 50 differences, zeros counted ->
  ``asymptotic``; otherwise ``exact`` without zeros and ties among the absolute values,
  else ``permutation`` up to 13 differences (2**13 sign patterns, fewer than the 9999
  resamples scipy would draw), else ``asymptotic``.
* **asymptotic** (vectorised): zeros dropped (``zero_method='wilcox'``), no continuity
  correction (scipy's default ``correction=False``), scipy's tie correction:
  ``z = (R+ - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24)`` over the n
  non-zero differences, t the sizes of the groups of tied absolute values, and
  ``p = 2 * ndtr(-|z|)``: scipy's expressions in scipy's order.
* **exact** (no zeros, no ties, n <= 50): the null distribution of R+ by scipy's own
  recurrence (`_hypotests._get_wilcoxon_distr`, restated in `_null_distribution` and
  cached per n), and scipy's p-value: ``2 * min(sf(floor R+), cdf(ceil R+))``, capped
  at 1, where cdf and sf sum the lower tail directly and the upper one as 1 minus it,
  as ``WilcoxonDistribution`` does.
* **permutation** (zeros or ties, n <= 13): every sign pattern, counted at once
  (`_permutation_pvalue`), with scipy's ``permutation_test`` p-value.

The statistic is min(R+, R-), as scipy's two-sided test reports it; the matched-pairs
rank-biserial correlation is (R+ - R-) / (R+ + R-).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import special

EXACT_MAX_N = 50
"""scipy's method='auto' goes asymptotic above this many differences (zeros included)."""
PERMUTATION_MAX_N = 13
"""With ties or zeros, scipy enumerates all 2**n sign flips up to this n."""


class SignedRanks(NamedTuple):
    """Per group: the signed-rank sums of its non-zero differences."""

    n: np.ndarray
    """Differences, zeros included."""
    n_nonzero: np.ndarray
    r_plus: np.ndarray
    r_minus: np.ndarray
    tie_term: np.ndarray
    """sum(t^3 - t) over the groups of tied absolute values (scipy's tie_correct)."""
    has_ties: np.ndarray
    """Whether two non-zero absolute values are equal."""


class SignedRankTests(NamedTuple):
    """Per group: Wilcoxon's statistic, p-value and method, and the rank-biserial r.

    NaN (method "") where a group has no non-zero difference or was not wanted.
    """

    statistic: np.ndarray
    pvalue: np.ndarray
    method: np.ndarray
    rank_biserial: np.ndarray


def signed_ranks(
    codes: np.ndarray,
    n_groups: int,
    differences: np.ndarray,
    values: DenseValues | None = None,
) -> SignedRanks:
    """Rank sums of each group's non-zero differences; `codes[i]` is i's group.

    Ranked from each group's counts of every distinct value (a histogram: no sort per
    group). `values` are the differences' distinct values and codes, when the caller
    has them (`dense_values`); otherwise they are found here.
    """
    codes = np.asarray(codes, dtype=np.intp)
    differences = np.asarray(differences, dtype=float)
    if values is None:
        values = dense_values(differences)
    width = values.distinct.size
    if n_groups * width > HISTOGRAM_MAX_CELLS:
        return _signed_ranks_sorted(codes, n_groups, differences)
    size = n_groups * width
    counts = np.bincount(codes * width + values.codes, minlength=size)[:size]
    return ranks_from_counts(counts.reshape(n_groups, width), values.distinct)


def ranks_from_counts(counts: np.ndarray, distinct: np.ndarray) -> SignedRanks:
    """`signed_ranks` from each group's count of every distinct difference:
    ``counts[g, v]`` differences of group g equal ``distinct[v]`` (distinct, ascending)."""
    counts = np.asarray(counts)
    magnitudes, magnitude_of = np.unique(np.abs(distinct), return_inverse=True)
    width = magnitudes.size
    fold = np.zeros((distinct.size, width))
    fold[np.arange(distinct.size), magnitude_of.reshape(-1)] = 1.0
    n = counts.sum(axis=1).astype(np.int64)
    plus = counts[:, distinct > 0] @ fold[distinct > 0]
    by_magnitude = np.rint(counts @ fold).astype(np.int64)
    if width and magnitudes[0] == 0:
        by_magnitude[:, 0] = 0  # zero differences are dropped (zero_method='wilcox')
    # each distinct magnitude's average rank within its group: those below, then the
    # middle of its own run of ties
    below = np.cumsum(by_magnitude, axis=1) - by_magnitude
    ranks = below + (by_magnitude + 1) / 2.0
    r_plus = (plus * ranks).sum(axis=1)
    nonzero = by_magnitude.sum(axis=1)
    t = by_magnitude.astype(float)
    return SignedRanks(
        n=n,
        n_nonzero=nonzero,
        r_plus=r_plus,
        # the ranks of a group add up to m(m+1)/2 (tied ones share their sum)
        r_minus=nonzero * (nonzero + 1) / 2.0 - r_plus,
        tie_term=(t**3 - t).sum(axis=1),
        has_ties=np.asarray((by_magnitude > 1).any(axis=1)),
    )


class DenseValues(NamedTuple):
    """Distinct values, ascending, and each element's index into them."""

    distinct: np.ndarray
    codes: np.ndarray


def dense_values(values: np.ndarray) -> DenseValues:
    """``np.unique(values, return_inverse=True)``. Scores and gains take few distinct
    values: those of a sample are looked up first, then the few the sample missed;
    only values with many distinct ones are sorted whole."""
    values = np.asarray(values, dtype=float)
    if values.size > 4 * _SAMPLE:
        candidates = np.unique(values[:: values.size // _SAMPLE])
        for _ in range(2):
            codes = np.minimum(np.searchsorted(candidates, values), candidates.size - 1)
            found = candidates[codes] == values
            if found.all():  # every value is a sampled one
                return DenseValues(candidates, codes)
            if np.count_nonzero(~found) > values.size // 8:
                break  # many distinct values: sort them all
            # add the values the sample missed (a few rare ones) and look up again
            candidates = np.union1d(candidates, values[~found])
    distinct, codes = np.unique(values, return_inverse=True)
    return DenseValues(distinct, codes.reshape(-1))


_SAMPLE = 512


HISTOGRAM_MAX_CELLS = 4_000_000
"""Above this many (group, distinct value) cells, groups are ranked by sorting instead."""


def _signed_ranks_sorted(codes: np.ndarray, n_groups: int, differences: np.ndarray) -> SignedRanks:
    """`signed_ranks` by sorting all differences by group and absolute value."""
    n = np.bincount(codes, minlength=n_groups)[:n_groups]
    nonzero = differences != 0
    values, groups = differences[nonzero], codes[nonzero]
    size = np.bincount(groups, minlength=n_groups)[:n_groups]
    magnitude = np.abs(values)
    order = np.argsort(magnitude)  # ties in any order: they share their rank
    order = order[stable_order(groups[order], n_groups)]
    magnitude, groups, positive = magnitude[order], groups[order], values[order] > 0
    # runs of equal absolute values within a group
    first = np.ones(magnitude.size, dtype=bool)
    first[1:] = (magnitude[1:] != magnitude[:-1]) | (groups[1:] != groups[:-1])
    starts = np.flatnonzero(first)
    ties = np.diff(np.append(starts, magnitude.size))
    run_group = groups[starts]
    group_start = np.cumsum(size) - size
    ordinal = (starts - group_start[run_group] + 1).astype(float)  # 1-based within the group
    ranks = np.repeat(ordinal + (ties.astype(float) - 1.0) / 2.0, ties)
    r_plus = np.bincount(groups, np.where(positive, ranks, 0.0), n_groups)[:n_groups]
    t = ties.astype(float)
    return SignedRanks(
        n=n,
        n_nonzero=size,
        r_plus=r_plus,
        r_minus=size * (size + 1) / 2.0 - r_plus,
        tie_term=np.bincount(run_group, t**3 - t, n_groups)[:n_groups],
        has_ties=np.bincount(run_group, ties > 1, n_groups)[:n_groups] > 0,
    )


def stable_order(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Stable argsort of group codes; as 16-bit integers numpy sorts them by radix sort."""
    if n_groups <= np.iinfo(np.int16).max:
        codes = codes.astype(np.int16)
    return np.argsort(codes, kind="stable")


def methods(ranks: SignedRanks) -> np.ndarray:
    """scipy's method='auto' choice per group (see the module docstring)."""
    method = np.full(ranks.n.size, "asymptotic", dtype=object)
    small = ranks.n <= EXACT_MAX_N
    untied = (ranks.n == ranks.n_nonzero) & ~ranks.has_ties
    method[small & untied] = "exact"
    method[small & ~untied & (ranks.n <= PERMUTATION_MAX_N)] = "permutation"
    return method


def signed_rank_tests(
    codes: np.ndarray,
    n_groups: int,
    differences: np.ndarray,
    wanted: np.ndarray | None = None,
    values: DenseValues | None = None,
) -> SignedRankTests:
    """The test of every group (see the module docstring); `wanted` False: skip it.

    `values`: the differences' `dense_values`, if the caller has them.
    """
    codes = np.asarray(codes, dtype=np.intp)
    differences = np.asarray(differences, dtype=float)
    ranks = signed_ranks(codes, n_groups, differences, values)
    order: np.ndarray | None = None

    def differences_of(g: int) -> np.ndarray:
        nonlocal order
        if order is None:
            order = np.argsort(codes, kind="stable")
        start = int(np.sum(ranks.n[:g]))
        return differences[order[start : start + int(ranks.n[g])]]

    return tests_from_ranks(ranks, differences_of, wanted)


def signed_rank_tests_of_cells(
    cells: np.ndarray,
    groups: np.ndarray,
    differences: np.ndarray,
    values: DenseValues,
    wanted: np.ndarray | None = None,
) -> SignedRankTests:
    """The test of every group, each group a set of cells of people.

    `cells[i]` is person i's cell; ``groups[g, c]`` is 1 where cell c is in group g.
    Each cell's counts of every distinct difference are added up into its groups'; with
    too many cells and distinct differences for that, each group's people are ranked
    by sorting.
    """
    n_groups, n_cells = groups.shape
    width = values.distinct.size
    if max(n_cells, n_groups) * width > HISTOGRAM_MAX_CELLS:
        member_g, member_c = np.nonzero(groups)
        by_cell = np.argsort(cells, kind="stable")
        starts = np.searchsorted(cells[by_cell], np.arange(n_cells + 1))
        people = [by_cell[starts[c] : starts[c + 1]] for c in member_c]
        chosen = np.concatenate(people) if people else np.zeros(0, dtype=np.intp)
        codes = np.repeat(member_g, [p.size for p in people])
        return signed_rank_tests(codes, n_groups, differences[chosen], wanted)
    size = n_cells * width
    by_cell = np.bincount(cells * width + values.codes, minlength=size)[:size]
    by_cell = by_cell.reshape(n_cells, width)
    # each group's counts: the sum of its cells' (groups are sparse: add them directly)
    member_g, member_c = np.nonzero(groups)
    counts = np.zeros((n_groups, width), dtype=np.int64)
    if member_g.size:
        starts = np.flatnonzero(np.r_[True, member_g[1:] != member_g[:-1]])
        counts[member_g[starts]] = np.add.reduceat(by_cell[member_c], starts, axis=0)
    ranks = ranks_from_counts(counts, values.distinct)
    return tests_from_ranks(ranks, lambda g: np.repeat(values.distinct, counts[g]), wanted)


def tests_from_ranks(
    ranks: SignedRanks,
    differences_of: Callable[[int], np.ndarray],
    wanted: np.ndarray | None = None,
) -> SignedRankTests:
    """The tests from the rank sums; `differences_of(g)` gives group g's differences,
    for the permutation test of small groups."""
    n_groups = ranks.n.size
    method = methods(ranks)
    tested = ranks.n_nonzero > 0
    if wanted is not None:
        tested &= wanted
    method[~tested] = ""
    statistic = np.where(tested, np.minimum(ranks.r_plus, ranks.r_minus), np.nan)
    pvalue = np.full(n_groups, np.nan)

    asymptotic = np.flatnonzero(method == "asymptotic")
    pvalue[asymptotic] = _asymptotic_pvalues(
        ranks.n_nonzero[asymptotic].astype(float),
        ranks.r_plus[asymptotic],
        ranks.tie_term[asymptotic],
    )
    for g in np.flatnonzero(method == "exact"):
        pvalue[g] = _exact_pvalue(int(ranks.n_nonzero[g]), float(ranks.r_plus[g]))
    for g in np.flatnonzero(method == "permutation"):
        mine = differences_of(int(g))
        pvalue[g] = _permutation_pvalue(mine[mine != 0])

    with np.errstate(invalid="ignore", divide="ignore"):
        biserial = (ranks.r_plus - ranks.r_minus) / (ranks.r_plus + ranks.r_minus)
    return SignedRankTests(
        statistic=statistic,
        pvalue=pvalue,
        method=method,
        rank_biserial=np.where(tested, biserial, np.nan),
    )


def _asymptotic_pvalues(count: np.ndarray, r_plus: np.ndarray, tie_term: np.ndarray) -> np.ndarray:
    """scipy's normal approximation, expression by expression (_wilcoxon_statistic)."""
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    se = np.sqrt((se - tie_term / 2) / 24)
    z = (r_plus - mn) / se
    return 2 * special.ndtr(-np.abs(z))


@lru_cache(maxsize=EXACT_MAX_N + 1)
def _null_distribution(n: int) -> np.ndarray:
    """P(R+ = r), r = 0 .. n(n+1)/2, without ties: scipy's recurrence, step by step."""
    c = np.ones(1, dtype=np.float64)
    for k in range(1, n + 1):
        previous = c
        c = np.zeros(k * (k + 1) // 2 + 1, dtype=np.float64)
        m = len(previous)
        c[:m] = previous * 0.5
        c[-m:] += previous * 0.5
    c.flags.writeable = False
    return c


def _exact_pvalue(n: int, r_plus: float) -> float:
    """scipy's two-sided exact p-value (WilcoxonDistribution.cdf and .sf)."""
    pmf = _null_distribution(n)
    mean = n * (n + 1) / 4

    def cdf(k: int) -> float:
        return float(pmf[: k + 1].sum()) if k <= mean else 1 - float(pmf[k + 1 :].sum())

    def sf(k: int) -> float:
        return float(pmf[k:].sum()) if k <= mean else 1 - float(pmf[:k].sum())

    p = 2 * min(sf(int(np.floor(r_plus))), cdf(int(np.ceil(r_plus))))
    return float(np.clip(p, 0, 1))


def _permutation_pvalue(nonzero: np.ndarray) -> float:
    """Two-sided p over all 2**m sign assignments of the m ranks.

    scipy's ``wilcoxon(d, method=PermutationMethod())`` enumerates them, calling its
    statistic once per pattern; this is the same count with one matrix product.
    The p-value is scipy.stats.permutation_test's: 2 * min(P(null <= obs),
    P(null >= obs)), capped at 1, comparing with a relative tolerance of 100 eps.
    Zeros are left out; each of their sign flips would only repeat every pattern,
    which leaves the proportions unchanged.
    """
    ranks = _average_ranks(np.abs(nonzero))
    m = ranks.size
    observed = float(ranks[nonzero > 0].sum())
    plus_signs = (np.arange(2**m)[:, np.newaxis] >> np.arange(m)) & 1
    null = plus_signs @ ranks
    tolerance = abs(observed) * np.finfo(float).eps * 100
    p_less = np.mean(null <= observed + tolerance)
    p_greater = np.mean(null >= observed - tolerance)
    return min(1.0, 2.0 * float(min(p_less, p_greater)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average (scipy.stats.rankdata's default)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(values.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(first)
    ties = np.diff(np.append(starts, values.size))
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(starts + 1 + (ties - 1) / 2.0, ties)
    return ranks
