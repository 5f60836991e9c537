"""Every figure wavefab draws with matplotlib, as PNG files written atomically.

Pure drawing: each function takes arrays and labels (no problem, run or file objects) and writes
one PNG, so the results writer, the exporter and the demo share them and none of them imports
matplotlib itself. matplotlib is imported on first use, with the non-interactive Agg backend.

* results of a run: :func:`curves_png`, :func:`confusion_png`, :func:`material_png`,
  :func:`fields_png`, :func:`probe_signals_png`;
* design rules: :func:`drc_png`;
* hand-off previews: :func:`layout_png` (the outline of a mask) and :func:`mesh_png` (a printed
  part).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .files import atomic_path

__all__ = ["confusion_png", "curves_png", "drc_png", "fields_png", "layout_png",
           "material_png", "mesh_png", "probe_signals_png"]

#: Outline colour of each kind of design-rule violation.
VIOLATION_COLOURS = {"solid": "tab:red", "void": "tab:blue", "outside_region": "tab:orange"}


def _figure_module() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` to ``path`` through a temporary file, and close it."""
    plt = _figure_module()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
    return Path(path)


def curves_png(history: Sequence[dict[str, Any]], keys: Sequence[str], path: str | Path
               ) -> Path:
    """Loss (left) and the metrics ``keys`` (right) per epoch, mean ± sd over the folds.

    Args:
        history: one row per epoch with ``fold``, ``epoch``, ``loss`` and the metrics.
        keys: the metrics to draw (each must be in every row).
        path: the PNG to write.
    """
    plt = _figure_module()
    folds = sorted({h["fold"] for h in history})
    epochs = sorted({h["epoch"] for h in history})
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), *((k, ax_metric) for k in keys)):
        table = np.full((len(folds), len(epochs)), np.nan)
        for h in history:
            table[folds.index(h["fold"]), epochs.index(h["epoch"])] = h[key]
        mean, spread = np.nanmean(table, 0), np.nanstd(table, 0)
        x = np.asarray(epochs) + 1
        ax.plot(x, mean, marker="o", label=key.replace("_", " "))
        ax.fill_between(x, mean - spread, mean + spread, alpha=0.25)
    spread_note = " (mean ± sd over folds)" if len(folds) > 1 else ""
    ax_loss.set(xlabel="epoch", ylabel="loss" + spread_note)
    ax_metric.set(xlabel="epoch", ylabel="metric" + spread_note)
    if keys and all(k.endswith("accuracy") for k in keys):
        ax_metric.set(ylabel="accuracy" + spread_note, ylim=(0, 1))
    ax_metric.legend()
    fig.tight_layout()
    return _save(fig, path, 100)


def confusion_png(confusion: np.ndarray, names: Sequence[str], path: str | Path) -> Path:
    """A confusion matrix (rows true, columns predicted) with its counts."""
    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(confusion, cmap="Blues")
    for (i, j), n in np.ndenumerate(confusion):
        ax.text(j, i, str(n), ha="center", va="center")
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xticklabels=names,
           yticklabels=names, xlabel="predicted", ylabel="true",
           title="test confusion (all folds)")
    fig.tight_layout()
    return _save(fig, path, 100)


def material_png(speed: np.ndarray, region: np.ndarray,
                 sources: Sequence[tuple[np.ndarray, np.ndarray]],
                 probes: Sequence[tuple[np.ndarray, np.ndarray]], probe_names: Sequence[str],
                 path: str | Path, *, title: str = "trained material") -> Path:
    """The wave-speed map with the design region, the sources (stars) and the probes (rings).

    Args:
        speed: ``(ny, nx)`` wave speed.
        region: ``(ny, nx)`` bool design region (dashed outline).
        sources: ``(rows, cols)`` of the cells of each source.
        probes: ``(rows, cols)`` of the cells of each probe.
        probe_names: a label per probe.
        path: the PNG to write.
        title: the figure's title.
    """
    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(5, 5))
    image = ax.imshow(speed, cmap="viridis", origin="upper")
    fig.colorbar(image, ax=ax, label="wave speed")
    ax.contour(region, levels=[0.5], colors="w", linewidths=0.6, linestyles="dashed")
    for k, (rows, cols) in enumerate(sources):
        ax.plot(cols, rows, "r*", ms=12, label="source" if k == 0 else None)
    for k, (rows, cols) in enumerate(probes):
        ax.plot(cols, rows, "wo", mfc="none", ms=9)
        if k < len(probe_names):
            ax.annotate(probe_names[k], (float(np.max(cols)) + 3, float(np.mean(rows))),
                        color="w")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path, 100)


