"""Back from a file to the grid: a layout, mesh or outline as the solid fraction of each cell.

The inverse of :mod:`.writer`: :func:`import_raster` rasterizes a GDSII/OASIS layout, a mesh
(STL/3MF/OBJ, cut at a height) or a DXF outline onto a design's grid as exact area coverage;
:func:`recorded_pitch` and :func:`file_raster` use what a wavefab file records about itself
(pitch and grid shape), so that a file is checked and re-simulated without being told its scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from .. import geometry
from ..errors import DesignValueError
from ..results import Design, design_from_arrays, load_design
from ..units import format_length
from .formats import LAYOUT_FORMATS, MESH_FORMATS, output_kind
from .layout import SUFFIXES, read_layout
from .meshes import read_mesh, section
from .outlines import read_dxf

# The results folder's reader is the export's way in too: re-exported for `export.load_design`.
__all__ = ["Design", "FileRaster", "design_from_arrays", "file_raster", "file_shape",
           "import_raster", "load_design", "recorded_pitch"]


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
    if kind in LAYOUT_FORMATS:
        found = read_layout(path, layer=layer)
        shapes = found.geometry
        if found.metadata.get("tone") == "void":
            shapes = area.difference(shapes)
    elif kind in MESH_FORMATS:
        mesh = read_mesh(path)
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
        shapes = section(mesh, z)
    elif kind == "dxf":
        shapes = read_dxf(path)
    else:
        raise DesignValueError(f"cannot import {path}: {kind.upper()} is an export-only format")
    shapes = geometry.polygonal_part(shapely.intersection(shapes, area))
    if shapes.is_empty:
        raise DesignValueError(f"{path} has no solid shapes on the design area "
                               f"({format_length(cols * pitch)} × {format_length(rows * pitch)} "
                               "from the origin); check the pitch and the layer")
    return geometry.coverage(shapes, shape, pitch)


def recorded_pitch(file: str | Path) -> float | None:
    """The pitch a wavefab layout records in its metadata (None: not a layout, or none)."""
    if Path(file).suffix.lower() not in SUFFIXES:
        return None
    value = read_layout(file).metadata.get("pitch_m")
    return float(value) if value is not None else None


def file_shape(path: str | Path, pitch: float, *, layer: tuple[int, int] | None = None
               ) -> tuple[int, int]:
    """Rows and columns of cells of ``pitch`` (m) that cover a file's shapes from the origin."""
    kind = output_kind(path)
    if kind in LAYOUT_FORMATS:
        bounds = read_layout(path, layer=layer).geometry.bounds
    elif kind == "dxf":
        bounds = read_dxf(path).bounds
    elif kind in MESH_FORMATS:
        mm = read_mesh(path).bounds  # [[xmin, ymin, zmin], [xmax, ymax, zmax]] in mm
        bounds = (mm[0][0] * 1e-3, mm[0][1] * 1e-3, mm[1][0] * 1e-3, mm[1][1] * 1e-3)
    else:
        raise DesignValueError(f"cannot read {path}: {kind.upper()} is an export-only format")
    # 1e-5 cells of slack: meshes store float32 vertices (6.4 mm reads as 6.4000001 mm)
    rows = max(1, math.ceil(bounds[3] / pitch - 1e-5))
    return rows, max(1, math.ceil(bounds[2] / pitch - 1e-5))


@dataclass
class FileRaster:
    """A file on a grid of its own: what :func:`file_raster` read.

    Attributes:
        path: the file.
        coverage: ``(rows, cols)`` solid area fraction of each cell.
        pitch: the cell size it was rasterized at (m).
    """

    path: Path
    coverage: np.ndarray
    pitch: float

    @property
    def binary(self) -> np.ndarray:
        """The cells more than half solid: what a design-rule check sees of the file."""
        return self.coverage > 0.5


def file_raster(path: str | Path, *, pitch: float | None = None,
                layer: tuple[int, int] | None = None) -> FileRaster:
    """A layout, mesh or DXF file rasterized on a grid of its own.

    The grid is the one the file records (a wavefab layout names its pitch and shape), else the
    cells of ``pitch`` that cover the file's shapes from the origin.

    Args:
        path: ``.gds``/``.oas``/``.stl``/``.3mf``/``.obj``/``.dxf``.
        pitch: cell size (m); default: the one the file records.
        layer: layout layer; default: the one the file names.

    Raises:
        DesignValueError: a missing or unreadable file, an export-only format, no pitch.
    """
    path = Path(path)
    if not path.exists():
        raise DesignValueError(f"{path} does not exist; give a results folder or a layout/"
                               "mesh file")
    meta: dict[str, str] = {}
    if path.suffix.lower() in SUFFIXES:
        meta = read_layout(path, layer=layer).metadata
    elif output_kind(path) not in (*MESH_FORMATS, "dxf"):
        raise DesignValueError(f"cannot check {path}: give a results folder or a GDS, OASIS, "
                               "STL, 3MF, OBJ or DXF file")
    try:
        recorded = float(meta["pitch_m"]) if "pitch_m" in meta else None
        recorded_shape = tuple(int(v) for v in meta["shape"].split()) if "shape" in meta else None
    except ValueError:
        raise DesignValueError(f"{path}: its recorded pitch/shape are unreadable; pass "
                               "--pitch") from None
    if pitch is None:
        pitch = recorded
    if pitch is None:
        raise DesignValueError(f"--pitch (the cell size to rasterize {path.name} at, e.g. "
                               "50nm) is needed: the file does not record one")
    if recorded_shape is not None and recorded is not None and len(recorded_shape) == 2 \
            and abs(pitch - recorded) <= 1e-9 * recorded:
        shape = (recorded_shape[0], recorded_shape[1])
    else:  # another pitch than the file's: cover its whole extent
        shape = file_shape(path, pitch, layer=layer)
    return FileRaster(path=path, coverage=import_raster(path, shape, pitch, layer=layer),
                      pitch=float(pitch))
