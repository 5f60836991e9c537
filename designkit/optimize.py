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
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from . import drc
from .checkpoint import load_checkpoint, save_checkpoint
from .errors import DesignValueError
from .fabrication import Fabrication, final_design, repair_candidates
from .media import RigidSolid, sound_speed
from .parametrization import Parametrization
from .problems.base import Batch, Fold, Problem
from .problems.vowel_data import VowelSet
from .problems.vowels import VowelGeometry, VowelProblem
from .projection import gray_level

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class TrainingSettings:
    """How to train (units: samples for ``window``; learning rate per Adam step).

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


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def fingerprint(problem: Problem, parametrization: Parametrization,
                settings: TrainingSettings, fabrication: Fabrication | None = None
                ) -> dict[str, Any]:
    """What a checkpoint must have been written under to be resumed."""
    return _plain({"problem": problem.fingerprint(), "parametrization": parametrization.describe(),
                   "settings": asdict(settings),
                   "fabrication": (fabrication or Fabrication()).describe()})


@dataclass
class _Objective:
    """The scalar a step minimizes.

    The problem's loss on the nominal design (or the robust combination of the eroded, nominal
    and dilated designs), plus the fabrication penalty. From ``fabrication.exact_from`` on, the
    designs simulated are the exact binary ones (the nominal one thresholded and repaired as it
    will be made), with the gradients of the projection (straight-through).
    """

    problem: Problem
    parametrization: Parametrization
    fabrication: Fabrication

    def __call__(self, latent: torch.Tensor, batch: Batch, beta: float | None,
                 epoch: int, step: int = 0) -> torch.Tensor:
        par = self.parametrization.at_epoch(epoch)
        fab = self.fabrication
        filtered = par.filtered(latent)
        exact = fab.exact_from is not None and epoch >= fab.exact_from
        losses, nominal = [], None
        # Random robust thresholds depend on (epoch, step) alone: resumable, and the same
        # objective for every L-BFGS evaluation of a batch.
        thresholds = fab.thresholds(par.eta, np.random.default_rng([epoch, step, 0x7E5]))
        for k, eta in enumerate(thresholds):
            is_nominal = k == len(thresholds) // 2  # (eroded, nominal, dilated) or (nominal,)
            rho = par.project(filtered, beta=beta, eta=eta)
            if is_nominal:
                nominal = rho
            if exact:
                if is_nominal:
                    made = final_design(par, latent.detach(), fab)[1]
                    hard = torch.from_numpy(made).to(rho.device, rho.dtype)
                else:
                    hard = ((filtered.detach() > eta) & par.region.to(rho.device)).to(rho.dtype)
                rho = hard + rho - rho.detach()
            out = self.problem.setup.simulate(par.material(rho), batch.inputs)
            losses.append(self.problem.loss(out.probes, batch.targets))
        loss = self.fabrication.combine(losses)
        assert nominal is not None
        return loss + self.fabrication.penalty(filtered, nominal, par.region, epoch)


def _adam_epoch(objective: _Objective, latent: torch.Tensor, optimizer: torch.optim.Optimizer,
                fold: Fold, rng: np.random.Generator, settings: TrainingSettings,
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


def _lbfgs_epoch(objective: _Objective, latent: torch.Tensor, fold: Fold,
                 settings: TrainingSettings, beta: float | None,
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


def _training_score(problem: Problem, parametrization: Parametrization, binary: np.ndarray,
                    latent: torch.Tensor, fold: Fold) -> float:
    """The problem's score of a binary design on the fold's training examples only.

    The test examples must not choose the design they judge.
    """
    medium = parametrization.material(torch.from_numpy(binary).to(latent.device, latent.dtype))
    metrics = problem.evaluate(medium, Fold(train=fold.train))
    key = (problem.score or "").replace("test_", "train_", 1)
    if key not in metrics:
        raise DesignValueError(f"repair_choice: best needs a score on the training examples; "
                               f"{problem.name} reports {sorted(metrics)}")
    return float(metrics[key])


def made_design(problem: Problem, parametrization: Parametrization, fabrication: Fabrication,
                latent: torch.Tensor, fold: Fold) -> tuple[np.ndarray, np.ndarray, int]:
    """What a fold's run makes of its latent: ``(thresholded, made, repair candidate)``.

    With ``repair_choice: best`` the candidate with the best training score (ties: the
    fewest-change repair, index 0); otherwise the fewest-change repair.
    """
    if fabrication.repair_choice != "best":
        return (*final_design(parametrization, latent, fabrication), 0)
    thresholded, candidates = repair_candidates(parametrization, latent, fabrication)
    chosen = 0
    if len(candidates) > 1:
        scores = [_training_score(problem, parametrization, c, latent, fold) for c in candidates]
        chosen = int(np.argmax(scores))
    return thresholded, candidates[chosen], chosen


def _final_design(problem: Problem, parametrization: Parametrization,
                  fabrication: Fabrication, latent: torch.Tensor, fold: Fold) -> dict[str, Any]:
    """Binarize (and repair) the nominal design, re-evaluate it exactly, check its rules."""
    thresholded, binary, chosen = made_design(problem, parametrization, fabrication, latent, fold)
    speed = parametrization.material(torch.from_numpy(binary).to(latent.device, latent.dtype))
    metrics = problem.evaluate(speed, fold)
    out: dict[str, Any] = {f"binary_{k}": v for k, v in metrics.items()}
    if fabrication.repair_choice == "best":
        out["repair_candidate"] = chosen
    if parametrization.projection == "smoothed":
        # The η contour of the filtered density (marching squares) rasterized by its exact area
        # coverage: what a smooth mask or print of this design re-simulates as (`wavefab export
        # --mode smooth` writes these polygons). The smoothed projection the optimizer saw is
        # a first-order estimate of the same coverage, not the thing itself.
        from .geometry import contour_polygons, coverage

        with torch.no_grad():
            filtered = parametrization.filtered(latent).cpu().numpy().astype(np.float64)
        region = parametrization.region.cpu().numpy()
        shapes = contour_polygons(filtered, parametrization.eta, 1.0, mask=region)
        rho = torch.from_numpy(coverage(shapes, filtered.shape, 1.0)).to(latent.device,
                                                                       latent.dtype)
        contour = problem.evaluate(parametrization.material(rho), fold)
        out.update({f"contour_{k}": v for k, v in contour.items()})
    if fabrication.min_feature_cells > 0:
        rules = {"min_feature_cells": max(fabrication.min_solid_cells, 1),
                 "min_void_cells": max(fabrication.min_void_cells, 1),
                 "region": parametrization.region.cpu().numpy()}
        report = drc.check(binary, **rules)
        out.update(drc_pass=report.passed, drc_violations=len(report.violations),
                   drc_min_solid_cells=report.to_dict()["min_solid_cells"],
                   drc_min_void_cells=report.to_dict()["min_void_cells"],
                   repaired_cells=int((thresholded != binary).sum()))
        if fabrication.repair:
            out["unrepaired_drc_violations"] = len(drc.check(thresholded, **rules).violations)
    return out


def optimize(
    problem: Problem,
    parametrization: Parametrization,
    settings: TrainingSettings,
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
    objective = _Objective(problem, parametrization, fab)
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
                finals[f"fold{fold_index}"] = _plain(_final_design(
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


def train_vowels(
    data: VowelSet,
    geometry: VowelGeometry,
    parametrization: Parametrization,
    settings: TrainingSettings,
    **options: Any,
) -> Iterator[Event]:
    """:func:`optimize` on the vowel problem (``VowelProblem(data, geometry)``)."""
    return optimize(VowelProblem(data, geometry), parametrization, settings, **options)


def _fold_metrics(history: list[dict], finals: dict[str, dict], fold: int) -> dict:
    """The metrics of a fold's last epoch (without its timing) and of its binarized design."""
    last = [h for h in history if h["fold"] == fold][-1]
    return {**{k: v for k, v in last.items() if k not in ("epoch", "seconds")},
            **finals.get(f"fold{fold}", {})}
