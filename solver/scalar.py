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

* ``"numba"`` (CPU; :mod:`.backends.scalar_numba` for linear media, :mod:`.backends.nonlinear_numba`
  for the nonlinear material law without a PML): fused multi-step kernels and a hand-written
  adjoint, wrapped in one autograd function per segment of steps. Only the state at segment
  starts is kept in the forward pass; the backward recomputes one segment at a time.
* ``"torch"`` (any device, and nonlinear media with a PML; :mod:`.backends.scalar_torch`): plain
  tensor ops differentiated by autograd, recomputed per segment the same way.

The time convention: step ``n`` (0-based) applies ``f(n·dt)`` and produces ``u((n+1)·dt)``;
probes record that new field, so ``probes[:, n]`` is the probe reading at ``t = (n+1)·dt``.

This module is the public entry point only: the inputs are checked and the coefficients built by
:func:`wavefab.solver._setup.scalar_setup`, and the steps run in the backends.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from ._setup import (
    Backend,
    Nonlinearity,
    PropagationResult,
    check_backend,
    check_finite,
    check_step_options,
    measure,
    scalar_setup,
)
from .boundaries import PML, Boundary
from .errors import SolverValueError
from .grid import Grid
from .probes import Probe
from .sources import Source
from .waveforms import source_band

__all__ = ["Backend", "Nonlinearity", "PropagationResult", "propagate", "source_band"]


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
        backend: ``"numba"`` (CPU; nonlinear media only without a PML), ``"torch"`` (any
            device), ``"cuda"`` (fused CUDA kernels with the exact adjoint, for linear media
            without a PML; opt-in until validated on a device), or ``"auto"`` (numba where it
            applies, else torch).

    Returns:
        A :class:`PropagationResult` with ``probes`` of shape ``(B, T, P)``.

    Raises:
        SolverTypeError: an argument of the wrong type, dtype or device.
        SolverValueError: shapes that don't match, cells outside the grid or inside the
            absorbing layer, NaN/inf or non-positive speeds, bad options.
        StabilityError: the time step violates the CFL condition, or the field blew up.
    """
    check_step_options(snapshot_every, checkpoint_every)
    check_backend(backend)
    setup = scalar_setup(speed, waveforms, grid, sources, probes, boundary, damping, nonlinearity,
                         order)
    on_cpu = setup.alpha.device.type == "cpu"
    fused = on_cpu and (nonlinearity is None or setup.pml is None)
    if backend == "auto":
        backend = "numba" if fused else "torch"
    if backend == "numba" and not fused:
        raise SolverValueError(
            "backend='numba' runs on the CPU, and nonlinear media only without a PML (a damping "
            "layer or rigid walls); use backend='torch' (or 'auto') for CUDA tensors or a "
            "nonlinearity with the PML"
        )
    if backend == "cuda":
        from .backends import kernels_cuda

        kernels_cuda.check_case(setup.pml is not None, on_cpu)
    if backend == "cuda" and nonlinearity is not None:
        from .backends import kernels_cuda
        from .backends.nonlinear_numba import run_nonlinear_numba

        recorded, snapshots, segments, final = run_nonlinear_numba(
            setup, snapshot_every, checkpoint_every, cuda=kernels_cuda)
    elif backend == "cuda":
        from .backends.scalar_numba import run_cuda

        recorded, snapshots, segments, final = run_cuda(setup, snapshot_every, checkpoint_every)
    elif backend == "numba" and nonlinearity is not None:
        from .backends.nonlinear_numba import run_nonlinear_numba

        recorded, snapshots, segments, final = run_nonlinear_numba(setup, snapshot_every,
                                                                   checkpoint_every)
    elif backend == "numba":
        from .backends.scalar_numba import run_numba

        recorded, snapshots, segments, final = run_numba(setup, snapshot_every,
                                                         checkpoint_every)
    else:
        from .backends.scalar_torch import run_torch

        recorded, snapshots, segments, final = run_torch(setup, snapshot_every,
                                                         checkpoint_every)
    check_finite(
        "the field became non-finite during propagation: the medium is unstable (check the "
        "nonlinearity strength and the CFL number of the largest speed it produces)",
        recorded, final,
    )
    return PropagationResult(probes=measure(setup, recorded), snapshots=snapshots,
                             backend=backend, segments=segments)
