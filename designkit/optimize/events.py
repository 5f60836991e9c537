"""What a run reports as it goes: the events :func:`~wavefab.designkit.optimize.optimize` yields.

The CLI's progress display and the designer's live plots consume the same stream: a
:class:`RunStart`, :class:`BatchEnd` per step, :class:`EpochEnd` per epoch, :class:`FoldEnd` per
fold and finally :class:`RunEnd`. Events carry numpy copies, never live tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatchEnd", "EpochEnd", "Event", "FoldEnd", "RunEnd", "RunStart"]


@dataclass
class RunStart:
    """Training begins (or resumes at ``first_fold``/``first_epoch``)."""

    problem: str
    folds: int
    epochs: int
    first_fold: int = 0
    first_epoch: int = 0


@dataclass
class BatchEnd:
    """One optimizer step (Adam) or one objective evaluation (L-BFGS) done."""

    fold: int
    epoch: int
    batch: int
    batches: int
    loss: float


@dataclass
class EpochEnd:
    """One epoch done and evaluated.

    ``metrics`` holds the problem's metrics (e.g. ``train_accuracy``, ``test_accuracy``,
    ``confusion``; ``focus_gain``) and the design's ``gray_level`` (mean of 4ρ(1−ρ) over the
    design region: 0 for a binary design, 1 for all-gray), ``beta`` and (Adam) ``learning_rate``.
    """

    fold: int
    epoch: int
    loss: float
    metrics: dict[str, Any]
    seconds: float
    #: ``(ny, nx)`` wave speed of the medium the metrics were evaluated on (live views)
    speed: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: ``(ny, nx)`` the projected density behind it (to rebuild the medium in any physics)
    density: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def train_accuracy(self) -> float:
        """Classification problems: accuracy on the training examples."""
        return self.metrics["train_accuracy"]

    @property
    def test_accuracy(self) -> float:
        """Classification problems: accuracy on the held-out fold."""
        return self.metrics["test_accuracy"]

    @property
    def confusion(self) -> list[list[int]]:
        """Classification problems: test confusion matrix (rows true, columns predicted)."""
        return self.metrics["confusion"]

    def row(self) -> dict[str, Any]:
        """The flat history record of this epoch."""
        return {"fold": self.fold, "epoch": self.epoch, "loss": self.loss, **self.metrics,
                "seconds": self.seconds}


@dataclass
class FoldEnd:
    """One fold done; ``latent`` is its trained design (numpy copy)."""

    fold: int
    latent: np.ndarray
    metrics: dict


@dataclass
class RunEnd:
    """All folds done: summary metrics, the epoch history and each fold's trained latent.

    ``earlier_seconds`` is the training time that processes before a resume spent.
    """

    metrics: dict
    history: list[dict] = field(default_factory=list)
    latents: list[np.ndarray] = field(default_factory=list)
    earlier_seconds: float = 0.0


Event = RunStart | BatchEnd | EpochEnd | FoldEnd | RunEnd
