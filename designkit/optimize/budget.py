"""What a run will cost, before it starts: peak memory and wall time from the configuration.

A run is ``folds × epochs`` epochs; an epoch simulates every training batch forward and back
(L-BFGS: once per iteration) and evaluates the design on the fold's examples forward only. The
work is counted in cell-updates (examples × steps × grid cells) from the problem's own batches,
so it follows the grid, the batch size, the steps, the epochs and the folds exactly; only the
machine's rate is a constant (:data:`RATES`, measured with ``bench/solver.py`` on the 2-core
reference CPU, rounded down: a busy machine is slower).

Memory follows the solver's checkpointing (:func:`wavefab.solver._setup.segment_length`): every
step of a batch is kept when that fits 256 MiB, else about ``2 √T`` steps of it.

:func:`check_budget` refuses a run whose estimate exceeds this machine's physical memory and one
longer than :data:`LONG_RUN_S` unless it is allowed; the message says what to change.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import DesignValueError
from ..problems.base import Problem
from .settings import TrainingConfig

__all__ = ["LONG_RUN_S", "RATES", "ROBUST_FACTOR", "RunCost", "check_budget", "estimate_cost",
           "machine_memory"]

#: Cell-updates per second, forward + backward, by (physics, device); forward alone is ~3× as fast.
#: CPU scalar: fitted to vowels_paper.yaml (17 min) and vowels_quick.yaml (2.3 min) on the
#: recordings, measured with the impulse-response evaluation and all cores (6.5e8 and 6.4e8);
#: vowels_fab.yaml (57 min at the earlier 4e8 fit) was not remeasured since. CPU acoustic: fitted
#: to vowels_acoustic.yaml (~2 h). CUDA: not yet measured; a guess from the kernels' memory
#: traffic.
RATES = {("scalar", "cpu"): 6.4e8, ("acoustic", "cpu"): 2e8,
         ("scalar", "cuda"): 5e9, ("acoustic", "cuda"): 2e9}
#: The nonlinear material law's rate relative to the linear model's: its fused kernels run
#: forward + backward at 0.44× (``bench/solver.py --cases p1-nonlinear_damping``); end to end
#: vowels_nonlinear.yaml (5 folds × 6 epochs, 17.3 min measured) fits 0.28×, its evaluation
#: simulating every recording.
NONLINEAR_RATE = 0.28
#: The robust formulation simulates three designs (eroded, nominal, dilated) in one batch; the
#: larger batch runs at a better rate, 2× the work of one in wall time (vowels_fab.yaml).
ROBUST_FACTOR = 2.0
#: Above this estimate (seconds) a run needs to be allowed (``wavefab run --allow-long``).
LONG_RUN_S = 3600.0
#: What the solver keeps in memory without checkpoint segments (its AUTO_STORE_ALL_BYTES).
_STORE_ALL_BYTES = 256 * 1024**2
#: Field-sized arrays kept per stored step (scalar: u, u⁻ and the PML's; acoustic: p, v and
#: the PML's memory on the faces), and alive besides the stored steps (coefficients, gradients,
#: the backward pass's adjoints).
_STORED = {"scalar": 3, "acoustic": 6}
_WORKING = 24
#: The interpreter, torch and numba with their code, before any field (bytes).
_BASELINE = 500 * 1024**2


@dataclass(frozen=True)
class RunCost:
    """The estimate of one run.

    Attributes:
        cell_updates: grid cells × steps × examples simulated, forward and back counted once.
        seconds: wall time at :data:`RATES` (s).
        memory_bytes: peak resident memory (bytes).
        batch_shape: ``(examples, steps)`` of the largest batch.
    """

    cell_updates: float
    seconds: float
    memory_bytes: float
    batch_shape: tuple[int, int]

    def describe(self) -> str:
        """One line: time and memory."""
        return (f"about {_duration(self.seconds)} and {self.memory_bytes / 1024**3:.1f} GiB "
                f"({self.cell_updates:.1e} cell-updates)")


def estimate_cost(problem: Problem, settings: TrainingConfig, *, physics: str = "scalar",
                  device: str = "cpu", robust: bool = False) -> RunCost:
    """Estimate the time and peak memory of training ``problem`` with ``settings``.

    Args:
        problem: the built problem (its batches are counted, not simulated).
        settings: the ``training:`` section.
        physics: ``scalar`` or ``acoustic``.
        device: ``cpu`` or ``cuda``.
        robust: the robust formulation (``fabrication.robust``).
    """
    cells = problem.setup.grid.ny * problem.setup.grid.nx
    folds = problem.folds(settings.folds, settings.seed)
    fold = folds[0]
    largest, steps, trained = (1, 1), 1, 0.0
    for batch in problem.batches(fold, None, settings):
        b, t = int(batch.inputs.shape[0]), int(batch.inputs.shape[-1])
        trained += b * t
        steps = max(steps, t)
        if b * t > largest[0] * largest[1]:
            largest = (b, t)
    examples = len(fold.train) + (0 if fold.test is None else len(fold.test))
    passes = settings.lbfgs_iterations if settings.optimizer == "lbfgs" else 1
    # evaluation runs forward only (~3x the rate); a problem that reads every example from one
    # impulse response (VowelProblem on a linear, time-invariant setup) simulates once
    by_response = getattr(problem, "evaluates_by_response", False)
    per_epoch = cells * (trained * passes + (1 if by_response else examples) * steps / 3.0)
    cell_updates = per_epoch * settings.epochs * len(folds)
    rate = RATES.get((physics, device), RATES[(physics, "cpu")])
    if problem.setup.nonlinearity is not None:
        rate *= NONLINEAR_RATE
    if robust:
        cell_updates *= 3
        rate *= 3 / ROBUST_FACTOR
    field = largest[0] * cells * 4.0 * (3 if robust else 1)  # float32
    kept = _STORED.get(physics, 3)
    stored = largest[1] if field * largest[1] * kept <= _STORE_ALL_BYTES else \
        2 * math.ceil(math.sqrt(largest[1]))
    memory = _BASELINE + field * (kept * stored + _WORKING)
    return RunCost(cell_updates=float(cell_updates), seconds=float(cell_updates / rate),
                   memory_bytes=float(memory), batch_shape=largest)


def machine_memory() -> int:
    """This machine's memory (bytes): physical memory, or a container's limit where lower.

    A fixed figure, not today's free memory, so that the same run is accepted or refused the
    same way on a busy machine as on an idle one.
    """
    try:
        total = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: no refusal
        total = 2**62
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(limit).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def check_budget(cost: RunCost, *, allow_long: bool = False,
                 memory_bytes: int | None = None) -> None:
    """Refuse a run that cannot fit in memory, or that is long and not allowed.

    Args:
        cost: the estimate.
        allow_long: run even above :data:`LONG_RUN_S`.
        memory_bytes: the machine's memory (default: :func:`machine_memory`).

    Raises:
        DesignValueError: naming the estimate and the settings to change.
    """
    total = machine_memory() if memory_bytes is None else memory_bytes
    if cost.memory_bytes > 0.9 * total:
        b, t = cost.batch_shape
        raise DesignValueError(
            f"this run needs about {cost.memory_bytes / 1024**3:.1f} GiB (batches of {b} "
            f"examples × {t} steps on the grid) and this machine has "
            f"{total / 1024**3:.1f} GiB; lower training.batch_size or the grid size")
    if cost.seconds > LONG_RUN_S and not allow_long:
        raise DesignValueError(
            f"this run would take {cost.describe()} on this machine; pass --allow-long to run "
            "it anyway, or lower training.epochs, training.folds or the grid size")


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "forever"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
