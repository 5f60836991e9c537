"""A sweep's summary: ``summary.csv``, ``summary.md`` and ``plots/``, ranked by its metric."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..files import atomic_path, write_atomically
from .spec import SweepSpec

__all__ = ["metric_columns", "rank", "ranked_rows", "summary_rows", "write_summary"]

#: The metric columns shown first when a point has them (nominal, then made part, then DRC).
FIRST = ("test_accuracy", "binary_test_accuracy", "focus_gain", "binary_focus_gain", "gain",
         "binary_gain", "drc_pass")


def _value(entry: dict[str, Any], metric: str) -> float | None:
    value = entry.get("metrics", {}).get(metric)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def rank(points: list[dict[str, Any]], metric: str, direction: str) -> list[dict[str, Any]]:
    """Points best first by ``metric``; points without it (failed, pending) last, by index."""
    sign = -1.0 if direction == "maximize" else 1.0
    scored = [p for p in points if _value(p, metric) is not None]
    rest = [p for p in points if _value(p, metric) is None]
    return (sorted(scored, key=lambda p: (sign * _value(p, metric), p["index"]))
            + sorted(rest, key=lambda p: p["index"]))


def metric_columns(points: list[dict[str, Any]], metric: str) -> list[str]:
    """The metrics columns: the ranked metric, the usual ones, then the rest alphabetically."""
    seen = {k for p in points for k in p.get("metrics", {}) if k not in ("wall_time_s",)}
    first = [metric] + [k for k in FIRST if k in seen and k != metric]
    return first + sorted(seen - set(first))


def summary_rows(points: list[dict[str, Any]], spec: SweepSpec) -> list[dict[str, Any]]:
    """One flat row per point, ranked: rank, id, status, swept values, metrics, seconds."""
    return ranked_rows(points, swept_keys=spec.swept_keys, metric=spec.metric,
                       direction=spec.direction)


def ranked_rows(points: list[dict[str, Any]], *, swept_keys: list[str], metric: str,
                direction: str) -> list[dict[str, Any]]:
    """:func:`summary_rows` from what ``sweep.json`` records (no sweep file needed).

    A sweep folder read back later (:mod:`.folder`) has its record, not necessarily its sweep
    file, so the rows are built from the recorded keys, metric and direction.
    """
    keys = swept_keys
    metrics = metric_columns(points, metric)
    rows = []
    for k, entry in enumerate(rank(points, metric, direction)):
        row: dict[str, Any] = {"rank": k + 1 if entry["status"] == "done" else "",
                               "id": entry["id"], "status": entry["status"]}
        row.update({key: entry["overrides"].get(key, "") for key in keys})
        row.update({m: entry.get("metrics", {}).get(m, "") for m in metrics})
        seconds = entry.get("seconds")
        row["seconds"] = "" if seconds is None else round(float(seconds), 1)
        row["reason"] = entry.get("reason", "")
        rows.append(row)
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")


def write_summary(out: Path, points: list[dict[str, Any]], spec: SweepSpec) -> dict[str, Path]:
    """Write ``summary.csv``, ``summary.md`` and the plots; returns the paths by role."""
    rows = summary_rows(points, spec)
    fields = list(rows[0]) if rows else ["rank", "id", "status"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    paths = {"csv": out / "summary.csv", "md": out / "summary.md"}
    write_atomically(paths["csv"], text.getvalue().encode())
    statuses = [p["status"] for p in points]
    skipped = sum(1 for p in points if p.get("skipped"))
    lines = [f"# Sweep {Path(spec.source).name}", "",
             f"{len(points)} points: {statuses.count('done')} done ({skipped} skipped, finished "
             f"before), {statuses.count('failed')} failed; ranked by `{spec.metric}` "
             f"({spec.direction}).", "",
             "| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    lines += ["| " + " | ".join(_cell(row[f]) for f in fields) + " |" for row in rows]
    write_atomically(paths["md"], ("\n".join(lines) + "\n").encode())
    paths.update(write_plots(out / "plots", points, spec))
    return paths


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def write_plots(folder: Path, points: list[dict[str, Any]], spec: SweepSpec) -> dict[str, Path]:
    """The metric against each swept key, a 2D map for two grid keys; PNGs written atomically."""
    done = [p for p in points if _value(p, spec.metric) is not None]
    if not done:
        return {}
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    ys = [_value(p, spec.metric) for p in done]
    for key in spec.swept_keys:
        xs = [p["overrides"].get(key) for p in done]
        fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
        if _numeric(xs):
            ax.plot(xs, ys, "o", color="tab:blue")
            if spec.strategy != "grid" and len({type(x) for x in xs}) == 1 and \
                    any(d.log for d in spec.space if d.key == key):
                ax.set_xscale("log")
        else:
            labels = sorted({str(x) for x in xs})
            ax.plot([labels.index(str(x)) for x in xs], ys, "o", color="tab:blue")
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(key)
        ax.set_ylabel(spec.metric)
        ax.set_title(f"{spec.metric} against {key}", fontsize=10)
        ax.grid(alpha=0.3)
        paths[f"metric_vs_{key}"] = _save(fig, folder / f"{spec.metric}_vs_{key}.png")
    if spec.strategy == "grid" and len(spec.grid) == 2 and not spec.zip_keys:
        paths["map"] = _grid_map(folder, done, spec)
    if spec.strategy == "optuna":
        paths.update(_optuna_plots(folder, points, spec))
    return paths


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def _grid_map(folder: Path, done: list[dict[str, Any]], spec: SweepSpec) -> Path:
    import matplotlib.pyplot as plt
    import numpy as np

    (kx, xs), (ky, ys) = list(spec.grid.items())
    grid = np.full((len(ys), len(xs)), np.nan)
    for p in done:
        i = [str(v) for v in ys].index(str(p["overrides"][ky]))
        j = [str(v) for v in xs].index(str(p["overrides"][kx]))
        grid[i, j] = _value(p, spec.metric)
    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    fig.colorbar(image, ax=ax, label=spec.metric)
    for i in range(len(ys)):
        for j in range(len(xs)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3g}", ha="center", va="center", color="white",
                        fontsize=8)
    return _save(fig, folder / f"{spec.metric}_map.png")


def _optuna_plots(folder: Path, points: list[dict[str, Any]], spec: SweepSpec
                  ) -> dict[str, Path]:
    import matplotlib.pyplot as plt

    trials = sorted((p for p in points if "trial" in p and _value(p, spec.metric) is not None),
                    key=lambda p: p["trial"])
    if not trials:
        return {}
    paths = {}
    values = [_value(p, spec.metric) for p in trials]
    pick = max if spec.direction == "maximize" else min
    best = [pick(values[: k + 1]) for k in range(len(values))]
    fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
    ax.plot([p["trial"] for p in trials], values, "o", label="trial")
    ax.plot([p["trial"] for p in trials], best, "-", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(spec.metric)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("optimization history", fontsize=10)
    paths["history"] = _save(fig, folder / "optuna_history.png")
    importances = _importances(folder.parent, spec)
    if importances:
        fig, ax = plt.subplots(figsize=(5.5, 0.6 + 0.45 * len(importances)),
                               layout="constrained")
        names = list(importances)[::-1]
        ax.barh(names, [importances[n] for n in names], color="tab:blue")
        ax.set_xlabel(f"importance for {spec.metric} (fANOVA)")
        paths["importances"] = _save(fig, folder / "optuna_importances.png")
    return paths


def _importances(out: Path, spec: SweepSpec) -> dict[str, float]:
    """Optuna's parameter importances of the study, or {} when it cannot tell yet."""
    import logging

    try:
        from .study import open_study

        study = open_study(out, spec)
        import optuna

        return dict(optuna.importance.get_param_importances(study))
    except Exception as exc:  # too few trials, a single value, a missing extra: no plot
        logging.getLogger(__name__).info("no parameter importances: %s", exc)
        return {}
