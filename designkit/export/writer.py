"""Fab hand-off: a design → masks (GDSII/OASIS), meshes (STL/3MF/OBJ), outlines (DXF/SVG).

:func:`export_design` turns a :class:`~wavefab.designkit.results.Design` into geometry at a
physical pitch (``mode="exact"``: the union of the binary design's cells, re-rasterizing to the
identical pattern; ``mode="smooth"``: the η contour of the filtered density, sub-cell accurate)
and writes every requested file, each atomically, after checking the rules the files will be
judged by. :mod:`.reader` goes back from a file to the grid.

Lengths are metres throughout (files: µm user unit for layouts, mm for meshes and outlines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import shapely

from .. import geometry, plots
from ..errors import DesignValueError
from ..fab import drc
from ..fab.processes import Process, get_process
from ..fab.rules import process_rule_cells
from ..results import Design
from ..units import format_length
from .formats import LAYOUT_FORMATS, MESH_FORMATS, Mode, output_kind
from .ports import plate_report

__all__ = ["ExportReport", "ExportSettings", "describe_export", "design_geometry", "export_design",
           "preview_png", "write_previews"]


@dataclass
class ExportSettings:
    """How to hand a design off (lengths in metres).

    Attributes:
        pitch: physical size of one cell; default: the design's own.
        process: process preset whose rules, grid and layer apply; default: the design's.
        process_file: YAML of user presets (see :mod:`wavefab.designkit.fab.processes`).
        mode: ``"exact"`` (cell outlines) or ``"smooth"`` (η contour of the filtered density).
        tolerance: simplification tolerance of smooth outlines; default: the process grid.
        tone: ``"solid"`` or ``"void"`` (masks only).
        layer: ``(layer, datatype)``; default: the process's.
        frame: width of a frame around the design (masks: a ring on the layer; meshes: a
            wall), 0 for none.
        height: extrusion height of meshes (needed for STL/3MF/OBJ).
        base: base-plate thickness of meshes (0 for none).
        label: write a text label (masks).
        name: design name; default: the design's.
        allow_violations: write the files of a design that fails its design-rule check (the
            report still says so); otherwise such a design is refused.
        lid: meshes: a top plate of this thickness; with ``base`` the part is a parallel-plate
            waveguide (the report checks its gap against the band).
        openings: meshes: ``(x, y, radius)`` holes through the lid (m), e.g. at the ports.
    """

    pitch: float | None = None
    process: str | None = None
    process_file: str | Path | None = None
    mode: Mode = "exact"
    tolerance: float | None = None
    tone: Literal["solid", "void"] = "solid"
    layer: tuple[int, int] | None = None
    frame: float = 0.0
    height: float | None = None
    base: float = 0.0
    label: bool = True
    name: str | None = None
    allow_violations: bool = False
    lid: float = 0.0
    openings: tuple[tuple[float, float, float], ...] = ()


@dataclass
class ExportReport:
    """What :func:`export_design` wrote and measured (:meth:`to_dict` is ``export.json``).

    Attributes:
        name: the design's name in the files.
        mode: ``"exact"`` or ``"smooth"`` outlines.
        pitch_m: the cell size exported at (m).
        size_m: ``(width, height)`` of the design area (m).
        process: the process whose rules and grid applied, if any.
        polygons: counts of the outlines (:func:`~wavefab.designkit.geometry.polygon_stats`).
        drc: the design-rule report of what was exported (``drc.json`` keys).
        files: per path written, what was measured in it.
        plates: a parallel-plate part's gap check (:func:`~.ports.plate_report`), if any.
        shape: the design's grid ``(rows, cols)``.
        check: the design-rule report itself (:class:`~wavefab.designkit.fab.drc.DrcReport`).
    """

    name: str
    mode: str
    pitch_m: float
    size_m: tuple[float, float]
    process: str | None
    polygons: dict[str, Any]
    drc: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    plates: dict[str, Any] | None = None
    shape: tuple[int, int] = (0, 0)
    check: drc.DrcReport | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out = {"name": self.name, "mode": self.mode, "pitch_m": self.pitch_m,
               "size_m": list(self.size_m), "process": self.process,
               "polygons": self.polygons, "drc": self.drc, "files": self.files}
        if self.plates is not None:
            out["plates"] = self.plates
        return out


def _resolve(design: Design, settings: ExportSettings) -> tuple[float, Process | None]:
    process = None
    name = settings.process or design.process
    if name is not None:
        process = get_process(name, settings.process_file or design.process_file)
    pitch = settings.pitch if settings.pitch is not None else design.pitch
    if pitch is None:
        raise DesignValueError(
            "the pitch (physical size of one cell) is unknown: this design was optimized without "
            "a physical scale; pass --pitch, e.g. --pitch 50nm or --pitch 0.2mm")
    if not (pitch > 0 and math.isfinite(pitch)):
        raise DesignValueError(f"pitch must be a positive length, got {pitch!r}")
    return float(pitch), process


def design_geometry(design: Design, pitch: float, mode: Mode = "exact", *,
                    tolerance: float | None = None, grid: float | None = None
                    ) -> shapely.MultiPolygon:
    """The design's solid regions as shapely geometry in metres.

    ``exact``: the union of the binary cells (re-rasterizes to the identical pattern).
    ``smooth``: the η contour of the filtered density inside the design region, simplified
    within ``tolerance`` and snapped to ``grid`` (refusing a snap that changes the topology).
    """
    if mode == "exact":
        shapes = geometry.cell_polygons(design.binary, pitch)
    elif mode == "smooth":
        if design.filtered is None:
            raise DesignValueError(
                f"{design.name}: smooth outlines need the filtered density ('filtered' in "
                "design.npz), which this design does not have; use --mode exact")
        shapes = geometry.contour_polygons(design.filtered, design.eta, pitch,
                                           mask=design.region)
        if tolerance:
            shapes = geometry.simplify(shapes, tolerance)
    else:
        raise DesignValueError(f"mode must be 'exact' or 'smooth', got {mode!r}")
    if grid is not None:
        shapes = geometry.snap_to_grid(shapes, grid)
    if shapes.is_empty:
        raise DesignValueError(f"{design.name}: the design has no solid region to export "
                               "(an all-void design)")
    return shapes


def _multiples(pitch: float, grid: float) -> str:
    options = [k * grid for k in (math.floor(pitch / grid), math.ceil(pitch / grid)) if k > 0]
    return " or ".join(format_length(v) for v in options)


def _rule_cells(design: Design, pitch: float, process: Process | None,
                settings: ExportSettings) -> tuple[int, int]:
    """The rules in cells: the run's own at the run's pitch, else the process's at this pitch."""
    same_pitch = design.pitch is not None and math.isclose(pitch, design.pitch, rel_tol=1e-9)
    if design.min_solid_cells and same_pitch and settings.process is None:
        return max(design.min_solid_cells, 1), max(design.min_void_cells, 1)
    if process is not None:
        return process_rule_cells(process, pitch, stacklevel=3)
    return max(design.min_solid_cells, 1), max(design.min_void_cells, 1)


