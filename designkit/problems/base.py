"""The interface every design problem implements, so that one optimizer loop trains them all.

A problem owns the simulation setup (grid, boundary, sources, probes, design region), splits its
examples into folds, yields training batches, turns probe signals into a loss, and evaluates a
material into metrics. The optimizer (:mod:`wavefab.designkit.optimize`), the results writer and
the front ends know nothing else about it. The pieces a problem is made of (:class:`Setup`,
:class:`Fold`, :class:`Batch`) live in :mod:`.setup`. A user-defined objective is a subclass::

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

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .refine import refine_setup
from .setup import Batch, BatchSettings, Fold, Setup, tensor_digest

__all__ = ["Batch", "BatchSettings", "Fold", "Problem", "Setup", "tensor_digest"]


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
                settings: BatchSettings) -> Iterator[Batch]:
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

        clone = copy.copy(self)
        clone.setup = refine_setup(self.setup, factor)
        return clone

    def fingerprint(self) -> dict[str, Any]:
        """JSON-able identity of the problem; a checkpoint resumes only under the same one."""
        s = self.setup
        identity = {
            "name": self.name,
            "grid": [list(s.grid.shape), s.grid.h, s.grid.dt],
            "boundary": repr(s.boundary),
            "sources": [repr(x) for x in s.sources],
            "probes": [repr(x) for x in s.probes],
            "region_sha256": tensor_digest(s.region),
        }
        if s.nonlinearity is not None:  # (absent when linear: older checkpoints still resume)
            identity["nonlinearity"] = repr(s.nonlinearity)
        return identity
