"""The sweep file: a base configuration, fixed overrides, one strategy; and its points.

A sweep file (YAML)::

    base: lens_fab.yaml            # a run configuration, relative to this file
    set: {training.epochs: 4}      # fixed overrides, dotted keys
    metric: binary_focus_gain      # metrics.json key the summary ranks by (default: the
    direction: maximize            #   problem's made-part metric, maximized)
    retries: 1                     # times a point whose worker died is tried again
    grid:                          # the cartesian product of these lists ...
      fabrication.min_feature: [0.4mm, 0.5mm]
    zip:                           # ... times these lists taken together (equal lengths)
      training.seed: [1, 2]
      material.eta: [0.5, 0.45]

or ``random: {samples: 8, seed: 0, method: random|lhs, <key>: {low, high, log} | {choices}}``,
or ``optuna: {trials, direction, metric, sampler: tpe|cmaes|random, <key>: ...}``; and an
optional ``cluster:`` section for dask-jobqueue (see :mod:`.executors`).

Every point's configuration is built and validated here, before anything runs; a point's id is
a short hash of its resolved configuration and the wavefab version, so the same point always
lands in the same folder.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ConfigError, RunConfig, config_from_dict, config_to_dict, set_dotted
from ..errors import DesignError
from ..files import wavefab_version
from ..problems.registry import problem_kind

__all__ = ["Point", "SearchDimension", "SweepError", "SweepSpec", "load_sweep", "parse_sweep",
           "point_id", "resolve_point"]

STRATEGIES = ("grid", "random", "optuna")
TOP_KEYS = {"base", "set", "metric", "direction", "retries", "cluster", "grid", "zip", "random",
            "optuna"}
RANDOM_KEYS = {"samples", "seed", "method"}
OPTUNA_KEYS = {"trials", "direction", "metric", "sampler", "seed"}
SAMPLERS = ("tpe", "cmaes", "random")


class SweepError(DesignError, ValueError):
    """A sweep file or one of its points is wrong; the message is one line naming the field."""


@dataclass(frozen=True)
class SearchDimension:
    """One searched key of ``random:`` or ``optuna:``: a range or a list of choices."""

    key: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def integer(self) -> bool:
        """Both bounds are integers: sample integers."""
        return isinstance(self.low, int) and isinstance(self.high, int)

    def from_unit(self, u: float) -> Any:
        """The value at ``u`` in [0, 1) (uniform, or log-uniform when ``log``)."""
        if self.choices:
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        assert self.low is not None and self.high is not None
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return min(math.floor(value), int(self.high)) if self.integer else float(value)

    def corners(self) -> list[Any]:
        """The values validated before a search runs: both bounds, or every choice."""
        return list(self.choices) if self.choices else [self.low, self.high]


@dataclass(frozen=True)
class Point:
    """One configuration of a sweep.

    Attributes:
        index: its position in the sweep (0-based; what error lines and the listing show + 1).
        overrides: the swept values, by dotted key.
        config: the resolved, validated run configuration.
        id: short hash of the configuration and the wavefab version (its folder's name).
    """

    index: int
    overrides: dict[str, Any]
    config: RunConfig = field(repr=False)
    id: str = ""

    def label(self) -> str:
        """``key=value, …`` of the swept values."""
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "(base)"


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file (see the module docstring).

    Attributes:
        source: the sweep file (or a name for one built in memory).
        base_values: the base configuration's mapping with ``set:`` applied.
        strategy: ``grid``, ``random`` or ``optuna``.
        grid: ``grid:`` lists by key; ``zip_keys``: the ``zip:`` lists by key.
        random: the ``random:`` settings (samples, seed, method).
        space: the searched dimensions of ``random:`` or ``optuna:``.
        optuna: the ``optuna:`` settings (trials, sampler, seed).
        metric: the ranked ``metrics.json`` key; ``direction``: maximize or minimize.
        retries: how often a point whose worker died is tried again.
        cluster: the ``cluster:`` section (dask-jobqueue), or None.
        text: the file's text, which a sweep folder records to know it is the same sweep.
    """

    source: str
    base_values: dict[str, Any]
    strategy: str
    metric: str
    direction: str = "maximize"
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zip_keys: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, Any] = field(default_factory=dict)
    space: tuple[SearchDimension, ...] = ()
    optuna: dict[str, Any] = field(default_factory=dict)
    retries: int = 1
    cluster: dict[str, Any] | None = None
    text: str = ""

    @property
    def swept_keys(self) -> list[str]:
        """The dotted keys that vary between points, in file order."""
        if self.strategy == "grid":
            return [*self.grid, *self.zip_keys]
        return [d.key for d in self.space]

    def points(self) -> list[Point]:
        """Every point of a grid or random sweep, validated (an Optuna study asks as it goes).

        Raises:
            SweepError: the first point that does not validate, by number and dotted path.
        """
        if self.strategy == "optuna":
            raise SweepError(f"{self.source}: optuna: the study proposes its points as it runs")
        overrides = (_grid_points(self.grid, self.zip_keys) if self.strategy == "grid"
                     else _random_points(self.space, self.random))
        return [resolve_point(self, k, o) for k, o in enumerate(overrides)]

    def check_space(self) -> None:
        """Validate every bound and choice of a searched space, one key at a time."""
        for dim in self.space:
            for value in dim.corners():
                resolve_point(self, 0, {dim.key: value}, what=f"{dim.key}={value}")


