"""The numba backend of :func:`wavefab.solver.propagate_acoustic`: fused kernels, exact adjoint.

Covers the acoustic scheme on the CPU at orders 2 and 4, with any boundary: rigid walls, the
damping layer, or the convolutional PML (its own pair of kernels, below).

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

from typing import Any

import numba as nb
import numpy as np
import torch
from numba import prange
from torch import Tensor

from .._setup import AcousticSetup, segment_length
from ..errors import SolverValueError
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
    ``states[b, k + 2]`` (when ``store``) receives the padded state after step ``k``.
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
                states[b, k + 2] = nxt  # after the segment's two starting states
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


# --------------------------------------------------------------------------------------------
# The convolutional PML (the torch stepper's scheme). Per step, with ``s = D x + ψ_f`` the
# stretched face derivative and ``d = D⁻(f·s)`` its divergence::
#
#     ψ_f ← a_f ψ_f + b_f (D x)        on the faces (one memory per axis)
#     ψ_c ← a_c ψ_c + b_c d            on the cells
#     L x  = d_x + ψ_cx + d_y + ψ_cy
#
# Outside the layer a = b = 0 and this is the operator above. The adjoint runs backwards through
# the same three stages; ``D⁻ᵀ = −D`` and ``Dᵀ = −D⁻`` with zero beyond the grid.


@_jit
def _dmx(h, i, j, w):  # pragma: no cover - compiled
    """``(D⁻ h)`` at cell column ``j`` of x-face row ``i`` (faces unpadded)."""
    r = len(w)
    d = w[0] * (h[i, j + r] - h[i, j + r - 1])
    for m in range(1, r):
        d += w[m] * (h[i, j + r + m] - h[i, j + r - 1 - m])
    return d


@_jit
def _dmy(h, i, j, w):  # pragma: no cover - compiled
    """``(D⁻ h)`` at cell row ``i`` of y-face column ``j``."""
    r = len(w)
    d = w[0] * (h[i + r, j] - h[i + r - 1, j])
    for m in range(1, r):
        d += w[m] * (h[i + r + m, j] - h[i + r - 1 - m, j])
    return d


@_pjit
def _forward_pml(work, alpha, beta, gamma, fx, fy, gain, inj, src_r, src_c, prb_r, prb_c, rec,
                 store, states, sx_store, sy_store, lap_store, every, t0, snaps,
                 mfx, mcx, mfy, mcy, afx, bfx, acx, bcx, afy, bfy, acy, bcy,
                 w):  # pragma: no cover - compiled
    """:func:`_forward` with the convolutional PML.

    ``mfx``/``mcx``/``mfy``/``mcy`` are the memory fields ``[B, …]`` (advanced in place);
    ``a*``/``b*`` their 1-D profiles. When ``store``, step ``k`` keeps its padded state in
    ``states[b, k + 2]``, its stretched face derivatives ``s`` in ``sx_store``/``sy_store`` and its
    ``L x`` in ``lap_store`` (what the adjoint reads).
    """
    batch, steps = inj.shape[0], inj.shape[1]
    nsrc, nprb = src_r.size, prb_r.size
    for b in prange(batch):
        r = len(w)
        p = 2 * r - 1
        ny, nx = work.shape[2] - 2 * p, work.shape[3] - 2 * p
        nfx, nfy = nx + 2 * r - 1, ny + 2 * r - 1
        bc, bf, bg = _batch_rows(b, alpha, fx, gain)
        hx = np.zeros((ny, nfx), work.dtype)
        hy = np.zeros((nfy, nx), work.dtype)
        # what is stored goes to scratch when nothing is: a store guarded inside a loop stops
        # LLVM vectorizing it
        scratch_x = np.zeros((ny, nfx), work.dtype)
        scratch_y = np.zeros((nfy, nx), work.dtype)
        scratch_l = np.zeros((ny, nx), work.dtype)
        qfx, qcx, qfy, qcy = mfx[b], mcx[b], mfy[b], mcy[b]
        snap = 0
        for k in range(steps):
            prev = work[b, k % 3]
            cur = work[b, (k + 1) % 3]
            nxt = work[b, (k + 2) % 3]
            sxk = sx_store[b, k] if store else scratch_x
            syk = sy_store[b, k] if store else scratch_y
            lapk = lap_store[b, k] if store else scratch_l
            for i in range(ny):
                for f in range(nfx):
                    g = _dx(cur, i, f, w)
                    q = afx[f] * qfx[i, f] + bfx[f] * g
                    qfx[i, f] = q
                    hx[i, f] = fx[bf, i, f] * (g + q)
                    sxk[i, f] = g + q
            for f in range(nfy):
                for j in range(nx):
                    g = _dy(cur, f, j, w)
                    q = afy[f] * qfy[f, j] + bfy[f] * g
                    qfy[f, j] = q
                    hy[f, j] = fy[bf, f, j] * (g + q)
                    syk[f, j] = g + q
            for i in range(ny):
                for j in range(nx):
                    dx = _dmx(hx, i, j, w)
                    dy = _dmy(hy, i, j, w)
                    cx = acx[j] * qcx[i, j] + bcx[j] * dx
                    cy = acy[i] * qcy[i, j] + bcy[i] * dy
                    qcx[i, j] = cx
                    qcy[i, j] = cy
                    lap = dx + cx + dy + cy
                    nxt[i + p, j + p] = (alpha[bc, i, j] * cur[i + p, j + p]
                                         + beta[bc, i, j] * prev[i + p, j + p]
                                         + gamma[bc, i, j] * lap)
                    lapk[i, j] = lap
            for s in range(nsrc):
                nxt[src_r[s] + p, src_c[s] + p] += 0.5 * gain[bg, s] * inj[b, k, s]
            for q in range(nprb):
                rec[b, k, q] = nxt[prb_r[q] + p, prb_c[q] + p]
            if store:
                states[b, k + 2] = nxt  # after the segment's two starting states
            if every > 0 and (t0 + k + 1) % every == 0:
                snaps[b, snap] = nxt[p:ny + p, p:nx + p]
                snap += 1


@_pjit
def _adjoint_pml(states, sx_store, sy_store, lap_store, alpha, beta, gamma, fx, fy, gain, inj,
                 src_r, src_c, prb_r, prb_c, g_rec, g_snap, every, t0, a_cur, a_nxt,
                 m_fx, m_cx, m_fy, m_cy, afx, bfx, acx, bcx, afy, bfy, acy, bcy,
                 g_alpha, g_beta, g_gamma, g_fx, g_fy, g_gain, g_inj,
                 w):  # pragma: no cover - compiled
    """Reverse sweep of a :func:`_forward_pml` segment (``states`` indexed as in :func:`_adjoint`).

    ``m_*`` hold the gradients of the segment's final memory fields on entry and of its first
    ones on return; the rest is as in :func:`_adjoint`.
    """
    batch, steps = inj.shape[0], inj.shape[1]
    nsrc, nprb = src_r.size, prb_r.size
    for b in prange(batch):
        r = len(w)
        p = 2 * r - 1
        ny, nx = states.shape[2] - 2 * p, states.shape[3] - 2 * p
        nfx, nfy = nx + 2 * r - 1, ny + 2 * r - 1
        bc, bf, bg = _batch_rows(b, alpha, fx, gain)
        cur = a_cur[b]
        nxt = a_nxt[b]
        qfx, qcx, qfy, qcy = m_fx[b], m_cx[b], m_fy[b], m_cy[b]
        spare = np.zeros_like(cur)
        dbx = np.zeros_like(cur)  # adjoint of d_x and d_y, padded with zeros like a field
        dby = np.zeros_like(cur)
        gbx = np.zeros((ny, nfx), cur.dtype)  # adjoint of D x on the faces
        gby = np.zeros((nfy, nx), cur.dtype)
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
            lap = lap_store[b, k]
            for i in range(ny):
                for j in range(nx):
                    a = cur[i + p, j + p]
                    g_alpha[b, i, j] += a * x[i + p, j + p]
                    g_beta[b, i, j] += a * xm[i + p, j + p]
                    g_gamma[b, i, j] += a * lap[i, j]
                    nxt[i + p, j + p] += alpha[bc, i, j] * a
                    spare[i + p, j + p] = beta[bc, i, j] * a
                    lb = gamma[bc, i, j] * a
                    tx = qcx[i, j] + lb
                    ty = qcy[i, j] + lb
                    dbx[i + p, j + p] = lb + bcx[j] * tx
                    dby[i + p, j + p] = lb + bcy[i] * ty
                    qcx[i, j] = acx[j] * tx
                    qcy[i, j] = acy[i] * ty
            sx = sx_store[b, k]
            sy = sy_store[b, k]
            for i in range(ny):
                for f in range(nfx):
                    hb = -_dx(dbx, i, f, w)
                    g_fx[b, i, f] += hb * sx[i, f]
                    fh = fx[bf, i, f] * hb
                    tf = qfx[i, f] + fh
                    gbx[i, f] = fh + bfx[f] * tf
                    qfx[i, f] = afx[f] * tf
            for f in range(nfy):
                for j in range(nx):
                    hb = -_dy(dby, f, j, w)
                    g_fy[b, f, j] += hb * sy[f, j]
                    fh = fy[bf, f, j] * hb
                    tf = qfy[f, j] + fh
                    gby[f, j] = fh + bfy[f] * tf
                    qfy[f, j] = afy[f] * tf
            for i in range(ny):
                for j in range(nx):
                    nxt[i + p, j + p] -= _dmx(gbx, i, j, w) + _dmy(gby, i, j, w)
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


_PARAMS = ("alpha", "beta", "gamma", "face_x", "face_y", "src_gain")


def _memory_shapes(batch: int, ny: int, nx: int, reach: int) -> list[tuple[int, int, int]]:
    """Shapes of the PML memory fields: x faces, x cells, y faces, y cells."""
    return [(batch, ny, nx + 2 * reach - 1), (batch, ny, nx), (batch, ny + 2 * reach - 1, nx),
            (batch, ny, nx)]


def _run_forward(params: dict[str, Tensor], inj: Tensor, u: Tensor, p: Tensor,
                 memory: list[Tensor], static: dict, t0: int, *, store: bool
                 ) -> tuple[Tensor, Tensor, list[Tensor], Tensor, Tensor, tuple | None]:
    """Run one segment from ``(u, p, memory)``.

    Returns the last two states, the memory fields, the recorded cells, the snapshots and (when
    ``store``) what the adjoint reads: ``(states, s_x, s_y, L x)``, the states padded and
    prefixed by the segment's two starting states.
    """
    batch, steps = inj.shape[:2]
    ny, nx = u.shape[1:]
    dtype = u.dtype
    pad = static["pad"]
    inner = (slice(None), slice(pad, pad + ny), slice(pad, pad + nx))
    cuda = static.get("cuda")
    opts = {"dtype": dtype, "device": u.device}
    work = torch.zeros(batch, 3, ny + 2 * pad, nx + 2 * pad, **opts)
    work[:, 0][inner] = p.detach()
    work[:, 1][inner] = u.detach()
    rec = torch.empty(batch, steps, static["prb_r"].size, **opts)
    # (zeros on the GPU: its threads write the inner cells only, and the adjoint reads the halo)
    allocate = torch.empty if cuda is None else torch.zeros
    states = (allocate(batch, steps + 2, ny + 2 * pad, nx + 2 * pad, **opts) if store
              else torch.empty(batch, 1, 1, 1, **opts))
    every = static["every"]
    nsnap = (t0 + steps) // every - t0 // every if every else 0
    snaps = torch.empty(batch, nsnap, ny, nx, **opts)
    weights = _stencil(static, dtype)
    coefficients = [_np(params[k]) for k in _PARAMS]
    cells = (static["src_r"], static["src_c"], static["prb_r"], static["prb_c"])
    extra: tuple = ()
    if cuda is not None:  # the GPU kernels (no PML): three contiguous slots, written back
        memory_out = []
        arg = cuda.device_array
        slots = tuple(work[:, k].contiguous() for k in range(3))
        cuda.ac_forward_segment(tuple(arg(x) for x in slots),
                                *(arg(params[k]) for k in _PARAMS), arg(inj),
                                *static["device_cells"], arg(rec), store, arg(states), every, t0,
                                arg(snaps), static["device_stencil"][dtype])
        for k in range(3):
            work[:, k] = slots[k]
    elif static["pml"] is None:
        memory_out: list[Tensor] = []
        _forward(_np(work), *coefficients, _np(inj), *cells, rec.numpy(), store,
                 states.numpy(), every, t0, snaps.numpy(), weights)
    else:
        reach = len(weights)
        memory_out = [m.detach().clone().contiguous() for m in memory]
        shapes = _memory_shapes(batch, ny, nx, reach)
        if store:
            extra = tuple(torch.empty(batch, steps, *shape[1:], dtype=dtype)
                          for shape in (shapes[0], shapes[2], shapes[1]))
        else:
            extra = tuple(torch.empty(batch, 1, 1, 1, dtype=dtype) for _ in range(3))
        _forward_pml(_np(work), *coefficients, _np(inj), *cells, rec.numpy(), store,
                     states.numpy(), *(e.numpy() for e in extra), every, t0, snaps.numpy(),
                     *(m.numpy() for m in memory_out), *static["pml"][dtype], weights)
    # the kernel wrote into the numpy views of these tensors
    last = work[:, (steps + 1) % 3][inner].clone()
    before = work[:, steps % 3][inner].clone()
    stored = None
    if store:
        full = states
        full[:, :2] = 0
        full[:, 0][inner] = p.detach()
        full[:, 1][inner] = u.detach()
        stored = (full, *extra)
    return last, before, memory_out, rec, snaps, stored


def _reduced(names: tuple[str, ...], values: tuple[Tensor, ...], grads: dict[str, Tensor]
             ) -> list[Tensor]:
    """Per-item parameter gradients summed over the batch where the parameter is shared."""
    return [grads[name].sum(0, keepdim=True) if tensor.shape[0] == 1 else grads[name]
            for name, tensor in zip(names, values, strict=True)]


class _AcousticSegment(torch.autograd.Function):
    """A segment of fused steps; backward recomputes it and runs the exact adjoint.

    Inputs after ``inj``: ``u, p``, the PML memory fields (four, or none), then the parameters.
    """

    @staticmethod
    def forward(ctx, static, t0, names, inj, u, p, *tensors):
        nmem = 0 if static["pml"] is None else 4
        memory, values = list(tensors[:nmem]), tensors[nmem:]
        params = dict(zip(names, values, strict=True))
        ctx.static, ctx.t0, ctx.names, ctx.nmem = static, t0, names, nmem
        ctx.save_for_backward(inj, u, p, *tensors)
        last, before, memory_out, rec, snaps, _ = _run_forward(params, inj, u, p, memory,
                                                               static, t0, store=False)
        return (last, before, *memory_out, rec, snaps)

    @staticmethod
    @kernel_section()
    def backward(ctx, g_last, g_before, *g_rest):
        inj, u, p, *tensors = ctx.saved_tensors
        nmem = ctx.nmem
        memory, values = tensors[:nmem], tensors[nmem:]
        g_memory, (g_rec, g_snap) = g_rest[:nmem], g_rest[nmem:]
        params = dict(zip(ctx.names, values, strict=True))
        static, t0 = ctx.static, ctx.t0
        *_, stored = _run_forward(params, inj, u, p, list(memory), static, t0, store=True)
        assert stored is not None
        batch, steps = inj.shape[:2]
        ny, nx = u.shape[1:]
        dtype = u.dtype
        opts = {"dtype": dtype, "device": u.device}
        pad = static["pad"]
        inner = (slice(None), slice(pad, pad + ny), slice(pad, pad + nx))

        def padded(g: Tensor | None) -> Tensor:
            out = torch.zeros(batch, ny + 2 * pad, nx + 2 * pad, **opts)
            if g is not None:
                out[inner] = g
            return out

        a_cur, a_nxt = padded(g_last), padded(g_before)
        g_rec = g_rec if g_rec is not None else torch.zeros(batch, steps, static["prb_r"].size,
                                                            device=u.device,
                                                            dtype=dtype)
        if g_snap is None or not g_snap.numel():  # no snapshots, or none used: a placeholder
            every = static["every"]
            count = (t0 + steps) // every - t0 // every if every else 0
            g_snap = torch.zeros(batch, max(count, 1), ny, nx, **opts)
        grads = {k: torch.zeros(batch, *params[k].shape[1:], **opts) for k in _PARAMS}
        g_inj = torch.zeros_like(inj)
        cuda = static.get("cuda")
        if cuda is not None:
            arg = cuda.device_array
            cuda.ac_adjoint_segment(arg(stored[0]), *(arg(params[k]) for k in _PARAMS),
                                    arg(inj), *static["device_cells"], arg(g_rec), arg(g_snap),
                                    static["every"], t0, arg(a_cur), arg(a_nxt),
                                    *(arg(grads[k]) for k in _PARAMS), arg(g_inj),
                                    static["device_stencil"][dtype])
            return (None, None, None, g_inj, a_cur[inner], a_nxt[inner],
                    *_reduced(ctx.names, values, grads))
        coefficients = [_np(params[k]) for k in _PARAMS]
        cells = (static["src_r"], static["src_c"], static["prb_r"], static["prb_c"])
        outputs = [grads[k].numpy() for k in _PARAMS]
        weights = _stencil(static, dtype)
        if static["pml"] is None:
            g_mem: list[Tensor] = []
            _adjoint(_np(stored[0]), *coefficients, _np(inj), *cells, _np(g_rec), _np(g_snap),
                     static["every"], t0, a_cur.numpy(), a_nxt.numpy(), *outputs,
                     g_inj.numpy(), weights)
        else:
            g_mem = [torch.zeros_like(m) if g is None else g.detach().clone().contiguous()
                     for m, g in zip(memory, g_memory, strict=True)]
            _adjoint_pml(*(_np(x) for x in stored), *coefficients, _np(inj), *cells,
                         _np(g_rec), _np(g_snap), static["every"], t0, a_cur.numpy(),
                         a_nxt.numpy(), *(g.numpy() for g in g_mem), *static["pml"][dtype],
                         *outputs, g_inj.numpy(), weights)
        return (None, None, None, g_inj, a_cur[inner], a_nxt[inner], *g_mem,
                *_reduced(ctx.names, values, grads))


@kernel_section()
def run_acoustic_numba(setup: AcousticSetup, snapshot_every: int | None,
                       checkpoint_every: int | None, *, cuda: Any = None
                       ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run an acoustic setup (order 2 or 4; any boundary) on the fused kernels.

    On the CPU, or (without a PML) on the GPU when ``cuda`` is :mod:`.kernels_cuda`. Returns
    the recorded cells, the snapshots (or None), the segment count and the final pressure.
    """
    params = {k: getattr(setup, k) for k in _PARAMS}
    names = tuple(params)
    static = {"src_r": np.asarray(setup.src_rows, np.int64),
              "src_c": np.asarray(setup.src_cols, np.int64),
              "prb_r": np.asarray(setup.prb_rows, np.int64),
              "prb_c": np.asarray(setup.prb_cols, np.int64),
              "every": int(snapshot_every or 0)}
    weights = STAGGERED[setup.order]
    static["pad"] = 2 * len(weights) - 1
    static["stencil"] = weights
    static["cuda"] = cuda
    if cuda is not None:
        if setup.pml is not None:
            raise SolverValueError("the CUDA kernels have no acoustic PML yet; use "
                                   "backend='torch'")
        static["device_cells"] = tuple(cuda.device_array(static[k])
                                       for k in ("src_r", "src_c", "prb_r", "prb_c"))
        static["device_stencil"] = {
            dt: cuda.device_array(np.asarray(weights, np.float32 if dt == torch.float32
                                             else np.float64))
            for dt in (torch.float32, torch.float64)}
    injection = setup.injection
    batch, steps = injection.shape[:2]
    ny, nx = setup.grid.shape
    dtype = params["alpha"].dtype
    memory: list[Tensor] = []
    if setup.pml is None:
        static["pml"] = None
        # its backward stores one field-sized state per step of the segment it recomputes
        per_step = 1
    else:
        kind = np.float32 if dtype == torch.float32 else np.float64
        static["pml"] = {dtype: tuple(np.ascontiguousarray(v, dtype=kind) for v in setup.pml)}
        memory = [torch.zeros(shape, dtype=dtype, device=setup.alpha.device)
                  for shape in _memory_shapes(batch, ny, nx, len(weights))]
        per_step = 4  # the state, both stretched face derivatives and L x
    seg = segment_length(setup, checkpoint_every, per_step)
    u = torch.zeros(batch, ny, nx, dtype=dtype, device=setup.alpha.device)
    p = torch.zeros_like(u)
    recs, snaps, segments = [], [], 0
    for t0 in range(0, steps, seg):
        inj = injection[:, t0:t0 + seg]
        u, p, *rest = _AcousticSegment.apply(static, t0, names, inj, u, p, *memory,
                                             *params.values())
        memory, (rec, snap) = list(rest[:-2]), rest[-2:]
        recs.append(rec)
        snaps.append(snap)
        segments += 1
    snapshots = torch.cat(snaps, 1) if snapshot_every else None
    return torch.cat(recs, 1), snapshots, segments, u


def run_acoustic_cuda(setup: AcousticSetup, snapshot_every: int | None,
                      checkpoint_every: int | None) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """:func:`run_acoustic_numba` on the CUDA kernels of :mod:`.kernels_cuda` (no PML)."""
    from . import kernels_cuda

    return run_acoustic_numba(setup, snapshot_every, checkpoint_every, cuda=kernels_cuda)
