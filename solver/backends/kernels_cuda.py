"""CUDA kernels (numba.cuda) for the solver's media and their exact adjoints.

* The linear scalar leapfrog: the same scheme, layout and adjoint as :mod:`.kernels_cpu` (read
  its docstring): fields padded by ``H = 2`` zero cells, coefficient maps ``[Bc, ny, nx]``, the
  adjoint in the scaled variable ``ν = γ·μ``. :func:`forward_segment` and
  :func:`adjoint_segment` take the CPU kernels' arguments, so :mod:`.scalar_numba`'s
  checkpointed autograd functions drive either.
* The nonlinear scalar medium (``nl_*``, the scheme of :mod:`.nonlinear_numba`) and the acoustic
  medium without a PML (``ac_*``, of :mod:`.acoustic_numba`), driven by those modules' autograd
  functions.

One thread per cell and batch item. One launch per step does the whole forward step (update,
sources, probes, snapshot and, when asked, the stores the adjoint reads); the adjoint step takes
one to three launches. Many inputs or designs run in one launch through the batch dimension.

Correctness is tested on the CPU with numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``,
``tests/solver/test_cuda_kernels.py``) against the CPU kernels. Not ported yet: the
convolutional PML (the torch backend runs CUDA media with a PML) and multi-step fusion.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

from .nonlinear_numba import law

#: Halo of the padded fields (the 4th-order stencil radius), as in :mod:`.kernels_cpu`.
H = 2
#: Threads per block along the columns and the rows.
BLOCK = (32, 8)


@cuda.jit(device=True, inline=True)
def _lap(a, b, ii, jj, c2, order):  # pragma: no cover - compiled
    """``L u`` of batch item ``b`` at padded cell ``(ii, jj)``, in cell units (order 2 or 4)."""
    out = (c2[H] + c2[H]) * a[b, ii, jj] + c2[H + 1] * (a[b, ii - 1, jj] + a[b, ii + 1, jj]
                                                         + a[b, ii, jj - 1] + a[b, ii, jj + 1])
    if order == 4:
        out += c2[H + 2] * (a[b, ii - 2, jj] + a[b, ii + 2, jj] + a[b, ii, jj - 2]
                            + a[b, ii, jj + 2])
    return out


@cuda.jit
def _step(cur, prev, al, be, ga, order, c2, inj, k, src_r, src_c, rec, prb_r, prb_c,
          store, tstore, store_u, ustore, snap, snaps):  # pragma: no cover - compiled
    """One step: ``prev`` (holding u⁻) becomes u⁺ in place; sources, probes, stores.

    ``snap`` is the snapshot slot this step fills, or −1.
    """
    j, i, b = cuda.grid(3)
    ny, nx = al.shape[1], al.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    cb = b if al.shape[0] > 1 else 0
    ii, jj = i + H, j + H
    c = cur[b, ii, jj]
    lap = _lap(cur, b, ii, jj, c2, order)
    new = al[cb, i, j] * c + be[cb, i, j] * prev[b, ii, jj] + ga[cb, i, j] * lap
    for s in range(src_r.shape[0]):
        if src_r[s] == i and src_c[s] == j:
            new += inj[b, k, s]
    prev[b, ii, jj] = new
    for q in range(prb_r.shape[0]):
        if prb_r[q] == i and prb_c[q] == j:
            rec[b, k, q] = new
    if store:
        tstore[b, k, i, j] = lap
    if store_u:
        ustore[b, k, i, j] = c
    if snap >= 0:
        snaps[b, snap, i, j] = new


@cuda.jit
def _adjoint_step(vv, ww, al, be, ga, order, c2, s, last, ts_all, acc_g, need_ab, us_all,
                  p0, acc_a, acc_b, ginj, src_r, src_c, gp_out, snap, gsnap, grec, prb_r,
                  prb_c):  # pragma: no cover - compiled
    """Step ``s`` of the reverse sweep: ``ww`` (holding ν_{s+2}) becomes ν_s in place.

    ``vv`` holds ν_{s+1}; ``last`` is whether ``s`` is the segment's last step; ``snap`` the
    snapshot slot of step ``s − 1`` (whose gradient enters here), or −1.
    """
    j, i, b = cuda.grid(3)
    ny, nx = al.shape[1], al.shape[2]
    if i >= ny or j >= nx or b >= vv.shape[0]:
        return
    cb = b if al.shape[0] > 1 else 0
    ii, jj = i + H, j + H
    c = vv[b, ii, jj]
    if need_ab:
        acc_a[b, i, j] += c * us_all[b, s, i, j]
        if s > 0:
            acc_b[b, i, j] += c * us_all[b, s - 1, i, j]
        else:
            acc_b[b, i, j] += c * p0[b, i, j]
    for k in range(src_r.shape[0]):
        if src_r[k] == i and src_c[k] == j:
            ginj[b, s, k] = c
    lap = _lap(vv, b, ii, jj, c2, order)
    g = ga[cb, i, j]
    new = al[cb, i, j] * c + be[cb, i, j] * ww[b, ii, jj] + g * lap
    acc_g[b, i, j] += c * ts_all[b, s, i, j]
    if last:
        new += gp_out[b, i, j]
    if snap >= 0:
        new += g * gsnap[b, snap, i, j]
    if s > 0:
        for q in range(prb_r.shape[0]):
            if prb_r[q] == i and prb_c[q] == j:
                new += g * grec[b, s - 1, q]
    ww[b, ii, jj] = new


def _launch(kernel: Any, batch: int, ny: int, nx: int) -> Any:
    """``kernel`` configured for one thread per cell (blocks no larger than the grid)."""
    block = (min(BLOCK[0], nx), min(BLOCK[1], ny), 1)
    grid = (math.ceil(nx / block[0]), math.ceil(ny / block[1]), batch)
    return kernel[grid, block]


def _snapshot_slot(snap_every: int, snap_offset: int, s: int, count: int) -> int:
    """The slot of ``snaps`` step ``s`` fills (as :func:`.kernels_cpu.forward_segment`), or −1."""
    if snap_every <= 0 or (snap_offset + s + 1) % snap_every:
        return -1
    n = (snap_offset + s + 1) // snap_every - 1 - snap_offset // snap_every
    return n if 0 <= n < count else -1


def forward_segment(u, p, q1x, q1xa, q2x, q1y, q1ya, q2y, al, be, ga, damped, xreach, yreach,
                    ax, bx, dbx, ay, by, dby, has_pml, order, c1, c2, inj, src_r, src_c, rec,
                    prb_r, prb_c, store, tstore, store_u, ustore, snap_every, snap_offset,
                    snaps) -> None:
    """:func:`.kernels_cpu.forward_segment` on the GPU (the same arguments, as device arrays)."""
    if has_pml:
        raise NotImplementedError("the CUDA kernels have no CPML yet")
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = al.shape[1], al.shape[2]
    step = _launch(_step, batch, ny, nx)
    a, pp = u, p
    for s in range(steps):
        slot = _snapshot_slot(snap_every, snap_offset, s, snaps.shape[1])
        step(a, pp, al, be, ga, order, c2, inj, s, src_r, src_c, rec, prb_r, prb_c, store,
             tstore, store_u, ustore, slot, snaps)
        a, pp = pp, a


def adjoint_segment(v, w, g1x, g1xa, g2x, g2xa, g1y, g1ya, g2y, g2ya, al, be, ga, damped,
                    xreach, yreach, ax, bx, dbx, ay, by, dby, has_pml, order, c1, c2, grec,
                    prb_r, prb_c, ginj, src_r, src_c, ustore, tstore, p0, need_ab, acc_a, acc_b,
                    acc_g, gp_out, snap_every, snap_offset, gsnap) -> None:
    """:func:`.kernels_cpu.adjoint_segment` on the GPU (the same arguments, as device arrays)."""
    if has_pml:
        raise NotImplementedError("the CUDA kernels have no CPML yet")
    batch, steps = grec.shape[0], grec.shape[1]
    ny, nx = al.shape[1], al.shape[2]
    step = _launch(_adjoint_step, batch, ny, nx)
    vv, ww = v, w
    for s in range(steps - 1, -1, -1):
        # the gradient of step s − 1's snapshot enters ν_{s} (as in the CPU kernel)
        slot = (_snapshot_slot(snap_every, snap_offset, s - 1, gsnap.shape[1]) if s > 0
                else -1)
        step(vv, ww, al, be, ga, order, c2, s, s == steps - 1, tstore, acc_g, need_ab, ustore,
             p0, acc_a, acc_b, ginj, src_r, src_c, gp_out, slot, gsnap, grec, prb_r, prb_c)
        vv, ww = ww, vv


def check_case(has_pml: bool, on_cpu: bool) -> None:
    """Refuse what the CUDA kernels do not run: a PML, or CPU tensors outside the simulator."""
    from ..errors import SolverValueError

    if has_pml or (on_cpu and not simulated()):
        raise SolverValueError(
            "backend='cuda' runs media without a PML (a damping layer or rigid walls) on CUDA "
            "tensors (CPU tensors only under NUMBA_ENABLE_CUDASIM=1); use backend='torch' (or "
            "'auto') otherwise")


def simulated() -> bool:
    """Whether numba's CUDA simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def device_array(x: Any) -> Any:
    """A kernel argument: a torch CUDA tensor viewed in place, a numpy array copied to the GPU.

    Under the simulator, CPU tensors (as numpy views) and numpy arrays as they are.
    """
    # (inputs may be strided views, copied here; every output is allocated contiguous, so
    # ``contiguous()`` returns it itself and the kernels write into it)
    if simulated():
        return x if isinstance(x, np.ndarray) else x.detach().contiguous().numpy()
    if isinstance(x, np.ndarray):
        return cuda.to_device(x)
    return cuda.as_cuda_array(x.detach().contiguous())


