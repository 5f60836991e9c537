"""The scalar wave equation ``u_tt + b u_t = c(x)² ∇²u + f`` on a 2D grid, and its gradients.

Discretization (explicit leapfrog, 2nd order in time; 2nd- or 4th-order Laplacian)::

    (u⁺ − 2u + u⁻)/dt² + b (u⁺ − u⁻)/(2dt) = c² L u + f
    ⇒ u⁺ = α u + β u⁻ + γ T + (α/2)·dt²·f,
       α = 2/(1+k), β = −(1−k)/(1+k), γ = c²dt²/(h²(1+k)), k = b·dt/2,

where ``T`` is the Laplacian in cell units (``h²∇²``), stretched by the convolutional PML inside
the absorbing layer. All of the physics is in these few coefficient maps; everything upstream of
them (speed, damping, the nonlinear material law, the waveforms) is plain differentiable torch,
so gradients with respect to any of it come from autograd through the coefficients.

Two backends compute the same discrete scheme:

* ``"numba"`` (CPU, linear media; :mod:`.scalar_numba`): fused multi-step kernels and a
  hand-written adjoint, wrapped in one autograd function per segment of steps. Only the state at
  segment starts is kept in the forward pass; the backward recomputes one segment at a time.
* ``"torch"`` (any device, and nonlinear media; :mod:`.scalar_torch`): plain tensor operations
  differentiated by autograd, recomputed per segment the same way.

The time convention: step ``n`` (0-based) applies ``f(n·dt)`` and produces ``u((n+1)·dt)``;
probes record that new field, so ``probes[:, n]`` is the probe reading at ``t = (n+1)·dt``.
"""

from __future__ import annotations

import logging
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
from .probes import Probe
from .sources import Source

log = logging.getLogger(__name__)

#: Storing every step for the backward pass is chosen automatically below this many bytes.
AUTO_STORE_ALL_BYTES = 256 * 2**20

#: Points per wavelength below which a :class:`ResolutionWarning` is issued.
MIN_POINTS_PER_WAVELENGTH = 10.0

Backend = Literal["auto", "numba", "torch"]


@dataclass(frozen=True, eq=False)
class Nonlinearity:
    """Material-confined nonlinearity of the reference wave-RNN model.

    With ``rho`` the material fraction (1 inside the material, 0 outside)::

        b(u) = b_lin + rho · b0 / (1 + (u/u_th)²)      (saturable absorption)
        c(u) = c_lin + rho · c_nl · u²                (intensity-dependent speed)

    ``rho`` is a ``(ny, nx)`` or ``(B, ny, nx)`` tensor; any field may be a tensor that requires
    gradients. Nonlinear media run on the ``"torch"`` backend.

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
    """What :func:`propagate` returns.

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


# ------------------------------------------------------------------------------------------
# validation


def _check_tensor(name: str, x: object, *, like: Tensor | None = None) -> Tensor:
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


def _as_batched_map(name: str, x: Tensor, grid: Grid) -> Tensor:
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or tuple(x.shape[1:]) != grid.shape:
        raise SolverValueError(
            f"{name} must have shape (ny, nx) = {grid.shape} or (B, ny, nx), got {tuple(x.shape)}"
        )
    return x


def _as_list(name: str, items: object, example: str) -> list:
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


def _check_cells(kind: str, rows: np.ndarray, cols: np.ndarray, grid: Grid, width: int) -> None:
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


def source_band(waveforms: Tensor, dt: float) -> tuple[float, float]:
    """Return ``(peak, upper)`` frequencies (1/time) of the mean power spectrum of ``waveforms``.

    ``upper`` is where the cumulative spectral energy reaches 99%; both are 0 for silent input.
    """
    w = waveforms.detach().to("cpu", torch.float64)
    w = w.reshape(w.shape[0], w.shape[1], -1).permute(0, 2, 1).reshape(-1, w.shape[1])
    spectrum = torch.fft.rfft(w, n=max(2 * w.shape[1], 16), dim=-1).abs().pow(2).mean(0).numpy()
    freqs = np.fft.rfftfreq(max(2 * w.shape[1], 16), d=dt)
    total = spectrum.sum()
    if total <= 0 or not np.isfinite(total):
        return 0.0, 0.0
    cumulative = np.cumsum(spectrum) / total
    upper = float(freqs[min(np.searchsorted(cumulative, 0.99), len(freqs) - 1)])
    peak = float(freqs[1:][np.argmax(spectrum[1:])]) if len(freqs) > 1 else 0.0
    return peak, upper


# ------------------------------------------------------------------------------------------
# problem setup shared by both backends


@dataclass
class _Setup:
    """Everything both backends need, already validated and in the speed's dtype/device."""

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


