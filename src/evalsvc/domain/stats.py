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

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated, Literal, NamedTuple

import msgspec
import numpy as np
from scipy import special, stats

from evalsvc.domain.columns import DF, EFFECT, GAIN, MEASURE, PEOPLE, STATISTIC, TEXT, P, column
from evalsvc.domain.signed_rank import (
    DenseValues,
    SignedRankTests,
    dense_values,
    methods,
    signed_rank_tests,
    signed_rank_tests_of_cells,
    signed_ranks,
)

DECIMALS = 10
"""Gains and scores are rounded to this many decimals before tests (see module doc)."""

CONFIDENCE_LEVEL = 0.95

WilcoxonMethod = Literal["exact", "permutation", "asymptotic"]
"""The method scipy used for the signed-rank p-value (see `wilcoxon_method`)."""
IntervalMethod = Literal["noncentral_t", "asymptotic"]
"""How the d_z interval was found (see `noncentral_t_intervals`)."""

_NUMERIC_FAILURES = (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError)
"""What a statistic of one cell may raise; caught per cell and turned into a note."""


class Paired(msgspec.Struct, kw_only=True, frozen=True):
    """The comparison of the same people's scores in two phases; gains are ``to - from``."""

    n_paired: Annotated[
        int, column("people with a score in both phases of the comparison", PEOPLE)
    ] = 0
    from_mean: Annotated[
        float | None, column("mean score of the paired people in the from phase", MEASURE)
    ] = None
    to_mean: Annotated[
        float | None, column("mean score of the paired people in the to phase", MEASURE)
    ] = None
    from_sd: Annotated[
        float | None, column("standard deviation (n - 1) of the from scores", MEASURE)
    ] = None
    to_sd: Annotated[
        float | None, column("standard deviation (n - 1) of the to scores", MEASURE)
    ] = None
    mean_gain: Annotated[float | None, column("mean of to minus from", GAIN)] = None
    gain_sd: Annotated[float | None, column("standard deviation (n - 1) of the gains", GAIN)] = None
    gain_ci_low: Annotated[
        float | None, column("lower end of the 95% t interval of the mean gain", GAIN)
    ] = None
    gain_ci_high: Annotated[
        float | None, column("upper end of the 95% t interval of the mean gain", GAIN)
    ] = None
    t_statistic: Annotated[
        float | None, column("paired t statistic: mean gain / (gain_sd / sqrt(n))", STATISTIC)
    ] = None
    t_df: Annotated[int | None, column("degrees of freedom of the paired t test (n - 1)", DF)] = (
        None
    )
    t_pvalue: Annotated[float | None, column("two-sided p-value of the paired t test", P)] = None
    wilcoxon_statistic: Annotated[
        float | None,
        column("Wilcoxon signed-rank statistic: the smaller of the signed rank sums", STATISTIC),
    ] = None
    wilcoxon_pvalue: Annotated[
        float | None,
        column("two-sided p-value of the Wilcoxon signed-rank test (zero gains dropped)", P),
    ] = None
    wilcoxon_method: Annotated[
        WilcoxonMethod | None,
        column("how the Wilcoxon p-value was computed: exact, permutation or asymptotic", TEXT),
    ] = None
    rank_biserial: Annotated[
        float | None,
        column("matched-pairs rank-biserial correlation (R+ - R-) / (R+ + R-)", EFFECT),
    ] = None
    cohens_dz: Annotated[
        float | None, column("Cohen's d_z: mean gain / gain_sd", EFFECT, label="d_z")
    ] = None
    dz_ci_low: Annotated[float | None, column("lower end of the 95% interval of d_z", EFFECT)] = (
        None
    )
    dz_ci_high: Annotated[float | None, column("upper end of the 95% interval of d_z", EFFECT)] = (
        None
    )
    dz_ci_method: Annotated[
        IntervalMethod | None,
        column("how the d_z interval was found: noncentral_t (exact) or asymptotic", TEXT),
    ] = None
    d_av: Annotated[
        float | None,
        column("d_av: mean gain / the mean of from_sd and to_sd", EFFECT, label="d_av"),
    ] = None
    hedges_gz: Annotated[
        float | None, column("Hedges' g_z: d_z times the exact correction J(n - 1)", EFFECT)
    ] = None
    hedges_gz_ci_low: Annotated[
        float | None, column("lower end of the 95% interval of g_z", EFFECT)
    ] = None
    hedges_gz_ci_high: Annotated[
        float | None, column("upper end of the 95% interval of g_z", EFFECT)
    ] = None
    normalized_gain: Annotated[
        float | None,
        column(
            "Hake's class-average normalized gain (to_mean - from_mean) / (max - from_mean)",
            EFFECT,
        ),
    ] = None
    mean_normalized_gain: Annotated[
        float | None,
        column(
            "mean of the individual normalized gains (to - from) / (max - from), over the "
            "people below the maximum in the from phase",
            EFFECT,
        ),
    ] = None
    n_at_maximum: Annotated[
        int | None,
        column(
            "paired people at the maximum in the from phase (left out of the mean of "
            "individual normalized gains)",
            PEOPLE,
        ),
    ] = None
    n_improved: Annotated[int | None, column("paired people whose score rose", PEOPLE)] = None
    n_unchanged: Annotated[int | None, column("paired people whose score stayed", PEOPLE)] = None
    n_declined: Annotated[int | None, column("paired people whose score fell", PEOPLE)] = None
    notes: Annotated[
        list[str], column("why a figure is missing, and other remarks, in English", TEXT)
    ] = msgspec.field(default_factory=list)


