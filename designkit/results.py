"""A run's results folder, both ways: the one writer and the one reader of its files.

Contract (other tools read these files): ``metrics.json`` holds ``problem``, ``loss``,
``per_fold``, ``wall_time_s`` and the problem's summary metrics averaged over folds
(classification: ``train_accuracy`` and ``test_accuracy``, fractions 0–1; lens: ``focus_gain``
and ``peak_gain``); ``design.npz`` holds ``latent``, ``density``, ``speed`` (2D, rows first) and
``region`` (bool), and with fabrication ``binary``, ``filtered``, ``fold``,
``min_feature_cells``, ``min_solid_cells``, ``min_void_cells``; ``history.csv`` one row per
epoch; ``drc.json`` the design-rule report. Every file is written to a temporary name and
renamed into place.

Reading: :func:`read_results` reads the design arrays, metrics and history of a results folder
(or a designer's project folder, which keeps the same files); :func:`load_design` makes the
:class:`Design` to check and hand off from a results folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import plots
from .config import RunConfig, config_from_dict, config_to_dict
from .errors import DesignError, DesignValueError, FileFormatError
from .fab import drc
from .fab.fabrication import Fabrication
from .fab.scaling import scale_report
from .files import write_atomically
from .npzfile import read_npz
from .optimize.events import RunEnd
from .optimize.finalize import made_design
from .parametrization.chain import Parametrization
from .parametrization.media import sound_speed
from .problems.base import Problem
from .problems.registry import problem_kind

__all__ = ["Design", "ResultsFolder", "design_from_arrays", "load_design", "read_results",
           "write_config", "write_drc", "write_results"]


# -- writing -----------------------------------------------------------------------------------
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
        binary = made_design(parametrization, latent, fab,
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
                           max(fab.min_void_cells, 1), pitch=fab.pitch)[1])
    paths.update(_run_plots(out, end, problem, speed))
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
              stem: str = "drc") -> tuple[drc.DrcReport, dict[str, Path]]:
    """Check ``binary`` and write ``<stem>.json`` and the overlay ``<stem>.png`` into ``out``.

    Returns:
        The report, and ``{"drc": path of the JSON report, "drc_png": path of the overlay}``.
    """
    report = drc.check(binary, min_solid_cells, min_void_cells=min_void_cells, region=region,
                       pitch=pitch)
    paths = {"drc": out / f"{stem}.json", "drc_png": out / f"{stem}.png"}
    write_atomically(paths["drc"], json.dumps(report.to_dict(), indent=1).encode())
    plots.drc_png(binary, region, [(v.kind, v.bbox, v.size_cells) for v in report.violations],
                  report.summary(), paths["drc_png"])
    return report, paths


def _response_plots(out: Path, problem: Problem, speed: torch.Tensor) -> dict[str, Path]:
    """Field snapshots and probe signals for the problem's example inputs."""
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

    titles = [title for title, _ in examples]
    region = problem.setup.region.numpy()
    times = [when((c + 1) * every) for c in range(min(snaps_wanted, snaps.shape[1]))]
    paths = {"fields": plots.fields_png(snaps, titles, times, region, out / "fields.png")}
    power = result.probes.numpy()
    steps = np.arange(power.shape[1])
    t, unit = (steps * dt * 1e3, "time (ms)") if dt else (steps, "time step")
    names = problem.setup.probe_names or tuple(str(k) for k in range(power.shape[2]))
    paths["probes"] = plots.probe_signals_png(power, t, unit, titles, names,
                                              out / "probe_power.png")
    return paths


def _run_plots(out: Path, end: RunEnd, problem: Problem, speed: np.ndarray) -> dict[str, Path]:
    """Training curves, the confusion matrix (classifiers) and the trained material."""
    curves = [k for k in problem.summary_keys if all(k in h for h in end.history)]
    paths = {"curves": plots.curves_png(end.history, curves, out / "curves.png")}
    names = problem.setup.probe_names
    if all("confusion" in f for f in end.metrics["per_fold"]):
        confusion = np.sum([np.asarray(f["confusion"]) for f in end.metrics["per_fold"]], axis=0)
        paths["confusion"] = plots.confusion_png(confusion, names, out / "confusion.png")
    grid = problem.setup.grid
    cells = [s.cells(grid) for s in problem.setup.sources]
    probes = [p.cells(grid) for p in problem.setup.probes]
    folds = {h["fold"] for h in end.history}
    paths["material"] = plots.material_png(
        speed, problem.setup.region.numpy(), [(c.rows, c.cols) for c in cells],
        [(c.rows, c.cols) for c in probes], names, out / "material.png",
        title="trained material" + (" (best fold)" if len(folds) > 1 else ""))
    return paths