def _coefficients(speed: Tensor, b: Tensor, grid: Grid) -> tuple[Tensor, Tensor, Tensor]:
    dt, h = grid.dt, grid.h
    k = b * (dt / 2)
    inv = 1.0 / (1.0 + k)
    return 2.0 * inv, -(1.0 - k) * inv, speed.pow(2) * (dt * dt / (h * h)) * inv


def _setup(
    speed: Tensor, waveforms: Tensor, grid: Grid, sources: Sequence[Source],
    probes: Sequence[Probe], boundary: Boundary, damping: Tensor | None,
    nonlinearity: Nonlinearity | None, order: int,
) -> _Setup:
    if not isinstance(grid, Grid):
        raise SolverTypeError(f"grid must be a wavefab.solver.Grid, got {type(grid).__name__}")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order not in (2, 4):
        raise SolverValueError(f"order must be the integer 2 or 4, got {order!r}")
    if boundary is not None and not isinstance(boundary, (PML, DampingLayer)):
        raise SolverTypeError(
            f"boundary must be PML(...), DampingLayer(...) or None, got {type(boundary).__name__}"
        )
    speed = _as_batched_map("speed", _check_tensor("speed", speed), grid)
    if bool((speed <= 0).any()):
        raise SolverValueError(
            f"speed must be positive everywhere, got a minimum of {float(speed.min()):.6g}"
        )
    waveforms = _check_tensor("waveforms", waveforms, like=speed)
    if waveforms.ndim == 2:
        waveforms = waveforms.unsqueeze(-1)
    if waveforms.ndim != 3:
        raise SolverValueError(
            f"waveforms must have shape (B, T) or (B, T, S), got {tuple(waveforms.shape)}"
        )
    batch, steps, nsrc = waveforms.shape
    if steps < 1 or batch < 1:
        raise SolverValueError(
            f"waveforms must hold at least one sample, got {tuple(waveforms.shape)}"
        )
    if speed.shape[0] not in (1, batch):
        raise SolverValueError(
            f"speed has batch size {speed.shape[0]} but waveforms has {batch}; use one speed "
            f"map (ny, nx) for all or one per waveform"
        )
    sources = _as_list("sources", sources, "[PointSource(70, 40)]")
    probes = [] if probes is None else _as_list("probes", probes, "[PointProbe(50, 100)]")
    if not sources:
        raise SolverValueError("sources is empty: give at least one source")
    if nsrc not in (1, len(sources)):
        raise SolverValueError(
            f"waveforms has {nsrc} source columns but {len(sources)} sources were given; use "
            f"(B, T) to drive all sources alike or (B, T, {len(sources)})"
        )
    width = boundary_width(boundary)
    if 2 * width + 1 > min(grid.shape):
        raise SolverValueError(
            f"boundary width {width} leaves no interior in a grid of shape {grid.shape}"
        )

    bound = torch.zeros(grid.shape, dtype=speed.dtype, device=speed.device)
    if isinstance(boundary, DampingLayer):
        bound = torch.as_tensor(boundary.damping(grid), dtype=speed.dtype, device=speed.device)
    b_lin = bound.unsqueeze(0)
    if damping is not None:
        damping = _as_batched_map("damping", _check_tensor("damping", damping, like=speed), grid)
        if bool((damping < 0).any()):
            raise SolverValueError("damping must be non-negative (a loss rate, 1/time)")
        if damping.shape[0] not in (1, batch):
            raise SolverValueError(
                f"damping has batch size {damping.shape[0]} but waveforms has {batch}"
            )
        b_lin = b_lin + damping
    bc = max(speed.shape[0], b_lin.shape[0])
    speed_b = speed.expand(bc, *grid.shape)
    b_lin = b_lin.expand(bc, *grid.shape)

    c_max = float(speed.detach().max())
    c_min = float(speed.detach().min())
    if nonlinearity is not None:
        if not isinstance(nonlinearity, Nonlinearity):
            raise SolverTypeError(
                f"nonlinearity must be a Nonlinearity, got {type(nonlinearity).__name__}"
            )
        rho = _as_batched_map(
            "nonlinearity.rho", _check_tensor("nonlinearity.rho", nonlinearity.rho, like=speed),
            grid,
        )
        if rho.shape[0] not in (1, batch):
            raise SolverValueError(
                f"nonlinearity.rho has batch size {rho.shape[0]} but waveforms has {batch}"
            )
        for field in ("b0", "u_th", "c_nl"):
            value = getattr(nonlinearity, field)
            if isinstance(value, Tensor):
                _check_tensor(f"nonlinearity.{field}", value, like=speed)
            elif not math.isfinite(float(value)):
                raise SolverValueError(f"nonlinearity.{field} must be finite, got {value!r}")
        u_th = nonlinearity.u_th
        if float(torch.as_tensor(u_th).detach().abs().min()) == 0:
            raise SolverValueError("nonlinearity.u_th must be nonzero (a saturation field level)")
    grid.check_cfl(c_max, order)

    src_rows, src_cols, injection = _source_cells(sources, waveforms, grid, width)
    prb_rows, prb_cols, matrix, square = _probe_cells(probes, grid, width)
    peak = _check_resolution(waveforms, grid, c_min)

    pml = None
    if isinstance(boundary, PML):
        frequency, c_ref = _pml_reference(boundary, speed, grid, peak)
        px = boundary.profile(grid.nx, grid, c_ref, frequency)
        py = boundary.profile(grid.ny, grid, c_ref, frequency)
        pml = (px.a, px.b, px.db, py.a, py.b, py.db)

    alpha, beta, gamma = _coefficients(speed_b, b_lin, grid)
    return _Setup(
        grid=grid, order=order, batch=batch, steps=steps, alpha=alpha, beta=beta, gamma=gamma,
        b_lin=b_lin, speed=speed_b, injection=injection, src_rows=src_rows, src_cols=src_cols,
        prb_rows=prb_rows, prb_cols=prb_cols,
        probe_matrix=torch.as_tensor(matrix, dtype=speed.dtype, device=speed.device),
        probe_square=torch.as_tensor(square, device=speed.device), pml=pml,
        nonlinearity=nonlinearity,
    )


