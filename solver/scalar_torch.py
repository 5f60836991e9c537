"""The torch backend of :func:`wavefab.solver.propagate`: plain tensor ops, any device.

Runs CUDA tensors and nonlinear media, and is the reference the numba kernels' hand-written
adjoint is tested against. Autograd differentiates the steps; each checkpoint segment is one
:class:`_TorchSegment` that keeps its inputs and recomputes itself in the backward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from .errors import SolverValueError
from .operators import pad, shift_sum, stencils
from .scalar import _coefficients, _segment_length, _Setup


def cell_indices(setup: object) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """``((source rows, cols), (probe rows, cols))`` as index tensors on the run's device."""
    dev = setup.alpha.device  # type: ignore[attr-defined]
    return ((torch.as_tensor(setup.src_rows, device=dev),  # type: ignore[attr-defined]
             torch.as_tensor(setup.src_cols, device=dev)),  # type: ignore[attr-defined]
            (torch.as_tensor(setup.prb_rows, device=dev),  # type: ignore[attr-defined]
             torch.as_tensor(setup.prb_cols, device=dev)))  # type: ignore[attr-defined]


class _TorchStepper:
    """One leapfrog step in plain torch ops (differentiable by autograd)."""

    def __init__(self, setup: _Setup) -> None:
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
    def parameters_of(setup: _Setup) -> dict[str, Tensor]:
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
        return _coefficients(c, b, self.setup.grid)

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


class _TorchSegment(torch.autograd.Function):
    """A segment of torch steps that keeps only its inputs and recomputes itself for backward.

    (``torch.utils.checkpoint`` in its non-reentrant form still held most activations here, and
    its reentrant form neither supports ``torch.autograd.grad`` nor sees closed-over tensors, so
    every tensor the steps read is an explicit input.)
    """

    @staticmethod
    def forward(ctx, step, t0, snapshot_every, names, inj, *tensors):
        ctx.step, ctx.t0, ctx.snap, ctx.names = step, t0, snapshot_every, names
        ctx.save_for_backward(inj, *tensors)
        with torch.no_grad():
            return _torch_segment(step, t0, snapshot_every, names, inj, tensors)

    @staticmethod
    def backward(ctx, *grads):
        if torch.is_grad_enabled():  # autograd enables grad mode here only for create_graph=True
            raise SolverValueError(
                "second derivatives (create_graph=True) through checkpointed segments are not "
                "supported; use propagate(..., backend='torch', checkpoint_every=0)"
            )
        inj, *tensors = ctx.saved_tensors
        inputs = [t.detach().requires_grad_(need)
                  for t, need in zip([inj, *tensors], ctx.needs_input_grad[4:], strict=True)]
        with torch.enable_grad():
            outs = _torch_segment(ctx.step, ctx.t0, ctx.snap, ctx.names, inputs[0], inputs[1:])
        pairs = [(o, g) for o, g in zip(outs, grads, strict=True)
                 if g is not None and o.requires_grad]
        wanted = [x for x in inputs if x.requires_grad]
        result = iter(torch.autograd.grad([o for o, _ in pairs], wanted,
                                          [g for _, g in pairs], allow_unused=True)
                      if pairs and wanted else [None] * len(wanted))
        return (None, None, None, None,
                *(next(result) if x.requires_grad else None for x in inputs))


def _torch_segment(step: _TorchStepper, t0: int, snapshot_every: int | None,
                   names: tuple[str, ...], inj: Tensor, tensors: Sequence[Tensor]
                   ) -> tuple[Tensor, ...]:
    """Run ``inj.shape[1]`` steps from the state in ``tensors`` (after the named parameters)."""
    params = dict(zip(names, tensors[:len(names)], strict=True))
    u, p, *psi = tensors[len(names):]
    psi_t = tuple(psi)
    rec, snaps = [], []
    for k in range(inj.shape[1]):
        u, p, psi_t, r = step(u, p, psi_t, inj[:, k], params)
        rec.append(r)
        if snapshot_every and (t0 + k + 1) % snapshot_every == 0:
            snaps.append(u)
    stacked = (torch.stack(snaps, 1) if snaps
               else u.new_zeros(u.shape[0], 0, *u.shape[1:]))
    return (u, p, *psi_t, torch.stack(rec, 1), stacked)


def run_torch(setup: _Setup, snapshot_every: int | None, checkpoint_every: int | None
              ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run ``setup``: recorded cells, snapshots, segment count and the final field."""
    ny, nx = setup.grid.shape
    u = torch.zeros(setup.batch, ny, nx, dtype=setup.alpha.dtype, device=setup.alpha.device)
    psi = [torch.zeros_like(u) for _ in range(4)] if setup.pml is not None else []
    # autograd keeps about this many field-sized tensors per step (measured on 140², batch 9)
    seg = _segment_length(setup, checkpoint_every, 20 if setup.pml is not None else 12)
    return run_segments(_TorchStepper(setup), _TorchStepper.parameters_of(setup),
                        setup.injection, psi, seg, snapshot_every)


def run_segments(step: object, params: dict[str, Tensor], injection: Tensor,
                 memory: list[Tensor], seg: int, snapshot_every: int | None
                 ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """March ``step`` over all of ``injection`` ``(B, T, K)`` from rest.

    ``seg`` steps per checkpoint segment (recomputed in the backward pass when gradients are
    on); ``memory`` holds the stepper's extra state (e.g. PML fields) at rest. Returns the
    recorded cells ``(B, T, K)``, the snapshots (or None), the segment count and the final
    field.
    """
    names = tuple(params)
    batch, steps = injection.shape[:2]
    first = next(iter(params.values()))
    u = torch.zeros(batch, *step.setup.grid.shape, dtype=first.dtype,  # type: ignore[attr-defined]
                    device=first.device)
    p = torch.zeros_like(u)
    psi = list(memory)
    checkpointed = torch.is_grad_enabled() and seg < steps
    recs, snaps, segments = [], [], 0
    for t0 in range(0, steps, seg):
        inj = injection[:, t0:t0 + seg]
        tensors = (*params.values(), u, p, *psi)
        if checkpointed:
            out = _TorchSegment.apply(step, t0, snapshot_every, names, inj, *tensors)
        else:
            out = _torch_segment(step, t0, snapshot_every, names, inj, tensors)
        u, p, *rest = out
        psi = list(rest[:-2])
        recs.append(rest[-2])
        snaps.append(rest[-1])
        segments += 1
    snapshots = torch.cat(snaps, 1) if snapshot_every else None
    return torch.cat(recs, 1), snapshots, segments if checkpointed else 1, u
