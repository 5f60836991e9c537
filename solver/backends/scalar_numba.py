"""The numba backend of :func:`wavefab.solver.propagate`: fused kernels with checkpointed adjoint.

Each segment of steps is one :class:`torch.autograd.Function`. Its forward runs the fused kernel
and keeps only its input state (the checkpoint); its backward reruns the segment storing the
Laplacian of each step, then runs the adjoint kernel backwards over it. With a single segment the
forward stores directly and nothing is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._setup import ScalarSetup, segment_length
from ..errors import SolverValueError
from ..operators import stencils
from ..threads import kernel_section
from . import kernels_cpu as kc


@dataclass
class _Static:
    """Non-tensor inputs of the kernels, built once per propagate call."""

    order: int
    r: int
    ny: int
    nx: int
    damped: np.ndarray
    xreach: int
    yreach: int
    has_pml: bool
    profiles: tuple[np.ndarray, ...]  # ax, bx, dbx, ay, by, dby, padded by r, kernel dtype
    c1: np.ndarray
    c2: np.ndarray
    src_r: np.ndarray
    src_c: np.ndarray
    prb_r: np.ndarray
    prb_c: np.ndarray
    snap_every: int
    #: where the kernels run: :mod:`.kernels_cpu`, or :mod:`.kernels_cuda` for the GPU
    kernels: ModuleType = kc
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    #: the static arrays as kernel arguments (on the GPU for the CUDA kernels), by name
    args: dict[str, Any] = field(default_factory=dict)

    def arg(self, x: Tensor) -> Any:
        """A tensor as a kernel argument (a numpy view on the CPU, a device view on the GPU)."""
        if self.kernels is kc:
            return x.detach().numpy()
        return self.kernels.device_array(x)

    def static(self, name: str) -> Any:
        """A static array (damped, profiles, c1, c2, src_r, …) as a kernel argument."""
        return self.args[name] if self.args else getattr(self, name)


#: Columns per x strip are rounded up to this (the float32 lanes of an AVX2 vector).
X_STRIP_MULTIPLE = 8


def _row_layout(setup: ScalarSetup, reach: int) -> tuple[np.ndarray, int, int]:
    """Rows that need the damped update, and how far the PML correction reaches from each side."""
    alpha = setup.alpha.detach().cpu().numpy()
    beta = setup.beta.detach().cpu().numpy()
    damped = ((alpha != 2.0) | (beta != -1.0)).any(axis=(0, 2))
    xreach = yreach = 0
    nx = setup.grid.shape[1]
    if setup.pml is not None:
        ax, bx, _, ay, by, _ = setup.pml
        # PML cells sit at both ends of each axis; the stencil reaches `reach` cells further in.
        xreach = int(np.count_nonzero((ax != 0) | (bx != 0))) // 2 + reach
        yreach = int(np.count_nonzero((ay != 0) | (by != 0))) // 2 + reach
        # The x strips are short loops along a row; LLVM vectorizes them 8 lanes at a time and
        # runs the leftover columns one by one, at about 4x the cost per cell (measured: a
        # 22-column strip took 2.1 ns a cell, a 24-column one 0.95). Widening the strip to a
        # multiple of 8 is exact: past the layer every profile is zero, so the extra columns'
        # correction is T - D2 u = 0 and their memory stays 0.
        xreach = min(-(-xreach // X_STRIP_MULTIPLE) * X_STRIP_MULTIPLE, nx)
    return damped, xreach, yreach


def _static(setup: ScalarSetup, dtype: np.dtype, snap_every: int | None,
            kernels: ModuleType = kc) -> _Static:
    r = kc.H
    ny, nx = setup.grid.shape
    damped, xreach, yreach = _row_layout(setup, setup.order // 2)
    if setup.pml is not None:
        profiles = tuple(np.pad(v, r).astype(dtype) for v in setup.pml)
    else:
        profiles = (np.zeros(nx + 2 * r, dtype),) * 3 + (np.zeros(ny + 2 * r, dtype),) * 3
    c1, c2 = stencils(setup.order, dtype)
    st = _Static(
        order=setup.order, r=r, ny=ny, nx=nx, damped=damped, xreach=xreach,
        yreach=yreach, has_pml=setup.pml is not None,
        profiles=profiles, c1=c1, c2=c2,
        src_r=setup.src_rows.astype(np.int64), src_c=setup.src_cols.astype(np.int64),
        prb_r=setup.prb_rows.astype(np.int64), prb_c=setup.prb_cols.astype(np.int64),
        snap_every=int(snap_every or 0), kernels=kernels, device=setup.alpha.device,
    )
    if kernels is not kc:  # copied to the GPU once per call, not once per launch
        convert = kernels.device_array
        st.args = {name: convert(getattr(st, name))
                   for name in ("damped", "c1", "c2", "src_r", "src_c", "prb_r", "prb_c")}
        st.args["profiles"] = tuple(convert(x) for x in profiles)
    return st


def _snapshot_count(st: _Static, t0: int, steps: int) -> int:
    """Snapshots taken by steps ``t0 .. t0 + steps − 1``."""
    k = st.snap_every
    return (t0 + steps) // k - t0 // k if k else 0


def _forward(st: _Static, coeffs: tuple[Tensor, Tensor, Tensor], inj: Tensor,
             state: list[Tensor], t0: int, *, store: bool, store_u: bool, snapshots: bool = True
             ) -> tuple[list[Tensor], Tensor, Tensor | None, Tensor | None, Tensor]:
    """Run the kernel over ``inj.shape[1]`` steps on a private copy of ``state``.

    Returns the new state (u, p, q1x, q2x, q1y, q2y), the recorded probe cells ``(B, S, Kp)``,
    when asked the stored ``T`` and ``u`` of every step (else None), and this call's snapshots
    ``(B, N, ny, nx)`` (``N = 0`` when ``snapshots`` is False or none falls in the steps).
    """
    u, p, q1x, q2x, q1y, q2y = (x.detach().clone() for x in state)
    q1xa, q1ya = torch.zeros_like(q1x), torch.zeros_like(q1y)
    batch, steps = inj.shape[0], inj.shape[1]
    dtype = u.dtype
    opts = {"dtype": dtype, "device": st.device}
    rec = torch.empty(batch, steps, st.prb_r.size, **opts)
    tstore = (torch.empty(batch, steps, st.ny, st.nx, **opts) if store
              else torch.empty(batch, 1, 1, 1, **opts))
    ustore = (torch.empty(batch, steps, st.ny, st.nx, **opts) if store_u
              else torch.empty(batch, 1, 1, 1, **opts))
    nsnap = _snapshot_count(st, t0, steps) if snapshots else 0
    snaps = torch.empty(batch, nsnap, st.ny, st.nx, **opts)
    _np = st.arg
    alpha, beta, gamma = (_np(c) for c in coeffs)
    st.kernels.forward_segment(
        _np(u), _np(p), _np(q1x), _np(q1xa), _np(q2x), _np(q1y), _np(q1ya), _np(q2y),
        alpha, beta, gamma, st.static("damped"), st.xreach, st.yreach, *st.static("profiles"),
        st.has_pml, st.order, st.static("c1"), st.static("c2"),
        _np(inj.contiguous()), st.static("src_r"), st.static("src_c"), _np(rec),
        st.static("prb_r"), st.static("prb_c"),
        store, _np(tstore), store_u, _np(ustore), st.snap_every, t0, _np(snaps),
    )
    if steps % 2:
        u, p = p, u
        if st.has_pml:
            q1x, q1y = q1xa, q1ya
    return ([u, p, q1x, q2x, q1y, q2y], rec, tstore if store else None,
            ustore if store_u else None, snaps)


def _strip_width(axis: int, st: _Static) -> int:
    """Padded cells from each end along ``axis`` that can hold nonzero PML memory."""
    return kc.H + (st.xreach if axis == -1 else st.yreach)


def _pack_strips(q: Tensor, axis: int, st: _Static) -> Tensor:
    """The two end strips of a PML memory field along ``axis``, concatenated (or ``q``)."""
    keep = _strip_width(axis, st)
    if not st.has_pml or 2 * keep >= q.shape[axis]:
        return q
    return torch.cat([q.narrow(axis, 0, keep), q.narrow(axis, q.shape[axis] - keep, keep)], axis)


def _unpack_strips(packed: Tensor, axis: int, st: _Static, shape: tuple[int, ...]) -> Tensor:
    """Inverse of :func:`_pack_strips`: the full field, zero between the strips."""
    if tuple(packed.shape) == shape:
        return packed
    keep = _strip_width(axis, st)
    full = packed.new_zeros(shape)
    full.narrow(axis, 0, keep).copy_(packed.narrow(axis, 0, keep))
    full.narrow(axis, shape[axis] - keep, keep).copy_(packed.narrow(axis, keep, keep))
    return full


class _Segment(torch.autograd.Function):
    """A segment of linear leapfrog steps with an exact, hand-written adjoint."""

    @staticmethod
    def forward(ctx, alpha, beta, gamma, inj, u, p, q1x, q2x, q1y, q2y, st, t0, keep):
        need_ab = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        state, rec, tstore, ustore, snaps = _forward(
            st, (alpha, beta, gamma), inj, [u, p, q1x, q2x, q1y, q2y], t0,
            store=keep, store_u=keep and need_ab,
        )
        ctx.st, ctx.t0, ctx.keep, ctx.need_ab = st, t0, keep, need_ab
        extra = [tstore] + ([ustore] if ustore is not None else []) if keep else []
        # The PML memory fields are zero outside the strips: keep only the strips.
        packed = [_pack_strips(q, axis, st) for q, axis in ((q1x, -1), (q2x, -1), (q1y, -2),
                                                           (q2y, -2))]
        ctx.shapes = [tuple(q.shape) for q in (q1x, q2x, q1y, q2y)]
        ctx.save_for_backward(alpha, beta, gamma, inj, u, p, *packed, *extra)
        return (*state, rec, snaps)

    @staticmethod
    @kernel_section()
    def backward(ctx, gu, gp, gq1x, gq2x, gq1y, gq2y, grec, gsnap):
        if torch.is_grad_enabled():  # autograd enables grad mode here only for create_graph=True
            raise SolverValueError(
                "second derivatives (create_graph=True) are not available on the numba "
                "backend, whose adjoint is hand-written; use propagate(..., backend='torch', "
                "checkpoint_every=0)"
            )
        st: _Static = ctx.st
        alpha, beta, gamma, inj, u, p, *packed_and_extra = ctx.saved_tensors
        packed, extra = packed_and_extra[:4], packed_and_extra[4:]
        q1x, q2x, q1y, q2y = (
            _unpack_strips(q, axis, st, shape)
            for q, axis, shape in zip(packed, (-1, -1, -2, -2), ctx.shapes, strict=True)
        )
        need_ab = ctx.need_ab
        if ctx.keep:
            tstore = extra[0]
            ustore = extra[1] if need_ab else u.new_empty(1, 1, 1, 1)
        else:
            # Recompute the segment from its checkpoint (its snapshots were taken already).
            _, _, tstore, ustore, _ = _forward(
                st, (alpha, beta, gamma), inj, [u, p, q1x, q2x, q1y, q2y], ctx.t0,
                store=True, store_u=need_ab, snapshots=False,
            )
            if ustore is None:
                ustore = u.new_empty(1, 1, 1, 1)
        r, ny, nx = st.r, st.ny, st.nx
        inner = (slice(None), slice(r, r + ny), slice(r, r + nx))
        batch, steps = inj.shape[0], inj.shape[1]

        def zeros_like_or(g: Tensor | None, like: Tensor) -> Tensor:
            return torch.zeros_like(like) if g is None else g.detach().clone()

        gam = gamma.expand(batch, ny, nx)
        v = torch.zeros_like(u)
        if gu is not None:
            v[inner] = gam * gu[inner]
        nsnap = _snapshot_count(st, ctx.t0, steps)
        if gsnap is not None and nsnap and (ctx.t0 + steps) % st.snap_every == 0:
            v[inner] += gam * gsnap[:, -1]  # the segment's last field is a snapshot
        gsnap = (gsnap.detach().contiguous() if gsnap is not None and nsnap
                 else u.new_zeros(batch, 0, ny, nx))
        if grec is not None and st.prb_r.size:
            rows = torch.as_tensor(st.prb_r, device=st.device)
            cols = torch.as_tensor(st.prb_c, device=st.device)
            v.index_put_((torch.arange(batch, device=st.device)[:, None], rows + r, cols + r),
                         gam[:, rows, cols] * grec[:, -1], accumulate=True)
        w = torch.zeros_like(u)
        gp_out = (gam * gp[inner]).contiguous() if gp is not None else torch.zeros_like(gam)
        g1x, g2x = zeros_like_or(gq1x, q1x), zeros_like_or(gq2x, q2x)
        g1y, g2y = zeros_like_or(gq1y, q1y), zeros_like_or(gq2y, q2y)
        g1xa, g2xa, g1ya, g2ya = (torch.zeros_like(x) for x in (g1x, g2x, g1y, g2y))
        acc_g = u.new_zeros(batch, ny, nx)
        acc_a = u.new_zeros(batch, ny, nx) if need_ab else u.new_zeros(1, 1, 1)
        acc_b = torch.zeros_like(acc_a)
        ginj = u.new_empty(batch, steps, st.src_r.size)
        grec_np = (grec.detach().contiguous() if grec is not None
                   else u.new_zeros(batch, steps, st.prb_r.size))
        p0 = p[inner].contiguous() if need_ab else u.new_zeros(1, 1, 1)
        _np = st.arg
        st.kernels.adjoint_segment(
            _np(v), _np(w), _np(g1x), _np(g1xa), _np(g2x), _np(g2xa),
            _np(g1y), _np(g1ya), _np(g2y), _np(g2ya),
            _np(alpha), _np(beta), _np(gamma), st.static("damped"), st.xreach, st.yreach,
            *st.static("profiles"), st.has_pml, st.order, st.static("c1"), st.static("c2"),
            _np(grec_np), st.static("prb_r"), st.static("prb_c"), _np(ginj),
            st.static("src_r"), st.static("src_c"), _np(ustore), _np(tstore), _np(p0), need_ab,
            _np(acc_a), _np(acc_b), _np(acc_g), _np(gp_out), st.snap_every, ctx.t0, _np(gsnap),
        )
        if steps % 2:
            v, w = w, v
            if st.has_pml:
                g1x, g2x, g1y, g2y = g1xa, g2xa, g1ya, g2ya
        # v = ν_0, w = ν_1 (scaled adjoints); divide γ back out.
        grad_u = torch.zeros_like(u)
        grad_u[inner] = v[inner] / gam
        grad_p = torch.zeros_like(p)
        grad_p[inner] = beta * w[inner] / gam

        def reduce(acc: Tensor, like: Tensor) -> Tensor:
            g = acc / gam
            return g.sum(0, keepdim=True) if like.shape[0] == 1 else g

        grad_gamma = reduce(acc_g, gamma) if ctx.needs_input_grad[2] else None
        grad_alpha = reduce(acc_a, alpha) if ctx.needs_input_grad[0] else None
        grad_beta = reduce(acc_b, beta) if ctx.needs_input_grad[1] else None
        grad_inj = None
        if ctx.needs_input_grad[3]:
            src_r = torch.as_tensor(st.src_r, device=st.device)
            src_c = torch.as_tensor(st.src_c, device=st.device)
            grad_inj = ginj / gam[:, src_r, src_c].unsqueeze(1)
        return (grad_alpha, grad_beta, grad_gamma, grad_inj, grad_u, grad_p,
                g1x, g2x, g1y, g2y, None, None, None)


@kernel_section()
def run_numba(setup: ScalarSetup, snapshot_every: int | None, checkpoint_every: int | None,
              kernels: ModuleType = kc) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run ``setup``: recorded cells, snapshots, segment count and the final (padded) field.

    ``kernels``: :mod:`.kernels_cpu`, or :mod:`.kernels_cuda` (see :func:`run_cuda`).
    """
    dtype = setup.alpha.dtype
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    st = _static(setup, np.dtype(np_dtype), snapshot_every, kernels)
    batch, (ny, nx), r = setup.batch, setup.grid.shape, st.r
    alpha, beta, gamma = (c.contiguous() for c in (setup.alpha, setup.beta, setup.gamma))
    a_src = alpha[:, setup.src_rows, setup.src_cols]
    inj = setup.injection * (0.5 * a_src.unsqueeze(1))
    padded = (batch, ny + 2 * r, nx + 2 * r)
    opts = {"dtype": dtype, "device": st.device}
    state = [torch.zeros(padded, **opts), torch.zeros(padded, **opts)]
    aux = padded if st.has_pml else (batch, 1, 1)
    state += [torch.zeros(aux, **opts) for _ in range(4)]

    differentiable = torch.is_grad_enabled() and any(
        t.requires_grad for t in (alpha, beta, gamma, inj)
    )
    if not differentiable:
        state, rec, _, _, snaps = _forward(st, (alpha, beta, gamma), inj.detach(), state, 0,
                                           store=False, store_u=False)
        snap_parts = [snaps]
        segments = 1
    else:
        seg = segment_length(setup, checkpoint_every, 2)
        keep = seg >= setup.steps
        recs, snap_parts = [], []
        segments = 0
        for t0 in range(0, setup.steps, seg):
            t1 = min(t0 + seg, setup.steps)
            *state, rec, snaps = _Segment.apply(alpha, beta, gamma, inj[:, t0:t1], *state, st,
                                                t0, keep)
            recs.append(rec)
            snap_parts.append(snaps)
            segments += 1
        rec = torch.cat(recs, 1) if len(recs) > 1 else recs[0]
    snapshots = torch.cat(snap_parts, 1) if snapshot_every else None
    return rec, snapshots, segments, state[0]


def run_cuda(setup: ScalarSetup, snapshot_every: int | None, checkpoint_every: int | None
             ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """:func:`run_numba` on the CUDA kernels of :mod:`.kernels_cuda` (linear media, no CPML)."""
    from . import kernels_cuda

    return run_numba(setup, snapshot_every, checkpoint_every, kernels_cuda)
