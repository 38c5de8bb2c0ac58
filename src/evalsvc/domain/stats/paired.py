"""Paired comparisons: every statistic of a report's row, for many groups at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

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
from evalsvc.domain.stats._common import (
    CONFIDENCE_LEVEL,
    DECIMALS,
    IntervalMethod,
    WilcoxonMethod,
    as_float,
    vector,
)
from evalsvc.domain.stats.moments import GroupedMoments
from evalsvc.domain.stats.noncentral_t import hedges_j_array, noncentral_t_intervals


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
    before, after = vector(from_scores, "from"), vector(to_scores, "to")
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
    each distinct gain are then added up per group (`GroupedMoments`).
    """
    cells = np.asarray(cells, dtype=np.intp)
    before = np.asarray(from_scores, dtype=float)
    after = np.asarray(to_scores, dtype=float)
    if gain_values is not None:  # the rounded gains, as distinct values and indices
        gains = gain_values.distinct[gain_values.codes]
    else:
        gains = np.round(after - before, DECIMALS)
    moments = GroupedMoments(cells, n_cells, groups)
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
            "from_mean": as_float(before_mean[g]),
            "to_mean": as_float(after_mean[g]),
            "mean_gain": as_float(gain_mean[g]),
            "n_improved": int(improved[g]),
            "n_unchanged": int(unchanged[g]),
            "n_declined": int(declined[g]),
        }
        if max_score is not None:
            assert normalized is not None and individual is not None and at_maximum is not None
            fields["normalized_gain"] = as_float(normalized[g])
            if fields["normalized_gain"] is None:
                notes.append("the from mean is at the maximum score: normalized gain is undefined")
            fields["mean_normalized_gain"] = as_float(individual[g])
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
        fields["from_sd"] = as_float(before_sd[g])
        fields["to_sd"] = as_float(after_sd[g])
        fields["gain_sd"] = as_float(gain_sd[g])
        fields["d_av"] = as_float(d_av[g])
        if fields["d_av"] is None:
            notes.append("both phases have zero variance: d_av is undefined")
        if not testable[g]:
            notes.append(
                "all gains are equal (zero variance): the t test, its interval and d_z "
                "are undefined"
            )
        else:
            fields.update(
                t_statistic=as_float(t_obs[g]),
                t_df=int(df[g]),
                t_pvalue=as_float(t_p[g]),
                gain_ci_low=as_float(ci_low[g]),
                gain_ci_high=as_float(ci_high[g]),
                cohens_dz=as_float(d_z[g]),
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
    interval = (as_float(low), as_float(high))
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
    j = as_float(correction)
    if j is None or d_z is None:
        notes.append("Hedges' g_z needs at least three pairs")
        return
    fields["hedges_gz"] = as_float(j * float(d_z))  # type: ignore[arg-type]
    if interval[0] is not None and interval[1] is not None:
        fields["hedges_gz_ci_low"] = as_float(j * interval[0])
        fields["hedges_gz_ci_high"] = as_float(j * interval[1])


def _normalized_gains(
    groups: GroupedMoments,
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
        "wilcoxon_statistic": as_float(tests.statistic[g]),
        "wilcoxon_pvalue": as_float(tests.pvalue[g]),
        "wilcoxon_method": str(tests.method[g]),
        "rank_biserial": as_float(tests.rank_biserial[g]),
    }


def rank_biserial(differences: Sequence[float] | np.ndarray) -> float | None:
    """Matched-pairs rank-biserial r = (R+ - R-) / (R+ + R-) over non-zero differences.

    Kerby (2014). +1: every change is an improvement; -1: every change a decline.
    """
    d = np.round(vector(differences, "differences"), DECIMALS)
    d = d[d != 0]
    if d.size == 0:
        return None
    ranks = stats.rankdata(np.abs(d))
    r_plus = float(ranks[d > 0].sum())
    r_minus = float(ranks[d < 0].sum())
    return (r_plus - r_minus) / (r_plus + r_minus)
