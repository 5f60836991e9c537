"""The variable-density acoustic solver: agreement with the scalar model, rigid walls against
analytic results (plane-wave reflection, duct cut-on, cylinder scattering), stability, gradients.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    LineSource,
    PointProbe,
    PointSource,
    SolverValueError,
    StabilityError,
    propagate,
    ricker,
)
from wavefab.solver.acoustic import ACOUSTIC_CFL, face_mean, propagate_acoustic, stable_step

RIGID = 1e-4  # 1/ρ of a solid relative to the fluid's: K stays the fluid's (no smaller step)

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")


@pytest.mark.parametrize("boundary", [DampingLayer(20), None, PML(20)])
def test_a_homogeneous_medium_is_the_scalar_wave_equation(boundary):
    grid = Grid(shape=(90, 110), h=1.0, dt=0.5)
    waves = ricker(0.05, 260, 0.5, dtype=torch.float64)[None]
    speed = torch.full((90, 110), 0.9, dtype=torch.float64)
    kw = {"grid": grid, "sources": [PointSource(45, 35)], "boundary": boundary,
          "probes": [PointProbe(45, 75), PointProbe(25, 55)]}
    scalar = propagate(speed, waves, **kw).probes
    # (1/K) p_tt = ∇·((1/ρ)∇p) + f with K = 1, 1/ρ = c² is u_tt = c²∇²u + f
    acoustic = propagate_acoustic(speed**2, torch.ones_like(speed), waves, **kw).probes
    tolerance = 1e-3 if isinstance(boundary, PML) else 1e-12  # the two PMLs differ slightly
    assert float((scalar - acoustic).abs().max() / scalar.abs().max()) < tolerance


def test_the_stable_step_is_the_textbook_limit_in_a_homogeneous_medium():
    for order, reach in ((2, 1), (4, 2)):
        inv = torch.full((1, 30, 40), 2.0)
        bulk = torch.full((1, 30, 40), 3.0)
        step = stable_step(bulk, face_mean(inv, -1, reach), face_mean(inv, -2, reach), order, 0.7)
        assert step == pytest.approx(ACOUSTIC_CFL[order] * 0.7 / math.sqrt(6.0), rel=1e-12)


@pytest.mark.parametrize("order", [2, 4])
def test_a_flat_rigid_wall_reflects_everything_in_phase(order):
    # A plane wave from a long line source, a wall from column 160 on; the line's ends are far
    # enough that their diffraction arrives after the reflection has passed the probe.
    ny, nx = 600, 220
    grid = Grid(shape=(ny, nx), h=1.0, dt=0.5)
    f = 0.05  # 20 cells per wavelength
    steps = 560
    waves = ricker(f, steps, grid.dt, dtype=torch.float64)[None]
    kw = {"grid": grid, "sources": [LineSource((20, 40), (ny - 21, 40))],
          "probes": [PointProbe(300, 100)], "boundary": PML(20), "order": order}
    fluid = torch.ones(ny, nx, dtype=torch.float64)
    walled = fluid.clone()
    walled[:, 160:] = RIGID
    free = propagate_acoustic(fluid, torch.ones_like(fluid), waves, **kw).probes[0, :, 0].numpy()
    total = propagate_acoustic(walled, torch.ones_like(fluid), waves, **kw).probes[0, :, 0].numpy()
    reflected = total - free
    spectrum = np.fft.rfftfreq(4096, grid.dt)
    band = (spectrum > 0.5 * f) & (spectrum < 1.5 * f)
    ratio = np.abs(np.fft.rfft(reflected, 4096)[band]) / np.abs(np.fft.rfft(free, 4096)[band])
    assert ratio.min() >= 0.99 and ratio.max() <= 1.01  # |R| = 1 across the band
    xc = np.correlate(reflected, free, "full")
    lag = int(np.argmax(np.abs(xc))) - (steps - 1)
    assert xc[np.argmax(np.abs(xc))] > 0  # R = +1: a pressure doubling, not a release
    # the wall is the face at x = 159.5: the echo comes 2 · 59.5 / c later (± dispersion)
    assert abs(lag * grid.dt - 2 * 59.5) <= 2.0


def test_the_first_duct_mode_cuts_on_at_c_over_twice_the_width():
    ny, nx, width = 120, 300, 40
    grid = Grid(shape=(ny, nx), h=1.0, dt=0.5)
    steps = 6000
    waves = ricker(1 / 80, steps, grid.dt, dtype=torch.float64)[None]
    inv = torch.ones(ny, nx, dtype=torch.float64)
    inv[:40] = RIGID
    inv[40 + width:] = RIGID
    out = propagate_acoustic(inv, torch.ones_like(inv), waves, grid=grid,
                             sources=[PointSource(45, 150)],
                             probes=[PointProbe(45, 150), PointProbe(74, 150)],
                             boundary=PML(20)).probes[0].numpy()
    # the antisymmetric part rings on at the cut-on frequency, where the group velocity is 0
    late = (out[:, 0] - out[:, 1])[800:]
    spectrum = np.abs(np.fft.rfft(late * np.hanning(late.size), 1 << 20))
    freqs = np.fft.rfftfreq(1 << 20, grid.dt)
    band = (freqs > 0.005) & (freqs < 0.02)
    cut_on = freqs[band][np.argmax(spectrum[band])]
    assert cut_on == pytest.approx(1.0 / (2 * width), rel=0.02)


def _circle_openings(n: int, centre: float, radius: float, reach: int, samples: int = 32):
    """Fluid fractions of the cells and faces of a grid around a solid disc (sampled)."""
    o = (np.arange(samples) + 0.5) / samples - 0.5
    idx = np.arange(n, dtype=float)
    edges = np.arange(n + 2 * reach - 1) - reach + 0.5

    def fluid(y, x):
        return (y - centre) ** 2 + (x - centre) ** 2 > radius**2

    cells = np.mean([fluid(idx[:, None] + dy, idx[None, :] + dx) for dy in o for dx in o], 0)
    x_faces = np.mean([fluid(idx[:, None] + d, edges[None, :]) for d in o], 0)
    y_faces = np.mean([fluid(edges[:, None], idx[None, :] + d) for d in o], 0)
    return cells, (x_faces, y_faces)


def test_scattering_by_a_rigid_cylinder_matches_the_bessel_series():
    from scipy.special import h1vp, hankel1, jvp

    from wavefab.solver.acoustic import cut_cell_medium

    ppw = 20  # cells per wavelength; the cylinder's radius is one wavelength
    n, radius = 13 * ppw, float(ppw)
    grid = Grid(shape=(n, n), h=1.0, dt=0.4)
    f = 1.0 / ppw
    steps = 110 * ppw
    t = np.arange(steps) * grid.dt
    ramp = np.clip(t * f / 4, 0, 1)
    waves = torch.tensor(np.sin(2 * np.pi * f * t) * ramp**2 * (3 - 2 * ramp))[None]
    centre = n // 2
    source = (centre, centre - 3 * ppw)
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    ring = [(round(centre - 1.5 * radius * np.sin(a)), round(centre + 1.5 * radius * np.cos(a)))
            for a in angles]
    kw = {"grid": grid, "sources": [PointSource(*source)], "boundary": PML(20), "order": 4,
          "probes": [PointProbe(r, c) for r, c in ring]}
    fluid = torch.ones(n, n, dtype=torch.float64)
    free = propagate_acoustic(fluid, fluid, waves, **kw).probes[0].numpy()
    cells, faces = _circle_openings(n, centre, radius, reach=2)
    inv, bulk, face_values = cut_cell_medium(cells, faces, closed=RIGID)
    cut = propagate_acoustic(inv, bulk, waves, **kw, faces=face_values).probes[0].numpy()
    staircase = fluid.clone()
    staircase[torch.from_numpy(cells < 0.5)] = RIGID
    stairs = propagate_acoustic(staircase, fluid, waves, **kw).probes[0].numpy()

    # complex amplitudes (convention e^{+iωt}) over the last 8 periods
    window = slice(steps - 8 * round(1 / f / grid.dt), steps)
    phase = np.exp(-2j * np.pi * f * (np.arange(steps)[window] + 1) * grid.dt)

    def amplitude(signal):
        return 2 * (signal[window] * phase[:, None]).mean(0)

    incident = amplitude(free)
    x = np.array([c - centre for _, c in ring], float)
    y = np.array([centre - r for r, _ in ring], float)
    sx, sy = source[1] - centre, centre - source[0]
    k = 2 * np.pi * f
    model = np.conj(hankel1(0, k * np.hypot(x - sx, y - sy)))  # the point source's field
    strength = np.vdot(model, incident) / np.vdot(model, model)
    assert np.linalg.norm(incident - strength * model) / np.linalg.norm(incident) < 0.01
    r, theta = np.hypot(x, y), np.arctan2(y, x)
    rs, theta_s = math.hypot(sx, sy), math.atan2(sy, sx)
    # Graf's addition theorem: the scattered field of a rigid cylinder in a line source's field
    series = sum(-jvp(m, k * radius) / h1vp(m, k * radius) * hankel1(m, k * rs)
                 * hankel1(m, k * r) * np.exp(1j * m * (theta - theta_s)) for m in range(-40, 41))
    expected = strength * np.conj(series)

    def error(total):
        return np.linalg.norm(amplitude(total) - incident - expected) / np.linalg.norm(expected)

    assert error(cut) < 0.05  # measured 1.9%
    assert error(stairs) > 2 * error(cut)  # why the cut cells: the staircase is 15% off


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    grid = Grid(shape=(24, 28), h=1.0, dt=0.4)
    waves = ricker(0.08, 70, 0.4, dtype=torch.float64)[None]
    inv = (1.0 + 0.3 * torch.rand(24, 28, dtype=torch.float64)).requires_grad_(True)
    bulk = (1.0 + 0.3 * torch.rand(24, 28, dtype=torch.float64)).requires_grad_(True)
    kw = {"grid": grid, "sources": [PointSource(12, 8)], "probes": [PointProbe(12, 20)],
          "boundary": PML(6, speed=1.2)}  # a fixed layer: its grading is not differentiated

    def loss(a, b, **extra):
        return (propagate_acoustic(a, b, waves, **kw, **extra).probes ** 2).sum()

    value = loss(inv, bulk)
    g_inv, g_bulk = torch.autograd.grad(value, (inv, bulk))
    d_inv, d_bulk = torch.randn(24, 28, dtype=torch.float64), torch.randn(24, 28,
                                                                          dtype=torch.float64)
    eps = 1e-6
    with torch.no_grad():
        for grad, direction, args in (
                (g_inv, d_inv, lambda e: (inv + e * d_inv, bulk)),
                (g_bulk, d_bulk, lambda e: (inv, bulk + e * d_bulk))):
            fd = (loss(*args(eps)) - loss(*args(-eps))) / (2 * eps)
            assert float((grad * direction).sum()) == pytest.approx(float(fd), rel=1e-6)
    # the checkpointed backward (segments recomputed) gives the same gradients
    g2 = torch.autograd.grad(loss(inv, bulk, checkpoint_every=9), (inv, bulk))
    for a, b in zip((g_inv, g_bulk), g2, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-14)


def test_bad_media_and_steps_are_refused_with_the_reason():
    grid = Grid(shape=(40, 40), h=1.0, dt=0.5)
    waves = ricker(0.05, 50, 0.5)[None]
    ones = torch.ones(40, 40)
    kw = {"grid": grid, "sources": [PointSource(20, 20)], "boundary": PML(8)}
    zero = ones.clone()
    zero[5, 5] = 0.0
    with pytest.raises(SolverValueError, match="inv_density must be positive"):
        propagate_acoustic(zero, ones, waves, **kw)
    stiff = ones.clone()
    stiff[15:25, 15:25] = 1e4  # a stiff solid next to fluid faces: the wide stencil is unstable
    soft = ones.clone()
    soft[15:25, 15:25] = 1e-4
    with pytest.raises(StabilityError, match="use dt ≤"):
        propagate_acoustic(soft, stiff, waves, **kw, order=4)
    fast = torch.full((40, 40), 4.0)
    with pytest.raises(StabilityError, match="CFL"):
        propagate_acoustic(fast, ones, waves, **kw)
    with pytest.raises(SolverValueError, match="backend"):
        propagate_acoustic(ones, ones, waves, **kw, backend="fortran")
    with pytest.raises(SolverValueError, match=r"faces\[0\] must have shape \(40, 41\)"):
        propagate_acoustic(ones, ones, waves, **kw, faces=(torch.ones(40, 40), torch.ones(41, 40)))


def test_materials_in_si_units_and_the_rigid_stand_in_in_air():
    from wavefab.solver import MATERIALS, material, rigid_stand_in

    air = material("air")
    assert air.bulk_modulus == pytest.approx(1.2 * 343.0**2)  # 141 kPa
    assert material("pla").impedance / air.impedance > 5000  # printed plastic: a wall
    wall = rigid_stand_in(air)
    assert wall.bulk_modulus == pytest.approx(air.bulk_modulus)  # the time step stays air's
    assert wall.inv_density == pytest.approx(air.inv_density * RIGID)
    assert set(MATERIALS) >= {"air", "water", "pla", "resin"}
    with pytest.raises(SolverValueError, match="unknown material"):
        material("steel")
    # in SI units: a 1 kHz pulse in a 1.5 m box with a wall, air at 1 cm cells
    grid = Grid(shape=(150, 150), h=0.01, dt=0.01 * ACOUSTIC_CFL[2] / 343.0 * 0.9)
    inv = torch.full((150, 150), air.inv_density, dtype=torch.float64)
    inv[:, 100:] = wall.inv_density
    bulk = torch.full_like(inv, air.bulk_modulus)
    waves = ricker(1000.0, 300, grid.dt, dtype=torch.float64)[None]
    out = propagate_acoustic(inv, bulk, waves, grid=grid, sources=[PointSource(75, 50)],
                             probes=[PointProbe(75, 80)], boundary=PML(20))
    assert torch.isfinite(out.probes).all() and float(out.probes.abs().max()) > 0


@pytest.mark.parametrize("boundary", [DampingLayer(8), PML(8)], ids=["damping", "cpml"])
@pytest.mark.parametrize(("order", "checkpoint_every"), [(2, None), (2, 17), (4, None), (4, 17)])
def test_the_fused_kernels_are_the_torch_scheme_and_its_exact_adjoint(order, checkpoint_every,
                                                                      boundary):
    torch.manual_seed(1)
    dtype = torch.float64
    grid = Grid(shape=(40, 50), h=1.0, dt=0.4)  # K up to 1.3: order 4 needs dt < 0.47
    waves = ricker(0.05, 120, 0.4, dtype=dtype)[None].repeat(2, 1).requires_grad_(True)
    inv = 1 + 0.3 * torch.rand(40, 50, dtype=dtype)
    inv[10:20, 20:30] = RIGID
    inv.requires_grad_(True)
    bulk = (1 + 0.3 * torch.rand(2, 40, 50, dtype=dtype)).requires_grad_(True)  # batched
    kw = {"grid": grid, "sources": [PointSource(20, 8)], "boundary": boundary,
          "probes": [PointProbe(20, 40), PointProbe(30, 30, measure="intensity")],
          "snapshot_every": 7, "checkpoint_every": checkpoint_every, "order": order}
    results = {}
    for backend in ("torch", "numba"):
        out = propagate_acoustic(inv, bulk, waves, backend=backend, **kw)
        assert out.backend == backend
        loss = (out.probes**2).sum() + 0.1 * (out.snapshots**2).sum()
        results[backend] = (out.probes, out.snapshots,
                            torch.autograd.grad(loss, (inv, bulk, waves)))
    reference, fused = results["torch"], results["numba"]
    torch.testing.assert_close(fused[0], reference[0], rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(fused[1], reference[1], rtol=1e-12, atol=1e-15)
    for a, b in zip(reference[2], fused[2], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-13)


def test_auto_picks_the_fused_kernels_on_the_cpu():
    grid = Grid(shape=(40, 40), h=1.0, dt=0.5)
    waves = ricker(0.05, 40, 0.5)[None]
    ones = torch.ones(40, 40)
    kw = {"grid": grid, "sources": [PointSource(20, 20)]}
    for boundary in (DampingLayer(8), PML(8), None):
        for order in (2, 4):
            out = propagate_acoustic(ones, ones, waves, boundary=boundary, order=order, **kw)
            assert out.backend == "numba"
    assert propagate_acoustic(ones, ones, waves, boundary=PML(8), backend="torch",
                              **kw).backend == "torch"


def test_the_fused_cpml_gradients_match_finite_differences():
    """The hand-written CPML adjoint against central differences (not only against autograd)."""
    torch.manual_seed(3)
    dtype = torch.float64
    grid = Grid(shape=(22, 26), h=1.0, dt=0.4)
    waves = ricker(0.08, 60, 0.4, dtype=dtype)[None].requires_grad_(True)
    inv = (1.0 + 0.3 * torch.rand(22, 26, dtype=dtype)).requires_grad_(True)
    bulk = (1.0 + 0.3 * torch.rand(22, 26, dtype=dtype)).requires_grad_(True)
    kw = {"grid": grid, "sources": [PointSource(11, 7)], "probes": [PointProbe(11, 19)],
          "boundary": PML(6, speed=1.2), "order": 4, "backend": "numba",
          "checkpoint_every": 13}

    def loss(a, b, w):
        return (propagate_acoustic(a, b, w, **kw).probes ** 2).sum()

    grads = torch.autograd.grad(loss(inv, bulk, waves), (inv, bulk, waves))
    eps = 1e-6
    with torch.no_grad():
        for index, grad in enumerate(grads):
            direction = torch.randn_like(grad)
            args = [inv, bulk, waves]
            plus, minus = list(args), list(args)
            plus[index] = args[index] + eps * direction
            minus[index] = args[index] - eps * direction
            fd = (loss(*plus) - loss(*minus)) / (2 * eps)
            assert float((grad * direction).sum()) == pytest.approx(float(fd), rel=1e-6)
