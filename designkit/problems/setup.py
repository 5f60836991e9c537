"""What a problem simulates and trains on: the setup, the folds and the batches.

A leaf below every problem (and below :mod:`.refine`, which builds a finer setup): the
simulation setup (grid, boundary, sources, probes, design region, physics) with its
:meth:`Setup.simulate`, a :class:`Fold` of example indices, a :class:`Batch` of inputs and
targets, and :class:`BatchSettings`, what a problem reads of the training configuration, so that
problems never import the optimizer.
"""

from __future__ import annotations

import hashlib
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    Nonlinearity,
    PointProbe,
    PropagationResult,
    ResolutionWarning,
    propagate,
    propagate_acoustic,
)

from ..errors import DesignValueError
from ..parametrization.media import AcousticMedium

__all__ = ["Batch", "BatchSettings", "Fold", "LinearResponse", "MaterialNonlinearity", "Setup",
           "tensor_digest"]


class BatchSettings(Protocol):
    """What :meth:`~.base.Problem.batches` reads of the ``training:`` section.

    :class:`~wavefab.designkit.optimize.TrainingConfig` satisfies it.
    """

    @property
    def batch_size(self) -> int:
        """Examples per batch."""
        ...

    @property
    def window(self) -> int:
        """Samples per training clip (recordings)."""
        ...


@dataclass(frozen=True)
class MaterialNonlinearity:
    """The reference model's nonlinearity, confined to the material.

    Saturable absorption and an intensity-dependent speed (Hughes et al., Sci. Adv. 2019).

    With ρ the material fraction of a cell, read back from its speed through the linear law
    ``c = c0 + (c1 − c0)·ρ`` (so every path that simulates a speed map — training, evaluation,
    the results and the made file — sees the same nonlinearity)::

        b(u) = b_lin + ρ · b0 / (1 + (u/u_th)²)      c(u) = c_lin + ρ · c_nl · u²

    Args:
        b0: saturable damping rate (1/time, the grid's time unit).
        u_th: saturation threshold (field units); positive.
        c_nl: speed change per field² (negative: the material slows where the field is large).
        c0, c1: the linear law's speeds at ρ = 0 and ρ = 1 (``material.c0``/``c1``).
    """

    b0: float = 0.0
    u_th: float = 1.0
    c_nl: float = 0.0
    c0: float = 1.0
    c1: float = 0.5

    def __post_init__(self) -> None:
        if not self.u_th > 0:
            raise DesignValueError(f"nonlinearity.u_th must be positive, got {self.u_th}")
        if self.c1 == self.c0:
            raise DesignValueError("a nonlinearity confined to the material needs material.c1 "
                                   "≠ material.c0 (the material fraction is read from the speed)")

    def of(self, speed: Tensor) -> Nonlinearity:
        """The solver's :class:`~wavefab.solver.Nonlinearity` for a speed map (differentiable)."""
        rho = ((speed - self.c0) / (self.c1 - self.c0)).clamp(0.0, 1.0)
        return Nonlinearity(rho=rho, b0=self.b0, u_th=self.u_th, c_nl=self.c_nl)


#: Setups that have already passed on a resolution warning.
_WARNED: weakref.WeakSet[Setup] = weakref.WeakSet()