# -- reading -----------------------------------------------------------------------------------
@dataclass
class ResultsFolder:
    """The files of a results folder (or a project folder) as read from disk.

    Attributes:
        folder: where they were read.
        arrays: the arrays of ``design.npz`` (empty when there is none).
        metrics: ``metrics.json`` (empty when missing or unreadable: informative only).
        history: the rows of ``history.csv`` as numbers (empty when missing or unreadable).
    """

    folder: Path
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)


def read_results(folder: str | Path, *, need_design: bool = True) -> ResultsFolder:
    """Read ``design.npz``, ``metrics.json`` and ``history.csv`` of ``folder`` (no pickle).

    Args:
        folder: a results folder of ``wavefab run``, or a project folder.
        need_design: a missing ``design.npz`` is an error (else: no arrays).

    Raises:
        DesignValueError: no (or an unreadable) ``design.npz`` where one is needed; a damaged
            one always. Metrics and history are display aids: when unreadable they read empty.
    """
    folder = Path(folder)
    found = ResultsFolder(folder)
    path = folder / "design.npz"
    if path.exists():
        found.arrays = _design_arrays(path)
    elif need_design:
        raise DesignValueError(f"{folder} holds no design.npz; give a results folder written by "
                               "`wavefab run`")
    found.metrics = _read_metrics(folder / "metrics.json")
    found.history = _read_history(folder / "history.csv")
    return found


#: The arrays of ``design.npz`` on the grid (2-D, one shape), and its whole numbers.
_GRID_ARRAYS = ("latent", "filtered", "density", "speed", "region", "binary")
_COUNTS = ("fold", "min_feature_cells", "min_solid_cells", "min_void_cells")
#: The largest design grid read (cells): the run configuration's default ``limits.cells``.
MAX_DESIGN_CELLS = 16_000_000
#: The largest ``metrics.json`` read (bytes): a 5-fold run's is a few kB.
MAX_METRICS_BYTES = 16 * 1024 * 1024