def export_design(design: Design, outputs: list[str | Path],
                  settings: ExportSettings | None = None) -> ExportReport:
    """Write ``design`` to every path in ``outputs`` (format from the suffix).

    The design-rule check runs on the raster of what is exported (the binary design in exact
    mode; the contour's coverage in smooth mode) against the process's rules at this pitch (or
    the design's own rule without a process); a mesh for a printing process is refused when a
    feature is below what the process can print.

    Raises:
        DesignValueError: an unknown format, missing height for meshes, a non-printable design,
            an empty or all-solid design, bad settings.
    """
    from . import layout, meshes, outlines

    settings = settings or ExportSettings()
    kinds = [(output_kind(p), Path(p)) for p in outputs]
    if not kinds:
        raise DesignValueError("nothing to export: give at least one output file")
    pitch, process = _resolve(design, settings)
    if settings.mode not in ("exact", "smooth"):
        raise DesignValueError(f"mode must be 'exact' or 'smooth', got {settings.mode!r}")
    if settings.height is not None and not (settings.height > 0 and math.isfinite(settings.height)):
        raise DesignValueError(f"height must be a positive length, got {settings.height!r}")
    for key in ("base", "frame"):
        value = getattr(settings, key)
        if not (value >= 0 and math.isfinite(value)):
            raise DesignValueError(f"{key} must be a length ≥ 0, got {value!r}")
    if any(k in MESH_FORMATS for k, _ in kinds) and settings.height is None:
        raise DesignValueError("meshes (STL/3MF/OBJ) need an extrusion height: pass --height, "
                               "e.g. --height 2mm")
    if design.binary.all():
        raise DesignValueError(f"{design.name}: the design is solid everywhere; nothing to "
                               "pattern")
    grid = process.grid if process is not None else None
    if grid is None and any(k in LAYOUT_FORMATS for k, _ in kinds):
        grid = 1e-9  # the database unit: snap (with the topology check) before gdstk rounds
    if process is not None and settings.mode == "exact" and \
            abs(pitch / grid - round(pitch / grid)) > 1e-6 * (pitch / grid):
        raise DesignValueError(
            f"the pitch {format_length(pitch)} is not a multiple of the {process.name} grid "
            f"{format_length(grid)}: snapped cell outlines would change the cells' sizes; choose "
            f"a pitch of {_multiples(pitch, grid)}, or --mode smooth")
    tolerance = settings.tolerance if settings.tolerance is not None else (grid or pitch * 1e-3)
    shapes = design_geometry(design, pitch, settings.mode, tolerance=tolerance, grid=grid)
    rows, cols = design.shape
    bounds = (0.0, 0.0, cols * pitch, rows * pitch)

    solid_rule, void_rule = _rule_cells(design, pitch, process, settings)
    raster = (design.binary if settings.mode == "exact"
              else geometry.coverage(shapes, design.shape, pitch) > 0.5)
    check = drc.check(raster, solid_rule, min_void_cells=void_rule, region=design.region,
                      pitch=pitch)
    report = ExportReport(name=settings.name or design.name, mode=settings.mode, pitch_m=pitch,
                          size_m=(cols * pitch, rows * pitch),
                          process=process.name if process else None,
                          polygons=geometry.polygon_stats(shapes), drc=check.to_dict(),
                          shape=(rows, cols), check=check)

    measured = check.to_dict()
    if any(k in MESH_FORMATS for k, _ in kinds) and process is not None and \
            process.kind == "print" and not check.passed and not settings.allow_violations:
        raise DesignValueError(
            f"{design.name} cannot be printed with {process.name} at pitch "
            f"{format_length(pitch)}: {len(check.violations)} features below the minimum wall "
            f"{format_length(process.min_width)} / hole {format_length(process.min_space)} "
            f"(measured min solid {measured['min_solid_cells']}, void "
            f"{measured['min_void_cells']} cells, rule {solid_rule}/{void_rule}); export at a "
            "larger pitch, optimize with that process's rule, or --allow-violations")
    if not check.passed and not settings.allow_violations:
        where = "; ".join(f"{v.kind} {v.size_cells} cells at row {v.row:.0f}, col {v.col:.0f}"
                          for v in check.violations[:3])
        raise DesignValueError(
            f"{design.name} fails its design rules at pitch {format_length(pitch)} (rule solid "
            f"{solid_rule} / void {void_rule} cells): {len(check.violations)} violations, e.g. "
            f"{where}; see `wavefab drc`, or export anyway with --allow-violations")

    metadata = {"pitch_m": pitch, "shape": (rows, cols), "mode": settings.mode}
    for kind, path in kinds:
        if kind in LAYOUT_FORMATS:
            written = layout.write_layout(
                shapes, path, name=report.name, bounds=bounds,
                layer=settings.layer or (process.layer if process else (1, 0)),
                # the process grid when it is finer than 1 nm; coarser grids (printing)
                # are met by the snapped vertices, on a 1 nm database unit
                database_unit=min(grid or 1e-9, 1e-9), tone=settings.tone, frame=settings.frame,
                label=settings.label, metadata=metadata)
            report.files[str(path)] = written.to_dict()
        elif kind in MESH_FORMATS and settings.height is not None:  # checked above
            mesh = meshes.extrude(shapes, settings.height, base=settings.base,
                                  frame=settings.frame, bounds=bounds, lid=settings.lid,
                                  openings=settings.openings)
            if settings.lid > 0:
                report.plates = plate_report(settings.height, design.scale, pitch)
            meshes.write_mesh(mesh, path)
            report.files[str(path)] = {"format": kind, **meshes.mesh_report(mesh)}
        elif kind == "dxf":
            outlines.write_dxf(shapes, path)
            report.files[str(path)] = {"format": kind}
        elif kind == "svg":
            outlines.write_svg(shapes, path, bounds=bounds)
            report.files[str(path)] = {"format": kind}
    return report


