"""The checkpointed march both torch backends share: one autograd function per segment.

A stepper (the scalar or the acoustic leapfrog step in torch ops) advances the state one step;
:func:`run_segments` marches it over all the steps. With gradients on, each segment of steps is
one :class:`_TorchSegment` that keeps only its inputs and recomputes itself in the backward
pass, so memory grows with the number of segments, not of steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import Tensor

from .._setup import AcousticSetup, ScalarSetup
from ..errors import SolverValueError


class Stepper(Protocol):
    """One leapfrog step: ``(u, u⁻, memory, injection, params) → (u⁺, u, memory⁺, recorded)``."""

    setup: ScalarSetup | AcousticSetup

    def __call__(self, u: Tensor, p: Tensor, psi: tuple[Tensor, ...], inj: Tensor,
                 params: dict[str, Tensor]
                 ) -> tuple[Tensor, Tensor, tuple[Tensor, ...], Tensor]:
        """Advance one step (``inj``: this step's injection ``(B, Ks)``)."""
        ...


def cell_indices(setup: ScalarSetup | AcousticSetup
                 ) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """``((source rows, cols), (probe rows, cols))`` as index tensors on the run's device."""
    dev = setup.alpha.device
    return ((torch.as_tensor(setup.src_rows, device=dev),
             torch.as_tensor(setup.src_cols, device=dev)),
            (torch.as_tensor(setup.prb_rows, device=dev),
             torch.as_tensor(setup.prb_cols, device=dev)))


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


def _torch_segment(step: Stepper, t0: int, snapshot_every: int | None,
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


def run_segments(step: Stepper, params: dict[str, Tensor], injection: Tensor,
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
    u = torch.zeros(batch, *step.setup.grid.shape, dtype=first.dtype, device=first.device)
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