def _design_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a ``design.npz``, checked for what a design is (see the module docstring).

    Raises:
        FileFormatError: naming the file, the array and the fix.
    """
    arrays = read_npz(path, what="design file", max_elements=8 * MAX_DESIGN_CELLS)
    fix = "; re-run `wavefab run` or restore the file"
    shape = None
    for key in _GRID_ARRAYS:
        if key not in arrays:
            continue
        array = arrays[key]
        if array.ndim != 2 or min(array.shape) < 1:
            raise FileFormatError(path, f"{key} must be a 2-D grid, got shape {array.shape}{fix}")
        if shape is None:
            shape = array.shape
        elif array.shape != shape:
            raise FileFormatError(path, f"{key} has shape {array.shape}, the other arrays "
                                  f"{shape}{fix}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise FileFormatError(path, f"{key} holds NaN or infinite values{fix}")
        if key in ("region", "binary") and array.dtype.kind != "b" and not np.isin(
                array, (0, 1)).all():
            raise FileFormatError(path, f"{key} must hold 0/1 (solid or void) values{fix}")
    if shape is not None and shape[0] * shape[1] > MAX_DESIGN_CELLS:
        raise FileFormatError(path, f"a {shape[0]:,} × {shape[1]:,} grid is above the "
                              f"{MAX_DESIGN_CELLS:,} cells wavefab designs take{fix}")
    largest = max(shape) if shape is not None else 0
    for key in _COUNTS:
        if key not in arrays:
            continue
        value = arrays[key]
        if value.size != 1 or value.dtype.kind not in "biuf":
            raise FileFormatError(path, f"{key} must be one whole number, got shape "
                                  f"{value.shape}{fix}")
        number = value.reshape(()).item()
        # A rule wider than the grid means nothing and would make the morphology of an export
        # run for hours; a fold index only picks a fold.
        top = 10_000 if key == "fold" else largest
        if (isinstance(number, float) and not math.isfinite(number)) or number != int(number) \
                or not 0 <= number <= top:
            raise FileFormatError(path, f"{key} must be a whole number from 0 to "
                                  f"{'10,000' if key == 'fold' else 'the grid side'} "
                                  f"({top:,}), got {number!r}{fix}")
        arrays[key] = np.asarray(int(number))
    return arrays


def _read_metrics(path: Path) -> dict[str, Any]:
    """``metrics.json`` as a mapping (empty when there is none).

    Its ``fabrication`` facts (pitch, process, scale) are checked where they are used. A file
    that is there but damaged is an error, not an empty mapping: it holds the pitch and process
    that every export and check relies on, and without it they would ask for a pitch as if the
    design had never had one.

    Raises:
        FileFormatError: too large, not UTF-8 JSON, nested too deeply, or not a mapping.
    """
    if not path.is_file():
        return {}
    fix = "; run the design again, or restore the file from a copy"
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_METRICS_BYTES else b""
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if size > MAX_METRICS_BYTES:
        raise FileFormatError(path, f"is {size / 2**20:.0f} MiB, more than the "
                              f"{MAX_METRICS_BYTES // 2**20} MiB a run writes{fix}")
    try:
        metrics = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else \
            str(exc).splitlines()[0][:120]
        raise FileFormatError(path, f"is damaged: not readable JSON ({reason}){fix}") from None
    if not isinstance(metrics, dict):
        raise FileFormatError(path, f"holds a JSON {type(metrics).__name__}, not the mapping a "
                              f"run writes{fix}")
    return metrics


def _read_history(path: Path) -> list[dict[str, float]]:
    """Rows of a run's ``history.csv`` as numbers (empty when missing or unreadable)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="") as fh:
            return [{k: float(v) for k, v in row.items() if v not in (None, "")}
                    for row in csv.DictReader(fh)]
    except (OSError, ValueError):
        return []  # a display aid only


