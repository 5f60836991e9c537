"""The design-rule check of a results folder or of a file: what ``wavefab drc`` runs.

:func:`check_rules` finds the design (a results folder's made design, or a layout, mesh or DXF
rasterized on its recorded grid), picks the rule it is judged by (given in cells, as a length or
as a process's at the pitch, else the run's own), checks it and writes ``drc.json`` and
``drc.png`` next to it (``<file>.drc.json`` for a file, so a what-if check of a file never
touches a run's own report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DesignValueError
from .export.reader import file_raster
from .fab.drc import DrcReport
from .fab.processes import get_process
from .fab.rules import process_rule_cells, rule_cells
from .results import load_design, write_drc

__all__ = ["RuleCheck", "check_rules", "describe"]


@dataclass
class RuleCheck:
    """What :func:`check_rules` checked and wrote.

    Attributes:
        target: the results folder or file checked.
        report: the design-rule report.
        paths: ``{"drc": the JSON report, "drc_png": the overlay}``.
    """

    target: Path
    report: DrcReport
    paths: dict[str, Path]

    @property
    def passed(self) -> bool:
        """No violations."""
        return self.report.passed


def check_rules(target: str | Path, *, pitch: float | None = None,
                layer: tuple[int, int] | None = None, min_feature_cells: int | None = None,
                min_feature: float | None = None, process: str | None = None) -> RuleCheck:
    """Check a results folder's design or a file's shapes against a minimum feature.

    Args:
        target: a results folder of ``wavefab run``, or a GDS/OASIS/STL/3MF/OBJ/DXF file.
        pitch: the cell size (m): for a folder, to give the report physical sizes (default: the
            run's); for a file, the grid to rasterize on (default: the one it records).
        layer: layout layer; default: the one the file names.
        min_feature_cells: the rule in cells, solid and void alike.
        min_feature: the rule as a length (m), solid and void alike (needs a pitch).
        process: the rules of a process preset at the pitch (needs a pitch).

    Without a rule, a folder is checked against the rule the run was optimized for.

    Raises:
        DesignValueError: an unreadable target, no pitch where a length needs one, no rule.
    """
    target = Path(target)
    run_rule = (0, 0)
    if target.is_dir():
        design = load_design(target)
        binary = design.binary
        region = (design.region if design.region is not None
                  else np.ones(design.shape, bool)).astype(bool)
        run_rule = (design.min_solid_cells, design.min_void_cells)
        pitch = pitch if pitch is not None else design.pitch
        folder, stem = target, "drc"
    else:
        found = file_raster(target, pitch=pitch, layer=layer)
        binary, region, pitch = found.binary, np.ones(found.coverage.shape, bool), found.pitch
        folder, stem = target.parent, f"{target.stem}.drc"
    if min_feature_cells is not None:
        solid = void = int(min_feature_cells)
    elif min_feature is not None or process is not None:
        if pitch is None:
            raise DesignValueError("--pitch (the size of one cell, e.g. 50nm) is needed to "
                                   "turn a physical rule into cells")
        if min_feature is not None:
            solid = void = rule_cells(min_feature, pitch, "minimum feature")
        else:
            solid, void = process_rule_cells(get_process(str(process)), pitch)
    elif any(run_rule):
        solid, void = run_rule
    else:
        raise DesignValueError("no rule to check against: give --min-feature-cells, "
                               "--min-feature LENGTH or --process NAME")
    report, paths = write_drc(folder, binary, region, max(solid, 1), max(void, 1),
                              pitch=pitch, stem=stem)
    return RuleCheck(target=target, report=report, paths=paths)


def describe(check: RuleCheck, *, limit: int = 20) -> str:
    """A few lines for the terminal: the verdict, the first ``limit`` violations, the files."""
    report = check.report
    lines = [f"{report.summary()}; {report.islands} islands, {report.enclosed_voids} enclosed "
             "voids"]
    for v in report.violations[:limit]:
        lines.append(f"  {v.kind:<15} at row {v.row:.1f}, col {v.col:.1f}: {v.cells} cells, "
                     f"size {v.size_cells}")
    if len(report.violations) > limit:
        lines.append(f"  … and {len(report.violations) - limit} more (see {check.paths['drc']})")
    lines.append(f"wrote {check.paths['drc']} and {check.paths['drc_png']}")
    return "\n".join(lines)
