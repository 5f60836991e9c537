"""Variable-density acoustics ``(1/K) p_tt = ∇·((1/ρ)∇p) + f`` on the solver's grid machinery.

The scalar model of :mod:`.scalar` changes only the wave speed; a printed solid in air is a rigid
wall instead (impedance ratio ~10⁴). Here the material sets the density ρ and the bulk modulus
K of every cell, and the operator is in flux form on a staggered grid::

    (p⁺ − 2p + p⁻)/dt² + b (p⁺ − p⁻)/(2dt) = K · (Dx⁻[(1/ρ)ₓ Dx⁺ p] + Dy⁻[(1/ρ)ᵧ Dy⁺ p] + f)

``D⁺`` differentiates from cell centres to faces and ``D⁻`` back (2nd order: the neighbour
difference; 4th order: the (9/8, −1/24) staggered stencil). ``(1/ρ)`` on a face is the harmonic
mean of the two cells' values, so a face next to a rigid cell (``1/ρ → ε``) carries almost no
flux: a sound-hard wall, exactly where the solid begins, whatever ε — and the time step stays
that of the fastest medium (``c² = K/ρ``), not of the contrast. Pressure is zero beyond the grid
(as in :func:`propagate`); the convolutional PML stretches each staggered derivative (a memory
field on the faces and one on the cells, per axis).

Sources, probes, batching, absorbing layers, snapshots and checkpointed exact gradients work as
in :func:`~wavefab.solver.propagate`; ``probes`` read the pressure. Gradients flow to
``inv_density``, ``bulk_modulus``, ``damping`` and the waveforms through autograd.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .boundaries import PML, Boundary, DampingLayer, boundary_width
from .errors import SolverTypeError, SolverValueError, StabilityError
from .grid import Grid
from .operators import ACOUSTIC_CFL, STAGGERED, face_mean, stable_step
from .probes import Probe
from .scalar import (
    PropagationResult,
    _as_batched_map,
    _as_list,
    _check_resolution,
    _check_step_options,
    _check_tensor,
    _measure,
    _pml_reference,
    _probe_cells,
    _segment_length,
    _source_cells,
)
from .scalar_torch import cell_indices
from .sources import Source


@dataclass
class _AcousticSetup:
    """Validated inputs in the run's dtype/device (duck-compatible with the scalar setup)."""

    grid: Grid
    order: int
    batch: int
    steps: int
    alpha: Tensor  # (Bc, ny, nx)
    beta: Tensor
    gamma: Tensor  # K dt² / (h² (1 + k))
    face_x: Tensor  # (Bc, ny, nx + 2R − 1) harmonic mean of 1/ρ on the x faces
    face_y: Tensor  # (Bc, ny + 2R − 1, nx)
    src_gain: Tensor  # (Bc, Ks) α·K at the driven cells
    injection: Tensor  # (B, T, Ks)
    src_rows: np.ndarray
    src_cols: np.ndarray
    prb_rows: np.ndarray
    prb_cols: np.ndarray
    probe_matrix: Tensor
    probe_square: Tensor
    pml: tuple[np.ndarray, ...] | None  # a, b on x faces, x cells, y faces, y cells


def _check_faces(faces: object, inv: Tensor, grid: Grid, reach: int) -> tuple[Tensor, Tensor]:
    """Validate user face values ``(x faces, y faces)`` of ``1/ρ``."""
    if not (isinstance(faces, (tuple, list)) and len(faces) == 2):
        raise SolverTypeError("faces must be a pair (x_faces, y_faces) of tensors")
    ny, nx = grid.shape
    out = []
    for name, x, shape in (("faces[0]", faces[0], (ny, nx + 2 * reach - 1)),
                           ("faces[1]", faces[1], (ny + 2 * reach - 1, nx))):
        x = _check_tensor(name, x, like=inv)
        if x.ndim == 2:
            x = x.unsqueeze(0)
        if x.ndim != 3 or tuple(x.shape[1:]) != shape or x.shape[0] not in (1, inv.shape[0]):
            raise SolverValueError(f"{name} must have shape {shape} (or batched), got "
                                   f"{tuple(x.shape)}: face k lies between cells k − {reach} "
                                   f"and k − {reach - 1}")
        if bool((x <= 0).any()):
            raise SolverValueError(f"{name} must be positive (a closed face is a small 1/ρ)")
        out.append(x)
    return out[0], out[1]


