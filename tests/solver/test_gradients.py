"""Gradients of the discrete scheme: finite differences, checkpointing, backends, CUDA."""

from __future__ import annotations

import pytest
import torch

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    LineSource,
    Nonlinearity,
    PointProbe,
    PointSource,
    RegionProbe,
    SolverValueError,
    propagate,
)

# Gradient checks use tiny, deliberately coarse grids: dispersion is irrelevant to them.
pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")

F64 = torch.float64
GRID = Grid(shape=(16, 18), h=1.0, dt=0.5)
# The PML grading is a constant of the scheme; fix its speed so finite differences see it fixed.
BOUNDARIES = {"rigid": None, "damping": DampingLayer(width=3, sigma_max=0.8),
              "pml": PML(width=3, speed=1.2)}


def _probes():
    region = torch.zeros(GRID.shape, dtype=torch.bool)
    region[7:10, 12:14] = True
    return [PointProbe(8, 11, measure="intensity"), PointProbe(6, 6),
            RegionProbe(region.numpy(), measure="intensity")]


def _inputs(batch: int = 2, steps: int = 40, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    speed = 0.8 + 0.4 * torch.rand(GRID.shape, generator=g, dtype=F64)
    damping = 0.05 * torch.rand(GRID.shape, generator=g, dtype=F64)
    t = torch.arange(steps, dtype=F64)
    # smooth band-limited input (a few cycles, ≥ 10 points per wavelength)
    waves = torch.stack([torch.sin(0.12 * t + k) * torch.exp(-((t - 12 - 3 * k) / 6) ** 2)
                         for k in range(batch)])
    return speed, damping, waves


def _loss(speed, damping, waves, *, boundary, order=2, backend="auto", checkpoint_every=None,
          nonlinearity=None, sources=None):
    out = propagate(speed, waves, grid=GRID, sources=sources or [PointSource(8, 5)],
                    probes=_probes(), boundary=boundary, damping=damping, order=order,
                    backend=backend, checkpoint_every=checkpoint_every, nonlinearity=nonlinearity)
    weights = torch.linspace(0.5, 1.5, out.probes.shape[-1], dtype=out.probes.dtype)
    return (out.probes * weights).pow(2).sum() + out.probes.sum()


def _directional_fd(fn, x: torch.Tensor, direction: torch.Tensor, eps: float) -> float:
    with torch.no_grad():
        return float((fn(x + eps * direction) - fn(x - eps * direction)) / (2 * eps))


def _check_fd(fn, x: torch.Tensor, eps: float = 1e-6, tol: float = 1e-6) -> float:
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x), x)
    direction = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype)
    analytic = float((grad * direction).sum())
    numeric = _directional_fd(fn, x.detach(), direction, eps)
    rel = abs(analytic - numeric) / max(abs(numeric), 1e-30)
    assert rel <= tol, f"gradient {analytic} vs finite difference {numeric}: rel. error {rel:.2e}"
    return rel


@pytest.mark.parametrize("boundary", BOUNDARIES.values(), ids=BOUNDARIES.keys())
@pytest.mark.parametrize("order", [2, 4])
def test_speed_gradient_matches_finite_differences(boundary, order):
    speed, damping, waves = _inputs()
    _check_fd(lambda s: _loss(s, damping, waves, boundary=boundary, order=order), speed)


@pytest.mark.parametrize("boundary", BOUNDARIES.values(), ids=BOUNDARIES.keys())
def test_damping_gradient_matches_finite_differences(boundary):
    speed, damping, waves = _inputs()
    _check_fd(lambda d: _loss(speed, d, waves, boundary=boundary), damping)


@pytest.mark.parametrize("boundary", BOUNDARIES.values(), ids=BOUNDARIES.keys())
def test_waveform_gradient_matches_finite_differences(boundary):
    speed, damping, waves = _inputs()
    sources = [PointSource(8, 5), LineSource((5, 8), (11, 9))]
    _check_fd(lambda w: _loss(speed, damping, w, boundary=boundary, sources=sources), waves)


def _nonlinear_values(batched_rho: bool = False) -> dict[str, torch.Tensor]:
    rho = torch.zeros(GRID.shape, dtype=F64)
    rho[4:12, 7:11] = 1.0
    if batched_rho:  # one material per batch item
        rho = torch.stack([rho, rho.flip(1)])
    return {"rho": rho, "b0": torch.tensor(0.3, dtype=F64), "u_th": torch.tensor(0.3, dtype=F64),
            "c_nl": torch.tensor(0.2, dtype=F64)}