# --------------------------------------------------------------------------------------------
# the nonlinear medium (the scheme of :mod:`.nonlinear_numba`; the same arguments)


# the nonlinear law itself is shared with the CPU kernels
_law = cuda.jit(device=True, inline=True)(law)


@cuda.jit
def _nl_step(cur, nxt, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2, order, inj, k, src_r,
             src_c, prb_r, prb_c, rec, store, states, snap, snaps):  # pragma: no cover
    """One nonlinear step: ``nxt`` (holding u⁻) becomes u⁺ in place; sources, probes, stores."""
    j, i, b = cuda.grid(3)
    ny, nx = speed.shape[1], speed.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    m = b if speed.shape[0] > 1 else 0
    ii, jj = i + H, j + H
    c = cur[b, ii, jj]
    al, be, ga, _, _, _, _, _ = _law(c, speed[m, i, j], b_lin[m, i, j], sat[m, i, j],
                                     inv_th[m, i, j], kerr[m, i, j], half_dt, r2)
    new = al * c + be * nxt[b, ii, jj] + ga * _lap(cur, b, ii, jj, c2, order)
    half = half_dt / (half_dt + half_dt)
    for s in range(src_r.shape[0]):
        if src_r[s] == i and src_c[s] == j:
            new += half * al * inj[b, k, s]
    nxt[b, ii, jj] = new
    for q in range(prb_r.shape[0]):
        if prb_r[q] == i and prb_c[q] == j:
            rec[b, k, q] = new
    if store:
        states[b, k + 2, ii, jj] = new
    if snap >= 0:
        snaps[b, snap, i, j] = new


