"""Probes: what the solver records at every step.

A probe reads the field ``u`` after each step at one cell or as the mean over a region, either as
the field itself (``measure="field"``) or its square (``measure="intensity"``, the mean of ``u²``
over the region). Outputs are ``(B, T, P)``; integrate over ``T`` for time-integrated power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import SolverValueError
from .grid import Grid
from .sources import _check_cell, _mask_cells

Measure = Literal["field", "intensity"]


@dataclass(frozen=True)
class ProbeCells:
    """Cells a probe reads: ``rows``, ``cols`` and averaging ``weights`` (summing to 1)."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    measure: Measure


def _check_measure(kind: str, measure: str) -> None:
    if measure not in ("field", "intensity"):
        raise SolverValueError(f"{kind}.measure must be 'field' or 'intensity', got {measure!r}")


@dataclass(frozen=True)
class PointProbe:
    """Record the field (or intensity) at cell ``(row, col)``."""

    row: int
    col: int
    measure: Measure = "field"

    def __post_init__(self) -> None:
        row, col = _check_cell("PointProbe", self.row, self.col)
        object.__setattr__(self, "row", row)
        object.__setattr__(self, "col", col)
        _check_measure("PointProbe", self.measure)

    def cells(self, grid: Grid) -> ProbeCells:
        """Cells and weights on ``grid``."""
        return ProbeCells(
            np.array([self.row], np.int64), np.array([self.col], np.int64),
            np.array([1.0]), self.measure,
        )


@dataclass(frozen=True, eq=False)
class RegionProbe:
    """Record the mean field (or mean intensity) over the cells where ``mask`` is nonzero.

    Nonzero mask values are relative weights of a weighted mean.
    """

    mask: np.ndarray
    measure: Measure = "field"

    def __post_init__(self) -> None:
        _check_measure("RegionProbe", self.measure)

    def cells(self, grid: Grid) -> ProbeCells:
        """Cells and weights on ``grid``."""
        rows, cols, w = _mask_cells("RegionProbe", self.mask, grid)
        if np.any(w < 0):
            raise SolverValueError("RegionProbe.mask weights must be non-negative")
        return ProbeCells(rows, cols, w / w.sum(), self.measure)


Probe = PointProbe | RegionProbe