# the PML runs nonlinear media on torch; the damping layer on the fused nonlinear kernels
NONLINEAR_BOUNDARIES = {"pml-torch": BOUNDARIES["pml"], "damping-numba": BOUNDARIES["damping"]}


@pytest.mark.parametrize("boundary", NONLINEAR_BOUNDARIES.values(),
                         ids=NONLINEAR_BOUNDARIES.keys())
@pytest.mark.parametrize("field", ["rho", "b0", "u_th", "c_nl", "speed", "damping", "waves"])
def test_nonlinear_gradients_match_finite_differences(field, boundary):
    speed, damping, waves = _inputs()
    waves = 3 * waves  # |u| ≈ 0.6 in the material: well into the nonlinear regime, still stable
    values = _nonlinear_values()
    inputs = {"speed": speed, "damping": damping, "waves": waves}

    def fn(x):
        nl = Nonlinearity(**{**values, field: x} if field in values else values)
        args = {**inputs, field: x} if field in inputs else inputs
        return _loss(args["speed"], args["damping"], args["waves"], boundary=boundary,
                     nonlinearity=nl)

    # the nonlinearity must actually act: compare against the linear run
    with torch.no_grad():
        linear = _loss(speed, damping, waves, boundary=boundary)
        assert abs(float(fn({**values, **inputs}[field]) - linear)) > 1e-3 * abs(float(linear))
    _check_fd(fn, {**values, **inputs}[field])


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize("checkpoint_every", [None, 7])
@pytest.mark.parametrize("batched_rho", [False, True])
def test_the_fused_nonlinear_kernels_are_the_torch_scheme_and_its_exact_adjoint(
        order, checkpoint_every, batched_rho):
    speed, damping, waves = _inputs(steps=45)
    waves = 3 * waves
    values = _nonlinear_values(batched_rho)
    results = {}
    for backend in ("numba", "torch"):
        leaves = {k: v.clone().requires_grad_(True)
                  for k, v in {**values, "speed": speed, "damping": damping,
                               "waves": waves}.items()}
        nl = Nonlinearity(**{k: leaves[k] for k in values})
        out = propagate(leaves["speed"], leaves["waves"], grid=GRID, sources=[PointSource(8, 5)],
                        probes=_probes(), boundary=BOUNDARIES["damping"],
                        damping=leaves["damping"], order=order, backend=backend,
                        checkpoint_every=checkpoint_every, snapshot_every=4, nonlinearity=nl)
        assert out.backend == backend
        loss = (out.probes**2).sum() + 0.1 * (out.snapshots**2).sum()
        results[backend] = (out.probes.detach(), torch.autograd.grad(loss, list(leaves.values())))
    (p_n, g_n), (p_t, g_t) = results["numba"], results["torch"]
    assert float((p_n - p_t).abs().max() / p_t.abs().max()) <= 1e-12
    for a, b in zip(g_n, g_t, strict=True):
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-12


def test_nonlinear_media_pick_the_fused_kernels_without_a_pml():
    speed, _, waves = _inputs(batch=1, steps=10)
    nl = Nonlinearity(**_nonlinear_values())
    kw = {"grid": GRID, "sources": [PointSource(8, 5)], "nonlinearity": nl}
    assert propagate(speed, waves, boundary=BOUNDARIES["damping"], **kw).backend == "numba"
    assert propagate(speed, waves, boundary=None, **kw).backend == "numba"
    assert propagate(speed, waves, boundary=BOUNDARIES["pml"], **kw).backend == "torch"
    with pytest.raises(SolverValueError, match="nonlinear media only without a PML"):
        propagate(speed, waves, boundary=BOUNDARIES["pml"], backend="numba", **kw)


