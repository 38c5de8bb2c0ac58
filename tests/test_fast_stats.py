"""The vectorised statistics equal scipy's, called once per group, on every branch.

Oracles: scipy.stats (wilcoxon with its defaults, binomtest, kruskal, f_oneway,
ttest_ind), one call per group. Data: seeded random groups with ties and zeros, and
hypothesis for the rules that must hold for every input.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from evalsvc.domain import signed_rank

TOLERANCE = 1e-12


def _groups(rng: np.random.Generator, sizes: list[int], scale: float, zeros: float) -> list:
    """Differences on a coarse grid (ties), some zero, rounded as evalsvc rounds gains."""
    out = []
    for size in sizes:
        d = rng.integers(-int(scale), int(scale) + 1, size) * 2.5
        d[rng.random(size) < zeros] = 0.0
        out.append(np.round(d, 10))
    return out


def _check_against_scipy(groups: list[np.ndarray]) -> set[str]:
    codes = np.concatenate([np.full(g.size, i) for i, g in enumerate(groups)]).astype(np.intp)
    # shuffled, so that nothing depends on the people of a group being adjacent
    order = np.random.default_rng(0).permutation(codes.size)
    values = np.concatenate(groups) if groups else np.zeros(0)
    tests = signed_rank.signed_rank_tests(codes[order], len(groups), values[order])
    seen = set()
    for g, d in enumerate(groups):
        nonzero = d[d != 0]
        if nonzero.size == 0:
            assert tests.method[g] == "" and np.isnan(tests.pvalue[g])
            continue
        oracle = sps.wilcoxon(d)
        seen.add(str(tests.method[g]))
        assert tests.method[g] == _scipy_method(d), (g, d)
        assert tests.statistic[g] == pytest.approx(float(oracle.statistic), abs=TOLERANCE)
        assert tests.pvalue[g] == pytest.approx(float(oracle.pvalue), abs=TOLERANCE, rel=1e-12)
        ranks = sps.rankdata(np.abs(nonzero))
        r_plus, r_minus = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
        assert tests.rank_biserial[g] == pytest.approx((r_plus - r_minus) / (r_plus + r_minus))
    return seen


def _scipy_method(d: np.ndarray) -> str:
    """scipy's auto choice, restated from its source independently of evalsvc's code."""
    if d.size > 50:
        return "asymptotic"
    nonzero = np.abs(d[d != 0])
    if nonzero.size == d.size and np.unique(nonzero).size == nonzero.size:
        return "exact"
    return "permutation" if d.size <= 13 else "asymptotic"


def test_every_branch_equals_scipy_per_group() -> None:
    rng = np.random.default_rng(20240312)
    sizes = [1, 2, 3, 5, 8, 12, 13, 14, 20, 30, 49, 50, 51, 52, 80, 200, 1500]
    groups = _groups(rng, sizes * 2, scale=6, zeros=0.15)
    # untied, zero-free groups of every small size: the exact branch
    groups += [rng.permutation(np.arange(1, n + 1)) * rng.choice([-1.0, 1.0], n) for n in sizes]
    # continuous differences: few ties, the asymptotic branch without tie correction
    groups += [np.round(rng.normal(0.3, 1.0, n), 10) for n in (60, 500)]
    groups += [np.zeros(7), np.zeros(70), np.array([0.0, 2.5]), np.array([-2.5])]
    seen = _check_against_scipy(groups)
    assert seen == {"exact", "permutation", "asymptotic"}


def test_exact_branch_at_every_size_and_statistic() -> None:
    # the whole null distribution is used: every R+ of a few sizes, both tails
    for n in (1, 2, 5, 10, 20, 50):
        total = n * (n + 1) // 2
        groups = []
        for r_plus in range(0, total + 1, max(1, total // 40)):
            signs = np.full(n, -1.0)
            remaining = r_plus
            for rank in range(n, 0, -1):  # greedy: ranks adding up to r_plus
                if rank <= remaining:
                    signs[rank - 1], remaining = 1.0, remaining - rank
            groups.append(np.arange(1, n + 1) * signs)
        assert _check_against_scipy(groups) == {"exact"}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=-4, max_value=4), min_size=1, max_size=70),
        min_size=1,
        max_size=4,
    )
)
def test_any_groups_of_ties_and_zeros_equal_scipy(groups: list[list[int]]) -> None:
    _check_against_scipy([np.array(g, dtype=float) * 0.2 for g in groups])


def test_unwanted_groups_are_skipped() -> None:
    d = np.array([1.0, 2.0, -3.0, 4.0, 5.0, 6.0])
    codes = np.array([0, 0, 0, 1, 1, 1])
    tests = signed_rank.signed_rank_tests(codes, 2, d, wanted=np.array([False, True]))
    assert tests.method.tolist() == ["", "exact"]
    assert np.isnan(tests.pvalue[0]) and not np.isnan(tests.pvalue[1])


def test_mcnemar_many_equals_binomtest_for_every_small_table() -> None:
    from evalsvc.domain import stats

    b, c = np.meshgrid(np.arange(0, 61), np.arange(0, 61))
    b, c = b.ravel(), c.ravel()
    rng = np.random.default_rng(3)
    b = np.concatenate([b, rng.integers(0, 5000, 200)])
    c = np.concatenate([c, rng.integers(0, 5000, 200)])
    got = stats.mcnemar_exact_many(b, c)
    for i in range(b.size):
        n = int(b[i] + c[i])
        if n == 0:
            assert np.isnan(got[i]) and stats.mcnemar_exact(0, 0) is None
            continue
        oracle = sps.binomtest(int(min(b[i], c[i])), n, 0.5).pvalue
        assert got[i] == pytest.approx(oracle, abs=TOLERANCE, rel=1e-12), (b[i], c[i])


def test_histogram_and_sorting_rank_alike() -> None:
    # The histogram is the usual path; sorting takes over with very many distinct
    # values and groups. Both must give the same sums, ties and counts.
    rng = np.random.default_rng(11)
    for distinct in (3, 40, 5000):
        codes = rng.integers(0, 17, 4000)
        d = np.round(rng.integers(-distinct, distinct + 1, 4000) * 0.1, 10)
        by_counts = signed_rank.signed_ranks(codes, 17, d)
        by_sorting = signed_rank._signed_ranks_sorted(codes.astype(np.intp), 17, d)
        for name in by_counts._fields:
            assert np.array_equal(getattr(by_counts, name), getattr(by_sorting, name)), name


def test_between_groups_equals_kruskal_and_welch_anova_of_scipy() -> None:
    from evalsvc.domain import stats

    rng = np.random.default_rng(5)
    for trial in range(40):
        k = int(rng.integers(2, 7))
        steps = (0.2, 2.5, 1e-3)[trial % 3]  # few, some and many distinct values
        groups = [
            np.round(rng.integers(-30, 31, int(rng.integers(2, 300))) * steps + i * 0.1, 10)
            for i in range(k)
        ]
        result = stats.between_groups(groups)
        kruskal = sps.kruskal(*groups)
        welch = sps.f_oneway(*groups, equal_var=False)
        assert result.kruskal_h == pytest.approx(kruskal.statistic, rel=1e-12)
        assert result.kruskal_pvalue == pytest.approx(kruskal.pvalue, abs=TOLERANCE, rel=1e-10)
        assert result.welch_f == pytest.approx(welch.statistic, rel=1e-10)
        assert result.welch_pvalue == pytest.approx(welch.pvalue, abs=TOLERANCE, rel=1e-9)
        assert result.welch_df1 == k - 1


def test_unique_pairs_is_numpys_unique_over_rows() -> None:
    from evalsvc.domain.disclosure.verify import _unique_pairs

    rng = np.random.default_rng(8)
    for values in (3, 50, 100_000):
        pairs = rng.integers(0, values, (5000, 2)).astype(float) * 0.37
        pairs[rng.random(5000) < 0.1, 1] = -0.0  # signed zeros compare equal
        _, first, inverse, counts = np.unique(
            pairs, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        group, index, sizes = _unique_pairs(pairs)
        assert np.array_equal(group, inverse.reshape(-1))
        assert np.array_equal(index, first) and np.array_equal(sizes, counts)


def test_unique_columns_is_numpys_unique() -> None:
    from evalsvc.domain.disclosure.verify import _unique_columns

    rng = np.random.default_rng(9)
    for rows, columns in ((1, 40), (7, 300), (40, 2000)):
        matrix = (
            rng.integers(0, 3, (rows, columns)).astype(float)
            * rng.choice([0.5, 1.0], rows)[:, None]
        )
        unique, inverse, counts = np.unique(
            matrix.T, axis=0, return_inverse=True, return_counts=True
        )
        distinct, group, sizes = _unique_columns(matrix)
        assert np.array_equal(distinct, unique) and np.array_equal(sizes, counts)
        assert np.array_equal(group, inverse.reshape(-1))


def test_welch_by_group_equals_scipy_per_group() -> None:
    from evalsvc.domain import stats

    rng = np.random.default_rng(12)
    sizes_a = [0, 1, 2, 3, 40, 300, 5, 2, 50]
    sizes_b = [4, 0, 1, 3, 70, 20, 5, 2, 50]
    groups_a = [np.round(rng.integers(0, 9, n) * 12.5, 10) for n in sizes_a]
    groups_b = [np.round(rng.integers(0, 9, n) * 12.5, 10) for n in sizes_b]
    groups_a[6] = np.full(5, 50.0)  # one constant group: only the other's variance
    groups_a[7], groups_b[7] = np.full(2, 25.0), np.full(2, 25.0)  # both constant
    codes_a = np.concatenate([np.full(n, g) for g, n in enumerate(sizes_a)])
    codes_b = np.concatenate([np.full(n, g) for g, n in enumerate(sizes_b)])
    results = stats.welch_two_sample_by_group(
        codes_a, np.concatenate(groups_a), codes_b, np.concatenate(groups_b), len(sizes_a)
    )
    for g, result in enumerate(results):
        a, b = groups_a[g], groups_b[g]
        assert (result.n_a, result.n_b) == (a.size, b.size)
        if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
            assert result.t_statistic is None and result.notes
            continue
        oracle = sps.ttest_ind(a, b, equal_var=False) if np.ptp(a) and np.ptp(b) else None
        if oracle is not None:
            assert result.t_statistic == pytest.approx(oracle.statistic, rel=1e-12)
            assert result.pvalue == pytest.approx(oracle.pvalue, abs=TOLERANCE, rel=1e-10)
            assert result.df == pytest.approx(oracle.df, rel=1e-12)
            interval = oracle.confidence_interval(0.95)
            assert result.ci_low == pytest.approx(interval.low, rel=1e-10, abs=1e-12)
        assert result.a_mean == pytest.approx(a.mean()) and result.b_sd == pytest.approx(
            b.std(ddof=1)
        )


def test_item_statistics_of_0_1_items_from_whole_number_sums() -> None:
    # 0/1 items take the exact path; the same items scaled by 2 take the general one
    # (correlations and KR-20 do not change with scale); scipy item by item.
    from evalsvc.domain import stats

    rng = np.random.default_rng(13)
    for n, k in ((2, 2), (5, 3), (40, 8), (3000, 40)):
        ability = rng.normal(size=(n, 1))
        items = (rng.normal(size=(n, k)) + ability > 0).astype(float)
        items[:, 0] = 1.0  # a constant item: undefined
        exact = stats.item_rest_correlations(items)
        general = stats.item_rest_correlations(items * 2)
        assert exact[0] is None and general[0] is None
        for j in range(1, k):
            rest = items.sum(axis=1) - items[:, j]
            if np.ptp(items[:, j]) == 0 or np.ptp(rest) == 0:
                assert exact[j] is None and general[j] is None
                continue
            oracle = sps.pointbiserialr(items[:, j], rest).statistic
            assert exact[j] == pytest.approx(oracle, abs=1e-12)
            assert general[j] == pytest.approx(oracle, abs=1e-12)
        assert stats.kr20(items).kr20 == pytest.approx(stats.kr20(items * 2).kr20, abs=1e-12)


def test_dense_values_are_numpys_unique() -> None:
    rng = np.random.default_rng(14)
    arrays = [
        np.round(rng.integers(-8, 9, 100_000) * 12.5, 10),  # few values: found in a sample
        np.round(rng.normal(size=50_000), 10),  # many: all sorted
        np.r_[np.zeros(5000), 1e-3],  # one value the sample misses
        np.r_[np.zeros(3000), -np.zeros(3000), np.ones(3000)],
        np.zeros(0),
        np.array([2.5, -2.5, 2.5]),
    ]
    for values in arrays:
        found = signed_rank.dense_values(values)
        distinct, inverse = np.unique(values, return_inverse=True)
        assert np.array_equal(found.distinct, distinct)
        assert np.array_equal(found.codes, inverse.reshape(-1))
        assert np.array_equal(found.distinct[found.codes], values)