@dataclass
class Design:
    """A design to check and hand off (arrays on the whole simulation grid, rows first).

    Attributes:
        name: design name (the results folder's name by default).
        binary: the made binary design (True = solid).
        filtered: the filtered density, for smooth contours (None when not saved).
        region: the design region.
        eta: the projection threshold the contour is drawn at.
        min_solid_cells: the solid rule the design was optimized for (0: none).
        min_void_cells: the void rule.
        pitch: physical size of one cell (metres), when the run had one.
        process: the run's process name, when it had one.
        process_file: the run's file of user process presets, when it had one.
        source: where it was read from.
        scale: the run's physical scale (band, wave speed; see ``wavefab scale``), if known.
        ports: ``(row, col)`` of the setup's sources and probes (where a printed part's lid
            gets holes), when the configuration is known.
        fold: the cross-validation fold the design was trained on (its test examples are the
            ones it never saw).
    """

    name: str
    binary: np.ndarray
    filtered: np.ndarray | None = None
    region: np.ndarray | None = None
    eta: float = 0.5
    min_solid_cells: int = 0
    min_void_cells: int = 0
    pitch: float | None = None
    process: str | None = None
    process_file: str | None = None
    source: Path | None = None
    scale: dict[str, Any] | None = None
    ports: tuple[tuple[int, int], ...] = ()
    fold: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(rows, cols)``."""
        return tuple(self.binary.shape)  # type: ignore[return-value]


def load_design(folder: str | Path) -> Design:
    """Read the design of a results folder of ``wavefab run``.

    Raises:
        DesignValueError: no or an unreadable ``design.npz``, or one without a design.
    """
    folder = Path(folder)
    stored = read_results(folder)
    arrays = stored.arrays
    path = folder / "design.npz"
    if "binary" in arrays:
        binary = arrays["binary"].astype(bool)
    elif "density" in arrays:
        binary = arrays["density"] > 0.5
    else:
        raise DesignValueError(f"{path} has neither 'binary' nor 'density'")
    if binary.ndim != 2:
        raise DesignValueError(f"{path}: the design must be 2-D, got shape {binary.shape}")
    eta, process_file, ports = _config_facts(folder / "config.yaml")
    fabrication = _fabrication_facts(folder / "metrics.json", stored.metrics.get("fabrication"))
    design = design_from_arrays(folder.resolve().name, {**arrays, "binary": binary},
                                fabrication, eta=eta, ports=ports)
    design.process_file, design.source = process_file, folder
    return design


def _fabrication_facts(path: Path, facts: object) -> dict[str, Any]:
    """The ``fabrication`` entry of ``metrics.json``, checked: what an export scales by.

    Raises:
        FileFormatError: a pitch that is not a positive finite length (metres), a process that
            is not a name, a scale that is not a mapping.
    """
    if facts is None:
        return {}
    fix = "; correct it, or delete the entry and pass --pitch"
    if not isinstance(facts, dict):
        raise FileFormatError(path, f"'fabrication' must be a mapping, got {facts!r:.60}{fix}")
    pitch = facts.get("pitch_m")
    if pitch is not None and (isinstance(pitch, bool) or not isinstance(pitch, (int, float))
                              or not (math.isfinite(pitch) and 0 < pitch <= 1.0)):
        raise FileFormatError(path, f"fabrication.pitch_m must be a positive length up to 1 m "
                              f"(in metres), got {pitch!r:.60}{fix}")
    if not isinstance(facts.get("process"), (str, type(None))):
        raise FileFormatError(path, f"fabrication.process must be a process name, got "
                              f"{facts['process']!r:.60}{fix}")
    if not isinstance(facts.get("scale"), (dict, type(None))):
        raise FileFormatError(path, f"fabrication.scale must be a mapping, got "
                              f"{facts['scale']!r:.60}{fix}")
    return {**facts, "pitch_m": None if pitch is None else float(pitch)}


def _config_facts(path: Path) -> tuple[float, str | None, tuple[tuple[int, int], ...]]:
    """``(η, process file, port cells)`` of a results folder's configuration.

    Defaults (0.5, None, none) where the file is missing or unreadable: the design itself is in
    ``design.npz``, and a configuration of another wavefab may no longer validate.
    """
    from .yamlfile import read_yaml

    eta, process_file, ports = 0.5, None, ()
    if not path.is_file():
        return eta, process_file, ports
    try:
        raw = read_yaml(path, what="run configuration")
        eta = float((raw.get("material") or {}).get("eta", 0.5))
        process_file = (raw.get("fabrication") or {}).get("process_file")
        if not (0 < eta < 1) or not isinstance(process_file, (str, type(None))):
            return 0.5, None, ()
    except (ValueError, TypeError, AttributeError):  # FileFormatError is a ValueError
        return 0.5, None, ()
    try:
        config = config_from_dict(raw, source=str(path))
        setup = problem_kind(config.problem).sketch_of(config)
        ports = (*setup.sources, *setup.probes)
    except (DesignError, ValueError, TypeError):
        ports = ()  # the ports stay unknown; exports that need them say so
    return eta, process_file, ports


def design_from_arrays(name: str, arrays: dict[str, np.ndarray], fabrication: dict[str, Any],
                       *, eta: float = 0.5, ports: tuple[tuple[int, int], ...] = ()) -> Design:
    """A :class:`Design` from ``design.npz`` arrays and the ``fabrication`` summary of metrics.

    Raises:
        DesignValueError: the arrays hold no ``binary`` design.
    """
    if "binary" not in arrays:
        raise DesignValueError(f"{name} has no binary design yet: optimize it first")
    solid = int(arrays.get("min_solid_cells", arrays.get("min_feature_cells", 0)))
    void = int(arrays.get("min_void_cells", arrays.get("min_feature_cells", 0)))
    return Design(name=name, binary=np.asarray(arrays["binary"], bool),
                  filtered=arrays.get("filtered"), region=arrays.get("region"), eta=eta,
                  min_solid_cells=solid, min_void_cells=void,
                  pitch=fabrication.get("pitch_m"), process=fabrication.get("process"),
                  scale=fabrication.get("scale"), ports=tuple(ports),
                  fold=int(arrays.get("fold", 0)))
