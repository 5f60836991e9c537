"""The computational grid: cell size, time step and the CFL stability limit.

The grid is the same in physical units (metres, seconds, wave speeds in m/s) and in the normalized
units of the reference wave-RNN model (dimensionless; h = 1.4283556979968262, dt = 0.707, c0 = 1):
the equations are scale-free, so ``units`` only labels numbers for reports and plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .errors import SolverValueError, StabilityError, as_number

#: Largest Courant number c·dt/h of the 2D leapfrog scheme for each spatial order.
#: Order 2: the 5-point Laplacian's symbol reaches -8/h², so c²dt²·8/h² ≤ 4 → 1/√2.
#: Order 4: the 1D 4th-order second difference reaches -16/(3h²) per axis → √(3/8).
CFL_LIMIT: dict[int, float] = {2: 1.0 / math.sqrt(2.0), 4: math.sqrt(3.0 / 8.0)}

#: Fraction of the CFL limit used when the grid picks ``dt`` itself.
DEFAULT_CFL_SAFETY = 0.9


def courant_limit(order: int) -> float:
    """Return the largest stable Courant number ``c·dt/h`` for a Laplacian of ``order`` (2 or 4)."""
    if order not in CFL_LIMIT:
        raise SolverValueError(f"order must be 2 or 4, got {order!r}")
    return CFL_LIMIT[order]


@dataclass(frozen=True, init=False)
class Grid:
    """A uniform 2D grid of ``shape = (ny, nx)`` cells of size ``h`` advanced by steps ``dt``.

    Once constructed, ``dt`` is always a float (the given step or the one picked for ``c_max``).
    Grids compare equal when all five fields do; :func:`dataclasses.replace` builds a changed
    copy through the same checks.

    Args:
        shape: ``(ny, nx)``, number of rows and columns; arrays on the grid are ``[..., ny, nx]``.
        h: cell size (m, or normalized length).
        dt: time step (s, or normalized time). ``None`` picks a CFL-safe step for speeds up to
            ``c_max`` with either spatial order: ``0.9 · √(3/8) · h / c_max``.
        c_max: the largest wave speed the grid must carry stably; used only when ``dt`` is None.
        units: ``"si"`` (m, s) or ``"normalized"``; labels only, the numerics are unit-free.

    Raises:
        SolverValueError: for a non-positive size, cell size or step.
        SolverTypeError: for a cell size, speed or step that is not a number.
    """

    shape: tuple[int, int]
    h: float
    dt: float
    c_max: float = 1.0
    units: Literal["si", "normalized"] = "normalized"

    def __init__(self, shape: tuple[int, int], h: float, dt: float | None = None,
                 c_max: float = 1.0, units: Literal["si", "normalized"] = "normalized") -> None:
        try:
            ny, nx = (int(n) for n in shape)
        except (TypeError, ValueError):
            raise SolverValueError(
                f"Grid.shape must be two integers (ny, nx), got {shape!r}"
            ) from None
        if ny < 3 or nx < 3 or (ny, nx) != tuple(shape):
            raise SolverValueError(f"Grid.shape must be two integers ≥ 3, got {shape!r}")
        h = as_number("Grid.h", h)
        c_max = as_number("Grid.c_max", c_max)
        if dt is not None:
            dt = as_number("Grid.dt", dt)
        if not (math.isfinite(h) and h > 0):
            raise SolverValueError(f"Grid.h must be a positive cell size, got {h!r}")
        if not (math.isfinite(c_max) and c_max > 0):
            raise SolverValueError(f"Grid.c_max must be a positive speed, got {c_max!r}")
        if units not in ("si", "normalized"):
            raise SolverValueError(
                f"Grid.units must be 'si' or 'normalized', got {units!r}"
            )
        if dt is None:
            dt = DEFAULT_CFL_SAFETY * CFL_LIMIT[4] * h / c_max
        elif not (math.isfinite(dt) and dt > 0):
            raise SolverValueError(f"Grid.dt must be a positive time step, got {dt!r}")
        object.__setattr__(self, "shape", (ny, nx))
        object.__setattr__(self, "h", float(h))
        object.__setattr__(self, "dt", float(dt))
        object.__setattr__(self, "c_max", c_max)
        object.__setattr__(self, "units", units)

    @property
    def ny(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def nx(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def extent(self) -> tuple[float, float]:
        """Physical size ``(height, width)`` of the grid (units of ``h``)."""
        return (self.ny * self.h, self.nx * self.h)

    def courant(self, c_max: float) -> float:
        """Return the Courant number ``c_max·dt/h``."""
        return c_max * self.dt / self.h

    def max_stable_dt(self, c_max: float, order: int = 2) -> float:
        """Return the largest stable step for speeds up to ``c_max`` and Laplacian ``order``."""
        return courant_limit(order) * self.h / c_max

    def check_cfl(self, c_max: float, order: int = 2) -> None:
        """Raise :class:`StabilityError` if speeds up to ``c_max`` make the scheme unstable.

        Args:
            c_max: the largest wave speed in the medium (units of h/dt).
            order: spatial order of the Laplacian, 2 or 4.
        """
        limit = courant_limit(order)
        if not math.isfinite(c_max) or c_max <= 0:
            raise SolverValueError(f"speed must be positive and finite, got a maximum of {c_max!r}")
        number = self.courant(c_max)
        if number > limit * (1 + 1e-12):
            raise StabilityError(
                f"CFL violated: the maximum speed {c_max:.6g} with dt={self.dt:.6g} and "
                f"h={self.h:.6g} gives a Courant number c·dt/h = {number:.4f} above the "
                f"order-{order} limit {limit:.4f}; use dt ≤ {self.max_stable_dt(c_max, order):.6g} "
                f"(or Grid(dt=None) to pick one)"
            )