@cuda.jit
def _nl_adjoint_local(cur, nxt, spare, scaled, states, speed, b_lin, sat, inv_th, kerr,
                      half_dt, r2, c2, order, inj, k, src_r, src_c, prb_r, prb_c, g_rec, snap,
                      g_snap, g_speed, g_b_lin, g_sat, g_inv_th, g_kerr,
                      g_inj):  # pragma: no cover - compiled
    """The local part of adjoint step ``k`` (:func:`.nonlinear_numba._adjoint_rows`).

    With the probe, snapshot and source terms of that step; ``L(γ μ)`` follows in
    :func:`_nl_add_lap`.
    """
    j, i, b = cuda.grid(3)
    ny, nx = speed.shape[1], speed.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    m = b if speed.shape[0] > 1 else 0
    ii, jj = i + H, j + H
    a = cur[b, ii, jj]
    for q in range(prb_r.shape[0]):
        if prb_r[q] == i and prb_c[q] == j:
            a += g_rec[b, k, q]
    if snap >= 0:
        a += g_snap[b, snap, i, j]
    cur[b, ii, jj] = a
    u = states[b, k + 1, ii, jj]
    sa, wt, kr = sat[m, i, j], inv_th[m, i, j], kerr[m, i, j]
    al, be, ga, z, sf, c, inv, g = _law(u, speed[m, i, j], b_lin[m, i, j], sa, wt, kr, half_dt,
                                        r2)
    half = half_dt / (half_dt + half_dt)
    one = half + half
    two = one + one
    extra = u - u  # ½·injection entering this cell at step k
    for s in range(src_r.shape[0]):
        if src_r[s] == i and src_c[s] == j:
            g_inj[b, k, s] = half * al * a
            extra += half * inj[b, k, s]
    g_al = a * (u + extra)
    g_be = a * states[b, k, ii, jj]
    g_ga = a * _lap(states[b], k + 1, ii, jj, c2, order)
    g_k = two * inv * inv * (g_be - g_al) - g * inv * inv * g_ga
    g_c = two * c * r2 * inv * g_ga
    g_b = g_k * half_dt
    ds = -two * z * sf * sf
    g_speed[b, i, j] += g_c
    g_b_lin[b, i, j] += g_b
    g_sat[b, i, j] += g_b * sf
    g_inv_th[b, i, j] += g_b * sa * ds * u
    g_kerr[b, i, j] += g_c * u * u
    nxt[b, ii, jj] += al * a + g_b * sa * ds * wt + g_c * kr * two * u
    spare[b, ii, jj] = be * a
    scaled[b, ii, jj] = ga * a


