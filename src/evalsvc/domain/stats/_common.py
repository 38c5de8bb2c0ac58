"""What every statistic here shares: the rounding of gains, the confidence level,
and the guards that keep NaN, inf and numpy scalars out of results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

DECIMALS = 10
"""Gains and scores are rounded to this many decimals before tests (see the package doc)."""

CONFIDENCE_LEVEL = 0.95

WilcoxonMethod = Literal["exact", "permutation", "asymptotic"]
"""The method scipy used for the signed-rank p-value (see `wilcoxon_method`)."""
IntervalMethod = Literal["noncentral_t", "asymptotic"]
"""How the d_z interval was found (see `noncentral_t_intervals`)."""

NUMERIC_FAILURES = (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError)
"""What a statistic of one cell may raise; caught per cell and turned into a note."""


def as_float(value: object) -> float | None:
    """A builtin float, or None for NaN/inf (msgspec would silently write null)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def vector(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf; drop missing values first")
    return array


def is_constant(values: np.ndarray) -> bool:
    return values.size == 0 or bool(values.max() == values.min())


def sample_sd(values: np.ndarray) -> float:
    """Sample standard deviation (ddof=1), exactly 0.0 for constant data.

    np.std of e.g. [0.1, 0.1, 0.1] is 1e-17, not 0, because the mean is off by an ulp.
    """
    return 0.0 if is_constant(values) else float(np.std(values, ddof=1))