def _setup_acoustic(inv_density: Tensor, bulk_modulus: Tensor, waveforms: Tensor, grid: Grid,
                    sources: Sequence[Source], probes: Sequence[Probe], boundary: Boundary,
                    damping: Tensor | None, order: int,
                    faces: tuple[Tensor, Tensor] | None = None) -> _AcousticSetup:
    if not isinstance(grid, Grid):
        raise SolverTypeError(f"grid must be a wavefab.solver.Grid, got {type(grid).__name__}")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order not in (2, 4):
        raise SolverValueError(f"order must be the integer 2 or 4, got {order!r}")
    if boundary is not None and not isinstance(boundary, (PML, DampingLayer)):
        raise SolverTypeError(
            f"boundary must be PML(...), DampingLayer(...) or None, got {type(boundary).__name__}"
        )
    inv = _as_batched_map("inv_density", _check_tensor("inv_density", inv_density), grid)
    bulk = _as_batched_map("bulk_modulus",
                           _check_tensor("bulk_modulus", bulk_modulus, like=inv), grid)
    for name, x in (("inv_density", inv), ("bulk_modulus", bulk)):
        if bool((x <= 0).any()):
            raise SolverValueError(f"{name} must be positive everywhere, got a minimum of "
                                   f"{float(x.min()):.6g} (a rigid solid is a small positive "
                                   "1/ρ, not zero)")
    waveforms = _check_tensor("waveforms", waveforms, like=inv)
    if waveforms.ndim == 2:
        waveforms = waveforms.unsqueeze(-1)
    if waveforms.ndim != 3 or min(waveforms.shape[:2]) < 1:
        raise SolverValueError(
            f"waveforms must have shape (B, T) or (B, T, S), got {tuple(waveforms.shape)}")
    batch, steps, nsrc = waveforms.shape
    for name, x in (("inv_density", inv), ("bulk_modulus", bulk)):
        if x.shape[0] not in (1, batch):
            raise SolverValueError(f"{name} has batch size {x.shape[0]} but waveforms has "
                                   f"{batch}; use one map (ny, nx) for all or one per waveform")
    sources = _as_list("sources", sources, "[PointSource(70, 40)]")
    probes = [] if probes is None else _as_list("probes", probes, "[PointProbe(50, 100)]")
    if not sources:
        raise SolverValueError("sources is empty: give at least one source")
    if nsrc not in (1, len(sources)):
        raise SolverValueError(
            f"waveforms has {nsrc} source columns but {len(sources)} sources were given; use "
            f"(B, T) to drive all sources alike or (B, T, {len(sources)})")
    width = boundary_width(boundary)
    if 2 * width + 1 > min(grid.shape):
        raise SolverValueError(
            f"boundary width {width} leaves no interior in a grid of shape {grid.shape}")

    b_lin = torch.zeros((1, *grid.shape), dtype=inv.dtype, device=inv.device)
    if isinstance(boundary, DampingLayer):
        b_lin = torch.as_tensor(boundary.damping(grid), dtype=inv.dtype,
                                device=inv.device).unsqueeze(0)
    if damping is not None:
        damping = _as_batched_map("damping", _check_tensor("damping", damping, like=inv), grid)
        if bool((damping < 0).any()):
            raise SolverValueError("damping must be non-negative (a loss rate, 1/time)")
        if damping.shape[0] not in (1, batch):
            raise SolverValueError(
                f"damping has batch size {damping.shape[0]} but waveforms has {batch}")
        b_lin = b_lin + damping

    with torch.no_grad():
        speed = torch.sqrt(bulk * inv)
        # Walls (100× denser than the lightest medium) carry no wave worth resolving: the
        # resolution check looks at the media the sound travels in.
        carrying = inv >= 0.01 * inv.amax(dim=(-2, -1), keepdim=True)
        c_min = float(torch.where(carrying, speed, torch.inf).min())
    dt, h = grid.dt, grid.h
    reach = len(STAGGERED[order])
    if faces is None:
        face_x, face_y = face_mean(inv, -1, reach), face_mean(inv, -2, reach)
    else:
        face_x, face_y = _check_faces(faces, inv, grid, reach)
    dt_max = stable_step(bulk, face_x, face_y, order, h)
    if not dt <= dt_max * (1 + 1e-12):
        raise StabilityError(
            f"CFL violated: dt={dt:.6g} is above the stable step {dt_max:.6g} of this medium "
            f"(staggered order {order}; homogeneous media allow c·dt/h ≤ "
            f"{ACOUSTIC_CFL[order]:.4f} with c = √(K/ρ)); use dt ≤ {dt_max:.6g}"
            + "; a cell much stiffer (larger K) than the faces around it is what limits it: "
            "keep K uniform and let 1/ρ make a solid rigid, and clamp the open fraction of "
            "cut cells (cut_cell_medium's min_open)")

    src_rows, src_cols, injection = _source_cells(sources, waveforms, grid, width)
    prb_rows, prb_cols, matrix, square = _probe_cells(probes, grid, width)
    peak = _check_resolution(waveforms, grid, c_min)
    pml = None
    if isinstance(boundary, PML):
        frequency, c_ref = _pml_reference(boundary, speed, grid, peak)
        parts = []
        for n in (grid.nx, grid.ny):
            faces = np.arange(n + 2 * reach - 1) - reach + 0.5
            on_faces = boundary.profile(n, grid, c_ref, frequency, positions=faces)
            on_cells = boundary.profile(n, grid, c_ref, frequency)
            parts += [on_faces.a, on_faces.b, on_cells.a, on_cells.b]
        pml = tuple(parts)

    k = b_lin * (dt / 2)
    inv_k = 1.0 / (1.0 + k)
    alpha = 2.0 * inv_k
    beta = -(1.0 - k) * inv_k
    gamma = bulk * (dt * dt / (h * h)) * inv_k
    bc = max(alpha.shape[0], gamma.shape[0])
    alpha, beta = alpha.expand(bc, *grid.shape), beta.expand(bc, *grid.shape)
    gamma = gamma.expand(bc, *grid.shape)
    src = (torch.as_tensor(src_rows, device=inv.device), torch.as_tensor(src_cols,
                                                                         device=inv.device))
    src_gain = (alpha * bulk.expand(bc, *grid.shape))[:, src[0], src[1]]
    return _AcousticSetup(
        grid=grid, order=order, batch=batch, steps=steps, alpha=alpha, beta=beta, gamma=gamma,
        face_x=face_x, face_y=face_y, src_gain=src_gain,
        injection=injection, src_rows=src_rows, src_cols=src_cols, prb_rows=prb_rows,
        prb_cols=prb_cols,
        probe_matrix=torch.as_tensor(matrix, dtype=inv.dtype, device=inv.device),
        probe_square=torch.as_tensor(square, device=inv.device), pml=pml)


