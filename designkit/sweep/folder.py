"""A finished (or running) sweep folder read back: its record, its rows, its plots, its points.

What the designer's sweep table shows comes from here, so that it ranks, names and finds points
exactly as ``wavefab sweep`` wrote them (:mod:`.engine`, :mod:`.summary`). Nothing here needs
the sweep file itself: ``sweep.json`` records the metric, the direction and the swept keys, so a
folder copied off a cluster opens on its own.

::

    folder = read_sweep_folder("results/rules")
    for row in folder.rows():           # ranked, as in summary.csv
        print(row["id"], row[folder.metric])
    folder.point_results(row["id"])     # DIR/points/<id>: an ordinary results folder
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DesignError
from ..units import parse_length
from .driver import STATE_FILE, read_sweep
from .spec import SweepError
from .summary import ranked_rows

__all__ = ["SweepFolder", "is_sweep_folder", "read_sweep_folder", "sort_key"]

#: A point id is a folder name under ``points/``; anything else (``..``, a slash) in a damaged
#: or hand-edited record must not lead outside the sweep folder.
_ID = re.compile(r"[0-9A-Za-z_-][0-9A-Za-z_.-]*")
DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True, eq=False)
class SweepFolder:
    """A sweep folder as ``sweep.json`` records it (see :func:`read_sweep_folder`).

    Attributes:
        path: the sweep folder.
        name: the sweep file's name (``rules.yaml``), or the folder's when none is recorded.
        metric: the ``metrics.json`` key the points are ranked by.
        direction: ``maximize`` or ``minimize``.
        strategy: ``grid``, ``random`` or ``optuna``.
        swept_keys: the dotted keys that vary between points.
        points: every point's record (id, index, overrides, status, reason, seconds, metrics).
        updated: when the record was last written (local time, ISO 8601), or ``""``.
        plots: the PNGs under ``plots/``, by name.
    """

    path: Path
    name: str
    metric: str
    direction: str
    strategy: str
    swept_keys: tuple[str, ...]
    points: tuple[dict[str, Any], ...] = field(repr=False)
    updated: str = ""
    plots: tuple[Path, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per point, ranked best first (the rows of ``summary.csv``)."""
        return ranked_rows(list(self.points), swept_keys=list(self.swept_keys),
                           metric=self.metric, direction=self.direction)

    def columns(self) -> list[str]:
        """The rows' columns: rank, id, status, swept keys, metrics, seconds, reason."""
        rows = self.rows()
        if rows:
            return list(rows[0])
        return ["rank", "id", "status", *self.swept_keys, self.metric, "seconds", "reason"]

    def counts(self) -> dict[str, int]:
        """Points by status (``done``, ``failed``, ``running``, ``pending``), and ``total``."""
        counts = {s: 0 for s in ("done", "failed", "running", "pending")}
        for point in self.points:
            counts[point["status"]] = counts.get(point["status"], 0) + 1
        counts["total"] = len(self.points)
        return counts

    def point(self, point_id: str) -> dict[str, Any]:
        """The record of point ``point_id``.

        Raises:
            SweepError: no such point in this sweep.
        """
        for point in self.points:
            if point["id"] == point_id:
                return point
        raise SweepError(f"{self.path}: no point {point_id!r} in this sweep")

    def point_results(self, point_id: str) -> Path:
        """The results folder of point ``point_id`` (``DIR/points/<id>``), to open or export.

        Raises:
            SweepError: no such point, or it has no results yet (it failed before writing its
                configuration, or has not started); the message says which and why.
        """
        point = self.point(point_id)
        folder = self.path / "points" / point_id
        if not (folder / "config.yaml").is_file():
            why = point["status"] + (f": {point['reason']}" if point.get("reason") else "")
            raise SweepError(f"point {point['index'] + 1} ({point_id}) has no results in "
                             f"{folder} ({why})")
        return folder

    def summary(self) -> str:
        """One line: the points by status and what they are ranked by."""
        counts = self.counts()
        others = counts["total"] - counts["done"] - counts["failed"]
        waiting = f", {others} pending or running" if others else ""
        return (f"{self.name}: {counts['total']} points, {counts['done']} done, "
                f"{counts['failed']} failed{waiting}; ranked by {self.metric} "
                f"({self.direction})")


