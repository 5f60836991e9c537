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

This module is the public entry point: the inputs are checked and the coefficients built by
:func:`wavefab.solver._setup.acoustic_setup`, the steps run in
:mod:`wavefab.solver.backends.acoustic_numba` (fused CPU kernels) or
:mod:`~wavefab.solver.backends.acoustic_torch`, and the staggered stencil (:data:`STAGGERED`,
:func:`face_mean`, :func:`stable_step`, :data:`ACOUSTIC_CFL`) is in
:mod:`wavefab.solver.operators`, re-exported here. :func:`cut_cell_medium` builds media whose
walls cut through cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ._setup import (
    Backend,
    PropagationResult,
    acoustic_setup,
    check_backend,
    check_finite,
    check_step_options,
    measure,
)
from .boundaries import PML, Boundary
from .errors import SolverValueError
from .grid import Grid
from .operators import ACOUSTIC_CFL, STAGGERED, face_mean, stable_step
from .probes import Probe
from .sources import Source

__all__ = [
    "ACOUSTIC_CFL",
    "STAGGERED",
    "cut_cell_medium",
    "face_mean",
    "propagate_acoustic",
    "stable_step",
]


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
    backend: Backend = "auto",
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
        backend: ``"numba"`` (fused CPU kernels with the exact adjoint; orders 2 and 4, any
            boundary), ``"torch"`` (any device), ``"cuda"`` (CUDA kernels with the same
            adjoint, without a PML; opt-in until validated on a device), or ``"auto"`` (numba
            on the CPU, torch on CUDA).
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
    check_step_options(snapshot_every, checkpoint_every)
    check_backend(backend)
    setup = acoustic_setup(inv_density, bulk_modulus, waveforms, grid, sources, probes,
                           boundary, damping, order, faces)
    fused = setup.alpha.device.type == "cpu"
    if backend == "numba" and not fused:
        raise SolverValueError("backend='numba' runs on the CPU; use backend='torch' (or "
                               "'auto') for CUDA tensors")
    if backend == "cuda":
        from .backends import kernels_cuda

        kernels_cuda.check_case(setup.pml is not None, fused)
        from .backends.acoustic_numba import run_acoustic_cuda

        recorded, snapshots, segments, u = run_acoustic_cuda(setup, snapshot_every,
                                                             checkpoint_every)
        used = "cuda"
    elif backend != "torch" and fused:
        from .backends.acoustic_numba import run_acoustic_numba

        recorded, snapshots, segments, u = run_acoustic_numba(setup, snapshot_every,
                                                              checkpoint_every)
        used = "numba"
    else:
        from .backends.acoustic_torch import run_acoustic_torch

        recorded, snapshots, segments, u = run_acoustic_torch(setup, snapshot_every,
                                                              checkpoint_every)
        used = "torch"
    check_finite("the pressure became non-finite during propagation: check the medium (1/ρ and "
                 "K positive and finite) and the time step", recorded, u)
    return PropagationResult(probes=measure(setup, recorded), snapshots=snapshots,
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