class _AcousticStepper:
    """One leapfrog step of the flux-form operator in torch ops (differentiable by autograd)."""

    def __init__(self, setup: _AcousticSetup) -> None:
        self.setup = setup
        self.w = STAGGERED[setup.order]
        self.reach = len(self.w)
        dev, dtype = setup.alpha.device, setup.alpha.dtype
        self.src, self.prb = cell_indices(setup)
        if setup.pml is not None:
            afx, bfx, acx, bcx, afy, bfy, acy, bcy = (
                torch.as_tensor(v, dtype=dtype, device=dev) for v in setup.pml)
            self.pml_x = tuple(v.view(1, 1, -1) for v in (afx, bfx, acx, bcx))
            self.pml_y = tuple(v.view(1, -1, 1) for v in (afy, bfy, acy, bcy))

    @staticmethod
    def parameters_of(setup: _AcousticSetup) -> dict[str, Tensor]:
        """The tensors the steps read (and may differentiate)."""
        return {"alpha": setup.alpha, "beta": setup.beta, "gamma": setup.gamma,
                "face_x": setup.face_x, "face_y": setup.face_y, "src_gain": setup.src_gain}

    def _staggered(self, x: Tensor, axis: int, n: int) -> Tensor:
        """A staggered derivative (times h) giving ``n`` values along ``axis``.

        D⁺ (cells → faces) of a field padded by 2R − 1 cells, and D⁻ (faces → cells) of a
        face field, are the same formula: point ``i`` takes ``x[i + R + m] − x[i + R − 1 − m]``.
        """
        r, out = self.reach, None
        for m, wm in enumerate(self.w):
            term = x.narrow(axis, r + m, n) - x.narrow(axis, r - 1 - m, n)
            out = wm * term if out is None else out + wm * term
        assert out is not None
        return out

    def __call__(self, u: Tensor, p: Tensor, psi: tuple[Tensor, ...], inj: Tensor,
                 params: dict[str, Tensor]
                 ) -> tuple[Tensor, Tensor, tuple[Tensor, ...], Tensor]:
        ny, nx = self.setup.grid.shape
        r = self.reach
        rp = 2 * r - 1
        padded = torch.nn.functional.pad(u, (rp, rp, rp, rp))
        gx = self._staggered(padded.narrow(-2, rp, ny), -1, nx + 2 * r - 1)
        gy = self._staggered(padded.narrow(-1, rp, nx), -2, ny + 2 * r - 1)
        if self.setup.pml is None:
            lap = (self._staggered(params["face_x"] * gx, -1, nx)
                   + self._staggered(params["face_y"] * gy, -2, ny))
            new_psi = psi
        else:
            fx, cx, fy, cy = psi
            afx, bfx, acx, bcx = self.pml_x
            afy, bfy, acy, bcy = self.pml_y
            fx = afx * fx + bfx * gx  # stretched-coordinate memory of each derivative
            fy = afy * fy + bfy * gy
            dx = self._staggered(params["face_x"] * (gx + fx), -1, nx)
            dy = self._staggered(params["face_y"] * (gy + fy), -2, ny)
            cx = acx * cx + bcx * dx
            cy = acy * cy + bcy * dy
            lap = dx + cx + dy + cy
            new_psi = (fx, cx, fy, cy)
        u_new = params["alpha"] * u + params["beta"] * p + params["gamma"] * lap
        gain = params["src_gain"]
        u_new = u_new.index_put(
            (torch.arange(u_new.shape[0], device=u.device)[:, None], self.src[0], self.src[1]),
            0.5 * gain * inj, accumulate=True)
        return u_new, u, new_psi, u_new[:, self.prb[0], self.prb[1]]


