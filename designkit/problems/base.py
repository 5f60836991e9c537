"""The interface every design problem implements, so that one optimizer loop trains them all.

A problem owns the simulation setup (grid, boundary, sources, probes, design region), splits its
examples into folds, yields training batches, turns probe signals into a loss, and evaluates a
material into metrics. The optimizer (:mod:`wavefab.designkit.optimize`), the results writer and
the front ends know nothing else about it. A user-defined objective is a subclass::

    class MyProblem(Problem):
        name = "mine"
        summary_keys = ("score",)
        def __init__(self): self.setup = Setup(grid=..., boundary=..., sources=(...),
                                              probes=(...), region=...)
        def batches(self, fold, rng, settings): yield Batch(inputs, targets)
        def loss(self, probes, targets): return ...      # a scalar tensor to minimize
        def evaluate(self, speed, fold): return {"score": ...}
"""

from __future__ import annotations

import hashlib
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    PropagationResult,
    ResolutionWarning,
    propagate,
    propagate_acoustic,
)

from ..errors import DesignValueError
from ..media import AcousticMedium

if TYPE_CHECKING:
    from ..optimize import TrainingSettings


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
    """

    grid: Grid
    boundary: DampingLayer | PML
    sources: tuple[Any, ...]
    probes: tuple[Any, ...]
    region: Tensor
    probe_names: tuple[str, ...] = ()
    physics: str = "scalar"

    @property
    def input_dt(self) -> float:
        """Time between samples of the inputs :meth:`simulate` takes (the grid's step)."""
        assert self.grid.dt is not None
        return self.grid.dt

    def simulate(self, speed: Tensor | AcousticMedium, inputs: Tensor,
                 **options: Any) -> PropagationResult:
        """Propagate ``inputs`` ``(B, T)`` (or ``(B, T, S)``) through a medium.

        The medium is a speed map, or (acoustic physics) an
        :class:`~wavefab.designkit.media.AcousticMedium`; in the acoustic physics a speed map
        is a fluid of that speed. The solver's :class:`~wavefab.solver.ResolutionWarning` is
        passed on once per setup, not once per batch.
        """
        if self.physics == "acoustic" and not isinstance(speed, AcousticMedium):
            speed = AcousticMedium.fluid(speed)
        if self.physics != "acoustic" and isinstance(speed, AcousticMedium):
            raise DesignValueError("an acoustic medium needs a problem set up with "
                                   "physics: acoustic")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResolutionWarning)
            kw = {"grid": self.grid, "sources": list(self.sources),
                  "probes": list(self.probes), "boundary": self.boundary, **options}
            if isinstance(speed, AcousticMedium):
                device = speed.inv_density.device
                result = propagate_acoustic(speed.inv_density, speed.bulk_modulus,
                                            inputs.to(device), **kw)
            else:
                result = propagate(speed, inputs.to(speed.device), **kw)
        for warning in caught:
            if issubclass(warning.category, ResolutionWarning):
                if self not in _WARNED:
                    _WARNED.add(self)
                    warnings.warn(warning.message, ResolutionWarning, stacklevel=2)
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
        return result


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


class Problem(ABC):
    """A design task: setup, data splits, batches, loss and metrics.

    Attributes:
        name: short identifier (``"vowels"``, ``"lens"``), recorded in results.
        summary_keys: scalar metrics averaged over folds into a run's summary.
        score: the metric (higher is better) that picks the best fold's design; None: the
            lowest loss.
        setup: the :class:`Setup`.
        seconds_per_step: physical duration of one time step for plots, or None (steps).
    """

    name: str = "problem"
    summary_keys: tuple[str, ...] = ()
    score: str | None = None
    setup: Setup
    seconds_per_step: float | None = None

    def folds(self, count: int, seed: int) -> list[Fold]:
        """Train/test splits; the default is one fold that trains on the single example."""
        return [Fold(train=np.arange(1))]

    @abstractmethod
    def batches(self, fold: Fold, rng: np.random.Generator | None,
                settings: TrainingSettings) -> Iterator[Batch]:
        """Training batches of ``fold`` (shuffled by ``rng``; fixed order when it is None)."""

    @abstractmethod
    def loss(self, probes: Tensor, targets: Tensor) -> Tensor:
        """Scalar loss (mean over the batch) from probe signals ``(B, T, P)``."""

    @abstractmethod
    def evaluate(self, speed: Tensor, fold: Fold) -> dict[str, Any]:
        """Metrics of the material ``speed`` on ``fold`` (floats, or lists for matrices)."""

    def examples(self) -> list[tuple[str, Tensor]]:
        """A few ``(title, waveform (T,))`` inputs to show fields and probe signals for."""
        return []

    def input_band(self) -> tuple[float, float]:
        """``(peak, upper)`` frequency (1/time) of the example inputs; ``(0, 0)`` without any.

        ``upper`` holds 99% of their energy (see :func:`wavefab.solver.source_band`).
        """
        from wavefab.solver import source_band

        examples = self.examples()
        if not examples:
            return 0.0, 0.0
        longest = max(w.numel() for _, w in examples)
        clips = torch.zeros(len(examples), longest)
        for row, (_, waveform) in enumerate(examples):
            clips[row, :waveform.numel()] = waveform.float()
        return source_band(clips, self.setup.input_dt)

    def report(self) -> dict[str, Any]:
        """Extra entries for ``metrics.json`` (e.g. the class names)."""
        return {}

    def refined(self, factor: int) -> Problem:
        """This problem simulated on a grid ``factor`` times finer in space and time.

        The same physical setup (see :mod:`wavefab.designkit.problems.refine`); its
        :meth:`evaluate` takes the design's media (or media of the finer grid) and the same
        folds. Problems that cache simulations (a reference without design) override this to
        drop them.
        """
        import copy

        from .refine import refine_setup

        clone = copy.copy(self)
        clone.setup = refine_setup(self.setup, factor)
        return clone

    def fingerprint(self) -> dict[str, Any]:
        """JSON-able identity of the problem; a checkpoint resumes only under the same one."""
        s = self.setup
        return {
            "name": self.name,
            "grid": [list(s.grid.shape), s.grid.h, s.grid.dt],
            "boundary": repr(s.boundary),
            "sources": [repr(x) for x in s.sources],
            "probes": [repr(x) for x in s.probes],
            "region_sha256": tensor_digest(s.region),
        }


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
