"""The torch backend of :func:`wavefab.solver.propagate_acoustic`: plain tensor ops, any device.

Runs CUDA tensors, and is the reference the fused kernels of :mod:`.acoustic_numba` are
tested against.
Autograd differentiates the steps of the flux-form operator ``D⁻(1/ρ)D⁺`` (see
:mod:`wavefab.solver.acoustic`); the convolutional PML keeps a memory field on the faces and
one on the cells per axis. The checkpointed march is
:func:`~wavefab.solver.backends.segments.run_segments`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._setup import AcousticSetup, segment_length
from ..operators import STAGGERED
from .segments import cell_indices, run_segments


class _AcousticStepper:
    """One leapfrog step of the flux-form operator in torch ops (differentiable by autograd)."""

    def __init__(self, setup: AcousticSetup) -> None:
        self.setup = setup
        self.w = STAGGERED[setup.order]
        self.reach = len(self.w)
        dev, dtype = setup.alpha.device, setup.alpha.dtype
        self.src, self.prb = cell_indices(setup)
        if setup.pml is not None:
            afx, bfx, acx, bcx, afy, bfy, acy, bcy = (
                torch.as_tensor(v, dtype=dtype, device=dev) for v in setup.pml)
            self.pml_x = tuple(v.view(1, 1, -1) for v in (afx, bfx, acx, bcx))
            self.pml_y = tuple(v.view(1, -1, 1) for v in (afy, bfy, acy, bcy))

    @staticmethod
    def parameters_of(setup: AcousticSetup) -> dict[str, Tensor]:
        """The tensors the steps read (and may differentiate)."""
        return {"alpha": setup.alpha, "beta": setup.beta, "gamma": setup.gamma,
                "face_x": setup.face_x, "face_y": setup.face_y, "src_gain": setup.src_gain}

    def _staggered(self, x: Tensor, axis: int, n: int) -> Tensor:
        """A staggered derivative (times h) giving ``n`` values along ``axis``.

        D⁺ (cells → faces) of a field padded by 2R − 1 cells, and D⁻ (faces → cells) of a
        face field, are the same formula: point ``i`` takes ``x[i + R + m] − x[i + R − 1 − m]``.
        """
        r, out = self.reach, None
        for m, wm in enumerate(self.w):
            term = x.narrow(axis, r + m, n) - x.narrow(axis, r - 1 - m, n)
            out = wm * term if out is None else out + wm * term
        assert out is not None
        return out

    def __call__(self, u: Tensor, p: Tensor, psi: tuple[Tensor, ...], inj: Tensor,
                 params: dict[str, Tensor]
                 ) -> tuple[Tensor, Tensor, tuple[Tensor, ...], Tensor]:
        ny, nx = self.setup.grid.shape
        r = self.reach
        rp = 2 * r - 1
        padded = torch.nn.functional.pad(u, (rp, rp, rp, rp))
        gx = self._staggered(padded.narrow(-2, rp, ny), -1, nx + 2 * r - 1)
        gy = self._staggered(padded.narrow(-1, rp, nx), -2, ny + 2 * r - 1)
        if self.setup.pml is None:
            lap = (self._staggered(params["face_x"] * gx, -1, nx)
                   + self._staggered(params["face_y"] * gy, -2, ny))
            new_psi = psi
        else:
            fx, cx, fy, cy = psi
            afx, bfx, acx, bcx = self.pml_x
            afy, bfy, acy, bcy = self.pml_y
            fx = afx * fx + bfx * gx  # stretched-coordinate memory of each derivative
            fy = afy * fy + bfy * gy
            dx = self._staggered(params["face_x"] * (gx + fx), -1, nx)
            dy = self._staggered(params["face_y"] * (gy + fy), -2, ny)
            cx = acx * cx + bcx * dx
            cy = acy * cy + bcy * dy
            lap = dx + cx + dy + cy
            new_psi = (fx, cx, fy, cy)
        u_new = params["alpha"] * u + params["beta"] * p + params["gamma"] * lap
        gain = params["src_gain"]
        u_new = u_new.index_put(
            (torch.arange(u_new.shape[0], device=u.device)[:, None], self.src[0], self.src[1]),
            0.5 * gain * inj, accumulate=True)
        return u_new, u, new_psi, u_new[:, self.prb[0], self.prb[1]]


def run_acoustic_torch(setup: AcousticSetup, snapshot_every: int | None,
                       checkpoint_every: int | None) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run ``setup``: recorded cells, snapshots, segment count and the final pressure."""
    ny, nx = setup.grid.shape
    opts = {"dtype": setup.alpha.dtype, "device": setup.alpha.device}
    psi: list[Tensor] = []
    if setup.pml is not None:
        r = len(STAGGERED[setup.order])
        psi = [torch.zeros(setup.batch, ny, nx + 2 * r - 1, **opts),
               torch.zeros(setup.batch, ny, nx, **opts),
               torch.zeros(setup.batch, ny + 2 * r - 1, nx, **opts),
               torch.zeros(setup.batch, ny, nx, **opts)]
    # field-sized tensors per step in the memory estimate (with, without the PML's memory)
    seg = segment_length(setup, checkpoint_every, 24 if setup.pml is not None else 14)
    return run_segments(_AcousticStepper(setup), _AcousticStepper.parameters_of(setup),
                        setup.injection, psi, seg, snapshot_every)