def propagate_acoustic(
    inv_density: Tensor,
    bulk_modulus: Tensor,
    waveforms: Tensor,
    *,
    grid: Grid,
    sources: Sequence[Source],
    probes: Sequence[Probe] = (),
    boundary: Boundary = PML(width=20),  # noqa: B008 - frozen dataclass, safe as a default
    damping: Tensor | None = None,
    snapshot_every: int | None = None,
    checkpoint_every: int | None = None,
    order: int = 2,
    backend: Literal["auto", "numba", "torch"] = "auto",
    faces: tuple[Tensor, Tensor] | None = None,
) -> PropagationResult:
    """Propagate batched waveforms through a variable-density medium; probes read pressure.

    Solves ``(1/K) p_tt + b·p_t/K = ∇·((1/ρ)∇p) + f`` (see the module docstring for the
    scheme). Units are whatever the inputs use consistently (SI: ``1/ρ`` in m³/kg, ``K`` in Pa,
    ``h`` in m, ``dt`` in s; then ``f`` is in 1/(m²·s²)·… per unit of the waveform).

    Args:
        inv_density: ``1/ρ``, ``(ny, nx)`` or ``(B, ny, nx)``, positive; may require gradients.
            A rigid solid is a small positive value (e.g. 10⁻⁴ of the fluid's).
        bulk_modulus: ``K``, same shapes, positive; may require gradients.
        waveforms: source signals ``(B, T)`` or ``(B, T, S)``; may require gradients.
        grid: cell size, time step and shape.
        sources: where the waveforms enter (as in :func:`~wavefab.solver.propagate`).
        probes: what to record (pressure, or pressure² for intensity probes).
        boundary: :class:`PML`, :class:`DampingLayer`, or None (``p = 0`` beyond the grid).
        damping: extra loss rate ``b`` (1/time), ``(ny, nx)`` or ``(B, ny, nx)``.
        snapshot_every: keep the whole pressure field every ``k`` steps.
        checkpoint_every: steps between stored states for the backward pass (as in
            :func:`~wavefab.solver.propagate`).
        order: spatial order of the staggered derivatives, 2 or 4.
        backend: ``"numba"`` (fused CPU kernels with the exact adjoint; orders 2 and 4 without
            a PML — the damping layer or rigid walls), ``"torch"`` (any case, any device), or
            ``"auto"`` (numba where it applies).
        faces: ``1/ρ`` on the faces, ``(x_faces (ny, nx+2R−1), y_faces (ny+2R−1, nx))`` with
            ``R = order/2``, instead of the harmonic means of the cells (see :func:`face_mean`
            for the layout): lets a wall cut through cells (a face open over a fraction of
            its length carries that fraction of the flux).

    Returns:
        A :class:`~wavefab.solver.PropagationResult` (``probes`` ``(B, T, P)`` of pressure, or
        pressure² for intensity probes).

    Raises:
        SolverTypeError, SolverValueError: bad arguments (named).
        StabilityError: ``dt`` above the staggered scheme's CFL limit for ``√(K/ρ)``, or a
            field that blew up.
    """
    from .scalar_torch import run_segments

    _check_step_options(snapshot_every, checkpoint_every)
    if backend not in ("auto", "numba", "torch"):
        raise SolverValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
    setup = _setup_acoustic(inv_density, bulk_modulus, waveforms, grid, sources, probes,
                            boundary, damping, order, faces)
    ny, nx = grid.shape
    opts = {"dtype": setup.alpha.dtype, "device": setup.alpha.device}
    psi: list[Tensor] = []
    if setup.pml is not None:
        r = len(STAGGERED[order])
        psi = [torch.zeros(setup.batch, ny, nx + 2 * r - 1, **opts),
               torch.zeros(setup.batch, ny, nx, **opts),
               torch.zeros(setup.batch, ny + 2 * r - 1, nx, **opts),
               torch.zeros(setup.batch, ny, nx, **opts)]
    fused = setup.alpha.device.type == "cpu" and setup.pml is None
    if backend == "numba" and not fused:
        raise SolverValueError("backend='numba' runs media without a PML on the CPU; "
                               "use backend='torch' (or 'auto') for a PML or CUDA")
    if backend != "torch" and fused:
        from .acoustic_numba import run_acoustic_numba

        seg = _segment_length(setup, checkpoint_every, 1)
        recorded, snapshots, segments, u = run_acoustic_numba(setup, snapshot_every, seg)
        used = "numba"
    else:
        seg = _segment_length(setup, checkpoint_every, 24 if setup.pml is not None else 14)
        recorded, snapshots, segments, u = run_segments(
            _AcousticStepper(setup), _AcousticStepper.parameters_of(setup), setup.injection,
            psi, seg, snapshot_every)
        used = "torch"
    if not (bool(torch.isfinite(recorded.detach()).all())
            and bool(torch.isfinite(u.detach()).all())):
        raise StabilityError("the pressure became non-finite during propagation: check the "
                             "medium (1/ρ and K positive and finite) and the time step")
    return PropagationResult(probes=_measure(setup, recorded), snapshots=snapshots,
                             backend=used, segments=segments)


