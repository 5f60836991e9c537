"""From a latent design to a material map: a chain of small, pure, differentiable steps.

``latent θ (design region) → [blur] → tanh projection (β, η) → density ρ ∈ [0, 1] → material``

Each step is a plain function of tensors (so the fabrication filters of a later stage slot in
between), and the last step — density to material — is a replaceable mapping: a linear speed
interpolation for the scalar wave model today, a density/bulk-modulus pair for the acoustic model
later.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import DesignValueError


def embed(latent: Tensor, region: Tensor, background: float | Tensor = 0.0) -> Tensor:
    """Place design values into the full grid: ``latent`` where ``region`` is set, else background.

    Args:
        latent: ``(ny, nx)`` (or batched ``(B, ny, nx)``) design values; only cells in
            ``region`` are used.
        region: ``(ny, nx)`` bool mask of the design region.
        background: value outside the region.

    Returns:
        A tensor shaped like ``latent``.
    """
    if region.dtype != torch.bool:
        raise DesignValueError(f"region must be a bool mask, got dtype {region.dtype}")
    if tuple(latent.shape[-2:]) != tuple(region.shape):
        raise DesignValueError(
            f"latent has shape {tuple(latent.shape)} but the region mask {tuple(region.shape)}"
        )
    return torch.where(region, latent, torch.as_tensor(background, dtype=latent.dtype,
                                                       device=latent.device))


def box_blur(x: Tensor, radius: int) -> Tensor:
    """Mean over a ``(2r+1)²`` neighbourhood, reflect-padded so a uniform field stays uniform.

    (A placeholder for the physical-radius conic and Gaussian filters of the fabrication stage.)
    """
    if radius < 0 or int(radius) != radius:
        raise DesignValueError(f"blur radius must be a non-negative integer, got {radius!r}")
    if radius == 0:
        return x
    size = 2 * radius + 1
    batched = x.reshape(-1, 1, *x.shape[-2:])
    padded = torch.nn.functional.pad(batched, (radius,) * 4, mode="reflect")
    kernel = torch.full((1, 1, size, size), 1.0 / size**2, dtype=x.dtype, device=x.device)
    return torch.nn.functional.conv2d(padded, kernel).reshape(x.shape)


def tanh_projection(x: Tensor, beta: float, eta: float = 0.5) -> Tensor:
    """Smoothed Heaviside ``(tanh(βη) + tanh(β(x−η))) / (tanh(βη) + tanh(β(1−η)))``.

    Maps [0, 1] onto [0, 1] monotonically; ``beta = inf`` gives the step ``x > η`` (with the
    value 0.5 at ``x = η``). Wang, Lazarov & Sigmund, Struct. Multidisc. Optim. 43, 767 (2011).

    Args:
        x: densities, any shape.
        beta: steepness (≥ 0; ``math.inf`` for a clean step).
        eta: threshold in (0, 1).
    """
    if not 0 < eta < 1:
        raise DesignValueError(f"eta must lie in (0, 1), got {eta!r}")
    if beta < 0 or math.isnan(beta):
        raise DesignValueError(f"beta must be ≥ 0, got {beta!r}")
    if beta == 0:
        return x
    if math.isinf(beta):
        return torch.where(x > eta, 1.0, torch.where(x < eta, 0.0, 0.5)).to(x.dtype)
    a = math.tanh(beta * eta)
    return (a + torch.tanh(beta * (x - eta))) / (a + math.tanh(beta * (1 - eta)))


@dataclass(frozen=True)
class LinearSpeed:
    """Density → wave speed: ``c = c0 + (c1 − c0)·ρ`` (c0 where ρ = 0, c1 where ρ = 1)."""

    c0: float = 1.0
    c1: float = 0.5

    def __post_init__(self) -> None:
        if not (self.c0 > 0 and self.c1 > 0):
            raise DesignValueError(f"speeds must be positive, got c0={self.c0}, c1={self.c1}")

    def __call__(self, density: Tensor) -> Tensor:
        """The speed map for ``density`` (same shape)."""
        return self.c0 + (self.c1 - self.c0) * density


@dataclass(frozen=True)
class Parametrization:
    """The chain latent → density → speed for one design region.

    Args:
        region: ``(ny, nx)`` bool mask of the design region.
        blur_radius: box-blur radius in cells (0 = none).
        beta: projection steepness; ``0`` disables the projection, ``inf`` binarizes.
        eta: projection threshold.
        material: density → material mapping.
    """

    region: Tensor
    blur_radius: int = 0
    beta: float = 100.0
    eta: float = 0.5
    material: LinearSpeed = LinearSpeed()

    def density(self, latent: Tensor, *, beta: float | None = None) -> Tensor:
        """Density ρ ∈ [0, 1] on the whole grid (0 outside the region)."""
        region = self.region.to(latent.device)
        rho = embed(latent.clamp(0.0, 1.0), region, 0.0)
        rho = box_blur(rho, self.blur_radius)
        rho = tanh_projection(rho, self.beta if beta is None else beta, self.eta)
        return embed(rho, region, 0.0)

    def speed(self, latent: Tensor, *, beta: float | None = None) -> Tensor:
        """Wave speed on the whole grid."""
        return self.material(self.density(latent, beta=beta))

    def describe(self) -> dict:
        """JSON-able identity: region digest, blur, projection and material."""
        import hashlib

        region = self.region.detach().cpu().numpy()
        return {
            "region_sha256": hashlib.sha256(region.tobytes() + str(region.shape).encode())
            .hexdigest(),
            "blur_radius": self.blur_radius, "beta": self.beta, "eta": self.eta,
            "material": {"type": type(self.material).__name__,
                         **dataclasses.asdict(self.material)},
        }
