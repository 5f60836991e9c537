"""Fused multi-step CPU kernels (numba) for the linear scalar leapfrog and its exact adjoint.

One call advances a whole segment of steps, so Python runs once per segment, not once per step.
Each batch item is advanced by one thread with no synchronization between steps.

Layout: every state array is ``[B, ny + 2H, nx + 2H]`` with a zero halo of ``H = 2``
cells, so stencils need no bounds checks (the halo is the rigid ``u = 0`` wall outside the grid).
Coefficient maps are ``[Bc, ny, nx]`` with ``Bc`` 1 (shared) or B. PML profiles are 1D, padded by
``r``, zero outside the layer.

Step ``s`` (per cell, in cell units; see :mod:`wavefab.solver.scalar` for the derivation)::

    P_x  = (1 + b_x)·D2x u + db_x·D1x u + D1x(a_x ψ1x)
    T_x  = (1 + b_x)·P_x + a_x ψ2x               ψ1x ← a_x ψ1x + b_x D1x u,  ψ2x ← a_x ψ2x + b_x P_x
    u'   = α u + β u_prev + γ (T_x + T_y) + injection

Every row is swept whole with ``α u + β u_prev + γ·L u`` (rows without damping use the constants
α = 2, β = −1 and read no coefficient but γ); cells whose stencil reaches the PML then get the
correction ``γ·(T − L u)`` in a second pass over the strips.

The adjoint runs in the scaled variable ``ν = γ·μ`` (μ the true adjoint of u). Outside the PML the
adjoint recursion in ν is the forward recursion itself; the PML cells are corrected with the
transposed operators (``D2ᵀ = D2``, ``D1ᵀ = −D1`` with the zero halo).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import prange

# Strict IEEE arithmetic, no fastmath: with reassociation or contraction allowed, LLVM orders
# the sums differently when it compiles a kernel fresh than when numba loads it from its cache,
# so a cold cache gave a different design than a warm one (measured: about 1e-6 in the first
# loss). Strict math costs about 3 % on the fused CPU step and makes every run reproducible.
_FASTMATH = False
# Per-row helpers are inlined at numba's IR level: a real call per row passes array structs
# whose reference counts two threads then fight over.
_jit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, inline="always")

#: Halo width of every padded array, and the stencil radius all loops are written for (the
#: 2nd-order stencils of :func:`wavefab.solver.operators.stencils` are zero-padded to it), so
#: loops over the stencil unroll at compile time.
H = 2
_pjit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, parallel=True)


# --------------------------------------------------------------------------------------------
# Whole-row updates. Every row is swept over all of its columns (a fixed ``range(nx)`` is what
# LLVM vectorizes well); PML cells are then corrected in a second, short pass over the strips.


@_jit
def _row(a, pp, ab, bb, gb, i, order, nx, c2, damped, trow, store):
    """New field over row ``i``: ``α u + β u_prev + γ·L u`` (α = 2, β = −1 unless ``damped``).

    Each variant is its own loop: a store guarded inside the loop stops LLVM vectorizing it.
    """
    ii = i + H
    k1 = c2[H + 1]
    k2 = -c2[H + 2]
    k0 = -(c2[H] + c2[H])  # 4 for order 2, 60/12 for order 4; typed like the arrays
    if order == 2:
        if damped and store:
            for jc in range(nx):
                j = jc + H
                lap = a[ii - 1, j] + a[ii + 1, j] + a[ii, j - 1] + a[ii, j + 1] - k0 * a[ii, j]
                pp[ii, j] = ab[i, jc] * a[ii, j] + bb[i, jc] * pp[ii, j] + gb[i, jc] * lap
                trow[jc] = lap
        elif damped:
            for jc in range(nx):
                j = jc + H
                lap = a[ii - 1, j] + a[ii + 1, j] + a[ii, j - 1] + a[ii, j + 1] - k0 * a[ii, j]
                pp[ii, j] = ab[i, jc] * a[ii, j] + bb[i, jc] * pp[ii, j] + gb[i, jc] * lap
        elif store:
            for jc in range(nx):
                j = jc + H
                c = a[ii, j]
                lap = a[ii - 1, j] + a[ii + 1, j] + a[ii, j - 1] + a[ii, j + 1] - k0 * c
                pp[ii, j] = c + c - pp[ii, j] + gb[i, jc] * lap
                trow[jc] = lap
        else:
            for jc in range(nx):
                j = jc + H
                c = a[ii, j]
                lap = a[ii - 1, j] + a[ii + 1, j] + a[ii, j - 1] + a[ii, j + 1] - k0 * c
                pp[ii, j] = c + c - pp[ii, j] + gb[i, jc] * lap
    else:
        for jc in range(nx):
            j = jc + H
            c = a[ii, j]
            lap = (k1 * (a[ii - 1, j] + a[ii + 1, j] + a[ii, j - 1] + a[ii, j + 1])
                   - k2 * (a[ii - 2, j] + a[ii + 2, j] + a[ii, j - 2] + a[ii, j + 2]) - k0 * c)
            if damped:
                pp[ii, j] = ab[i, jc] * c + bb[i, jc] * pp[ii, j] + gb[i, jc] * lap
            else:
                pp[ii, j] = c + c - pp[ii, j] + gb[i, jc] * lap
            if store:
                trow[jc] = lap


# The x and y strips are written out separately (and so are their adjoints): a
# direction-generic version with indices i ± k·di, j ± k·dj did not vectorize.


@_jit
def _pml_x(a, q1, q1n, q2, pa, pb, pdb, pp, gb, c1, c2, i, j0, j1, trow, R):
    """x-PML over columns ``[j0, j1)`` of row ``i``: advance ψ1x, ψ2x; add γ·(T_x − D2x u)."""
    ii = i + H
    zero = c2[H] - c2[H]  # typed like the arrays: an int literal would promote to float64
    one = zero + np.float32(1.0)
    # Unsigned indices: numba wraps negative signed indices, and that check (the start j0 is
    # not provably ≥ 0) stops LLVM vectorizing the loop.
    uh = np.uint64(H)
    for jc in range(j1 - j0):
        j = np.uint64(j0) + np.uint64(jc)
        jj = j + uh
        d2 = c2[H] * a[ii, jj]
        d1 = zero
        dq = zero
        for k in range(1, R + 1):
            uk = np.uint64(k)
            d2 += c2[H + k] * (a[ii, jj - uk] + a[ii, jj + uk])
            d1 += c1[H + k] * (a[ii, jj + uk] - a[ii, jj - uk])
            dq += c1[H + k] * (pa[jj + uk] * q1[ii, jj + uk] - pa[jj - uk] * q1[ii, jj - uk])
        pm = (one + pb[jj]) * d2 + pdb[jj] * d1 + dq
        d = (one + pb[jj]) * pm + pa[jj] * q2[ii, jj] - d2
        q1n[ii, jj] = pa[jj] * q1[ii, jj] + pb[jj] * d1
        q2[ii, jj] = pa[jj] * q2[ii, jj] + pb[jj] * pm
        pp[ii, jj] += gb[i, j] * d
        trow[j] += d  # unconditional: a guarded store stops vectorization (scratch if unused)


@_jit
def _pml_y(a, q1, q1n, q2, pa, pb, pdb, pp, gb, c1, c2, i, nx, trow, R):
    """y-PML over all of row ``i``: advance ψ1y, ψ2y; add γ·(T_y − D2y u)."""
    ii = i + H
    zero = c2[H] - c2[H]  # typed like the arrays: an int literal would promote to float64
    one = zero + np.float32(1.0)
    b0 = pb[ii]
    a0 = pa[ii]
    db0 = pdb[ii]
    for j in range(nx):
        jj = j + H
        d2 = c2[H] * a[ii, jj]
        d1 = zero
        dq = zero
        for k in range(1, R + 1):
            d2 += c2[H + k] * (a[ii - k, jj] + a[ii + k, jj])
            d1 += c1[H + k] * (a[ii + k, jj] - a[ii - k, jj])
            dq += c1[H + k] * (pa[ii + k] * q1[ii + k, jj] - pa[ii - k] * q1[ii - k, jj])
        pm = (one + b0) * d2 + db0 * d1 + dq
        d = (one + b0) * pm + a0 * q2[ii, jj] - d2
        q1n[ii, jj] = a0 * q1[ii, jj] + b0 * d1
        q2[ii, jj] = a0 * q2[ii, jj] + b0 * pm
        pp[ii, jj] += gb[i, j] * d
        trow[j] += d  # unconditional: a guarded store stops vectorization (scratch if unused)


# The x strips are a real call once per step, not inlined into the step: inlined, LLVM
# vectorized their short column loops far worse (measured on P1 with a CPML: the x strips took
# 29 ms of a 40 ms forward segment inlined, 9 ms of 20 ms called). One call per step and batch
# item keeps the reference-count traffic of passing arrays negligible.
_call = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True)


@_call
def _pml_x_strips(a, q1, q1n, q2, pa, pb, pdb, pp, gb, c1, c2, ny, nx, xreach, xright, tst,
                  store, R):
    """Both x-PML strips of every row (after the row pass; ``tst`` rows take T when storing)."""
    for i in range(ny):
        trow = tst[i] if store else tst[0]
        _pml_x(a, q1, q1n, q2, pa, pb, pdb, pp, gb, c1, c2, i, 0, xreach, trow, R)
        _pml_x(a, q1, q1n, q2, pa, pb, pdb, pp, gb, c1, c2, i, xright, nx, trow, R)



@_pjit
def forward_segment(u, p, q1x, q1xa, q2x, q1y, q1ya, q2y,
                    al, be, ga, damped, xreach, yreach, ax, bx, dbx, ay, by, dby, has_pml,
                    order, c1, c2, inj, src_r, src_c, rec, prb_r, prb_c,
                    store, tstore, store_u, ustore, snap_every, snap_offset, snaps):
    """Advance ``inj.shape[1]`` steps in place; the new state ends in the swapped buffers.

    After an odd number of steps the current field is in ``p`` and the previous one in ``u`` (and
    ψ1 in the ``*a`` buffers); the caller tracks the parity.

    Args:
        u, p, q1x, q1xa, q2x, q1y, q1ya, q2y: padded state ``[B, ny+2r, nx+2r]``.
        al, be, ga: update coefficients ``[Bc, ny, nx]``.
        damped: ``[ny]`` bool, row has cells with α ≠ 2 or β ≠ −1.
        xreach: columns from each side whose stencil reaches the x-PML; yreach: rows likewise.
        ax, bx, dbx / ay, by, dby: padded PML profiles (zeros when ``has_pml`` is False).
        order: 2 or 4; c1, c2: first/second-difference stencils, length ``order + 1``.
        inj: ``[B, S, Ks]`` values added to u' at ``(src_r, src_c)`` after each step.
        rec: ``[B, S, Kp]`` receives u' at ``(prb_r, prb_c)`` after each step.
        store: keep T of each step in ``tstore[B, S, ny, nx]`` (for the adjoint).
        store_u: keep u before each step in ``ustore[B, S, ny, nx]`` (for damping gradients).
        snap_every, snap_offset, snaps: copy u' into ``snaps[B, n]`` when the global step
            ``snap_offset + s + 1`` is a multiple of ``snap_every`` (0 = never); ``snaps`` holds
            this call's snapshots only (``n`` counts from the first one after ``snap_offset``).
    """
    nbatch = u.shape[0]
    nsteps = inj.shape[1]
    ny = al.shape[1]
    nx = al.shape[2]
    r = H
    xright = max(xreach, nx - xreach)  # on narrow grids the two x strips meet: no cell twice
    cidx = np.zeros(nbatch, np.int64)
    if al.shape[0] > 1:
        cidx = np.arange(nbatch)
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
        trow = np.zeros(nx, u.dtype)  # scratch row unless storing
        scratch = np.zeros((1, nx), u.dtype)
        for s in range(nsteps):
            if store_u:
                us = ustore[bi, s]
                for i in range(ny):
                    for j in range(nx):
                        us[i, j] = a[i + r, j + r]
            for i in range(ny):
                if store:
                    trow = tstore[bi, s, i]
                _row(a, pp, ab, bb, gb, i, order, nx, c2, damped[i], trow, store)
                # the y strip's correction (the stencil radius a literal in each branch, so
                # that its loops unroll); the x strips follow once the rows are done
                if has_pml and (i < yreach or i >= ny - yreach):
                    if order == 2:
                        _pml_y(a, y1, y1n, y2, ay, by, dby, pp, gb, c1, c2, i, nx, trow, 1)
                    else:
                        _pml_y(a, y1, y1n, y2, ay, by, dby, pp, gb, c1, c2, i, nx, trow, 2)
            if has_pml:
                tst = tstore[bi, s] if store else scratch
                if order == 2:
                    _pml_x_strips(a, x1, x1n, x2, ax, bx, dbx, pp, gb, c1, c2, ny, nx, xreach,
                                  xright, tst, store, 1)
                else:
                    _pml_x_strips(a, x1, x1n, x2, ax, bx, dbx, pp, gb, c1, c2, ny, nx, xreach,
                                  xright, tst, store, 2)
            for k in range(src_r.shape[0]):
                pp[src_r[k] + r, src_c[k] + r] += inj[bi, s, k]
            for k in range(prb_r.shape[0]):
                rec[bi, s, k] = pp[prb_r[k] + r, prb_c[k] + r]
            if snap_every > 0 and (snap_offset + s + 1) % snap_every == 0:
                n = (snap_offset + s + 1) // snap_every - 1 - snap_offset // snap_every
                if 0 <= n < snaps.shape[1]:
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
def _adjoint_pml_x(v, g1, g1n, g2, g2n, pa, pb, pdb, w, gb, c1, c2, i, j0, j1, R):
    """Transposed x-PML over columns ``[j0, j1)`` of row ``i``.

    With P̄ = (1+b)·ν' + b·ψ̄2', d̄2 = (1+b)·P̄, d̄1 = db·P̄ + b·ψ̄1', the transposed operator is
    ``D2(d̄2) − D1(d̄1)`` (``D2ᵀ = D2``, ``D1ᵀ = −D1``); adds γ·(that − D2x ν') to ν_s and writes
    the new ψ̄1x = a·(ψ̄1x' − D1 P̄), ψ̄2x = a·(ψ̄2x' + ν').
    """
    ii = i + H
    zero = c2[H] - c2[H]  # typed like the arrays: an int literal would promote to float64
    one = zero + np.float32(1.0)
    # Unsigned indices: numba wraps negative signed indices, and that check (the start j0 is
    # not provably ≥ 0) stops LLVM vectorizing the loop.
    uh = np.uint64(H)
    for jc in range(j1 - j0):
        j = np.uint64(j0) + np.uint64(jc)
        jj = j + uh
        pc = (one + pb[jj]) * v[ii, jj] + pb[jj] * g2[ii, jj]
        lt = c2[H] * (one + pb[jj]) * pc
        lv = c2[H] * v[ii, jj]
        dp = zero
        for k in range(1, R + 1):
            uk = np.uint64(k)
            mm = jj - uk
            mp = jj + uk
            lv += c2[H + k] * (v[ii, mm] + v[ii, mp])
            pmn = (one + pb[mm]) * v[ii, mm] + pb[mm] * g2[ii, mm]
            ppl = (one + pb[mp]) * v[ii, mp] + pb[mp] * g2[ii, mp]
            lt += c2[H + k] * ((one + pb[mm]) * pmn + (one + pb[mp]) * ppl)
            lt -= c1[H + k] * ((pdb[mp] * ppl + pb[mp] * g1[ii, mp])
                               - (pdb[mm] * pmn + pb[mm] * g1[ii, mm]))
            dp += c1[H + k] * (ppl - pmn)
        g1n[ii, jj] = pa[jj] * (g1[ii, jj] - dp)
        g2n[ii, jj] = pa[jj] * (g2[ii, jj] + v[ii, jj])
        w[ii, jj] += gb[i, j] * (lt - lv)


@_jit
def _adjoint_pml_y(v, g1, g1n, g2, g2n, pa, pb, pdb, w, gb, c1, c2, i, nx, R):
    """Transposed y-PML over all of row ``i`` (see :func:`_adjoint_pml_x`)."""
    ii = i + H
    zero = c2[H] - c2[H]  # typed like the arrays: an int literal would promote to float64
    one = zero + np.float32(1.0)
    for j in range(nx):
        jj = j + H
        pc = (one + pb[ii]) * v[ii, jj] + pb[ii] * g2[ii, jj]
        lt = c2[H] * (one + pb[ii]) * pc
        lv = c2[H] * v[ii, jj]
        dp = zero
        for k in range(1, R + 1):
            mm = ii - k
            mp = ii + k
            lv += c2[H + k] * (v[mm, jj] + v[mp, jj])
            pmn = (one + pb[mm]) * v[mm, jj] + pb[mm] * g2[mm, jj]
            ppl = (one + pb[mp]) * v[mp, jj] + pb[mp] * g2[mp, jj]
            lt += c2[H + k] * ((one + pb[mm]) * pmn + (one + pb[mp]) * ppl)
            lt -= c1[H + k] * ((pdb[mp] * ppl + pb[mp] * g1[mp, jj])
                               - (pdb[mm] * pmn + pb[mm] * g1[mm, jj]))
            dp += c1[H + k] * (ppl - pmn)
        g1n[ii, jj] = pa[ii] * (g1[ii, jj] - dp)
        g2n[ii, jj] = pa[ii] * (g2[ii, jj] + v[ii, jj])
        w[ii, jj] += gb[i, j] * (lt - lv)


@_jit
def _adjoint_row(v, w, ab, bb, gb, i, order, nx, c2, damped, ts, acc):
    """ν_s = α ν' + β ν'' + γ·L ν' over row ``i``, accumulating Σ ν'·T_s into ``acc``."""
    ii = i + H
    k1 = c2[H + 1]
    k2 = -c2[H + 2]
    k0 = -(c2[H] + c2[H])
    if order == 2:
        if damped:
            for jc in range(nx):
                j = jc + H
                c = v[ii, j]
                lap = v[ii - 1, j] + v[ii + 1, j] + v[ii, j - 1] + v[ii, j + 1] - k0 * c
                w[ii, j] = ab[i, jc] * c + bb[i, jc] * w[ii, j] + gb[i, jc] * lap
                acc[i, jc] += c * ts[i, jc]
        else:
            for jc in range(nx):
                j = jc + H
                c = v[ii, j]
                lap = v[ii - 1, j] + v[ii + 1, j] + v[ii, j - 1] + v[ii, j + 1] - k0 * c
                w[ii, j] = c + c - w[ii, j] + gb[i, jc] * lap
                acc[i, jc] += c * ts[i, jc]
    else:
        for jc in range(nx):
            j = jc + H
            c = v[ii, j]
            lap = (k1 * (v[ii - 1, j] + v[ii + 1, j] + v[ii, j - 1] + v[ii, j + 1])
                   - k2 * (v[ii - 2, j] + v[ii + 2, j] + v[ii, j - 2] + v[ii, j + 2]) - k0 * c)
            if damped:
                w[ii, j] = ab[i, jc] * c + bb[i, jc] * w[ii, j] + gb[i, jc] * lap
            else:
                w[ii, j] = c + c - w[ii, j] + gb[i, jc] * lap
            acc[i, jc] += c * ts[i, jc]


@_call
def _adjoint_pml_x_strips(v, g1, g1n, g2, g2n, pa, pb, pdb, w, gb, c1, c2, ny, nx, xreach,
                          xright, R):
    """The transposed x-PML corrections of every row (see :func:`_pml_x_strips`)."""
    for i in range(ny):
        _adjoint_pml_x(v, g1, g1n, g2, g2n, pa, pb, pdb, w, gb, c1, c2, i, 0, xreach, R)
        _adjoint_pml_x(v, g1, g1n, g2, g2n, pa, pb, pdb, w, gb, c1, c2, i, xright, nx, R)


@_pjit
def adjoint_segment(v, w, g1x, g1xa, g2x, g2xa, g1y, g1ya, g2y, g2ya,
                    al, be, ga, damped, xreach, yreach, ax, bx, dbx, ay, by, dby, has_pml,
                    order, c1, c2, grec, prb_r, prb_c, ginj, src_r, src_c,
                    ustore, tstore, p0, need_ab, acc_a, acc_b, acc_g, gp_out,
                    snap_every, snap_offset, gsnap):
    """Run the adjoint of :func:`forward_segment` backwards over its ``S`` steps, in place.

    On entry ``v`` holds ν_S = γ·(∂L/∂u_S + probe gradient of the last step), ``w`` zeros and the
    ψ̄ buffers the gradients of the final memory fields. On exit (after the caller's parity
    bookkeeping) ``v`` holds ν_0 and ``w`` ν_1.

    Args:
        grec: ``[B, S, Kp]`` gradient of the recorded probe values.
        ginj: ``[B, S, Ks]`` receives ν at the source cells (the caller divides by γ).
        ustore: ``[B, S, ny, nx]`` u_s of the forward pass (read only when ``need_ab``).
        tstore: ``[B, S, ny, nx]`` T_s of the forward pass.
        p0: ``[B, ny, nx]`` the segment's initial u_prev (for β̄ of step 0).
        acc_a, acc_b, acc_g: ``[B, ny, nx]`` accumulate Σ ν·u_s, Σ ν·u_{s−1}, Σ ν·T_s.
        gp_out: ``[B, ny, nx]`` γ·∂L/∂(output u_prev), added to ν_{S−1}.
        snap_every, snap_offset, gsnap: gradient of this segment's snapshots (numbered as in
            :func:`forward_segment`), added (×γ) to ν at the snapshot steps.
    """
    nbatch = v.shape[0]
    nsteps = grec.shape[1]
    ny = al.shape[1]
    nx = al.shape[2]
    r = H
    xright = max(xreach, nx - xreach)  # on narrow grids the two x strips meet: no cell twice
    cidx = np.zeros(nbatch, np.int64)
    if al.shape[0] > 1:
        cidx = np.arange(nbatch)
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
            # vv = ν_{s+1} is complete: gradients of step s (Σ ν·T_s is fused into the sweep).
            ts = tstore[bi, s]
            if need_ab:
                us = ustore[bi, s]
                um = ustore[bi, s - 1] if s > 0 else p0[bi]
                for i in range(ny):
                    for j in range(nx):
                        aa[i, j] += vv[i + r, j + r] * us[i, j]
                        ba[i, j] += vv[i + r, j + r] * um[i, j]
            for k in range(src_r.shape[0]):
                ginj[bi, s, k] = vv[src_r[k] + r, src_c[k] + r]
            # ν_s into ww (which holds ν_{s+2}): the forward recursion, then the PML correction.
            for i in range(ny):
                _adjoint_row(vv, ww, ab, bb, gb, i, order, nx, c2, damped[i], ts, ga_)
                if has_pml and (i < yreach or i >= ny - yreach):  # as in the forward
                    if order == 2:
                        _adjoint_pml_y(vv, y1, y1n, y2, y2n, ay, by, dby, ww, gb, c1, c2, i, nx, 1)
                    else:
                        _adjoint_pml_y(vv, y1, y1n, y2, y2n, ay, by, dby, ww, gb, c1, c2, i, nx, 2)
            if has_pml:
                if order == 2:
                    _adjoint_pml_x_strips(vv, x1, x1n, x2, x2n, ax, bx, dbx, ww, gb, c1, c2, ny,
                                          nx, xreach, xright, 1)
                else:
                    _adjoint_pml_x_strips(vv, x1, x1n, x2, x2n, ax, bx, dbx, ww, gb, c1, c2, ny,
                                          nx, xreach, xright, 2)
            if s == nsteps - 1:
                gpo = gp_out[bi]
                for i in range(ny):
                    for j in range(nx):
                        ww[i + r, j + r] += gpo[i, j]
            if s > 0 and snap_every > 0 and (snap_offset + s) % snap_every == 0:
                n = (snap_offset + s) // snap_every - 1 - snap_offset // snap_every
                if 0 <= n < gsnap.shape[1]:
                    gs = gsnap[bi, n]
                    for i in range(ny):
                        for j in range(nx):
                            ww[i + r, j + r] += gb[i, j] * gs[i, j]
            if s > 0:
                for k in range(prb_r.shape[0]):
                    ww[prb_r[k] + r, prb_c[k] + r] += gb[prb_r[k], prb_c[k]] * grec[bi, s - 1, k]
            vv, ww = ww, vv
            if has_pml:
                x1, x1n = x1n, x1
                x2, x2n = x2n, x2
                y1, y1n = y1n, y1
                y2, y2n = y2n, y2

