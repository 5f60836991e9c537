"""The scalar wave solver against physics: Green's function, convergence, energy, reciprocity.

Everything runs in float64. Each test prints its measured figures (``pytest -s`` shows them).

Conventions checked here (see :mod:`wavefab.solver.scalar`): the scheme is
``u^{n+1} = 2u^n − u^{n−1} + dt²(c² L u^n / h² + f^n)``, step ``n`` applies the source sample
``s(n·dt)`` and ``probes[:, n]`` is the field at ``t = (n+1)·dt``; a point source is the force
density ``s(t)·δ(x − x0)``, i.e. ``s/h²`` on its cell.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    PointProbe,
    PointSource,
    propagate,
    ricker,
)

F64 = torch.float64

# --------------------------------------------------------------------------------------------
# analytic reference: the 2D Green's function convolved with a Ricker wavelet


def _ricker(t: np.ndarray, f0: float, delay: float) -> np.ndarray:
    """Analytic Ricker wavelet, written independently of :func:`wavefab.solver.ricker`."""
    a = (math.pi * f0 * (t - delay)) ** 2
    return (1.0 - 2.0 * a) * np.exp(-a)


def _green_ricker(t: np.ndarray, r: float, c: float, f0: float, delay: float,
                  nodes: int = 256) -> np.ndarray:
    """``u(r, t) = (G * s)(r, t)`` for ``u_tt − c²∇²u = s(t)·δ(x)`` in 2D, at times ``t``.

    With ``G(r, t) = H(ct − r) / (2πc·√(c²t² − r²))`` and the substitution
    ``τ = (r/c)·cosh φ`` the convolution becomes the smooth integral
    ``u = 1/(2πc²) ∫_0^{acosh(ct/r)} s(t − (r/c)·cosh φ) dφ`` (zero for ``ct ≤ r``), evaluated
    here by Gauss–Legendre quadrature.
    """
    x, w = np.polynomial.legendre.leggauss(nodes)
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    inside = c * t > r
    ti = t[inside]
    phi_max = np.arccosh(c * ti / r)
    phi = 0.5 * (x[None, :] + 1.0) * phi_max[:, None]
    values = _ricker(ti[:, None] - (r / c) * np.cosh(phi), f0, delay)
    out[inside] = (values * w[None, :]).sum(axis=1) * 0.5 * phi_max / (2.0 * math.pi * c * c)
    return out


# Geometry of the Green's-function runs, in peak wavelengths λ = c/f0 (f0 = 1, c = 1).
C0 = 1.0
F0 = 1.0
DELAY = 1.5 / F0  # the default Ricker delay of wavefab.solver.ricker
T_END = 7.5 / F0  # window: source start .. arrival (3/f0) + pulse (3/f0) + 1.5/f0 of 2D tail
DISTANCE = 3  # source-probe distance, in wavelengths
COURANT = 0.5  # c·dt/h, below both CFL limits (0.707 for order 2, 0.612 for order 4)
# Rigid walls (boundary=None) at these distances from the source, in wavelengths: left, right
# (the probe side) and above/below. The earliest wall echo reaches the probe after travelling
# min(2·LEFT + D, 2·RIGHT − D, √((2·SIDE)² + D²)) = 8.25λ, i.e. 0.75/f0 after the window ends
# (the Ricker is < 1e-9 of its peak that long before its centre), so the window is echo-free.
LEFT, RIGHT, SIDE = 2.75, 5.75, 4.0


def _assert_echo_free() -> None:
    d = DISTANCE
    echo = min(2 * LEFT + d, 2 * RIGHT - d, math.hypot(2 * SIDE, d)) / C0
    assert echo - T_END >= 0.7 / F0, "the geometry lets a wall echo into the window"


def _green_run(ppw: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulated and analytic traces at ``DISTANCE`` wavelengths, ``ppw`` cells per λ."""
    _assert_echo_free()
    lam = C0 / F0
    h = lam / ppw
    dt = COURANT * h / C0
    steps = round(T_END / dt)
    left, right, side = round(LEFT * ppw), round(RIGHT * ppw), round(SIDE * ppw)
    grid = Grid(shape=(2 * side + 1, left + right + 1), h=h, dt=dt)
    row, col = side, left
    speed = torch.full(grid.shape, C0, dtype=F64)
    waves = ricker(F0, steps, dt, dtype=F64).unsqueeze(0)
    out = propagate(speed, waves, grid=grid, sources=[PointSource(row, col)],
                    probes=[PointProbe(row, col + DISTANCE * ppw)], boundary=None, order=order,
                    backend="numba")
    simulated = out.probes[0, :, 0].numpy()
    t = (np.arange(steps) + 1) * dt  # probes[:, n] is the field at t = (n+1)·dt
    reference = _green_ricker(t, DISTANCE * lam, C0, F0, DELAY)
    return simulated, reference


