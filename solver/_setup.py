"""Validation and setup shared by every propagator and backend.

:func:`~wavefab.solver.propagate` and :func:`~wavefab.solver.propagate_acoustic` check their
inputs and build the leapfrog coefficients here (:func:`scalar_setup`, :func:`acoustic_setup`);
the backends in :mod:`wavefab.solver.backends` step what they return (:class:`ScalarSetup`,
:class:`AcousticSetup`). No propagator imports another, and no backend imports the propagator
that dispatches to it: what they share sits in this module.

Both propagators use the damped leapfrog update (see :mod:`wavefab.solver.scalar`)::

    u⁺ = α u + β u⁻ + γ T + (α/2)·dt²·f,
    α = 2/(1+k), β = −(1−k)/(1+k), γ = s·dt²/(h²(1+k)), k = b·dt/2,

with the stiffness ``s = c²`` (scalar) or ``s = K`` (acoustic) and ``T`` the spatial operator in
cell units (:func:`leapfrog_coefficients`).

Every user error is a :class:`~wavefab.solver.SolverTypeError` or
:class:`~wavefab.solver.SolverValueError` naming the argument and the value received.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .boundaries import PML, Boundary, DampingLayer, boundary_width
from .errors import (
    ResolutionWarning,
    SolverTypeError,
    SolverValueError,
    StabilityError,
    as_int,
    as_number,
)
from .grid import Grid
from .operators import ACOUSTIC_CFL, STAGGERED, face_mean, stable_step
from .probes import Probe
from .sources import Source
from .waveforms import source_band

#: Storing every step for the backward pass is chosen automatically below this many bytes.
AUTO_STORE_ALL_BYTES = 256 * 2**20

#: Points per wavelength below which a :class:`ResolutionWarning` is issued.
MIN_POINTS_PER_WAVELENGTH = 10.0

#: The ``backend`` option of both propagators.
Backend = Literal["auto", "numba", "torch", "cuda"]


# ------------------------------------------------------------------------------------------
# what the propagators take and return


@dataclass(frozen=True, eq=False)
class Nonlinearity:
    """Material-confined nonlinearity of the reference wave-RNN model.

    With ``rho`` the material fraction (1 inside the material, 0 outside)::

        b(u) = b_lin + rho · b0 / (1 + (u/u_th)²)      (saturable absorption)
        c(u) = c_lin + rho · c_nl · u²                (intensity-dependent speed)

    ``rho`` is a ``(ny, nx)`` or ``(B, ny, nx)`` tensor; any field may be a tensor that requires
    gradients. Nonlinear media run on the fused CPU kernels without a PML, else on torch.

    Args:
        rho: material fraction, same dtype/device as the speed.
        b0: saturable damping rate (1/time).
        u_th: saturation threshold (field units).
        c_nl: Kerr-like speed coefficient (speed per field²).
    """

    rho: Tensor
    b0: float | Tensor = 0.0
    u_th: float | Tensor = 1.0
    c_nl: float | Tensor = 0.0


@dataclass
class PropagationResult:
    """What :func:`~wavefab.solver.propagate` and :func:`~wavefab.solver.propagate_acoustic` return.

    Attributes:
        probes: ``(B, T, P)`` probe readings; ``probes[:, n]`` is at time ``(n+1)·dt``.
        snapshots: ``(B, N, ny, nx)`` field every ``snapshot_every`` steps (``N = T // k``), or
            None. Snapshots carry gradients on both backends.
        backend: the backend that ran (``"numba"`` or ``"torch"``).
        segments: number of checkpoint segments used for the backward pass.
    """

    probes: Tensor
    snapshots: Tensor | None
    backend: str
    segments: int


@dataclass
class ScalarSetup:
    """Everything both scalar backends need, already validated and in the speed's dtype/device."""

    grid: Grid
    order: int
    batch: int
    steps: int
    alpha: Tensor  # (Bc, ny, nx)
    beta: Tensor
    gamma: Tensor
    b_lin: Tensor  # (Bc, ny, nx) linear damping (boundary + user)
    speed: Tensor  # (Bc, ny, nx)
    injection: Tensor  # (B, T, Ks): value added to u⁺ per step, before the α/2 factor
    src_rows: np.ndarray
    src_cols: np.ndarray
    prb_rows: np.ndarray
    prb_cols: np.ndarray
    probe_matrix: Tensor  # (Kp, P) averaging weights
    probe_square: Tensor  # (Kp,) bool: cell belongs to an intensity probe
    pml: tuple[np.ndarray, ...] | None  # ax, bx, dbx, ay, by, dby (unpadded, float64)
    nonlinearity: Nonlinearity | None


@dataclass
class AcousticSetup:
    """Validated acoustic inputs in the run's dtype/device (the same layout as the scalar one)."""

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


# ------------------------------------------------------------------------------------------
# options


def check_step_options(snapshot_every: int | None, checkpoint_every: int | None) -> None:
    """Validate the snapshot and checkpoint intervals both propagators take.

    Raises:
        SolverValueError: ``snapshot_every`` not a positive integer or None, or a bad
            ``checkpoint_every`` (see :func:`check_checkpoint_every`).
    """
    if snapshot_every is not None and (
        isinstance(snapshot_every, (bool, str)) or as_int("snapshot_every", snapshot_every) < 1
    ):
        raise SolverValueError(f"snapshot_every must be a positive integer, got {snapshot_every!r}")
    check_checkpoint_every(checkpoint_every)


def check_checkpoint_every(checkpoint_every: int | None) -> None:
    """Validate ``checkpoint_every``: None, 0 or a positive integer.

    Raises:
        SolverValueError: anything else.
    """
    if checkpoint_every is None:
        return
    if isinstance(checkpoint_every, (bool, str)) or not float(
        as_number("checkpoint_every", checkpoint_every)
    ).is_integer():
        raise SolverValueError(
            f"checkpoint_every must be None, 0 or a positive integer, got {checkpoint_every!r}"
        )
    if checkpoint_every < 0:
        raise SolverValueError(f"checkpoint_every must be ≥ 0, got {checkpoint_every!r}")


def check_backend(backend: object) -> None:
    """Validate the ``backend`` option.

    Raises:
        SolverValueError: not one of ``"auto"``, ``"numba"``, ``"torch"``, ``"cuda"``.
    """
    if backend not in ("auto", "numba", "torch", "cuda"):
        raise SolverValueError(f"backend must be 'auto', 'numba', 'torch' or 'cuda', got "
                               f"{backend!r}")


def check_discretization(grid: object, order: object, boundary: object) -> None:
    """Validate the grid, the spatial order and the kind of boundary.

    Raises:
        SolverTypeError: ``grid`` not a :class:`Grid`, or ``boundary`` not a PML, damping
            layer or None.
        SolverValueError: ``order`` not the integer 2 or 4.
    """
    if not isinstance(grid, Grid):
        raise SolverTypeError(f"grid must be a wavefab.solver.Grid, got {type(grid).__name__}")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order not in (2, 4):
        raise SolverValueError(f"order must be the integer 2 or 4, got {order!r}")
    if boundary is not None and not isinstance(boundary, (PML, DampingLayer)):
        raise SolverTypeError(
            f"boundary must be PML(...), DampingLayer(...) or None, got {type(boundary).__name__}"
        )


# ------------------------------------------------------------------------------------------
# tensors


def check_tensor(name: str, x: object, *, like: Tensor | None = None) -> Tensor:
    """Return ``x`` if it is a finite float32/float64 tensor (of ``like``'s dtype and device).

    Raises:
        SolverTypeError: not a tensor, not floating point, or another dtype/device than
            ``like`` (the message says how to convert).
        SolverValueError: NaN or inf in ``x``.
    """
    if not isinstance(x, Tensor):
        raise SolverTypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in (torch.float32, torch.float64):
        raise SolverTypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if like is not None:
        if x.dtype != like.dtype:
            raise SolverTypeError(
                f"{name} has dtype {x.dtype} but speed has {like.dtype}; convert it with "
                f"{name}.to(speed.dtype)"
            )
        if x.device != like.device:
            raise SolverTypeError(
                f"{name} is on {x.device} but speed is on {like.device}; move it with "
                f"{name}.to(speed.device)"
            )
    if not bool(torch.isfinite(x).all()):
        raise SolverValueError(f"{name} contains NaN or inf")
    return x


def as_batched_map(name: str, x: Tensor, grid: Grid) -> Tensor:
    """A ``(ny, nx)`` or ``(B, ny, nx)`` map as ``(B, ny, nx)`` (``B = 1`` for a shared map).

    Raises:
        SolverValueError: any other shape.
    """
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or tuple(x.shape[1:]) != grid.shape:
        raise SolverValueError(
            f"{name} must have shape (ny, nx) = {grid.shape} or (B, ny, nx), got {tuple(x.shape)}"
        )
    return x


def check_positive(name: str, x: Tensor, hint: str = "") -> None:
    """Refuse a map with a zero or negative value; ``hint`` is appended to the message.

    Raises:
        SolverValueError: naming the smallest value.
    """
    if bool((x <= 0).any()):
        raise SolverValueError(
            f"{name} must be positive everywhere, got a minimum of {float(x.min()):.6g}{hint}"
        )


def check_batch(name: str, x: Tensor, batch: int, hint: str = "") -> None:
    """Refuse a batched map whose batch size is neither 1 nor the waveforms' ``batch``.

    Raises:
        SolverValueError: naming both sizes; ``hint`` is appended to the message.
    """
    if x.shape[0] not in (1, batch):
        raise SolverValueError(
            f"{name} has batch size {x.shape[0]} but waveforms has {batch}{hint}"
        )


def batched_waveforms(waveforms: object, like: Tensor) -> Tensor:
    """The waveforms as ``(B, T, S)``: ``(B, T)`` drives every source alike (``S = 1``).

    Raises:
        SolverTypeError: see :func:`check_tensor`.
        SolverValueError: another number of axes, or no sample.
    """
    waveforms = check_tensor("waveforms", waveforms, like=like)
    if waveforms.ndim == 2:
        waveforms = waveforms.unsqueeze(-1)
    if waveforms.ndim != 3:
        raise SolverValueError(
            f"waveforms must have shape (B, T) or (B, T, S), got {tuple(waveforms.shape)}"
        )
    if waveforms.shape[1] < 1 or waveforms.shape[0] < 1:
        raise SolverValueError(
            f"waveforms must hold at least one sample, got {tuple(waveforms.shape)}"
        )
    return waveforms


def linear_damping(boundary: Boundary, damping: Tensor | None, grid: Grid, batch: int,
                   like: Tensor) -> Tensor:
    """The linear loss rate ``b`` (1/time), ``(1 or B, ny, nx)``: damping layer plus ``damping``.

    Raises:
        SolverTypeError: see :func:`check_tensor`.
        SolverValueError: a negative, misshapen or mis-batched ``damping``.
    """
    bound = torch.zeros(grid.shape, dtype=like.dtype, device=like.device)
    if isinstance(boundary, DampingLayer):
        bound = torch.as_tensor(boundary.damping(grid), dtype=like.dtype, device=like.device)
    b_lin = bound.unsqueeze(0)
    if damping is not None:
        damping = as_batched_map("damping", check_tensor("damping", damping, like=like), grid)
        if bool((damping < 0).any()):
            raise SolverValueError("damping must be non-negative (a loss rate, 1/time)")
        check_batch("damping", damping, batch)
        b_lin = b_lin + damping
    return b_lin


def leapfrog_coefficients(stiffness: Tensor, damping: Tensor, grid: Grid
                          ) -> tuple[Tensor, Tensor, Tensor]:
    """``(α, β, γ)`` of the damped leapfrog update (the module docstring's formula).

    Args:
        stiffness: ``c²`` (scalar waves) or ``K`` (acoustics), broadcastable against ``damping``.
        damping: the loss rate ``b`` (1/time).
        grid: gives ``dt`` and ``h``.
    """
    dt, h = grid.dt, grid.h
    k = damping * (dt / 2)
    inv = 1.0 / (1.0 + k)
    return 2.0 * inv, -(1.0 - k) * inv, stiffness * (dt * dt / (h * h)) * inv


# ------------------------------------------------------------------------------------------
# sources, probes and the absorbing layer


def as_list(name: str, items: object, example: str) -> list:
    """``list(items)`` for a list-like of sources or probes.

    Raises:
        SolverTypeError: a single source or probe, a string, None, or anything not iterable
            (the message shows ``example``).
    """
    if hasattr(items, "cells") or isinstance(items, (str, bytes)) or items is None:
        raise SolverTypeError(
            f"{name} must be a list, e.g. {example}, got {type(items).__name__}"
        )
    try:
        return list(items)  # type: ignore[call-overload]
    except TypeError:
        raise SolverTypeError(
            f"{name} must be a list, e.g. {example}, got {type(items).__name__}"
        ) from None


def source_and_probe_lists(sources: object, probes: object, nsrc: int
                           ) -> tuple[list[Source], list[Probe]]:
    """Validate the ``sources`` and ``probes`` arguments against ``nsrc`` waveform columns.

    Raises:
        SolverTypeError: see :func:`as_list`.
        SolverValueError: no source, or ``nsrc`` neither 1 nor the number of sources.
    """
    source_list = as_list("sources", sources, "[PointSource(70, 40)]")
    probe_list = [] if probes is None else as_list("probes", probes, "[PointProbe(50, 100)]")
    if not source_list:
        raise SolverValueError("sources is empty: give at least one source")
    if nsrc not in (1, len(source_list)):
        raise SolverValueError(
            f"waveforms has {nsrc} source columns but {len(source_list)} sources were given; "
            f"use (B, T) to drive all sources alike or (B, T, {len(source_list)})"
        )
    return source_list, probe_list


def layer_width(boundary: Boundary, grid: Grid) -> int:
    """Thickness in cells of the absorbing layer, checked to leave an interior.

    Raises:
        SolverValueError: a layer that covers the whole grid.
    """
    width = boundary_width(boundary)
    if 2 * width + 1 > min(grid.shape):
        raise SolverValueError(
            f"boundary width {width} leaves no interior in a grid of shape {grid.shape}"
        )
    return width


def check_cells(kind: str, rows: np.ndarray, cols: np.ndarray, grid: Grid, width: int) -> None:
    """Refuse cells outside the grid or inside the ``width``-cell absorbing layer.

    Raises:
        SolverValueError: naming ``kind``, the first bad cell and where cells may go.
    """
    ny, nx = grid.shape
    bad = (rows < 0) | (rows >= ny) | (cols < 0) | (cols >= nx)
    if bad.any():
        k = int(np.argmax(bad))
        raise SolverValueError(
            f"{kind} cell ({rows[k]}, {cols[k]}) lies outside the grid of shape {grid.shape}"
        )
    if width > 0:
        inside = (
            (rows < width) | (rows >= ny - width) | (cols < width) | (cols >= nx - width)
        )
        if inside.any():
            k = int(np.argmax(inside))
            raise SolverValueError(
                f"{kind} cell ({rows[k]}, {cols[k]}) lies inside the {width}-cell absorbing "
                f"layer; place it in rows {width}..{ny - width - 1} and columns "
                f"{width}..{nx - width - 1}"
            )


def source_cells(sources: Sequence[Source], waveforms: Tensor, grid: Grid, width: int
                 ) -> tuple[np.ndarray, np.ndarray, Tensor]:
    """Driven cells and what each adds per step: ``(rows, cols, injection (B, T, Ks))``.

    ``injection`` is the waveform of the cell's source times its weight times ``dt²``.

    Raises:
        SolverTypeError: an item that is not a source.
        SolverValueError: see :func:`check_cells`.
    """
    nsrc = waveforms.shape[2]
    rows, cols, weights, columns = [], [], [], []
    for s, src in enumerate(sources):
        if not hasattr(src, "cells"):
            raise SolverTypeError(f"sources[{s}] is a {type(src).__name__}, not a source")
        cells = src.cells(grid)
        check_cells(f"sources[{s}] ({type(src).__name__})", cells.rows, cells.cols, grid, width)
        rows.append(cells.rows)
        cols.append(cells.cols)
        weights.append(cells.weights)
        columns.append(np.full(cells.rows.shape, s if nsrc > 1 else 0))
    dt = grid.dt
    w = torch.as_tensor(np.concatenate(weights) * dt * dt, dtype=waveforms.dtype,
                        device=waveforms.device)
    col = torch.as_tensor(np.concatenate(columns), device=waveforms.device)
    return np.concatenate(rows), np.concatenate(cols), waveforms[:, :, col] * w


def probe_cells(probes: Sequence[Probe], grid: Grid, width: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Recorded cells, their ``(Kp, P)`` averaging weights and which are intensity probes.

    Raises:
        SolverTypeError: an item that is not a probe.
        SolverValueError: see :func:`check_cells`.
    """
    prow, pcol, pw, pidx, psq = [], [], [], [], []
    for p, prb in enumerate(probes):
        if not hasattr(prb, "cells"):
            raise SolverTypeError(f"probes[{p}] is a {type(prb).__name__}, not a probe")
        cells = prb.cells(grid)
        check_cells(f"probes[{p}] ({type(prb).__name__})", cells.rows, cells.cols, grid, width)
        prow.append(cells.rows)
        pcol.append(cells.cols)
        pw.append(cells.weights)
        pidx.append(np.full(cells.rows.shape, p))
        psq.append(np.full(cells.rows.shape, cells.measure == "intensity"))
    if not prow:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros((0, 0)), np.zeros(0, bool)
    rows, cols = np.concatenate(prow), np.concatenate(pcol)
    matrix = np.zeros((rows.size, len(prow)))
    matrix[np.arange(rows.size), np.concatenate(pidx)] = np.concatenate(pw)
    return rows, cols, matrix, np.concatenate(psq)


def check_resolution(waveforms: Tensor, grid: Grid, c_min: float) -> float:
    """Warn when the sources' band is under-resolved at ``c_min``; returns the peak frequency.

    Called two frames below the propagator, so that the warning points at its caller.

    Warns:
        ResolutionWarning: fewer than :data:`MIN_POINTS_PER_WAVELENGTH` cells per wavelength at
            the band's upper edge.
    """
    peak, upper = source_band(waveforms, grid.dt)
    if upper > 0:
        ppw = c_min / upper / grid.h
        if ppw < MIN_POINTS_PER_WAVELENGTH:
            warnings.warn(
                f"the source band reaches {upper:.4g} (1/time units of dt), where the slowest "
                f"speed {c_min:.4g} gives {ppw:.1f} points per wavelength (< "
                f"{MIN_POINTS_PER_WAVELENGTH:g}): expect numerical dispersion; use "
                f"h ≤ {c_min / upper / MIN_POINTS_PER_WAVELENGTH:.4g} or a lower-frequency source",
                ResolutionWarning, stacklevel=4,
            )
    return peak


def pml_reference(boundary: PML, speed: Tensor, grid: Grid, peak: float
                  ) -> tuple[float, float]:
    """The frequency and speed a PML's grading is designed for (see :class:`PML`)."""
    frequency = peak if peak > 0 else 1.0 / (20 * grid.dt)
    c_ref = boundary.speed
    if c_ref is None:
        width = boundary.width
        layer = torch.ones(grid.shape, dtype=torch.bool, device=speed.device)
        layer[width:-width, width:-width] = False
        c_ref = float(speed.detach()[:, layer].max())
    return frequency, c_ref


def check_nonlinearity(nonlinearity: object, batch: int, like: Tensor, grid: Grid) -> None:
    """Validate a :class:`Nonlinearity` against the run's speed map ``like``.

    Raises:
        SolverTypeError: not a :class:`Nonlinearity`, or tensors of another dtype/device.
        SolverValueError: a misshapen ``rho``, non-finite fields, or a zero ``u_th``.
    """
    if not isinstance(nonlinearity, Nonlinearity):
        raise SolverTypeError(
            f"nonlinearity must be a Nonlinearity, got {type(nonlinearity).__name__}"
        )
    rho = as_batched_map(
        "nonlinearity.rho", check_tensor("nonlinearity.rho", nonlinearity.rho, like=like), grid,
    )
    check_batch("nonlinearity.rho", rho, batch)
    for field in ("b0", "u_th", "c_nl"):
        value = getattr(nonlinearity, field)
        if isinstance(value, Tensor):
            check_tensor(f"nonlinearity.{field}", value, like=like)
        elif not math.isfinite(float(value)):
            raise SolverValueError(f"nonlinearity.{field} must be finite, got {value!r}")
    u_th = nonlinearity.u_th
    if float(torch.as_tensor(u_th).detach().abs().min()) == 0:
        raise SolverValueError("nonlinearity.u_th must be nonzero (a saturation field level)")


def check_faces(faces: object, inv: Tensor, grid: Grid, reach: int) -> tuple[Tensor, Tensor]:
    """Validate user face values ``(x faces, y faces)`` of ``1/ρ`` (the layout of face_mean).

    Raises:
        SolverTypeError: not a pair, or tensors of another dtype/device than ``inv``.
        SolverValueError: a wrong shape (the message gives the right one) or a face ≤ 0.
    """
    if not (isinstance(faces, (tuple, list)) and len(faces) == 2):
        raise SolverTypeError("faces must be a pair (x_faces, y_faces) of tensors")
    ny, nx = grid.shape
    out = []
    for name, x, shape in (("faces[0]", faces[0], (ny, nx + 2 * reach - 1)),
                           ("faces[1]", faces[1], (ny + 2 * reach - 1, nx))):
        x = check_tensor(name, x, like=inv)
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


# ------------------------------------------------------------------------------------------
# the two setups


def scalar_setup(
    speed: Tensor, waveforms: Tensor, grid: Grid, sources: Sequence[Source],
    probes: Sequence[Probe], boundary: Boundary, damping: Tensor | None,
    nonlinearity: Nonlinearity | None, order: int,
) -> ScalarSetup:
    """Validate the arguments of :func:`~wavefab.solver.propagate` and build its coefficients.

    Raises:
        SolverTypeError: an argument of the wrong type, dtype or device.
        SolverValueError: shapes that don't match, cells outside the grid or inside the
            absorbing layer, NaN/inf or non-positive speeds.
        StabilityError: the time step violates the CFL condition of the fastest speed.

    Warns:
        ResolutionWarning: see :func:`check_resolution`.
    """
    check_discretization(grid, order, boundary)
    speed = as_batched_map("speed", check_tensor("speed", speed), grid)
    check_positive("speed", speed)
    waveforms = batched_waveforms(waveforms, speed)
    batch, steps, nsrc = waveforms.shape
    check_batch("speed", speed, batch,
                "; use one speed map (ny, nx) for all or one per waveform")
    sources, probes = source_and_probe_lists(sources, probes, nsrc)
    width = layer_width(boundary, grid)

    b_lin = linear_damping(boundary, damping, grid, batch, speed)
    bc = max(speed.shape[0], b_lin.shape[0])
    speed_b = speed.expand(bc, *grid.shape)
    b_lin = b_lin.expand(bc, *grid.shape)

    c_max = float(speed.detach().max())
    c_min = float(speed.detach().min())
    if nonlinearity is not None:
        check_nonlinearity(nonlinearity, batch, speed, grid)
    grid.check_cfl(c_max, order)

    src_rows, src_cols, injection = source_cells(sources, waveforms, grid, width)
    prb_rows, prb_cols, matrix, square = probe_cells(probes, grid, width)
    peak = check_resolution(waveforms, grid, c_min)

    pml = None
    if isinstance(boundary, PML):
        frequency, c_ref = pml_reference(boundary, speed, grid, peak)
        px = boundary.profile(grid.nx, grid, c_ref, frequency)
        py = boundary.profile(grid.ny, grid, c_ref, frequency)
        pml = (px.a, px.b, px.db, py.a, py.b, py.db)

    alpha, beta, gamma = leapfrog_coefficients(speed_b.pow(2), b_lin, grid)
    return ScalarSetup(
        grid=grid, order=order, batch=batch, steps=steps, alpha=alpha, beta=beta, gamma=gamma,
        b_lin=b_lin, speed=speed_b, injection=injection, src_rows=src_rows, src_cols=src_cols,
        prb_rows=prb_rows, prb_cols=prb_cols,
        probe_matrix=torch.as_tensor(matrix, dtype=speed.dtype, device=speed.device),
        probe_square=torch.as_tensor(square, device=speed.device), pml=pml,
        nonlinearity=nonlinearity,
    )


def acoustic_setup(inv_density: Tensor, bulk_modulus: Tensor, waveforms: Tensor, grid: Grid,
                   sources: Sequence[Source], probes: Sequence[Probe], boundary: Boundary,
                   damping: Tensor | None, order: int,
                   faces: tuple[Tensor, Tensor] | None = None) -> AcousticSetup:
    """Validate the arguments of :func:`~wavefab.solver.propagate_acoustic`; build its coefficients.

    Raises:
        SolverTypeError: an argument of the wrong type, dtype or device.
        SolverValueError: shapes that don't match, cells outside the grid or inside the
            absorbing layer, NaN/inf or non-positive ``1/ρ`` or ``K``, bad ``faces``.
        StabilityError: ``dt`` above the stable step of this medium (:func:`stable_step`).

    Warns:
        ResolutionWarning: see :func:`check_resolution`.
    """
    check_discretization(grid, order, boundary)
    inv = as_batched_map("inv_density", check_tensor("inv_density", inv_density), grid)
    bulk = as_batched_map("bulk_modulus",
                          check_tensor("bulk_modulus", bulk_modulus, like=inv), grid)
    for name, x in (("inv_density", inv), ("bulk_modulus", bulk)):
        check_positive(name, x, " (a rigid solid is a small positive 1/ρ, not zero)")
    waveforms = batched_waveforms(waveforms, inv)
    batch, steps, nsrc = waveforms.shape
    for name, x in (("inv_density", inv), ("bulk_modulus", bulk)):
        check_batch(name, x, batch, "; use one map (ny, nx) for all or one per waveform")
    sources, probes = source_and_probe_lists(sources, probes, nsrc)
    width = layer_width(boundary, grid)

    b_lin = linear_damping(boundary, damping, grid, batch, inv)

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
        face_x, face_y = check_faces(faces, inv, grid, reach)
    dt_max = stable_step(bulk, face_x, face_y, order, h)
    if not dt <= dt_max * (1 + 1e-12):
        raise StabilityError(
            f"CFL violated: dt={dt:.6g} is above the stable step {dt_max:.6g} of this medium "
            f"(staggered order {order}; homogeneous media allow c·dt/h ≤ "
            f"{ACOUSTIC_CFL[order]:.4f} with c = √(K/ρ)); use dt ≤ {dt_max:.6g}"
            + "; a cell much stiffer (larger K) than the faces around it is what limits it: "
            "keep K uniform and let 1/ρ make a solid rigid, and clamp the open fraction of "
            "cut cells (cut_cell_medium's min_open)")

    src_rows, src_cols, injection = source_cells(sources, waveforms, grid, width)
    prb_rows, prb_cols, matrix, square = probe_cells(probes, grid, width)
    peak = check_resolution(waveforms, grid, c_min)
    pml = None
    if isinstance(boundary, PML):
        frequency, c_ref = pml_reference(boundary, speed, grid, peak)
        parts = []
        for n in (grid.nx, grid.ny):
            positions = np.arange(n + 2 * reach - 1) - reach + 0.5
            on_faces = boundary.profile(n, grid, c_ref, frequency, positions=positions)
            on_cells = boundary.profile(n, grid, c_ref, frequency)
            parts += [on_faces.a, on_faces.b, on_cells.a, on_cells.b]
        pml = tuple(parts)

    alpha, beta, gamma = leapfrog_coefficients(bulk, b_lin, grid)
    bc = max(alpha.shape[0], gamma.shape[0])
    alpha, beta = alpha.expand(bc, *grid.shape), beta.expand(bc, *grid.shape)
    gamma = gamma.expand(bc, *grid.shape)
    src = (torch.as_tensor(src_rows, device=inv.device), torch.as_tensor(src_cols,
                                                                         device=inv.device))
    src_gain = (alpha * bulk.expand(bc, *grid.shape))[:, src[0], src[1]]
    return AcousticSetup(
        grid=grid, order=order, batch=batch, steps=steps, alpha=alpha, beta=beta, gamma=gamma,
        face_x=face_x, face_y=face_y, src_gain=src_gain,
        injection=injection, src_rows=src_rows, src_cols=src_cols, prb_rows=prb_rows,
        prb_cols=prb_cols,
        probe_matrix=torch.as_tensor(matrix, dtype=inv.dtype, device=inv.device),
        probe_square=torch.as_tensor(square, device=inv.device), pml=pml)


# ------------------------------------------------------------------------------------------
# what the backends share


def segment_length(setup: ScalarSetup | AcousticSetup, checkpoint_every: int | None,
                   state_arrays: int) -> int:
    """Steps per checkpoint segment (``steps`` means: keep everything, no recomputation).

    Args:
        setup: the run.
        checkpoint_every: the user's option (None: choose from the memory estimate).
        state_arrays: field-sized arrays the backend keeps per step when it stores every step.
    """
    steps = setup.steps
    if checkpoint_every is None:
        per_step = setup.batch * setup.grid.ny * setup.grid.nx * setup.alpha.element_size()
        if per_step * steps * state_arrays <= AUTO_STORE_ALL_BYTES:
            return steps
        return max(1, math.ceil(math.sqrt(steps)))
    check_checkpoint_every(checkpoint_every)
    return steps if checkpoint_every == 0 else min(int(checkpoint_every), steps)


def measure(setup: ScalarSetup | AcousticSetup, recorded: Tensor) -> Tensor:
    """Turn raw recorded cell values ``(B, T, Kp)`` into probe outputs ``(B, T, P)``."""
    values = torch.where(setup.probe_square, recorded * recorded, recorded)
    return values @ setup.probe_matrix


def check_finite(message: str, *fields: Tensor) -> None:
    """Raise ``StabilityError(message)`` if any of ``fields`` holds NaN or inf.

    Raises:
        StabilityError: the field blew up.
    """
    if not all(bool(torch.isfinite(f.detach()).all()) for f in fields):
        raise StabilityError(message)
