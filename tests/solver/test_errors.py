"""Bad input raises a clear error naming the argument and the value; warnings say why."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    LineSource,
    MaskSource,
    PointProbe,
    PointSource,
    RegionProbe,
    ResolutionWarning,
    SolverError,
    SolverTypeError,
    SolverValueError,
    StabilityError,
    propagate,
    ricker,
)

GRID = Grid(shape=(60, 60), h=1.0, dt=0.5)


def _run(speed=None, waves=None, **kw):
    speed = torch.ones(GRID.shape) if speed is None else speed
    waves = ricker(0.04, 120, GRID.dt).unsqueeze(0) if waves is None else waves
    args = {"grid": GRID, "sources": [PointSource(30, 25)], "probes": [PointProbe(30, 35)],
            "boundary": PML(width=10)}
    args.update(kw)
    return propagate(speed, waves, **args)


def test_valid_run_passes():
    out = _run()
    assert out.probes.shape == (1, 120, 1)


def test_cfl_violation_names_dt_and_fix():
    grid = Grid(shape=(60, 60), h=1.0, dt=0.8)
    with pytest.raises(StabilityError, match=r"CFL.*dt ≤ 0\.70"):
        _run(grid=grid)
    # the 4th-order stencil has a tighter limit (√(3/8) ≈ 0.612)
    grid = Grid(shape=(60, 60), h=1.0, dt=0.65)
    _run(grid=grid, waves=ricker(0.04, 120, 0.65).unsqueeze(0))
    with pytest.raises(StabilityError, match=r"order-4 limit 0\.6124"):
        _run(grid=grid, order=4, waves=ricker(0.04, 120, 0.65).unsqueeze(0))


def test_default_dt_is_stable_for_both_orders():
    grid = Grid(shape=(60, 60), h=2e-3, c_max=343.0, units="si")
    assert grid.courant(343.0) < 0.62
    grid.check_cfl(343.0, order=4)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"speed": torch.ones(50, 60)}, SolverValueError, r"speed must have shape \(ny, nx\)"),
        ({"speed": torch.ones(60, 60, dtype=torch.int32)}, SolverTypeError, "float32 or float64"),
        ({"speed": np.ones((60, 60))}, SolverTypeError, "speed must be a torch.Tensor"),
        ({"speed": torch.full((60, 60), float("nan"))}, SolverValueError, "speed contains NaN"),
        ({"speed": torch.zeros(60, 60)}, SolverValueError, "speed must be positive"),
        ({"speed": torch.ones(3, 60, 60), "waves": torch.zeros(2, 50)}, SolverValueError,
         "speed has batch size 3 but waveforms has 2"),
        ({"waves": torch.zeros(1, 50, dtype=torch.float64)}, SolverTypeError,
         "waveforms has dtype torch.float64 but speed has torch.float32"),
        ({"waves": torch.zeros(50)}, SolverValueError, r"waveforms must have shape \(B, T\)"),
        ({"waves": torch.zeros(1, 50, 3)}, SolverValueError, "3 source columns but 1 sources"),
        ({"sources": [PointSource(30, 70)]}, SolverValueError,
         r"sources\[0\].*\(30, 70\) lies outside the grid"),
        ({"sources": [PointSource(30, 5)]}, SolverValueError,
         r"sources\[0\].*inside the 10-cell absorbing layer; place it in rows 10..49"),
        ({"probes": [PointProbe(55, 30)]}, SolverValueError, r"probes\[0\].*absorbing layer"),
        ({"sources": []}, SolverValueError, "sources is empty"),
        ({"sources": ["here"]}, SolverTypeError, r"sources\[0\] is a str"),
        ({"boundary": "pml"}, SolverTypeError, "boundary must be PML"),
        ({"order": 3}, SolverValueError, "order must be the integer 2 or 4"),
        ({"order": 2.0}, SolverValueError, "order must be the integer 2 or 4"),
        ({"sources": PointSource(30, 25)}, SolverTypeError,
         r"sources must be a list, e\.g\. \[PointSource"),
        ({"sources": None}, SolverTypeError, "sources must be a list"),
        ({"probes": PointProbe(30, 35)}, SolverTypeError, "probes must be a list"),
        ({"damping": -torch.ones(60, 60)}, SolverValueError, "damping must be non-negative"),
        ({"snapshot_every": 0}, SolverValueError, "snapshot_every must be a positive integer"),
        ({"checkpoint_every": -1}, SolverValueError, "checkpoint_every must be ≥ 0"),
        ({"backend": "fortran"}, SolverValueError, "backend must be"),
        ({"backend": "cuda"}, SolverValueError, r"backend='cuda' runs media without a PML"),
        ({"boundary": PML(width=30)}, SolverValueError, "leaves no interior"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        _run(**kwargs)
    assert isinstance(info.value, SolverError)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: Grid(shape=(2, 60), h=1.0), "Grid.shape"),
        (lambda: Grid(shape=(60, 60), h=0.0), "Grid.h must be a positive"),
        (lambda: Grid(shape=(60, 60), h=1.0, dt=-1.0), "Grid.dt must be a positive"),
        (lambda: PML(width=0), "PML.width"),
        (lambda: PML(reflection=2.0), "PML.reflection"),
        (lambda: DampingLayer(sigma_max=-1.0), "DampingLayer.sigma_max"),
        (lambda: PointProbe(3, 4, measure="power"), "PointProbe.measure must be 'field'"),
        (lambda: PointSource(3.5, 4), "PointSource cell indices must be integers"),
        (lambda: PointSource("a", 4), "PointSource cell indices must be integers"),
        (lambda: LineSource((1, 2, 3), (4, 5)), r"LineSource.start must be a \(row, col\) pair"),
    ],
)
def test_bad_parameters_are_clear_errors(make, pattern):
    with pytest.raises(SolverValueError, match=pattern):
        make()


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: Grid(shape=(60, 60), h=None), "Grid.h must be a number, got None"),
        (lambda: Grid(shape=(60, 60), h=1.0, dt="fast"), "Grid.dt must be a number"),
        (lambda: PML(width=None), "PML.width must be a number"),
        (lambda: PML(width=2.5), "PML.width must be an integer"),
        (lambda: PML(reflection="low"), "PML.reflection must be a number"),
        (lambda: DampingLayer(sigma_max=None), "DampingLayer.sigma_max must be a number"),
        (lambda: MaskSource(object()).cells(GRID), "MaskSource.mask must"),
    ],
)
def test_wrong_types_name_the_field(make, pattern):
    with pytest.raises(SolverError, match=pattern):
        make()


def test_tensor_masks_are_accepted_as_constants():
    mask = torch.zeros(GRID.shape)
    mask[30, 25] = 1.0
    out = _run(sources=[MaskSource(mask)], probes=None)
    assert out.probes.shape == (1, 120, 0)
    with pytest.raises(SolverValueError, match=r"MaskSource\.mask requires grad"):
        _run(sources=[MaskSource(mask.clone().requires_grad_(True))])


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [({"snapshot_every": "a"}, "snapshot_every must be a positive integer"),
     ({"checkpoint_every": "a"}, "checkpoint_every must be None, 0 or a positive integer"),
     ({"grid": Grid(shape=(60, 60), h=1.0, dt=0.5), "order": np.int64(3)},
      "order must be the integer 2 or 4")],
)
def test_option_types_are_solver_errors(kwargs, pattern):
    with pytest.raises(SolverError, match=pattern):
        _run(**kwargs)


def test_numeric_strings_are_not_numbers():
    with pytest.raises(SolverTypeError, match=r"Grid\.h must be a number"):
        Grid(shape=(5, 5), h="1.0")
    assert PointSource(10.0, 8.0).row == 10 and isinstance(PointSource(10.0, 8.0).row, int)
    from wavefab.solver import set_num_threads

    for bad in ("a", True, 0):
        with pytest.raises(SolverValueError, match="threads must be a positive integer"):
            set_num_threads(bad)


def test_mask_shape_mismatch_is_named():
    with pytest.raises(SolverValueError, match=r"RegionProbe.mask must have the grid's shape"):
        _run(probes=[RegionProbe(np.ones((10, 10)))])
    with pytest.raises(SolverValueError, match=r"MaskSource\.mask is empty"):
        _run(sources=[MaskSource(np.zeros(GRID.shape))])


def test_under_resolved_source_band_warns():
    with pytest.warns(ResolutionWarning, match="points per wavelength"):
        _run(waves=ricker(0.2, 50, GRID.dt).unsqueeze(0))


def test_unstable_nonlinear_field_is_reported():
    from wavefab.solver import Nonlinearity

    rho = torch.ones(GRID.shape)
    for probes in ([PointProbe(30, 35)], []):  # also when nothing is probed
        with pytest.raises(StabilityError, match="non-finite"):
            _run(waves=1e4 * ricker(0.04, 200, GRID.dt).unsqueeze(0), probes=probes,
                 nonlinearity=Nonlinearity(rho=rho, c_nl=10.0))


def test_line_and_mask_sources_and_region_probes_run():
    mask = np.zeros(GRID.shape)
    mask[28:32, 20:22] = 1.0
    out = _run(sources=[LineSource((25, 20), (35, 20)), MaskSource(mask)],
               probes=[PointProbe(30, 40), RegionProbe(mask, measure="intensity")],
               waves=ricker(0.04, 120, GRID.dt).unsqueeze(0))
    assert out.probes.shape == (1, 120, 2)
    assert float(out.probes[..., 1].min()) >= 0.0
