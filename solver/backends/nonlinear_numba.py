"""Fused CPU kernels (numba) for the reference nonlinear scalar medium, with its exact adjoint.

The material law of :class:`~wavefab.solver.Nonlinearity` makes the leapfrog coefficients depend
on the field of the step (cell units, ``r² = dt²/h²``, ``A = ρ·b0``, ``W = 1/u_th``,
``C = ρ·c_nl``; ρ the material fraction)::

    b = b_lin + A / (1 + (u W)²)        c = c_lin + C u²        k = b dt / 2
    α = 2 / (1 + k)    β = −(1 − k) / (1 + k)    γ = c² r² / (1 + k)
    u⁺ = α u + β u⁻ + γ·L u,   then u⁺[src] += ½·α[src]·injection

with ``L`` the 2nd- or 4th-order Laplacian (zero beyond the grid). The torch backend's
:meth:`_TorchStepper.coefficients` is the same law; the maps ``A``, ``W`` and ``C`` are formed in
torch before the kernels, so autograd carries their gradients back to ρ, b0, u_th and c_nl.

The adjoint runs backwards over each checkpoint segment with the states of its steps recomputed
and stored. With ``μ`` the adjoint of ``u⁺`` at step ``s``: ``μ_s = α μ + L(γ μ) + β_{s+1} μ'' +
μ·∂(α u + β u⁻ + γ L u + ½α inj)/∂u|_coefficients`` (``L`` is symmetric). CPML media take the
torch path; a damping layer or rigid walls run here.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import torch
from numba import prange
from torch import Tensor

from .._setup import ScalarSetup, segment_length
from ..errors import SolverValueError
from ..operators import stencils
from ..threads import kernel_section

# Strict IEEE arithmetic, for the reason given in kernels_cpu: fastmath made a cold numba cache
# give different results from a warm one.
_FASTMATH = False
_pjit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, parallel=True)
_jit = nb.njit(fastmath=_FASTMATH, cache=True, nogil=True, inline="always")

#: The halo of every padded field: the 4th-order radius.
H = 2
#: The maps the kernels read, in order: linear speed, linear damping, ρ·b0, 1/u_th, ρ·c_nl.
MAPS = ("speed", "b_lin", "sat", "inv_th", "kerr")


@_jit
def _lap(x, ii, jj, c2, R):  # pragma: no cover - compiled
    """``(L x)`` at padded cell ``(ii, jj)``; ``R`` (a literal at each call) the radius."""
    out = (c2[H] + c2[H]) * x[ii, jj]
    for k in range(1, R + 1):
        out += c2[H + k] * (x[ii - k, jj] + x[ii + k, jj] + x[ii, jj - k] + x[ii, jj + k])
    return out


def law(u, speed, b_lin, sat, inv_th, kerr, half_dt, r2):  # pragma: no cover - compiled
    """``(α, β, γ)`` and the intermediates the adjoint reuses, at one cell.

    Plain Python, compiled for the CPU here and for the GPU in :mod:`.kernels_cuda`.

    Constants are formed from ``half_dt`` so that they take the fields' dtype (an int literal
    would promote float32 arithmetic to float64).
    """
    one = half_dt / half_dt
    z = u * inv_th
    s = one / (one + z * z)
    c = speed + kerr * u * u
    k = (b_lin + sat * s) * half_dt
    inv = one / (one + k)
    g = c * c * r2
    return (inv + inv), (k - one) * inv, g * inv, z, s, c, inv, g


_law = _jit(law)


@_jit
def _step_rows(cur, nxt, speed, b_lin, sat, inv_th, kerr, m, ny, nx, half_dt, r2, c2,
               R):  # pragma: no cover - compiled
    """One step over the grid: ``nxt`` (holding u⁻) becomes u⁺; ``R`` the stencil radius."""
    for i in range(ny):
        ii = i + H
        for j in range(nx):
            jj = j + H
            c = cur[ii, jj]
            al, be, ga, _, _, _, _, _ = _law(c, speed[m, i, j], b_lin[m, i, j], sat[m, i, j],
                                             inv_th[m, i, j], kerr[m, i, j], half_dt, r2)
            nxt[ii, jj] = al * c + be * nxt[ii, jj] + ga * _lap(cur, ii, jj, c2, R)


@_jit
def _adjoint_rows(cur, nxt, spare, scaled, x, xm, extra, speed, b_lin, sat, inv_th, kerr,
                  g_speed, g_b_lin, g_sat, g_inv_th, g_kerr, b, m, ny, nx, half_dt, r2, two, c2,
                  R):  # pragma: no cover - compiled
    """The local part of one adjoint step (everything but ``L(γ μ)``); see the module docstring.

    ``cur`` is μ of the step's output, ``x``/``xm`` its input fields; adds ``α μ`` and the
    law's own derivative to ``nxt``, writes ``β μ`` to ``spare`` and ``γ μ`` to ``scaled``,
    and accumulates the map gradients.
    """
    for i in range(ny):
        ii = i + H
        for j in range(nx):
            jj = j + H
            a = cur[ii, jj]
            u = x[ii, jj]
            sa, wt, kr = sat[m, i, j], inv_th[m, i, j], kerr[m, i, j]
            al, be, ga, z, sf, c, inv, g = _law(u, speed[m, i, j], b_lin[m, i, j], sa, wt, kr,
                                                half_dt, r2)
            g_al = a * (u + extra[i, j])
            g_be = a * xm[ii, jj]
            g_ga = a * _lap(x, ii, jj, c2, R)
            # α = 2·inv, β = (k − 1)·inv, γ = g·inv with inv = 1/(1 + k)
            g_k = two * inv * inv * (g_be - g_al) - g * inv * inv * g_ga
            g_c = two * c * r2 * inv * g_ga
            g_b = g_k * half_dt
            ds = -two * z * sf * sf  # d sf / d z
            g_speed[b, i, j] += g_c
            g_b_lin[b, i, j] += g_b
            g_sat[b, i, j] += g_b * sf
            g_inv_th[b, i, j] += g_b * sa * ds * u
            g_kerr[b, i, j] += g_c * u * u
            nxt[ii, jj] += al * a + g_b * sa * ds * wt + g_c * kr * two * u
            spare[ii, jj] = be * a
            scaled[ii, jj] = ga * a


@_jit
def _add_lap(out, x, ny, nx, c2, R):  # pragma: no cover - compiled
    """``out += L x`` over the grid (``L`` symmetric: the adjoint of ``L``)."""
    for i in range(ny):
        for j in range(nx):
            out[i + H, j + H] += _lap(x, i + H, j + H, c2, R)


@_pjit
def forward_segment(work, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2, order, inj,
                    src_r, src_c, prb_r, prb_c, rec, store, states, every, t0,
                    snaps):  # pragma: no cover - compiled
    """Advance every batch item ``inj.shape[1]`` steps.

    ``work[b, 0]`` holds u⁻ and ``work[b, 1]`` u (padded by ``H``); the new field overwrites u⁻
    in place, so after an odd number of steps the roles are swapped (the caller tracks the
    parity). ``states[b, k + 2]`` (when ``store``) receives the padded field after step ``k``;
    ``snaps`` holds this call's snapshots (numbered from the first after ``t0``).
    """
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = speed.shape[1], speed.shape[2]
    for b in prange(batch):
        m = min(np.int64(b), speed.shape[0] - 1)
        snap = 0
        for k in range(steps):
            cur = work[b, (k + 1) % 2]
            nxt = work[b, k % 2]  # holds u⁻: each cell reads its own u⁻ before writing
            # the stencil radius a literal in each branch: a branch inside the loop stopped it
            # vectorizing (4x slower)
            if order == 2:
                _step_rows(cur, nxt, speed, b_lin, sat, inv_th, kerr, m, ny, nx, half_dt, r2, c2,
                           1)
            else:
                _step_rows(cur, nxt, speed, b_lin, sat, inv_th, kerr, m, ny, nx, half_dt, r2, c2,
                           2)
            for s in range(src_r.size):
                i, j = src_r[s], src_c[s]
                al, _, _, _, _, _, _, _ = _law(cur[i + H, j + H], speed[m, i, j], b_lin[m, i, j],
                                               sat[m, i, j], inv_th[m, i, j], kerr[m, i, j],
                                               half_dt, r2)
                nxt[i + H, j + H] += half_dt / (half_dt + half_dt) * al * inj[b, k, s]
            for q in range(prb_r.size):
                rec[b, k, q] = nxt[prb_r[q] + H, prb_c[q] + H]
            if store:
                states[b, k + 2] = nxt  # after the segment's two starting states
            if every > 0 and (t0 + k + 1) % every == 0:
                snaps[b, snap] = nxt[H:ny + H, H:nx + H]
                snap += 1


@_pjit
def adjoint_segment(states, speed, b_lin, sat, inv_th, kerr, half_dt, r2, c2, order, inj,
                    src_r, src_c, prb_r, prb_c, g_rec, g_snap, every, t0, a_cur, a_nxt,
                    g_speed, g_b_lin, g_sat, g_inv_th, g_kerr,
                    g_inj):  # pragma: no cover - compiled
    """Reverse sweep of a segment.

    ``states[b, m]`` is the padded field at segment time ``m − 1`` (``m = 0``: u⁻ at the start).
    On entry ``a_cur``/``a_nxt`` hold the gradients of the segment's last u and u⁻ (padded), on
    return those of its first u and u⁻; the map gradients ``g_*`` accumulate per batch item.
    """
    batch, steps = inj.shape[0], inj.shape[1]
    ny, nx = speed.shape[1], speed.shape[2]
    nsrc = src_r.size
    for b in prange(batch):
        m = min(np.int64(b), speed.shape[0] - 1)
        cur = a_cur[b]
        nxt = a_nxt[b]
        spare = np.zeros_like(cur)
        scaled = np.zeros_like(cur)
        extra = np.zeros((ny, nx), cur.dtype)  # ½·injection at the source cells of this step
        snap = (t0 + steps) // every - t0 // every if every > 0 else 0
        half = half_dt / (half_dt + half_dt)  # ½, 1 and 2 in the fields' dtype
        one = half + half
        two = one + one
        for k in range(steps - 1, -1, -1):
            for q in range(prb_r.size):
                cur[prb_r[q] + H, prb_c[q] + H] += g_rec[b, k, q]
            if every > 0 and (t0 + k + 1) % every == 0:
                snap -= 1
                cur[H:ny + H, H:nx + H] += g_snap[b, snap]
            x = states[b, k + 1]
            xm = states[b, k]
            for s in range(nsrc):
                i, j = src_r[s], src_c[s]
                al, _, _, _, _, _, _, _ = _law(x[i + H, j + H], speed[m, i, j], b_lin[m, i, j],
                                               sat[m, i, j], inv_th[m, i, j], kerr[m, i, j],
                                               half_dt, r2)
                g_inj[b, k, s] = half * al * cur[i + H, j + H]
                extra[i, j] += half * inj[b, k, s]
            if order == 2:
                _adjoint_rows(cur, nxt, spare, scaled, x, xm, extra, speed, b_lin, sat, inv_th,
                              kerr, g_speed, g_b_lin, g_sat, g_inv_th, g_kerr, b, m, ny, nx,
                              half_dt, r2, two, c2, 1)
            else:
                _adjoint_rows(cur, nxt, spare, scaled, x, xm, extra, speed, b_lin, sat, inv_th,
                              kerr, g_speed, g_b_lin, g_sat, g_inv_th, g_kerr, b, m, ny, nx,
                              half_dt, r2, two, c2, 2)
            for s in range(nsrc):
                extra[src_r[s], src_c[s]] = 0
            if order == 2:
                _add_lap(nxt, scaled, ny, nx, c2, 1)
            else:
                _add_lap(nxt, scaled, ny, nx, c2, 2)
            # μ of this step's input is complete: it becomes the current one. (Copied: rotating
            # the three buffers made them loop-carried and stopped the loops above vectorizing,
            # 3.5x slower.)
            for i in range(ny + 2 * H):
                for j in range(nx + 2 * H):
                    cur[i, j] = nxt[i, j]
                    nxt[i, j] = spare[i, j]


# --------------------------------------------------------------------------------------------
# the autograd glue


def _np(x: Tensor) -> np.ndarray:
    return x.detach().contiguous().numpy()


def _arg(static: dict) -> Any:
    """How a tensor becomes a kernel argument: a numpy view, or a device view (CUDA)."""
    cuda = static.get("cuda")
    return _np if cuda is None else cuda.device_array


def _snapshot_count(every: int, t0: int, steps: int) -> int:
    return (t0 + steps) // every - t0 // every if every else 0


def _run_forward(maps: list[Tensor], inj: Tensor, u: Tensor, p: Tensor, static: dict, t0: int,
                 *, store: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None]:
    """One segment from ``(u, u⁻)``.

    Returns the last two fields, the recorded cells, the snapshots and (when ``store``) every
    step's padded field, prefixed by the two starting ones.
    """
    batch, steps = inj.shape[:2]
    ny, nx = u.shape[1:]
    opts = {"dtype": u.dtype, "device": u.device}
    inner = (slice(None), slice(H, H + ny), slice(H, H + nx))
    work = torch.zeros(batch, 2, ny + 2 * H, nx + 2 * H, **opts)
    work[:, 0][inner] = p.detach()
    work[:, 1][inner] = u.detach()
    rec = torch.empty(batch, steps, static["prb_r"].size, **opts)
    cuda = static.get("cuda")
    # (zeros on the GPU: its threads write the inner cells only, and the adjoint reads the halo)
    allocate = torch.empty if cuda is None else torch.zeros
    states = (allocate(batch, steps + 2, ny + 2 * H, nx + 2 * H, **opts) if store
              else torch.empty(batch, 1, 1, 1, **opts))
    every = static["every"]
    snaps = torch.empty(batch, _snapshot_count(every, t0, steps), ny, nx, **opts)
    arg = _arg(static)
    cells = tuple(static["cells"][name] for name in ("src_r", "src_c", "prb_r", "prb_c"))
    args = (*(arg(x) for x in maps), *static["scalars"][u.dtype], static["order"], arg(inj),
            *cells, arg(rec), store, arg(states), every, t0, arg(snaps))
    if cuda is None:
        forward_segment(arg(work), *args)
    else:  # u⁻ and u as two contiguous arrays, written back into ``work``
        prev, cur = work[:, 0].contiguous(), work[:, 1].contiguous()
        cuda.nl_forward_segment(arg(prev), arg(cur), *args)
        work[:, 0], work[:, 1] = prev, cur
    # the kernel wrote into the numpy views of these tensors
    last = work[:, (steps + 1) % 2][inner].clone()
    before = work[:, steps % 2][inner].clone()
    full = None
    if store:
        full = states
        full[:, :2] = 0
        full[:, 0][inner] = p.detach()
        full[:, 1][inner] = u.detach()
    return last, before, rec, snaps, full


class _NonlinearSegment(torch.autograd.Function):
    """A segment of fused nonlinear steps; backward recomputes it and runs the exact adjoint."""

    @staticmethod
    def forward(ctx, static, t0, inj, u, p, *maps):
        ctx.static, ctx.t0 = static, t0
        ctx.save_for_backward(inj, u, p, *maps)
        last, before, rec, snaps, _ = _run_forward(list(maps), inj, u, p, static, t0,
                                                   store=False)
        return last, before, rec, snaps

    @staticmethod
    @kernel_section()
    def backward(ctx, g_last, g_before, g_rec, g_snap):
        if torch.is_grad_enabled():  # autograd enables grad mode here only for create_graph=True
            raise SolverValueError(
                "second derivatives (create_graph=True) are not available on the numba "
                "backend, whose adjoint is hand-written; use propagate(..., backend='torch', "
                "checkpoint_every=0)"
            )
        inj, u, p, *maps = ctx.saved_tensors
        static, t0 = ctx.static, ctx.t0
        *_, full = _run_forward(maps, inj, u, p, static, t0, store=True)
        assert full is not None
        batch, steps = inj.shape[:2]
        ny, nx = u.shape[1:]
        dtype = u.dtype
        opts = {"dtype": dtype, "device": u.device}
        inner = (slice(None), slice(H, H + ny), slice(H, H + nx))

        def padded(g: Tensor | None) -> Tensor:
            out = torch.zeros(batch, ny + 2 * H, nx + 2 * H, **opts)
            if g is not None:
                out[inner] = g
            return out

        a_cur, a_nxt = padded(g_last), padded(g_before)
        if g_rec is None:
            g_rec = torch.zeros(batch, steps, static["prb_r"].size, **opts)
        if g_snap is None or not g_snap.numel():  # no snapshots, or none used: a placeholder
            count = _snapshot_count(static["every"], t0, steps)
            g_snap = torch.zeros(batch, max(count, 1), ny, nx, **opts)
        grads = [torch.zeros(batch, ny, nx, **opts) for _ in maps]
        g_inj = torch.zeros_like(inj)
        arg = _arg(static)
        cells = tuple(static["cells"][name] for name in ("src_r", "src_c", "prb_r", "prb_c"))
        cuda = static.get("cuda")
        kernel = adjoint_segment if cuda is None else cuda.nl_adjoint_segment
        kernel(arg(full), *(arg(x) for x in maps), *static["scalars"][dtype], static["order"],
               arg(inj), *cells, arg(g_rec.contiguous()), arg(g_snap.contiguous()),
               static["every"], t0, arg(a_cur), arg(a_nxt), *(arg(g) for g in grads),
               arg(g_inj))
        out = [g.sum(0, keepdim=True) if x.shape[0] == 1 else g
               for g, x in zip(grads, maps, strict=True)]
        return (None, None, g_inj, a_cur[inner], a_nxt[inner], *out)


def law_maps(setup: ScalarSetup) -> list[Tensor]:
    """The five maps of the module docstring ``(Bm, ny, nx)``, differentiable torch tensors."""
    nl = setup.nonlinearity
    assert nl is not None
    like = setup.speed
    rho = nl.rho if nl.rho.ndim == 3 else nl.rho.unsqueeze(0)

    def value(v: float | Tensor) -> Tensor:
        return torch.as_tensor(v, dtype=like.dtype, device=like.device)

    parts = [setup.speed, setup.b_lin, rho * value(nl.b0), 1.0 / value(nl.u_th),
             rho * value(nl.c_nl)]
    shape = torch.broadcast_shapes(*(x.shape for x in parts), (1, *setup.grid.shape))
    return [x.expand(shape).contiguous() for x in parts]


@kernel_section()
def run_nonlinear_numba(setup: ScalarSetup, snapshot_every: int | None,
                        checkpoint_every: int | None, *, cuda: Any = None
                        ) -> tuple[Tensor, Tensor | None, int, Tensor]:
    """Run a nonlinear scalar setup without a PML on the fused kernels.

    On the CPU, or on the GPU when ``cuda`` is :mod:`.kernels_cuda`. Returns the recorded
    cells, the snapshots (or None), the segment count and the final field.
    """
    if setup.pml is not None:
        raise SolverValueError("the nonlinear kernels have no CPML; use backend='torch'")
    maps = law_maps(setup)
    dtype = maps[0].dtype
    kind = np.float32 if dtype == torch.float32 else np.float64
    grid = setup.grid
    _, c2 = stencils(setup.order, np.dtype(kind))
    static = {"src_r": np.asarray(setup.src_rows, np.int64),
              "src_c": np.asarray(setup.src_cols, np.int64),
              "prb_r": np.asarray(setup.prb_rows, np.int64),
              "prb_c": np.asarray(setup.prb_cols, np.int64),
              "every": int(snapshot_every or 0), "order": int(setup.order), "cuda": cuda}
    convert = (lambda x: x) if cuda is None else cuda.device_array
    static["cells"] = {name: convert(static[name]) for name in ("src_r", "src_c", "prb_r",
                                                                 "prb_c")}
    static["scalars"] = {dtype: (kind(grid.dt / 2), kind(grid.dt**2 / grid.h**2), convert(c2))}
    # its backward stores one field-sized state per step of the segment it recomputes
    seg = segment_length(setup, checkpoint_every, 1)
    injection = setup.injection
    batch, steps = injection.shape[:2]
    u = torch.zeros(batch, *grid.shape, dtype=dtype, device=maps[0].device)
    p = torch.zeros_like(u)
    recs, snaps, segments = [], [], 0
    for t0 in range(0, steps, seg):
        u, p, rec, snap = _NonlinearSegment.apply(static, t0, injection[:, t0:t0 + seg], u, p,
                                                  *maps)
        recs.append(rec)
        snaps.append(snap)
        segments += 1
    snapshots = torch.cat(snaps, 1) if snapshot_every else None
    return torch.cat(recs, 1), snapshots, segments, u