def preview_png(design: Design, path: str | Path, settings: ExportSettings | None = None
                ) -> Path:
    """A PNG of the outline :func:`export_design` would write (same pitch, mode and grid)."""
    settings = settings or ExportSettings()
    pitch, process = _resolve(design, settings)
    grid = process.grid if process is not None and settings.mode == "smooth" else None
    tolerance = settings.tolerance if settings.tolerance is not None else (grid or pitch * 1e-3)
    shapes = design_geometry(design, pitch, settings.mode, tolerance=tolerance, grid=grid)
    rows, cols = design.shape
    return plots.layout_png(shapes, (0.0, 0.0, cols * pitch, rows * pitch), path,
                      title=f"{settings.name or design.name} ({settings.mode} outline)")


def write_previews(out: Path, design: Design, pitch: float, mesh_path: Path | None = None
                   ) -> dict[str, Path]:
    """``layout.png`` (exact outline of ``design`` at ``pitch``) and, given a mesh, ``mesh.png``."""
    from .meshes import read_mesh

    rows, cols = design.shape
    shapes = geometry.cell_polygons(design.binary, pitch)
    written = {"layout_png": plots.layout_png(
        shapes, (0.0, 0.0, cols * pitch, rows * pitch), out / "layout.png",
        title=f"{design.name}: {len(getattr(shapes, 'geoms', []))} polygons")}
    if mesh_path is not None:
        written["mesh_png"] = plots.mesh_png(read_mesh(mesh_path), out / "mesh.png",
                                             title=f"{design.name}: {mesh_path.name}")
    return written


