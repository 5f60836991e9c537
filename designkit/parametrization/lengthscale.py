"""Length scale by construction of the filter and by penalty: the two helpers of the robust method.

* :func:`radius_for_length_scale`: the conic filter radius whose eroded and dilated designs
  (thresholds η_e and 1 − η_e) guarantee a minimum length scale of the blueprint design
  (Qian & Sigmund 2013).
* :func:`lengthscale_constraints`: the geometric constraints of Zhou, Lazarov, Wang & Sigmund,
  "Minimum length scale in topology optimization by geometric constraints", CMAME 293, 266
  (2015), which penalize what the filter and projection alone leave (thin tips, pinholes).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import DesignValueError
from .projection import gradient_norm

__all__ = ["lengthscale_constraints", "radius_for_length_scale"]


def radius_for_length_scale(length: float, eta_e: float = 0.75) -> float:
    """Conic filter radius for a minimum length scale ``length`` (same units) of the design.

    The length scale holds for the blueprint (η = 0.5) design of the robust formulation with
    erosion threshold ``eta_e`` and dilation threshold ``1 − eta_e``.

    ``R = L / (2√(η_e − 0.5))`` for 0.5 < η_e < 0.75, ``R = L / (2 − 2√(1 − η_e))`` for
    0.75 ≤ η_e < 1 (Qian & Sigmund, CMAME 253, 237 (2013); the same relation in Hammond et al.,
    Opt. Express 29, 23916 (2021)). For η_e = 0.75, R = L.
    """
    if not (length > 0 and math.isfinite(length)):
        raise DesignValueError(f"length scale must be positive, got {length!r}")
    if not 0.5 < eta_e < 1:
        raise DesignValueError(f"eta_e must lie in (0.5, 1), got {eta_e!r}")
    if eta_e < 0.75:
        return length / (2 * math.sqrt(eta_e - 0.5))
    return length / (2 - 2 * math.sqrt(1 - eta_e))


def lengthscale_constraints(filtered: Tensor, projected: Tensor, region: Tensor, radius: float,
                            eta_e: float, eta_d: float) -> tuple[Tensor, Tensor]:
    """Zhou et al. (2015) geometric constraints ``(g_s, g_v)``, both ≥ 0, 0 when satisfied.

    ``I = exp(−c|∇ρ̃|²)`` marks the skeleton of each feature (where the filtered density peaks);
    a solid skeleton cell whose filtered density stays below the erosion threshold η_e (the
    feature would vanish when eroded) adds ``(ρ̃ − η_e)²``; voids likewise with η_d. ``c = 64R²``
    (R the filter radius in cells) makes I ≈ 1 on the skeleton and ≈ 0 on the flanks.
    """
    mask = region.to(filtered.device)
    grad2 = gradient_norm(filtered) ** 2
    indicator = torch.exp(-64.0 * radius**2 * grad2)
    solid = projected * indicator * torch.clamp(filtered - eta_e, max=0.0) ** 2
    void = (1 - projected) * indicator * torch.clamp(eta_d - filtered, max=0.0) ** 2
    return solid[..., mask].mean(), void[..., mask].mean()
