"""Item analysis of 0/1 items: KR-20 and item-rest correlations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import msgspec
import numpy as np

from evalsvc.domain.stats._common import (
    as_float,
    is_constant,
)


class Kr20(msgspec.Struct, kw_only=True, frozen=True):
    """Kuder-Richardson 20 reliability of ``k`` 0/1 items answered by ``n`` people."""

    n: int
    k: int
    kr20: float | None = None
    notes: list[str] = msgspec.field(default_factory=list)


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
    if is_constant(totals):
        return Kr20(n=n, k=k, notes=[_SAME_TOTAL])
    item_variance = float(np.var(scores, axis=0, ddof=1).sum())
    total_variance = float(np.var(totals, ddof=1))
    return Kr20(n=n, k=k, kr20=as_float(k / (k - 1) * (1.0 - item_variance / total_variance)))


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
        if is_constant(scores[:, j]) or is_constant(rest[:, j]):
            result.append(None)
        else:
            r = covariance[j] / math.sqrt(item_ss[j] * rest_ss[j])
            result.append(as_float(min(1.0, max(-1.0, r))))
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
        return Kr20(n=n, k=k, kr20=as_float(k / (k - 1) * (1.0 - item_variance / total_variance)))

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
                result.append(as_float(min(1.0, max(-1.0, r))))
        return result


def item_rest_correlation(matrix: Sequence[Sequence[float]] | np.ndarray, j: int) -> float | None:
    """`item_rest_correlations` of item `j` alone."""
    return item_rest_correlations(matrix)[j]
