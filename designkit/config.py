"""Run configurations: YAML files mapped onto frozen, typed, validated dataclasses.

Unknown keys and bad values are collected, not raised one at a time: a :class:`ConfigError`
lists every problem by dotted path (``training.epochs: must be a positive integer, got 0``).
Files carry a ``schema_version``; ``--set training.seed=3`` style overrides go through the same
validation.

The sections every run has (``material``, ``training``, ``fabrication``, ``acoustic``) are
defined here; each problem's own sections (``lens``, ``custom``; ``data`` and ``geometry`` for
the vowels) come from the problem table (:data:`~wavefab.designkit.problems.registry.PROBLEMS`),
so that a new problem brings its section with it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import DesignError, DesignValueError, FileFormatError
from .fab.fabrication import SETTINGS as FABRICATION_SETTINGS
from .fab.fabrication import Fabrication, build_fabrication
from .fab.processes import get_process
from .optimize.settings import TrainingConfig
from .problems.registry import PROBLEMS, problem_kind
from .units import parse_length
from .yamlfile import read_yaml, yaml_value

__all__ = ["SCHEMA_VERSION", "AcousticConfig", "ConfigError", "FabricationConfig",
           "LimitsConfig",
           "MaterialConfig", "RunConfig", "apply_overrides", "config_from_dict",
           "config_to_dict", "fabrication_from_config", "load_config", "set_dotted"]

SCHEMA_VERSION = 1


class ConfigError(DesignError, ValueError):
    """A configuration has problems; ``problems`` lists them as ``"dotted.path: message"``."""

    def __init__(self, problems: list[str], source: str = "configuration") -> None:
        self.problems = problems
        if len(problems) == 1:  # the common case: one line, as every other refusal
            super().__init__(f"{source}: {problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} has {len(problems)} problems:\n{lines}")


@dataclass(frozen=True, kw_only=True)
class MaterialConfig:
    """Density → speed (``c = c0 + (c1 − c0)·ρ``) and the projection of the latent design."""

    c0: float = 1.0
    c1: float = 0.5
    beta: float = 100.0
    eta: float = 0.5
    blur_radius: int = 0


@dataclass(frozen=True, kw_only=True)
class FabricationConfig:
    """How the design is made: rules, scale, robust formulation, filter and projection.

    Lengths are text with a unit (``"50nm"``, ``"0.8mm"``) or numbers in metres. ``pitch`` is
    the physical size of one cell. The minimum feature comes from ``min_feature_cells``, else
    ``min_feature``, else the ``process``'s min width/space (the last two need ``pitch``). The
    filter radius follows from the rule unless ``filter_radius_cells`` or ``filter_radius`` (a
    length, needs ``pitch``) sets it.
    """

    process: str | None = None
    process_file: str | None = None
    pitch: float | str | None = None
    min_feature: float | str | None = None
    min_feature_cells: int | None = None
    robust: bool = False
    eta_e: float = 0.75
    robust_thresholds: Literal["fixed", "random"] = "fixed"
    objective: Literal["worst", "mean"] = "worst"
    filter: Literal["conic", "gaussian"] = "conic"
    filter_radius: float | str | None = None
    filter_radius_cells: float | None = None
    filter_edge: Literal["renormalize", "surroundings"] = "renormalize"
    projection: Literal["tanh", "smoothed"] = "tanh"
    constraint_weight: float = 0.0
    constraint_start: int = 0
    repair: bool = True
    repair_choice: Literal["fewest", "best"] = "fewest"
    exact_from: int | None = None
    wave_speed: float | None = None


@dataclass(frozen=True, kw_only=True)
class AcousticConfig:
    """The acoustic physics (``physics: acoustic``): the material is a rigid solid in a fluid.

    ``contrast``: the solid's density over the fluid's (its ``K`` stays the fluid's; see
    :class:`~wavefab.designkit.parametrization.RigidSolid`). The fluid's speed is ``material.c0``.
    ``contrast_schedule``: ``(first_epoch, contrast)`` pairs, a continuation from a soft solid
    during training: each epoch trains with the last pair whose epoch has begun (end the
    schedule at ``contrast`` to train the rigid part last); the final design is always
    evaluated at ``contrast``.
    ``interpolation``: ``density`` (only ``1/ρ`` changes: a soft solid is slow) or
    ``impedance`` (``K`` changes with it, the speed stays the fluid's: the solid only
    reflects, at every contrast of the schedule).
    """

    contrast: float = 1e4
    contrast_schedule: tuple[tuple[int, float], ...] = ()
    interpolation: Literal["density", "impedance"] = "density"


@dataclass(frozen=True, kw_only=True)
class NonlinearityConfig:
    """The reference model's material nonlinearity (scalar physics; all zero: linear).

    Inside the material (``ρ`` its fraction): saturable absorption ``b0 / (1 + (u/u_th)²)``
    added to the damping rate, and the speed ``c_nl·u²`` added to the speed (see
    :class:`~wavefab.designkit.problems.setup.MaterialNonlinearity`). ``b0`` is a rate
    (1/time, the grid's time unit), ``u_th`` and ``u`` are field values, ``c_nl`` speed per
    field². Hughes et al. (2019) trained with ``b0 = u_th = 0.01`` (saturable absorption) and
    ``c_nl = −0.3`` (a Kerr-like speed).
    """

    b0: float = 0.0
    u_th: float = 1.0
    c_nl: float = 0.0


@dataclass(frozen=True, kw_only=True)
class LimitsConfig:
    """The ``limits:`` section: upper bounds a run must stay under; raise one to go past it.

    They keep a typo (a size without its unit, an extra zero) from starting a run no machine
    finishes.

    Attributes:
        cells: grid cells (rows × cols) of the problem's domain.
        steps: time steps of one simulation.
        epochs: ``training.epochs``.
        lbfgs_iterations: ``training.lbfgs_iterations``.
        folds: ``training.folds``.
        batch_size: ``training.batch_size``.
    """

    cells: int = 16_000_000
    steps: int = 1_000_000
    epochs: int = 10_000
    lbfgs_iterations: int = 10_000
    folds: int = 100
    batch_size: int = 10_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DesignValueError(f"limits.{f.name} must be a positive integer, got "
                                       f"{value!r}")


def _run_config_class() -> type:
    """The :class:`RunConfig` dataclass: common sections around the problems' own."""
    problems = [(key, section, field(default_factory=section))
                for kind in PROBLEMS.values() for key, section in kind.sections]
    fields = [("schema_version", int, field(default=SCHEMA_VERSION)),
              ("problem", Literal[tuple(PROBLEMS)], field(default="vowels")),
              ("physics", Literal["scalar", "acoustic"], field(default="scalar")),
              *problems,
              ("material", MaterialConfig, field(default_factory=MaterialConfig)),
              ("training", TrainingConfig, field(default_factory=TrainingConfig)),
              ("fabrication", FabricationConfig, field(default_factory=FabricationConfig)),
              ("acoustic", AcousticConfig, field(default_factory=AcousticConfig)),
              ("nonlinearity", NonlinearityConfig, field(default_factory=NonlinearityConfig)),
              ("limits", LimitsConfig, field(default_factory=LimitsConfig))]
    cls = dataclasses.make_dataclass("RunConfig", fields, frozen=True, kw_only=True)
    cls.__module__ = __name__
    cls.__doc__ = """A whole run: what ``wavefab run CONFIG`` executes.

    ``problem`` picks the task (a name of :data:`~wavefab.designkit.problems.registry.PROBLEMS`):
    ``vowels`` reads ``data`` and ``geometry``; ``lens`` reads ``lens``; ``custom``
    (hand-placed sources, probes and painted region) reads ``custom``. ``material``,
    ``training`` and ``fabrication`` serve all of them. ``physics`` picks the wave model:
    ``scalar`` (the material changes the speed: c0 → c1) or ``acoustic`` (the material is a
    rigid solid in a fluid of speed c0; 3D-printed parts in air). ``nonlinearity`` gives the
    scalar model's material a saturable absorber and an intensity-dependent speed (all zero:
    linear).
    """
    return cls


#: A whole run configuration (a frozen, keyword-only dataclass; see its docstring).
RunConfig = _run_config_class()


#: Settings where ``.inf`` means something (a hard step of the projection, no cap on β).
_INFINITE_OK = ("material.beta", "training.beta_max", "training.beta_schedule")


def _may_be_infinite(path: str) -> bool:
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in _INFINITE_OK)