PAIRED_FIGURES = tuple(
    name for name in Paired.__struct_fields__ if name not in ("n_paired", "notes")
)
"""The figures of `Paired` that a withheld cell leaves out (counts of people stay)."""


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


class Kr20(msgspec.Struct, kw_only=True, frozen=True):
    """Kuder-Richardson 20 reliability of ``k`` 0/1 items answered by ``n`` people."""

    n: int
    k: int
    kr20: float | None = None
    notes: list[str] = msgspec.field(default_factory=list)


# -- small helpers -------------------------------------------------------------------


def _float(value: object) -> float | None:
    """A builtin float, or None for NaN/inf (msgspec would silently write null)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
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


# -- paired comparisons of many groups at once -------------------------------------------


def paired_comparison(
    from_scores: Sequence[float] | np.ndarray,
    to_scores: Sequence[float] | np.ndarray,
    *,
    max_score: float | None = None,
) -> Paired:
    """Compare the scores of the same people in two phases (``from[i]`` with ``to[i]``).

    `max_score` (100 for knowledge percentages) enables the normalized gains.
    """
    before, after = _vector(from_scores, "from"), _vector(to_scores, "to")
    if before.shape != after.shape:
        raise ValueError("from and to must have the same length (one pair per person)")
    codes = np.zeros(before.size, dtype=np.intp)
    return paired_by_group(codes, 1, before, after, max_score=max_score)[0]


def paired_by_group(
    codes: np.ndarray,
    n_groups: int,
    from_scores: np.ndarray,
    to_scores: np.ndarray,
    *,
    max_score: float | None = None,
    wanted: np.ndarray | None = None,
    gain_values: DenseValues | None = None,
) -> list[Paired]:
    """`Paired` statistics of each group ``0 .. n_groups-1`` of paired people.

    `codes[i]` is person i's group; scores must be finite. Every statistic is computed
    for all groups together: means, standard deviations, t tests, intervals and effect
    sizes by numpy reductions over the group codes, the signed-rank test from each
    group's counts of the distinct gains (`signed_rank`). Groups whose `wanted` is
    False get their count only. `gain_values`: the distinct rounded gains and each
    person's index into them (`signed_rank.dense_values`), when the caller has them.
    """
    return paired_by_cells(
        codes,
        n_groups,
        None,
        from_scores,
        to_scores,
        max_score=max_score,
        wanted=wanted,
        gain_values=gain_values,
    )


def paired_by_cells(
    cells: np.ndarray,
    n_cells: int,
    groups: np.ndarray | None,
    from_scores: np.ndarray,
    to_scores: np.ndarray,
    *,
    max_score: float | None = None,
    wanted: np.ndarray | None = None,
    gain_values: DenseValues | None = None,
) -> list[Paired]:
    """`paired_by_group` of groups that share people: each person is in one cell
    (`cells[i]`, ``0 .. n_cells-1``), each group is a set of cells (``groups[g, c]``
    is 1 where cell c belongs to group g; None: the cells are the groups).

    A person in several groups (everyone in "all", an agency and a sex, say) is
    summed once, into their cell; the cells' sums, deviations, counts and counts of
    each distinct gain are then added up per group (`_GroupedMoments`).
    """
    cells = np.asarray(cells, dtype=np.intp)
    before = np.asarray(from_scores, dtype=float)
    after = np.asarray(to_scores, dtype=float)
    if gain_values is not None:  # the rounded gains, as distinct values and indices
        gains = gain_values.distinct[gain_values.codes]
    else:
        gains = np.round(after - before, DECIMALS)
    moments = _GroupedMoments(cells, n_cells, groups)
    n = moments.n
    n_groups = int(n.size)
    before_mean, before_sd = moments.mean_sd(before)
    after_mean, after_sd = moments.mean_sd(after)
    gain_mean, gain_sd = moments.mean_sd(gains)
    improved = moments.count(gains > 0)
    unchanged = moments.count(gains == 0)
    declined = moments.count(gains < 0)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        df = n - 1
        standard_error = gain_sd / np.sqrt(n)
        testable = (n >= 2) & (gain_sd > 0)
        t_obs = np.where(testable, gain_mean / standard_error, np.nan)
        t_p = np.where(testable, 2.0 * special.stdtr(df, -np.abs(t_obs)), np.nan)
        critical = np.where(testable, special.stdtrit(df, 0.5 + CONFIDENCE_LEVEL / 2), np.nan)
        ci_low = gain_mean - critical * standard_error
        ci_high = gain_mean + critical * standard_error
        d_z = t_obs / np.sqrt(n)
        needed = t_obs if wanted is None else np.where(wanted, t_obs, np.nan)
        dz_low, dz_high, dz_method = noncentral_t_intervals(needed, df, CONFIDENCE_LEVEL)
        dz_low, dz_high = dz_low / np.sqrt(n), dz_high / np.sqrt(n)
        correction = hedges_j_array(df)
        average_sd = (before_sd + after_sd) / 2.0
        d_av = np.where((n >= 2) & (average_sd > 0), gain_mean / average_sd, np.nan)

    normalized = individual = at_maximum = None
    if max_score is not None:
        normalized, individual, at_maximum = _normalized_gains(
            moments, before, after, before_mean, after_mean, max_score
        )

    if groups is None:
        signed = signed_rank_tests(cells, n_groups, gains, wanted, gain_values)
    else:
        values = gain_values if gain_values is not None else dense_values(gains)
        signed = signed_rank_tests_of_cells(cells, groups, gains, values, wanted)
    results = []
    for g in range(n_groups):
        notes: list[str] = []
        count = int(n[g])
        if count == 0:
            results.append(Paired(n_paired=0, notes=["no paired participants"]))
            continue
        if wanted is not None and not wanted[g]:
            results.append(Paired(n_paired=count))
            continue
        fields: dict[str, object] = {
            "from_mean": _float(before_mean[g]),
            "to_mean": _float(after_mean[g]),
            "mean_gain": _float(gain_mean[g]),
            "n_improved": int(improved[g]),
            "n_unchanged": int(unchanged[g]),
            "n_declined": int(declined[g]),
        }
        if max_score is not None:
            assert normalized is not None and individual is not None and at_maximum is not None
            fields["normalized_gain"] = _float(normalized[g])
            if fields["normalized_gain"] is None:
                notes.append("the from mean is at the maximum score: normalized gain is undefined")
            fields["mean_normalized_gain"] = _float(individual[g])
            fields["n_at_maximum"] = int(at_maximum[g])
            if at_maximum[g]:
                notes.append(
                    f"{int(at_maximum[g])} paired people at the maximum in the from phase are "
                    "left out of the mean of individual normalized gains"
                )
        if count < 2:
            notes.append(
                "only one pair: standard deviations, tests, intervals and effect sizes "
                "need at least two"
            )
            results.append(Paired(n_paired=count, notes=notes, **fields))  # type: ignore[arg-type]
            continue
        fields["from_sd"] = _float(before_sd[g])
        fields["to_sd"] = _float(after_sd[g])
        fields["gain_sd"] = _float(gain_sd[g])
        fields["d_av"] = _float(d_av[g])
        if fields["d_av"] is None:
            notes.append("both phases have zero variance: d_av is undefined")
        if not testable[g]:
            notes.append(
                "all gains are equal (zero variance): the t test, its interval and d_z "
                "are undefined"
            )
        else:
            fields.update(
                t_statistic=_float(t_obs[g]),
                t_df=int(df[g]),
                t_pvalue=_float(t_p[g]),
                gain_ci_low=_float(ci_low[g]),
                gain_ci_high=_float(ci_high[g]),
                cohens_dz=_float(d_z[g]),
            )
            _effect_intervals(fields, notes, dz_low[g], dz_high[g], dz_method[g], correction[g])
        fields.update(_signed_rank_fields(signed, g, notes))
        results.append(Paired(n_paired=count, notes=notes, **fields))  # type: ignore[arg-type]
    return results


def _effect_intervals(
    fields: dict[str, object],
    notes: list[str],
    low: float,
    high: float,
    method: str,
    correction: float,
) -> None:
    d_z = fields["cohens_dz"]
    interval = (_float(low), _float(high))
    if interval[0] is None or interval[1] is None:
        notes.append("the interval of d_z could not be computed for this t statistic")
    else:
        fields["dz_ci_low"], fields["dz_ci_high"] = interval
        fields["dz_ci_method"] = method
        if method == "asymptotic":
            notes.append(
                "the d_z interval is the asymptotic one (d_z ± 1.96·√(1/n + d_z²/2n)): the "
                "noncentral t could not be inverted this far out"
            )
    j = _float(correction)
    if j is None or d_z is None:
        notes.append("Hedges' g_z needs at least three pairs")
        return
    fields["hedges_gz"] = _float(j * float(d_z))  # type: ignore[arg-type]
    if interval[0] is not None and interval[1] is not None:
        fields["hedges_gz_ci_low"] = _float(j * interval[0])
        fields["hedges_gz_ci_high"] = _float(j * interval[1])


def grouped_moments(
    codes: np.ndarray, n_cells: int, groups: np.ndarray | None = None
) -> _GroupedMoments:
    """Sums and standard deviations of groups of people in cells (`_GroupedMoments`)."""
    return _GroupedMoments(np.asarray(codes, dtype=np.intp), n_cells, groups)


class _GroupedMoments:
    """Sums over groups of people, two-pass for the standard deviations.

    Each person is in one cell (`codes`). A group is a cell (`groups` None) or a set of
    cells (``groups[g, c]`` is 1 where cell c is in group g): then each person is
    summed once, into their cell, and the cells' sums are added up per group, their
    squared deviations combined as Chan, Golub & LeVeque (1979) do:
    ``M2 = Σ_c (M2_c + n_c · (mean_c - mean)²)``.
    """

    def __init__(self, codes: np.ndarray, n_cells: int, groups: np.ndarray | None = None) -> None:
        self.codes = codes
        self.n_cells = n_cells
        self.groups = groups
        self.cell_n = np.bincount(codes, minlength=n_cells)[:n_cells]
        self.n = self.cell_n if groups is None else self._count(self.cell_n)

    def _count(self, per_cell: np.ndarray) -> np.ndarray:
        if self.groups is None:
            return per_cell
        return np.rint(self.groups @ per_cell).astype(np.int64)

    def sum(self, values: np.ndarray) -> np.ndarray:
        per_cell = np.bincount(self.codes, weights=values, minlength=self.n_cells)
        per_cell = per_cell[: self.n_cells]
        return per_cell if self.groups is None else self.groups @ per_cell

    def count(self, mask: np.ndarray) -> np.ndarray:
        per_cell = np.bincount(self.codes, weights=mask, minlength=self.n_cells)
        return self._count(np.rint(per_cell[: self.n_cells]).astype(np.int64))

    def mean_sd(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and sample standard deviations; a constant group's is exactly 0."""
        cell_n, n = self.cell_n, self.n
        with np.errstate(divide="ignore", invalid="ignore"):
            cell_sum = np.bincount(self.codes, weights=values, minlength=self.n_cells)
            cell_mean = cell_sum[: self.n_cells] / cell_n
            deviations = values - cell_mean[self.codes] if values.size else values
            squares = deviations * deviations
            cell_m2 = np.bincount(self.codes, weights=squares, minlength=self.n_cells)
            cell_m2 = cell_m2[: self.n_cells]
            if self.groups is None:
                mean, m2 = cell_mean, cell_m2
            else:
                mean = (self.groups @ cell_sum[: self.n_cells]) / n
                occupied = cell_n > 0
                shift = np.where(occupied, cell_mean, 0.0)[None, :] - mean[:, None]
                parts = np.where(occupied[None, :], cell_m2 + cell_n * shift**2, 0.0)
                m2 = (self.groups * parts).sum(axis=1)
            variance = m2 / (n - 1)
        sd = np.sqrt(np.where(n >= 2, variance, np.nan))
        sd[self._constant(values)] = 0.0
        sd[n < 2] = np.nan
        return mean, sd

    def _constant(self, values: np.ndarray) -> np.ndarray:
        low = np.full(self.n_cells, np.inf)
        high = np.full(self.n_cells, -np.inf)
        np.minimum.at(low, self.codes, values)
        np.maximum.at(high, self.codes, values)
        if self.groups is not None:
            member = self.groups > 0
            low = np.where(member, low[None, :], np.inf).min(axis=1, initial=np.inf)
            high = np.where(member, high[None, :], -np.inf).max(axis=1, initial=-np.inf)
        return (self.n > 0) & (low == high)