@pytest.mark.parametrize("boundary", BOUNDARIES.values(), ids=BOUNDARIES.keys())
@pytest.mark.parametrize("order", [2, 4])
def test_checkpointed_gradients_equal_full_storage(boundary, order):
    speed, damping, waves = _inputs(steps=57)
    grads = {}
    for every in (0, 1, 5, 16, None):
        s = speed.clone().requires_grad_(True)
        d = damping.clone().requires_grad_(True)
        w = waves.clone().requires_grad_(True)
        loss = _loss(s, d, w, boundary=boundary, order=order, checkpoint_every=every)
        grads[every] = torch.autograd.grad(loss, [s, d, w])
    for every, g in grads.items():
        for a, b in zip(g, grads[0], strict=True):
            assert float((a - b).abs().max() / b.abs().max()) <= 1e-12, every


@pytest.mark.parametrize("boundary", BOUNDARIES.values(), ids=BOUNDARIES.keys())
@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize("batched_speed", [False, True])
def test_custom_adjoint_equals_plain_autograd(boundary, order, batched_speed):
    """The numba kernels' hand-written adjoint equals autograd through plain torch steps."""
    speed, damping, waves = _inputs(batch=3, steps=45)
    if batched_speed:
        speed = torch.stack([speed, speed.flip(0), speed.flip(1)])
    results = {}
    for backend in ("numba", "torch"):
        s = speed.clone().requires_grad_(True)
        d = damping.clone().requires_grad_(True)
        w = waves.clone().requires_grad_(True)
        out = propagate(s, w, grid=GRID, sources=[PointSource(8, 5)], probes=_probes(),
                        boundary=boundary, damping=d, order=order, backend=backend,
                        checkpoint_every=11, snapshot_every=4)
        # snapshots enter the loss too (one falls on a segment boundary: step 44 = 4·11)
        ramp = torch.linspace(0, 1, out.snapshots.shape[1], dtype=F64)[None, :, None, None]
        loss = (out.probes**2).sum() + (ramp * out.snapshots**2).sum()
        results[backend] = (out.probes.detach(), torch.autograd.grad(loss, [s, d, w]))
    (p_n, g_n), (p_t, g_t) = results["numba"], results["torch"]
    assert float((p_n - p_t).abs().max() / p_t.abs().max()) <= 1e-12
    for a, b in zip(g_n, g_t, strict=True):
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-12