def is_sweep_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a ``sweep.json`` (it may still be damaged)."""
    path = Path(path)
    return path.is_dir() and (path / STATE_FILE).is_file()


def _check(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise SweepError(f"{where}: {message}")


def _point(entry: Any, k: int, where: str) -> dict[str, Any]:
    """A validated copy of one point's record (what the table and the ranking rely on)."""
    at = f"{where}: points[{k}]"
    _check(isinstance(entry, dict), at, f"not a point record, got {type(entry).__name__}")
    pid = entry.get("id")
    _check(isinstance(pid, str) and _ID.fullmatch(pid) is not None, at,
           f"id: not a point id, got {pid!r}")
    index = entry.get("index")
    _check(isinstance(index, int) and not isinstance(index, bool) and index >= 0, at,
           f"index: a non-negative integer, got {index!r}")
    overrides = entry.get("overrides")
    _check(isinstance(overrides, dict), at, f"overrides: a mapping, got {overrides!r}")
    status = entry.get("status")
    _check(isinstance(status, str) and bool(status), at, f"status: a word, got {status!r}")
    metrics = entry.get("metrics") or {}
    _check(isinstance(metrics, dict), at, f"metrics: a mapping, got {metrics!r}")
    seconds = entry.get("seconds")
    _check(seconds is None or (isinstance(seconds, (int, float))
                               and not isinstance(seconds, bool)), at,
           f"seconds: a number, got {seconds!r}")
    reason = entry.get("reason") or ""
    return {**entry, "metrics": metrics, "reason": str(reason)}


def read_sweep_folder(path: str | Path) -> SweepFolder:
    """Read a sweep folder's ``sweep.json`` and list its plots; every field is checked.

    Raises:
        SweepError: not a sweep folder, or a damaged record; one line naming the field (e.g.
            ``DIR/sweep.json: points[3]: overrides: a mapping, got None``).
    """
    path = Path(path)
    state = read_sweep(path)
    where = str(path / STATE_FILE)
    metric = state.get("metric")
    _check(isinstance(metric, str) and bool(metric), where,
           f"metric: a metrics.json key, got {metric!r}")
    direction = state.get("direction", "maximize")
    _check(direction in DIRECTIONS, where, f"direction: maximize or minimize, got {direction!r}")
    keys = state.get("swept_keys")
    _check(isinstance(keys, list) and all(isinstance(k, str) for k in keys), where,
           f"swept_keys: a list of dotted keys, got {keys!r}")
    points = tuple(_point(entry, k, where) for k, entry in enumerate(state["points"]))
    ids = [p["id"] for p in points]
    _check(len(set(ids)) == len(ids), where, "points: an id appears twice")
    source = state.get("sweep")
    name = Path(source).name if isinstance(source, str) and source else path.name
    plots = tuple(sorted((path / "plots").glob("*.png"))) if (path / "plots").is_dir() else ()
    return SweepFolder(path=path, name=name, metric=metric, direction=direction,
                       strategy=str(state.get("strategy", "grid")), swept_keys=tuple(keys),
                       points=points, updated=str(state.get("updated", "")), plots=plots)


def sort_key(value: Any) -> tuple[int, float | str] | None:
    """How a table cell sorts: numbers (and lengths with a unit) by size, then text.

    Returns None for an empty cell (a failed point's metric, a NaN), which a table puts last
    whichever way it sorts. Lengths such as ``"0.4mm"`` sort by their metres, so a swept rule
    orders as its values, not as their spelling (``"0.45mm"`` after ``"0.4mm"``).
    """
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, (bool, int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)  # a number YAML kept as text (1e-3)
        except ValueError:
            try:
                number = parse_length(value)
            except DesignError:
                return (1, value.casefold())
    if number is None:
        return (1, str(value).casefold())
    return None if math.isnan(number) else (0, number)
