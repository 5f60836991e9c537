"""The numba backend of :func:`wavefab.solver.propagate_acoustic`: fused kernels, exact adjoint.

Covers the acoustic scheme without a PML (orders 2 and 4) on the CPU.

The vowel setups (a damping layer, or rigid walls) spend their time here: one call advances a
whole checkpoint segment, each batch item on its own thread, and the backward pass runs the
exact discrete adjoint instead of autograd over ~20 tensor operations per step.

Per cell ``(i, j)`` with ``x`` zero beyond the grid, ``fx``/``fy`` the face values of ``1/ρ``
(x face ``k`` between cells ``k − R`` and ``k − R + 1``, ``R = order/2``) and ``D`` the staggered
difference with weights ``w`` (2nd order: (1,); 4th: (9/8, −1/24))::

    (D x)[k] = Σₘ wₘ (x[k − R + 1 + m] − x[k − R − m])          (cells → face k)
    L x      = Σₘ wₘ (F[j + R + m] − F[j + R − 1 − m]),  F = fx·D x   (+ the same in y)
    x⁺       = α x + β x⁻ + γ L x,   then x⁺[src] += ½·gain·injection

``L = −Dᵀ F D`` is symmetric, so the adjoint of ``γ L`` applied to ``a`` is ``L (γ a)``, and the
gradient of ``a·L x`` with respect to a face value is ``−(D a)(D x)`` on that face. Fields are
stored padded by ``P = 2R − 1`` zero cells on every side, so every stencil reads inside.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import torch
from numba import prange
from torch import Tensor

from .._setup import AcousticSetup, segment_length
from ..operators import STAGGERED
from ..threads import kernel_section

# Strict IEEE arithmetic, for the reason given in kernels_cpu: fastmath made a cold numba cache
# give different results from a warm one.
_FASTMATH = False
_pjit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, parallel=True)
_jit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, inline="always")


# The stencil's weights arrive as a tuple in the fields' dtype: its length (the reach R) is part
# of the compiled signature, so each order compiles with constant offsets. The offsets must be
# derived inside the prange body: values computed outside become arguments of the outlined
# parallel function, and with a runtime offset the loops did not vectorize (9x slower).
@_jit
def _dx(x, i, k, w):  # pragma: no cover - compiled
    """``(D x)`` on x face ``k`` of cell row ``i`` (``x`` padded by ``2R − 1``)."""
    r = len(w)
    p = 2 * r - 1
    d = w[0] * (x[i + p, k + r] - x[i + p, k + r - 1])
    for m in range(1, r):
        d += w[m] * (x[i + p, k + r + m] - x[i + p, k + r - 1 - m])
    return d


@_jit
def _dy(x, k, j, w):  # pragma: no cover - compiled
    """``(D x)`` on y face ``k`` of cell column ``j``."""
    r = len(w)
    p = 2 * r - 1
    d = w[0] * (x[k + r, j + p] - x[k + r - 1, j + p])
    for m in range(1, r):
        d += w[m] * (x[k + r + m, j + p] - x[k + r - 1 - m, j + p])
    return d


@_jit
def _apply_l(x, fx, fy, bf, i, j, w):  # pragma: no cover - compiled
    """``(L x)`` at cell ``(i, j)`` of a padded field (the module docstring's ``L``)."""
    r = len(w)
    out = w[0] * (fx[bf, i, j + r] * _dx(x, i, j + r, w)
                  - fx[bf, i, j + r - 1] * _dx(x, i, j + r - 1, w)
                  + fy[bf, i + r, j] * _dy(x, i + r, j, w)
                  - fy[bf, i + r - 1, j] * _dy(x, i + r - 1, j, w))
    for m in range(1, r):
        hi, lo = r + m, r - 1 - m
        out += w[m] * (fx[bf, i, j + hi] * _dx(x, i, j + hi, w)
                       - fx[bf, i, j + lo] * _dx(x, i, j + lo, w)
                       + fy[bf, i + hi, j] * _dy(x, i + hi, j, w)
                       - fy[bf, i + lo, j] * _dy(x, i + lo, j, w))
    return out


@_jit
def _batch_rows(b, alpha, fx, gain):  # pragma: no cover - compiled
    """Batch entries of the coefficient, face and gain maps (shared maps have one)."""
    bi = np.int64(b)  # (a prange index and a literal 0 would unify to a float)
    return min(bi, alpha.shape[0] - 1), min(bi, fx.shape[0] - 1), min(bi, gain.shape[0] - 1)


@_pjit
def _forward(work, alpha, beta, gamma, fx, fy, gain, inj, src_r, src_c, prb_r, prb_c, rec,
             store, states, every, t0, snaps, w):  # pragma: no cover - compiled
    """Advance every batch item ``inj.shape[1]`` steps.

    ``work[b, 0]`` holds x⁻ and ``work[b, 1]`` holds x (padded by ``2r − 1`` zero cells); on
    return the last two states sit in slots ``steps % 3`` (x⁻) and ``(steps + 1) % 3`` (x).
    ``states[b, k]`` (when ``store``) receives the padded state after step ``k``.
    """
    batch, steps = inj.shape[0], inj.shape[1]
    nsrc, nprb = src_r.size, prb_r.size
    for b in prange(batch):
        # inside the parallel body, where len(w) is a constant (outer values become arguments)
        p = 2 * len(w) - 1
        ny, nx = work.shape[2] - 2 * p, work.shape[3] - 2 * p
        bc, bf, bg = _batch_rows(b, alpha, fx, gain)
        snap = 0
        for k in range(steps):
            prev = work[b, k % 3]
            cur = work[b, (k + 1) % 3]
            nxt = work[b, (k + 2) % 3]
            for i in range(ny):
                for j in range(nx):
                    c = cur[i + p, j + p]
                    lap = _apply_l(cur, fx, fy, bf, i, j, w)
                    nxt[i + p, j + p] = (alpha[bc, i, j] * c + beta[bc, i, j] * prev[i + p, j + p]
                                         + gamma[bc, i, j] * lap)
            for s in range(nsrc):
                nxt[src_r[s] + p, src_c[s] + p] += 0.5 * gain[bg, s] * inj[b, k, s]
            for q in range(nprb):
                rec[b, k, q] = nxt[prb_r[q] + p, prb_c[q] + p]
            if store:
                states[b, k] = nxt
            if every > 0 and (t0 + k + 1) % every == 0:
                snaps[b, snap] = nxt[p:ny + p, p:nx + p]
                snap += 1


@_pjit
def _adjoint(states, alpha, beta, gamma, fx, fy, gain, inj, src_r, src_c, prb_r, prb_c,
             g_rec, g_snap, every, t0, a_cur, a_nxt, g_alpha, g_beta, g_gamma, g_fx, g_fy,
             g_gain, g_inj, w):  # pragma: no cover - compiled
    """Reverse sweep of a segment.

    ``states[b, m]`` is the padded x at segment time ``m − 1`` (``m = 0``: x⁻ at the start;
    ``m = k + 2``: after step ``k``).

    On entry ``a_cur``/``a_nxt`` hold the gradients of the segment's last x and x⁻ (padded); on
    return those of its first x and x⁻. Parameter gradients accumulate per batch item.
    """
    batch, steps = inj.shape[0], inj.shape[1]
    nsrc, nprb = src_r.size, prb_r.size
    for b in prange(batch):
        r = len(w)
        p = 2 * r - 1
        ny, nx = states.shape[2] - 2 * p, states.shape[3] - 2 * p
        bc, bf, bg = _batch_rows(b, alpha, fx, gain)
        cur = a_cur[b]
        nxt = a_nxt[b]
        scaled = np.zeros_like(cur)
        spare = np.zeros_like(cur)
        snap = (t0 + steps) // every - t0 // every if every > 0 else 0
        for k in range(steps - 1, -1, -1):
            for q in range(nprb):
                cur[prb_r[q] + p, prb_c[q] + p] += g_rec[b, k, q]
            if every > 0 and (t0 + k + 1) % every == 0:
                snap -= 1
                cur[p:ny + p, p:nx + p] += g_snap[b, snap]
            for s in range(nsrc):
                value = cur[src_r[s] + p, src_c[s] + p]
                g_inj[b, k, s] = 0.5 * gain[bg, s] * value
                g_gain[b, s] += 0.5 * inj[b, k, s] * value
            x = states[b, k + 1]
            xm = states[b, k]
            for i in range(ny):
                for j in range(nx):
                    scaled[i + p, j + p] = gamma[bc, i, j] * cur[i + p, j + p]
            for i in range(ny):
                for j in range(nx):
                    c = x[i + p, j + p]
                    lap = _apply_l(x, fx, fy, bf, i, j, w)
                    a = cur[i + p, j + p]
                    g_alpha[b, i, j] += a * c
                    g_beta[b, i, j] += a * xm[i + p, j + p]
                    g_gamma[b, i, j] += a * lap
                    l_scaled = _apply_l(scaled, fx, fy, bf, i, j, w)
                    nxt[i + p, j + p] += alpha[bc, i, j] * a + l_scaled
                    spare[i + p, j + p] = beta[bc, i, j] * a
            # d(a·L x)/d(face value) = −(D a)(D x) on that face
            for i in range(ny):
                for f in range(nx + 2 * r - 1):
                    g_fx[b, i, f] -= _dx(scaled, i, f, w) * _dx(x, i, f, w)
            for f in range(ny + 2 * r - 1):
                for j in range(nx):
                    g_fy[b, f, j] -= _dy(scaled, f, j, w) * _dy(x, f, j, w)
            # shift: a(x_{k}) complete → current; β part of a(x_{k−1}) → next
            for i in range(ny + 2 * p):
                for j in range(nx + 2 * p):
                    cur[i, j] = nxt[i, j]
                    nxt[i, j] = spare[i, j]


def _stencil(static: dict, dtype: torch.dtype) -> tuple:
    """The staggered weights as scalars of the fields' dtype (no float64 promotion)."""
    kind = np.float32 if dtype == torch.float32 else np.float64
    return tuple(kind(v) for v in static["stencil"])


def _np(x: Tensor) -> np.ndarray:
    return x.detach().contiguous().numpy()


def _run_forward(params: dict[str, Tensor], inj: Tensor, u: Tensor, p: Tensor, static: dict,
                 t0: int, *, store: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None]:
    batch, steps = inj.shape[:2]
    ny, nx = u.shape[1:]
    dtype = u.dtype
    pad = static["pad"]
    inner = (slice(None), slice(pad, pad + ny), slice(pad, pad + nx))
    work = torch.zeros(batch, 3, ny + 2 * pad, nx + 2 * pad, dtype=dtype)
    work[:, 0][inner] = p.detach()
    work[:, 1][inner] = u.detach()
    rec = torch.empty(batch, steps, static["prb_r"].size, dtype=dtype)
    states = (torch.empty(batch, steps, ny + 2 * pad, nx + 2 * pad, dtype=dtype) if store
              else torch.empty(batch, 1, 1, 1, dtype=dtype))
    every = static["every"]
    nsnap = (t0 + steps) // every - t0 // every if every else 0
    snaps = torch.empty(batch, nsnap, ny, nx, dtype=dtype)
    _forward(_np(work), *(_np(params[k]) for k in ("alpha", "beta", "gamma", "face_x", "face_y",
                                                   "src_gain")),
             _np(inj), static["src_r"], static["src_c"], static["prb_r"], static["prb_c"],
             rec.numpy(), store, states.numpy(), every, t0, snaps.numpy(),
             _stencil(static, dtype))
    # the kernel wrote into the numpy views of these tensors
    last = work[:, (steps + 1) % 3][inner].clone()
    before = work[:, steps % 3][inner].clone()
    full = None
    if store:
        full = torch.cat([work.new_zeros(batch, 2, ny + 2 * pad, nx + 2 * pad), states], 1)
        full[:, 0][inner] = p.detach()
        full[:, 1][inner] = u.detach()
    return last, before, rec, snaps, full


class _AcousticSegment(torch.autograd.Function):
    """A segment of fused steps; backward recomputes it and runs the exact adjoint."""

    @staticmethod
    def forward(ctx, static, t0, names, inj, u, p, *tensors):
        params = dict(zip(names, tensors, strict=True))
        ctx.static, ctx.t0, ctx.names = static, t0, names
        ctx.save_for_backward(inj, u, p, *tensors)
        last, before, rec, snaps, _ = _run_forward(params, inj, u, p, static, t0, store=False)
        return last, before, rec, snaps

    @staticmethod
    @kernel_section()
    def backward(ctx, g_last, g_before, g_rec, g_snap):
        inj, u, p, *tensors = ctx.saved_tensors
        params = dict(zip(ctx.names, tensors, strict=True))
        static, t0 = ctx.static, ctx.t0
        *_, full = _run_forward(params, inj, u, p, static, t0, store=True)
        assert full is not None
        batch, steps = inj.shape[:2]
        ny, nx = u.shape[1:]
        dtype = u.dtype
        pad = static["pad"]
        inner = (slice(None), slice(pad, pad + ny), slice(pad, pad + nx))

        def padded(g: Tensor | None) -> Tensor:
            out = torch.zeros(batch, ny + 2 * pad, nx + 2 * pad, dtype=dtype)
            if g is not None:
                out[inner] = g
            return out

        a_cur, a_nxt = padded(g_last), padded(g_before)
        g_rec = g_rec if g_rec is not None else torch.zeros(batch, steps, static["prb_r"].size,
                                                            dtype=dtype)
        if g_snap is None or not g_snap.numel():  # no snapshots, or none used: a placeholder
            every = static["every"]
            count = (t0 + steps) // every - t0 // every if every else 0
            g_snap = torch.zeros(batch, max(count, 1), ny, nx, dtype=dtype)
        grads = {k: torch.zeros(batch, *params[k].shape[1:], dtype=dtype)
                 for k in ("alpha", "beta", "gamma", "face_x", "face_y", "src_gain")}
        g_inj = torch.zeros_like(inj)
        _adjoint(_np(full), *(_np(params[k]) for k in ("alpha", "beta", "gamma", "face_x",
                                                       "face_y", "src_gain")),
                 _np(inj), static["src_r"], static["src_c"], static["prb_r"], static["prb_c"],
                 _np(g_rec), _np(g_snap), static["every"], t0, a_cur.numpy(), a_nxt.numpy(),
                 *(grads[k].numpy() for k in ("alpha", "beta", "gamma", "face_x", "face_y",
                                             "src_gain")),
                 g_inj.numpy(), _stencil(static, dtype))
        out = []
        for name, tensor in zip(ctx.names, tensors, strict=True):
            g = grads[name]
            out.append(g.sum(0, keepdim=True) if tensor.shape[0] == 1 else g)
        return (None, None, None, g_inj, a_cur[inner], a_nxt[inner], *out)


@kernel_section()
def run_acoustic_numba(setup: AcousticSetup, snapshot_every: int | None,
                       checkpoint_every: int | None) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run a PML-free acoustic setup (order 2 or 4) on the fused kernels (CPU).

    Returns the recorded cells, the snapshots (or None), the segment count and the final
    pressure.
    """
    params = {k: getattr(setup, k) for k in ("alpha", "beta", "gamma", "face_x", "face_y",
                                             "src_gain")}
    names = tuple(params)
    static = {"src_r": np.asarray(setup.src_rows, np.int64),
              "src_c": np.asarray(setup.src_cols, np.int64),
              "prb_r": np.asarray(setup.prb_rows, np.int64),
              "prb_c": np.asarray(setup.prb_cols, np.int64),
              "every": int(snapshot_every or 0)}
    weights = STAGGERED[setup.order]
    static["pad"] = 2 * len(weights) - 1
    static["stencil"] = weights
    # its backward stores one field-sized state per step of the segment it recomputes
    seg = segment_length(setup, checkpoint_every, 1)
    injection = setup.injection
    batch, steps = injection.shape[:2]
    ny, nx = setup.grid.shape
    dtype = params["alpha"].dtype
    u = torch.zeros(batch, ny, nx, dtype=dtype)
    p = torch.zeros_like(u)
    recs, snaps, segments = [], [], 0
    for t0 in range(0, steps, seg):
        inj = injection[:, t0:t0 + seg]
        u, p, rec, snap = _AcousticSegment.apply(static, t0, names, inj, u, p,
                                                 *params.values())
        recs.append(rec)
        snaps.append(snap)
        segments += 1
    snapshots = torch.cat(snaps, 1) if snapshot_every else None
    return torch.cat(recs, 1), snapshots, segments, u