@pytest.mark.parametrize("shape", [(30, 15), (15, 30), (17, 17)])
def test_narrow_grids_with_pml_match_torch(shape):
    """On grids narrower than two PML strips the strips meet; no cell may be updated twice."""
    grid = Grid(shape=shape, h=1.0, dt=0.5)
    g = torch.Generator().manual_seed(3)
    speed = 0.8 + 0.4 * torch.rand(shape, generator=g, dtype=F64)
    waves = torch.randn(1, 30, generator=g, dtype=F64)
    centre = (shape[0] // 2, shape[1] // 2)
    grads = []
    for backend in ("numba", "torch"):
        s = speed.clone().requires_grad_(True)
        out = propagate(s, waves, grid=grid, sources=[PointSource(*centre)],
                        probes=[PointProbe(*centre)], boundary=PML(width=7, speed=1.2),
                        order=4, backend=backend)
        grads.append((out.probes.detach(), torch.autograd.grad(out.probes.pow(2).sum(), s)[0]))
    assert torch.allclose(grads[0][0], grads[1][0], rtol=1e-12, atol=1e-14)
    assert float((grads[0][1] - grads[1][1]).abs().max() / grads[1][1].abs().max()) < 1e-12


@pytest.mark.parametrize("order", [2, 4])
def test_widened_x_strips_change_nothing(order, monkeypatch):
    """The fused kernels widen each x-PML strip to whole vectors (past the layer, where every
    profile is zero): the probes and gradients must equal the unwidened strips' bit for bit."""
    from wavefab.solver.backends import scalar_numba

    grid = Grid(shape=(20, 41), h=1.0, dt=0.5)
    g = torch.Generator().manual_seed(5)
    speed = 0.8 + 0.4 * torch.rand(grid.shape, generator=g, dtype=F64)
    waves = torch.randn(2, 40, generator=g, dtype=F64)
    # a 5-cell layer: the strips reach 6 (order 2) or 7 (order 4) columns, widened to 8
    results = []
    for multiple in (scalar_numba.X_STRIP_MULTIPLE, 1):
        monkeypatch.setattr(scalar_numba, "X_STRIP_MULTIPLE", multiple)
        s = speed.clone().requires_grad_(True)
        out = propagate(s, waves, grid=grid, sources=[PointSource(10, 20)],
                        probes=[PointProbe(6, 6), PointProbe(13, 34)],
                        boundary=PML(width=5, speed=1.2), order=order, backend="numba",
                        checkpoint_every=13)
        results.append((out.probes.detach(), torch.autograd.grad(out.probes.sum(), s)[0]))
    (p_wide, g_wide), (p_exact, g_exact) = results
    assert float(p_exact.abs().max()) > 0 and float(g_exact.abs().max()) > 0
    assert torch.equal(p_wide, p_exact)
    assert torch.equal(g_wide, g_exact)


def test_second_derivatives_are_refused_on_numba_not_wrong():
    speed, damping, waves = _inputs()
    s = speed.clone().requires_grad_(True)
    loss = _loss(s, damping, waves, boundary=None, backend="numba")
    with pytest.raises(SolverValueError, match=r"second derivatives .* backend='torch'"):
        torch.autograd.grad(loss, s, create_graph=True)
    # the torch backend refuses them through checkpointed segments too...
    s = speed.clone().requires_grad_(True)
    loss = _loss(s, damping, waves, boundary=None, backend="torch", checkpoint_every=7)
    with pytest.raises(SolverValueError, match="checkpoint_every=0"):
        torch.autograd.grad(loss, s, create_graph=True)
    # ...and gives them when every step is stored: a Hessian-vector product checked against
    # finite differences of the gradient
    direction = torch.randn(speed.shape, generator=torch.Generator().manual_seed(5), dtype=F64)

    def gradient(x, create_graph=False):
        x = x.detach().requires_grad_(True)
        loss = _loss(x, damping, waves, boundary=None, backend="torch", checkpoint_every=0)
        return x, torch.autograd.grad(loss, x, create_graph=create_graph)[0]

    x, g = gradient(speed, create_graph=True)
    (hv,) = torch.autograd.grad((g * direction).sum(), x)
    eps = 1e-5
    numeric = (gradient(speed + eps * direction)[1] - gradient(speed - eps * direction)[1]) / (
        2 * eps)
    assert float(((hv * direction).sum() - (numeric * direction).sum()).abs()
                 / (numeric * direction).sum().abs()) < 1e-5


def test_float32_gradients_follow_float64():
    speed, damping, waves = _inputs()
    grads = []
    for dtype in (torch.float32, F64):
        s = speed.to(dtype).requires_grad_(True)
        loss = _loss(s, damping.to(dtype), waves.to(dtype), boundary=PML(width=3, speed=1.2))
        assert loss.dtype == dtype
        grads.append(torch.autograd.grad(loss, s)[0].double())
    assert float((grads[0] - grads[1]).abs().max() / grads[1].abs().max()) < 1e-3


def test_snapshots_match_probes():
    speed, _, waves = _inputs(steps=30)
    out = propagate(speed, waves, grid=GRID, sources=[PointSource(8, 5)],
                    probes=[PointProbe(6, 6)], boundary=None, snapshot_every=3)
    assert out.snapshots is not None and out.snapshots.shape == (2, 10, *GRID.shape)
    # snapshot k is the field after step 3(k+1), i.e. probes[:, 3(k+1) - 1]
    assert torch.allclose(out.snapshots[:, :, 6, 6], out.probes[:, 2::3, 0], rtol=0, atol=1e-15)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    speed, damping, waves = _inputs()
    grads = []
    for device in ("cpu", "cuda"):
        s = speed.to(device).requires_grad_(True)
        loss = _loss(s, damping.to(device), waves.to(device), boundary=PML(width=3, speed=1.2))
        grads.append(torch.autograd.grad(loss, s)[0].cpu())
    assert float((grads[0] - grads[1]).abs().max() / grads[1].abs().max()) <= 1e-10


def test_thread_count_does_not_change_numbers():
    import numba

    from wavefab.solver import set_num_threads
    from wavefab.solver.threads import kernel_threads

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one CPU thread only: nothing to compare")
    speed, damping, waves = _inputs(batch=5)
    before = kernel_threads()
    results = []
    try:
        for threads in (1, 2):
            set_num_threads(threads)
            s = speed.clone().requires_grad_(True)
            loss = _loss(s, damping, waves, boundary=PML(width=3, speed=1.2))
            results.append((loss.detach(), torch.autograd.grad(loss, s)[0]))
    finally:
        set_num_threads(before)
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        set_num_threads(0)
