"""A run's results folder: the resolved configuration, metrics, history, design and plots.

Contract (other tools read these files): ``metrics.json`` holds ``train_accuracy`` and
``test_accuracy`` (means over folds, fractions 0–1), ``per_fold``, ``loss`` and
``wall_time_s``; ``design.npz`` holds ``latent``, ``density``, ``speed`` (2D, rows first) and
``region`` (bool). Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import torch

from .config import RunConfig, config_to_dict
from .optimize import RunEnd
from .parametrization import Parametrization
from .problems.vowel_data import VowelSet
from .problems.vowels import VowelGeometry, padded_batch


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_config(out: Path, config: RunConfig) -> Path:
    """Write the resolved configuration as ``config.yaml`` (a file ``wavefab run`` accepts)."""
    import yaml

    path = out / "config.yaml"
    text = "# resolved configuration of this run (defaults filled in, overrides applied)\n"
    text += yaml.safe_dump(config_to_dict(config), sort_keys=False)
    _atomic_write(path, text.encode())
    return path


def write_results(out: Path, end: RunEnd, geometry: VowelGeometry,
                  parametrization: Parametrization, data: VowelSet,
                  wall_time_s: float, *, beta: float | None = None) -> dict[str, Path]:
    """Write metrics, history, the design of the best fold and the plots; return their paths.

    ``beta`` is the projection steepness the design was last trained with (None: the
    parametrization's own).
    """
    vowels = data.vowels
    out.mkdir(parents=True, exist_ok=True)
    metrics = {**end.metrics, "wall_time_s": wall_time_s, "classes": list(vowels)}
    paths = {"metrics": out / "metrics.json", "history": out / "history.csv",
             "design": out / "design.npz"}
    _atomic_write(paths["metrics"], json.dumps(metrics, indent=1).encode())

    text = io.StringIO()
    fields = ["fold", "epoch", "loss", "train_accuracy", "test_accuracy", "seconds"]
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(end.history)
    _atomic_write(paths["history"], text.getvalue().encode())

    best = int(np.argmax([f["test_accuracy"] for f in end.metrics["per_fold"]]))
    latent = torch.from_numpy(end.latents[best])
    with torch.no_grad():
        density = parametrization.density(latent, beta=beta).numpy()
        speed = parametrization.speed(latent, beta=beta).numpy()
    buffer = io.BytesIO()
    np.savez(buffer, latent=end.latents[best], density=density, speed=speed,
             region=geometry.region().numpy(), fold=np.asarray(best))
    _atomic_write(paths["design"], buffer.getvalue())
    paths.update(_plots(out, end, geometry, speed, vowels))
    paths.update(_response_plots(out, geometry, torch.from_numpy(speed), data))
    return paths


def _response_plots(out: Path, geometry: VowelGeometry, speed: torch.Tensor,
                    data: VowelSet) -> dict[str, Path]:
    """Field snapshots and probe powers for one recording of each class (the first of each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wavefab.solver import propagate

    picks = [int(np.flatnonzero(data.labels == k)[0]) for k in range(len(data.vowels))
             if (data.labels == k).any()]
    clips = padded_batch(data, np.asarray(picks))
    snaps_wanted = 4
    every = max(clips.shape[1] // (snaps_wanted + 1), 1)
    with torch.no_grad():
        result = propagate(speed, clips, grid=geometry.grid, sources=[geometry.source],
                           probes=geometry.probes, boundary=geometry.boundary,
                           snapshot_every=every)
    assert result.snapshots is not None
    snaps = result.snapshots.numpy()
    rows, cols = len(picks), min(snaps_wanted, snaps.shape[1])
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for r, k in enumerate(picks):
        vmax = float(np.abs(snaps[r]).max()) or 1.0
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(snaps[r, c], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(f"{data.vowels[data.labels[k]]} ({data.speakers[k]})")
            if r == 0:
                ax.set_title(f"t = {(c + 1) * every / data.rate * 1e3:.0f} ms")
    fig.tight_layout()
    paths = {"fields": out / "fields.png"}
    fig.savefig(paths["fields"], dpi=90)
    plt.close(fig)

    power = result.probes.numpy()
    t = np.arange(power.shape[1]) / data.rate * 1e3
    fig, axes = plt.subplots(1, rows, figsize=(4 * rows, 3), squeeze=False)
    for r, k in enumerate(picks):
        ax = axes[0, r]
        for p, name in enumerate(data.vowels):
            ax.plot(t, power[r, :, p], label=f"probe {name}")
        ax.set(title=f"input: {data.vowels[data.labels[k]]}", xlabel="time (ms)",
               ylabel="probe intensity")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    paths["probes"] = out / "probe_power.png"
    fig.savefig(paths["probes"], dpi=90)
    plt.close(fig)
    return paths


def _plots(out: Path, end: RunEnd, geometry: VowelGeometry, speed: np.ndarray,
           vowels: tuple[str, ...]) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    folds = sorted({h["fold"] for h in end.history})
    epochs = sorted({h["epoch"] for h in end.history})
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax, label in (("loss", ax_loss, "loss"), ("test_accuracy", ax_acc, "test"),
                           ("train_accuracy", ax_acc, "train")):
        table = np.full((len(folds), len(epochs)), np.nan)
        for h in end.history:
            table[folds.index(h["fold"]), epochs.index(h["epoch"])] = h[key]
        mean, spread = np.nanmean(table, 0), np.nanstd(table, 0)
        x = np.asarray(epochs) + 1
        ax.plot(x, mean, marker="o", label=label)
        ax.fill_between(x, mean - spread, mean + spread, alpha=0.25)
    ax_loss.set(xlabel="epoch", ylabel="loss (mean ± sd over folds)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    ax_acc.legend()
    fig.tight_layout()
    paths["curves"] = out / "curves.png"
    fig.savefig(paths["curves"], dpi=100)
    plt.close(fig)

    confusion = np.sum([np.asarray(f["confusion"]) for f in end.metrics["per_fold"]], axis=0)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(confusion, cmap="Blues")
    for (i, j), n in np.ndenumerate(confusion):
        ax.text(j, i, str(n), ha="center", va="center")
    ax.set(xticks=range(len(vowels)), yticks=range(len(vowels)), xticklabels=vowels,
           yticklabels=vowels, xlabel="predicted", ylabel="true",
           title="test confusion (all folds)")
    fig.tight_layout()
    paths["confusion"] = out / "confusion.png"
    fig.savefig(paths["confusion"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    image = ax.imshow(speed, cmap="viridis", origin="upper")
    fig.colorbar(image, ax=ax, label="wave speed")
    ax.plot(geometry.source.col, geometry.source.row, "r*", ms=12, label="source")
    for k, probe in enumerate(geometry.probes):
        ax.plot(probe.col, probe.row, "wo", mfc="none", ms=9)
        ax.annotate(vowels[k], (probe.col + 3, probe.row), color="w")
    ax.set_title("trained material (best fold)")
    fig.tight_layout()
    paths["material"] = out / "material.png"
    fig.savefig(paths["material"], dpi=100)
    plt.close(fig)
    return paths
