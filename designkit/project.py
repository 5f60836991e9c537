"""A project: what the desktop designer edits, saves and opens, free of any GUI code.

A project is a run configuration (the same :class:`~wavefab.designkit.config.RunConfig` that
``wavefab run`` executes), a name and, once optimized, the design arrays and metrics. On disk it
is a folder: ``project.yaml`` (schema version, name, configuration) and, when there is a design,
``design.npz`` (arrays only; ``allow_pickle=False`` on read) and ``metrics.json``. Every file is
written atomically, so a crash while saving leaves the previous save intact. A results folder of
``wavefab run`` (``config.yaml`` + ``design.npz`` + ``metrics.json``) and a bare configuration
YAML open as projects too.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import RunConfig, apply_overrides, config_from_dict, config_to_dict
from .errors import DesignValueError
from .files import write_atomically

PROJECT_SCHEMA = 1
PROJECT_FILE = "project.yaml"

#: Templates of a new project: name → (description, configuration values).
TEMPLATES: dict[str, tuple[str, dict[str, Any]]] = {
    "lens": ("focusing lens, no rules (seconds to optimize)",
             {"problem": "lens", "material": {"beta": 4.0},
              "training": {"optimizer": "lbfgs", "epochs": 12, "lbfgs_iterations": 10,
                           "beta_schedule": [[0, 4.0], [6, 16.0], [9, 64.0]]}}),
    "lens-sla": ("focusing lens printed by SLA: 0.5 mm rules at 0.1 mm per cell",
                 {}),  # filled below from the demo's configuration
    "blank": ("blank: place sources and probes, paint the design region (seconds to optimize)",
              {"problem": "custom", "material": {"beta": 4.0},
               "training": {"optimizer": "lbfgs", "epochs": 12, "lbfgs_iterations": 10,
                            "beta_schedule": [[0, 4.0], [6, 16.0], [9, 64.0]]}}),
    "vowels": ("vowel classifier (reference task; recordings or built-in synthetic vowels)",
               {"problem": "vowels", "training": {"epochs": 4, "folds": 5}}),
}


def _demo_values() -> dict[str, Any]:
    from .demo import DEMO_CONFIG

    return copy.deepcopy(DEMO_CONFIG)


@dataclass
class Project:
    """An editable design project (see the module docstring).

    Attributes:
        config: the run configuration.
        name: shown in the title bar and used for exported cell names.
        design: arrays of the optimized design (``binary``, ``density``, ``filtered``, ``region``,
            … as in a results folder's ``design.npz``); empty before the first run.
        metrics: the last run's ``metrics.json`` contents.
        history: the last run's epochs (rows of ``history.csv``: fold, epoch, loss, metrics).
        path: where it was last saved or opened from.
    """

    config: RunConfig
    name: str = "untitled"
    design: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    path: Path | None = None

    def with_value(self, key: str, value: Any) -> RunConfig:
        """The configuration with one dotted ``key`` set (validated; nothing is changed here).

        Raises:
            ConfigError: the key is unknown or the value invalid, naming the field.
        """
        values = config_to_dict(self.config)
        text = json.dumps(value, allow_nan=True) if not isinstance(value, str) else value
        text = text.replace("Infinity", ".inf")
        return config_from_dict(apply_overrides(values, [f"{key}={text}"]),
                                source=f"the value of {key}")

    def value(self, key: str) -> Any:
        """The current value at dotted ``key`` (e.g. ``"training.epochs"``)."""
        node: Any = config_to_dict(self.config)
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise DesignValueError(f"no setting {key!r} in the configuration")
            node = node[part]
        return node


def new_project(template: str = "lens", name: str | None = None) -> Project:
    """A project from a template (see :data:`TEMPLATES`).

    Raises:
        DesignValueError: an unknown template.
    """
    if template not in TEMPLATES:
        raise DesignValueError(f"unknown template {template!r}; choose one of "
                               f"{', '.join(TEMPLATES)}")
    values = _demo_values() if template == "lens-sla" else copy.deepcopy(TEMPLATES[template][1])
    return Project(config=config_from_dict(values, source=f"template {template}"),
                   name=name or template)


def save_project(project: Project, folder: str | Path) -> Path:
    """Write ``project`` into ``folder`` (created if missing); returns the folder.

    Raises:
        DesignValueError: the folder cannot be created or written.
    """
    import yaml

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if project.design:
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **project.design)
            write_atomically(folder / "design.npz", buffer.getvalue())
            write_atomically(folder / "metrics.json",
                             json.dumps(project.metrics, indent=1, default=_json).encode())
        # The project file last: a folder whose project.yaml is there is complete.
        text = yaml.safe_dump({"schema_version": PROJECT_SCHEMA, "name": project.name,
                               "config": config_to_dict(project.config)}, sort_keys=False)
        write_atomically(folder / PROJECT_FILE, text.encode())
    except OSError as exc:
        raise DesignValueError(f"cannot save the project to {folder}: {exc.strerror}") from None
    project.path = folder
    return folder


def _json(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def load_project(path: str | Path) -> Project:
    """Open a project folder, a results folder of ``wavefab run`` or a configuration YAML.

    Raises:
        DesignValueError: nothing openable there, or an unreadable/invalid file (the message
            names the file and the field).
    """
    import yaml

    path = Path(path)
    if path.is_file():
        from .config import load_config

        return Project(config=load_config(path), name=path.stem, path=path)
    if not path.is_dir():
        raise DesignValueError(f"{path} does not exist")
    if (path / PROJECT_FILE).is_file():
        try:
            raw = yaml.safe_load((path / PROJECT_FILE).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DesignValueError(f"{path / PROJECT_FILE} is unreadable: {exc}") from None
        if not isinstance(raw, dict) or "config" not in raw:
            raise DesignValueError(f"{path / PROJECT_FILE} is not a wavefab project "
                                   "(no 'config' section)")
        if raw.get("schema_version", PROJECT_SCHEMA) > PROJECT_SCHEMA:
            raise DesignValueError(f"{path / PROJECT_FILE} was written by a newer wavefab "
                                   f"(schema {raw['schema_version']}); update wavefab")
        config = config_from_dict(raw["config"] or {}, source=str(path / PROJECT_FILE))
        name = str(raw.get("name") or path.name)
    elif (path / "config.yaml").is_file():  # a results folder
        from .config import load_config

        config = load_config(path / "config.yaml")
        name = path.name
    else:
        raise DesignValueError(f"{path} holds neither {PROJECT_FILE} nor a results folder's "
                               "config.yaml")
    project = Project(config=config, name=name, path=path)
    if (path / "design.npz").is_file():
        try:
            with np.load(path / "design.npz", allow_pickle=False) as npz:
                project.design = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise DesignValueError(f"{path / 'design.npz'} is unreadable: {exc}") from None
    if (path / "metrics.json").is_file():
        try:
            project.metrics = json.loads((path / "metrics.json").read_text())
        except (OSError, ValueError):
            project.metrics = {}  # informative only; the design is what matters
    project.history = _read_history(path / "history.csv")
    return project


def _read_history(path: Path) -> list[dict[str, float]]:
    """Rows of a run's ``history.csv`` as numbers (empty when missing or unreadable)."""
    import csv

    if not path.is_file():
        return []
    try:
        with open(path, newline="") as fh:
            return [{k: float(v) for k, v in row.items() if v not in (None, "")}
                    for row in csv.DictReader(fh)]
    except (OSError, ValueError):
        return []  # a display aid only


def save_config(project: Project, path: str | Path) -> Path:
    """Write the project's configuration as a YAML that ``wavefab run`` accepts."""
    import yaml

    text = f"# {project.name}: saved from the wavefab designer\n"
    text += yaml.safe_dump(config_to_dict(project.config), sort_keys=False)
    write_atomically(path, text.encode())
    return Path(path)


@dataclass(frozen=True)
class Sketch:
    """What a canvas draws of a configuration's setup, without loading any data.

    Attributes:
        shape: grid ``(rows, cols)``.
        h: cell size (simulation length units; times the pitch when there is one).
        region: bool ``(rows, cols)`` design region.
        sources: ``(row, col)`` of each source.
        probes: ``(row, col)`` of each probe.
        probe_names: a label per probe.
        absorber: width (cells) of the absorbing boundary.
        pitch: physical size of one cell (metres) when the fabrication section gives one.
    """

    shape: tuple[int, int]
    h: float
    region: np.ndarray
    sources: tuple[tuple[int, int], ...]
    probes: tuple[tuple[int, int], ...]
    probe_names: tuple[str, ...]
    absorber: int
    pitch: float | None = None


def sketch(config: RunConfig) -> Sketch:
    """The setup of ``config`` for drawing (cheap: no recordings are read)."""
    from dataclasses import asdict

    from .processes import parse_length

    if config.problem == "lens":
        g = config.lens
        region = g.region().numpy()
        sources, probes, names = ((tuple(g.source),), (tuple(g.focus),), ("focus",))
        shape, h, absorber = tuple(g.shape), g.h, g.pml
    elif config.problem == "custom":
        g = config.custom
        region = g.region_mask()
        sources = tuple((int(r), int(c)) for r, c in g.sources)
        probes = tuple((p.row, p.col) for p in g.probes)
        names = tuple(p.name for p in g.probes)
        shape, h, absorber = tuple(g.shape), g.h, g.pml
    else:
        from .problems.vowels import VowelGeometry

        g = VowelGeometry(classes=len(config.data.vowels), **asdict(config.geometry))
        region = g.region().numpy()
        sources = ((g.source.row, g.source.col),)
        probes = tuple((p.row, p.col) for p in g.probes)
        names = tuple(config.data.vowels)
        shape, h, absorber = tuple(g.shape), g.h, g.absorber
    pitch = config.fabrication.pitch
    return Sketch(shape=shape, h=float(h), region=region, sources=sources, probes=probes,
                  probe_names=names, absorber=int(absorber),
                  pitch=parse_length(pitch, "fabrication.pitch") if pitch is not None else None)


# -- drawing edits: what the designer's mouse tools change, as (dotted key, new value) -------
PORT_KINDS = ("source", "probe")


def _not_drawable(config: RunConfig) -> DesignValueError:
    return DesignValueError(
        f"the {config.problem} layout follows its geometry settings and cannot be drawn; "
        "start from the blank template (problem: custom) to place ports and paint a region")


def paint_region(config: RunConfig, shape: dict[str, Any]) -> tuple[str, Any]:
    """The edit that adds one paint stroke (a :class:`~.problems.custom.RegionShape` mapping).

    The drawn problem appends the stroke; the lens takes a rectangle as its new region.

    Raises:
        DesignValueError: the problem's region cannot be painted this way.
    """
    if config.problem == "custom":
        strokes = config_to_dict(config)["custom"]["region"]
        return "custom.region", [*strokes, dict(shape)]
    if config.problem == "lens" and shape.get("kind") == "rect" and not shape.get("erase"):
        lens = config_to_dict(config)["lens"]
        lens["region_rows"] = sorted(round(v) for v in shape["rows"])
        lens["region_cols"] = sorted(round(v) for v in shape["cols"])
        return "lens", lens
    if config.problem == "lens":
        raise DesignValueError("the lens's design region is one rectangle: draw it with the "
                               "rectangle tool (or use the blank template for free shapes)")
    raise _not_drawable(config)


def _check_kind(kind: str) -> None:
    if kind not in PORT_KINDS:
        raise DesignValueError(f"unknown port kind {kind!r}; choose one of {PORT_KINDS}")


def add_port(config: RunConfig, kind: str, row: int, col: int) -> tuple[str, Any]:
    """The edit that places a new source or probe at cell ``(row, col)``.

    The lens has exactly one of each: placing one moves it.
    """
    _check_kind(kind)
    if config.problem == "lens":
        return move_port(config, kind, 0, row, col)
    if config.problem != "custom":
        raise _not_drawable(config)
    custom = config_to_dict(config)["custom"]
    if kind == "source":
        return "custom.sources", [*custom["sources"], [int(row), int(col)]]
    names = {p["name"] for p in custom["probes"]}
    n = len(custom["probes"]) + 1
    while f"p{n}" in names:
        n += 1
    probe = {"row": int(row), "col": int(col), "name": f"p{n}", "weight": 1.0}
    return "custom.probes", [*custom["probes"], probe]


def move_port(config: RunConfig, kind: str, index: int, row: int, col: int) -> tuple[str, Any]:
    """The edit that moves source/probe number ``index`` to cell ``(row, col)``."""
    _check_kind(kind)
    if config.problem == "lens":
        if index != 0:
            raise DesignValueError(f"the lens has one {kind}, not {index + 1}")
        return f"lens.{'source' if kind == 'source' else 'focus'}", [int(row), int(col)]
    if config.problem != "custom":
        raise _not_drawable(config)
    custom = config_to_dict(config)["custom"]
    ports = custom["sources" if kind == "source" else "probes"]
    if not 0 <= index < len(ports):
        raise DesignValueError(f"there is no {kind} number {index + 1}")
    if kind == "source":
        ports[index] = [int(row), int(col)]
    else:
        ports[index] = {**ports[index], "row": int(row), "col": int(col)}
    return f"custom.{kind}s", ports


def delete_port(config: RunConfig, kind: str, index: int) -> tuple[str, Any]:
    """The edit that removes source/probe number ``index`` (the last one of a kind stays)."""
    _check_kind(kind)
    if config.problem == "lens":
        raise DesignValueError("the lens has exactly one source and one focus: move them "
                               "instead (or use the blank template)")
    if config.problem != "custom":
        raise _not_drawable(config)
    ports = config_to_dict(config)["custom"][f"{kind}s"]
    if not 0 <= index < len(ports):
        raise DesignValueError(f"there is no {kind} number {index + 1}")
    if len(ports) == 1:
        raise DesignValueError(f"the last {kind} cannot be deleted: a problem needs one; "
                               "move it instead")
    del ports[index]
    return f"custom.{kind}s", ports


def resize_domain(config: RunConfig, width: float, height: float) -> tuple[str, Any]:
    """The edit that sets the grid to ``width`` × ``height`` (metres) at the project's pitch.

    Raises:
        DesignValueError: no ``fabrication.pitch`` to convert lengths to cells, or a size that
            is not positive.
    """
    from .processes import parse_length

    if config.fabrication.pitch is None:
        raise DesignValueError("a domain size in physical units needs fabrication.pitch "
                               "(the size of one cell); set it first, or edit the shape in cells")
    if not (width > 0 and height > 0):
        raise DesignValueError(f"the domain size must be positive, got {width} × {height} m")
    pitch = parse_length(config.fabrication.pitch, "fabrication.pitch")
    shape = [max(1, round(height / pitch)), max(1, round(width / pitch))]
    key = {"custom": "custom.shape", "lens": "lens.shape"}.get(config.problem, "geometry.shape")
    return key, shape


def import_file_design(project: Project, path: str | Path, *, pitch: float | None = None,
                       layer: tuple[int, int] | None = None
                       ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A design read back from a layout, mesh or DXF file onto the project's grid.

    Returns ``(arrays, metrics)`` as a run would give them: ``density`` is the solid area
    fraction of each cell, ``binary`` the cells at least half solid, ``region`` the project's
    design region, the rules those of the project's fabrication settings; ``metrics`` records
    the file and the pitch.

    Args:
        project: gives the grid, the region and the rules.
        path: ``.gds``/``.oas``/``.stl``/``.3mf``/``.obj``/``.dxf``.
        pitch: cell size (metres); default: ``fabrication.pitch``, else the one the file records.
        layer: layout layer; default: the one the file names.

    Raises:
        DesignValueError: an unreadable file, an unknown pitch, nothing on the design area.
    """
    from .config import fabrication_from_config
    from .export import import_raster
    from .verify import recorded_pitch

    setup = sketch(project.config)
    pitch = pitch or setup.pitch or recorded_pitch(path)
    if pitch is None:
        raise DesignValueError(f"{Path(path).name}: the size of one cell is unknown; set "
                               "fabrication.pitch to the pitch the file was drawn at")
    coverage = import_raster(path, setup.shape, pitch, layer=layer)
    fab = fabrication_from_config(project.config)
    arrays = {"density": coverage.astype(np.float32), "binary": coverage >= 0.5,
              "region": setup.region.copy(),
              "min_solid_cells": np.int64(fab.min_solid_cells),
              "min_void_cells": np.int64(fab.min_void_cells)}
    metrics = {"imported_from": str(Path(path).resolve()),
               "fabrication": {"pitch_m": float(pitch),
                               "process": fab.process.name if fab.process else None}}
    return arrays, metrics


def evaluate_design(project: Project, arrays: dict[str, np.ndarray],
                    data_dir: str | Path | None = None, refine: int = 1) -> dict[str, float]:
    """The project's problem's metrics of a design's ``binary`` material (first fold).

    What "re-simulate" means in the designer: the same evaluation ``wavefab verify`` runs,
    ``refine`` times finer in space and time if asked (see :meth:`Problem.refined`).
    """
    import torch

    from .config import fabrication_from_config
    from .problems.refine import check_factor
    from .run import build_parametrization, build_problem

    refine = check_factor(refine)
    problem = build_problem(project.config, data_dir)
    binary = np.asarray(arrays["binary"], np.float32)
    if binary.shape != tuple(problem.setup.grid.shape):
        raise DesignValueError(f"the design has shape {binary.shape} but the project's grid is "
                               f"{tuple(problem.setup.grid.shape)}")
    parametrization = build_parametrization(project.config, problem,
                                            fabrication_from_config(project.config))
    folds = problem.folds(project.config.training.folds, project.config.training.seed)
    fold = folds[min(int(arrays.get("fold", 0)), len(folds) - 1)]
    if refine > 1:
        problem = problem.refined(refine)
    with torch.no_grad():
        out = problem.evaluate(parametrization.material(torch.from_numpy(binary)), fold)
    return {k: float(v) for k, v in out.items() if isinstance(v, (int, float))}
