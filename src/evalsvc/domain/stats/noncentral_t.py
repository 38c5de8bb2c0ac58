"""The d_z interval by inverting the noncentral t, vectorised over cells, and
Hedges' exact small-sample correction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from evalsvc.domain.stats._common import (
    as_float,
)

# -- the d_z interval ---------------------------------------------------------------


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
    return as_float(hedges_j_array(np.array([df]))[0])


def hedges_j_array(df: np.ndarray) -> np.ndarray:
    """`hedges_j` of every df at once; NaN where df < 2."""
    df = np.asarray(df, dtype=float)
    half = np.where(df >= 2, df / 2.0, 2.0)
    j = np.exp(special.gammaln(half) - 0.5 * np.log(half) - special.gammaln(half - 0.5))
    return np.where(df >= 2, j, np.nan)