@cuda.jit
def _nl_add_lap(out, x, c2, order):  # pragma: no cover - compiled
    """``out += L x`` over the grid (the adjoint of ``L``)."""
    j, i, b = cuda.grid(3)
    ny, nx = out.shape[1] - 2 * H, out.shape[2] - 2 * H
    if i >= ny or j >= nx or b >= out.shape[0]:
        return
    out[b, i + H, j + H] += _lap(x, b, i + H, j + H, c2, order)


@cuda.jit
def _copy(dst, src):  # pragma: no cover - compiled
    j, i, b = cuda.grid(3)
    if b < dst.shape[0] and i < dst.shape[1] and j < dst.shape[2]:
        dst[b, i, j] = src[b, i, j]


def _zeros_like(x: Any) -> Any:
    """A zero array of ``x``'s shape and dtype where the kernels run."""
    return np.zeros_like(x) if simulated() else cuda.to_device(np.zeros(x.shape, x.dtype))


def nl_forward_segment(work_prev, work_cur, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2,
                       order, inj, src_r, src_c, prb_r, prb_c, rec, store, states, every, t0,
                       snaps) -> None:
    """:func:`.nonlinear_numba.forward_segment` on the GPU.

    u⁻ and u are two padded arrays ``[B, ny+2H, nx+2H]``, advanced in place (after an odd
    number of steps their roles swap).
    """
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = speed.shape[1], speed.shape[2]
    step = _launch(_nl_step, batch, ny, nx)
    buffers = (work_prev, work_cur)
    for k in range(steps):
        slot = _snapshot_slot(every, t0, k, snaps.shape[1])
        step(buffers[(k + 1) % 2], buffers[k % 2], speed, b_lin, sat, inv_th, kerr, half_dt, r2,
             c2, order, inj, k, src_r, src_c, prb_r, prb_c, rec, store, states, slot, snaps)


