"""The CUDA kernels (linear and nonlinear scalar media, acoustics): checked on this CPU machine
through numba's CUDA simulator, on a device against the torch backend (the ``gpu`` marker).

The simulator is switched on in a child process (``NUMBA_ENABLE_CUDASIM=1`` must be set before
numba is imported, and would otherwise reach every other test). It runs each GPU thread as a
Python thread, so the grids are tiny.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")

#: Compares backend="cuda" (simulated) with the CPU kernels: readings, snapshots, gradients.
SIMULATED_CHECK = textwrap.dedent('''
    import os
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    import warnings
    warnings.simplefilter("ignore")
    import numpy as np
    import torch
    from wavefab.solver import (PML, DampingLayer, Grid, Nonlinearity, PointProbe, PointSource,
                                RegionProbe, SolverValueError, propagate)
    from wavefab.solver.acoustic import propagate_acoustic

    F64 = torch.float64
    grid = Grid(shape=(8, 9), h=1.0, dt=0.5)
    g = torch.Generator().manual_seed(0)
    mask = np.zeros((8, 9))
    mask[3:5, 5:7] = 1.0
    kw = dict(grid=grid, sources=[PointSource(4, 2)], boundary=DampingLayer(2, sigma_max=0.8),
              probes=[PointProbe(4, 6, measure="intensity"), RegionProbe(mask)],
              snapshot_every=3, checkpoint_every=4)
    for order, batched in ((2, False), (4, True)):
        speed = 0.8 + 0.4 * torch.rand((2, 8, 9) if batched else (8, 9), generator=g, dtype=F64)
        damping = 0.05 * torch.rand(8, 9, generator=g, dtype=F64)
        waves = torch.randn(2, 10, generator=g, dtype=F64)
        results = {}
        for backend in ("numba", "cuda"):
            s, d, w = (x.clone().requires_grad_(True) for x in (speed, damping, waves))
            out = propagate(s, w, damping=d, backend=backend, order=order, **kw)
            assert out.backend == backend, out.backend
            loss = (out.probes ** 2).sum() + (out.snapshots ** 2).sum()
            results[backend] = (out.probes.detach(), out.snapshots.detach(),
                                *torch.autograd.grad(loss, (s, d, w)))
        for a, b in zip(results["numba"], results["cuda"]):
            error = float((a - b).abs().max() / a.abs().max())
            assert error <= 1e-12, (order, error)
    # the nonlinear medium: every gradient of its law
    rho = torch.zeros(8, 9, dtype=F64)
    rho[2:6, 3:7] = 1.0
    for order in (2, 4):
        speed = 0.8 + 0.4 * torch.rand(8, 9, generator=g, dtype=F64)
        waves = 3 * torch.randn(2, 10, generator=g, dtype=F64)
        results = {}
        for backend in ("numba", "cuda"):
            leaves = [x.clone().requires_grad_(True) for x in (speed, waves, rho)]
            b0, u_th, c_nl = (torch.tensor(v, dtype=F64, requires_grad=True)
                              for v in (0.3, 0.3, 0.2))
            nl = Nonlinearity(rho=leaves[2], b0=b0, u_th=u_th, c_nl=c_nl)
            out = propagate(leaves[0], leaves[1], nonlinearity=nl, backend=backend, order=order,
                            **kw)
            assert out.backend == backend, out.backend
            loss = (out.probes ** 2).sum() + (out.snapshots ** 2).sum()
            results[backend] = (out.probes.detach(),
                                *torch.autograd.grad(loss, [*leaves, b0, u_th, c_nl]))
        for a, b in zip(results["numba"], results["cuda"]):
            error = float((a - b).abs().max() / a.abs().max())
            assert error <= 1e-12, ("nonlinear", order, error)
    # the acoustic medium (1/ρ and K, faces between the cells)
    for order, batched in ((2, False), (4, True)):
        agrid = Grid(shape=(8, 9), h=1.0, dt=0.4)
        inv = 1 + 0.3 * torch.rand(8, 9, generator=g, dtype=F64)
        bulk = 1 + 0.3 * torch.rand((2, 8, 9) if batched else (8, 9), generator=g, dtype=F64)
        waves = torch.randn(2, 10, generator=g, dtype=F64)
        results = {}
        for backend in ("numba", "cuda"):
            leaves = [x.clone().requires_grad_(True) for x in (inv, bulk, waves)]
            out = propagate_acoustic(*leaves, **{**kw, "grid": agrid}, backend=backend,
                                     order=order)
            assert out.backend == backend, out.backend
            loss = (out.probes ** 2).sum() + (out.snapshots ** 2).sum()
            results[backend] = (out.probes.detach(), out.snapshots.detach(),
                                *torch.autograd.grad(loss, leaves))
        for a, b in zip(results["numba"], results["cuda"]):
            error = float((a - b).abs().max() / a.abs().max())
            assert error <= 1e-12, ("acoustic", order, error)
    try:
        propagate(torch.ones(8, 9), torch.ones(1, 5), grid=grid, sources=[PointSource(4, 4)],
                  boundary=PML(2), backend="cuda")
    except SolverValueError as exc:
        assert "without a PML" in str(exc)
    else:
        raise AssertionError("a PML on the CUDA kernels was not refused")
    print("ok")
''')


def test_the_cuda_kernels_are_the_cpu_kernels_in_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    proc = subprocess.run([sys.executable, "-c", SIMULATED_CHECK], env=env, text=True,
                          capture_output=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), (
        proc.stdout[-2000:] + proc.stderr[-4000:])


def test_the_cuda_kernels_refuse_cpu_tensors_outside_the_simulator():
    from wavefab.solver import DampingLayer, Grid, PointSource, SolverValueError, propagate

    grid = Grid(shape=(8, 9), h=1.0, dt=0.5)
    with pytest.raises(SolverValueError, match="NUMBA_ENABLE_CUDASIM"):
        propagate(torch.ones(8, 9), torch.ones(1, 5), grid=grid, sources=[PointSource(4, 4)],
                  boundary=DampingLayer(2), backend="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_device_the_cuda_kernels_are_the_torch_scheme():
    from wavefab.solver import DampingLayer, Grid, Nonlinearity, PointProbe, PointSource, propagate

    grid = Grid(shape=(64, 80), h=1.0, dt=0.5)
    g = torch.Generator().manual_seed(0)
    speed = (0.8 + 0.4 * torch.rand(64, 80, generator=g, dtype=torch.float64)).cuda()
    waves = torch.randn(4, 200, generator=g, dtype=torch.float64).cuda()
    kw = dict(grid=grid, sources=[PointSource(32, 10)], boundary=DampingLayer(10),
              probes=[PointProbe(32, 60, measure="intensity")], checkpoint_every=37)
    rho = torch.zeros(64, 80, dtype=torch.float64, device="cuda")
    rho[20:44, 30:50] = 1.0
    for nonlinearity in (None, Nonlinearity(rho=rho, b0=0.1, u_th=0.5, c_nl=0.05)):
        results = {}
        for backend in ("torch", "cuda"):
            s, w = speed.clone().requires_grad_(True), waves.clone().requires_grad_(True)
            out = propagate(s, w, backend=backend, nonlinearity=nonlinearity, **kw)
            results[backend] = (out.probes.detach(),
                                *torch.autograd.grad(out.probes.sum(), (s, w)))
        for a, b in zip(results["torch"], results["cuda"], strict=True):
            assert float((a - b).abs().max() / a.abs().max()) <= 1e-10