def _rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@cache
def _green_error(ppw: int, order: int) -> float:
    simulated, reference = _green_run(ppw, order)
    return _rel_l2(simulated, reference)


def test_reference_quadrature_matches_scipy_quad():
    # The Gauss-Legendre reference against adaptive quadrature of the same integral.
    t = np.array([3.05, 3.5, 4.0, 4.5, 5.2, 6.0, 7.4])
    ours = _green_ricker(t, DISTANCE, C0, F0, DELAY)
    theirs = np.array([
        quad(lambda phi, tt=tt: _ricker(tt - DISTANCE * np.cosh(phi), F0, DELAY), 0.0,
             np.arccosh(tt / DISTANCE), epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        / (2 * math.pi) for tt in t
    ])
    err = np.abs(ours - theirs).max() / np.abs(theirs).max()
    print(f"\n[reference] Gauss-Legendre vs scipy quad: max rel. difference {err:.1e}")
    assert err < 1e-10
    # causality: nothing before the first arrival t = r/c
    assert np.all(_green_ricker(np.array([0.5, 2.0, 3.0]), DISTANCE, C0, F0, DELAY) == 0)


def test_green_function_error_at_30_points_per_wavelength():
    e2 = _green_error(30, 2)
    e4 = _green_error(30, 4)
    print(f"\n[green] 30 ppw, r = 3λ, Courant {COURANT}: rel. L2 error order 2 = {e2:.4e}, "
          f"order 4 = {e4:.4e}")
    assert e2 <= 0.05
    assert e4 <= 0.05


@pytest.mark.parametrize("order", [2, 4])
def test_green_function_converges_at_second_order(order):
    # h and dt are halved together (fixed Courant number): leapfrog is 2nd order in time, so the
    # observed order is ~2 for both Laplacians; order 4 only removes the spatial share.
    coarse, fine = _green_error(30, order), _green_error(60, order)
    observed = math.log2(coarse / fine)
    print(f"\n[convergence] order {order}: error 30 ppw = {coarse:.4e}, 60 ppw = {fine:.4e}, "
          f"ratio {coarse / fine:.2f}, observed order {observed:.3f}")
    assert 1.7 <= observed <= 2.5


def test_fourth_order_laplacian_is_more_accurate():
    # Dispersion error ∝ (1 − ν²)·(kh)²/12 for order 2 and ∝ ν²·(kh)²/12 (time stepping only)
    # for order 4, so at ν = 0.5 order 4 should be about 3x more accurate.
    for ppw in (30, 60):
        e2, e4 = _green_error(ppw, 2), _green_error(ppw, 4)
        print(f"\n[order 4 vs 2] {ppw} ppw: order 2 {e2:.4e}, order 4 {e4:.4e}, "
              f"gain {e2 / e4:.2f}x")
        assert e4 < 0.5 * e2


def test_green_comparison_is_sensitive_to_a_one_step_time_shift():
    # Guards the time alignment of the test itself: the reference at t = n·dt instead of (n+1)·dt
    # must be clearly worse than the aligned one.
    simulated, _ = _green_run(60, 4)
    dt = COURANT * (C0 / F0 / 60) / C0
    t = np.arange(simulated.size) * dt
    shifted = _rel_l2(simulated, _green_ricker(t, DISTANCE, C0, F0, DELAY))
    aligned = _green_error(60, 4)
    print(f"\n[alignment] 60 ppw order 4: aligned {aligned:.3e}, shifted by one step "
          f"{shifted:.3e}")
    assert shifted > 3 * aligned


# --------------------------------------------------------------------------------------------
# discrete energy in a closed domain


def _laplacian(u: np.ndarray, order: int) -> np.ndarray:
    """Laplacian in cell units (``h²∇²``) over the last two axes, zero outside the grid."""
    r = order // 2
    c2 = [1.0, -2.0, 1.0] if order == 2 else [-1 / 12, 16 / 12, -30 / 12, 16 / 12, -1 / 12]
    ny, nx = u.shape[-2:]
    padded = np.pad(u, [(0, 0)] * (u.ndim - 2) + [(r, r), (r, r)])
    out = np.zeros_like(u)
    for k, coeff in enumerate(c2):
        o = k - r
        out += coeff * (padded[..., r + o:r + o + ny, r:r + nx]
                        + padded[..., r:r + ny, r + o:r + o + nx])
    return out


def _speed_map(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A smooth heterogeneous speed map in [~0.6, ~1.05] with a little random texture."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    rng = np.random.default_rng(seed)
    smooth = np.sin(2 * np.pi * 1.3 * xx / nx) * np.cos(2 * np.pi * 0.7 * yy / ny)
    return 0.8 + 0.2 * smooth + 0.05 * rng.random(shape)


ENERGY_GRID = Grid(shape=(24, 24), h=1.0, dt=0.5)
ENERGY_F0 = 0.025  # ≥ 12 points per wavelength at the 99%-energy band edge for c ≥ 0.6


def _energy_run(backend: str, order: int, quiet_steps: int, damping: np.ndarray | None = None):
    """Drive a closed heterogeneous box with a truncated Ricker, then let it ring.

    Returns ``(E, n0, speed)``: ``E[m] = E^{m+1/2}`` from ``u^{m+1}`` and ``u^m`` for
    ``m = 0..steps-1``; steps ``n ≥ n0`` have a zero source sample.
    """
    grid = ENERGY_GRID
    speed = _speed_map(grid.shape, seed=0)
    n0 = math.ceil(3.0 / ENERGY_F0 / grid.dt) + 1  # the Ricker is < 1e-8 of its peak from here
    steps = n0 + quiet_steps
    waves = ricker(ENERGY_F0, steps, grid.dt, dtype=F64)
    waves[n0:] = 0.0
    out = propagate(torch.tensor(speed), waves.unsqueeze(0), grid=grid,
                    sources=[PointSource(7, 9)], boundary=None, order=order, backend=backend,
                    snapshot_every=1,
                    damping=None if damping is None else torch.tensor(damping))
    assert out.snapshots is not None
    snaps = out.snapshots[0].numpy()  # snaps[m] = u^{m+1}
    u = np.concatenate([np.zeros((1, *grid.shape)), snaps])  # u[m] = u^m, u^0 = 0
    velocity = (u[1:] - u[:-1]) / grid.dt
    energy = ((velocity**2 / speed**2).sum(axis=(1, 2))
              - (u[1:] * _laplacian(u[:-1], order)).sum(axis=(1, 2)) / grid.h**2)
    return energy, n0, speed, u


@pytest.mark.parametrize(
    ("backend", "order", "quiet_steps"),
    [("numba", 2, 10_000), ("numba", 4, 10_000), ("torch", 2, 10_000), ("torch", 4, 10_000)],
)
def test_leapfrog_energy_is_conserved_in_a_closed_lossless_box(backend, order, quiet_steps):
    energy, n0, _, u = _energy_run(backend, order, quiet_steps)
    # Step n0 applies a zero sample, so E^{n0+1/2} = E^{n0-1/2} = energy[n0 - 1] onwards.
    quiet = energy[n0 - 1:]
    drift = float(np.abs(quiet - quiet[0]).max() / quiet[0])
    print(f"\n[energy] {backend} order {order}: E = {quiet[0]:.6e} over {quiet.size - 1} steps "
          f"after the source stopped, max relative drift {drift:.2e}")
    assert quiet[0] > 0 and energy[0] >= 0
    assert np.abs(u[-1]).max() > 1e-3 * np.abs(u).max()  # still ringing: no hidden loss
    assert drift <= 1e-9  # required: 1e-6; float64 round-off gives ~1e-15


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_damping_removes_exactly_the_dissipated_energy(backend):
    # With u_tt + b u_t the scheme gives E^{n+1/2} − E^{n−1/2} = −Σ b (u^{n+1} − u^{n−1})² /
    # (2 c² dt) exactly (source off). Checks the damping coefficients α, β, γ of the update.
    shape = ENERGY_GRID.shape
    damping = 0.002 + 0.004 * np.random.default_rng(1).random(shape)
    energy, n0, speed, u = _energy_run(backend, 2, 1_500, damping=damping)
    dt = ENERGY_GRID.dt
    # Index j ↔ step m = j + 1: loss[j] from u^{m+1} − u^{m−1}, change[j] = E^{m+1/2} − E^{m−1/2}.
    loss = (damping * (u[2:] - u[:-2]) ** 2 / (2 * speed**2 * dt)).sum(axis=(1, 2))
    change = energy[1:] - energy[:-1]
    quiet = slice(n0 - 1, None)  # steps m ≥ n0 apply a zero source sample
    mismatch = float(np.abs(change[quiet] + loss[quiet]).max() / energy[n0 - 1])
    decay = energy[-1] / energy[n0 - 1]
    print(f"\n[damped energy] {backend}: E fell to {decay:.3f} of its value over "
          f"{energy.size - n0} steps; energy-balance residual {mismatch:.2e} (relative to E)")
    assert decay < 0.9
    assert mismatch <= 1e-11


# --------------------------------------------------------------------------------------------
# reciprocity


RECIPROCITY_GRID = Grid(shape=(64, 72), h=1.0, dt=0.5)
SITE_A, SITE_B = (25, 22), (38, 50)


def _reciprocity_speed() -> np.ndarray:
    ny, nx = RECIPROCITY_GRID.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    rng = np.random.default_rng(1)
    return (0.8 + 0.2 * np.tanh((xx - nx / 2) / 6.0) + 0.1 * np.sin(2 * np.pi * yy / 29)
            + 0.03 * rng.random((ny, nx)))


RECIPROCITY_BOUNDARIES = {
    "rigid": None,
    "damping": DampingLayer(width=10, sigma_max=0.5),
    "pml": PML(width=10),
}


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize("name", RECIPROCITY_BOUNDARIES)
def test_reciprocity_of_source_and_receiver(name, order):
    # For u_tt + b u_t = c²∇²u + s·δ(x − x_s) the self-adjoint form is
    # (1/c²)u_tt + (b/c²)u_t − ∇²u = s·δ/c²(x_s), so the reciprocal pair is
    # c²(A)·u(B ← A) = c²(B)·u(A ← B); the plain traces agree only where c(A) = c(B).
    # The leapfrog scheme satisfies this exactly (diag(1/c²)·(scheme) is symmetric); the CPML's
    # discrete operator is not exactly self-adjoint, so there it holds to the layer's accuracy.
    boundary = RECIPROCITY_BOUNDARIES[name]
    grid, speed = RECIPROCITY_GRID, _reciprocity_speed()
    waves = ricker(0.02, 800, grid.dt, dtype=F64).unsqueeze(0)

    def trace(src, rec):
        out = propagate(torch.tensor(speed), waves, grid=grid, sources=[PointSource(*src)],
                        probes=[PointProbe(*rec)], boundary=boundary, order=order,
                        backend="numba")
        return out.probes[0, :, 0].numpy()

    ab, ba = trace(SITE_A, SITE_B), trace(SITE_B, SITE_A)
    ca2, cb2 = speed[SITE_A] ** 2, speed[SITE_B] ** 2
    err = _rel_l2(ba * cb2, ab * ca2)
    plain = _rel_l2(ba, ab)
    print(f"\n[reciprocity] {name} order {order}: c(A) = {speed[SITE_A]:.3f}, "
          f"c(B) = {speed[SITE_B]:.3f}; c²-weighted swap error {err:.2e} "
          f"(plain swap differs by {plain:.3f}, expected |1 − c²(A)/c²(B)| = "
          f"{abs(1 - ca2 / cb2):.3f})")
    assert np.abs(ab).max() > 1e-3  # the wave did arrive
    assert err <= (1e-5 if name == "pml" else 1e-10)


def test_reciprocity_plain_swap_when_speeds_match():
    # Same speed at both ends of a heterogeneous medium: the traces themselves are identical.
    grid = RECIPROCITY_GRID
    speed = _reciprocity_speed()
    speed[SITE_B] = speed[SITE_A]
    waves = ricker(0.02, 800, grid.dt, dtype=F64).unsqueeze(0)
    traces = [
        propagate(torch.tensor(speed), waves, grid=grid, sources=[PointSource(*src)],
                  probes=[PointProbe(*rec)], boundary=DampingLayer(width=10, sigma_max=0.5),
                  backend=backend).probes[0, :, 0].numpy()
        for src, rec, backend in [(SITE_A, SITE_B, "numba"), (SITE_B, SITE_A, "torch")]
    ]
    err = _rel_l2(traces[1], traces[0])
    print(f"\n[reciprocity] c(A) = c(B), numba A→B vs torch B→A: rel. error {err:.2e}")
    assert err <= 1e-10


# --------------------------------------------------------------------------------------------
# backends


BACKEND_BOUNDARIES = {
    "pml": PML(width=10),
    "damping": DampingLayer(width=10, sigma_max=0.5),
    "rigid": None,
}


@pytest.mark.parametrize("name", BACKEND_BOUNDARIES)
@pytest.mark.parametrize("order", [2, 4])
def test_numba_and_torch_backends_agree(order, name):
    grid, speed = RECIPROCITY_GRID, torch.tensor(_reciprocity_speed())
    base = ricker(0.02, 600, grid.dt, dtype=F64)
    waves = torch.stack([torch.stack([base, torch.roll(base, 37)], -1),
                         torch.stack([-0.5 * base, torch.roll(base, 80)], -1)])  # (B, T, S)
    kw = {
        "grid": grid, "sources": [PointSource(*SITE_A), PointSource(*SITE_B)],
        "probes": [PointProbe(*SITE_B), PointProbe(*SITE_A),
                   PointProbe(30, 33, measure="intensity")],
        "boundary": BACKEND_BOUNDARIES[name], "order": order, "snapshot_every": 100,
    }
    a = propagate(speed, waves, backend="numba", **kw)
    b = propagate(speed, waves, backend="torch", **kw)
    assert a.backend == "numba" and b.backend == "torch"
    probes = float((a.probes - b.probes).abs().max() / b.probes.abs().max())
    assert a.snapshots is not None and b.snapshots is not None
    snaps = float((a.snapshots - b.snapshots).abs().max() / b.snapshots.abs().max())
    print(f"\n[backends] {name} order {order}: max rel. difference probes {probes:.1e}, "
          f"snapshots {snaps:.1e}")
    assert probes <= 1e-12
    assert snaps <= 1e-12