def nl_adjoint_segment(states, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2, order, inj,
                       src_r, src_c, prb_r, prb_c, g_rec, g_snap, every, t0, a_cur, a_nxt,
                       g_speed, g_b_lin, g_sat, g_inv_th, g_kerr, g_inj) -> None:
    """:func:`.nonlinear_numba.adjoint_segment` on the GPU (``states`` zero-padded)."""
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = speed.shape[1], speed.shape[2]
    local = _launch(_nl_adjoint_local, batch, ny, nx)
    add_lap = _launch(_nl_add_lap, batch, ny, nx)
    cur, nxt = a_cur, a_nxt
    spare, scaled = _zeros_like(a_cur), _zeros_like(a_cur)
    for k in range(steps - 1, -1, -1):
        slot = _snapshot_slot(every, t0, k, g_snap.shape[1])
        local(cur, nxt, spare, scaled, states, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2,
              order, inj, k, src_r, src_c, prb_r, prb_c, g_rec, slot, g_snap, g_speed, g_b_lin,
              g_sat, g_inv_th, g_kerr, g_inj)
        add_lap(nxt, scaled, c2, order)
        # μ of step k's input is complete; the buffers rotate (no copies on the GPU)
        cur, nxt, spare = nxt, spare, cur
    _copy_back(a_cur, a_nxt, cur, nxt)


# --------------------------------------------------------------------------------------------
# the acoustic medium without a PML (the scheme of :mod:`.acoustic_numba`; fields padded by
# ``P = 2R − 1``, the staggered weights ``w`` a small array of length ``R``)


@cuda.jit(device=True, inline=True)
def _ac_dx(x, b, i, k, w):  # pragma: no cover - compiled
    """``(D x)`` on x face ``k`` of cell row ``i`` (see :func:`.acoustic_numba._dx`)."""
    r = w.shape[0]
    p = 2 * r - 1
    d = w[0] * (x[b, i + p, k + r] - x[b, i + p, k + r - 1])
    for m in range(1, r):
        d += w[m] * (x[b, i + p, k + r + m] - x[b, i + p, k + r - 1 - m])
    return d


@cuda.jit(device=True, inline=True)
def _ac_dy(x, b, k, j, w):  # pragma: no cover - compiled
    """``(D x)`` on y face ``k`` of cell column ``j``."""
    r = w.shape[0]
    p = 2 * r - 1
    d = w[0] * (x[b, k + r, j + p] - x[b, k + r - 1, j + p])
    for m in range(1, r):
        d += w[m] * (x[b, k + r + m, j + p] - x[b, k + r - 1 - m, j + p])
    return d


@cuda.jit(device=True, inline=True)
def _ac_l(x, b, fx, fy, bf, i, j, w):  # pragma: no cover - compiled
    """``(L x)`` at cell ``(i, j)`` (see :func:`.acoustic_numba._apply_l`)."""
    r = w.shape[0]
    out = w[0] * (fx[bf, i, j + r] * _ac_dx(x, b, i, j + r, w)
                  - fx[bf, i, j + r - 1] * _ac_dx(x, b, i, j + r - 1, w)
                  + fy[bf, i + r, j] * _ac_dy(x, b, i + r, j, w)
                  - fy[bf, i + r - 1, j] * _ac_dy(x, b, i + r - 1, j, w))
    for m in range(1, r):
        hi, lo = r + m, r - 1 - m
        out += w[m] * (fx[bf, i, j + hi] * _ac_dx(x, b, i, j + hi, w)
                       - fx[bf, i, j + lo] * _ac_dx(x, b, i, j + lo, w)
                       + fy[bf, i + hi, j] * _ac_dy(x, b, i + hi, j, w)
                       - fy[bf, i + lo, j] * _ac_dy(x, b, i + lo, j, w))
    return out