def fields_png(snapshots: np.ndarray, titles: Sequence[str], times: Sequence[str],
               region: np.ndarray, path: str | Path) -> Path:
    """Field snapshots, one row per input and one column per time.

    Args:
        snapshots: ``(inputs, times, ny, nx)`` field.
        titles: a label per input (row).
        times: a label per column (``"t = 12 ms"``).
        region: ``(ny, nx)`` bool design region (outlined).
        path: the PNG to write.
    """
    plt = _figure_module()
    rows, cols = snapshots.shape[0], min(len(times), snapshots.shape[1])
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for r in range(rows):
        vmax = float(np.abs(snapshots[r]).max()) or 1.0
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(snapshots[r, c], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.contour(region, levels=[0.5], colors="0.4", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(titles[r])
            if r == 0:
                ax.set_title(times[c])
    fig.tight_layout()
    return _save(fig, path, 90)


def probe_signals_png(signals: np.ndarray, t: np.ndarray, unit: str, titles: Sequence[str],
                      probe_names: Sequence[str], path: str | Path) -> Path:
    """The probes' signals over time, one panel per input.

    Args:
        signals: ``(inputs, T, P)`` probe readings.
        t: ``(T,)`` time of each reading, in ``unit``.
        unit: the time axis label (``"time (ms)"``).
        titles: a label per input.
        probe_names: a label per probe.
        path: the PNG to write.
    """
    plt = _figure_module()
    rows = signals.shape[0]
    fig, axes = plt.subplots(1, rows, figsize=(4 * rows, 3), squeeze=False)
    for r in range(rows):
        ax = axes[0, r]
        for p, name in enumerate(probe_names):
            ax.plot(t, signals[r, :, p], label=f"probe {name}")
        ax.set(title=f"input: {titles[r]}", xlabel=unit, ylabel="probe signal")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path, 90)


def drc_png(binary: np.ndarray, region: np.ndarray,
            violations: Sequence[tuple[str, Sequence[int], int]], title: str,
            path: str | Path) -> Path:
    """A design with its design-rule violations boxed and labelled with their size.

    Args:
        binary: ``(ny, nx)`` bool design (True = solid).
        region: ``(ny, nx)`` bool design region.
        violations: ``(kind, [row0, col0, row1, col1], size in cells)`` of each violation.
        title: the verdict (:meth:`~wavefab.designkit.fab.drc.DrcReport.summary`).
        path: the PNG to write.
    """
    from matplotlib.patches import Rectangle

    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(np.where(region, np.where(binary, 0.15, 0.95), 0.75), cmap="gray", vmin=0, vmax=1,
              origin="upper", interpolation="nearest")
    for kind, (r0, c0, r1, c1), size in violations:
        colour = VIOLATION_COLOURS.get(kind, "tab:purple")
        ax.add_patch(Rectangle((c0 - 1, r0 - 1), c1 - c0 + 2, r1 - r0 + 2, fill=False,
                               edgecolor=colour, linewidth=1.2))
        ax.annotate(f"{size}", (c1 + 1.5, r0), color=colour, fontsize=7)
    ax.set_title("\n".join(textwrap.wrap(title, 60)), fontsize=10)
    ax.set_xlabel("column (cells)")
    ax.set_ylabel("row (cells)")
    fig.tight_layout()
    return _save(fig, path, 110)


def layout_png(geometry: shapely.Geometry, bounds: tuple[float, float, float, float],
               path: str | Path, *, title: str = "") -> Path:
    """Draw the solid regions (metres, shown in mm) with their holes; written atomically."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(6, 6))
    polygons = [geometry] if isinstance(geometry, shapely.Polygon) else list(
        getattr(geometry, "geoms", []))
    for polygon in polygons:
        # One compound path per polygon: shell and holes drawn with the even-odd rule.
        rings = [polygon.exterior, *polygon.interiors]
        vertices = np.concatenate([np.asarray(r.coords) * 1e3 for r in rings])
        codes = np.concatenate([[MplPath.MOVETO] + [MplPath.LINETO] * (len(r.coords) - 2)
                                + [MplPath.CLOSEPOLY] for r in rings])
        ax.add_patch(PathPatch(MplPath(vertices, codes), facecolor="#33415c",
                               edgecolor="#0b132b", linewidth=0.4))
    x0, y0, x1, y1 = (v * 1e3 for v in bounds)
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="0.6", linewidth=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(title or "exported outline", fontsize=10)
    fig.tight_layout()
    return _save(fig, path, 110)


def mesh_png(mesh: Any, path: str | Path, *, title: str = "") -> Path:
    """A shaded oblique view of a trimesh mesh (millimetres); written atomically."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    plt = _figure_module()
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    triangles = np.asarray(mesh.triangles)
    normals = np.asarray(mesh.face_normals)
    light = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
    colours = np.c_[0.25 * shade, 0.45 * shade, 0.75 * shade, np.ones_like(shade)]
    ax.add_collection3d(Poly3DCollection(triangles, facecolors=colours, linewidths=0))
    lo, hi = np.asarray(mesh.bounds)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect((hi - lo) + 1e-9)
    ax.view_init(elev=35, azim=-60)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_zlabel("z (mm)")
    ax.set_title(title or "printed part", fontsize=10)
    return _save(fig, path, 110)
