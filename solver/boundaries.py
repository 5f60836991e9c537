"""Absorbing boundaries: the reference graded damping layer and a convolutional PML.

Both are described by small frozen dataclasses; the profiles they produce are plain numpy arrays
that :mod:`wavefab.solver._setup` turns into update coefficients for both propagators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import SolverValueError, as_int, as_number
from .grid import Grid


def _edge_distance(n: int) -> np.ndarray:
    """Distance in cells from each cell to the nearer end of an axis of ``n`` cells."""
    idx = np.arange(n)
    return np.minimum(idx, n - 1 - idx)


@dataclass(frozen=True)
class DampingLayer:
    """Graded damping layer of the reference wave-RNN model.

    The damping rate grows from 0 at ``width`` cells from the edge to ``sigma_max`` at the edge as
    ``sigma_max · ((width − d)/width)^order`` (``d`` = distance to the edge in cells); the x and y
    profiles combine as ``√(bx² + by²)``. It is cheap and robust but reflects a few percent of an
    incident wave; prefer :class:`PML` where reflections matter.

    Args:
        width: layer thickness in cells.
        sigma_max: damping rate at the outer edge (1/s, or normalized 1/time).
        order: polynomial grading exponent.
    """

    width: int = 20
    sigma_max: float = 3.0
    order: float = 4.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", as_int("DampingLayer.width", self.width))
        object.__setattr__(self, "sigma_max", as_number("DampingLayer.sigma_max", self.sigma_max))
        object.__setattr__(self, "order", as_number("DampingLayer.order", self.order))
        if self.width < 1:
            raise SolverValueError(
                f"DampingLayer.width must be a positive integer, got {self.width!r}"
            )
        if not (math.isfinite(self.sigma_max) and self.sigma_max >= 0):
            raise SolverValueError(
                f"DampingLayer.sigma_max must be a non-negative rate, got {self.sigma_max!r}"
            )
        if not (math.isfinite(self.order) and self.order > 0):
            raise SolverValueError(f"DampingLayer.order must be positive, got {self.order!r}")

    def damping(self, grid: Grid) -> np.ndarray:
        """Return the damping-rate map ``b`` of shape ``(ny, nx)`` (float64, units of 1/dt)."""
        w = self.width

        def axis(n: int) -> np.ndarray:
            d = _edge_distance(n).astype(np.float64)
            return np.where(d <= w, self.sigma_max * ((w - d) / w) ** self.order, 0.0)

        by = axis(grid.ny)[:, None]
        bx = axis(grid.nx)[None, :]
        return np.sqrt(bx**2 + by**2)


@dataclass(frozen=True)
class PMLProfile:
    """CPML recursive-convolution coefficients along one axis (arrays of the axis length).

    ``a = exp(−(σ+α)·dt)`` and ``b = σ/(σ+α)·(a − 1)`` (Roden & Gedney 2000, κ = 1); ``db`` is
    ``∂b/∂x`` times the cell size (per cell). All three are zero outside the layer.
    """

    a: np.ndarray
    b: np.ndarray
    db: np.ndarray


@dataclass(frozen=True)
class PML:
    """Convolutional perfectly matched layer (CPML) for the scalar wave equation.

    Implements the stretched-coordinate operator ``∂x̃(∂x̃ u)`` with two recursive-convolution
    memory fields per axis (Pasalic & McGarry, SEG 2010), with the standard polynomial grading
    ``σ(ξ) = σ_max ξ^order`` and a frequency-shift ``α(ξ) = α_max (1 − ξ)`` that damps the
    grazing, low-frequency waves a plain PML lets through (Roden & Gedney, 2000).

    Args:
        width: layer thickness in cells.
        reflection: theoretical normal-incidence reflection ``R0`` that sets
            ``σ_max = −(order+1)·c·ln(R0)/(2·width·h)``.
        order: polynomial grading exponent of σ.
        alpha_max: frequency shift at the inner edge (rad per unit time); ``None`` uses
            ``π·f`` with ``f`` the dominant source frequency.
        speed: wave speed the grading is designed for; ``None`` takes the largest speed found
            inside the layer at each call. The profile is a constant of the scheme: gradients
            do not flow through it. With the ``None`` defaults the layer depends on the batch
            (its speeds and spectrum); set ``speed`` and ``alpha_max`` when training on
            mini-batches so every batch sees the same layer.
    """

    width: int = 20
    reflection: float = 1e-4
    order: float = 2.0
    alpha_max: float | None = None
    speed: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", as_int("PML.width", self.width))
        for name in ("reflection", "order"):
            object.__setattr__(self, name, as_number(f"PML.{name}", getattr(self, name)))
        for name in ("alpha_max", "speed"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, as_number(f"PML.{name}", getattr(self, name)))
        if self.width < 1:
            raise SolverValueError(f"PML.width must be a positive integer, got {self.width!r}")
        if not (0 < self.reflection < 1):
            raise SolverValueError(f"PML.reflection must lie in (0, 1), got {self.reflection!r}")
        if not (math.isfinite(self.order) and self.order > 0):
            raise SolverValueError(f"PML.order must be positive, got {self.order!r}")
        if self.alpha_max is not None and not (
            math.isfinite(self.alpha_max) and self.alpha_max >= 0
        ):
            raise SolverValueError(f"PML.alpha_max must be ≥ 0 or None, got {self.alpha_max!r}")
        if self.speed is not None and not (math.isfinite(self.speed) and self.speed > 0):
            raise SolverValueError(f"PML.speed must be positive or None, got {self.speed!r}")

    def profile(self, n: int, grid: Grid, c_ref: float, frequency: float, *,
                positions: np.ndarray | None = None) -> PMLProfile:
        """Coefficients along an axis of ``n`` cells for speed ``c_ref`` at ``frequency``.

        ``positions``: where to evaluate them, in cells along the axis (default: the centres
        ``0 … n−1``; a staggered operator asks for its faces ``i + ½``, also beyond the ends).
        """
        w = float(self.width)
        dt = grid.dt
        sigma_max = -(self.order + 1.0) * c_ref * math.log(self.reflection) / (2.0 * w * grid.h)
        alpha_max = math.pi * frequency if self.alpha_max is None else self.alpha_max

        def coefficients(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # depth: cells into the layer, measured from its inner interface at cell `width`.
            xi = np.clip(depth / w, 0.0, 1.0)
            sigma = sigma_max * xi**self.order
            alpha = alpha_max * (1.0 - xi)
            a = np.exp(-(sigma + alpha) * dt)
            total = sigma + alpha
            with np.errstate(invalid="ignore", divide="ignore"):
                b = np.where(total > 0, sigma / total * (a - 1.0), 0.0)
            inside = depth > 0
            return np.where(inside, a, 0.0), np.where(inside, b, 0.0)

        pos = np.arange(n, dtype=np.float64) if positions is None else \
            np.asarray(positions, dtype=np.float64)

        def depth_of(x: np.ndarray) -> np.ndarray:
            return np.maximum(np.maximum(w - x, x - (n - 1 - w)), 0.0)

        a, b = coefficients(depth_of(pos))
        eps = 1e-4
        _, b_plus = coefficients(depth_of(pos + eps))
        _, b_minus = coefficients(depth_of(pos - eps))
        db = (b_plus - b_minus) / (2 * eps)
        db = np.where(depth_of(pos) > 0, db, 0.0)
        return PMLProfile(a=a, b=b, db=db)


Boundary = DampingLayer | PML | None


def boundary_width(boundary: Boundary) -> int:
    """Thickness in cells of the absorbing layer (0 for a rigid ``None`` boundary)."""
    return 0 if boundary is None else int(boundary.width)
