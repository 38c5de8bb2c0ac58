"""evalsvc.domain.stats against published values, hand calculations and scipy as oracle.

Every case of tests/data/reference/stats_cases.json is checked with that case's tolerance
(`test_reference_case`); `test_every_reference_quantity_is_accounted_for` fails when
the file gains a case or a quantity that nobody checks here.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pytest
from scipy import stats as sps

from evalsvc.domain import stats

# -- the reference file ----------------------------------------------------------------


REFERENCE_DIR = Path(__file__).resolve().parent / "data" / "reference"
REFERENCE = json.loads((REFERENCE_DIR / "stats_cases.json").read_text(encoding="utf-8"))
META_REFERENCE = json.loads((REFERENCE_DIR / "meta_cases.json").read_text(encoding="utf-8"))
CASES = {case["name"]: case for case in REFERENCE["cases"]}


def tolerance(case: dict, quantity: str) -> float:
    return case.get("tolerance_by_quantity", {}).get(quantity, case["tolerance"])


def check(case: dict, quantity: str, actual: float | None, checked: set[str]) -> None:
    """Compare `actual` with the case's expected value within the case's tolerance."""
    expected = case["expected"][quantity]
    assert actual is not None, f"{case['name']}.{quantity}: got None"
    assert abs(actual - expected) <= tolerance(case, quantity), (
        f"{case['name']}.{quantity}: {actual!r} vs {expected!r}"
    )
    checked.add(quantity)


# Quantities of the reference file that evalsvc does not report, and why. Each is
# still listed so that a new quantity in the file is a deliberate decision.
NOT_REPORTED = {
    ("darwin_wilcoxon_1945_exact", "p_exact_greater"): "evalsvc reports two-sided tests",
    ("darwin_wilcoxon_1945_exact", "p_asymptotic_no_cc"): (
        "with 15 untied non-zero differences scipy's default, and so evalsvc, is exact"
    ),
    ("mcnemar_item_small_exact", "p_mid"): "evalsvc reports the exact McNemar test",
    ("mcnemar_item_small_exact", "chi2_no_cc"): "evalsvc reports the exact McNemar test",
    ("mcnemar_item_small_exact", "p_chi2_no_cc"): "evalsvc reports the exact McNemar test",
    ("mcnemar_item_small_exact", "chi2_cc"): "evalsvc reports the exact McNemar test",
    ("mcnemar_item_small_exact", "p_chi2_cc"): "evalsvc reports the exact McNemar test",
    ("mcnemar_item_small_exact", "p_pre"): (
        "share correct is an item-analysis figure: tests/test_analysis.py::"
        "test_item_analysis_reproduces_the_mcnemar_reference_case"
    ),
    ("mcnemar_item_small_exact", "p_post"): (
        "share correct is an item-analysis figure: tests/test_analysis.py::"
        "test_item_analysis_reproduces_the_mcnemar_reference_case"
    ),
}


# -- one checker per reference case; each returns the quantities it checked -----------


def check_sleep_paired_t_test(case: dict) -> set[str]:
    # R: t.test(extra[group==1], extra[group==2], paired = TRUE)
    #    t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858 -0.7001142
    # R's difference is x - y = group1 - group2; ours is post - pre, so pre = group2.
    data, checked = case["data"], set[str]()
    result = stats.paired_comparison(data["y_group2"], data["x_group1"])
    check(case, "t", result.t_statistic, checked)
    check(case, "df", result.t_df, checked)
    check(case, "p_two_sided", result.t_pvalue, checked)
    check(case, "ci95_low", result.gain_ci_low, checked)
    check(case, "ci95_high", result.gain_ci_high, checked)
    check(case, "mean_diff", result.mean_gain, checked)
    return checked


def check_sleep_paired_effect_sizes_nct(case: dict) -> set[str]:
    # R: effectsize::cohens_d(Pair(extra[group==1], extra[group==2]) ~ 1, data = sleep)
    #    -1.28 [-2.12, -0.41]; hedges_g(...) -1.17 [-1.94, -0.38]
    data, checked = case["data"], set[str]()
    result = stats.paired_comparison(data["y_group2"], data["x_group1"])
    check(case, "d_z", result.cohens_dz, checked)
    check(case, "d_z_ci95_low", result.dz_ci_low, checked)
    check(case, "d_z_ci95_high", result.dz_ci_high, checked)
    check(case, "g_z", result.hedges_gz, checked)
    check(case, "g_z_ci95_low", result.hedges_gz_ci_low, checked)
    check(case, "g_z_ci95_high", result.hedges_gz_ci_high, checked)
    return checked


def check_sleep_wilcoxon_signed_rank(case: dict) -> set[str]:
    # 9 non-zero differences, all negative, one zero: V = 0. With a zero and a tie
    # (-1.3 twice) scipy's default is the exhaustive permutation test, whose p is the
    # share of the 2**9 sign patterns at least as extreme: 2 / 512 = 0.00390625.
    d = np.array(case["data"]["d = group1 - group2"])
    checked: set[str] = set()
    result = stats.paired_comparison(np.zeros_like(d), d)
    assert result.wilcoxon_method == "permutation"
    check(case, "V_or_T", result.wilcoxon_statistic, checked)
    check(case, "p_permutation_exact", result.wilcoxon_pvalue, checked)
    # R: wilcox.test(..., paired = TRUE) prints p = 0.009091: normal approximation with
    # continuity correction. evalsvc reports scipy's default (above); this shows the
    # difference is a choice of method, not an error: scipy reproduces R with R's options.
    r_like = sps.wilcoxon(d, method="asymptotic", correction=True)
    check(case, "p_asymptotic_cc", float(r_like.pvalue), checked)
    return checked


def check_darwin_wilcoxon_1945_exact(case: dict) -> set[str]:
    # Wilcoxon (1945), as in scipy 1.17's wilcoxon docstring: T = 24, exact p = 169/4096.
    d = np.array(case["data"]["d"], dtype=float)
    checked: set[str] = set()
    result = stats.paired_comparison(np.zeros_like(d), d)
    assert result.wilcoxon_method == "exact"
    check(case, "T_two_sided", result.wilcoxon_statistic, checked)
    check(case, "p_exact_two_sided", result.wilcoxon_pvalue, checked)
    check(case, "rank_biserial", result.rank_biserial, checked)
    # R+ follows from r and the rank total n(n+1)/2 = 120: R+ = (1 + r)/2 * 120 = 96.
    rank_total = len(d) * (len(d) + 1) / 2
    check(case, "W_plus_greater", (1 + result.rank_biserial) / 2 * rank_total, checked)
    return checked


def check_mcnemar_item_small_exact(case: dict) -> set[str]:
    # Exact p = 2 * (C(8,0) + C(8,1)) / 2**8 = 18/256 with b = 7, c = 1.
    data, checked = case["data"], set[str]()
    p = stats.mcnemar_exact(data["b_wrong_to_right"], data["c_right_to_wrong"])
    check(case, "p_exact", p, checked)
    return checked


def check_kr20_wuensch_10x10(case: dict) -> set[str]:
    # Wuensch, KR20.txt: KR-20 = (10/9)(1 - 2.18/5.84) = 0.69635.
    matrix = np.array(case["data"]["items_rows_students"], dtype=float)
    checked: set[str] = set()
    result = stats.kr20(matrix)
    assert (result.n, result.k) == (10, 10)
    check(case, "kr20", result.kr20, checked)
    check(case, "alpha", result.kr20, checked)  # KR-20 is alpha on 0/1 items
    # The hand calculation's ingredients confirm the matrix is rows = students:
    difficulty = matrix.mean(axis=0)
    check(case, "sum_pq", float(np.sum(difficulty * (1 - difficulty))), checked)
    check(case, "total_var_population", float(np.var(matrix.sum(axis=1))), checked)
    assert np.allclose(difficulty, case["expected"]["difficulty_p"], atol=case["tolerance"])
    checked.add("difficulty_p")
    return checked


def check_multiplicity_holm_bh(case: dict) -> set[str]:
    # Holm by hand: sorted 0.0003*5, 0.003*4, 0.054*3, 0.32*2, 0.5*1 = 0.0015, 0.012,
    # 0.162, 0.64, 0.5 -> running max 0.64. Without index 2, m = 4: 0.0012, 0.009, 0.108, 0.5.
    pvalues, expected = case["data"]["pvals"], case["expected"]
    checked: set[str] = set()
    for quantity, adjusted in (
        ("holm", stats.holm(pvalues)),
        ("bh", stats.benjamini_hochberg(pvalues)),
    ):
        assert len(adjusted) == len(expected[quantity])
        for actual, wanted in zip(adjusted, expected[quantity], strict=True):
            assert actual is not None
            assert abs(actual - wanted) <= tolerance(case, quantity)
        checked.add(quantity)
    undefined_at_2 = [*pvalues[:2], None, *pvalues[3:]]
    for undefined in (undefined_at_2, [*pvalues[:2], math.nan, *pvalues[3:]]):
        adjusted = stats.holm(undefined)
        for actual, wanted in zip(adjusted, expected["holm_with_nan_at_index2"], strict=True):
            if wanted is None:
                assert actual is None
            else:
                assert actual is not None
                assert abs(actual - wanted) <= tolerance(case, "holm_with_nan_at_index2")
    checked.add("holm_with_nan_at_index2")
    return checked


def check_hedges_small_sample_correction_J(case: dict) -> set[str]:  # noqa: N802
    # J(4) = Γ(2) / (√2 · Γ(1.5)) = 1 / (√2 · √π/2) = √(2/π) exactly.
    checked: set[str] = set()
    check(case, "J_exact_4", stats.hedges_j(4), checked)
    check(case, "J_exact_10", stats.hedges_j(10), checked)
    # The approximation 1 - 3/(4 df - 1) = 1 - 3/35 is not what evalsvc uses; check the
    # reference's arithmetic and that the exact J(9) is within its known error.
    approximation = 1 - 3 / (4 * 9 - 1)
    check(case, "J_approx_9", approximation, checked)
    exact_9 = stats.hedges_j(9)
    assert exact_9 is not None and abs(exact_9 - approximation) < 1e-3
    return checked


def check_wilcoxon_sign_minimum_p(case: dict) -> set[str]:
    # n differences all in one direction: only the all-plus and all-minus patterns are
    # as extreme, so p = 2 / 2**n.
    checked: set[str] = set()
    for n in case["data"]["n"]:
        gains = np.arange(1, n + 1, dtype=float)
        result = stats.paired_comparison(np.zeros(n), gains)
        assert result.wilcoxon_method == "exact"
        check(case, f"min_p_n{n}", result.wilcoxon_pvalue, checked)
    return checked


CHECKERS: dict[str, Callable[[dict], set[str]]] = {
    "sleep_paired_t_test": check_sleep_paired_t_test,
    "sleep_paired_effect_sizes_nct": check_sleep_paired_effect_sizes_nct,
    "sleep_wilcoxon_signed_rank": check_sleep_wilcoxon_signed_rank,
    "darwin_wilcoxon_1945_exact": check_darwin_wilcoxon_1945_exact,
    "mcnemar_item_small_exact": check_mcnemar_item_small_exact,
    "kr20_wuensch_10x10": check_kr20_wuensch_10x10,
    "multiplicity_holm_bh": check_multiplicity_holm_bh,
    "hedges_small_sample_correction_J": check_hedges_small_sample_correction_J,
    "wilcoxon_sign_minimum_p": check_wilcoxon_sign_minimum_p,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_case(name: str) -> None:
    assert name in CHECKERS, f"reference case {name!r} has no checker in this file"
    CHECKERS[name](CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_reference_quantity_is_accounted_for(name: str) -> None:
    checked = CHECKERS[name](CASES[name])
    not_reported = {quantity for case, quantity in NOT_REPORTED if case == name}
    assert checked.isdisjoint(not_reported)
    assert checked | not_reported == set(CASES[name]["expected"])


# -- direction ---------------------------------------------------------------------------


def test_gains_are_post_minus_pre() -> None:
    # The sleep data the other way round: same |t|, opposite sign (R: t = -4.0621).
    case = CASES["sleep_paired_t_test"]
    flipped = stats.paired_comparison(case["data"]["x_group1"], case["data"]["y_group2"])
    assert flipped.t_statistic == pytest.approx(4.0621, abs=5e-5)
    assert flipped.mean_gain == pytest.approx(1.58)
    assert flipped.n_improved == 9 and flipped.n_unchanged == 1 and flipped.n_declined == 0


# -- other published values --------------------------------------------------------------

SLEEP = CASES["sleep_paired_t_test"]["data"]

# R's PlantGrowth (Dobson 1983): weights under a control and two treatments.
PLANT_GROWTH = {
    "ctrl": [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    "trt1": [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    "trt2": [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
}


def test_welch_anova_and_kruskal_match_r_on_plant_growth() -> None:
    # R: oneway.test(weight ~ group, data = PlantGrowth, var.equal = FALSE)
    #    F = 5.181, num df = 2.000, denom df = 17.128, p-value = 0.01739
    # R: kruskal.test(weight ~ group, data = PlantGrowth)
    #    Kruskal-Wallis chi-squared = 7.9882, df = 2, p-value = 0.01842
    # Tolerances: half a unit in the last digit R prints.
    result = stats.between_groups(list(PLANT_GROWTH.values()))
    assert result.n_groups == 3
    assert result.welch_f == pytest.approx(5.181, abs=5e-4)
    assert result.welch_df1 == 2.0
    assert result.welch_df2 == pytest.approx(17.128, abs=5e-4)
    assert result.welch_pvalue == pytest.approx(0.01739, abs=5e-6)
    assert result.kruskal_h == pytest.approx(7.9882, abs=5e-5)
    assert result.kruskal_pvalue == pytest.approx(0.01842, abs=5e-6)
    assert result.notes == []


def test_welch_anova_of_two_groups_is_welchs_t_test() -> None:
    # R: t.test(extra ~ group, data = sleep)  (Welch)
    #    t = -1.8608, df = 17.776, p-value = 0.07939; and F = t^2 with df (1, 17.776)
    result = stats.between_groups([SLEEP["x_group1"], SLEEP["y_group2"]])
    assert result.welch_f == pytest.approx((-1.8608) ** 2, abs=5e-4)
    assert result.welch_df1 == 1.0
    assert result.welch_df2 == pytest.approx(17.776, abs=5e-4)
    assert result.welch_pvalue == pytest.approx(0.07939, abs=5e-6)


def test_welch_two_sample_matches_r_on_sleep() -> None:
    # R: t.test(extra ~ group, data = sleep): group1 - group2
    #    t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 0.2054832;
    #    means 0.75 and 2.33
    result = stats.welch_two_sample(SLEEP["x_group1"], SLEEP["y_group2"])
    assert result.t_statistic == pytest.approx(-1.8608, abs=5e-5)
    assert result.df == pytest.approx(17.776, abs=5e-4)
    assert result.pvalue == pytest.approx(0.07939, abs=5e-6)
    assert result.ci_low == pytest.approx(-3.3654832, abs=5e-7)
    assert result.ci_high == pytest.approx(0.2054832, abs=5e-7)
    assert result.a_mean == pytest.approx(0.75)
    assert result.b_mean == pytest.approx(2.33)
    assert result.difference == pytest.approx(0.75 - 2.33)


# -- scipy as oracle -------------------------------------------------------------------


def test_paired_t_test_is_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(7)
    pre = rng.uniform(0, 100, 40)
    post = np.clip(pre + rng.normal(8, 15, 40), 0, 100)
    result = stats.paired_comparison(pre, post)
    oracle = sps.ttest_rel(post, pre)
    interval = oracle.confidence_interval()
    assert result.t_statistic == pytest.approx(float(oracle.statistic), rel=1e-9)
    assert result.t_pvalue == pytest.approx(float(oracle.pvalue), rel=1e-9)
    assert result.gain_ci_low == pytest.approx(float(interval.low), rel=1e-9)
    assert result.gain_ci_high == pytest.approx(float(interval.high), rel=1e-9)
    assert result.cohens_dz == pytest.approx(result.mean_gain / result.gain_sd, rel=1e-12)


def test_welch_two_sample_is_scipy_ttest_ind() -> None:
    rng = np.random.default_rng(11)
    first, second = rng.normal(60, 20, 31), rng.normal(50, 10, 23)
    result = stats.welch_two_sample(first, second)
    oracle = sps.ttest_ind(first, second, equal_var=False)
    interval = oracle.confidence_interval()
    assert result.t_statistic == pytest.approx(float(oracle.statistic), rel=1e-9)
    assert result.df == pytest.approx(float(oracle.df), rel=1e-9)
    assert result.pvalue == pytest.approx(float(oracle.pvalue), rel=1e-9)
    assert result.ci_low == pytest.approx(float(interval.low), rel=1e-9)
    assert result.ci_high == pytest.approx(float(interval.high), rel=1e-9)


def test_welch_two_sample_with_one_constant_group() -> None:
    # scipy's ttest_ind warns here; by hand: b = 50, 50, 50 (variance 0), a = 50, 60,
    # 70 (variance 100): t = 10 / sqrt(100/3) = sqrt(3), df = n_a - 1 = 2, and for
    # 2 df the two-sided p = 1 - t / sqrt(t^2 + 2) = 1 - sqrt(3/5).
    result = stats.welch_two_sample([50, 60, 70], [50, 50, 50])
    assert result.t_statistic == pytest.approx(math.sqrt(3), rel=1e-12)
    assert result.df == pytest.approx(2.0, rel=1e-12)
    assert result.pvalue == pytest.approx(1 - math.sqrt(3 / 5), rel=1e-12)


@pytest.mark.parametrize(
    ("gains", "method"),
    [
        pytest.param([3.0, -1.0, 4.0, 1.5, 9.0, 2.6], "exact", id="no-ties-no-zeros"),
        pytest.param([3.0, -1.0, 0.0, 1.0, 9.0, 3.0], "permutation", id="ties-and-zero-n6"),
        pytest.param([1.0, 1.0], "permutation", id="two-equal-gains"),
        pytest.param([0.0, 5.0], "permutation", id="one-nonzero"),
        pytest.param([*range(1, 13), 0.0], "permutation", id="zero-n13"),
        pytest.param([*range(1, 14), 0.0], "asymptotic", id="zero-n14"),
        pytest.param(list(range(-20, 40)), "asymptotic", id="n60"),
        pytest.param([float(v) for v in range(1, 51)], "exact", id="n50-untied"),
    ],
)
def test_wilcoxon_uses_scipys_default_method(gains: list[float], method: str) -> None:
    # Oracle: scipy.stats.wilcoxon(d) with its defaults (method='auto').
    d = np.array(gains, dtype=float)
    result = stats.paired_comparison(np.zeros_like(d), d)
    oracle = sps.wilcoxon(d)
    assert result.wilcoxon_method == method
    assert result.wilcoxon_statistic == pytest.approx(float(oracle.statistic), abs=1e-12)
    assert result.wilcoxon_pvalue == pytest.approx(float(oracle.pvalue), abs=1e-12)


def test_fast_permutation_test_equals_scipys_on_random_ties() -> None:
    # Oracle: scipy.stats.wilcoxon(d), which enumerates all sign patterns for n <= 13
    # (slowly: up to a second each at n = 13, so here n <= 10; n = 13 is a case above).
    rng = np.random.default_rng(3)
    compared = 0
    for _ in range(60):
        n = int(rng.integers(2, 11))
        d = np.round(rng.integers(-3, 5, n) * 10 / 3, 10)
        if not d.any() or stats.wilcoxon_method(d) != "permutation":
            continue
        result = stats.paired_comparison(np.zeros(n), d)
        oracle = sps.wilcoxon(d)
        assert result.wilcoxon_statistic == float(oracle.statistic)
        assert result.wilcoxon_pvalue == pytest.approx(float(oracle.pvalue), abs=1e-12)
        compared += 1
    assert compared > 30


def test_roundoff_does_not_break_ties() -> None:
    # 0.3 - 0.2 and 0.2 - 0.1 differ in the last bit; rounded they tie, so there are
    # ties and scipy's rule picks the permutation test (and the zero gain is a zero).
    pre = np.array([0.2, 0.1, 0.5, 0.7])
    post = np.array([0.3, 0.2, 0.5, 0.4])
    result = stats.paired_comparison(pre, post)
    assert result.wilcoxon_method == "permutation"
    assert (result.n_improved, result.n_unchanged, result.n_declined) == (2, 1, 1)


# -- hand calculations -------------------------------------------------------------------


def test_rank_biserial_by_hand() -> None:
    # Differences 1, -2, 3, 0: zero dropped; |d| ranks 1, 2, 3; R+ = 1 + 3 = 4, R- = 2.
    # r = (4 - 2) / (4 + 2) = 1/3.
    assert stats.rank_biserial([1.0, -2.0, 3.0, 0.0]) == pytest.approx(1 / 3)
    assert stats.rank_biserial([0.0, 0.0]) is None


def test_normalized_gain_by_hand() -> None:
    # Pre mean 50, post mean 75: <g> = (75 - 50) / (100 - 50) = 0.5.
    result = stats.paired_comparison([40, 60], [70, 80], max_score=100)
    assert result.normalized_gain == pytest.approx(0.5)
    assert stats.paired_comparison([40, 60], [70, 80]).normalized_gain is None


def test_hedges_g_is_j_times_d() -> None:
    case = CASES["sleep_paired_t_test"]["data"]
    result = stats.paired_comparison(case["y_group2"], case["x_group1"])
    correction = stats.hedges_j(9)
    assert result.hedges_gz == pytest.approx(correction * result.cohens_dz, rel=1e-12)
    assert result.hedges_gz_ci_low == pytest.approx(correction * result.dz_ci_low)


def test_noncentral_interval_solves_the_defining_equations() -> None:
    # The bounds are the ncp at which the observed t sits at the 97.5th and 2.5th
    # percentile: nct.cdf(t, df, low) = 0.975 and nct.cdf(t, df, high) = 0.025.
    t_obs, df = 2.5, 11
    interval = stats.noncentral_t_interval(t_obs, df, 0.95)
    assert interval is not None
    low, high = interval
    assert sps.nct.cdf(t_obs, df, low) == pytest.approx(0.975, abs=1e-9)
    assert sps.nct.cdf(t_obs, df, high) == pytest.approx(0.025, abs=1e-9)


# -- multiplicity ------------------------------------------------------------------------


def test_holm_and_bh_edge_cases() -> None:
    assert stats.holm([]) == []
    assert stats.holm([None, None]) == [None, None]
    assert stats.benjamini_hochberg([None]) == [None]
    # Capped at 1: 0.6 * 2 = 1.2 -> 1.
    assert stats.holm([0.6, 0.7]) == [1.0, 1.0]
    assert stats.holm([0.02]) == [0.02]


def test_benjamini_hochberg_leaves_undefined_out_of_the_family() -> None:
    # Oracle: scipy.stats.false_discovery_control on the defined p-values only.
    pvalues = [0.01, None, 0.04, 0.03, None]
    expected = sps.false_discovery_control([0.01, 0.04, 0.03], method="bh")
    adjusted = stats.benjamini_hochberg(pvalues)
    assert adjusted[1] is None and adjusted[4] is None
    defined = [adjusted[0], adjusted[2], adjusted[3]]
    assert defined == pytest.approx(list(expected), abs=1e-15)


# -- items ------------------------------------------------------------------------------

WUENSCH = np.array(CASES["kr20_wuensch_10x10"]["data"]["items_rows_students"], dtype=float)


def test_item_rest_correlation_is_pearson_with_the_rest_score() -> None:
    # Oracle: numpy's Pearson r of the item with the total minus the item.
    for j in range(WUENSCH.shape[1]):
        rest = WUENSCH.sum(axis=1) - WUENSCH[:, j]
        oracle = np.corrcoef(WUENSCH[:, j], rest)[0, 1]
        assert stats.item_rest_correlation(WUENSCH, j) == pytest.approx(oracle, abs=1e-12)


def test_item_rest_correlation_undefined_for_constant_item_or_rest() -> None:
    everyone_right = np.array([[1, 0], [1, 1], [1, 0]], dtype=float)
    assert stats.item_rest_correlation(everyone_right, 0) is None  # item constant
    assert stats.item_rest_correlation(everyone_right, 1) is None  # rest constant


def test_kr20_equals_alpha_by_the_variance_formula() -> None:
    # Oracle: Cronbach's alpha with sample variances, k/(k-1) * (1 - Σ s_j² / s_total²).
    rng = np.random.default_rng(5)
    matrix = (rng.random((25, 6)) < 0.6).astype(float)
    k = matrix.shape[1]
    alpha = k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(1).var(ddof=1))
    assert stats.kr20(matrix).kr20 == pytest.approx(alpha, rel=1e-12)


@pytest.mark.parametrize(
    ("matrix", "reason"),
    [
        pytest.param([[1], [0], [1]], "two items", id="one-item"),
        pytest.param([[1, 0, 1]], "two participants", id="one-participant"),
        pytest.param(np.zeros((0, 3)), "two participants", id="nobody"),
        pytest.param([[1, 0], [0, 1], [1, 0]], "same total", id="constant-total"),
    ],
)
def test_kr20_undefined(matrix: list, reason: str) -> None:
    result = stats.kr20(matrix)
    assert result.kr20 is None
    assert any(reason in note for note in result.notes)


def test_mcnemar_exact_edges() -> None:
    assert stats.mcnemar_exact(0, 0) is None
    assert stats.mcnemar_exact(1, 7) == stats.mcnemar_exact(7, 1)
    # b = 1, c = 0: one discordant pair, p = 2 * 1/2 = 1.
    assert stats.mcnemar_exact(1, 0) == 1.0
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 2)


# -- between groups: undefined cases --------------------------------------------------------


def test_between_groups_needs_two_groups_with_two_values() -> None:
    result = stats.between_groups([[1.0, 2.0, 3.0], [4.0]])
    assert result.n_groups == 1
    assert result.kruskal_h is None and result.welch_f is None
    assert any("left out" in note for note in result.notes)
    assert stats.between_groups([]).n_groups == 0


def test_between_groups_zero_variance() -> None:
    # One group constant: Kruskal-Wallis still works, Welch's weights do not.
    result = stats.between_groups([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])
    assert result.kruskal_h is not None
    assert result.welch_f is None
    assert any("zero variance" in note for note in result.notes)
    everything_equal = stats.between_groups([[2.0, 2.0], [2.0, 2.0]])
    assert everything_equal.kruskal_h is None and everything_equal.welch_f is None


# -- edge cases: no exceptions, no warnings (filterwarnings = error), JSON works --------


def assert_plain_json(result: msgspec.Struct) -> None:
    """Only builtins, no NaN/inf, and msgspec encodes it."""
    for name in result.__struct_fields__:
        value = getattr(result, name)
        assert type(value) in (int, float, str, bool, list, type(None)), (name, type(value))
        if isinstance(value, float):
            assert math.isfinite(value), name
    decoded = msgspec.json.decode(msgspec.json.encode(result))
    assert decoded["notes"] == result.notes


def test_no_pairs() -> None:
    result = stats.paired_comparison([], [], max_score=100)
    assert result.n_paired == 0
    assert result.from_mean is None and result.t_pvalue is None
    assert result.notes == ["no paired participants"]
    assert_plain_json(result)


def test_one_pair() -> None:
    result = stats.paired_comparison([40.0], [70.0], max_score=100)
    assert result.mean_gain == 30.0
    assert result.normalized_gain == pytest.approx(0.5)  # (70 - 40) / (100 - 40)
    assert result.from_sd is None and result.t_pvalue is None and result.wilcoxon_pvalue is None
    assert any("only one pair" in note for note in result.notes)
    assert_plain_json(result)


def test_two_pairs() -> None:
    # Gains 10 and 30: mean 20, sd √200; t = 20 / (√200/√2) = 2 with 1 df.
    result = stats.paired_comparison([50.0, 40.0], [60.0, 70.0])
    assert result.t_statistic == pytest.approx(2.0)
    assert result.t_df == 1
    assert result.cohens_dz == pytest.approx(20 / math.sqrt(200))
    assert result.hedges_gz is None  # J(1) = 0
    assert any("three pairs" in note for note in result.notes)
    assert_plain_json(result)


def test_zero_variance_of_gains() -> None:
    result = stats.paired_comparison([10.0, 20.0, 30.0], [15.0, 25.0, 35.0])
    assert result.gain_sd == 0.0
    assert result.t_statistic is None and result.gain_ci_low is None
    assert result.cohens_dz is None and result.hedges_gz is None
    assert result.wilcoxon_pvalue is not None  # three ties, still a rank test
    assert any("zero variance" in note for note in result.notes)
    assert_plain_json(result)


def test_from_mean_at_the_maximum() -> None:
    result = stats.paired_comparison([100.0, 100.0, 100.0], [100.0, 90.0, 80.0], max_score=100)
    assert result.normalized_gain is None
    assert result.mean_normalized_gain is None and result.n_at_maximum == 3
    assert any("maximum score" in note for note in result.notes)
    assert_plain_json(result)


def test_all_gains_zero() -> None:
    result = stats.paired_comparison([30.0, 60.0, 90.0], [30.0, 60.0, 90.0], max_score=100)
    assert result.mean_gain == 0.0 and result.normalized_gain == 0.0
    assert result.wilcoxon_pvalue is None and result.rank_biserial is None
    assert result.t_pvalue is None
    assert any("all gains are zero" in note for note in result.notes)
    assert result.n_unchanged == 3
    assert_plain_json(result)


def test_huge_t_falls_back_to_the_asymptotic_interval() -> None:
    result = stats.paired_comparison([0.0, 0.0], [1000.0, 1000.001])
    assert result.t_statistic is not None and result.t_statistic > 1e5
    assert result.dz_ci_method == "asymptotic"
    d, n = result.cohens_dz, 2
    assert d is not None and result.dz_ci_low is not None
    spread = 1.959963984540054 * math.sqrt(1 / n + d * d / (2 * n))
    assert result.dz_ci_low == pytest.approx(d - spread, rel=1e-9)
    assert any("asymptotic" in note for note in result.notes)
    assert_plain_json(result)


def test_the_reported_crash_gives_an_exact_interval() -> None:
    # Issue 8: three people whose confidence goes from 1.0 to 2.9, 3.0 and 2.9 made the
    # old root search step where nctdtr is NaN, and brentq raised.
    result = stats.paired_comparison([1.0, 1.0, 1.0], [2.9, 3.0, 2.9])
    assert result.dz_ci_method == "noncentral_t"
    low, high = result.dz_ci_low, result.dz_ci_high
    assert low is not None and high is not None
    t_obs = result.t_statistic
    assert sps.nct.cdf(t_obs, 2, low * math.sqrt(3)) == pytest.approx(0.975, abs=1e-9)
    assert sps.nct.cdf(t_obs, 2, high * math.sqrt(3)) == pytest.approx(0.025, abs=1e-9)
    assert_plain_json(result)


def test_no_pattern_of_three_confidence_totals_crashes() -> None:
    # n = 3 patterns of totals on a 1..5 scale in steps of 0.1, from a constant start
    # (the issue counted 73 that crashed), all in one call as the report makes it:
    # each pattern is a group. Each must give a plain result.
    values = np.round(np.arange(1.0, 5.01, 0.1), 1)
    patterns = [
        (first, (a, b, c))
        for first in (1.0, 5.0)
        for a, b in itertools.combinations_with_replacement(values, 2)
        for c in values[::8]
    ]
    codes = np.repeat(np.arange(len(patterns)), 3)
    before = np.repeat([first for first, _ in patterns], 3)
    after = np.array([value for _, triple in patterns for value in triple])
    results = stats.paired_by_group(codes, len(patterns), before, after)
    assert len(results) == len(patterns) > 1000
    for result in results:
        assert_plain_json(result)
    assert sum(r.dz_ci_method == "noncentral_t" for r in results) > 900


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("df", [1, 2, 3, 4, 9, 30, 200])
def test_noncentral_intervals_match_brentq_where_both_work(df: int, sign: float) -> None:
    # The vectorised Illinois iteration against scipy's brentq on the same bracket,
    # over |t| up to where the issue saw failures (|t| ~ 25 for n = 2, 220 for n = 4).
    t_values = sign * np.array([0.01, 0.5, 2.0, 7.5, 25.0, 60.0, 220.0])
    low, high, method = stats.noncentral_t_intervals(t_values, np.full(7, df), 0.95)
    for t_obs, lo, hi, how in zip(t_values, low, high, method, strict=True):
        assert how in ("noncentral_t", "asymptotic")
        if how == "asymptotic":
            continue
        assert sps.nct.cdf(t_obs, df, lo) == pytest.approx(0.975, abs=1e-8)
        assert sps.nct.cdf(t_obs, df, hi) == pytest.approx(0.025, abs=1e-8)
    assert np.count_nonzero(method == "noncentral_t") >= 5


def test_d_av_uses_the_mean_of_the_two_sds() -> None:
    before, after = [40.0, 50.0, 60.0, 70.0], [55.0, 60.0, 80.0, 85.0]
    result = stats.paired_comparison(before, after)
    average_sd = (np.std(before, ddof=1) + np.std(after, ddof=1)) / 2
    assert result.d_av == pytest.approx(np.mean(np.subtract(after, before)) / average_sd)


def test_mean_of_individual_normalized_gains_leaves_out_people_at_the_maximum() -> None:
    # gains relative to headroom: (60-40)/60 = 1/3, (100-50)/50 = 1; the 100 is left out
    result = stats.paired_comparison([40.0, 50.0, 100.0], [60.0, 100.0, 90.0], max_score=100)
    assert result.mean_normalized_gain == pytest.approx((1 / 3 + 1) / 2)
    assert result.n_at_maximum == 1
    # Hake's class average: (83.33 - 63.33) / (100 - 63.33)
    assert result.normalized_gain == pytest.approx((250 / 3 - 190 / 3) / (100 - 190 / 3))


def test_wilson_intervals_match_r() -> None:
    # R: prop.test(x, n, correct = FALSE)$conf.int, recorded in meta_cases.json
    cases = META_REFERENCE["wilson"]
    assert cases
    for case in cases:
        interval = stats.wilson_interval(case["x"], case["n"])
        assert interval is not None
        assert interval[0] == pytest.approx(case["low"], rel=1e-6, abs=1e-12)
        assert interval[1] == pytest.approx(case["high"], rel=1e-6, abs=1e-12)
    assert stats.wilson_interval(0, 0) is None


def test_holm_over_a_fixed_family_counts_the_unknown_as_one() -> None:
    # Family of 4 with two known p-values: they get multipliers 4 and 3, as if the
    # unknown two were 1 and sorted last.
    adjusted = stats.holm_fixed_family([0.01, None, 0.02, None], 4)
    assert adjusted == [pytest.approx(0.04), None, pytest.approx(0.06), None]
    assert stats.holm_fixed_family([0.01, 0.02], 2) == stats.holm([0.01, 0.02])
    with pytest.raises(ValueError):
        stats.holm_fixed_family([0.1, 0.2], 1)


def test_paired_by_group_equals_one_group_at_a_time() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, 60)
    before = rng.uniform(0, 100, 60).round(1)
    after = np.clip(before + rng.normal(10, 12, 60), 0, 100).round(1)
    together = stats.paired_by_group(codes, 5, before, after, max_score=100)
    for group in range(5):
        alone = stats.paired_comparison(
            before[codes == group], after[codes == group], max_score=100
        )
        for name in stats.Paired.__struct_fields__:
            if name == "notes":
                continue
            mine, theirs = getattr(together[group], name), getattr(alone, name)
            if isinstance(mine, float):
                assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12), name
            else:
                assert mine == theirs, name


def test_two_sample_edges() -> None:
    assert_plain_json(stats.welch_two_sample([], []))
    one_each = stats.welch_two_sample([50.0], [60.0])
    assert one_each.a_mean == 50.0 and one_each.pvalue is None
    both_constant = stats.welch_two_sample([50.0, 50.0], [60.0, 60.0])
    assert both_constant.pvalue is None
    assert any("zero variance" in note for note in both_constant.notes)
    assert_plain_json(both_constant)


def test_missing_values_are_refused() -> None:
    with pytest.raises(ValueError):
        stats.paired_comparison([1.0, math.nan], [2.0, 3.0])
    with pytest.raises(ValueError):
        stats.paired_comparison([1.0], [2.0, 3.0])