@cuda.jit
def _ac_step(prev, cur, nxt, alpha, beta, gamma, fx, fy, gain, inj, k, src_r, src_c, prb_r,
             prb_c, rec, store, states, snap, snaps, w):  # pragma: no cover - compiled
    """One acoustic step: ``nxt`` = α cur + β prev + γ L cur, then sources, probes, stores."""
    j, i, b = cuda.grid(3)
    ny, nx = alpha.shape[1], alpha.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    r = w.shape[0]
    p = 2 * r - 1
    bc = b if alpha.shape[0] > 1 else 0
    bf = b if fx.shape[0] > 1 else 0
    bg = b if gain.shape[0] > 1 else 0
    new = (alpha[bc, i, j] * cur[b, i + p, j + p] + beta[bc, i, j] * prev[b, i + p, j + p]
           + gamma[bc, i, j] * _ac_l(cur, b, fx, fy, bf, i, j, w))
    half = w[0] / (w[0] + w[0])
    for s in range(src_r.shape[0]):
        if src_r[s] == i and src_c[s] == j:
            new += half * gain[bg, s] * inj[b, k, s]
    nxt[b, i + p, j + p] = new
    for q in range(prb_r.shape[0]):
        if prb_r[q] == i and prb_c[q] == j:
            rec[b, k, q] = new
    if store:
        states[b, k + 2, i + p, j + p] = new
    if snap >= 0:
        snaps[b, snap, i, j] = new


@cuda.jit
def _ac_adjoint_seed(cur, scaled, gamma, gain, inj, k, src_r, src_c, prb_r, prb_c, g_rec, snap,
                     g_snap, g_inj, g_gain, w):  # pragma: no cover - compiled
    """Adjoint step ``k``, first pass: μ of the step's output complete, ``γ μ``, source terms."""
    j, i, b = cuda.grid(3)
    ny, nx = gamma.shape[1], gamma.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    p = 2 * w.shape[0] - 1
    bc = b if gamma.shape[0] > 1 else 0
    bg = b if gain.shape[0] > 1 else 0
    a = cur[b, i + p, j + p]
    for q in range(prb_r.shape[0]):
        if prb_r[q] == i and prb_c[q] == j:
            a += g_rec[b, k, q]
    if snap >= 0:
        a += g_snap[b, snap, i, j]
    cur[b, i + p, j + p] = a
    half = w[0] / (w[0] + w[0])
    for s in range(src_r.shape[0]):
        if src_r[s] == i and src_c[s] == j:
            g_inj[b, k, s] = half * gain[bg, s] * a
            g_gain[b, s] += half * inj[b, k, s] * a
    scaled[b, i + p, j + p] = gamma[bc, i, j] * a


@cuda.jit
def _ac_adjoint_cells(cur, nxt, spare, scaled, states, k, alpha, beta, fx, fy, g_alpha, g_beta,
                      g_gamma, w):  # pragma: no cover - compiled
    """Second pass: the coefficient gradients; μ of the input += α μ + L(γ μ); β μ aside."""
    j, i, b = cuda.grid(3)
    ny, nx = alpha.shape[1], alpha.shape[2]
    if i >= ny or j >= nx or b >= cur.shape[0]:
        return
    p = 2 * w.shape[0] - 1
    bc = b if alpha.shape[0] > 1 else 0
    bf = b if fx.shape[0] > 1 else 0
    x = states[b]  # (segment time, row, column)
    a = cur[b, i + p, j + p]
    g_alpha[b, i, j] += a * x[k + 1, i + p, j + p]
    g_beta[b, i, j] += a * x[k, i + p, j + p]
    g_gamma[b, i, j] += a * _ac_l(x, k + 1, fx, fy, bf, i, j, w)
    nxt[b, i + p, j + p] += alpha[bc, i, j] * a + _ac_l(scaled, b, fx, fy, bf, i, j, w)
    spare[b, i + p, j + p] = beta[bc, i, j] * a