@dataclass(frozen=True, eq=False)
class Setup:
    """What is simulated: grid, absorbing boundary, sources, probes and the design region.

    Args:
        grid: the simulation grid.
        boundary: absorbing layer around the domain.
        sources: where input waveforms enter.
        probes: where the output is read.
        region: ``(ny, nx)`` bool mask of the cells the optimizer may change.
        probe_names: one label per probe (for plots and reports).
        physics: ``"scalar"`` (speed maps, :func:`~wavefab.solver.propagate`) or
            ``"acoustic"`` (:func:`~wavefab.solver.propagate_acoustic`).
        nonlinearity: the material's nonlinearity (scalar physics), or None (linear).
    """

    grid: Grid
    boundary: DampingLayer | PML
    sources: tuple[Any, ...]
    probes: tuple[Any, ...]
    region: Tensor
    probe_names: tuple[str, ...] = ()
    physics: str = "scalar"
    nonlinearity: MaterialNonlinearity | None = None

    @property
    def input_dt(self) -> float:
        """Time between samples of the inputs :meth:`simulate` takes (the grid's step)."""
        return self.grid.dt

    def simulate(self, speed: Tensor | AcousticMedium, inputs: Tensor,
                 **options: Any) -> PropagationResult:
        """Propagate ``inputs`` ``(B, T)`` (or ``(B, T, S)``) through a medium.

        The medium is a speed map, or (acoustic physics) an
        :class:`~wavefab.designkit.parametrization.AcousticMedium`; in the acoustic physics a
        speed map is a fluid of that speed. The solver's
        :class:`~wavefab.solver.ResolutionWarning` is passed on once per setup, not per batch.
        """
        if self.physics == "acoustic" and not isinstance(speed, AcousticMedium):
            speed = AcousticMedium.fluid(speed)
        if self.nonlinearity is not None and self.physics != "scalar":
            raise DesignValueError("a nonlinearity needs physics: scalar (the acoustic model "
                                   "is linear)")
        if self.physics != "acoustic" and isinstance(speed, AcousticMedium):
            raise DesignValueError("an acoustic medium needs a problem set up with "
                                   "physics: acoustic")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResolutionWarning)
            result = self._propagate(speed, inputs, **options)
        for warning in caught:
            if issubclass(warning.category, ResolutionWarning):
                if self not in _WARNED:
                    _WARNED.add(self)
                    warnings.warn(warning.message, ResolutionWarning, stacklevel=2)
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
        return result

    def _propagate(self, speed: Tensor | AcousticMedium, inputs: Tensor,
                   **options: Any) -> PropagationResult:
        """The solver call of :meth:`simulate` (no warning handling)."""
        kw = {"grid": self.grid, "sources": list(self.sources),
              "probes": list(self.probes), "boundary": self.boundary, **options}
        if isinstance(speed, AcousticMedium):
            device = speed.inv_density.device
            return propagate_acoustic(speed.inv_density, speed.bulk_modulus, inputs.to(device),
                                      **kw)
        if self.nonlinearity is not None and kw.get("nonlinearity") is None:
            kw["nonlinearity"] = self.nonlinearity.of(speed)
        return propagate(speed, inputs.to(speed.device), **kw)

    @property
    def time_invariant(self) -> bool:
        """Whether :meth:`linear_response` applies to this setup (given one shared medium)."""
        # (a PML is graded for the inputs' peak frequency, so its response depends on them)
        return (type(self) is Setup and self.nonlinearity is None and len(self.sources) == 1
                and not isinstance(self.boundary, PML))

    def linear_response(self, speed: Tensor | AcousticMedium, steps: int
                        ) -> LinearResponse | None:
        """The probes' response to an impulse, for evaluating many inputs at once (no gradient).

        A linear, time-invariant setup (no nonlinearity, one source, one shared medium, the
        design's own grid, a damping layer or rigid walls) reads any input as the convolution
        of that input with the field its impulse leaves at each probe cell: one simulation of
        ``steps`` steps then stands for a whole data set. Returns None where that does not
        hold; use :meth:`simulate` there.
        """
        medium = speed
        if self.physics == "acoustic" and not isinstance(medium, AcousticMedium):
            medium = AcousticMedium.fluid(medium)
        maps = ((medium.inv_density, medium.bulk_modulus) if isinstance(medium, AcousticMedium)
                else (medium,))
        if (not self.time_invariant or any(m.ndim != 2 for m in maps)
                or (self.physics != "acoustic" and isinstance(speed, AcousticMedium))):
            return None
        cells = [probe.cells(self.grid) for probe in self.probes]
        field_probes = [PointProbe(int(r), int(c)) for pc in cells
                        for r, c in zip(pc.rows, pc.cols, strict=True)]
        matrix = np.zeros((len(field_probes), len(cells)))
        square = np.zeros(len(field_probes), bool)
        k = 0
        for p, pc in enumerate(cells):
            matrix[k:k + pc.rows.size, p] = pc.weights
            square[k:k + pc.rows.size] = pc.measure == "intensity"
            k += pc.rows.size
        impulse = torch.zeros(1, steps, dtype=maps[0].dtype, device=maps[0].device)
        impulse[0, 0] = 1.0
        with torch.no_grad(), warnings.catch_warnings():
            # an impulse is broadband by design: the inputs' own band is what resolution means
            warnings.simplefilter("ignore", ResolutionWarning)
            fields = self._propagate(medium, impulse, probes=field_probes).probes[0]
        return LinearResponse(fields, torch.as_tensor(matrix, device=fields.device),
                              torch.as_tensor(square, device=fields.device))


@dataclass(frozen=True)
class LinearResponse:
    """A linear setup's probe readings for any input, from one impulse response.

    Attributes:
        fields: ``(T, K)`` the field at each probe cell after step ``n`` of a unit impulse
            entering at step 0.
        matrix: ``(K, P)`` each probe's weights over the cells.
        square: ``(K,)`` cells read as intensity (squared before weighting).
    """

    fields: Tensor
    matrix: Tensor
    square: Tensor

    def __call__(self, inputs: Tensor) -> Tensor:
        """The probe readings ``(B, T, P)`` of inputs ``(B, T)``, as :meth:`Setup.simulate` gives.

        ``T`` is at most the response's length; the convolution is done in float64.
        """
        steps = int(inputs.shape[1])
        if steps > self.fields.shape[0]:
            raise DesignValueError(f"inputs of {steps} steps are longer than the response "
                                   f"({self.fields.shape[0]} steps)")
        n = 1 << (2 * steps - 1).bit_length()  # zero-padded: a linear, not a cyclic, convolution
        spectrum = torch.fft.rfft(self.fields[:steps].double(), n=n, dim=0)
        x = torch.fft.rfft(inputs.to(self.fields.device).double(), n=n, dim=1)
        fields = torch.fft.irfft(x[:, :, None] * spectrum[None], n=n, dim=1)[:, :steps]
        values = torch.where(self.square, fields * fields, fields)
        return (values @ self.matrix).to(inputs.dtype)


@dataclass(frozen=True)
class Fold:
    """One train/test split: indices into the problem's examples (``test`` None: no test set)."""

    train: np.ndarray
    test: np.ndarray | None = None


@dataclass(frozen=True)
class Batch:
    """Inputs ``(B, T)`` for the sources and whatever :meth:`Problem.loss` needs as targets."""

    inputs: Tensor
    targets: Tensor

    @property
    def size(self) -> int:
        """Number of examples."""
        return int(self.inputs.shape[0])




def tensor_digest(*arrays: Tensor | np.ndarray | Sequence[np.ndarray]) -> str:
    """SHA-256 over the shapes and bytes of the arrays (in order)."""
    digest = hashlib.sha256()
    for item in arrays:
        parts = item if isinstance(item, (list, tuple)) else [item]
        for part in parts:
            array = part.detach().cpu().numpy() if isinstance(part, torch.Tensor) else part
            array = np.ascontiguousarray(array)
            digest.update(str((array.shape, array.dtype.str)).encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
