"""The training loop: k-fold cross-validated training of a wave medium, as a stream of events.

:func:`train_vowels` is a generator: the CLI's progress bar and the GUI's live plots consume the
same :class:`BatchEnd`/:class:`EpochEnd`/:class:`FoldEnd`/:class:`RunEnd` events, and stopping
between events is always safe. After every epoch the full training state is written atomically
(``checkpoint.json`` + ``checkpoint.npz``, no pickle), so a killed run resumes where it stopped
and reaches exactly the result of an uninterrupted one: batch order comes from a generator
seeded by (seed, fold, epoch), not from state that would have to be saved.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from wavefab.solver import propagate

from .errors import DesignValueError
from .parametrization import Parametrization
from .problems.vowel_data import VowelSet, stratified_folds
from .problems.vowels import (
    VowelGeometry,
    class_probabilities,
    length_groups,
    padded_batch,
    training_batch,
    vowel_loss,
)

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class TrainingSettings:
    """How to train (units: samples for ``window``; learning rate per Adam step).

    Schedules are functions of the epoch alone, so a resumed run follows them exactly:
    ``lr_decay`` multiplies the learning rate after every epoch; ``beta_schedule`` lists
    ``(first_epoch, beta)`` pairs that replace the material's projection β from that epoch on
    (``.inf`` in YAML for a clean step).
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

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "window", "folds"):
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
        firsts = [first for first, _ in self.beta_schedule]
        if (any(int(f) != f or f < 0 for f in firsts) or firsts != sorted(set(firsts))
                or any(not beta >= 0 for _, beta in self.beta_schedule)):
            raise DesignValueError(
                "training.beta_schedule must be (first_epoch, beta) pairs with increasing "
                f"epochs ≥ 0 and betas ≥ 0, got {self.beta_schedule!r}"
            )


@dataclass
class BatchEnd:
    """One optimizer step done."""

    fold: int
    epoch: int
    batch: int
    batches: int
    loss: float


@dataclass
class EpochEnd:
    """One epoch done and evaluated on the full-length recordings."""

    fold: int
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    confusion: list[list[int]]  # test set: rows true class, columns predicted
    seconds: float


@dataclass
class FoldEnd:
    """One fold done; ``latent`` is its trained design (numpy copy)."""

    fold: int
    latent: np.ndarray
    metrics: dict


@dataclass
class RunEnd:
    """All folds done: summary metrics, the epoch history and each fold's trained latent."""

    metrics: dict
    history: list[dict] = field(default_factory=list)
    latents: list[np.ndarray] = field(default_factory=list)


Event = BatchEnd | EpochEnd | FoldEnd | RunEnd


