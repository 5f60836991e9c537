"""The ``training:`` section: epochs, batches, optimizer and the β schedule of a run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ..errors import DesignValueError

__all__ = ["TrainingConfig"]


@dataclass(frozen=True)
class TrainingConfig:
    """How to train, the ``training:`` section (``window`` in samples; rate per Adam step).

    Schedules are functions of the epoch alone, so a resumed run follows them exactly:
    ``lr_decay`` multiplies the learning rate after every epoch; ``beta_schedule`` lists
    ``(first_epoch, beta)`` pairs that replace the material's projection β from that epoch on
    (``.inf`` in YAML for a clean step).

    ``optimizer``: ``"adam"`` takes one step per batch of ``batch_size`` examples; ``"lbfgs"``
    runs scipy's bound-constrained L-BFGS-B on the whole training set for ``lbfgs_iterations``
    iterations per epoch (the latent stays in [0, 1] exactly; ``learning_rate`` is unused). Its
    curvature memory restarts every epoch, which is what makes its epochs exactly resumable;
    deterministic full-batch objectives (the lens) suit it best.

    β continuation beyond the steps of ``beta_schedule``: ``beta_growth`` multiplies β once every
    ``beta_every`` epochs (exponential), or — with ``gray_target`` set — once after every epoch
    whose design is still grayer than the target (until a gray-level target); ``beta_max`` caps
    it. Both depend only on the epoch and the recorded history, so a resume follows them exactly.
    """

    epochs: int = 30
    batch_size: int = 9
    learning_rate: float = 4e-4
    window: int = 1000
    folds: int = 5
    seed: int = 0
    initial_density: float = 0.5
    lr_decay: float = 1.0
    beta_schedule: tuple[tuple[int, float], ...] = ()
    optimizer: Literal["adam", "lbfgs"] = "adam"
    lbfgs_iterations: int = 10
    beta_growth: float = 1.0
    beta_every: int = 1
    beta_max: float = math.inf
    gray_target: float | None = None

    def learning_rate_at(self, epoch: int) -> float:
        """Learning rate used during ``epoch`` (0-based)."""
        return self.learning_rate * self.lr_decay**epoch

    def beta_at(self, epoch: int) -> float | None:
        """Projection β scheduled for ``epoch``, or None to keep the material's."""
        beta = None
        for first, value in self.beta_schedule:
            if epoch >= first:
                beta = value
        return beta

    def beta_for(self, epoch: int, base: float, grays: list[float] | None = None) -> float:
        """β of ``epoch`` from the material's ``base`` β and this fold's earlier gray levels."""
        stepped = self.beta_at(epoch)
        beta = base if stepped is None else stepped
        if self.beta_growth != 1.0:
            if self.gray_target is not None:
                grown = sum(g > self.gray_target for g in (grays or [])[:epoch])
            else:
                grown = epoch // self.beta_every
            beta = beta * self.beta_growth**grown
        return min(beta, self.beta_max)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "window", "folds", "lbfgs_iterations",
                     "beta_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise DesignValueError(f"training.{name} must be a positive integer, got {value!r}")
        if not self.learning_rate > 0:
            raise DesignValueError(
                f"training.learning_rate must be positive, got {self.learning_rate!r}"
            )
        if not 0 <= self.initial_density <= 1:
            raise DesignValueError(
                f"training.initial_density must lie in [0, 1], got {self.initial_density!r}"
            )
        if not 0 < self.lr_decay <= 1:
            raise DesignValueError(f"training.lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        if self.optimizer not in ("adam", "lbfgs"):
            raise DesignValueError(
                f"training.optimizer must be 'adam' or 'lbfgs', got {self.optimizer!r}"
            )
        if not self.beta_growth >= 1:
            raise DesignValueError(f"training.beta_growth must be ≥ 1, got {self.beta_growth!r}")
        if not self.beta_max > 0:
            raise DesignValueError(f"training.beta_max must be positive, got {self.beta_max!r}")
        if self.gray_target is not None and not 0 < self.gray_target < 1:
            raise DesignValueError(
                f"training.gray_target must lie in (0, 1), got {self.gray_target!r}")
        firsts = [first for first, _ in self.beta_schedule]
        if (any(int(f) != f or f < 0 for f in firsts) or firsts != sorted(set(firsts))
                or any(not beta >= 0 for _, beta in self.beta_schedule)):
            raise DesignValueError(
                "training.beta_schedule must be (first_epoch, beta) pairs with increasing "
                f"epochs ≥ 0 and betas ≥ 0, got {self.beta_schedule!r}"
            )
