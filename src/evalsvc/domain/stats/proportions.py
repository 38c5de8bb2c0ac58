"""Proportions: Wilson's interval and McNemar's exact test of paired 0/1 answers."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from evalsvc.domain.stats._common import (
    CONFIDENCE_LEVEL,
    as_float,
)

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


def mcnemar_exact(b: int, c: int) -> float | None:
    """Exact McNemar p-value from the discordant pairs.

    b: wrong before, right after; c: right before, wrong after. Under no change each
    discordant pair is a fair coin: p = binomtest(min(b, c), b + c, 0.5), two-sided.
    None when there are no discordant pairs.
    """
    if b < 0 or c < 0:
        raise ValueError("b and c are counts")
    return as_float(mcnemar_exact_many(np.array([b]), np.array([c]))[0])


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
