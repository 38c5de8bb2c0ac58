"""Multiplicity adjustments: Holm (also over a fixed family) and Benjamini-Hochberg."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

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
