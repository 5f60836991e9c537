"""Density filters and projections: no edge bias, symmetry, limits, finite gradients."""

from __future__ import annotations

import math

import pytest
import torch

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.parametrization.filters import (
    DensityFilter,
    conic_kernel,
    convolve,
    gaussian_kernel,
)
from wavefab.designkit.parametrization.lengthscale import radius_for_length_scale
from wavefab.designkit.parametrization.projection import (
    disc_fill,
    gray_level,
    smoothed_projection,
    tanh_projection,
)

torch.manual_seed(0)


@pytest.mark.parametrize("kernel", [conic_kernel(1.0), conic_kernel(4.5), conic_kernel(12.0),
                                    gaussian_kernel(0.8), gaussian_kernel(3.0)])
def test_kernels_are_normalized_and_symmetric(kernel):
    assert float(kernel.sum()) == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(kernel, kernel.flip(0)) and torch.equal(kernel, kernel.T)
    assert kernel.shape[0] % 2 == 1


def test_fft_and_direct_convolution_agree():
    x = torch.rand(2, 37, 53, dtype=torch.float64)
    small = conic_kernel(4.0, dtype=torch.float64)   # 9×9: direct
    large = conic_kernel(9.0, dtype=torch.float64)   # 19×19: FFT
    for kernel in (small, large):
        direct = torch.nn.functional.conv2d(x[:, None], kernel[None, None],
                                            padding=kernel.shape[0] // 2)[:, 0]
        assert torch.allclose(convolve(x, kernel), direct, atol=1e-12)


@pytest.mark.parametrize("filt", [DensityFilter("conic", 6.0), DensityFilter("gaussian", 2.5)])
def test_uniform_stays_uniform_up_to_every_edge(filt):
    region = torch.zeros(40, 50, dtype=torch.bool)
    region[3:30, 0:41] = True   # touches the grid edge on the left, the region edge elsewhere
    x = torch.where(region, torch.tensor(0.37), torch.tensor(0.9))
    out = filt(x, region)
    assert torch.allclose(out[region], torch.tensor(0.37), atol=1e-6)
    assert torch.equal(out[~region], x[~region])  # outside cells untouched, nothing leaks in


def test_filter_preserves_the_mean_and_is_self_adjoint_in_the_interior():
    filt = DensityFilter("conic", 5.0)
    support = torch.zeros(60, 60, dtype=torch.bool)
    support[12:48, 12:48] = True
    x = torch.rand(60, 60, dtype=torch.float64) * support
    y = torch.rand(60, 60, dtype=torch.float64) * support
    fx, fy = filt(x), filt(y)
    assert float(fx.sum()) == pytest.approx(float(x.sum()), rel=1e-12)
    assert float((fx * y).sum()) == pytest.approx(float((x * fy).sum()), rel=1e-12)


def test_filter_gradients_match_finite_differences():
    region = torch.zeros(16, 18, dtype=torch.bool)
    region[2:14, 3:18] = True
    x = torch.rand(16, 18, dtype=torch.float64, requires_grad=True)
    filt = DensityFilter("conic", 2.5)
    assert torch.autograd.gradcheck(lambda t: filt(t, region), (x,))


def test_radius_for_length_scale():
    assert radius_for_length_scale(5.0, 0.75) == pytest.approx(5.0)
    assert radius_for_length_scale(4.0, 0.6) == pytest.approx(4.0 / (2 * math.sqrt(0.1)))
    assert radius_for_length_scale(4.0, 0.9) == pytest.approx(4.0 / (2 - 2 * math.sqrt(0.1)))
    with pytest.raises(DesignValueError, match="eta_e must lie"):
        radius_for_length_scale(4.0, 0.4)
    with pytest.raises(DesignValueError, match="radius must be a positive number"):
        DensityFilter("conic", -1.0)


def test_tanh_projection_limits():
    x = torch.linspace(0, 1, 101)
    assert torch.equal(tanh_projection(x, 0.0), x)
    out = tanh_projection(x, 1e4, 0.3)
    away = (x - 0.3).abs() > 0.005
    assert torch.allclose(out[away], (x[away] > 0.3).float(), atol=1e-6)
    assert torch.equal(tanh_projection(x, math.inf, 0.5), torch.where(
        x > 0.5, 1.0, torch.where(x < 0.5, 0.0, 0.5)))
    assert float(tanh_projection(torch.tensor(0.0), 8.0)) == 0.0
    assert float(tanh_projection(torch.tensor(1.0), 8.0)) == pytest.approx(1.0)


def test_disc_fill():
    d = torch.tensor([-2.0, -0.5642, 0.0, 0.5642, 2.0])
    f = disc_fill(d)
    assert f[0] == 1.0 and f[-1] == 0.0 and float(f[2]) == pytest.approx(0.5)
    assert float(f[1]) == pytest.approx(1.0, abs=1e-3) and float(f[3]) == pytest.approx(0.0,
                                                                                        abs=1e-3)


@pytest.mark.parametrize("edge", [10.3, 17.71, 25.5])
def test_smoothed_projection_is_binary_away_from_the_interface_and_exact_in_area(edge):
    # a straight interface: filtered density a linear ramp crossing η = 0.5 at column `edge`
    cols = torch.arange(40, dtype=torch.float64)
    x = (0.5 + 0.06 * (cols - edge)).clamp(0, 1).expand(8, 40).clone()
    rho = smoothed_projection(x, math.inf, 0.5)
    crossed = (cols - edge).abs() < 1.0
    assert set(rho[:, ~crossed].unique().tolist()) <= {0.0, 1.0}
    # the solid extends from the interface to the end of the row: 40 − edge − 0.5 cells (a disc
    # is not a square: the per-row area is off by at most ~0.025 cells, depending on the offset)
    assert float(rho[0].sum()) == pytest.approx(40 - edge - 0.5, abs=0.03)


def test_smoothed_projection_keeps_finite_gradients_at_infinite_beta():
    x = (torch.rand(12, 12, dtype=torch.float64) * 0.6 + 0.2).requires_grad_(True)
    smooth = smoothed_projection(x, math.inf).sum()
    (grad,) = torch.autograd.grad(smooth, x)
    assert torch.isfinite(grad).all() and float(grad.abs().max()) > 0
    # and it matches finite differences at finite β
    assert torch.autograd.gradcheck(lambda t: smoothed_projection(t, 30.0), (x,))


def test_gray_level():
    assert gray_level(torch.tensor([0.0, 1.0, 1.0])) == 0.0
    assert gray_level(torch.full((4, 4), 0.5)) == pytest.approx(1.0)
    mask = torch.tensor([True, False])
    assert gray_level(torch.tensor([1.0, 0.5]), mask) == 0.0