def _coerce(value: Any, hint: Any, path: str, problems: list[str]) -> Any:
    """``value`` converted to the annotation ``hint``; appends to ``problems`` when it can't be."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, problems)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        inner = [o for o in options if o is not type(None)]
        for option in inner[:-1]:  # the first option that takes the value without complaint
            trial: list[str] = []
            converted = _coerce(value, option, path, trial)
            if not trial:
                return converted
        return _coerce(value, inner[-1], path, problems)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            problems.append(f"{path}: must be one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            problems.append(f"{path}: must be a list, got {value!r}")
            return value
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{path}[{i}]", problems) for i, v in enumerate(value))
        if len(value) != len(args):
            problems.append(f"{path}: must have {len(args)} entries, got {list(value)!r}")
            return value
        return tuple(_coerce(v, a, f"{path}[{i}]", problems)
                     for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: must be true or false, got {value!r}")
        return value
    if hint is int:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not math.isfinite(value))
                or int(value) != value):
            problems.append(f"{path}: must be an integer, got {value!r}")
            return value
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: must be a number, got {value!r}")
            return value
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            number = math.inf
        if math.isnan(number) or (math.isinf(number) and not _may_be_infinite(path)):
            problems.append(f"{path}: must be a finite number, got {value!r}")
            return value
        return number
    if hint is str:
        if not isinstance(value, str):
            problems.append(f"{path}: must be text, got {value!r}")
        return value
    return value


def _build(cls: type, values: Any, path: str, problems: list[str]) -> Any:
    prefix = f"{path}." if path else ""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        problems.append(f"{path or 'configuration'}: must be a mapping of keys, got {values!r}")
        return cls()
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in names:
            problems.append(f"{prefix}{key}: unknown key (known: {', '.join(sorted(names))})")
    kwargs = {}
    for key, value in values.items():
        if key in names:
            before = len(problems)
            converted = _coerce(value, hints[key], f"{prefix}{key}", problems)
            if len(problems) == before:  # a value already refused is not checked again
                kwargs[key] = converted
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, ArithmeticError) as exc:
        message = str(exc)  # TrainingConfig names its fields by dotted path already
        problems.append(message if message.startswith(f"{prefix}") and prefix else
                        f"{path or 'configuration'}: {message}")
        return cls()


def config_from_dict(values: dict, *, source: str = "configuration") -> RunConfig:
    """Build and validate a :class:`RunConfig`; raises :class:`ConfigError` listing problems."""
    problems: list[str] = []
    config = _build(RunConfig, values, "", problems)
    if not problems:
        problems = _check_values(config)
    if problems:
        raise ConfigError(problems, source)
    return config


def _check_values(config: RunConfig) -> list[str]:
    """Range checks, reusing the design objects' own validation for their messages."""
    from .parametrization.chain import LinearSpeed
    from .parametrization.media import RigidSolid
    from .parametrization.projection import tanh_projection

    problems = []
    if config.schema_version != SCHEMA_VERSION:
        problems.append(f"schema_version: this wavefab reads version {SCHEMA_VERSION}, "
                        f"got {config.schema_version}")
    over = _over_limits(config)
    if over:  # checked first: the checks below build the layout, which a huge grid would not fit
        return problems + over
    import torch

    checks = [
        ("material", lambda: LinearSpeed(config.material.c0, config.material.c1)),
        ("material", lambda: tanh_projection(torch.zeros(1),
                                             config.material.beta, config.material.eta)),
    ]
    checks.append(("fabrication", lambda: fabrication_from_config(config)))
    checks.append(("acoustic", lambda: RigidSolid(
        config.material.c0, config.acoustic.contrast, config.acoustic.contrast_schedule,
        config.acoustic.interpolation)))
    # the problem's layout as a whole (its sections check their own fields when built)
    kind = problem_kind(config.problem)
    checks.append((kind.section, lambda: kind.sketch_of(config)))
    for section, check in checks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # warnings come again when the run builds it
                check()
        except (DesignValueError, ValueError) as exc:
            message = str(exc)  # TrainingConfig already names its fields by dotted path
            problems.append(message if message.startswith(f"{section}.") else
                            f"{section}: {message}")
    if config.data.rate < 1000:
        problems.append(f"data.rate: must be ≥ 1000 Hz, got {config.data.rate}")
    return problems


