"""The latent → density → speed chain: ranges, monotonicity, gradients, uniform fields."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.parametrization import (
    LinearSpeed,
    Parametrization,
    box_blur,
    embed,
    tanh_projection,
)


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(0.1, 500), eta=st.floats(0.05, 0.95))
def test_projection_is_monotone_and_maps_unit_interval(beta, eta):
    x = torch.linspace(0, 1, 201, dtype=torch.float64)
    y = tanh_projection(x, beta, eta)
    assert float(y[0]) == pytest.approx(0.0, abs=1e-12)
    assert float(y[-1]) == pytest.approx(1.0, abs=1e-12)
    assert bool((y[1:] >= y[:-1] - 1e-15).all())


def test_projection_limits():
    x = torch.tensor([0.2, 0.5, 0.8])
    assert torch.equal(tanh_projection(x, math.inf), torch.tensor([0.0, 0.5, 1.0]))
    assert torch.equal(tanh_projection(x, 0.0), x)
    with pytest.raises(DesignValueError, match="eta must lie in"):
        tanh_projection(x, 10.0, 1.2)


def test_blur_keeps_uniform_fields_and_mean():
    x = torch.full((20, 24), 0.3, dtype=torch.float64)
    assert torch.allclose(box_blur(x, 2), x)
    y = torch.rand(20, 24, dtype=torch.float64)
    assert abs(float(box_blur(y, 1).mean() - y.mean())) < 0.02


def test_chain_gradient_matches_finite_differences():
    region = torch.zeros(12, 14, dtype=torch.bool)
    region[3:9, 4:10] = True
    par = Parametrization(region=region, blur_radius=1, beta=8.0,
                          material=LinearSpeed(1.0, 0.5))
    latent = torch.rand(12, 14, dtype=torch.float64).requires_grad_(True)
    weights = torch.rand(12, 14, dtype=torch.float64)
    (grad,) = torch.autograd.grad((par.speed(latent) * weights).sum(), latent)
    direction = torch.randn(12, 14, dtype=torch.float64) * region
    eps = 1e-6
    with torch.no_grad():
        plus = (par.speed(latent + eps * direction) * weights).sum()
        minus = (par.speed(latent - eps * direction) * weights).sum()
    numeric = float((plus - minus) / (2 * eps))
    assert float((grad * direction).sum()) == pytest.approx(numeric, rel=1e-6)
    assert float(grad[~region].abs().max()) == 0.0  # outside the region nothing moves


def test_speed_range_and_background():
    region = torch.zeros(6, 6, dtype=torch.bool)
    region[2:4, 2:4] = True
    par = Parametrization(region=region, beta=math.inf)
    speed = par.speed(torch.ones(6, 6))
    assert float(speed[region].min()) == 0.5 and float(speed[~region].max()) == 1.0
    with pytest.raises(DesignValueError, match="region must be a bool mask"):
        embed(torch.ones(6, 6), region.float())
