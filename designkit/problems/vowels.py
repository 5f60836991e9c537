"""Vowel classification by a trained wave medium: the reference geometry, batches and the loss.

The reference model (Hughes, Williamson, Minkov & Fan, "Wave physics as an analog recurrent
neural network", Science Advances 5, eaay6946, 2019): a 140×140 grid in normalized units
(h = 1.4283556979968262, dt = 0.707, background speed 1), a 20-cell damping layer, the audio
waveform injected at one point 20 cells inside the left absorber, one intensity probe per class
20 cells inside the right absorber, and the trainable material in between. A recording is
classified by which probe collects the most energy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import DampingLayer, Grid, PointProbe, PointSource

from ..errors import DesignValueError
from .base import Problem
from .kind import ProblemKind, Sketch
from .setup import Batch, BatchSettings, Fold, LinearResponse, Setup, tensor_digest
from .synthetic_vowels import synthetic_vowels
from .vowel_data import (
    VowelSet,
    centre_window,
    load_vowel_folder,
    speaker_folds,
    stratified_folds,
)


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """The ``data:`` section: a folder of ``[m|w]NN<vowel>.wav`` files, or None for synthetic ones.

    ``split``: cross-validation folds by ``recordings`` (the reference) or by ``speakers``
    (speaker-independent: no voice in both the training and the test set).
    """

    folder: str | None = None
    vowels: tuple[str, ...] = ("ae", "ei", "iy")
    genders: tuple[str, ...] = ("m", "w")
    rate: int = 10_000
    synthetic_seed: int = 0
    split: Literal["recordings", "speakers"] = "recordings"


@dataclass(frozen=True)
class VowelGeometryConfig:
    """The ``geometry:`` section: where the source, the probes and the design region sit (cells).

    The layout holds for any number of classes (the data's classes fix how many probes).

    Args:
        shape: ``(ny, nx)``.
        h: cell size; dt: time step (normalized units of the reference model by default).
        absorber: damping-layer width; sigma_max, order: its profile.
        source_inset: source distance inside the left absorber's inner edge.
        probe_inset: probe distance inside the right absorber's inner edge.
        probe_spacing: rows between neighbouring probes (centred on the middle row).
        region_gap: cells between the design region and the source/probe columns.
    """

    shape: tuple[int, int] = (140, 140)
    h: float = 1.4283556979968262
    dt: float = 0.707
    absorber: int = 20
    sigma_max: float = 3.0
    order: float = 4.0
    source_inset: int = 20
    probe_inset: int = 20
    probe_spacing: int = 20
    region_gap: int = 5


@dataclass(frozen=True)
class VowelGeometry(VowelGeometryConfig):
    """The vowel layout with ``classes`` probes, validated (the data fixes ``classes``)."""

    classes: int = 3

    def __post_init__(self) -> None:
        ny = self.shape[0]
        if self.region_columns[0] > self.region_columns[1]:
            raise DesignValueError(
                f"no room for a design region between source column {self.source.col} and "
                f"probe column {self.probe_column} with region_gap={self.region_gap}"
            )
        rows = [p.row for p in self.probes]
        if min(rows) < self.absorber or max(rows) >= ny - self.absorber:
            raise DesignValueError(
                f"{self.classes} probes {self.probe_spacing} rows apart do not fit between the "
                f"absorbers of a grid {ny} rows high"
            )

    @property
    def grid(self) -> Grid:
        """The simulation grid."""
        return Grid(shape=self.shape, h=self.h, dt=self.dt)

    @property
    def boundary(self) -> DampingLayer:
        """The absorbing layer."""
        return DampingLayer(width=self.absorber, sigma_max=self.sigma_max, order=self.order)

    @property
    def source(self) -> PointSource:
        """The audio input point."""
        return PointSource(self.shape[0] // 2, self.absorber + self.source_inset)

    @property
    def probe_column(self) -> int:
        """Column of every probe."""
        return self.shape[1] - self.absorber - self.probe_inset

    @property
    def probes(self) -> list[PointProbe]:
        """One intensity probe per class, top to bottom."""
        middle = self.shape[0] // 2
        first = middle - self.probe_spacing * (self.classes - 1) // 2
        return [PointProbe(first + k * self.probe_spacing, self.probe_column, measure="intensity")
                for k in range(self.classes)]

    @property
    def region_columns(self) -> tuple[int, int]:
        """First and last column of the design region."""
        return (self.absorber + self.source_inset + self.region_gap,
                self.probe_column - self.region_gap)

    def region(self) -> Tensor:
        """Bool mask ``(ny, nx)`` of the design region (between the absorbers' rows)."""
        ny, nx = self.shape
        mask = torch.zeros(ny, nx, dtype=torch.bool)
        c0, c1 = self.region_columns
        mask[self.absorber:ny - self.absorber, c0:c1 + 1] = True
        return mask


def training_batch(data: VowelSet, index: np.ndarray, window: int) -> tuple[Tensor, Tensor]:
    """Centred ``window``-sample clips ``(B, window)`` and their labels ``(B,)``."""
    clips = np.stack([centre_window(data.waveforms[i], window) for i in index])
    return torch.from_numpy(clips), torch.from_numpy(data.labels[index])


def length_groups(data: VowelSet, index: np.ndarray, *, tolerance: float = 0.1
                  ) -> list[np.ndarray]:
    """Split ``index`` into groups of similar length (each padded to its longest member).

    Evaluating full recordings in one batch pads every clip to the longest (the reference code
    spends most of each epoch there); groups whose lengths differ by at most ``tolerance``
    (relative) waste little.
    """
    order = sorted(index, key=lambda i: data.waveforms[i].size)
    groups: list[list[int]] = []
    for i in order:
        shortest = data.waveforms[groups[-1][0]].size if groups else 0
        if groups and data.waveforms[i].size <= (1 + tolerance) * shortest:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return [np.asarray(g) for g in groups]


def padded_batch(data: VowelSet, index: np.ndarray) -> Tensor:
    """Full recordings ``(B, T)``, zero-padded at the end to the longest of them."""
    longest = max(data.waveforms[i].size for i in index)
    out = np.zeros((len(index), longest), np.float32)
    for row, i in enumerate(index):
        out[row, :data.waveforms[i].size] = data.waveforms[i]
    return torch.from_numpy(out)


def class_probabilities(probes: Tensor) -> Tensor:
    """Normalized integrated probe powers ``(B, P)``: each row sums to 1."""
    energy = probes.sum(dim=1)
    return energy / energy.sum(dim=1, keepdim=True).clamp_min(torch.finfo(energy.dtype).tiny)


Readout = Literal["probabilities", "logits"]


def vowel_loss(probes: Tensor, labels: Tensor, readout: Readout = "probabilities") -> Tensor:
    """Cross-entropy of the normalized integrated probe powers.

    ``readout="probabilities"`` (wavefab's default) reads the normalized powers as the class
    probabilities themselves: ``−ln p_true``. ``"logits"`` feeds them to a softmax first, as the
    reference code does; since they lie in [0, 1] its softmax can never be confident (with 3
    classes the loss stays above ln(1 + 2/e) ≈ 0.55), which weakens the training signal.
    """
    probs = class_probabilities(probes)
    if readout == "logits":
        return torch.nn.functional.cross_entropy(probs, labels)
    if readout != "probabilities":
        raise DesignValueError(f"readout must be 'probabilities' or 'logits', got {readout!r}")
    return torch.nn.functional.nll_loss(torch.log(probs.clamp_min(1e-12)), labels)


class VowelProblem(Problem):
    """Classify vowels by which probe collects the most energy (the reference task).

    Training uses centred windows of ``settings.window`` samples; evaluation runs the
    full-length recordings, grouped by length. Folds are stratified by class.

    Args:
        data: recordings or synthetic vowels (their class order is the probe order).
        geometry: where source, probes and design region sit; ``geometry.classes`` must equal
            the number of classes in ``data``.
        readout: how normalized probe powers enter the cross-entropy (see :func:`vowel_loss`).
        split: ``"recordings"`` (stratified by class, as the reference does: a speaker's other
            vowels may be in the training folds) or ``"speakers"`` (no speaker in both).
    """

    name = "vowels"
    summary_keys = ("train_accuracy", "test_accuracy")
    score = "test_accuracy"

    def __init__(self, data: VowelSet, geometry: VowelGeometry,
                 readout: Readout = "probabilities",
                 split: Literal["recordings", "speakers"] = "recordings",
                 physics: str = "scalar") -> None:
        classes = len(data.vowels)
        if classes != geometry.classes:
            raise DesignValueError(
                f"the data has {classes} classes but the geometry {geometry.classes} probes"
            )
        if readout not in ("probabilities", "logits"):
            raise DesignValueError(f"readout must be 'probabilities' or 'logits', got {readout!r}")
        self.data = data
        self.geometry = geometry
        self.readout = readout
        if split not in ("recordings", "speakers"):
            raise DesignValueError(f"split must be 'recordings' or 'speakers', got {split!r}")
        self.split = split
        self.seconds_per_step = 1.0 / data.rate
        self.setup = Setup(grid=geometry.grid, boundary=geometry.boundary,
                           sources=(geometry.source,), probes=tuple(geometry.probes),
                           region=geometry.region(), probe_names=tuple(data.vowels),
                           physics=physics)

    def folds(self, count: int, seed: int) -> list[Fold]:
        """Stratified k-fold splits of the recordings (or of the speakers)."""
        if self.split == "speakers":
            pairs = speaker_folds(self.data.speakers, count, seed=seed)
        else:
            pairs = stratified_folds(self.data.labels, count, seed=seed)
        return [Fold(train, test) for train, test in pairs]

    def batches(self, fold: Fold, rng: np.random.Generator | None,
                settings: BatchSettings) -> Iterator[Batch]:
        """Centred windows of the training recordings, ``settings.batch_size`` at a time."""
        order = fold.train if rng is None else rng.permutation(fold.train)
        for k in range(0, order.size, settings.batch_size):
            clips, labels = training_batch(self.data, order[k:k + settings.batch_size],
                                           settings.window)
            yield Batch(clips, labels)

    def loss(self, probes: Tensor, targets: Tensor) -> Tensor:
        """Cross-entropy of the normalized integrated probe powers (see :func:`vowel_loss`)."""
        return vowel_loss(probes, targets.to(probes.device), self.readout)

    @property
    def evaluates_by_response(self) -> bool:
        """Whether :meth:`evaluate` reads every recording from one impulse response."""
        return self.setup.time_invariant

    def evaluate(self, speed: Tensor, fold: Fold) -> dict[str, Any]:
        """Train and test accuracy on the full recordings, and the test confusion matrix.

        A linear medium is simulated once, for an impulse, and every recording read as its
        convolution with that response (:meth:`Setup.linear_response`): the same readings as
        simulating each (to float32 rounding) at a fraction of the cost.
        """
        index = fold.train if fold.test is None else np.concatenate([fold.train, fold.test])
        longest = max(self.data.waveforms[i].size for i in index)
        with torch.no_grad():
            response = self.setup.linear_response(speed, longest)
        train_acc, _ = self._accuracy(speed, fold.train, response)
        metrics: dict[str, Any] = {"train_accuracy": train_acc}
        if fold.test is not None:
            test_acc, confusion = self._accuracy(speed, fold.test, response)
            metrics.update(test_accuracy=test_acc, confusion=confusion.tolist())
        return metrics

    def _accuracy(self, speed: Tensor, index: np.ndarray,
                  response: LinearResponse | None = None) -> tuple[float, np.ndarray]:
        classes = len(self.data.vowels)
        confusion = np.zeros((classes, classes), np.int64)
        with torch.no_grad():
            for group in length_groups(self.data, index):
                inputs = padded_batch(self.data, group)
                probes = (response(inputs) if response is not None
                          else self.setup.simulate(speed, inputs).probes)
                guess = class_probabilities(probes).argmax(1).cpu().numpy()
                np.add.at(confusion, (self.data.labels[group], guess), 1)
        return float(np.trace(confusion) / max(confusion.sum(), 1)), confusion

    def examples(self) -> list[tuple[str, Tensor]]:
        """The first recording of each class."""
        out = []
        for k, vowel in enumerate(self.data.vowels):
            hits = np.flatnonzero(self.data.labels == k)
            if hits.size:
                i = int(hits[0])
                out.append((f"{vowel} ({self.data.speakers[i]})",
                            torch.from_numpy(self.data.waveforms[i])))
        return out

    def report(self) -> dict[str, Any]:
        """The class names, in probe order."""
        return {"classes": list(self.data.vowels)}

    def fingerprint(self) -> dict[str, Any]:
        """Geometry plus a digest of the recordings (so other data cannot resume this run)."""
        d = self.data
        return {**super().fingerprint(), "geometry": asdict(self.geometry),
                "readout": self.readout, "split": self.split,
                "data": {"vowels": list(d.vowels), "rate": d.rate,
                         "sha256": tensor_digest(d.labels, list(d.waveforms))}}


def load_data(data: DataConfig, folder: str | Path | None = None) -> VowelSet:
    """The recordings of ``folder`` (or the section's), else the built-in synthetic vowels."""
    source = folder if folder is not None else data.folder
    if source is None:
        return synthetic_vowels(vowels=data.vowels, genders=data.genders, rate=data.rate,
                                seed=data.synthetic_seed)
    return load_vowel_folder(source, vowels=data.vowels, genders=data.genders, rate=data.rate)


def build(*, data: DataConfig, geometry: VowelGeometryConfig, background_speed: float = 1.0,
          physics: str = "scalar", data_dir: str | Path | None = None) -> VowelProblem:
    """The vowel problem of the ``data:`` and ``geometry:`` sections; loads its recordings.

    ``background_speed`` is unused: the vowel task's loss needs no unpatterned reference.
    """
    layout = VowelGeometry(classes=len(data.vowels), **asdict(geometry))
    return VowelProblem(load_data(data, data_dir), layout, split=data.split, physics=physics)


def sketch(*, data: DataConfig, geometry: VowelGeometryConfig) -> Sketch:
    """The vowel setup for drawing (no recordings are read)."""
    g = VowelGeometry(classes=len(data.vowels), **asdict(geometry))
    return Sketch(shape=tuple(g.shape), h=float(g.h), region=g.region().numpy(),
                  sources=((g.source.row, g.source.col),),
                  probes=tuple((p.row, p.col) for p in g.probes),
                  probe_names=tuple(data.vowels), absorber=int(g.absorber),
                  input_names=tuple(data.vowels))


#: The vowel task in the problem table (:mod:`.registry`).
KIND = ProblemKind(
    name="vowels", section="geometry",
    sections=(("data", DataConfig), ("geometry", VowelGeometryConfig)), build=build,
    sketch=sketch,
    templates={"vowels": ("vowel classifier (reference task; recordings or built-in synthetic "
                          "vowels)", {"problem": "vowels", "training": {"epochs": 4, "folds": 5}})},
    keys={"shape": "geometry.shape", "absorber": "geometry.absorber"}, data_section="data",
    made_metric="binary_test_accuracy")
