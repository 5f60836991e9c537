"""Fab hand-off: a trained design → masks (GDSII/OASIS), meshes (STL/3MF/OBJ), outlines (DXF/SVG).

One function per direction:

* :func:`load_design` reads a results folder of ``wavefab run`` (``design.npz`` + the
  fabrication summary of ``metrics.json``: process and pitch when the run had them).
* :func:`export_design` turns it into geometry at a physical pitch (``mode="exact"``: the union
  of the binary design's cells, re-rasterizing to the identical pattern; ``mode="smooth"``: the
  η contour of the filtered density, sub-cell accurate) and writes every requested file, each
  atomically, after checking the rules the files will be judged by.
* :func:`import_raster` goes back: a layout or a mesh file → density raster (area coverage per
  cell) on the design's grid, which :mod:`wavefab.designkit.verify` re-simulates.

Lengths are metres throughout (files: µm user unit for layouts, mm for meshes and outlines).
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely

from . import drc, geometry
from .errors import DesignValueError
from .processes import Process, format_length, get_process

Mode = Literal["exact", "smooth"]
#: Output kinds and the suffixes each accepts.
FORMATS = {"gds": (".gds",), "oas": (".oas",), "stl": (".stl",), "3mf": (".3mf",),
           "obj": (".obj",), "dxf": (".dxf",), "svg": (".svg",)}
MESH_FORMATS = ("stl", "3mf", "obj")


@dataclass
class Design:
    """A design to hand off (arrays on the whole simulation grid, rows first).

    Attributes:
        name: design name (the results folder's name by default).
        binary: the final binary design (True = solid).
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
    path = folder / "design.npz"
    if not path.is_file():
        raise DesignValueError(f"{folder} holds no design.npz; give a results folder written by "
                               "`wavefab run`")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise DesignValueError(f"{path} is unreadable ({exc}); re-run `wavefab run` or restore "
                               "the file") from None
    if "binary" in arrays:
        binary = arrays["binary"].astype(bool)
    elif "density" in arrays:
        binary = arrays["density"] > 0.5
    else:
        raise DesignValueError(f"{path} has neither 'binary' nor 'density'")
    if binary.ndim != 2:
        raise DesignValueError(f"{path}: the design must be 2-D, got shape {binary.shape}")
    fab: dict[str, Any] = {}
    eta = 0.5
    metrics_path = folder / "metrics.json"
    if metrics_path.is_file():
        try:
            metrics = json.loads(metrics_path.read_text())
            fab = metrics.get("fabrication") or {}
        except (OSError, ValueError):
            fab = {}  # metrics are informative only; the design itself is in design.npz
    config_path = folder / "config.yaml"
    process_file = None
    if config_path.is_file():
        import yaml

        try:
            raw = yaml.safe_load(config_path.read_text()) or {}
            eta = float((raw.get("material") or {}).get("eta", 0.5))
            process_file = (raw.get("fabrication") or {}).get("process_file")
        except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
            eta = 0.5
    design = design_from_arrays(folder.resolve().name, {**arrays, "binary": binary}, fab, eta=eta)
    design.process_file, design.source = process_file, folder
    return design


def design_from_arrays(name: str, arrays: dict[str, np.ndarray], fabrication: dict[str, Any],
                       *, eta: float = 0.5) -> Design:
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
                  scale=fabrication.get("scale"))


