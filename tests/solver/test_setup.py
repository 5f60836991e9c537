"""Each shared helper of ``wavefab.solver._setup``: its checks and the message each error gives."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    Nonlinearity,
    PointProbe,
    PointSource,
    RegionProbe,
    ResolutionWarning,
    SolverTypeError,
    SolverValueError,
    StabilityError,
    ricker,
)
from wavefab.solver._setup import (
    AUTO_STORE_ALL_BYTES,
    as_batched_map,
    as_list,
    batched_waveforms,
    check_backend,
    check_batch,
    check_cells,
    check_checkpoint_every,
    check_discretization,
    check_faces,
    check_finite,
    check_nonlinearity,
    check_positive,
    check_resolution,
    check_step_options,
    check_tensor,
    layer_width,
    leapfrog_coefficients,
    linear_damping,
    measure,
    pml_reference,
    probe_cells,
    scalar_setup,
    segment_length,
    source_and_probe_lists,
    source_cells,
)

GRID = Grid(shape=(20, 24), h=1.0, dt=0.5)
SPEED = torch.ones(1, 20, 24)


# ------------------------------------------------------------------------------------------
# options


@pytest.mark.parametrize("value", [None, 1, 7, np.int64(3), 4.0])
def test_step_options_accept_positive_integers(value):
    check_step_options(value, None)


@pytest.mark.parametrize("value", [0, -3, "a", True])
def test_snapshot_every_must_be_a_positive_integer(value):
    with pytest.raises(SolverValueError,
                       match=f"snapshot_every must be a positive integer, got {value!r}"):
        check_step_options(value, None)


def test_step_options_check_checkpoint_every_too():
    with pytest.raises(SolverValueError, match=r"checkpoint_every must be ≥ 0, got -1"):
        check_step_options(None, -1)


@pytest.mark.parametrize("value", [None, 0, 1, 25, 3.0])
def test_checkpoint_every_accepts_none_zero_and_positive_integers(value):
    check_checkpoint_every(value)


@pytest.mark.parametrize("value", ["a", 1.5, True, False])
def test_checkpoint_every_names_the_choices(value):
    with pytest.raises(SolverValueError, match=r"checkpoint_every must be None, 0 or a positive "
                                               rf"integer, got {value!r}"):
        check_checkpoint_every(value)


def test_checkpoint_every_must_not_be_negative():
    with pytest.raises(SolverValueError, match=r"checkpoint_every must be ≥ 0, got -2"):
        check_checkpoint_every(-2)


def test_checkpoint_every_of_another_type_names_the_argument():
    with pytest.raises(SolverTypeError, match=r"checkpoint_every must be a number"):
        check_checkpoint_every(object())


@pytest.mark.parametrize("backend", ["auto", "numba", "torch", "cuda"])
def test_backend_choices_pass(backend):
    check_backend(backend)


@pytest.mark.parametrize("backend", ["gpu", "Torch", None, 1])
def test_other_backends_are_named(backend):
    with pytest.raises(SolverValueError,
                       match=rf"backend must be 'auto', 'numba', 'torch' or 'cuda', got "
                             rf"{backend!r}"):
        check_backend(backend)


def test_discretization_accepts_both_orders_and_every_boundary():
    for order in (2, 4, np.int64(4)):
        for boundary in (PML(width=3), DampingLayer(width=3), None):
            check_discretization(GRID, order, boundary)


def test_grid_must_be_a_grid():
    with pytest.raises(SolverTypeError, match=r"grid must be a wavefab\.solver\.Grid, got tuple"):
        check_discretization((20, 24), 2, None)


@pytest.mark.parametrize("order", [3, 2.0, True, np.int64(6), "2"])
def test_order_must_be_the_integer_2_or_4(order):
    with pytest.raises(SolverValueError,
                       match=re.escape(f"order must be the integer 2 or 4, got {order!r}")):
        check_discretization(GRID, order, None)


def test_boundary_kind_is_named():
    with pytest.raises(SolverTypeError, match=r"boundary must be PML\(\.\.\.\), "
                                              r"DampingLayer\(\.\.\.\) or None, got str"):
        check_discretization(GRID, 2, "pml")


# ------------------------------------------------------------------------------------------
# tensors


def test_check_tensor_returns_a_good_tensor():
    x = torch.zeros(3, dtype=torch.float64)
    assert check_tensor("x", x) is x
    assert check_tensor("x", x, like=torch.ones(2, dtype=torch.float64)) is x


def test_check_tensor_wants_a_tensor():
    with pytest.raises(SolverTypeError, match=r"speed must be a torch\.Tensor, got ndarray"):
        check_tensor("speed", np.ones(3))


def test_check_tensor_wants_floats():
    with pytest.raises(SolverTypeError, match=r"x must be float32 or float64, got torch\.int64"):
        check_tensor("x", torch.ones(3, dtype=torch.int64))


def test_check_tensor_says_how_to_match_the_dtype():
    with pytest.raises(SolverTypeError, match=r"damping has dtype torch.float64 but speed has "
                                              r"torch.float32; convert it with "
                                              r"damping\.to\(speed\.dtype\)"):
        check_tensor("damping", torch.ones(3, dtype=torch.float64), like=torch.ones(3))


def test_check_tensor_says_how_to_match_the_device():
    with pytest.raises(SolverTypeError, match=r"damping is on meta but speed is on cpu; move it "
                                              r"with damping\.to\(speed\.device\)"):
        check_tensor("damping", torch.ones(3, device="meta"), like=torch.ones(3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_tensor_refuses_non_finite_values(bad):
    with pytest.raises(SolverValueError, match=r"speed contains NaN or inf"):
        check_tensor("speed", torch.tensor([1.0, bad]))


def test_batched_map_adds_the_batch_axis():
    assert as_batched_map("speed", torch.ones(20, 24), GRID).shape == (1, 20, 24)
    assert as_batched_map("speed", torch.ones(3, 20, 24), GRID).shape == (3, 20, 24)


@pytest.mark.parametrize(("shape", "reported"), [((24, 20), (1, 24, 20)), ((20,), (20,)),
                                                 ((1, 1, 20, 24), (1, 1, 20, 24))])
def test_batched_map_names_the_expected_shape(shape, reported):
    with pytest.raises(SolverValueError, match=re.escape(
            f"speed must have shape (ny, nx) = (20, 24) or (B, ny, nx), got {reported}")):
        as_batched_map("speed", torch.ones(shape), GRID)


def test_positive_names_the_minimum_and_the_hint():
    check_positive("speed", torch.ones(2, 2))
    x = torch.tensor([[1.0, -0.25]])
    with pytest.raises(SolverValueError, match=r"^speed must be positive everywhere, got a "
                                               r"minimum of -0\.25$"):
        check_positive("speed", x)
    with pytest.raises(SolverValueError, match=r"minimum of 0 \(a rigid solid\)$"):
        check_positive("inv_density", torch.zeros(1), " (a rigid solid)")


def test_batch_must_be_one_or_the_waveforms():
    check_batch("speed", torch.ones(1, 2, 2), 4)
    check_batch("speed", torch.ones(4, 2, 2), 4)
    with pytest.raises(SolverValueError, match=r"^speed has batch size 3 but waveforms has 2; "
                                               r"use one$"):
        check_batch("speed", torch.ones(3, 2, 2), 2, "; use one")
    with pytest.raises(SolverValueError, match=r"^damping has batch size 3 but waveforms has 2$"):
        check_batch("damping", torch.ones(3, 2, 2), 2)


def test_waveforms_become_batch_time_source():
    assert batched_waveforms(torch.zeros(2, 9), SPEED).shape == (2, 9, 1)
    assert batched_waveforms(torch.zeros(2, 9, 3), SPEED).shape == (2, 9, 3)


@pytest.mark.parametrize("shape", [(9,), (1, 2, 3, 4)])
def test_waveforms_name_the_two_layouts(shape):
    with pytest.raises(SolverValueError, match=re.escape(
            f"waveforms must have shape (B, T) or (B, T, S), got {shape}")):
        batched_waveforms(torch.zeros(shape), SPEED)


@pytest.mark.parametrize("shape", [(1, 0), (0, 5), (1, 0, 2)])
def test_waveforms_need_a_sample(shape):
    with pytest.raises(SolverValueError, match=r"waveforms must hold at least one sample"):
        batched_waveforms(torch.zeros(shape), SPEED)


def test_waveforms_match_the_speed():
    with pytest.raises(SolverTypeError, match=r"waveforms has dtype torch\.float64"):
        batched_waveforms(torch.zeros(1, 5, dtype=torch.float64), SPEED)


def test_linear_damping_adds_the_layer_and_the_user_map():
    layer = DampingLayer(width=4)
    user = torch.full((20, 24), 0.01)
    b = linear_damping(layer, user, GRID, 1, SPEED)
    assert b.shape == (1, 20, 24)
    expected = torch.as_tensor(layer.damping(GRID), dtype=torch.float32) + 0.01
    assert torch.equal(b[0], expected)
    assert torch.equal(linear_damping(PML(width=4), None, GRID, 1, SPEED), torch.zeros(1, 20, 24))


def test_linear_damping_must_not_be_negative():
    with pytest.raises(SolverValueError, match=r"damping must be non-negative \(a loss rate"):
        linear_damping(None, -torch.ones(20, 24), GRID, 1, SPEED)


def test_linear_damping_is_checked_against_the_batch():
    with pytest.raises(SolverValueError, match=r"^damping has batch size 3 but waveforms has 2$"):
        linear_damping(None, torch.ones(3, 20, 24), GRID, 2, SPEED)
    with pytest.raises(SolverValueError, match=r"damping must have shape \(ny, nx\)"):
        linear_damping(None, torch.ones(5, 5), GRID, 1, SPEED)


def test_leapfrog_coefficients():
    c2 = torch.tensor([4.0], dtype=torch.float64)
    alpha, beta, gamma = leapfrog_coefficients(c2, torch.zeros(1, dtype=torch.float64), GRID)
    assert (float(alpha), float(beta), float(gamma)) == (2.0, -1.0, 4.0 * 0.25)
    b = 0.2  # k = b·dt/2 = 0.05
    alpha, beta, gamma = leapfrog_coefficients(c2, torch.tensor([b], dtype=torch.float64), GRID)
    assert math.isclose(float(alpha), 2 / 1.05)
    assert math.isclose(float(beta), -0.95 / 1.05)
    assert math.isclose(float(gamma), 4.0 * 0.25 / 1.05)


# ------------------------------------------------------------------------------------------
# sources, probes and the absorbing layer


def test_as_list_takes_any_iterable():
    assert as_list("sources", (PointSource(5, 5),), "[...]") == [PointSource(5, 5)]


@pytest.mark.parametrize(("items", "kind"), [(PointSource(5, 5), "PointSource"), ("ab", "str"),
                                             (None, "NoneType"), (3, "int")])
def test_as_list_shows_an_example(items, kind):
    with pytest.raises(SolverTypeError, match=rf"sources must be a list, e\.g\. \[PointSource"
                                              rf"\(70, 40\)\], got {kind}"):
        as_list("sources", items, "[PointSource(70, 40)]")


def test_sources_and_probes():
    sources, probes = source_and_probe_lists([PointSource(5, 5)], None, 1)
    assert sources == [PointSource(5, 5)] and probes == []
    with pytest.raises(SolverValueError, match=r"sources is empty: give at least one source"):
        source_and_probe_lists([], [], 1)
    with pytest.raises(SolverTypeError, match=r"probes must be a list, e\.g\. \[PointProbe"):
        source_and_probe_lists([PointSource(5, 5)], PointProbe(5, 5), 1)


def test_source_columns_match_the_sources():
    source_and_probe_lists([PointSource(5, 5), PointSource(6, 6)], [], 2)
    with pytest.raises(SolverValueError, match=r"waveforms has 3 source columns but 2 sources "
                                               r"were given; use \(B, T\) to drive all sources "
                                               r"alike or \(B, T, 2\)"):
        source_and_probe_lists([PointSource(5, 5), PointSource(6, 6)], [], 3)


def test_layer_width_must_leave_an_interior():
    assert layer_width(None, GRID) == 0
    assert layer_width(PML(width=9), GRID) == 9
    with pytest.raises(SolverValueError, match=r"boundary width 10 leaves no interior in a grid "
                                               r"of shape \(20, 24\)"):
        layer_width(DampingLayer(width=10), GRID)


def test_cells_outside_the_grid_are_named():
    rows, cols = np.array([5, 20]), np.array([5, 3])
    with pytest.raises(SolverValueError, match=r"probes\[1\] cell \(20, 3\) lies outside the "
                                               r"grid of shape \(20, 24\)"):
        check_cells("probes[1]", rows, cols, GRID, 0)


def test_cells_in_the_absorbing_layer_say_where_to_go():
    check_cells("sources[0]", np.array([4]), np.array([4]), GRID, 4)
    with pytest.raises(SolverValueError, match=r"sources\[0\] cell \(3, 10\) lies inside the "
                                               r"4-cell absorbing layer; place it in rows 4\.\.15 "
                                               r"and columns 4\.\.19"):
        check_cells("sources[0]", np.array([3]), np.array([10]), GRID, 4)


def test_source_cells_inject_weight_times_dt_squared():
    waves = torch.arange(6.0).reshape(1, 6, 1)
    rows, cols, injection = source_cells([PointSource(7, 9)], waves, GRID, 2)
    assert (rows.tolist(), cols.tolist()) == ([7], [9])
    assert torch.equal(injection, waves * GRID.dt**2)  # a point source weighs 1/h² = 1


def test_source_cells_name_what_is_not_a_source():
    with pytest.raises(SolverTypeError, match=r"sources\[1\] is a str, not a source"):
        source_cells([PointSource(7, 9), "here"], torch.zeros(1, 3, 1), GRID, 0)
    with pytest.raises(SolverValueError, match=r"sources\[0\] \(PointSource\) cell \(1, 9\) "
                                               r"lies inside the 2-cell absorbing layer"):
        source_cells([PointSource(1, 9)], torch.zeros(1, 3, 1), GRID, 2)


def test_probe_cells_average_and_mark_intensity():
    mask = np.zeros(GRID.shape)
    mask[8:10, 8] = 1.0
    rows, cols, matrix, square = probe_cells(
        [PointProbe(5, 6), RegionProbe(mask, measure="intensity")], GRID, 0)
    assert rows.tolist() == [5, 8, 9] and cols.tolist() == [6, 8, 8]
    assert np.array_equal(matrix, [[1.0, 0.0], [0.0, 0.5], [0.0, 0.5]])
    assert square.tolist() == [False, True, True]
    empty = probe_cells([], GRID, 0)
    assert [a.shape for a in empty] == [(0,), (0,), (0, 0), (0,)]


def test_probe_cells_name_what_is_not_a_probe():
    with pytest.raises(SolverTypeError, match=r"probes\[0\] is a int, not a probe"):
        probe_cells([3], GRID, 0)
    with pytest.raises(SolverValueError, match=r"probes\[0\] \(PointProbe\) cell \(0, 0\) lies "
                                               r"inside"):
        probe_cells([PointProbe(0, 0)], GRID, 1)


def test_under_resolved_band_warns_with_the_fix():
    fast = ricker(0.2, 60, GRID.dt).reshape(1, 60, 1)
    with pytest.warns(ResolutionWarning, match=r"points per wavelength \(< 10\): expect numerical "
                                               r"dispersion; use h ≤"):
        peak = check_resolution(fast, GRID, 1.0)
    assert 0.1 < peak < 0.3
    slow = ricker(0.02, 400, GRID.dt).reshape(1, 400, 1)
    assert 0.01 < check_resolution(slow, GRID, 1.0) < 0.03  # no warning: errors in this suite


def test_pml_reference_picks_frequency_and_speed():
    speed = torch.ones(1, 20, 24)
    speed[0, 0, 0] = 1.5  # in the layer
    speed[0, 10, 10] = 3.0  # inside: not what the layer carries
    assert pml_reference(PML(width=3), speed, GRID, 0.05) == (0.05, 1.5)
    assert pml_reference(PML(width=3, speed=2.0), speed, GRID, 0.0) == (1.0 / (20 * GRID.dt), 2.0)


def test_nonlinearity_checks():
    rho = torch.ones(20, 24)
    check_nonlinearity(Nonlinearity(rho=rho, b0=0.1, c_nl=torch.tensor(0.2)), 1, SPEED, GRID)
    with pytest.raises(SolverTypeError, match=r"nonlinearity must be a Nonlinearity, got dict"):
        check_nonlinearity({"rho": rho}, 1, SPEED, GRID)
    with pytest.raises(SolverValueError, match=r"nonlinearity\.rho must have shape"):
        check_nonlinearity(Nonlinearity(rho=torch.ones(5, 5)), 1, SPEED, GRID)
    with pytest.raises(SolverValueError,
                       match=r"^nonlinearity\.rho has batch size 3 but waveforms has 2$"):
        check_nonlinearity(Nonlinearity(rho=torch.ones(3, 20, 24)), 2, SPEED, GRID)
    with pytest.raises(SolverValueError, match=r"nonlinearity\.b0 must be finite, got inf"):
        check_nonlinearity(Nonlinearity(rho=rho, b0=float("inf")), 1, SPEED, GRID)
    with pytest.raises(SolverTypeError, match=r"nonlinearity\.c_nl has dtype torch\.float64"):
        check_nonlinearity(Nonlinearity(rho=rho, c_nl=torch.tensor(1.0, dtype=torch.float64)), 1,
                           SPEED, GRID)
    with pytest.raises(SolverValueError, match=r"nonlinearity\.u_th must be nonzero"):
        check_nonlinearity(Nonlinearity(rho=rho, u_th=torch.tensor([1.0, 0.0])), 1, SPEED, GRID)


def test_faces_checks():
    inv = torch.ones(1, 20, 24)
    fx, fy = check_faces((torch.ones(20, 25), torch.ones(21, 24)), inv, GRID, 1)
    assert fx.shape == (1, 20, 25) and fy.shape == (1, 21, 24)
    with pytest.raises(SolverTypeError, match=r"faces must be a pair \(x_faces, y_faces\)"):
        check_faces(torch.ones(20, 25), inv, GRID, 1)
    with pytest.raises(SolverValueError, match=r"faces\[1\] must have shape \(23, 24\) \(or "
                                               r"batched\), got \(1, 21, 24\): face k lies between "
                                               r"cells k − 2 and k − 1"):
        check_faces((torch.ones(20, 27), torch.ones(21, 24)), inv, GRID, 2)
    with pytest.raises(SolverValueError, match=r"faces\[0\] must be positive \(a closed face is a "
                                               r"small 1/ρ\)"):
        check_faces((torch.zeros(20, 25), torch.ones(21, 24)), inv, GRID, 1)


# ------------------------------------------------------------------------------------------
# what the backends share


def _setup(batch: int = 1, steps: int = 100):
    waves = torch.zeros(batch, steps)  # silent: no resolution warning
    return scalar_setup(torch.ones(20, 24), waves, GRID, [PointSource(10, 10)],
                        [PointProbe(10, 14)], None, None, None, 2)


def test_segment_length():
    setup = _setup(steps=90)
    assert segment_length(setup, None, 2) == 90  # tiny: keep every step
    per_step = 20 * 24 * 4
    arrays = AUTO_STORE_ALL_BYTES // (per_step * 90) + 1
    assert segment_length(setup, None, arrays) == 10  # ⌈√90⌉
    assert segment_length(setup, 0, 2) == 90
    assert segment_length(setup, 30, 2) == 30
    assert segment_length(setup, 500, 2) == 90
    with pytest.raises(SolverValueError, match="checkpoint_every must be ≥ 0"):
        segment_length(setup, -1, 2)


def test_measure_squares_intensity_probes_and_averages():
    setup = _setup()
    setup.probe_square = torch.tensor([False, True])
    setup.probe_matrix = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    recorded = torch.tensor([[[2.0, 3.0]]])
    assert torch.equal(measure(setup, recorded), torch.tensor([[[2.0, 9.0]]]))


def test_check_finite_raises_the_message():
    check_finite("boom", torch.ones(3), torch.zeros(2))
    with pytest.raises(StabilityError, match=r"^the field blew up$"):
        check_finite("the field blew up", torch.ones(3), torch.tensor([1.0, float("nan")]))
