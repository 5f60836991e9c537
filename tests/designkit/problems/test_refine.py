"""A setup on a finer grid (`Problem.refined`, `wavefab verify --refine`): less grid error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.parametrization.media import AcousticMedium
from wavefab.designkit.problems.base import Fold, Setup
from wavefab.designkit.problems.refine import RefinedSetup, refine_setup, upsample_time
from wavefab.solver import DampingLayer, Grid, LineSource, PointProbe, PointSource, ricker


def _setup(physics: str = "scalar") -> Setup:
    region = torch.zeros(48, 48, dtype=torch.bool)
    region[16:32, 20:28] = True
    return Setup(grid=Grid(shape=(48, 48), h=1.0, dt=0.5), boundary=DampingLayer(width=12),
                 sources=(PointSource(24, 14),),
                 probes=(PointProbe(24, 34), PointProbe(20, 34, measure="intensity")),
                 region=region, probe_names=("field", "power"), physics=physics)


def _pulse() -> torch.Tensor:
    # ≥ 10 cells per wavelength over the band in the slow block (0.7) on the coarse grid
    return ricker(0.03, 200, 0.5)[None].double()


@pytest.mark.parametrize("physics", ["scalar", "acoustic"])
def test_the_refined_probe_signals_converge_at_second_order(physics):
    """Coarse, 2× and 4× grids of one setup: the error shrinks as h and dt halve."""
    setup = _setup(physics)
    speed = torch.ones(48, 48, dtype=torch.float64)
    speed[16:32, 20:28] = 0.7  # a slow block between source and probes (blocks when refined)
    signals = []
    for factor in (1, 2, 4):
        fine = refine_setup(setup, factor)
        probes = fine.simulate(speed, _pulse()).probes
        assert probes.shape == (1, 200, 2)  # read at the coarse steps, whatever the grid
        signals.append(probes[0])
    ref = signals[2]
    errors = [float((s - ref).norm() / ref.norm()) for s in signals[:2]]
    # measured (scalar, acoustic): 7.9%, 8.7% on the coarse grid, 2.7%, 3.0% on the 2× one:
    # between first and second order, as the staircase faces of the block make it
    assert errors[0] < 0.15
    assert errors[1] < errors[0] / 2


def test_the_refined_setup_keeps_the_physical_layout():
    setup = _setup()
    fine = refine_setup(setup, 3)
    assert isinstance(fine, RefinedSetup) and fine.coarse_shape == (48, 48)
    assert fine.grid.shape == (144, 144) and fine.grid.h == pytest.approx(1 / 3)
    assert fine.grid.dt == pytest.approx(0.5 / 3)
    assert fine.boundary.width == 36 and fine.boundary.sigma_max == setup.boundary.sigma_max
    assert int(fine.region.sum()) == 9 * int(setup.region.sum())
    force = fine.sources[0].cells(fine.grid)
    # the point source as a 3 × 3 block with the same total force (density × area)
    assert force.rows.size == 9 and float(force.weights.sum()) * fine.grid.h**2 == pytest.approx(1)
    assert set(force.rows) == {72, 73, 74} and set(force.cols) == {42, 43, 44}
    probe = fine.probes[1].cells(fine.grid)
    assert probe.measure == "intensity" and probe.weights.sum() == pytest.approx(1)
    assert refine_setup(setup, 1) is setup


def test_the_refined_setup_takes_the_designs_or_its_own_media():
    setup = refine_setup(_setup("acoustic"), 2)
    inv = torch.ones(48, 48, dtype=torch.float64)
    inv[16:32, 20:28] = 1e-4  # a rigid block
    coarse = AcousticMedium(inv, torch.ones_like(inv))
    fine = AcousticMedium(inv.repeat_interleave(2, 0).repeat_interleave(2, 1),
                          torch.ones(96, 96, dtype=torch.float64))
    a = setup.simulate(coarse, _pulse()).probes
    b = setup.simulate(fine, _pulse()).probes
    assert torch.equal(a, b)
    with pytest.raises(DesignValueError, match=r"\(48, 48\).*\(96, 96\)"):
        setup.simulate(torch.ones(50, 50, dtype=torch.float64), _pulse())
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(DesignValueError, match="refine must be a positive integer"):
            refine_setup(_setup(), bad)


def test_batches_several_sources_snapshots_and_no_probes():
    region = torch.zeros(48, 48, dtype=torch.bool)
    setup = Setup(grid=Grid(shape=(48, 48), h=1.0, dt=0.5), boundary=DampingLayer(width=12),
                  sources=(PointSource(24, 14), LineSource((18, 16), (30, 16))),
                  probes=(), region=region)
    fine = refine_setup(setup, 2)
    line = fine.sources[1].cells(fine.grid)  # 13 cells of line density 1/h, as 2 × 2 blocks
    assert line.rows.size == 13 * 4 and float(line.weights.sum()) * fine.grid.h**2 == \
        pytest.approx(13.0)
    speed = torch.ones(2, 48, 48, dtype=torch.float64)
    speed[1, 20:28, 24:30] = 0.8  # one medium per example
    inputs = torch.stack([_pulse()[0], 0.5 * _pulse()[0]], dim=-1).expand(2, -1, -1)
    out = fine.simulate(speed, inputs.contiguous(), snapshot_every=50)
    assert out.probes.shape == (2, 200, 0)
    assert out.snapshots is not None and out.snapshots.shape == (2, 4, 96, 96)
    assert not torch.equal(out.snapshots[0], out.snapshots[1])  # each its own medium
    with pytest.raises(DesignValueError, match="nonlinearity"):
        fine.simulate(speed, inputs.contiguous(), nonlinearity=object())


@pytest.mark.parametrize("frequency", [0.05, 0.3])  # cycles per input sample (Nyquist 0.5)
def test_inputs_are_resampled_band_limited(frequency):
    t = torch.arange(200, dtype=torch.float64)
    x = torch.stack([torch.sin(2 * torch.pi * frequency * t), torch.cos(0.1 * t)])
    y = upsample_time(x[..., None], 4)[..., 0]  # (B, T, S) as well as (B, T)
    assert y.shape == (2, 800)
    assert torch.allclose(y[:, ::4][:, 20:-20], x[:, 20:-20], atol=1e-3)  # sample n: sample 4n
    between = torch.sin(2 * torch.pi * frequency * (torch.arange(800) / 4.0)).double()
    assert torch.allclose(y[0, 80:-80], between[80:-80], atol=1e-3)  # and in between


def test_a_refined_lens_problem_simulates_its_own_reference(lens_fab_result):
    """`Problem.refined` drops the coarse reference; the focus gain holds on the finer grid."""
    from wavefab.designkit.config import load_config
    from wavefab.designkit.export import load_design
    from wavefab.designkit.run import build_parametrization, build_problem

    config = load_config(lens_fab_result / "config.yaml")
    problem = build_problem(config)
    par = build_parametrization(config, problem)
    binary = torch.from_numpy(load_design(lens_fab_result).binary.astype(np.float32))
    fold = Fold(train=np.arange(1))
    coarse = problem.evaluate(par.material(binary), fold)["focus_gain"]
    fine_problem = problem.refined(2)
    assert fine_problem.setup.grid.shape == (280, 280) and problem.setup.grid.shape == (140, 140)
    assert fine_problem._reference is None and problem._reference is not None
    assert fine_problem.input_band() == pytest.approx(problem.input_band())  # same pulse
    fine = fine_problem.evaluate(par.material(binary), fold)["focus_gain"]
    # measured: 5.50 on the design's grid, 5.51 on the 2× grid
    assert fine == pytest.approx(coarse, rel=0.03)
    assert fine_problem.reference()[0] != pytest.approx(problem.reference()[0], rel=1e-6)
