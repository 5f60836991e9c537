"""The torch backend of :func:`wavefab.solver.propagate`: plain tensor ops, any device.

Runs CUDA tensors and nonlinear media, and is the reference the numba kernels' hand-written
adjoint is tested against. Autograd differentiates the steps; the checkpointed march over
segments of steps is :func:`~wavefab.solver.backends.segments.run_segments`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .._setup import ScalarSetup, leapfrog_coefficients, segment_length
from ..operators import pad, shift_sum, stencils
from .segments import cell_indices, run_segments


class _TorchStepper:
    """One leapfrog step in plain torch ops (differentiable by autograd)."""

    def __init__(self, setup: ScalarSetup) -> None:
        self.setup = setup
        c1, c2 = stencils(setup.order, np.dtype(np.float64))
        self.r = setup.order // 2
        middle = slice(len(c1) // 2 - self.r, len(c1) // 2 + self.r + 1)
        self.c1 = [float(v) for v in c1[middle]]
        self.c2 = [float(v) for v in c2[middle]]
        dev, dtype = setup.alpha.device, setup.alpha.dtype
        self.src, self.prb = cell_indices(setup)
        if setup.pml is not None:
            ax, bx, dbx, ay, by, dby = (torch.as_tensor(v, dtype=dtype, device=dev)
                                        for v in setup.pml)
            self.px = (ax.view(1, 1, -1), bx.view(1, 1, -1), dbx.view(1, 1, -1))
            self.py = (ay.view(1, -1, 1), by.view(1, -1, 1), dby.view(1, -1, 1))

    @staticmethod
    def parameters_of(setup: ScalarSetup) -> dict[str, Tensor]:
        """The tensors the steps read (and may differentiate): coefficients, material law."""
        params = {"alpha": setup.alpha, "beta": setup.beta, "gamma": setup.gamma}
        nl = setup.nonlinearity
        if nl is not None:
            params.update(speed=setup.speed, b_lin=setup.b_lin)
            for name in ("rho", "b0", "u_th", "c_nl"):
                value = getattr(nl, name)
                params[name] = torch.as_tensor(value, dtype=setup.alpha.dtype,
                                               device=setup.alpha.device)
            if params["rho"].ndim == 2:
                params["rho"] = params["rho"].unsqueeze(0)
        return params

    def coefficients(self, u: Tensor, q: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """α, β, γ for this step (they depend on ``u`` in a nonlinear medium)."""
        if self.setup.nonlinearity is None:
            return q["alpha"], q["beta"], q["gamma"]
        rho = q["rho"]
        b = q["b_lin"] + rho * q["b0"] / (1.0 + (u / q["u_th"]) ** 2)
        c = q["speed"] + rho * q["c_nl"] * u * u
        return leapfrog_coefficients(c.pow(2), b, self.setup.grid)

    def __call__(self, u: Tensor, p: Tensor, psi: tuple[Tensor, ...], inj: Tensor,
                 params: dict[str, Tensor]
                 ) -> tuple[Tensor, Tensor, tuple[Tensor, ...], Tensor]:
        s = self.setup
        r, (ny, nx) = self.r, s.grid.shape
        up = pad(u, r)
        d2x = shift_sum(up, self.c2, r, -1, ny, nx)
        d2y = shift_sum(up, self.c2, r, -2, ny, nx)
        if s.pml is None:
            t = d2x + d2y
            new_psi = psi
        else:
            q1x, q2x, q1y, q2y = psi
            ax, bx, dbx = self.px
            ay, by, dby = self.py
            d1x = shift_sum(up, self.c1, r, -1, ny, nx)
            d1y = shift_sum(up, self.c1, r, -2, ny, nx)
            px = (1 + bx) * d2x + dbx * d1x + shift_sum(pad(ax * q1x, r), self.c1, r, -1, ny, nx)
            py = (1 + by) * d2y + dby * d1y + shift_sum(pad(ay * q1y, r), self.c1, r, -2, ny, nx)
            t = (1 + bx) * px + ax * q2x + (1 + by) * py + ay * q2y
            new_psi = (ax * q1x + bx * d1x, ax * q2x + bx * px,
                       ay * q1y + by * d1y, ay * q2y + by * py)
        alpha, beta, gamma = self.coefficients(u, params)
        u_new = alpha * u + beta * p + gamma * t
        if alpha.shape[0] == 1:
            a_src = alpha[0, self.src[0], self.src[1]]
        else:
            a_src = alpha[:, self.src[0], self.src[1]]
        u_new = u_new.index_put(
            (torch.arange(u_new.shape[0], device=u.device)[:, None], self.src[0], self.src[1]),
            0.5 * a_src * inj, accumulate=True,
        )
        recorded = u_new[:, self.prb[0], self.prb[1]]
        return u_new, u, new_psi, recorded


def run_torch(setup: ScalarSetup, snapshot_every: int | None, checkpoint_every: int | None
              ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run ``setup``: recorded cells, snapshots, segment count and the final field."""
    ny, nx = setup.grid.shape
    u = torch.zeros(setup.batch, ny, nx, dtype=setup.alpha.dtype, device=setup.alpha.device)
    psi = [torch.zeros_like(u) for _ in range(4)] if setup.pml is not None else []
    # autograd keeps about this many field-sized tensors per step (measured on 140², batch 9)
    seg = segment_length(setup, checkpoint_every, 20 if setup.pml is not None else 12)
    return run_segments(_TorchStepper(setup), _TorchStepper.parameters_of(setup),
                        setup.injection, psi, seg, snapshot_every)