def describe_export(report: ExportReport) -> str:
    """A few lines for the terminal: the design at its pitch, the verdict, every file written."""
    rows, cols = report.shape
    lines = [f"{report.name}: {rows}x{cols} cells at pitch {format_length(report.pitch_m)} = "
             f"{format_length(report.size_m[0])} x {format_length(report.size_m[1])}, "
             f"{report.mode} outlines, {report.polygons['polygons']} polygons, "
             f"{report.polygons['holes']} holes"
             + (f", process {report.process}" if report.process else "")]
    if report.check is not None:
        lines.append(report.check.summary())
    plates = report.plates or {}
    for path, info in report.files.items():
        extra = ""
        if "volume_mm3" in info:
            extra = (f" (volume {info['volume_mm3']:.1f} mm3, "
                     f"{'watertight' if info['watertight'] else 'NOT watertight'})")
            if "two_dimensional" in plates:
                extra += (f"; plate gap {format_length(plates['gap_m'])} "
                          f"{'<' if plates['two_dimensional'] else '>='} half the shortest "
                          f"wavelength {format_length(plates['half_shortest_wavelength_m'])}"
                          + ("" if plates["two_dimensional"] else
                             " — NOT a 2D waveguide: lower --height"))
                if plates.get("two_dimensional_over_band") is False:
                    extra += (f"; the inputs reach {plates['band_top_hz']:.4g} Hz, above the "
                              f"cut-on: --height ≤ "
                              f"{format_length(plates['max_gap_for_band_m'])} for the whole band")
        elif "polygons" in info:
            extra = f" ({info['polygons']} polygons, max {info['max_vertices']} vertices)"
        lines.append(f"wrote {path}{extra}")
    if plates.get("absorber_m"):
        lines.append(f"edges: the outer {format_length(plates['absorber_m'])} all round was the "
                     "simulation's absorbing layer: line it with absorber (e.g. porous foam "
                     "between the plates), or the open edges reflect")
    return "\n".join(lines)