def cut_cell_medium(open_cells: np.ndarray, open_faces: tuple[np.ndarray, np.ndarray], *,
                    inv_density: float = 1.0, bulk_modulus: float = 1.0,
                    closed: float = 1e-4, min_open: float = 0.25
                    ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
    """A fluid with rigid solids that cut through cells (finite-volume cut cells).

    A staircase wall (each cell solid or fluid) converges only at first order: 15% error for a
    rigid cylinder at 20 cells per wavelength. Here each face carries the flux of its open
    length and each cell stores pressure over its open area (``K / open``, clamped at
    ``min_open`` so that small cut cells do not shrink the time step), which places the wall
    inside the cells: 1.9% for the same cylinder.

    Args:
        open_cells: ``(ny, nx)`` fluid area fraction of each cell (0: solid, 1: fluid).
        open_faces: fluid length fraction of each face, ``(x_faces, y_faces)`` in the layout
            of :func:`face_mean` for the intended order.
        inv_density: the fluid's ``1/ρ``.
        bulk_modulus: the fluid's ``K``.
        closed: ``1/ρ`` of a closed face or solid cell relative to the fluid's.
        min_open: the smallest open fraction a partly open cell counts with.

    Returns:
        ``(inv_density, bulk_modulus, faces)`` for :func:`propagate_acoustic` (float64).
    """
    cells = np.asarray(open_cells, dtype=np.float64)
    if cells.ndim != 2 or not ((cells >= 0) & (cells <= 1)).all():
        raise SolverValueError("open_cells must be a 2-D array of fractions in [0, 1]")
    if not 0 < min_open <= 1:
        raise SolverValueError(f"min_open must lie in (0, 1], got {min_open!r}")
    inv = np.where(cells > 0, inv_density, inv_density * closed)
    bulk = bulk_modulus / np.maximum(cells, min_open)
    faces = []
    for fraction in open_faces:
        fraction = np.asarray(fraction, dtype=np.float64)
        if not ((fraction >= 0) & (fraction <= 1)).all():
            raise SolverValueError("open_faces must hold fractions in [0, 1]")
        faces.append(torch.from_numpy(inv_density * (fraction + (1 - fraction) * closed)))
    return torch.from_numpy(inv), torch.from_numpy(bulk), (faces[0], faces[1])