@cuda.jit
def _ac_adjoint_faces(scaled, states, k, g_fx, g_fy, w):  # pragma: no cover - compiled
    """Third pass: ``d(a·L x)/d(face value) = −(D a)(D x)`` on every x and y face."""
    f, i, b = cuda.grid(3)
    if b >= scaled.shape[0]:
        return
    x = states[b]
    if i < g_fx.shape[1] and f < g_fx.shape[2]:
        g_fx[b, i, f] -= _ac_dx(scaled, b, i, f, w) * _ac_dx(x, k + 1, i, f, w)
    if i < g_fy.shape[1] and f < g_fy.shape[2]:
        g_fy[b, i, f] -= _ac_dy(scaled, b, i, f, w) * _ac_dy(x, k + 1, i, f, w)


def ac_forward_segment(work, alpha, beta, gamma, fx, fy, gain, inj, src_r, src_c, prb_r, prb_c,
                       rec, store, states, every, t0, snaps, w) -> None:
    """:func:`.acoustic_numba._forward` on the GPU (``work`` a tuple of its three slots)."""
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = alpha.shape[1], alpha.shape[2]
    step = _launch(_ac_step, batch, ny, nx)
    for k in range(steps):
        slot = _snapshot_slot(every, t0, k, snaps.shape[1])
        step(work[k % 3], work[(k + 1) % 3], work[(k + 2) % 3], alpha, beta, gamma, fx, fy, gain,
             inj, k, src_r, src_c, prb_r, prb_c, rec, store, states, slot, snaps, w)


def ac_adjoint_segment(states, alpha, beta, gamma, fx, fy, gain, inj, src_r, src_c, prb_r,
                       prb_c, g_rec, g_snap, every, t0, a_cur, a_nxt, g_alpha, g_beta, g_gamma,
                       g_fx, g_fy, g_gain, g_inj, w) -> None:
    """:func:`.acoustic_numba._adjoint` on the GPU (``states`` zero-padded)."""
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = alpha.shape[1], alpha.shape[2]
    seed = _launch(_ac_adjoint_seed, batch, ny, nx)
    cells = _launch(_ac_adjoint_cells, batch, ny, nx)
    faces = _launch(_ac_adjoint_faces, batch, max(g_fx.shape[1], g_fy.shape[1]),
                    max(g_fx.shape[2], g_fy.shape[2]))
    cur, nxt = a_cur, a_nxt
    spare, scaled = _zeros_like(a_cur), _zeros_like(a_cur)
    for k in range(steps - 1, -1, -1):
        slot = _snapshot_slot(every, t0, k, g_snap.shape[1])
        seed(cur, scaled, gamma, gain, inj, k, src_r, src_c, prb_r, prb_c, g_rec, slot, g_snap,
             g_inj, g_gain, w)
        cells(cur, nxt, spare, scaled, states, k, alpha, beta, fx, fy, g_alpha, g_beta, g_gamma,
              w)
        faces(scaled, states, k, g_fx, g_fy, w)
        cur, nxt, spare = nxt, spare, cur
    _copy_back(a_cur, a_nxt, cur, nxt)


def _copy_back(a_cur: Any, a_nxt: Any, cur: Any, nxt: Any) -> None:
    """Put the rotated buffers ``cur``/``nxt`` back into the caller's ``a_cur``/``a_nxt``."""
    if cur is a_cur:
        return
    batch, rows, cols = a_cur.shape
    first, second = _zeros_like(a_cur), _zeros_like(a_cur)
    whole = _launch(_copy, batch, rows, cols)
    whole(first, cur)
    whole(second, nxt)
    whole(a_cur, first)
    whole(a_nxt, second)
