"""From a latent design to a material map: a chain of small, pure, differentiable steps.

``latent θ (design region) → [box blur] → [conic/Gaussian filter] → projection (β, η)
→ density ρ ∈ [0, 1] → material``

Each step is a plain function of tensors (:mod:`.filters`, :mod:`.projection`), and the last
step — density to material — is a replaceable mapping (:mod:`.media`): a linear speed
interpolation for the scalar wave model (:class:`LinearSpeed`), or a rigid solid in a fluid,
``1/ρ`` and ``K`` maps, for the acoustic model (:class:`~.media.RigidSolid`). The robust
formulation evaluates the same chain at several thresholds η (eroded, nominal, dilated).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..errors import DesignValueError
from .filters import DensityFilter
from .media import Medium, RigidSolid
from .projection import smoothed_projection, tanh_projection

__all__ = ["LinearSpeed", "Parametrization", "box_blur", "embed"]


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

    The reference model's optional smoothing of the latent (``material.blur_radius``, cells),
    applied before the density filter; the filter that sets a physical minimum feature is
    :class:`~.filters.DensityFilter`, whose radius follows from the fabrication rules.
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

    def at_epoch(self, epoch: int) -> LinearSpeed:
        """The material trained with in ``epoch``: always this one (no continuation)."""
        return self


@dataclass(frozen=True)
class Parametrization:
    """The chain latent → density → speed for one design region.

    Args:
        region: ``(ny, nx)`` bool mask of the design region.
        blur_radius: box-blur radius in cells (0 = none).
        beta: projection steepness; ``0`` disables the projection, ``inf`` binarizes.
        eta: projection threshold (of the nominal design).
        material: density → material mapping.
        filter: density filter applied inside the region (radius 0 = none).
        projection: ``"tanh"`` or ``"smoothed"`` (subpixel-smoothed; finite gradients at any β).
    """

    region: Tensor
    blur_radius: int = 0
    beta: float = 100.0
    eta: float = 0.5
    material: LinearSpeed | RigidSolid = LinearSpeed()
    filter: DensityFilter = field(default_factory=DensityFilter)
    projection: str = "tanh"

    def __post_init__(self) -> None:
        if self.projection not in ("tanh", "smoothed"):
            raise DesignValueError(
                f"projection must be 'tanh' or 'smoothed', got {self.projection!r}")

    def at_epoch(self, epoch: int) -> Parametrization:
        """The chain trained with in ``epoch`` (the material's continuation, if any)."""
        material = self.material.at_epoch(epoch)
        return self if material is self.material else dataclasses.replace(self, material=material)

    def filtered(self, latent: Tensor) -> Tensor:
        """The filtered density ρ̃ on the whole grid (0 outside the region), before projection."""
        region = self.region.to(latent.device)
        rho = embed(latent.clamp(0.0, 1.0), region, 0.0)
        rho = box_blur(rho, self.blur_radius)
        rho = self.filter(rho, region)
        return embed(rho, region, 0.0)

    def project(self, filtered: Tensor, *, beta: float | None = None,
                eta: float | None = None) -> Tensor:
        """Projected density from a filtered one (0 outside the region)."""
        b = self.beta if beta is None else beta
        e = self.eta if eta is None else eta
        if self.projection == "smoothed":
            rho = smoothed_projection(filtered, b, e)
        else:
            rho = tanh_projection(filtered, b, e)
        return embed(rho, self.region.to(filtered.device), 0.0)

    def density(self, latent: Tensor, *, beta: float | None = None,
                eta: float | None = None) -> Tensor:
        """Density ρ ∈ [0, 1] on the whole grid (0 outside the region)."""
        return self.project(self.filtered(latent), beta=beta, eta=eta)

    def binary(self, latent: Tensor, *, eta: float | None = None) -> Tensor:
        """The final binary design: filtered density above η, inside the region (bool)."""
        e = self.eta if eta is None else eta
        with torch.no_grad():
            return (self.filtered(latent) > e) & self.region.to(latent.device)

    def speed(self, latent: Tensor, *, beta: float | None = None,
              eta: float | None = None) -> Medium:
        """The medium on the whole grid: a wave-speed map, or an acoustic medium."""
        return self.material(self.density(latent, beta=beta, eta=eta))

    def describe(self) -> dict:
        """JSON-able identity: region digest, blur, projection and material."""
        import hashlib

        region = self.region.detach().cpu().numpy()
        material = {"type": type(self.material).__name__, **dataclasses.asdict(self.material)}
        # defaults left out: checkpoints of runs from before these settings still match
        if not material.get("contrast_schedule", True):
            del material["contrast_schedule"]
        if material.get("interpolation") == "density":
            del material["interpolation"]
        return {
            "region_sha256": hashlib.sha256(region.tobytes() + str(region.shape).encode())
            .hexdigest(),
            "blur_radius": self.blur_radius, "beta": self.beta, "eta": self.eta,
            "filter": dataclasses.asdict(self.filter), "projection": self.projection,
            "material": material,
        }
