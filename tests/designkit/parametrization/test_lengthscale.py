"""Length scale: the geometric constraints of Zhou et al. flag thin features only."""

from __future__ import annotations

import torch

from wavefab.designkit.parametrization.filters import DensityFilter
from wavefab.designkit.parametrization.lengthscale import lengthscale_constraints


def test_lengthscale_constraints_flag_thin_features_only():
    region = torch.ones(60, 60, dtype=torch.bool)
    filt = DensityFilter("conic", 4.0)
    thick = torch.zeros(60, 60, dtype=torch.float64)
    thick[20:40, 15:45] = 1.0
    thin = torch.zeros(60, 60, dtype=torch.float64)
    thin[29:32, 10:50] = 1.0  # 3 cells wide: present (ρ̃ peaks at 0.64) but below η_e = 0.75
    values = []
    for design in (thick, thin):
        filtered = filt(design, region)
        projected = (filtered > 0.5).double()
        solid, _ = lengthscale_constraints(filtered, projected, region, 4.0, 0.75, 0.25)
        values.append(float(solid))
    assert values[0] < 1e-6 < values[1]