@dataclass
class ExportSettings:
    """How to hand a design off (lengths in metres).

    Attributes:
        pitch: physical size of one cell; default: the design's own.
        process: process preset whose rules, grid and layer apply; default: the design's.
        process_file: YAML of user presets (see :mod:`wavefab.designkit.processes`).
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
    """What :func:`export_design` wrote and measured."""

    name: str
    mode: str
    pitch_m: float
    size_m: tuple[float, float]
    process: str | None
    polygons: dict[str, Any]
    drc: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    plates: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out = {"name": self.name, "mode": self.mode, "pitch_m": self.pitch_m,
               "size_m": list(self.size_m), "process": self.process,
               "polygons": self.polygons, "drc": self.drc, "files": self.files}
        if self.plates is not None:
            out["plates"] = self.plates
        return out


def port_openings(result_dir: str | Path, diameter: float, pitch: float | None
                  ) -> tuple[tuple[float, float, float], ...]:
    """Lid holes ``(x, y, radius)`` (m) over the sources and probes of a results folder's setup.

    Raises:
        DesignValueError: no config.yaml, no pitch, or a non-positive diameter.
    """
    from .config import load_config
    from .project import sketch

    config_path = Path(result_dir) / "config.yaml"
    if not config_path.is_file():
        raise DesignValueError(f"{result_dir} holds no config.yaml: the ports are unknown")
    if pitch is None:
        raise DesignValueError("the ports need the pitch (size of one cell): pass --pitch")
    if not (diameter and diameter > 0):
        raise DesignValueError("--ports needs a positive diameter, e.g. 3mm")
    setup = sketch(load_config(config_path))
    rows = setup.shape[0]
    return tuple(((c + 0.5) * pitch, (rows - r - 0.5) * pitch, diameter / 2)
                 for r, c in (*setup.sources, *setup.probes))


def plate_report(gap: float, scale: dict[str, Any] | None,
                 pitch: float | None = None) -> dict[str, Any]:
    """Whether a parallel-plate part of plate ``gap`` (m) behaves as the 2D design.

    Between two plates only the plane mode propagates below the first cut-on, ``c/(2·gap)``:
    the gap must stay under half the shortest wavelength the device serves (the inputs' band,
    or what the grid resolves if that is lower; from the run's scale report). When the inputs
    reach higher, ``two_dimensional_over_band`` and ``max_gap_for_band_m`` judge the gap against
    their whole band (99% of their energy). ``absorber_m`` repeats the width of the band at the
    edges that the simulation absorbed (the part must absorb there too: its open edges reflect).
    Exported at another ``pitch`` than the run's, the part is the run's device scaled: lengths
    grow and frequencies fall by the pitch ratio.
    """
    out: dict[str, Any] = {"gap_m": gap}
    ratio = 1.0
    if scale and pitch and scale.get("pitch_m"):
        ratio = pitch / float(scale["pitch_m"])
    if scale and scale.get("absorber_m"):
        out["absorber_m"] = float(scale["absorber_m"]) * ratio
    if not scale or not scale.get("wave_speed_m_s"):
        out["note"] = "the run has no physical scale (pitch and medium): the gap is unchecked"
        return out
    speed = float(scale["wave_speed_m_s"])
    band_top = float(scale.get("band_hz", [0, 0])[1]) / ratio
    tops = [f for f in (band_top, float(scale.get("resolved_up_to_hz") or 0) / ratio) if f]
    if not tops:
        out["note"] = "the run's band is unknown: the gap is unchecked"
        return out
    top = min(tops)
    out.update(highest_frequency_hz=top, half_shortest_wavelength_m=speed / top / 2,
               first_cut_on_hz=speed / (2 * gap), two_dimensional=gap < speed / top / 2)
    if band_top > top:
        # the inputs reach past what the grid resolves: the part still carries that sound,
        # and above the cut-on the gap lets a cross mode through
        out.update(band_top_hz=band_top, max_gap_for_band_m=speed / band_top / 2,
                   two_dimensional_over_band=gap < speed / band_top / 2)
    return out


def output_kind(path: str | Path) -> str:
    """The export format a path's suffix asks for (``"gds"``, ``"stl"`` …)."""
    suffix = Path(path).suffix.lower()
    for kind, suffixes in FORMATS.items():
        if suffix in suffixes:
            return kind
    known = ", ".join(s for v in FORMATS.values() for s in v)
    raise DesignValueError(f"cannot tell the format of {path}: suffix {suffix or '(none)'!r}; "
                           f"use one of {known}")


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
        return (max(1, math.ceil(process.min_width / pitch - 1e-9)),
                max(1, math.ceil(process.min_space / pitch - 1e-9)))
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
    from . import layout

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
    if grid is None and any(k in ("gds", "oas") for k, _ in kinds):
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
                          polygons=geometry.polygon_stats(shapes), drc=check.to_dict())

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
        if kind in ("gds", "oas"):
            written = layout.write_layout(
                shapes, path, name=report.name, bounds=bounds,
                layer=settings.layer or (process.layer if process else (1, 0)),
                # the process grid when it is finer than 1 nm; coarser grids (printing)
                # are met by the snapped vertices, on a 1 nm database unit
                database_unit=min(grid or 1e-9, 1e-9), tone=settings.tone, frame=settings.frame,
                label=settings.label, metadata=metadata)
            report.files[str(path)] = written.to_dict()
        elif kind in MESH_FORMATS:
            from . import meshes

            assert settings.height is not None
            mesh = meshes.extrude(shapes, settings.height, base=settings.base,
                                  frame=settings.frame, bounds=bounds, lid=settings.lid,
                                  openings=settings.openings)
            if settings.lid > 0:
                report.plates = plate_report(settings.height, design.scale, pitch)
            meshes.write_mesh(mesh, path)
            report.files[str(path)] = {"format": kind, **meshes.mesh_report(mesh)}
        elif kind == "dxf":
            from . import outlines

            outlines.write_dxf(shapes, path)
            report.files[str(path)] = {"format": kind}
        elif kind == "svg":
            from . import outlines

            outlines.write_svg(shapes, path, bounds=bounds)
            report.files[str(path)] = {"format": kind}
    return report


