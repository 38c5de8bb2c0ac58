"""Statistics of pre/post scores: plain floats or None, never NaN, inf or numpy scalars.

Every function takes plain sequences or numpy arrays and returns builtins (inside
msgspec Structs), so results encode to JSON as they are. A value that is undefined for
the data at hand is ``None``, and the result's ``notes`` say why. We check those cases
*before* calling scipy, because scipy answers them with ``nan``/``inf`` and a
RuntimeWarning (and the test suite turns warnings into errors).

What is computed, and against what it is checked (tests/test_stats.py):

* `paired_comparison` -- paired t test (``scipy.stats.ttest_rel(post, pre)``, i.e. on
  the gains ``post - pre``), Wilcoxon signed-rank test with scipy's default method
  choice, rank-biserial correlation, Cohen's d_z with its exact noncentral-t interval,
  Hedges' g_z with the exact gamma-function correction, Hake's normalized gain.
* `welch_unpaired` -- Welch's t test of all post against all pre submissions.
* `holm`, `benjamini_hochberg` -- multiplicity adjustments that skip undefined p-values.
* `between_groups` -- Kruskal-Wallis and Welch's one-way ANOVA (R: ``oneway.test``).
* `kr20`, `item_rest_correlation`, `mcnemar_exact` -- item analysis of 0/1 items.

Differences are rounded to `DECIMALS` places before testing, so that scores computed
along different float paths (``100/3`` vs ``1/3*100``) give exactly zero or exactly
tied gains instead of roundoff noise that breaks ties and zero checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import msgspec
import numpy as np
from scipy import optimize, special, stats

DECIMALS = 10
"""Gains and scores are rounded to this many decimals before tests (see module doc)."""

CONFIDENCE_LEVEL = 0.95

_WILCOXON_EXACT_MAX_N = 50
"""scipy's method='auto' goes asymptotic above this many differences (zeros included)."""
_WILCOXON_PERMUTATION_MAX_N = 13
"""With ties or zeros, scipy enumerates all 2**n sign flips up to this n."""

WilcoxonMethod = Literal["exact", "permutation", "asymptotic"]
"""The method scipy used for the signed-rank p-value (see `wilcoxon_method`)."""


class Paired(msgspec.Struct, kw_only=True, frozen=True):
    """Pre/post comparison of the same participants; gains are ``post - pre``."""

    n_paired: int
    pre_mean: float | None = None
    post_mean: float | None = None
    pre_sd: float | None = None
    post_sd: float | None = None
    mean_gain: float | None = None
    gain_sd: float | None = None
    gain_ci_low: float | None = None
    gain_ci_high: float | None = None
    t_statistic: float | None = None
    t_df: int | None = None
    t_pvalue: float | None = None
    wilcoxon_statistic: float | None = None
    wilcoxon_pvalue: float | None = None
    wilcoxon_method: WilcoxonMethod | None = None
    rank_biserial: float | None = None
    cohens_dz: float | None = None
    dz_ci_low: float | None = None
    dz_ci_high: float | None = None
    hedges_gz: float | None = None
    hedges_gz_ci_low: float | None = None
    hedges_gz_ci_high: float | None = None
    normalized_gain: float | None = None
    n_improved: int = 0
    n_unchanged: int = 0
    n_declined: int = 0
    notes: list[str] = msgspec.field(default_factory=list)


class Unpaired(msgspec.Struct, kw_only=True, frozen=True):
    """All pre against all post submissions, paired or not (Welch's t test)."""

    n_pre: int
    n_post: int
    pre_mean_all: float | None = None
    post_mean_all: float | None = None
    welch_t_statistic: float | None = None
    welch_df: float | None = None
    welch_t_pvalue: float | None = None
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


class Kr20(msgspec.Struct, kw_only=True, frozen=True):
    """Kuder-Richardson 20 reliability of ``k`` 0/1 items answered by ``n`` people."""

    n: int
    k: int
    kr20: float | None = None
    notes: list[str] = msgspec.field(default_factory=list)


# -- small helpers -------------------------------------------------------------------