def _dotted(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _over_limits(config: RunConfig) -> list[str]:
    """Settings above the configuration's ``limits:`` (or sizes no kernel can take)."""
    limits = config.limits
    problems = []

    def above(key: str, value: float, limit: str) -> None:
        bound = getattr(limits, limit)
        if value > bound:
            problems.append(f"{key}: {value:,} is above limits.{limit} ({bound:,}); set "
                            f"limits.{limit}: {value} to go past it on purpose")

    for name in ("epochs", "lbfgs_iterations", "folds", "batch_size"):
        above(f"training.{name}", getattr(config.training, name), name)
    keys = problem_kind(config.problem).keys
    rows, cols = _dotted(config, keys["shape"])
    cells = rows * cols
    if cells > limits.cells:
        problems.append(f"{keys['shape']}: {rows:,} × {cols:,} = {cells:,} cells is above "
                        f"limits.cells ({limits.cells:,}); check the size's unit and the pitch, "
                        f"or set limits.cells: {cells} to go past it on purpose")
    if "steps" in keys:
        above(keys["steps"], _dotted(config, keys["steps"]), "steps")
    # a blur or filter wider than the grid does nothing useful, and its kernel would not fit
    largest = max(rows, cols)
    blur = config.material.blur_radius
    if blur < 0 or blur > largest:
        problems.append(f"material.blur_radius: {blur:,} cells; give 0..{largest} (the grid's "
                        "larger side)")
    law = config.nonlinearity
    if law.b0 != 0 or law.c_nl != 0:
        if config.physics != "scalar":
            problems.append("nonlinearity: the acoustic model is linear; set b0 and c_nl to 0 "
                            "or use physics: scalar")
        if config.material.c1 == config.material.c0:
            problems.append("nonlinearity: it is confined to the material, which needs "
                            "material.c1 ≠ material.c0")
    if law.b0 < 0:
        problems.append(f"nonlinearity.b0: {law.b0} is negative; a saturable absorber has b0 ≥ 0")
    if not law.u_th > 0:
        problems.append(f"nonlinearity.u_th: {law.u_th} must be positive (a field level)")
    radius = config.fabrication.filter_radius_cells
    if radius is not None and radius > largest:
        problems.append(f"fabrication.filter_radius_cells: {radius:,} cells; at most {largest} "
                        "(the grid's larger side)")
    return problems


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """Apply ``KEY=VALUE`` overrides (dotted keys, YAML values) to a raw config mapping."""
    import copy

    out = copy.deepcopy(values)
    for item in overrides:
        if "=" not in item:
            raise ConfigError([f"--set {item}: expected KEY=VALUE, e.g. training.seed=3"])
        key, raw = item.split("=", 1)
        where = f"--set {key.strip()}"
        try:
            value = yaml_value(raw, where)
        except FileFormatError as exc:
            raise ConfigError([f"{where}: {exc.problem}"]) from None
        set_dotted(out, key.strip(), value, where=where)
    return out


def set_dotted(values: dict, key: str, value: Any, *, where: str | None = None) -> None:
    """Set the dotted ``key`` (``training.seed``) of a raw config mapping to ``value``, in place.

    Missing sections are created. Raises ConfigError (as ``where``, default the key) when a
    part of the key names a value, not a section.
    """
    target = values
    parts = key.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError([f"{where or key}: {part} is not a section"])
    target[parts[-1]] = value


def load_config(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Read a YAML run configuration, apply overrides, validate.

    Raises:
        ConfigError: unreadable YAML, unknown keys or bad values (each listed by dotted path).
    """
    path = Path(path)
    try:
        values = read_yaml(path, what="run configuration")
    except FileFormatError as exc:
        raise ConfigError([exc.problem], str(path)) from None
    return config_from_dict(apply_overrides(values, list(overrides)), source=str(path))


def config_to_dict(config: RunConfig) -> dict:
    """A plain mapping (lists for tuples) that :func:`config_from_dict` reads back unchanged."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(config))


def fabrication_from_config(config: RunConfig) -> Fabrication:
    """The :class:`~wavefab.designkit.fab.Fabrication` a configuration asks for.

    Raises:
        DesignValueError: a bad length, an unknown process or a missing pitch, naming the
            ``fabrication.`` field.
    """
    f = config.fabrication
    process = get_process(f.process, f.process_file) if f.process is not None else None
    pitch = parse_length(f.pitch, "fabrication.pitch") if f.pitch is not None else None
    feature = (parse_length(f.min_feature, "fabrication.min_feature")
               if f.min_feature is not None else None)
    if f.min_feature_cells is not None and f.min_feature_cells < 1:
        raise DesignValueError(f"fabrication.min_feature_cells must be ≥ 1, got "
                               f"{f.min_feature_cells}")
    radius = f.filter_radius_cells
    if radius is not None and radius < 0:
        raise DesignValueError("fabrication.filter_radius_cells must be ≥ 0")
    if f.filter_radius is not None and radius is None:
        if pitch is None:
            raise DesignValueError("fabrication.filter_radius is a length: it needs "
                                   "fabrication.pitch (or give filter_radius_cells)")
        radius = parse_length(f.filter_radius, "fabrication.filter_radius") / pitch
    if f.wave_speed is not None and not f.wave_speed > 0:
        raise DesignValueError("fabrication.wave_speed must be positive (m/s)")
    # the section's other fields are the Fabrication's own, under the same names
    return build_fabrication(process=process, pitch=pitch, min_feature=feature,
                             min_feature_cells=f.min_feature_cells, filter_radius=radius,
                             **{name: getattr(f, name) for name in FABRICATION_SETTINGS})