def _grid_points(grid: dict[str, list[Any]], zipped: dict[str, list[Any]]
                 ) -> list[dict[str, Any]]:
    product = [dict(zip(grid, values, strict=True))
               for values in itertools.product(*grid.values())] if grid else [{}]
    n = len(next(iter(zipped.values()))) if zipped else 1
    rows = [{k: v[i] for k, v in zipped.items()} for i in range(n)] if zipped else [{}]
    return [{**a, **b} for a in product for b in rows]


def _random_points(space: tuple[SearchDimension, ...], settings: dict[str, Any]
                   ) -> list[dict[str, Any]]:
    import numpy as np

    samples, seed = int(settings["samples"]), int(settings.get("seed", 0))
    if settings.get("method", "random") == "lhs":
        from scipy.stats import qmc

        units = qmc.LatinHypercube(d=len(space), seed=seed).random(samples)
    else:
        units = np.random.default_rng(seed).random((samples, len(space)))
    return [{d.key: _plain(d.from_unit(float(u[j]))) for j, d in enumerate(space)}
            for u in units]


def _plain(value: Any) -> Any:
    """Round floats to 12 significant digits, so a point's id does not hang on the last bit."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def with_dotted(values: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of a configuration mapping with ``key`` (dotted) set to ``value``.

    Raises:
        SweepError: a part of ``key`` names a value, not a section.
    """
    out = copy.deepcopy(values)
    try:
        set_dotted(out, key, copy.deepcopy(value))
    except ConfigError as exc:
        raise SweepError(exc.problems[0]) from None
    return out


