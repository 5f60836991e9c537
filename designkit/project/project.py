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

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import (
    RunConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    fabrication_from_config,
    load_config,
)
from ..errors import DesignValueError
from ..export.reader import import_raster, recorded_pitch
from ..files import write_atomically
from ..problems.refine import check_factor
from ..results import read_results
from ..run import build_parametrization, build_problem
from .canvas import sketch
from .templates import TEMPLATES, template_values

__all__ = ["PROJECT_FILE", "PROJECT_SCHEMA", "Project", "evaluate_design", "import_file_design",
           "load_project", "new_project", "save_config", "save_project"]

PROJECT_SCHEMA = 1
PROJECT_FILE = "project.yaml"


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
    """A project from a template (see :data:`~.templates.TEMPLATES`).

    Raises:
        DesignValueError: an unknown template.
    """
    if template not in TEMPLATES:
        raise DesignValueError(f"unknown template {template!r}; choose one of "
                               f"{', '.join(TEMPLATES)}")
    values = template_values(template)
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
    from ..yamlfile import read_yaml

    path = Path(path)
    if path.is_file():
        return Project(config=load_config(path), name=path.stem, path=path)
    if not path.is_dir():
        raise DesignValueError(f"{path} does not exist")
    if (path / PROJECT_FILE).is_file():
        raw = read_yaml(path / PROJECT_FILE, what="wavefab project")
        if "config" not in raw or not isinstance(raw["config"], (dict, type(None))):
            raise DesignValueError(f"{path / PROJECT_FILE} is not a wavefab project "
                                   "(no 'config' section)")
        schema = raw.get("schema_version", PROJECT_SCHEMA)
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise DesignValueError(f"{path / PROJECT_FILE}: schema_version must be an integer, "
                                   f"got {schema!r}")
        if schema > PROJECT_SCHEMA:
            raise DesignValueError(f"{path / PROJECT_FILE} was written by a newer wavefab "
                                   f"(schema {raw['schema_version']}); update wavefab")
        config = config_from_dict(raw["config"] or {}, source=str(path / PROJECT_FILE))
        name = str(raw.get("name") or path.name)
    elif (path / "config.yaml").is_file():  # a results folder
        config = load_config(path / "config.yaml")
        name = path.name
    else:
        raise DesignValueError(f"{path} holds neither {PROJECT_FILE} nor a results folder's "
                               "config.yaml")
    stored = read_results(path, need_design=False)
    return Project(config=config, name=name, path=path, design=stored.arrays,
                   metrics=stored.metrics, history=stored.history)


def save_config(project: Project, path: str | Path) -> Path:
    """Write the project's configuration as a YAML that ``wavefab run`` accepts."""
    import yaml

    text = f"# {project.name}: saved from the wavefab designer\n"
    text += yaml.safe_dump(config_to_dict(project.config), sort_keys=False)
    write_atomically(path, text.encode())
    return Path(path)


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
