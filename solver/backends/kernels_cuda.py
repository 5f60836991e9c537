"""CUDA kernels (numba.cuda) for the linear scalar leapfrog and its exact adjoint.

The same scheme, layout and adjoint as :mod:`.kernels_cpu` (read its docstring): fields padded
by ``H = 2`` zero cells, coefficient maps ``[Bc, ny, nx]``, the adjoint in the scaled variable
``ν = γ·μ``. :func:`forward_segment` and :func:`adjoint_segment` take the CPU kernels' arguments,
so :mod:`.scalar_numba`'s checkpointed autograd functions drive either.

One thread per cell and batch item; one launch per step does the whole step: the update, the
sources, the probes, the snapshot, and (when asked) the stores the adjoint reads. Many inputs or
designs run in one launch through the batch dimension.

Correctness is tested on the CPU with numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``,
``tests/solver/test_cuda_kernels.py``) against the CPU kernels; the convolutional PML is not
ported yet (the torch backend runs CUDA media with a PML).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

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


def simulated() -> bool:
    """Whether numba's CUDA simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def device_array(x: Any) -> Any:
    """A kernel argument: a torch CUDA tensor viewed in place, a numpy array copied to the GPU.

    Under the simulator, CPU tensors (as numpy views) and numpy arrays as they are.
    """
    if simulated():
        return x if isinstance(x, np.ndarray) else x.detach().numpy()
    if isinstance(x, np.ndarray):
        return cuda.to_device(x)
    return cuda.as_cuda_array(x.detach())
