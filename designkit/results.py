"""A run's results folder: the resolved configuration, metrics, history, design and plots.

Contract (other tools read these files): ``metrics.json`` holds ``problem``, ``loss``,
``per_fold``, ``wall_time_s`` and the problem's summary metrics averaged over folds
(classification: ``train_accuracy`` and ``test_accuracy``, fractions 0–1; lens: ``focus_gain``
and ``peak_gain``); ``design.npz`` holds ``latent``, ``density``, ``speed`` (2D, rows first) and
``region`` (bool). Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import torch

from . import drc
from .config import RunConfig, config_to_dict
from .fabrication import Fabrication, final_design, scale_report
from .files import atomic_path, write_atomically
from .media import sound_speed
from .optimize import RunEnd
from .parametrization import Parametrization
from .problems.base import Problem


def write_config(out: Path, config: RunConfig) -> Path:
    """Write the resolved configuration as ``config.yaml`` (a file ``wavefab run`` accepts)."""
    import yaml

    path = out / "config.yaml"
    text = "# resolved configuration of this run (defaults filled in, overrides applied)\n"
    text += yaml.safe_dump(config_to_dict(config), sort_keys=False)
    write_atomically(path, text.encode())
    return path


def write_results(out: Path, end: RunEnd, problem: Problem,
                  parametrization: Parametrization, wall_time_s: float, *,
                  beta: float | None = None, fabrication: Fabrication | None = None,
                  wave_speed: float | None = None) -> dict[str, Path]:
    """Write metrics, history, the design of the best fold, its DRC and the plots.

    The best fold maximizes the problem's ``score`` metric (lowest loss when it has none).
    ``beta`` is the projection steepness the design was last trained with (None: the one its
    fold's last epoch recorded). With a ``fabrication`` that knows its pitch, ``metrics.json``
    gains the physical scale (``wave_speed`` in m/s overrides the process's).

    Returns:
        The paths written, by role.
    """
    out.mkdir(parents=True, exist_ok=True)
    fab = fabrication or Fabrication()
    metrics = {"problem": problem.name, **end.metrics, "wall_time_s": wall_time_s,
               **problem.report(), "fabrication": _fabrication_summary(
                   problem, parametrization, fab, wave_speed)}
    paths = {"metrics": out / "metrics.json", "history": out / "history.csv",
             "design": out / "design.npz"}
    write_atomically(paths["metrics"], json.dumps(metrics, indent=1).encode())

    text = io.StringIO()
    fields = ["fold", "epoch", "loss"]
    for row in end.history:
        fields += [k for k, v in row.items() if k not in fields and k != "seconds"
                   and isinstance(v, (int, float))]
    writer = csv.DictWriter(text, fieldnames=[*fields, "seconds"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(end.history)
    write_atomically(paths["history"], text.getvalue().encode())

    per_fold = end.metrics["per_fold"]
    if problem.score is not None and all(problem.score in f for f in per_fold):
        best = int(np.argmax([f[problem.score] for f in per_fold]))
    else:
        best = int(np.argmin([f["loss"] for f in per_fold]))
    if beta is None:
        rows = [h for h in end.history if h["fold"] == best]
        beta = rows[-1].get("beta") if rows else None
    latent = torch.from_numpy(end.latents[best])
    with torch.no_grad():
        filtered = parametrization.filtered(latent).numpy()
        projected = parametrization.density(latent, beta=beta)
        density = projected.numpy()
        speed = sound_speed(parametrization.material(projected)).numpy()
        # the repair the fold's run chose (repair_choice: best), not a new choice
        binary = final_design(parametrization, latent, fab,
                              int(per_fold[best].get("repair_candidate", 0)))[1]
    region = problem.setup.region.numpy()
    buffer = io.BytesIO()
    np.savez(buffer, latent=end.latents[best], filtered=filtered, density=density, speed=speed,
             region=region, binary=binary, fold=np.asarray(best),
             min_feature_cells=np.asarray(fab.min_feature_cells),
             min_solid_cells=np.asarray(fab.min_solid_cells),
             min_void_cells=np.asarray(fab.min_void_cells))
    write_atomically(paths["design"], buffer.getvalue())
    paths.update(write_drc(out, binary, region, max(fab.min_solid_cells, 1),
                           max(fab.min_void_cells, 1), pitch=fab.pitch))
    paths.update(_plots(out, end, problem, speed))
    paths.update(_response_plots(out, problem, torch.from_numpy(speed)))
    return paths


def _fabrication_summary(problem: Problem, parametrization: Parametrization, fab: Fabrication,
                         wave_speed: float | None) -> dict:
    summary = fab.describe()
    speed = wave_speed if wave_speed is not None else (
        fab.process.wave_speed if fab.process is not None else None)
    if fab.pitch is not None and speed is not None:
        grid = problem.setup.grid
        summary["scale"] = scale_report(
            pitch=fab.pitch, wave_speed=speed, shape=grid.shape, h=grid.h, dt=grid.dt,
            c0=parametrization.material.c0, band=problem.input_band(),
            seconds_per_step=problem.seconds_per_step,
            absorber_cells=problem.setup.boundary.width)
    return summary


def write_drc(out: Path, binary: np.ndarray, region: np.ndarray, min_solid_cells: int,
              min_void_cells: int, *, pitch: float | None = None,
              stem: str = "drc") -> dict[str, Path]:
    """Check ``binary`` and write ``<stem>.json`` and the overlay ``<stem>.png`` into ``out``.

    Returns:
        ``{"drc": path of the JSON report, "drc_png": path of the PNG overlay}``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    report = drc.check(binary, min_solid_cells, min_void_cells=min_void_cells, region=region,
                       pitch=pitch)
    paths = {"drc": out / f"{stem}.json", "drc_png": out / f"{stem}.png"}
    write_atomically(paths["drc"], json.dumps(report.to_dict(), indent=1).encode())

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(np.where(region, np.where(binary, 0.15, 0.95), 0.75), cmap="gray", vmin=0, vmax=1,
              origin="upper", interpolation="nearest")
    colours = {"solid": "tab:red", "void": "tab:blue", "outside_region": "tab:orange"}
    for v in report.violations:
        r0, c0, r1, c1 = v.bbox
        ax.add_patch(Rectangle((c0 - 1, r0 - 1), c1 - c0 + 2, r1 - r0 + 2, fill=False,
                               edgecolor=colours[v.kind], linewidth=1.2))
        ax.annotate(f"{v.size_cells}", (c1 + 1.5, r0), color=colours[v.kind], fontsize=7)
    verdict = "PASS" if report.passed else f"FAIL: {len(report.violations)} violation(s)"
    ax.set_title(f"DRC {verdict}\nrule solid {min_solid_cells} / void {min_void_cells} cells; "
                 f"measured {report.min_solid_cells:g} / {report.min_void_cells:g}",
                 fontsize=10)
    ax.set_xlabel("column (cells)")
    ax.set_ylabel("row (cells)")
    fig.tight_layout()
    try:
        with atomic_path(paths["drc_png"]) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
    return paths


def _response_plots(out: Path, problem: Problem, speed: torch.Tensor) -> dict[str, Path]:
    """Field snapshots and probe signals for the problem's example inputs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    examples = problem.examples()
    if not examples:
        return {}
    longest = max(w.numel() for _, w in examples)
    clips = torch.zeros(len(examples), longest)
    for row, (_, waveform) in enumerate(examples):
        clips[row, :waveform.numel()] = waveform.float()
    snaps_wanted = 4
    every = max(longest // (snaps_wanted + 1), 1)
    with torch.no_grad():
        result = problem.setup.simulate(speed, clips, snapshot_every=every)
    assert result.snapshots is not None
    snaps = result.snapshots.numpy()
    dt = problem.seconds_per_step

    def when(step: int) -> str:
        return f"t = {step * dt * 1e3:.0f} ms" if dt else f"step {step}"

    rows, cols = len(examples), min(snaps_wanted, snaps.shape[1])
    region = problem.setup.region.numpy()
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for r, (title, _) in enumerate(examples):
        vmax = float(np.abs(snaps[r]).max()) or 1.0
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(snaps[r, c], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.contour(region, levels=[0.5], colors="0.4", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(title)
            if r == 0:
                ax.set_title(when((c + 1) * every))
    fig.tight_layout()
    paths = {"fields": out / "fields.png"}
    fig.savefig(paths["fields"], dpi=90)
    plt.close(fig)

    power = result.probes.numpy()
    steps = np.arange(power.shape[1])
    t, unit = (steps * dt * 1e3, "time (ms)") if dt else (steps, "time step")
    names = problem.setup.probe_names or tuple(str(k) for k in range(power.shape[2]))
    fig, axes = plt.subplots(1, rows, figsize=(4 * rows, 3), squeeze=False)
    for r, (title, _) in enumerate(examples):
        ax = axes[0, r]
        for p, name in enumerate(names):
            ax.plot(t, power[r, :, p], label=f"probe {name}")
        ax.set(title=f"input: {title}", xlabel=unit, ylabel="probe signal")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    paths["probes"] = out / "probe_power.png"
    fig.savefig(paths["probes"], dpi=90)
    plt.close(fig)
    return paths


def _plots(out: Path, end: RunEnd, problem: Problem, speed: np.ndarray) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    folds = sorted({h["fold"] for h in end.history})
    epochs = sorted({h["epoch"] for h in end.history})
    curves = [k for k in problem.summary_keys if all(k in h for h in end.history)]
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), *((k, ax_metric) for k in curves)):
        table = np.full((len(folds), len(epochs)), np.nan)
        for h in end.history:
            table[folds.index(h["fold"]), epochs.index(h["epoch"])] = h[key]
        mean, spread = np.nanmean(table, 0), np.nanstd(table, 0)
        x = np.asarray(epochs) + 1
        ax.plot(x, mean, marker="o", label=key.replace("_", " "))
        ax.fill_between(x, mean - spread, mean + spread, alpha=0.25)
    spread_note = " (mean ± sd over folds)" if len(folds) > 1 else ""
    ax_loss.set(xlabel="epoch", ylabel="loss" + spread_note)
    ax_metric.set(xlabel="epoch", ylabel="metric" + spread_note)
    if all(k.endswith("accuracy") for k in curves):
        ax_metric.set(ylabel="accuracy" + spread_note, ylim=(0, 1))
    ax_metric.legend()
    fig.tight_layout()
    paths["curves"] = out / "curves.png"
    fig.savefig(paths["curves"], dpi=100)
    plt.close(fig)

    names = problem.setup.probe_names
    if all("confusion" in f for f in end.metrics["per_fold"]):
        confusion = np.sum([np.asarray(f["confusion"]) for f in end.metrics["per_fold"]], axis=0)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(confusion, cmap="Blues")
        for (i, j), n in np.ndenumerate(confusion):
            ax.text(j, i, str(n), ha="center", va="center")
        ax.set(xticks=range(len(names)), yticks=range(len(names)), xticklabels=names,
               yticklabels=names, xlabel="predicted", ylabel="true",
               title="test confusion (all folds)")
        fig.tight_layout()
        paths["confusion"] = out / "confusion.png"
        fig.savefig(paths["confusion"], dpi=100)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    image = ax.imshow(speed, cmap="viridis", origin="upper")
    fig.colorbar(image, ax=ax, label="wave speed")
    ax.contour(problem.setup.region.numpy(), levels=[0.5], colors="w", linewidths=0.6,
               linestyles="dashed")
    grid = problem.setup.grid
    for k, source in enumerate(problem.setup.sources):
        cells = source.cells(grid)
        ax.plot(cells.cols, cells.rows, "r*", ms=12, label="source" if k == 0 else None)
    for k, probe in enumerate(problem.setup.probes):
        cells = probe.cells(grid)
        ax.plot(cells.cols, cells.rows, "wo", mfc="none", ms=9)
        if k < len(names):
            ax.annotate(names[k], (float(cells.cols.max()) + 3, float(cells.rows.mean())),
                        color="w")
    ax.set_title("trained material" + (" (best fold)" if len(folds) > 1 else ""))
    fig.tight_layout()
    paths["material"] = out / "material.png"
    fig.savefig(paths["material"], dpi=100)
    plt.close(fig)
    return paths
