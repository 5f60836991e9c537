"""Fused multi-step CPU kernels (numba) for the linear scalar leapfrog and its exact adjoint.

One call advances a whole segment of steps, so Python runs once per segment, not once per step.
Each batch item is advanced by one thread with no synchronization between steps.

Layout: every state array is ``[B, ny + 2r, nx + 2r]`` with a zero halo of ``r = order // 2``
cells, so stencils need no bounds checks (the halo is the rigid ``u = 0`` wall outside the grid).
Coefficient maps are ``[Bc, ny, nx]`` with ``Bc`` 1 (shared) or B. PML profiles are 1D, padded by
``r``, zero outside the layer.

Step ``s`` (per cell, in cell units; see :mod:`wavefab.solver.scalar` for the derivation)::

    P_x  = (1 + b_x)·D2x u + db_x·D1x u + D1x(a_x ψ1x)
    T_x  = (1 + b_x)·P_x + a_x ψ2x               ψ1x ← a_x ψ1x + b_x D1x u,  ψ2x ← a_x ψ2x + b_x P_x
    u'   = α u + β u_prev + γ (T_x + T_y) + injection

Cells in the ``[lo[i], hi[i])`` run of each row are "plain" (α = 2, β = −1, no PML within the
stencil radius) and take a lean vectorizable path; all others take the general path.

The adjoint runs in the scaled variable ``ν = γ·μ`` (μ the true adjoint of u). For plain cells the
adjoint recursion in ν is the forward recursion itself; the PML cells use the transposed
operators (``D2ᵀ = D2``, ``D1ᵀ = −D1`` with the zero halo).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import prange

# No nnan/ninf: non-finite fields must stay visible so instability can be reported.
_FASTMATH = {"contract", "arcp", "nsz", "reassoc"}
_jit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True)
_pjit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, parallel=True)


# --------------------------------------------------------------------------------------------
# plain rows: α = 2, β = −1, no PML in reach


@_jit
def _plain_row2(a, pp, gb, i, r, lo, hi, four, trow, store):
    ii = i + r
    if store:
        for j in range(lo, hi):
            jj = j + r
            c = a[ii, jj]
            lap = a[ii - 1, jj] + a[ii + 1, jj] + a[ii, jj - 1] + a[ii, jj + 1] - four * c
            pp[ii, jj] = c + c - pp[ii, jj] + gb[i, j] * lap
            trow[j] = lap
    else:
        for j in range(lo, hi):
            jj = j + r
            c = a[ii, jj]
            lap = a[ii - 1, jj] + a[ii + 1, jj] + a[ii, jj - 1] + a[ii, jj + 1] - four * c
            pp[ii, jj] = c + c - pp[ii, jj] + gb[i, j] * lap


@_jit
def _plain_row4(a, pp, gb, i, r, lo, hi, k1, k2, k0, trow, store):
    # 4th-order Laplacian: (−u₋₂ + 16u₋₁ − 30u₀ + 16u₁ − u₂)/12 per axis; k1=16/12, k2=1/12, k0=60/12
    ii = i + r
    if store:
        for j in range(lo, hi):
            jj = j + r
            c = a[ii, jj]
            lap = (k1 * (a[ii - 1, jj] + a[ii + 1, jj] + a[ii, jj - 1] + a[ii, jj + 1])
                   - k2 * (a[ii - 2, jj] + a[ii + 2, jj] + a[ii, jj - 2] + a[ii, jj + 2])
                   - k0 * c)
            pp[ii, jj] = c + c - pp[ii, jj] + gb[i, j] * lap
            trow[j] = lap
    else:
        for j in range(lo, hi):
            jj = j + r
            c = a[ii, jj]
            lap = (k1 * (a[ii - 1, jj] + a[ii + 1, jj] + a[ii, jj - 1] + a[ii, jj + 1])
                   - k2 * (a[ii - 2, jj] + a[ii + 2, jj] + a[ii, jj - 2] + a[ii, jj + 2])
                   - k0 * c)
            pp[ii, jj] = c + c - pp[ii, jj] + gb[i, j] * lap


# --------------------------------------------------------------------------------------------
# general cells (damping and/or PML)


@_jit
def _general_cell(a, pp, q1x, q1xn, q2x, q1y, q1yn, q2y, ab, bb, gb,
                  ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j):
    """Advance one cell; returns T (the γ-multiplied operator value)."""
    ii = i + r
    jj = j + r
    d2x = c2[r] * a[ii, jj]
    d2y = c2[r] * a[ii, jj]
    for k in range(1, r + 1):
        d2x += c2[r + k] * (a[ii, jj - k] + a[ii, jj + k])
        d2y += c2[r + k] * (a[ii - k, jj] + a[ii + k, jj])
    if has_pml:
        d1x = a[ii, jj] * 0
        d1y = a[ii, jj] * 0
        qx = a[ii, jj] * 0
        qy = a[ii, jj] * 0
        for k in range(1, r + 1):
            d1x += c1[r + k] * (a[ii, jj + k] - a[ii, jj - k])
            d1y += c1[r + k] * (a[ii + k, jj] - a[ii - k, jj])
            qx += c1[r + k] * (ax[jj + k] * q1x[ii, jj + k] - ax[jj - k] * q1x[ii, jj - k])
            qy += c1[r + k] * (ay[ii + k] * q1y[ii + k, jj] - ay[ii - k] * q1y[ii - k, jj])
        one = c2[r] * 0 + 1
        px = (one + bx[jj]) * d2x + dbx[jj] * d1x + qx
        py = (one + by[ii]) * d2y + dby[ii] * d1y + qy
        tx = (one + bx[jj]) * px + ax[jj] * q2x[ii, jj]
        ty = (one + by[ii]) * py + ay[ii] * q2y[ii, jj]
        q1xn[ii, jj] = ax[jj] * q1x[ii, jj] + bx[jj] * d1x
        q1yn[ii, jj] = ay[ii] * q1y[ii, jj] + by[ii] * d1y
        q2x[ii, jj] = ax[jj] * q2x[ii, jj] + bx[jj] * px
        q2y[ii, jj] = ay[ii] * q2y[ii, jj] + by[ii] * py
        t = tx + ty
    else:
        t = d2x + d2y
    pp[ii, jj] = ab[i, j] * a[ii, jj] + bb[i, j] * pp[ii, jj] + gb[i, j] * t
    return t


@_pjit
def forward_segment(u, p, q1x, q1xa, q2x, q1y, q1ya, q2y,
                    al, be, ga, lo, hi, ax, bx, dbx, ay, by, dby, has_pml, order, c1, c2,
                    inj, src_r, src_c, rec, prb_r, prb_c,
                    store, tstore, store_u, ustore, snap_every, snap_offset, snaps):
    """Advance ``inj.shape[1]`` steps in place; the new state ends in the swapped buffers.

    After an odd number of steps the current field is in ``p`` and the previous one in ``u`` (and
    ψ1 in the ``*a`` buffers); the caller tracks the parity.

    Args:
        u, p, q1x, q1xa, q2x, q1y, q1ya, q2y: padded state ``[B, ny+2r, nx+2r]``.
        al, be, ga: update coefficients ``[Bc, ny, nx]``.
        lo, hi: plain run of each row, ``[ny]`` int64.
        ax, bx, dbx / ay, by, dby: padded PML profiles (zeros when ``has_pml`` is False).
        order: 2 or 4; c1, c2: first/second-difference stencils, length ``order + 1``.
        inj: ``[B, S, Ks]`` values added to u' at ``(src_r, src_c)`` after each step.
        rec: ``[B, S, Kp]`` receives u' at ``(prb_r, prb_c)`` after each step.
        store: keep T of each step in ``tstore[B, S, ny, nx]`` (for the adjoint).
        store_u: keep u before each step in ``ustore[B, S, ny, nx]`` (for damping gradients).
        snap_every, snap_offset, snaps: copy u' into ``snaps[B, n]`` when the global step
            ``snap_offset + s + 1`` is a multiple of ``snap_every`` (0 = never).
    """
    nbatch = u.shape[0]
    nsteps = inj.shape[1]
    ny = al.shape[1]
    nx = al.shape[2]
    r = order // 2
    cidx = np.zeros(nbatch, np.int64)
    if al.shape[0] > 1:
        cidx = np.arange(nbatch)
    four = c2[r] * 0 + 4
    k1 = c2[r + 1]
    k2 = -c2[r + 2] if order == 4 else c2[r] * 0
    k0 = -(c2[r] + c2[r]) if order == 4 else c2[r] * 0
    for bi in prange(nbatch):
        cb = cidx[bi]
        ab = al[cb]
        bb = be[cb]
        gb = ga[cb]
        a = u[bi]
        pp = p[bi]
        x1 = q1x[bi]
        x1n = q1xa[bi]
        y1 = q1y[bi]
        y1n = q1ya[bi]
        x2 = q2x[bi]
        y2 = q2y[bi]
        trow = tstore[bi, 0, 0]
        for s in range(nsteps):
            if store_u:
                us = ustore[bi, s]
                for i in range(ny):
                    for j in range(nx):
                        us[i, j] = a[i + r, j + r]
            for i in range(ny):
                if store:
                    trow = tstore[bi, s, i]
                lo_i = lo[i]
                hi_i = hi[i]
                for j in range(0, lo_i):
                    t = _general_cell(a, pp, x1, x1n, x2, y1, y1n, y2, ab, bb, gb,
                                      ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j)
                    if store:
                        trow[j] = t
                if order == 2:
                    _plain_row2(a, pp, gb, i, r, lo_i, hi_i, four, trow, store)
                else:
                    _plain_row4(a, pp, gb, i, r, lo_i, hi_i, k1, k2, k0, trow, store)
                for j in range(hi_i, nx):
                    t = _general_cell(a, pp, x1, x1n, x2, y1, y1n, y2, ab, bb, gb,
                                      ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j)
                    if store:
                        trow[j] = t
            for k in range(src_r.shape[0]):
                pp[src_r[k] + r, src_c[k] + r] += inj[bi, s, k]
            for k in range(prb_r.shape[0]):
                rec[bi, s, k] = pp[prb_r[k] + r, prb_c[k] + r]
            if snap_every > 0 and (snap_offset + s + 1) % snap_every == 0:
                n = (snap_offset + s + 1) // snap_every - 1
                if n < snaps.shape[1]:
                    for i in range(ny):
                        for j in range(nx):
                            snaps[bi, n, i, j] = pp[i + r, j + r]
            a, pp = pp, a
            if has_pml:
                x1, x1n = x1n, x1
                y1, y1n = y1n, y1


# --------------------------------------------------------------------------------------------
# adjoint


@_jit
def _pbar(v, q2, b, m_row, m_col, m_b, one):
    """P̄ at one cell: (1 + b)·ν' + b·ψ̄2'."""
    return (one + b[m_b]) * v[m_row, m_col] + b[m_b] * q2[m_row, m_col]


@_jit
def _adjoint_general_cell(v, w, g1x, g1xn, g2x, g2xn, g1y, g1yn, g2y, g2yn, ab, bb, gb,
                          ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j):
    """ν_s at one general cell (written into w) and the new ψ̄ (into the *n buffers)."""
    ii = i + r
    jj = j + r
    one = c2[r] * 0 + 1
    if has_pml:
        # D2ᵀ(d̄2) − D1ᵀ... with d̄2 = (1+b)P̄, d̄1 = db·P̄ + b·ψ̄1', D1ᵀ = −D1.
        pxc = _pbar(v, g2x, bx, ii, jj, jj, one)
        pyc = _pbar(v, g2y, by, ii, jj, ii, one)
        lx = c2[r] * (one + bx[jj]) * pxc
        ly = c2[r] * (one + by[ii]) * pyc
        dpx = c2[r] * 0
        dpy = c2[r] * 0
        for k in range(1, r + 1):
            jm = jj - k
            jp = jj + k
            im = ii - k
            ip = ii + k
            pxm = _pbar(v, g2x, bx, ii, jm, jm, one)
            pxp = _pbar(v, g2x, bx, ii, jp, jp, one)
            pym = _pbar(v, g2y, by, im, jj, im, one)
            pyp = _pbar(v, g2y, by, ip, jj, ip, one)
            lx += c2[r + k] * ((one + bx[jm]) * pxm + (one + bx[jp]) * pxp)
            ly += c2[r + k] * ((one + by[im]) * pym + (one + by[ip]) * pyp)
            d1m = dbx[jm] * pxm + bx[jm] * g1x[ii, jm]
            d1p = dbx[jp] * pxp + bx[jp] * g1x[ii, jp]
            lx -= c1[r + k] * (d1p - d1m)
            e1m = dby[im] * pym + by[im] * g1y[im, jj]
            e1p = dby[ip] * pyp + by[ip] * g1y[ip, jj]
            ly -= c1[r + k] * (e1p - e1m)
            dpx += c1[r + k] * (pxp - pxm)
            dpy += c1[r + k] * (pyp - pym)
        g1xn[ii, jj] = ax[jj] * (g1x[ii, jj] - dpx)
        g1yn[ii, jj] = ay[ii] * (g1y[ii, jj] - dpy)
        g2xn[ii, jj] = ax[jj] * (g2x[ii, jj] + v[ii, jj])
        g2yn[ii, jj] = ay[ii] * (g2y[ii, jj] + v[ii, jj])
        lap = lx + ly
    else:
        lap = c2[r] * (v[ii, jj] + v[ii, jj])
        for k in range(1, r + 1):
            lap += c2[r + k] * (v[ii, jj - k] + v[ii, jj + k] + v[ii - k, jj] + v[ii + k, jj])
    w[ii, jj] = ab[i, j] * v[ii, jj] + bb[i, j] * w[ii, jj] + gb[i, j] * lap


@_pjit
def adjoint_segment(v, w, g1x, g1xa, g2x, g2xa, g1y, g1ya, g2y, g2ya,
                    al, be, ga, lo, hi, ax, bx, dbx, ay, by, dby, has_pml, order, c1, c2,
                    grec, prb_r, prb_c, ginj, src_r, src_c,
                    ustore, tstore, p0, need_ab, acc_a, acc_b, acc_g, gp_out):
    """Run the adjoint of :func:`forward_segment` backwards over its ``S`` steps, in place.

    On entry ``v`` holds ν_S = γ·(∂L/∂u_S + probe gradient of the last step), ``w`` zeros and the
    ψ̄ buffers the gradients of the final memory fields. On exit (after the caller's parity
    bookkeeping) ``v`` holds ν_0 and ``w`` ν_1.

    Args:
        grec: ``[B, S, Kp]`` gradient of the recorded probe values.
        ginj: ``[B, S, Ks]`` receives the gradient of the injected values (μ at source cells, ×γ).
        ustore: ``[B, S, ny, nx]`` u_s of the forward pass (read only when ``need_ab``).
        tstore: ``[B, S, ny, nx]`` T_s of the forward pass.
        p0: ``[B, ny, nx]`` the segment's initial u_prev (for β̄ of step 0).
        acc_a, acc_b, acc_g: ``[B, ny, nx]`` accumulate Σ ν·u_s, Σ ν·u_{s−1}, Σ ν·T_s.
        gp_out: ``[B, ny, nx]`` γ·∂L/∂(output u_prev), added to ν_{S−1}.
    """
    nbatch = v.shape[0]
    nsteps = grec.shape[1]
    ny = al.shape[1]
    nx = al.shape[2]
    r = order // 2
    cidx = np.zeros(nbatch, np.int64)
    if al.shape[0] > 1:
        cidx = np.arange(nbatch)
    four = c2[r] * 0 + 4
    k1 = c2[r + 1]
    k2 = -c2[r + 2] if order == 4 else c2[r] * 0
    k0 = -(c2[r] + c2[r]) if order == 4 else c2[r] * 0
    dummy = tstore[0, 0, 0]
    for bi in prange(nbatch):
        cb = cidx[bi]
        ab = al[cb]
        bb = be[cb]
        gb = ga[cb]
        vv = v[bi]
        ww = w[bi]
        x1 = g1x[bi]
        x1n = g1xa[bi]
        x2 = g2x[bi]
        x2n = g2xa[bi]
        y1 = g1y[bi]
        y1n = g1ya[bi]
        y2 = g2y[bi]
        y2n = g2ya[bi]
        aa = acc_a[bi]
        ba = acc_b[bi]
        ga_ = acc_g[bi]
        for s in range(nsteps - 1, -1, -1):
            # vv = ν_{s+1} is complete: gradients of step s.
            ts = tstore[bi, s]
            for i in range(ny):
                for j in range(nx):
                    ga_[i, j] += vv[i + r, j + r] * ts[i, j]
            if need_ab:
                us = ustore[bi, s]
                for i in range(ny):
                    for j in range(nx):
                        aa[i, j] += vv[i + r, j + r] * us[i, j]
                if s > 0:
                    um = ustore[bi, s - 1]
                    for i in range(ny):
                        for j in range(nx):
                            ba[i, j] += vv[i + r, j + r] * um[i, j]
                else:
                    pm = p0[bi]
                    for i in range(ny):
                        for j in range(nx):
                            ba[i, j] += vv[i + r, j + r] * pm[i, j]
            for k in range(src_r.shape[0]):
                ginj[bi, s, k] = vv[src_r[k] + r, src_c[k] + r]
            # ν_s into ww (which holds ν_{s+2}).
            for i in range(ny):
                lo_i = lo[i]
                hi_i = hi[i]
                for j in range(0, lo_i):
                    _adjoint_general_cell(vv, ww, x1, x1n, x2, x2n, y1, y1n, y2, y2n, ab, bb, gb,
                                          ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j)
                if order == 2:
                    _plain_row2(vv, ww, gb, i, r, lo_i, hi_i, four, dummy, False)
                else:
                    _plain_row4(vv, ww, gb, i, r, lo_i, hi_i, k1, k2, k0, dummy, False)
                for j in range(hi_i, nx):
                    _adjoint_general_cell(vv, ww, x1, x1n, x2, x2n, y1, y1n, y2, y2n, ab, bb, gb,
                                          ax, bx, dbx, ay, by, dby, has_pml, r, c1, c2, i, j)
            if s == nsteps - 1:
                gpo = gp_out[bi]
                for i in range(ny):
                    for j in range(nx):
                        ww[i + r, j + r] += gpo[i, j]
            if s > 0:
                for k in range(prb_r.shape[0]):
                    ww[prb_r[k] + r, prb_c[k] + r] += gb[prb_r[k], prb_c[k]] * grec[bi, s - 1, k]
            vv, ww = ww, vv
            if has_pml:
                x1, x1n = x1n, x1
                x2, x2n = x2n, x2
                y1, y1n = y1n, y1
                y2, y2n = y2n, y2


def stencils(order: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-difference stencils (unscaled by h) of ``order``, length ``order + 1``."""
    if order == 2:
        c1 = [-0.5, 0.0, 0.5]
        c2 = [1.0, -2.0, 1.0]
    else:
        c1 = [1 / 12, -8 / 12, 0.0, 8 / 12, -1 / 12]
        c2 = [-1 / 12, 16 / 12, -30 / 12, 16 / 12, -1 / 12]
    return np.asarray(c1, dtype=dtype), np.asarray(c2, dtype=dtype)