def _normalized_gains(
    groups: _GroupedMoments,
    before: np.ndarray,
    after: np.ndarray,
    before_mean: np.ndarray,
    after_mean: np.ndarray,
    max_score: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hake's class-average gain, the mean individual gain, and who is at the maximum."""
    tolerance = 10.0**-DECIMALS * max(1.0, abs(max_score))
    with np.errstate(divide="ignore", invalid="ignore"):
        headroom = max_score - before_mean
        class_average = np.where(
            headroom > tolerance, (after_mean - before_mean) / headroom, np.nan
        )
        below = before < max_score - tolerance
        personal = np.where(below, (after - before) / np.where(below, max_score - before, 1.0), 0.0)
        eligible = groups.count(below)
        individual = np.where(eligible > 0, groups.sum(personal) / eligible, np.nan)
    return class_average, individual, groups.count(~below)


def noncentral_t_intervals(
    t_obs: np.ndarray, df: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval of the noncentrality parameter of each t statistic ("pivot" method).

    The bounds solve ``nct.cdf(t_obs, df, ncp) = (1 + level)/2`` and ``(1 - level)/2``;
    dividing them by √n gives the interval of d_z, as R's effectsize::cohens_d does.

    Computed for t >= 0 and mirrored for t < 0 (the noncentral t is symmetric:
    ``cdf(t; ncp) = 1 - cdf(-t; -ncp)``), on brackets where scipy's ``nctdtr`` stays
    finite: ``[max(t - h, -z - 1), t]`` and ``[t, t + h]`` with
    ``h = 10·√(1 + t²/(2 df))``, ten standard errors of the noncentrality estimate.
    All cells are solved together by a vectorised Illinois (regula falsi) iteration
    to an absolute 1e-12, starting from a narrow bracket around Johnson & Welch's normal
    approximation where that holds the root, else from those. Where neither bracket
    has finite ends around the root (|t| in the tens of thousands with df = 1, say),
    the cell gets the asymptotic interval ``t ± z·√(1 + t²/(2n))`` instead, n = df + 1
    -- for d_z this is Hedges & Olkin's (1985) large-sample variance 1/n + d²/(2n) --
    and its method says "asymptotic".
    Cells whose t is not finite give NaN bounds and method "".
    """
    t_obs = np.atleast_1d(np.asarray(t_obs, dtype=float))
    df = np.atleast_1d(np.asarray(df, dtype=float))
    tail = (1.0 - level) / 2.0
    z = float(special.ndtri(1.0 - tail))
    valid = np.isfinite(t_obs) & (df >= 1)
    sign = np.where(t_obs < 0, -1.0, 1.0)
    t_abs = np.where(valid, np.abs(t_obs), 0.0)
    d = np.where(valid, df, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        error = np.sqrt(1.0 + t_abs**2 / (2.0 * d))
        half = 10.0 * error
        # where the roots nearly are (Johnson & Welch's normal approximation), and how
        # far off that can be, wider for few degrees of freedom: a first, narrow bracket
        centre = t_abs * (1.0 - 1.0 / (4.0 * d))
        near = error * (0.005 + 1.0 / np.sqrt(d))

        def below(target: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
            return lambda ncp, cells: special.nctdtr(d[cells], ncp, t_abs[cells]) - target

        low_abs, low_ok = _solve_decreasing(
            below(1.0 - tail),
            np.maximum(t_abs - half, -z - 1.0),
            t_abs,
            centre - z * error,
            near,
        )
        high_abs, high_ok = _solve_decreasing(
            below(tail), t_abs, t_abs + half, centre + z * error, near
        )
        spread = z * np.sqrt(1.0 + t_abs**2 / (2.0 * (d + 1.0)))
    exact = valid & low_ok & high_ok
    low_abs = np.where(exact, low_abs, t_abs - spread)
    high_abs = np.where(exact, high_abs, t_abs + spread)
    # mirror: for t < 0 the interval of -t, negated and swapped
    low = np.where(sign > 0, low_abs, -high_abs)
    high = np.where(sign > 0, high_abs, -low_abs)
    method = np.where(exact, "noncentral_t", "asymptotic").astype(object)
    low[~valid] = np.nan
    high[~valid] = np.nan
    method[~valid] = ""
    return low, high, method


def _solve_decreasing(
    function: Callable[[np.ndarray, np.ndarray], np.ndarray],
    left: np.ndarray,
    right: np.ndarray,
    guess: np.ndarray,
    near: np.ndarray,
    xtol: float = 1e-12,
    iterations: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Roots of decreasing functions in [left, right], all cells at once (Illinois).

    ``function(x, cells)`` gives the functions of `cells` (indices) at `x`. The
    iteration starts from ``[guess - near, guess + near]`` (within [left, right]) where
    that brackets the root, else from [left, right]. Returns the roots and whether each
    cell had a valid bracket (f > 0 at its left end, f < 0 or 0 at its right end, both
    finite); cells without one keep NaN. Only the cells not yet solved are evaluated.
    """
    cells = np.arange(left.size)
    a = np.clip(guess - near, left, right)
    b = np.clip(guess + near, left, right)
    fa, fb = function(a, cells), function(b, cells)
    narrow = np.isfinite(fa) & np.isfinite(fb) & (fa > 0) & (fb < 0) & (a < b)
    # elsewhere the whole bracket
    wide = np.flatnonzero(~narrow)
    a[wide], b[wide] = left[wide], right[wide]
    fa[wide], fb[wide] = function(a[wide], wide), function(b[wide], wide)
    ok = np.isfinite(fa) & np.isfinite(fb) & (fa >= 0) & (fb <= 0)
    root = np.where(ok & (fa == 0), a, np.where(ok & (fb == 0), b, np.nan))
    active = ok & (fa != 0) & (fb != 0)
    side = np.zeros(a.shape, dtype=int)
    for _ in range(iterations):
        now = np.flatnonzero(active)
        if not now.size:
            break
        a_, b_, fa_, fb_ = a[now], b[now], fa[now], fb[now]
        c = b_ - fb_ * (b_ - a_) / (fb_ - fa_)
        # keep c strictly inside; fall back to bisection where regula falsi degenerates
        bad = ~np.isfinite(c) | (c <= np.minimum(a_, b_)) | (c >= np.maximum(a_, b_))
        c = np.where(bad, (a_ + b_) / 2.0, c)
        fc = function(c, now)
        broken = ~np.isfinite(fc)
        ok[now[broken]] = False
        going = ~broken
        same_as_a = going & (fc > 0)
        same_as_b = going & (fc < 0)
        hit = going & (fc == 0)
        root[now[hit]] = c[hit]
        a[now[same_as_a]], fa[now[same_as_a]] = c[same_as_a], fc[same_as_a]
        b[now[same_as_b]], fb[now[same_as_b]] = c[same_as_b], fc[same_as_b]
        # Illinois: halve the stale end's value when the same end is kept twice
        stale_b = now[same_as_a & (side[now] == 1)]
        stale_a = now[same_as_b & (side[now] == -1)]
        fb[stale_b] /= 2.0
        fa[stale_a] /= 2.0
        side[now[same_as_a]] = 1
        side[now[same_as_b]] = -1
        done = going & ~hit & (np.abs(b[now] - a[now]) <= xtol * (1.0 + np.abs(c)))
        root[now[done]] = (a[now[done]] + b[now[done]]) / 2.0
        active[now[broken | hit | done]] = False
    ok &= ~active  # not converged: no exact root
    return root, ok


def noncentral_t_interval(t_obs: float, df: int, level: float) -> tuple[float, float] | None:
    """`noncentral_t_intervals` of one t statistic; None when t is not finite."""
    low, high, method = noncentral_t_intervals(np.array([t_obs]), np.array([df]), level)
    if method[0] != "noncentral_t":
        return None
    return float(low[0]), float(high[0])


def hedges_j(df: int) -> float | None:
    """Exact small-sample correction J(df) = Γ(df/2) / (√(df/2) · Γ((df-1)/2)).

    Hedges & Olkin (1985). Computed on the log scale (gammaln) so large df do not
    overflow. J(1) is 0 in the limit, which would turn every g into 0, so df < 2 has
    no correction (None).
    """
    return _float(hedges_j_array(np.array([df]))[0])


def hedges_j_array(df: np.ndarray) -> np.ndarray:
    """`hedges_j` of every df at once; NaN where df < 2."""
    df = np.asarray(df, dtype=float)
    half = np.where(df >= 2, df / 2.0, 2.0)
    j = np.exp(special.gammaln(half) - 0.5 * np.log(half) - special.gammaln(half - 0.5))
    return np.where(df >= 2, j, np.nan)


# -- Wilcoxon signed-rank ------------------------------------------------------------


def wilcoxon_method(gains: np.ndarray) -> WilcoxonMethod:
    """The method scipy 1.17's ``wilcoxon(d)`` (method='auto') uses for these differences.

    Read from scipy/stats/_wilcoxon.py (`_wilcoxon_iv`, `_wilcoxon_nd`):
    more than 50 differences (zeros counted) -> 'asymptotic'; otherwise 'exact' when
    there are no zeros and no ties among |d|; with zeros or ties, an exhaustive
    'permutation' test when n <= 13 (2**13 < 9999 resamples), else 'asymptotic'.
    `signed_rank.signed_rank_tests` computes exactly that method for every group, so the
    name we report is what was computed; the tests compare every branch with scipy's
    default call.
    """
    differences = np.asarray(gains, dtype=float)
    ranks = signed_ranks(np.zeros(differences.size, dtype=np.intp), 1, differences)
    method: WilcoxonMethod = methods(ranks)[0]
    return method


def _signed_rank_fields(tests: SignedRankTests, g: int, notes: list[str]) -> dict[str, object]:
    """Group g's signed-rank test (zeros dropped, as R and scipy do) and rank-biserial r."""
    if not tests.method[g]:
        notes.append("all gains are zero: the Wilcoxon signed-rank test is undefined")
        return {}
    return {
        "wilcoxon_statistic": _float(tests.statistic[g]),
        "wilcoxon_pvalue": _float(tests.pvalue[g]),
        "wilcoxon_method": str(tests.method[g]),
        "rank_biserial": _float(tests.rank_biserial[g]),
    }


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
    first, second = _vector(a, "a"), _vector(b, "b")
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
    moments_a = _GroupedMoments(codes_a, n_groups, groups)
    moments_b = _GroupedMoments(codes_b, n_groups, groups)
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
            fields["a_mean"] = _float(a_mean[g])
        if nb:
            fields["b_mean"] = _float(b_mean[g])
        if na >= 2:
            fields["a_sd"] = _float(a_sd[g])
        if nb >= 2:
            fields["b_sd"] = _float(b_sd[g])
        if na and nb:
            fields["difference"] = _float(difference[g])
        if na < 2 or nb < 2:
            notes.append("Welch's t test needs at least two people in each group")
        elif standard_error_sq[g] == 0.0:
            notes.append("both groups have zero variance: Welch's t test is undefined")
        else:
            fields.update(
                ci_low=_float(difference[g] - critical[g] * standard_error[g]),
                ci_high=_float(difference[g] + critical[g] * standard_error[g]),
                t_statistic=_float(t_stat[g]),
                df=_float(df[g]),
                pvalue=_float(pvalue[g]),
            )
        out.append(WelchTwoSample(n_a=na, n_b=nb, notes=notes, **fields))  # type: ignore[arg-type]
    return out


# -- proportions -----------------------------------------------------------------------


def wilson_interval(
    successes: int, n: int, level: float = CONFIDENCE_LEVEL
) -> tuple[float, float] | None:
    """Wilson score interval of successes/n (R: prop.test(x, n, correct = FALSE)$conf.int).

    None when n is 0.
    """
    if n <= 0:
        return None
    z = float(special.ndtri(0.5 + level / 2))
    share = successes / n
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


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
    return _put_back(len(pvalues), positions, _holm_sorted(values, values.size))


def holm_fixed_family(pvalues: Sequence[float | None], family_size: int) -> list[float | None]:
    """Holm over a family of `family_size` hypotheses of which only `pvalues` are known.

    The unknown ones (withheld or undefined: None) count as p = 1: they sort last and
    are never rejected. That is conservative, and it means the adjusted p-values
    shown depend neither on which figures are withheld nor on their values. With every
    p-value known it is `holm`.
    """
    positions, values = _defined(pvalues)
    if family_size < values.size:
        raise ValueError("the family cannot be smaller than its known p-values")
    return _put_back(len(pvalues), positions, _holm_sorted(values, family_size))


def _holm_sorted(values: np.ndarray, family_size: int) -> np.ndarray:
    m = values.size
    if m == 0:
        return values
    order = np.argsort(values, kind="stable")
    scaled = values[order] * (family_size - np.arange(m))
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


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
    Welch's ANOVA when any group has zero variance. See `between_groups_counted`.
    """
    arrays = [np.round(_vector(g, "group"), DECIMALS) for g in groups]
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
        "kruskal_h": _float(h),
        "kruskal_pvalue": _float(special.chdtrc(float(counts.shape[0] - 1), h)),
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
        "welch_f": _float(f),
        "welch_df1": float(k - 1),
        "welch_df2": _float(df2),
        "welch_pvalue": _float(special.fdtrc(float(k - 1), df2, f)),
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
    two (Σ p·q over a sample variance) is a common spreadsheet error. For 0/1 items the
    variances come from whole-number sums, exactly (`BinaryItemSums`).
    """
    scores = _item_matrix(matrix)
    sums = BinaryItemSums.of(scores)
    if sums is not None:
        return sums.kr20()
    n, k = int(scores.shape[0]), int(scores.shape[1])
    if k < 2:
        return Kr20(n=n, k=k, notes=["KR-20 needs at least two items"])
    if n < 2:
        return Kr20(n=n, k=k, notes=["KR-20 needs at least two participants"])
    totals = scores.sum(axis=1)
    if _is_constant(totals):
        return Kr20(n=n, k=k, notes=[_SAME_TOTAL])
    item_variance = float(np.var(scores, axis=0, ddof=1).sum())
    total_variance = float(np.var(totals, ddof=1))
    return Kr20(n=n, k=k, kr20=_float(k / (k - 1) * (1.0 - item_variance / total_variance)))


_SAME_TOTAL = "every participant has the same total: KR-20 is undefined"


def item_rest_correlations(matrix: Sequence[Sequence[float]] | np.ndarray) -> list[float | None]:
    """Corrected item-total (item-rest) point-biserial correlation of every item.

    The rest score leaves the item out, so an item is not correlated with itself.
    None where the item or its rest score is constant (the correlation is undefined).
    The point-biserial r is Pearson's r with a 0/1 variable; computed for all items
    at once, it equals scipy.stats.pointbiserialr item by item (see the tests). For
    0/1 items it comes from whole-number sums (`BinaryItemSums`).
    """
    scores = _item_matrix(matrix)
    n, k = scores.shape
    if n < 2:
        return [None] * k
    sums = BinaryItemSums.of(scores)
    if sums is not None:
        return sums.item_rest_correlations()
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


class BinaryItemSums(NamedTuple):
    """The sums KR-20 and the item-rest correlations need, for 0/1 items answered by n
    people, each person's total T being the sum of the items: per item Σx (which is
    Σx²), and over people ΣT and ΣT²; for the correlations also Σx·T per item.

    They are whole numbers, exact as floats (far below 2**53) and combined as integers:
    n(n-1) times a variance is n·Σx² - (Σx)², and n times a sum of products
    n·Σxy - Σx·Σy, so that only KR-20 and r themselves are rounded.
    """

    n: int
    items: np.ndarray
    total: int
    total_squares: int
    products: np.ndarray | None = None

    @classmethod
    def of(cls, scores: np.ndarray) -> BinaryItemSums | None:
        """The sums of a matrix, rows people, columns items; None unless it is all 0/1."""
        if not np.array_equal(scores, scores.astype(bool)):
            return None
        totals = scores.sum(axis=1)
        return cls(
            n=int(scores.shape[0]),
            items=scores.sum(axis=0).astype(np.int64),
            total=int(totals.sum()),
            total_squares=int(totals @ totals),
            products=(scores.T @ totals).astype(np.int64),
        )

    def kr20(self) -> Kr20:
        n, k = self.n, int(self.items.size)
        if k < 2:
            return Kr20(n=n, k=k, notes=["KR-20 needs at least two items"])
        if n < 2:
            return Kr20(n=n, k=k, notes=["KR-20 needs at least two participants"])
        total_variance = n * self.total_squares - self.total * self.total
        if total_variance == 0:
            return Kr20(n=n, k=k, notes=[_SAME_TOTAL])
        item_variance = int(np.sum(n * self.items - self.items * self.items))
        return Kr20(n=n, k=k, kr20=_float(k / (k - 1) * (1.0 - item_variance / total_variance)))

    def item_rest_correlations(self) -> list[float | None]:
        assert self.products is not None
        n, items = self.n, self.items
        if n < 2:
            return [None] * int(items.size)
        rest = self.total - items
        # Σ(T - x)² = ΣT² - 2Σx·T + Σx², with x² = x
        rest_squares = self.total_squares - 2 * self.products + items
        item_ss = n * items - items * items
        rest_ss = n * rest_squares - rest * rest
        covariance = n * (self.products - items) - items * rest
        result: list[float | None] = []
        for j in range(int(items.size)):
            if item_ss[j] == 0 or rest_ss[j] == 0:
                result.append(None)
            else:
                r = float(covariance[j]) / math.sqrt(float(item_ss[j]) * float(rest_ss[j]))
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
    return _float(mcnemar_exact_many(np.array([b]), np.array([c]))[0])


def mcnemar_exact_many(b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """`mcnemar_exact` of many pairs of counts at once; NaN where b + c = 0.

    scipy's two-sided ``binomtest(k, n, 0.5)`` with k = min(b, c), n = b + c: 1 when
    k = n/2; otherwise the binomial pmf is symmetric, so the terms on the far side of
    the mode that are no likelier than P(k) (scipy's search, with its relative
    tolerance of 1e-7) are those from n - k up, and p = cdf(k) + sf(n - k - 1), capped
    at 1, with the same `binom.cdf` and `binom.sf` calls (checked against binomtest in
    the tests).
    """
    b = np.asarray(b, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    k, n = np.minimum(b, c), b + c
    out = np.full(k.shape, np.nan)
    tail = (n > 0) & (2 * k != n)
    out[(n > 0) & (2 * k == n)] = 1.0
    if tail.any():
        kt, nt = k[tail], n[tail]
        p = stats.binom.cdf(kt, nt, 0.5) + stats.binom.sf(nt - kt - 1, nt, 0.5)
        out[tail] = np.minimum(1.0, p)
    return out