def _source_cells(sources: Sequence[Source], waveforms: Tensor, grid: Grid, width: int
                  ) -> tuple[np.ndarray, np.ndarray, Tensor]:
    """Driven cells and what each adds per step: ``(rows, cols, injection (B, T, Ks))``.

    ``injection`` is the waveform of the cell's source times its weight times ``dt²``.
    """
    nsrc = waveforms.shape[2]
    rows, cols, weights, columns = [], [], [], []
    for s, src in enumerate(sources):
        if not hasattr(src, "cells"):
            raise SolverTypeError(f"sources[{s}] is a {type(src).__name__}, not a source")
        cells = src.cells(grid)
        _check_cells(f"sources[{s}] ({type(src).__name__})", cells.rows, cells.cols, grid, width)
        rows.append(cells.rows)
        cols.append(cells.cols)
        weights.append(cells.weights)
        columns.append(np.full(cells.rows.shape, s if nsrc > 1 else 0))
    dt = grid.dt
    w = torch.as_tensor(np.concatenate(weights) * dt * dt, dtype=waveforms.dtype,
                        device=waveforms.device)
    col = torch.as_tensor(np.concatenate(columns), device=waveforms.device)
    return np.concatenate(rows), np.concatenate(cols), waveforms[:, :, col] * w