def point_id(config: RunConfig) -> str:
    """12 hex digits of the SHA-256 of the resolved configuration and the wavefab version."""
    text = json.dumps({"config": config_to_dict(config), "wavefab": wavefab_version()},
                      sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def resolve_point(spec: SweepSpec, index: int, overrides: dict[str, Any], *,
                  what: str | None = None) -> Point:
    """The validated point ``index`` with ``overrides`` over the spec's base.

    Raises:
        SweepError: one line: the point, the dotted path and what is wrong with it.
    """
    values = spec.base_values
    for key, value in overrides.items():
        values = with_dotted(values, key, value)
    name = what or f"point {index + 1} ({', '.join(f'{k}={v}' for k, v in overrides.items())})"
    try:
        config = config_from_dict(values, source=spec.source)
    except ConfigError as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise SweepError(f"{spec.source}: {name}: {first}{more}") from None
    except DesignError as exc:
        raise SweepError(f"{spec.source}: {name}: {exc}") from None
    return Point(index, dict(overrides), config, point_id(config))


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise SweepError(message)


def _is_int(value: Any, low: int | None = None, high: int | None = None) -> bool:
    """An integer (not a bool: YAML's ``true`` is an int to Python) within [low, high]."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and (low is None or value >= low) and (high is None or value <= high))


def _number(value: Any) -> Any:
    """YAML reads ``1e-3`` (no dot) as a string: take it as the number it spells."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _space(section: dict[str, Any], reserved: set[str], where: str) -> tuple[SearchDimension, ...]:
    dims = []
    for key, value in section.items():
        if key in reserved:
            continue
        path = f"{where}.{key}"
        _need("." in key, f"{path}: unknown key; a searched key is dotted (e.g. "
              f"training.learning_rate), settings are {', '.join(sorted(reserved))}")
        _need(isinstance(value, dict), f"{path}: give {{low, high[, log]}} or {{choices: [...]}}")
        unknown = set(value) - {"low", "high", "log", "choices"}
        if unknown:
            raise SweepError(f"{path}.{sorted(unknown)[0]}: unknown key (known: choices, high, "
                             f"log, low)")
        if "choices" in value:
            choices = value["choices"]
            _need(isinstance(choices, list) and len(choices) > 0,
                  f"{path}.choices: give a non-empty list")
            _need(not {"low", "high"} & set(value), f"{path}: give choices or low/high, not both")
            dims.append(SearchDimension(key, choices=tuple(choices)))
            continue
        low, high = _number(value.get("low")), _number(value.get("high"))
        log = value.get("log", False)
        for name, bound in (("low", low), ("high", high)):
            _need(isinstance(bound, (int, float)) and not isinstance(bound, bool)
                  and math.isfinite(bound), f"{path}.{name}: give a finite number, got {bound!r}")
        _need(low < high, f"{path}: low must be below high, got low={low}, high={high}")
        _need(isinstance(log, bool), f"{path}.log: true or false, got {log!r}")
        _need(not log or low > 0, f"{path}: a log range needs low > 0, got {low}")
        dims.append(SearchDimension(key, low, high, log))
    _need(bool(dims), f"{where}: name at least one dotted key to search")
    return tuple(dims)


def _lists(section: Any, where: str) -> dict[str, list[Any]]:
    _need(isinstance(section, dict) and bool(section),
          f"{where}: give a mapping of dotted keys to non-empty lists")
    for key, values in section.items():
        _need(isinstance(values, list) and len(values) > 0,
              f"{where}.{key}: give a non-empty list of values, got {values!r}")
    return dict(section)


def parse_sweep(values: Any, base_values: dict[str, Any], *, source: str = "sweep",
                text: str = "") -> SweepSpec:
    """Check a sweep mapping (``base:`` already read into ``base_values``); no point is built.

    Raises:
        SweepError: one line naming the field and what to give.
    """
    _need(isinstance(values, dict), f"{source}: a sweep file is a mapping (base:, set:, grid:…)")
    unknown = set(values) - TOP_KEYS
    if unknown:
        raise SweepError(f"{source}: {sorted(unknown)[0]}: unknown key (known: "
                         f"{', '.join(sorted(TOP_KEYS))})")
    base = dict(base_values)
    fixed = values.get("set") or {}
    _need(isinstance(fixed, dict), f"{source}: set: give a mapping of dotted keys to values")
    for key, value in fixed.items():
        base = with_dotted(base, str(key), value)
    chosen = [s for s in STRATEGIES if s in values]
    _need(len(chosen) <= 1, f"{source}: give one strategy, not {' and '.join(chosen)}")
    _need(bool(chosen) or "zip" in values,
          f"{source}: give a strategy: grid:, zip:, random: or optuna:")
    strategy = chosen[0] if chosen else "grid"
    _need(strategy == "grid" or "zip" not in values,
          f"{source}: zip: goes with grid:, not with {strategy}:")
    problem = base.get("problem")
    try:
        kind = problem_kind(problem if isinstance(problem, str) else "")
    except DesignError:
        raise SweepError(f"{source}: base: problem: {problem!r} is not a known problem") from None
    optuna = values.get("optuna") or {}
    metric = values.get("metric", optuna.get("metric") if isinstance(optuna, dict) else None)
    metric = metric or kind.made_metric
    _need(isinstance(metric, str) and bool(metric), f"{source}: metric: give a metrics.json key")
    direction = values.get("direction",
                           optuna.get("direction") if isinstance(optuna, dict) else None)
    direction = direction or "maximize"
    _need(direction in ("maximize", "minimize"),
          f"{source}: direction: maximize or minimize, got {direction!r}")
    retries = values.get("retries", 1)
    _need(_is_int(retries, 0, 100),
          f"{source}: retries: an integer from 0 to 100, got {retries!r}")
    cluster = values.get("cluster")
    if cluster is not None:
        check_cluster(cluster, f"{source}: cluster")
    spec: dict[str, Any] = dict(source=source, base_values=base, strategy=strategy,
                                metric=metric, direction=direction, retries=retries,
                                cluster=cluster, text=text)
    if strategy == "grid":
        grid = _lists(values["grid"], f"{source}: grid") if "grid" in values else {}
        zipped = _lists(values["zip"], f"{source}: zip") if "zip" in values else {}
        lengths = {len(v) for v in zipped.values()}
        _need(len(lengths) <= 1, f"{source}: zip: every list needs the same length, got "
              f"{', '.join(f'{k}: {len(v)}' for k, v in zipped.items())}")
        both = set(grid) & set(zipped)
        if both:
            raise SweepError(f"{source}: {sorted(both)[0]}: in both grid: and zip:")
        return SweepSpec(**spec, grid=grid, zip_keys=zipped)
    section = values[strategy]
    where = f"{source}: {strategy}"
    _need(isinstance(section, dict), f"{where}: give a mapping")
    if strategy == "random":
        samples = section.get("samples")
        _need(_is_int(samples, 1),
              f"{where}.samples: a positive integer, got {samples!r}")
        seed = section.get("seed", 0)
        _need(_is_int(seed),
              f"{where}.seed: an integer, got {seed!r}")
        method = section.get("method", "random")
        _need(method in ("random", "lhs"), f"{where}.method: random or lhs, got {method!r}")
        space = _space(section, RANDOM_KEYS, where)
        return SweepSpec(**spec, random={"samples": samples, "seed": seed, "method": method},
                         space=space)
    trials = section.get("trials")
    _need(_is_int(trials, 1),
          f"{where}.trials: a positive integer, got {trials!r}")
    sampler = section.get("sampler", "tpe")
    _need(sampler in SAMPLERS, f"{where}.sampler: one of {', '.join(SAMPLERS)}, got {sampler!r}")
    seed = section.get("seed", 0)
    _need(_is_int(seed),
          f"{where}.seed: an integer, got {seed!r}")
    space = _space(section, OPTUNA_KEYS, where)
    return SweepSpec(**spec, optuna={"trials": trials, "sampler": sampler, "seed": seed},
                     space=space)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file and its base configuration (no point is built yet).

    Raises:
        SweepError: an unreadable file, a missing base, or a bad key (one line).
    """
    from ..errors import FileFormatError
    from ..yamlfile import read_yaml

    path = Path(path)
    try:
        values = read_yaml(path, what="sweep file")
    except FileFormatError as exc:
        raise SweepError(f"{path}: {exc.problem}") from None
    text = path.read_text(encoding="utf-8-sig")  # read_yaml checked it: UTF-8, bounded
    base = values.get("base")
    _need(isinstance(base, str) and bool(base),
          f"{path}: base: give the run configuration's path (relative to the sweep file)")
    base_path = (path.parent / base).resolve()
    if not base_path.exists():
        raise SweepError(f"{path}: base: {base} not found (looked at {base_path})")
    try:
        base_values = read_yaml(base_path, what="run configuration")
    except FileFormatError as exc:
        raise SweepError(f"{path}: base: {base}: {exc.problem}") from None
    return parse_sweep(values, base_values, source=str(path), text=text)


def space_label(spec: SweepSpec) -> Mapping[str, str]:
    """Each swept key with what it ranges over (for listings)."""
    if spec.strategy == "grid":
        return {k: ", ".join(map(str, v)) for k, v in {**spec.grid, **spec.zip_keys}.items()}
    return {d.key: (", ".join(map(str, d.choices)) if d.choices else
                    f"{d.low} … {d.high}{' (log)' if d.log else ''}") for d in spec.space}


# -- the cluster: section (validated here; built by executors.jobqueue_cluster) ----------

#: What to install for the distributed engines.
CLUSTER_EXTRA = 'pip install "wavefab[cluster]"'

CLUSTER_KINDS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "lsf": "LSFCluster"}
CLUSTER_KEYS = {"kind", "cores", "memory", "walltime", "queue", "account", "jobs", "adapt",
                "processes", "job_extra_directives", "local_directory", "interface"}


def walltime_seconds(value: Any, where: str) -> int:
    """A job's wall-time limit, given as ``"HH:MM:SS"`` or ``"HH:MM"``, in seconds.

    Raises:
        SweepError: for anything else, naming the YAML trap of an unquoted ``2:00:00`` (YAML
            1.1 reads 2:00:00 as the number 7200, which a scheduler would take as minutes).
    """
    quote = 'give it quoted, as "HH:MM:SS" (e.g. "02:00:00")'
    if not isinstance(value, str):
        extra = (" (unquoted, YAML reads 2:00:00 as the number 7200)"
                 if isinstance(value, int) and not isinstance(value, bool) else "")
        raise SweepError(f"{where}: {quote}, got {value!r}{extra}")
    parts = value.strip().split(":")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts):
        raise SweepError(f"{where}: {quote}, got {value!r}")
    numbers = [int(part) for part in parts] + [0] * (3 - len(parts))
    if numbers[1] > 59 or numbers[2] > 59 or not any(numbers):
        raise SweepError(f"{where}: {quote}, got {value!r}")
    return numbers[0] * 3600 + numbers[1] * 60 + numbers[2]


def need_cluster_extra(what: str) -> None:
    """Raise one line naming the extra when Dask or Optuna is missing."""
    raise SweepError(f"{what} needs the cluster extra: {CLUSTER_EXTRA}")


def check_cluster(section: Any, where: str) -> None:
    """Validate a ``cluster:`` section without importing dask-jobqueue.

    Raises:
        SweepError: one line naming the key.
    """
    if not isinstance(section, dict):
        raise SweepError(f"{where}: give a mapping (kind:, cores:, memory:, walltime:…)")
    unknown = set(section) - CLUSTER_KEYS
    if unknown:
        raise SweepError(f"{where}.{sorted(unknown)[0]}: unknown key (known: "
                         f"{', '.join(sorted(CLUSTER_KEYS))})")
    if section.get("kind") not in CLUSTER_KINDS:
        raise SweepError(f"{where}.kind: one of {', '.join(CLUSTER_KINDS)}, got "
                         f"{section.get('kind')!r}")
    for key in ("cores", "jobs"):
        value = section.get(key)
        if value is not None and not _is_int(value, 1):
            raise SweepError(f"{where}.{key}: a positive integer, got {value!r}")
    if not section.get("cores") or not section.get("memory"):
        raise SweepError(f"{where}: give cores: and memory: (per job, e.g. 2 and 8GB)")
    if section.get("walltime") is not None:
        walltime_seconds(section["walltime"], f"{where}.walltime")
    adapt = section.get("adapt")
    if adapt is not None:
        if (not isinstance(adapt, dict) or set(adapt) - {"minimum", "maximum"}
                or not all(_is_int(v, 0) for v in adapt.values())):
            raise SweepError(f"{where}.adapt: give {{minimum: N, maximum: M}} (job counts)")
        if "jobs" in section:
            raise SweepError(f"{where}: give jobs: or adapt:, not both")
