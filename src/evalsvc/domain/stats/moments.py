"""Means and standard deviations of many groups of people at once, each person
summed once, into the cell of people alike in every breakdown."""

from __future__ import annotations

import numpy as np


def grouped_moments(
    codes: np.ndarray, n_cells: int, groups: np.ndarray | None = None
) -> GroupedMoments:
    """Sums and standard deviations of groups of people in cells (`GroupedMoments`)."""
    return GroupedMoments(np.asarray(codes, dtype=np.intp), n_cells, groups)


class GroupedMoments:
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