def _float(value: object) -> float | None:
    """A builtin float, or None for NaN/inf (msgspec would silently write null)."""
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _vector(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf; drop missing values first")
    return array


def _is_constant(values: np.ndarray) -> bool:
    return values.size == 0 or bool(values.max() == values.min())


def _sd(values: np.ndarray) -> float:
    """Sample standard deviation (ddof=1), exactly 0.0 for constant data.

    np.std of e.g. [0.1, 0.1, 0.1] is 1e-17, not 0, because the mean is off by an ulp.
    """
    return 0.0 if _is_constant(values) else float(np.std(values, ddof=1))


# -- paired comparison -------------------------------------------------------------


def paired_comparison(
    pre: Sequence[float] | np.ndarray,
    post: Sequence[float] | np.ndarray,
    *,
    max_score: float | None = None,
) -> Paired:
    """Compare pre and post scores of the same participants (``pre[i]`` with ``post[i]``).

    `max_score` (100 for knowledge percentages) enables Hake's normalized gain of the
    class averages, ``(post_mean - pre_mean) / (max_score - pre_mean)``.
    """
    pre_scores, post_scores = _vector(pre, "pre"), _vector(post, "post")
    if pre_scores.shape != post_scores.shape:
        raise ValueError("pre and post must have the same length (one pair per participant)")
    gains = np.round(post_scores - pre_scores, DECIMALS)
    n = int(gains.size)
    counts = {
        "n_improved": int(np.count_nonzero(gains > 0)),
        "n_unchanged": int(np.count_nonzero(gains == 0)),
        "n_declined": int(np.count_nonzero(gains < 0)),
    }
    if n == 0:
        return Paired(n_paired=0, notes=["no paired participants"], **counts)

    notes: list[str] = []
    fields: dict[str, object] = {
        "pre_mean": _float(pre_scores.mean()),
        "post_mean": _float(post_scores.mean()),
        "mean_gain": _float(gains.mean()),
    }
    if max_score is not None:
        fields["normalized_gain"] = _normalized_gain(pre_scores, post_scores, max_score, notes)
    if n < 2:
        notes.append(
            "only one pair: standard deviations, tests, intervals and effect sizes "
            "need at least two"
        )
        return Paired(n_paired=n, notes=notes, **counts, **fields)  # type: ignore[arg-type]

    fields["pre_sd"] = _sd(pre_scores)
    fields["post_sd"] = _sd(post_scores)
    fields["gain_sd"] = _sd(gains)
    if fields["gain_sd"] == 0.0:
        notes.append(
            "all gains are equal (zero variance): the t test, its interval and the "
            "standardized effect sizes are undefined"
        )
    else:
        fields.update(_t_test_and_effect_sizes(gains, notes))
    fields.update(_wilcoxon(gains, notes))
    return Paired(n_paired=n, notes=notes, **counts, **fields)  # type: ignore[arg-type]


def _normalized_gain(
    pre_scores: np.ndarray, post_scores: np.ndarray, max_score: float, notes: list[str]
) -> float | None:
    """Hake's <g> of class averages; undefined when the class starts at the maximum."""
    pre_mean, post_mean = float(pre_scores.mean()), float(post_scores.mean())
    headroom = max_score - pre_mean
    if headroom <= 10.0**-DECIMALS * max(1.0, abs(max_score)):
        notes.append("pre mean is at the maximum score: normalized gain is undefined")
        return None
    return _float((post_mean - pre_mean) / headroom)


def _t_test_and_effect_sizes(gains: np.ndarray, notes: list[str]) -> dict[str, object]:
    """Paired t test, its interval, d_z and g_z; gains must have non-zero variance."""
    n = gains.size
    df = n - 1
    # scipy.stats.ttest_rel(post, pre) is ttest_1samp(post - pre, 0) (scipy 1.17,
    # _stats_py.py); we pass the rounded gains so the test sees what our checks saw.
    result = stats.ttest_1samp(gains, 0.0)
    interval = result.confidence_interval(CONFIDENCE_LEVEL)
    t_obs = float(result.statistic)
    d_z = t_obs / math.sqrt(n)  # = mean_gain / gain_sd
    out: dict[str, object] = {
        "t_statistic": _float(t_obs),
        "t_df": df,
        "t_pvalue": _float(result.pvalue),
        "gain_ci_low": _float(interval.low),
        "gain_ci_high": _float(interval.high),
        "cohens_dz": _float(d_z),
    }
    d_interval = None
    ncp_interval = noncentral_t_interval(t_obs, df, CONFIDENCE_LEVEL)
    if ncp_interval is None:
        notes.append("the noncentral-t interval for d_z could not be computed (|t| too large)")
    else:
        d_interval = (ncp_interval[0] / math.sqrt(n), ncp_interval[1] / math.sqrt(n))
        out["dz_ci_low"], out["dz_ci_high"] = d_interval

    correction = hedges_j(df)
    if correction is None:
        notes.append("Hedges' g_z needs at least three pairs")
    else:
        out["hedges_gz"] = _float(correction * d_z)
        if d_interval is not None:
            out["hedges_gz_ci_low"] = correction * d_interval[0]
            out["hedges_gz_ci_high"] = correction * d_interval[1]
    return out


def hedges_j(df: int) -> float | None:
    """Exact small-sample correction J(df) = Γ(df/2) / (√(df/2) · Γ((df-1)/2)).

    Hedges & Olkin (1985). Computed on the log scale (gammaln) so large df do not
    overflow. J(1) is 0 in the limit, which would turn every g into 0, so df < 2 has
    no correction (None).
    """
    if df < 2:
        return None
    half = df / 2.0
    return float(
        math.exp(special.gammaln(half) - 0.5 * math.log(half) - special.gammaln(half - 0.5))
    )


def noncentral_t_interval(t_obs: float, df: int, level: float) -> tuple[float, float] | None:
    """Interval for the noncentrality parameter of a t statistic ("pivot" method).

    The bounds solve ``nct.cdf(t_obs, df, ncp) = (1 + level)/2`` and ``(1 - level)/2``;
    dividing them by √n gives the interval of d_z (as R's effectsize::cohens_d does).
    None when the noncentral t cdf cannot be evaluated that far out (huge |t|, tiny df).
    """
    tail = (1.0 - level) / 2.0
    low = _noncentrality_where_cdf_is(1.0 - tail, t_obs, df)
    high = _noncentrality_where_cdf_is(tail, t_obs, df)
    if low is None or high is None:
        return None
    return low, high


def _noncentrality_where_cdf_is(target: float, t_obs: float, df: int) -> float | None:
    # special.nctdtr(df, ncp, t) is nct.cdf(t, df, ncp) without the rv_continuous
    # overhead; it falls as ncp grows, so expand a bracket around t_obs, then bisect.
    def excess(ncp: float) -> float:
        return float(special.nctdtr(df, ncp, t_obs)) - target

    first_step = 1.0 + 0.1 * abs(t_obs)
    low = _expand(excess, t_obs, -first_step, want_positive=True)
    high = _expand(excess, t_obs, first_step, want_positive=False)
    if low is None or high is None:
        return None
    return float(optimize.brentq(excess, low, high, xtol=1e-12))


def _expand(
    excess: Callable[[float], float], start: float, step: float, *, want_positive: bool
) -> float | None:
    """Step away from `start`, doubling the step, until `excess` has the wanted sign."""
    point = start + step
    for _ in range(60):
        value = excess(point)
        if not math.isfinite(value):
            return None
        if (value > 0) == want_positive and value != 0:
            return point
        step *= 2.0
        point += step
    return None


# -- Wilcoxon signed-rank ------------------------------------------------------------


def wilcoxon_method(gains: np.ndarray) -> WilcoxonMethod:
    """The method scipy 1.17's ``wilcoxon(d)`` (method='auto') uses for these differences.

    Read from scipy/stats/_wilcoxon.py (`_wilcoxon_iv`, `_wilcoxon_nd`):
    more than 50 differences (zeros counted) -> 'asymptotic'; otherwise 'exact' when
    there are no zeros and no ties among |d|; with zeros or ties, an exhaustive
    'permutation' test when n <= 13 (2**13 < 9999 resamples), else 'asymptotic'.
    `_wilcoxon` then runs exactly that method (scipy's 'exact'/'asymptotic', our fast
    equivalent of its permutation test), so the name we report is what was computed;
    the tests compare every branch with scipy's default call.
    """
    n = gains.size
    if n > _WILCOXON_EXACT_MAX_N:
        return "asymptotic"
    nonzero = np.abs(gains[gains != 0])
    has_zeros = nonzero.size < n
    has_ties = np.unique(nonzero).size < nonzero.size
    if not (has_zeros or has_ties):
        return "exact"
    if n <= _WILCOXON_PERMUTATION_MAX_N:
        return "permutation"
    return "asymptotic"


def _wilcoxon(gains: np.ndarray, notes: list[str]) -> dict[str, object]:
    """Signed-rank test (zeros dropped, as R and scipy do) and rank-biserial r."""
    nonzero = gains[gains != 0]
    if nonzero.size == 0:
        notes.append("all gains are zero: the Wilcoxon signed-rank test is undefined")
        return {}
    method = wilcoxon_method(gains)
    if method == "permutation":
        statistic, pvalue = _signed_rank_permutation_test(nonzero)
    else:
        result = stats.wilcoxon(gains, method=method)
        statistic, pvalue = float(result.statistic), float(result.pvalue)
    return {
        "wilcoxon_statistic": _float(statistic),
        "wilcoxon_pvalue": _float(pvalue),
        "wilcoxon_method": method,
        "rank_biserial": rank_biserial(nonzero),
    }


def _signed_rank_permutation_test(nonzero: np.ndarray) -> tuple[float, float]:
    """(min(R+, R-), two-sided p) over all 2**m sign assignments of the m ranks.

    The same numbers as scipy's ``wilcoxon(d, method=PermutationMethod())`` with
    exhaustive enumeration (checked in the tests), ~100x faster: scipy calls its
    statistic once per sign pattern in Python. Zeros are left out; each of their sign
    flips would only repeat every pattern, which leaves the proportions unchanged.
    The p-value is scipy.stats.permutation_test's: 2 * min(P(null <= obs),
    P(null >= obs)), capped at 1, comparing with a relative tolerance of 100 eps.
    """
    ranks = stats.rankdata(np.abs(nonzero))
    m = ranks.size
    observed = float(ranks[nonzero > 0].sum())
    plus_signs = (np.arange(2**m)[:, np.newaxis] >> np.arange(m)) & 1
    null = plus_signs @ ranks
    tolerance = abs(observed) * np.finfo(float).eps * 100
    p_less = np.mean(null <= observed + tolerance)
    p_greater = np.mean(null >= observed - tolerance)
    statistic = min(observed, float(ranks.sum()) - observed)
    return statistic, min(1.0, 2.0 * float(min(p_less, p_greater)))


def rank_biserial(differences: Sequence[float] | np.ndarray) -> float | None:
    """Matched-pairs rank-biserial r = (R+ - R-) / (R+ + R-) over non-zero differences.

    Kerby (2014). +1: every change is an improvement; -1: every change a decline.
    """
    d = np.round(_vector(differences, "differences"), DECIMALS)
    d = d[d != 0]
    if d.size == 0:
        return None
    ranks = stats.rankdata(np.abs(d))
    r_plus = float(ranks[d > 0].sum())
    r_minus = float(ranks[d < 0].sum())
    return (r_plus - r_minus) / (r_plus + r_minus)


# -- unpaired view -------------------------------------------------------------------


def welch_unpaired(
    pre_all: Sequence[float] | np.ndarray, post_all: Sequence[float] | np.ndarray
) -> Unpaired:
    """Welch's t test of every post against every pre submission (paired or not).

    Equal to ``scipy.stats.ttest_ind(post, pre, equal_var=False)`` (checked in the
    tests), but computed here because scipy warns about "catastrophic cancellation"
    whenever one phase is constant (e.g. everyone scores 100% after the course), which
    is a legitimate case for Welch's test: only the other phase's variance is used.
    """
    pre_scores = np.round(_vector(pre_all, "pre_all"), DECIMALS)
    post_scores = np.round(_vector(post_all, "post_all"), DECIMALS)
    n_pre, n_post = int(pre_scores.size), int(post_scores.size)
    notes: list[str] = []
    fields: dict[str, object] = {}
    if n_pre:
        fields["pre_mean_all"] = _float(pre_scores.mean())
    if n_post:
        fields["post_mean_all"] = _float(post_scores.mean())
    if n_pre < 2 or n_post < 2:
        notes.append("Welch's t test needs at least two submissions in each phase")
        return Unpaired(n_pre=n_pre, n_post=n_post, notes=notes, **fields)  # type: ignore[arg-type]

    pre_share = _sd(pre_scores) ** 2 / n_pre  # squared standard error of each mean
    post_share = _sd(post_scores) ** 2 / n_post
    standard_error_sq = pre_share + post_share
    if standard_error_sq == 0.0:
        notes.append("both phases have zero variance: Welch's t test is undefined")
        return Unpaired(n_pre=n_pre, n_post=n_post, notes=notes, **fields)  # type: ignore[arg-type]

    t_stat = (post_scores.mean() - pre_scores.mean()) / math.sqrt(standard_error_sq)
    # Welch-Satterthwaite degrees of freedom
    df = standard_error_sq**2 / (pre_share**2 / (n_pre - 1) + post_share**2 / (n_post - 1))
    pvalue = 2.0 * special.stdtr(df, -abs(t_stat))
    return Unpaired(
        n_pre=n_pre,
        n_post=n_post,
        welch_t_statistic=_float(t_stat),
        welch_df=_float(df),
        welch_t_pvalue=_float(min(1.0, pvalue)),
        notes=notes,
        **fields,  # type: ignore[arg-type]
    )


# -- multiplicity ----------------------------------------------------------------------


def _defined(pvalues: Sequence[float | None]) -> tuple[list[int], np.ndarray]:
    """Positions and values of the p-values that exist (None and NaN are left out)."""
    positions = [i for i, p in enumerate(pvalues) if p is not None and math.isfinite(p)]
    return positions, np.array([pvalues[i] for i in positions], dtype=float)


def _put_back(n: int, positions: list[int], adjusted: np.ndarray) -> list[float | None]:
    out: list[float | None] = [None] * n
    for position, value in zip(positions, adjusted, strict=True):
        out[position] = float(value)
    return out


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm (1979) step-down adjusted p-values; None stays None and is not counted.

    Sorted ascending, the i-th smallest (0-based) of m becomes (m - i) * p, made
    non-decreasing by a running maximum and capped at 1 (R: p.adjust(p, "holm")).
    """
    positions, values = _defined(pvalues)
    m = values.size
    if m == 0:
        return [None] * len(pvalues)
    order = np.argsort(values, kind="stable")
    scaled = values[order] * (m - np.arange(m))
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return _put_back(len(pvalues), positions, adjusted)


def benjamini_hochberg(pvalues: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg (1995) adjusted p-values; None stays None and is not counted.

    scipy.stats.false_discovery_control raises on NaN, so undefined tests are dropped
    first and the family is the defined ones.
    """
    positions, values = _defined(pvalues)
    if values.size == 0:
        return [None] * len(pvalues)
    adjusted = stats.false_discovery_control(values, method="bh")
    return _put_back(len(pvalues), positions, np.asarray(adjusted))


# -- independent groups ----------------------------------------------------------------


def between_groups(groups: Sequence[Sequence[float] | np.ndarray]) -> BetweenGroups:
    """Kruskal-Wallis H and Welch's one-way ANOVA over groups with at least two values.

    Groups with fewer than two values are left out of both tests (Welch's weights need
    a variance per group). Kruskal-Wallis is undefined when all values are equal;
    Welch's ANOVA when any group has zero variance.
    """
    arrays = [np.round(_vector(g, "group"), DECIMALS) for g in groups]
    usable = [a for a in arrays if a.size >= 2]
    notes: list[str] = []
    if len(usable) < len(arrays):
        notes.append(f"{len(arrays) - len(usable)} group(s) with fewer than two values left out")
    if len(usable) < 2:
        notes.append("fewer than two groups with at least two values: no comparison")
        return BetweenGroups(n_groups=len(usable), notes=notes)

    fields: dict[str, object] = {}
    if _is_constant(np.concatenate(usable)):
        notes.append("all values are equal: Kruskal-Wallis is undefined")
    else:
        kruskal = stats.kruskal(*usable)
        fields["kruskal_h"] = _float(kruskal.statistic)
        fields["kruskal_pvalue"] = _float(kruskal.pvalue)

    if any(_is_constant(a) for a in usable):
        notes.append("a group has zero variance: Welch's ANOVA is undefined")
    else:
        fields.update(_welch_anova(usable))
    return BetweenGroups(n_groups=len(usable), notes=notes, **fields)  # type: ignore[arg-type]


def _welch_anova(groups: list[np.ndarray]) -> dict[str, float | None]:
    """Welch (1951) F test; groups must each have n >= 2 and non-zero variance.

    F and p come from ``scipy.stats.f_oneway(..., equal_var=False)`` (scipy >= 1.16);
    scipy does not return the degrees of freedom, so the denominator df is computed
    here with Welch's formula (R: oneway.test(var.equal = FALSE) prints both).
    """
    result = stats.f_oneway(*groups, equal_var=False)
    k = len(groups)
    sizes = np.array([g.size for g in groups], dtype=float)
    weights = sizes / np.array([np.var(g, ddof=1) for g in groups])
    spread = np.sum((1.0 - weights / weights.sum()) ** 2 / (sizes - 1.0))
    return {
        "welch_f": _float(result.statistic),
        "welch_df1": float(k - 1),
        "welch_df2": _float((k**2 - 1) / (3.0 * spread)),
        "welch_pvalue": _float(result.pvalue),
    }


# -- items -----------------------------------------------------------------------------


def _item_matrix(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    scores = np.asarray(matrix, dtype=float)
    if scores.ndim != 2:
        raise ValueError("matrix must be two-dimensional: rows participants, columns items")
    if not np.all(np.isfinite(scores)):
        raise ValueError("matrix contains NaN or inf; keep complete rows only")
    return scores


def kr20(matrix: Sequence[Sequence[float]] | np.ndarray) -> Kr20:
    """KR-20 = k/(k-1) · (1 - Σ var_j / var_total), rows participants, columns 0/1 items.

    Item and total variances both use ddof=1; their ratio equals the one with
    population variances (p·q), so this is Cronbach's alpha on 0/1 items. Mixing the
    two (Σ p·q over a sample variance) is a common spreadsheet error.
    """
    scores = _item_matrix(matrix)
    n, k = int(scores.shape[0]), int(scores.shape[1])
    if k < 2:
        return Kr20(n=n, k=k, notes=["KR-20 needs at least two items"])
    if n < 2:
        return Kr20(n=n, k=k, notes=["KR-20 needs at least two participants"])
    totals = scores.sum(axis=1)
    if _is_constant(totals):
        return Kr20(n=n, k=k, notes=["every participant has the same total: KR-20 is undefined"])
    item_variance = float(np.var(scores, axis=0, ddof=1).sum())
    total_variance = float(np.var(totals, ddof=1))
    return Kr20(n=n, k=k, kr20=_float(k / (k - 1) * (1.0 - item_variance / total_variance)))


def item_rest_correlations(matrix: Sequence[Sequence[float]] | np.ndarray) -> list[float | None]:
    """Corrected item-total (item-rest) point-biserial correlation of every item.

    The rest score leaves the item out, so an item is not correlated with itself.
    None where the item or its rest score is constant (the correlation is undefined).
    The point-biserial r is Pearson's r with a 0/1 variable; computed for all items
    at once, it equals scipy.stats.pointbiserialr item by item (see the tests).
    """
    scores = _item_matrix(matrix)
    n, k = scores.shape
    if n < 2:
        return [None] * k
    rest = scores.sum(axis=1, keepdims=True) - scores
    item_dev = scores - scores.mean(axis=0)
    rest_dev = rest - rest.mean(axis=0)
    item_ss = (item_dev**2).sum(axis=0)
    rest_ss = (rest_dev**2).sum(axis=0)
    covariance = (item_dev * rest_dev).sum(axis=0)
    result: list[float | None] = []
    for j in range(k):
        if _is_constant(scores[:, j]) or _is_constant(rest[:, j]):
            result.append(None)
        else:
            r = covariance[j] / math.sqrt(item_ss[j] * rest_ss[j])
            result.append(_float(min(1.0, max(-1.0, r))))
    return result


def item_rest_correlation(matrix: Sequence[Sequence[float]] | np.ndarray, j: int) -> float | None:
    """`item_rest_correlations` of item `j` alone."""
    return item_rest_correlations(matrix)[j]


def mcnemar_exact(b: int, c: int) -> float | None:
    """Exact McNemar p-value from the discordant pairs.

    b: wrong before, right after; c: right before, wrong after. Under no change each
    discordant pair is a fair coin: p = binomtest(min(b, c), b + c, 0.5), two-sided.
    None when there are no discordant pairs.
    """
    if b < 0 or c < 0:
        raise ValueError("b and c are counts")
    if b + c == 0:
        return None
    return _float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)
