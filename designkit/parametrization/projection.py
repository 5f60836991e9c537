"""Projections of a filtered density onto (nearly) 0/1, and the gray-level indicator.

* :func:`tanh_projection`: the smoothed Heaviside of Wang, Lazarov & Sigmund (2011). Its gradient
  vanishes almost everywhere as β grows, so training stalls at large β.
* :func:`smoothed_projection`: subpixel-smoothed projection (after Hammond et al., "Unifying and
  accelerating level-set and density-based topology optimization by subpixel-smoothed
  projection", 2025): where the η level set crosses a cell, the cell's value is the fraction of
  a disc-shaped cell on the solid side of the (linearized) interface. The result is binary away
  from interfaces, equals the exact area fraction at them, and keeps finite gradients even at
  β = ∞, because the interface position moves smoothly with the filtered density.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import DesignValueError

#: Radius of the disc that stands for one cell in the smoothed projection (cells): the disc of
#: the cell's area.
CELL_RADIUS = 1 / math.sqrt(math.pi)


def _check(beta: float, eta: float) -> None:
    if not 0 < eta < 1:
        raise DesignValueError(f"eta must lie in (0, 1), got {eta!r}")
    if beta < 0 or math.isnan(beta):
        raise DesignValueError(f"beta must be ≥ 0, got {beta!r}")


def tanh_projection(x: Tensor, beta: float, eta: float = 0.5) -> Tensor:
    """Smoothed Heaviside ``(tanh(βη) + tanh(β(x−η))) / (tanh(βη) + tanh(β(1−η)))``.

    Maps [0, 1] onto [0, 1] monotonically; ``beta = inf`` gives the step ``x > η`` (with the
    value 0.5 at ``x = η``). Wang, Lazarov & Sigmund, Struct. Multidisc. Optim. 43, 767 (2011).

    Args:
        x: densities, any shape.
        beta: steepness (≥ 0; ``math.inf`` for a clean step).
        eta: threshold in (0, 1).
    """
    _check(beta, eta)
    if beta == 0:
        return x
    if math.isinf(beta):
        return torch.where(x > eta, 1.0, torch.where(x < eta, 0.0, 0.5)).to(x.dtype)
    a = math.tanh(beta * eta)
    return (a + torch.tanh(beta * (x - eta))) / (a + math.tanh(beta * (1 - eta)))


def gradient_norm(x: Tensor, eps: float = 1e-12) -> Tensor:
    """``|∇x|`` per cell (central differences, one-sided at the edges; units 1/cell).

    ``eps`` keeps the square root differentiable where the gradient vanishes.
    """
    gy = torch.gradient(x, dim=-2)[0]
    gx = torch.gradient(x, dim=-1)[0]
    return torch.sqrt(gx * gx + gy * gy + eps)


def disc_fill(distance: Tensor, radius: float = CELL_RADIUS) -> Tensor:
    """Area fraction of a disc of ``radius`` beyond a line at signed ``distance`` from its centre.

    1 at ``distance ≤ −radius``, 0 at ``≥ radius``, ½ at 0; smooth in between.
    """
    u = torch.clamp(distance / radius, -1.0, 1.0)
    return (torch.arccos(u) - u * torch.sqrt(torch.clamp(1 - u * u, min=0.0))) / math.pi


def smoothed_projection(x: Tensor, beta: float, eta: float = 0.5) -> Tensor:
    """Subpixel-smoothed projection of a filtered density ``x`` ``(..., ny, nx)``.

    With ``d = (η − x)/|∇x|`` the distance (cells) from the cell centre to the η contour and
    ``R`` the cell's disc radius, the result blends the projections of the density on either side
    of the interface by the disc's fill fraction ``F(d)``::

        ρ = (1 − F)·P(x − R|∇x|) + F·P(x + R|∇x|)

    where ``P`` is the tanh projection at ``beta`` (which may be ``inf``). ``F`` is 0 or 1 in
    cells the contour does not cross, so those get ``P(x ∓ R|∇x|)`` — slightly sharper than
    ``P(x)`` at finite β, and continuous across the crossing band; at ``beta = inf`` they are
    exactly 0 or 1 and crossed cells get exactly ``F``.
    """
    _check(beta, eta)
    grad = gradient_norm(x)
    reach = CELL_RADIUS * grad
    fill = disc_fill((eta - x) / grad)
    if math.isinf(beta):
        # P(x ± R|∇x|) is a step: 1 on the solid side, 0 on the void side of the cell.
        low = (x - reach > eta).to(x.dtype)
        high = (x + reach > eta).to(x.dtype)
    else:
        low = tanh_projection(x - reach, beta, eta)
        high = tanh_projection(x + reach, beta, eta)
    return ((1 - fill) * low + fill * high).clamp(0.0, 1.0)


def gray_level(density: Tensor, mask: Tensor | None = None) -> float:
    """Mean of ``4ρ(1−ρ)`` over ``mask`` (all cells when None): 0 binary, 1 all-gray (ρ = ½)."""
    with torch.no_grad():
        values = density if mask is None else density[..., mask.to(density.device)]
        return float((4 * values * (1 - values)).mean()) if values.numel() else 0.0
