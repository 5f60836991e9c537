"""Sources: where a waveform enters the grid, and with what weight.

A source turns its waveform ``s(t)`` into a force density ``f(x, t) = s(t)·w(x)`` on the right-hand
side of ``u_tt + b u_t = c² ∇²u + f``. Weights are physical: a point source is a 2D delta
(``1/h²`` on its cell), a line source a line delta (``1/h`` per cell), a mask source takes the mask
values as the density itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SolverTypeError, SolverValueError, as_int
from .grid import Grid


@dataclass(frozen=True)
class SourceCells:
    """Cells a source drives: ``rows``, ``cols`` (int64), ``weights`` (float64, per unit s)."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray


def _check_cell(kind: str, row: object, col: object) -> tuple[int, int]:
    try:
        return as_int(f"{kind} row", row), as_int(f"{kind} col", col)
    except SolverTypeError:
        raise SolverValueError(
            f"{kind} cell indices must be integers, got ({row!r}, {col!r})"
        ) from None


def _check_pair(kind: str, pair: object) -> tuple[int, int]:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise SolverValueError(f"{kind} must be a (row, col) pair, got {pair!r}")
    return _check_cell(kind, *pair)


def _mask_cells(kind: str, mask: np.ndarray, grid: Grid) -> tuple[np.ndarray, ...]:
    if hasattr(mask, "detach"):  # a torch tensor
        if getattr(mask, "requires_grad", False):
            raise SolverValueError(
                f"{kind}.mask requires grad, but masks are constants of the scheme; pass "
                f"mask.detach(), and put trainable amplitudes in the waveforms instead"
            )
        mask = mask.detach().cpu().numpy()
    try:
        m = np.asarray(mask, dtype=np.float64)
    except (TypeError, ValueError):
        raise SolverTypeError(f"{kind}.mask must be a numeric array, got {type(mask).__name__}"
                              ) from None
    if m.shape != grid.shape:
        raise SolverValueError(
            f"{kind}.mask must have the grid's shape {grid.shape}, got {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise SolverValueError(f"{kind}.mask contains NaN or inf")
    rows, cols = np.nonzero(m)
    if rows.size == 0:
        raise SolverValueError(f"{kind}.mask is empty: mark at least one cell")
    return rows.astype(np.int64), cols.astype(np.int64), m[rows, cols]


@dataclass(frozen=True)
class PointSource:
    """A point source at cell ``(row, col)``: a 2D delta, weight ``1/h²``."""

    row: int
    col: int

    def __post_init__(self) -> None:
        row, col = _check_cell("PointSource", self.row, self.col)
        object.__setattr__(self, "row", row)
        object.__setattr__(self, "col", col)

    def cells(self, grid: Grid) -> SourceCells:
        """Cells and weights on ``grid``."""
        return SourceCells(
            np.array([self.row], np.int64), np.array([self.col], np.int64),
            np.array([1.0 / grid.h**2]),
        )


@dataclass(frozen=True)
class LineSource:
    """A straight line source from cell ``start`` to cell ``end`` (inclusive), ``(row, col)`` each.

    The line is rasterized with one cell per step along its longer axis; each cell gets the line
    delta ``1/h`` scaled by the path length per cell, so the total force equals ``s(t)·length``.
    """

    start: tuple[int, int]
    end: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _check_pair("LineSource.start", self.start))
        object.__setattr__(self, "end", _check_pair("LineSource.end", self.end))

    def cells(self, grid: Grid) -> SourceCells:
        """Cells and weights on ``grid``."""
        (r0, c0), (r1, c1) = self.start, self.end
        n = max(abs(r1 - r0), abs(c1 - c0)) + 1
        rows = np.rint(np.linspace(r0, r1, n)).astype(np.int64)
        cols = np.rint(np.linspace(c0, c1, n)).astype(np.int64)
        step = np.hypot(r1 - r0, c1 - c0) / max(n - 1, 1) if n > 1 else 1.0
        return SourceCells(rows, cols, np.full(n, step / grid.h))


@dataclass(frozen=True, eq=False)
class MaskSource:
    """A distributed source: force density ``s(t)·mask`` (``mask`` of the grid's shape).

    The mask is a constant (numpy array or a tensor without gradient); gradients flow to the
    waveform ``s(t)``.
    """

    mask: np.ndarray

    def cells(self, grid: Grid) -> SourceCells:
        """Cells and weights on ``grid``."""
        return SourceCells(*_mask_cells("MaskSource", self.mask, grid))


Source = PointSource | LineSource | MaskSource