def _evaluate(data: VowelSet, index: np.ndarray, speed: torch.Tensor, geometry: VowelGeometry,
              classes: int) -> tuple[float, np.ndarray]:
    confusion = np.zeros((classes, classes), np.int64)
    with torch.no_grad():
        for group in length_groups(data, index):
            clips = padded_batch(data, group).to(speed.device)
            out = propagate(speed, clips, grid=geometry.grid,
                            sources=[geometry.source], probes=geometry.probes,
                            boundary=geometry.boundary)
            guess = class_probabilities(out.probes).argmax(1).cpu().numpy()
            np.add.at(confusion, (data.labels[group], guess), 1)
    return float(np.trace(confusion) / max(confusion.sum(), 1)), confusion


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_checkpoint(folder: Path, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``checkpoint.npz`` then ``checkpoint.json`` (which names the npz's digest) atomically.

    A crash between the two leaves the previous json pointing at a previous npz digest, which
    :func:`load_checkpoint` detects; a crash inside either write leaves only a ``.tmp`` file.
    """
    import hashlib
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    _write_atomically(folder / "checkpoint.npz", payload)
    state = {**state, "version": CHECKPOINT_VERSION,
             "npz_sha256": hashlib.sha256(payload).hexdigest()}
    _write_atomically(folder / "checkpoint.json", json.dumps(state, indent=1).encode())


def load_checkpoint(folder: Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The last complete checkpoint in ``folder``, or None when there is none."""
    import hashlib

    meta, npz = folder / "checkpoint.json", folder / "checkpoint.npz"
    if not meta.exists():
        return None
    try:
        state = json.loads(meta.read_text())
        payload = npz.read_bytes()
    except (OSError, ValueError) as exc:
        raise DesignValueError(f"checkpoint in {folder} is unreadable: {exc}") from None
    if state.get("version") != CHECKPOINT_VERSION:
        raise DesignValueError(
            f"checkpoint in {folder} has version {state.get('version')!r}; this wavefab "
            f"writes version {CHECKPOINT_VERSION}"
        )
    if hashlib.sha256(payload).hexdigest() != state.get("npz_sha256"):
        raise DesignValueError(
            f"checkpoint in {folder} is incomplete (checkpoint.npz does not match "
            f"checkpoint.json); delete both to start over"
        )
    import io

    with np.load(io.BytesIO(payload), allow_pickle=False) as npz_file:
        arrays = {k: npz_file[k] for k in npz_file.files}
    return state, arrays


def train_vowels(
    data: VowelSet,
    geometry: VowelGeometry,
    parametrization: Parametrization,
    settings: TrainingSettings,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    device: str | torch.device = "cpu",
) -> Iterator[Event]:
    """Train one medium per fold; yield progress events; write a checkpoint after each epoch.

    Args:
        data: the recordings (or synthetic vowels).
        geometry: source, probes and design region.
        parametrization: latent → speed chain (its region must be ``geometry.region()``).
        settings: epochs, batch size, learning rate, window, folds, seed.
        checkpoint_dir: folder for ``checkpoint.json``/``.npz``; None: no checkpoints.
        resume: continue from the checkpoint in ``checkpoint_dir``.
        device: where the simulation runs (``"cpu"`` or ``"cuda"``).

    Yields:
        :class:`BatchEnd`, :class:`EpochEnd`, :class:`FoldEnd` and finally :class:`RunEnd`.
    """
    classes = len(data.vowels)
    if classes != geometry.classes:
        raise DesignValueError(
            f"the data has {classes} classes but the geometry {geometry.classes} probes"
        )
    folds = stratified_folds(data.labels, settings.folds, seed=settings.seed)
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    if resume and folder is None:
        raise DesignValueError("resume needs a checkpoint folder")

    history: list[dict] = []
    finished: dict[str, np.ndarray] = {}  # "fold{k}": trained latent of each finished fold
    start_fold, start_epoch = 0, 0
    restored: dict[str, np.ndarray] | None = None
    if resume:
        assert folder is not None
        loaded = load_checkpoint(folder)
        if loaded is not None:
            state, restored = loaded
            if state["settings"] != json.loads(json.dumps(asdict(settings))):
                raise DesignValueError(
                    "the checkpoint was written with other training settings; resume with the "
                    "same configuration or start a new results folder"
                )
            history = state["history"]
            finished = {k: v for k, v in restored.items() if k.startswith("fold")}
            start_fold, start_epoch = state["fold"], state["epoch"] + 1
            if start_epoch >= settings.epochs:
                start_fold, start_epoch = start_fold + 1, 0
                restored = None

    for fold in range(start_fold, settings.folds):
        train, test = folds[fold]
        latent = torch.full(geometry.shape, float(settings.initial_density), dtype=torch.float32,
                            device=device)
        latent.requires_grad_(True)
        optimizer = torch.optim.Adam([latent], lr=settings.learning_rate)
        first_epoch = 0
        if restored is not None and fold == start_fold:
            with torch.no_grad():
                latent.copy_(torch.from_numpy(restored["latent"]))
            optimizer.state[latent] = {
                "step": torch.tensor(float(restored["step"])),
                "exp_avg": torch.from_numpy(restored["exp_avg"].copy()).to(device),
                "exp_avg_sq": torch.from_numpy(restored["exp_avg_sq"].copy()).to(device),
            }
            first_epoch = start_epoch
        for epoch in range(first_epoch, settings.epochs):
            t0 = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = settings.learning_rate_at(epoch)
            beta = settings.beta_at(epoch)
            rng = np.random.default_rng([settings.seed, fold, epoch])
            order = rng.permutation(train)
            batches = range(0, order.size, settings.batch_size)
            losses = []
            for b, k in enumerate(batches):
                clips, labels = training_batch(data, order[k:k + settings.batch_size],
                                               settings.window)
                optimizer.zero_grad()
                out = propagate(parametrization.speed(latent, beta=beta), clips.to(device),
                                grid=geometry.grid,
                                sources=[geometry.source], probes=geometry.probes,
                                boundary=geometry.boundary)
                loss = vowel_loss(out.probes, labels.to(device))
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    latent.clamp_(0.0, 1.0)
                losses.append(loss.item())
                yield BatchEnd(fold, epoch, b, len(batches), losses[-1])
            speed = parametrization.speed(latent.detach(), beta=beta)
            train_acc, _ = _evaluate(data, train, speed, geometry, classes)
            test_acc, confusion = _evaluate(data, test, speed, geometry, classes)
            event = EpochEnd(fold, epoch, float(np.mean(losses)), train_acc, test_acc,
                             confusion.tolist(), time.perf_counter() - t0)
            history.append(asdict(event))
            if epoch == settings.epochs - 1:
                finished[f"fold{fold}"] = latent.detach().cpu().numpy().copy()
            if folder is not None:
                st = optimizer.state[latent]
                save_checkpoint(
                    folder,
                    {"fold": fold, "epoch": epoch, "settings": asdict(settings),
                     "history": history},
                    {"latent": latent.detach().cpu().numpy().copy(),
                     "exp_avg": st["exp_avg"].cpu().numpy().copy(),
                     "exp_avg_sq": st["exp_avg_sq"].cpu().numpy().copy(),
                     "step": np.asarray(float(st["step"])), **finished},
                )
            yield event
        yield FoldEnd(fold, finished[f"fold{fold}"], _fold_metrics(history, fold))
    per_fold = [_fold_metrics(history, k) for k in range(settings.folds)]
    summary = {
        "train_accuracy": float(np.mean([m["train_accuracy"] for m in per_fold])),
        "test_accuracy": float(np.mean([m["test_accuracy"] for m in per_fold])),
        "loss": float(np.mean([m["loss"] for m in per_fold])),
        "per_fold": per_fold,
    }
    yield RunEnd(summary, history, [finished[f"fold{k}"] for k in range(settings.folds)])


def _fold_metrics(history: list[dict], fold: int) -> dict:
    """The metrics of a fold's last epoch."""
    last = [h for h in history if h["fold"] == fold][-1]
    return {"fold": fold, **{k: last[k] for k in ("loss", "train_accuracy", "test_accuracy",
                                                    "confusion")}}
