"""The training loop: k-fold cross-validated training of a wave medium, as a stream of events.

:func:`optimize` trains any :class:`~wavefab.designkit.problems.base.Problem` with Adam or
L-BFGS-B. It is a generator: the CLI's progress bar and the GUI's live plots consume the same
:class:`RunStart`/:class:`BatchEnd`/:class:`EpochEnd`/:class:`FoldEnd`/:class:`RunEnd` events,
and stopping between events is always safe. After every epoch the full training state is written
atomically (``checkpoint.json`` + ``checkpoint.npz``, no pickle), so a killed run resumes where it
stopped and reaches exactly the result of an uninterrupted one: batch order comes from a generator
seeded by (seed, fold, epoch), not from state that would have to be saved, and the checkpoint
records a fingerprint of the problem, the parametrization and the settings that a resume must
match.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DesignValueError
from ..fab.fabrication import Fabrication
from ..parametrization.chain import Parametrization
from ..parametrization.media import RigidSolid, sound_speed
from ..parametrization.projection import gray_level
from ..problems.base import Problem
from ..problems.setup import Fold
from .checkpoint import load_checkpoint, save_checkpoint
from .events import BatchEnd, EpochEnd, Event, FoldEnd, RunEnd, RunStart
from .finalize import made_design_metrics
from .objective import Objective
from .settings import TrainingConfig

__all__ = ["fingerprint", "optimize"]

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def fingerprint(problem: Problem, parametrization: Parametrization,
                settings: TrainingConfig, fabrication: Fabrication | None = None
                ) -> dict[str, Any]:
    """What a checkpoint must have been written under to be resumed."""
    return _plain({"problem": problem.fingerprint(), "parametrization": parametrization.describe(),
                   "settings": asdict(settings),
                   "fabrication": (fabrication or Fabrication()).describe()})


def _adam_epoch(objective: Objective, latent: torch.Tensor, optimizer: torch.optim.Optimizer,
                fold: Fold, rng: np.random.Generator, settings: TrainingConfig,
                beta: float | None, index: tuple[int, int]) -> Iterator[BatchEnd]:
    batches = list(objective.problem.batches(fold, rng, settings))
    for b, batch in enumerate(batches):
        optimizer.zero_grad()
        loss = objective(latent, batch, beta, index[1], b)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            latent.clamp_(0.0, 1.0)
        yield BatchEnd(*index, b, len(batches), loss.item())


def _lbfgs_epoch(objective: Objective, latent: torch.Tensor, fold: Fold,
                 settings: TrainingConfig, beta: float | None,
                 index: tuple[int, int]) -> list[BatchEnd]:
    """Run L-BFGS-B on the whole training set; updates ``latent`` in place."""
    import scipy.optimize

    region = objective.parametrization.region.to(latent.device)
    batches = list(objective.problem.batches(fold, None, settings))
    total = sum(b.size for b in batches)
    losses: list[float] = []

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        values = torch.as_tensor(x, dtype=latent.dtype, device=latent.device)
        values.requires_grad_(True)
        value = 0.0
        for b, batch in enumerate(batches):  # gradients accumulate in values.grad
            full = latent.detach().clone()
            full[region] = values
            part = objective(full, batch, beta, index[1], b) * (batch.size / total)
            part.backward()
            value += part.item()
        losses.append(value)
        assert values.grad is not None
        return value, values.grad.detach().cpu().double().numpy()

    x0 = latent.detach()[region].cpu().double().numpy()
    result = scipy.optimize.minimize(
        evaluate, x0, jac=True, method="L-BFGS-B", bounds=scipy.optimize.Bounds(0.0, 1.0),
        # Only the iteration budget ends an epoch: the losses here are small numbers whose
        # scale depends on the problem, so relative/gradient tolerances would stop at random.
        options={"maxiter": settings.lbfgs_iterations, "maxfun": 3 * settings.lbfgs_iterations,
                 "ftol": 0.0, "gtol": 0.0, "maxcor": 10},
    )
    with torch.no_grad():
        latent[region] = torch.as_tensor(result.x, dtype=latent.dtype, device=latent.device)
    log.debug("L-BFGS-B: %s after %d evaluations", result.message, result.nfev)
    return [BatchEnd(*index, b, len(losses), v) for b, v in enumerate(losses)]


def optimize(
    problem: Problem,
    parametrization: Parametrization,
    settings: TrainingConfig,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    device: str | torch.device = "cpu",
    fabrication: Fabrication | None = None,
) -> Iterator[Event]:
    """Train one design per fold of ``problem``; yield progress; checkpoint after each epoch.

    After a fold's last epoch its design is binarized (filtered density > η, repaired when the
    fabrication asks), re-evaluated on the exact binary material (metrics ``binary_*``) and,
    with fabrication rules, checked (``drc_pass``, ``drc_violations``, ``drc_min_solid_cells``,
    ``drc_min_void_cells``, ``repaired_cells``). With the smoothed projection the η contour at
    sub-cell resolution (exact area coverage of its polygons) is evaluated too (``contour_*``):
    what a smooth mask or print re-simulates as.

    Args:
        problem: what to optimize (setup, batches, loss, metrics).
        parametrization: latent → speed chain (its region must be the problem's).
        settings: epochs, batches, optimizer, schedules, folds, seed.
        checkpoint_dir: folder for ``checkpoint.json``/``.npz``; None: no checkpoints.
        resume: continue from the checkpoint in ``checkpoint_dir`` (none there: start fresh).
        device: where the simulation runs (``"cpu"`` or ``"cuda"``).
        fabrication: minimum feature rules, robust formulation, length-scale penalty (None:
            none of them).

    Yields:
        :class:`RunStart`, then :class:`BatchEnd`, :class:`EpochEnd` and :class:`FoldEnd`
        events, and finally :class:`RunEnd`.

    Raises:
        DesignValueError: a region mismatch, or a checkpoint that is damaged or was written for
            another problem, parametrization or settings.
    """
    if not torch.equal(parametrization.region.cpu(), problem.setup.region.cpu()):
        raise DesignValueError("the parametrization's design region is not the problem's; "
                               "build it from problem.setup.region")
    started = time.perf_counter()
    fab = fabrication or Fabrication()
    objective = Objective(problem, parametrization, fab)
    folds = problem.folds(settings.folds, settings.seed)
    identity = fingerprint(problem, parametrization, settings, fab)
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    if resume and folder is None:
        raise DesignValueError("resume needs a checkpoint folder")

    history: list[dict] = []
    finals: dict[str, dict] = {}  # "fold{k}": binarized design's metrics and DRC
    finished: dict[str, np.ndarray] = {}  # "fold{k}": trained latent of each finished fold
    start_fold, start_epoch = 0, 0
    earlier_seconds = 0.0
    restored: dict[str, np.ndarray] | None = None
    if resume:
        assert folder is not None
        loaded = load_checkpoint(folder)
        if loaded is not None:
            state, restored = loaded
            _check_identity(state.get("identity", {}), identity)
            _check_restored(folder, state, restored, problem.setup.grid.shape, len(folds),
                            settings.optimizer)
            history = state["history"]
            finals = state.get("finals", {})
            earlier_seconds = float(state.get("elapsed_s", 0.0))
            finished = {k: v for k, v in restored.items() if k.startswith("fold")}
            start_fold, start_epoch = state["fold"], state["epoch"] + 1
            if start_epoch >= settings.epochs:
                start_fold, start_epoch = start_fold + 1, 0
                restored = None
    yield RunStart(problem.name, len(folds), settings.epochs, start_fold, start_epoch)

    for fold_index in range(start_fold, len(folds)):
        fold = folds[fold_index]
        latent = torch.full(problem.setup.grid.shape, float(settings.initial_density),
                            dtype=torch.float32, device=device)
        latent.requires_grad_(settings.optimizer == "adam")
        adam = torch.optim.Adam([latent], lr=settings.learning_rate)
        first_epoch = 0
        if restored is not None and fold_index == start_fold:
            with torch.no_grad():
                latent.copy_(torch.from_numpy(restored["latent"]))
            if settings.optimizer == "adam":
                adam.state[latent] = {
                    "step": torch.tensor(float(restored["step"])),
                    "exp_avg": torch.from_numpy(restored["exp_avg"].copy()).to(device),
                    "exp_avg_sq": torch.from_numpy(restored["exp_avg_sq"].copy()).to(device),
                }
            first_epoch = start_epoch
        for epoch in range(first_epoch, settings.epochs):
            t0 = time.perf_counter()
            grays = [h["gray_level"] for h in history if h["fold"] == fold_index]
            beta = settings.beta_for(epoch, parametrization.beta, grays)
            index = (fold_index, epoch)
            if settings.optimizer == "adam":
                for group in adam.param_groups:
                    group["lr"] = settings.learning_rate_at(epoch)
                rng = np.random.default_rng([settings.seed, fold_index, epoch])
                steps = []
                for event in _adam_epoch(objective, latent, adam, fold, rng, settings, beta,
                                         index):
                    steps.append(event.loss)
                    yield event
                loss = float(np.mean(steps))
            else:
                evaluations = _lbfgs_epoch(objective, latent, fold, settings, beta, index)
                yield from evaluations
                loss = min(e.loss for e in evaluations)
            with torch.no_grad():  # one projection: the medium, the gray level, the live view
                material = parametrization.at_epoch(epoch).material
                density = parametrization.density(latent.detach(), beta=beta)
                speed = material(density)
            metrics = {**problem.evaluate(speed, fold),
                       "gray_level": gray_level(density, parametrization.region),
                       "beta": beta}
            if isinstance(material, RigidSolid):
                metrics["contrast"] = material.contrast
            if settings.optimizer == "adam":
                metrics["learning_rate"] = settings.learning_rate_at(epoch)
            event = EpochEnd(fold_index, epoch, loss, metrics, time.perf_counter() - t0,
                             speed=sound_speed(speed).detach().cpu().numpy(),
                             density=density.cpu().numpy())
            history.append(_plain(event.row()))
            if epoch == settings.epochs - 1:
                finished[f"fold{fold_index}"] = latent.detach().cpu().numpy().copy()
                finals[f"fold{fold_index}"] = _plain(made_design_metrics(
                    problem, parametrization, fab, latent.detach(), fold))
            if folder is not None:
                arrays = {"latent": latent.detach().cpu().numpy().copy(), **finished}
                if settings.optimizer == "adam":
                    st = adam.state[latent]
                    arrays.update(exp_avg=st["exp_avg"].cpu().numpy().copy(),
                                  exp_avg_sq=st["exp_avg_sq"].cpu().numpy().copy(),
                                  step=np.asarray(float(st["step"])))
                save_checkpoint(folder, {
                    "fold": fold_index, "epoch": epoch, "identity": identity,
                    "history": history, "finals": finals,
                    "elapsed_s": earlier_seconds + time.perf_counter() - started,
                }, arrays)
            yield event
        yield FoldEnd(fold_index, finished[f"fold{fold_index}"],
                      _fold_metrics(history, finals, fold_index))
    per_fold = [_fold_metrics(history, finals, k) for k in range(len(folds))]
    keys = [f"{prefix}{k}" for prefix in ("", "binary_", "contour_") for k in problem.summary_keys]
    summary: dict[str, Any] = {
        key: float(np.mean([m[key] for m in per_fold]))
        for key in keys if all(key in m for m in per_fold)
    }
    if all("drc_pass" in m for m in per_fold):
        summary["drc_pass"] = all(m["drc_pass"] for m in per_fold)
    summary["loss"] = float(np.mean([m["loss"] for m in per_fold]))
    summary["per_fold"] = per_fold
    yield RunEnd(summary, history, [finished[f"fold{k}"] for k in range(len(folds))],
                 earlier_seconds)


def _check_identity(saved: dict, current: dict) -> None:
    names = {"settings": "training settings", "problem": "problem (data or geometry)",
             "parametrization": "material parametrization",
             "fabrication": "fabrication settings"}
    differ = [names[k] for k in names if saved.get(k) != current[k]]
    if differ:
        raise DesignValueError(
            f"the checkpoint was written with other {', '.join(differ)}; resume with the same "
            "configuration and data, or start a new results folder"
        )


def _check_restored(folder: Path, state: dict, arrays: dict[str, np.ndarray],
                    shape: tuple[int, int], folds: int, optimizer: str) -> None:
    """A checkpoint of the same identity still has to hold what resuming reads from it."""
    fold, epoch = state.get("fold"), state.get("epoch")
    problem = None
    if not (isinstance(fold, int) and 0 <= fold < folds and isinstance(epoch, int)
            and epoch >= 0 and isinstance(state.get("history"), list)):
        problem = f"fold {fold!r}, epoch {epoch!r} of a run with {folds} folds"
    else:
        wanted = ["latent"] + (["exp_avg", "exp_avg_sq"] if optimizer == "adam" else [])
        wanted += [f"fold{k}" for k in range(fold)]
        for key in wanted:
            if key not in arrays or arrays[key].shape != shape:
                got = arrays[key].shape if key in arrays else "nothing"
                problem = f"{key} of shape {got} for a {shape[0]} × {shape[1]} grid"
                break
        if problem is None and optimizer == "adam" and (
                "step" not in arrays or arrays["step"].size != 1):
            problem = "no Adam step count"
    if problem is not None:
        raise DesignValueError(f"the checkpoint in {folder} does not fit this run ({problem}); "
                               "delete checkpoint*.json and checkpoint*.npz to start over")


def _fold_metrics(history: list[dict], finals: dict[str, dict], fold: int) -> dict:
    """The metrics of a fold's last epoch (without its timing) and of its binarized design."""
    last = [h for h in history if h["fold"] == fold][-1]
    return {**{k: v for k, v in last.items() if k not in ("epoch", "seconds")},
            **finals.get(f"fold{fold}", {})}