def preview_png(design: Design, path: str | Path, settings: ExportSettings | None = None
                ) -> Path:
    """A PNG of the outline :func:`export_design` would write (same pitch, mode and grid)."""
    from .previews import layout_png

    settings = settings or ExportSettings()
    pitch, process = _resolve(design, settings)
    grid = process.grid if process is not None and settings.mode == "smooth" else None
    tolerance = settings.tolerance if settings.tolerance is not None else (grid or pitch * 1e-3)
    shapes = design_geometry(design, pitch, settings.mode, tolerance=tolerance, grid=grid)
    rows, cols = design.shape
    return layout_png(shapes, (0.0, 0.0, cols * pitch, rows * pitch), path,
                      title=f"{settings.name or design.name} ({settings.mode} outline)")


def import_raster(path: str | Path, shape: tuple[int, int], pitch: float, *,
                  layer: tuple[int, int] | None = None, section_z: float | None = None
                  ) -> np.ndarray:
    """A layout or mesh file as a density raster: the solid area fraction of each cell.

    Args:
        path: ``.gds``/``.oas`` (the shapes of ``layer``), ``.stl``/``.3mf``/``.obj`` (the
            cross-section at height ``section_z``, metres; default: mid-height of the walls,
            between the top and the next lower vertex level such as the base plate's top) or
            ``.dxf``.
        shape: the grid ``(rows, cols)`` to rasterize onto (origin at the lower-left corner).
        pitch: cell size (metres).
        layer: layout layer ``(layer, datatype)``; default: the one the file names.
        section_z: mesh section height (metres above the mesh's lowest point).

    Raises:
        DesignValueError: an unreadable file or one with nothing on the design's area.
    """
    kind = output_kind(path)
    if not (pitch > 0 and math.isfinite(pitch)):
        raise DesignValueError(f"pitch must be a positive length, got {pitch!r}")
    rows, cols = shape
    area = shapely.box(0.0, 0.0, cols * pitch, rows * pitch)
    if kind in ("gds", "oas"):
        from . import layout

        found = layout.read_layout(path, layer=layer)
        shapes = found.geometry
        if found.metadata.get("tone") == "void":
            shapes = area.difference(shapes)
    elif kind in MESH_FORMATS:
        from . import meshes

        mesh = meshes.read_mesh(path)
        low, high = (float(v) * 1e-3 for v in (mesh.bounds[0][2], mesh.bounds[1][2]))
        if section_z is not None:
            z = low + section_z
        else:
            # Mid-height of the walls: between the top and the next lower level of vertices
            # (the base plate's top, or the bottom), whatever the plate's thickness.
            levels = np.unique(np.round(np.asarray(mesh.vertices)[:, 2] * 1e-3, 12))
            z = 0.5 * (levels[-1] + levels[-2]) if len(levels) >= 2 else 0.5 * (low + high)
        if not low < z < high:
            raise DesignValueError(f"section height {format_length(z - low)} lies outside the "
                                   f"mesh (0 … {format_length(high - low)})")
        shapes = meshes.section(mesh, z)
    elif kind == "dxf":
        from . import outlines

        shapes = outlines.read_dxf(path)
    else:
        raise DesignValueError(f"cannot import {path}: {kind.upper()} is an export-only format")
    shapes = geometry.polygonal_part(shapely.intersection(shapes, area))
    if shapes.is_empty:
        raise DesignValueError(f"{path} has no solid shapes on the design area "
                               f"({format_length(cols * pitch)} × {format_length(rows * pitch)} "
                               "from the origin); check the pitch and the layer")
    return geometry.coverage(shapes, shape, pitch)