def _probe_cells(probes: Sequence[Probe], grid: Grid, width: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Recorded cells, their ``(Kp, P)`` averaging weights and which are intensity probes."""
    prow, pcol, pw, pidx, psq = [], [], [], [], []
    for p, prb in enumerate(probes):
        if not hasattr(prb, "cells"):
            raise SolverTypeError(f"probes[{p}] is a {type(prb).__name__}, not a probe")
        cells = prb.cells(grid)
        _check_cells(f"probes[{p}] ({type(prb).__name__})", cells.rows, cells.cols, grid, width)
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


def _check_resolution(waveforms: Tensor, grid: Grid, c_min: float) -> float:
    """Warn when the sources' band is under-resolved at ``c_min``; returns the peak frequency."""
    dt = grid.dt
    peak, upper = source_band(waveforms, dt)
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


def _pml_reference(boundary: PML, speed: Tensor, grid: Grid, peak: float
                   ) -> tuple[float, float]:
    """The frequency and speed a PML's grading is designed for (see :class:`PML`)."""
    dt = grid.dt
    frequency = peak if peak > 0 else 1.0 / (20 * dt)
    c_ref = boundary.speed
    if c_ref is None:
        width = boundary.width
        layer = torch.ones(grid.shape, dtype=torch.bool, device=speed.device)
        layer[width:-width, width:-width] = False
        c_ref = float(speed.detach()[:, layer].max())
    return frequency, c_ref


def _check_step_options(snapshot_every: int | None, checkpoint_every: int | None) -> None:
    """Validate the snapshot and checkpoint intervals both solvers take."""
    if snapshot_every is not None and (
        isinstance(snapshot_every, (bool, str)) or as_int("snapshot_every", snapshot_every) < 1
    ):
        raise SolverValueError(f"snapshot_every must be a positive integer, got {snapshot_every!r}")
    _check_checkpoint_every(checkpoint_every)


def _check_checkpoint_every(checkpoint_every: int | None) -> None:
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


def _segment_length(setup: _Setup, checkpoint_every: int | None, state_arrays: int) -> int:
    """Steps per checkpoint segment (``steps`` means: keep everything, no recomputation)."""
    steps = setup.steps
    if checkpoint_every is None:
        per_step = setup.batch * setup.grid.ny * setup.grid.nx * setup.alpha.element_size()
        if per_step * steps * state_arrays <= AUTO_STORE_ALL_BYTES:
            return steps
        return max(1, math.ceil(math.sqrt(steps)))
    _check_checkpoint_every(checkpoint_every)
    return steps if checkpoint_every == 0 else min(int(checkpoint_every), steps)


def _measure(setup: _Setup, recorded: Tensor) -> Tensor:
    """Turn raw recorded cell values ``(B, T, Kp)`` into probe outputs ``(B, T, P)``."""
    values = torch.where(setup.probe_square, recorded * recorded, recorded)
    return values @ setup.probe_matrix


# ------------------------------------------------------------------------------------------
# public entry point


def propagate(
    speed: Tensor,
    waveforms: Tensor,
    *,
    grid: Grid,
    sources: Sequence[Source],
    probes: Sequence[Probe] = (),
    boundary: Boundary = PML(width=20),  # noqa: B008 - frozen dataclass, safe as a default
    damping: Tensor | None = None,
    nonlinearity: Nonlinearity | None = None,
    snapshot_every: int | None = None,
    checkpoint_every: int | None = None,
    order: int = 2,
    backend: Backend = "auto",
) -> PropagationResult:
    """Propagate batched waveforms through a medium and record the probes.

    Args:
        speed: wave speed ``c``, ``(ny, nx)`` or ``(B, ny, nx)``, float32/float64 (units of
            h/dt). Sets dtype and device of the run; may require gradients.
        waveforms: source signals ``(B, T)`` (every source driven alike) or ``(B, T, S)`` (one
            column per source), same dtype/device as ``speed``; may require gradients.
        grid: cell size, time step and shape.
        sources: where the waveforms enter (:class:`PointSource`, :class:`LineSource`,
            :class:`MaskSource`).
        probes: what to record (:class:`PointProbe`, :class:`RegionProbe`).
        boundary: :class:`PML`, :class:`DampingLayer`, or None for rigid ``u = 0`` walls.
        damping: extra loss rate ``b`` (1/time), ``(ny, nx)`` or ``(B, ny, nx)``; may require
            gradients.
        nonlinearity: optional material-confined :class:`Nonlinearity`.
        snapshot_every: keep the whole field every ``k`` steps in ``result.snapshots``.
        checkpoint_every: steps between stored states for the backward pass. ``None`` chooses:
            store every step when that is estimated to take ≤ 256 MiB, else segments of ≈ √T
            steps. ``0`` stores every step (fastest backward, most memory; needed for second
            derivatives, which only the torch backend gives); ``k`` keeps one state per ``k``
            steps and recomputes each segment once in the backward pass.
        order: spatial order of the Laplacian, 2 or 4.
        backend: ``"numba"`` (CPU, linear media), ``"torch"`` (any device), or ``"auto"``.

    Returns:
        A :class:`PropagationResult` with ``probes`` of shape ``(B, T, P)``.

    Raises:
        SolverTypeError: an argument of the wrong type, dtype or device.
        SolverValueError: shapes that don't match, cells outside the grid or inside the
            absorbing layer, NaN/inf or non-positive speeds, bad options.
        StabilityError: the time step violates the CFL condition, or the field blew up.
    """
    _check_step_options(snapshot_every, checkpoint_every)
    if backend not in ("auto", "numba", "torch"):
        raise SolverValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
    setup = _setup(speed, waveforms, grid, sources, probes, boundary, damping, nonlinearity, order)
    on_cpu = setup.alpha.device.type == "cpu"
    if backend == "auto":
        backend = "numba" if on_cpu and nonlinearity is None else "torch"
    if backend == "numba" and (not on_cpu or nonlinearity is not None):
        raise SolverValueError(
            "backend='numba' runs linear media on the CPU only; use backend='torch' (or 'auto') "
            "for CUDA tensors or a nonlinearity"
        )
    if backend == "numba":
        from .scalar_numba import run_numba

        recorded, snapshots, segments, final = run_numba(setup, snapshot_every,
                                                         checkpoint_every)
    else:
        from .scalar_torch import run_torch

        recorded, snapshots, segments, final = run_torch(setup, snapshot_every,
                                                         checkpoint_every)
    probes_out = _measure(setup, recorded)
    if not (bool(torch.isfinite(recorded.detach()).all())
            and bool(torch.isfinite(final.detach()).all())):
        raise StabilityError(
            "the field became non-finite during propagation: the medium is unstable (check the "
            "nonlinearity strength and the CFL number of the largest speed it produces)"
        )
    return PropagationResult(probes=probes_out, snapshots=snapshots, backend=backend,
                             segments=segments)
