"""What you fabricate is what you simulated: re-simulate a design from its exported file.

:func:`verify` reads a layout (GDSII/OASIS), mesh (STL/3MF/OBJ, cut at a height) or DXF back onto
the design's grid as area coverage per cell, runs the results folder's problem on that material
and reports the metrics next to the design's own, evaluated the same way in the same process.
With ``refine=k`` both are simulated on a grid ``k`` times finer in space and time (the file
rasterized at ``pitch / k``): figures that hold there are the device's, not the grid's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import fabrication_from_config, load_config
from .errors import DesignValueError
from .export.reader import import_raster, recorded_pitch
from .problems.refine import check_factor
from .results import load_design
from .run import build_parametrization, build_problem
from .units import format_length

__all__ = ["Verification", "describe", "verify"]


@dataclass
class Verification:
    """Metrics of the design and of its fabricated file (same problem, same fold).

    Attributes:
        file: the file re-simulated.
        pitch_m: the cell size it was rasterized at.
        design: the problem's metrics of the binary design.
        imported: the same metrics of the imported raster.
        changed_cells: cells whose coverage is on the other side of 0.5 from the design
            (cells of the simulation grid: the finer one with ``refine``).
        mean_coverage_error: mean |coverage − design| over the grid.
        refine: the simulation grid's refinement over the design's (1: the design's grid).
    """

    file: Path
    pitch_m: float
    design: dict[str, Any]
    imported: dict[str, Any]
    changed_cells: int
    mean_coverage_error: float
    refine: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"file": str(self.file), "pitch_m": self.pitch_m, "design": self.design,
                "imported": self.imported, "changed_cells": self.changed_cells,
                "mean_coverage_error": self.mean_coverage_error, "refine": self.refine}

    def rows(self) -> list[tuple[str, float, float]]:
        """``(metric, design, imported)`` for every scalar metric both have."""
        return [(k, float(v), float(self.imported[k])) for k, v in self.design.items()
                if isinstance(v, (int, float)) and isinstance(self.imported.get(k), (int, float))]


def verify(result_dir: str | Path, file: str | Path, *, data_dir: str | Path | None = None,
           pitch: float | None = None, layer: tuple[int, int] | None = None,
           section_z: float | None = None, physics: str | None = None,
           refine: int = 1) -> Verification:
    """Re-simulate ``file`` with the problem of ``result_dir`` and compare with the design.

    Args:
        result_dir: results folder of ``wavefab run``.
        file: the exported (or fabricated and re-drawn) file.
        data_dir: recordings folder for vowel problems (default: the run's own).
        pitch: cell size (metres); default: the design's, else the one the file records.
        layer: layout layer; default: the one the file names.
        section_z: mesh section height above its lowest point (metres).
        physics: re-simulate both the design and the file in this wave model (``scalar`` or
            ``acoustic``) instead of the run's own: how a speed-only design fares as a printed
            rigid part, and back.
        refine: simulate both on a grid this many times finer in space and time (the file
            rasterized at ``pitch / refine``; the design's cells as blocks): whether the
            figures survive less numerical dispersion. 8× the cost at 2.

    Raises:
        DesignValueError: unreadable inputs, an unknown pitch.
    """
    refine = check_factor(refine)
    result_dir = Path(result_dir)
    design = load_design(result_dir)
    config_path = result_dir / "config.yaml"
    if not config_path.is_file():
        raise DesignValueError(f"{result_dir} holds no config.yaml; give a results folder of "
                               "`wavefab run`")
    config = load_config(config_path)
    if physics is not None:
        if physics not in ("scalar", "acoustic"):
            raise DesignValueError(f"physics must be 'scalar' or 'acoustic', got {physics!r}")
        from dataclasses import replace

        config = replace(config, physics=physics)
    if pitch is None:
        pitch = design.pitch if design.pitch is not None else recorded_pitch(file)
    if pitch is None:
        raise DesignValueError("the pitch (size of one cell) is unknown: pass --pitch, the one "
                               "the file was exported at")
    problem = build_problem(config, data_dir)
    parametrization = build_parametrization(config, problem, fabrication_from_config(config))
    if refine != 1:
        problem = problem.refined(refine)
    shape = (design.shape[0] * refine, design.shape[1] * refine)
    coverage = import_raster(file, shape, pitch / refine, layer=layer, section_z=section_z)
    binary = np.kron(design.binary, np.ones((refine, refine), bool))
    folds = problem.folds(config.training.folds, config.training.seed)
    fold = folds[min(design.fold, len(folds) - 1)]

    def metrics(density: np.ndarray) -> dict[str, Any]:
        rho = torch.from_numpy(density.astype(np.float32))
        with torch.no_grad():
            out = problem.evaluate(parametrization.material(rho), fold)
        return {k: v for k, v in out.items() if isinstance(v, (int, float))}

    return Verification(
        file=Path(file), pitch_m=float(pitch), design=metrics(design.binary.astype(np.float32)),
        imported=metrics(coverage), changed_cells=int(((coverage > 0.5) != binary).sum()),
        mean_coverage_error=float(np.abs(coverage - binary).mean()), refine=int(refine))


def describe(result: Verification) -> str:
    """A few lines for the terminal."""
    lines = [f"re-simulated {result.file} at pitch {format_length(result.pitch_m)}: "
             f"{result.changed_cells} cells differ from the design (mean coverage error "
             f"{result.mean_coverage_error:.4f})"
             + (f"; both simulated on a grid {result.refine}× finer (pitch "
                f"{format_length(result.pitch_m / result.refine)}, {result.refine}× the steps)"
                if result.refine > 1 else ""),
             f"{'metric':<24}{'design':>12}{'file':>12}{'change':>12}"]
    for key, own, imported in result.rows():
        lines.append(f"{key:<24}{own:>12.4f}{imported:>12.4f}{imported - own:>+12.4f}")
    return "\n".join(lines)
