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
from typing import TYPE_CHECKING

import numpy as np
import shapely

from .. import geometry
from ..errors import DesignValueError, FileFormatError
from ..results import MAX_DESIGN_CELLS, Design, design_from_arrays, load_design
from ..units import format_length
from .formats import LAYOUT_FORMATS, MESH_FORMATS, output_kind
from .gdsii import LayoutFileError
from .layout import SUFFIXES, Layout, read_layout
from .meshes import read_mesh, section
from .outlines import read_dxf

if TYPE_CHECKING:
    import trimesh

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
    if not (pitch > 0 and math.isfinite(pitch)):
        raise DesignValueError(f"pitch must be a positive length, got {pitch!r}")
    return _raster(_load(path, layer), shape, pitch, section_z)


@dataclass
class _Loaded:
    """A layout, mesh or DXF file read once: what rasterizing it needs."""

    path: Path
    layout: Layout | None = None
    mesh: trimesh.Trimesh | None = None
    outline: shapely.Geometry | None = None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the shapes (metres)."""
        if self.layout is not None:
            return self.layout.geometry.bounds
        if self.mesh is not None:
            mm = self.mesh.bounds  # [[xmin, ymin, zmin], [xmax, ymax, zmax]] in mm
            return (mm[0][0] * 1e-3, mm[0][1] * 1e-3, mm[1][0] * 1e-3, mm[1][1] * 1e-3)
        return self.outline.bounds


def _load(path: str | Path, layer: tuple[int, int] | None) -> _Loaded:
    """Read ``path`` through its format's door (layout, mesh or DXF)."""
    path = Path(path)
    kind = output_kind(path)
    if kind in LAYOUT_FORMATS:
        return _Loaded(path, layout=read_layout(path, layer=layer))
    if kind in MESH_FORMATS:
        return _Loaded(path, mesh=read_mesh(path))
    if kind == "dxf":
        return _Loaded(path, outline=read_dxf(path))
    raise DesignValueError(f"cannot import {path}: {kind.upper()} is an export-only format")


def _raster(loaded: _Loaded, shape: tuple[int, int], pitch: float,
            section_z: float | None = None) -> np.ndarray:
    """The solid area fraction of each cell of ``shape`` (see :func:`import_raster`)."""
    path = loaded.path
    rows, cols = shape
    area = shapely.box(0.0, 0.0, cols * pitch, rows * pitch)
    if loaded.layout is not None:
        shapes = loaded.layout.geometry
        if loaded.layout.metadata.get("tone") == "void":
            shapes = area.difference(shapes)
    elif loaded.mesh is not None:
        mesh = loaded.mesh
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
    else:
        shapes = loaded.outline
    shapes = geometry.polygonal_part(shapely.intersection(shapes, area))
    if shapes.is_empty:
        raise DesignValueError(f"{path} has no solid shapes on the design area "
                               f"({format_length(cols * pitch)} × {format_length(rows * pitch)} "
                               "from the origin); check the pitch and the layer")
    return geometry.coverage(shapes, shape, pitch)


def recorded_pitch(file: str | Path) -> float | None:
    """The pitch a wavefab layout records in its metadata (None: not a layout, or none).

    Raises:
        FileFormatError: a damaged file, or a recorded pitch that is not a positive length.
    """
    if Path(file).suffix.lower() not in SUFFIXES:
        return None
    return _recorded(Path(file), read_layout(file).metadata)[0]


def _recorded(path: Path, meta: dict[str, str]) -> tuple[float | None, tuple[int, int] | None]:
    """The recorded pitch (m) and grid shape of a layout's metadata, checked.

    The pitch must be a positive finite length up to 1 m, the shape two positive whole numbers
    ``ROWS COLS`` of at most :data:`MAX_DESIGN_CELLS` cells: a file cannot make the reader
    allocate more than the largest design.

    Raises:
        FileFormatError: naming the file, the recorded value and the fix.
    """
    fix = "; pass --pitch (and re-export the layout with wavefab)"
    pitch = shape = None
    if "pitch_m" in meta:
        try:
            pitch = float(meta["pitch_m"])
        except ValueError:
            pitch = math.nan
        if not (math.isfinite(pitch) and 0 < pitch <= 1.0):
            raise LayoutFileError(path, f"its recorded pitch {meta['pitch_m'][:40]!r} is not a "
                                  f"positive length up to 1 m (in metres){fix}")
    if "shape" in meta:
        try:
            values = tuple(int(v) for v in meta["shape"].split())
        except ValueError:
            values = ()
        if len(values) != 2 or min(values) < 1:
            raise LayoutFileError(path, f"its recorded shape {meta['shape'][:40]!r} is not two "
                                  f"positive whole numbers ROWS COLS{fix}")
        if values[0] * values[1] > MAX_DESIGN_CELLS:
            raise LayoutFileError(path, f"its recorded shape {values[0]:,} × {values[1]:,} is "
                                  f"above the {MAX_DESIGN_CELLS:,} cells wavefab designs take"
                                  f"{fix}")
        shape = (values[0], values[1])
    return pitch, shape


def file_shape(path: str | Path, pitch: float, *, layer: tuple[int, int] | None = None
               ) -> tuple[int, int]:
    """Rows and columns of cells of ``pitch`` (m) that cover a file's shapes from the origin.

    Raises:
        DesignValueError: a file with nothing to cover, or a grid above
            :data:`MAX_DESIGN_CELLS` cells (a pitch too fine for the file's extent).
    """
    return _covering_grid(path, _load(path, layer).bounds, pitch)


def _covering_grid(path: str | Path, bounds: tuple[float, float, float, float], pitch: float,
                   *, recorded: bool = False) -> tuple[int, int]:
    """The cells of ``pitch`` covering ``bounds`` from the origin, at most MAX_DESIGN_CELLS.

    Raises:
        DesignValueError: no shapes, or too many cells for the pitch given;
        LayoutFileError: too many cells for the pitch the file records (``recorded``).
    """
    if not (pitch > 0 and math.isfinite(pitch)):
        raise DesignValueError(f"pitch must be a positive length, got {pitch!r}")
    if not all(math.isfinite(v) for v in bounds):
        raise DesignValueError(f"{path} has no shapes to cover; check the file and the layer")
    # 1e-5 cells of slack: meshes store float32 vertices (6.4 mm reads as 6.4000001 mm)
    high = (bounds[3] / pitch - 1e-5, bounds[2] / pitch - 1e-5)
    # floats first: a crafted extent or a tiny pitch must not reach math.ceil as inf; rounded
    # up as the grid will be, so that the bound holds for the grid returned
    cells = math.ceil(max(1.0, high[0])) * math.ceil(max(1.0, high[1])) \
        if all(math.isfinite(v) for v in high) else math.inf
    if cells > MAX_DESIGN_CELLS:
        extent = f"{format_length(bounds[2])} × {format_length(bounds[3])} extent"
        if recorded:
            raise LayoutFileError(path, f"its recorded pitch {format_length(pitch)} is too fine "
                                  f"for its {extent}: the grid would be above the "
                                  f"{MAX_DESIGN_CELLS:,} cells wavefab designs take; pass a "
                                  "larger --pitch")
        raise DesignValueError(f"{path}: cells of {format_length(pitch)} covering its {extent} "
                               f"make a grid above the {MAX_DESIGN_CELLS:,} cells wavefab "
                               "designs take; pass a larger --pitch")
    rows, cols = (max(1, math.ceil(v)) for v in high)
    return rows, cols


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
        DesignValueError: a missing file, an export-only format, no pitch, a grid too large.
        FileFormatError: a damaged file, or a recorded pitch or shape that is not one.
    """
    path = Path(path)
    if not path.exists():
        raise DesignValueError(f"{path} does not exist; give a results folder or a layout/"
                               "mesh file")
    if output_kind(path) not in (*LAYOUT_FORMATS, *MESH_FORMATS, "dxf"):
        raise DesignValueError(f"cannot check {path}: give a results folder or a GDS, OASIS, "
                               "STL, 3MF, OBJ or DXF file")
    loaded = _load(path, layer)  # read once: the metadata, the extent and the raster
    meta = loaded.layout.metadata if loaded.layout is not None else {}
    if pitch is None:
        recorded, recorded_shape = _recorded(path, meta)
    else:  # the pitch given: damaged recorded values are not needed, only compared
        try:
            recorded, recorded_shape = _recorded(path, meta)
        except FileFormatError:
            recorded, recorded_shape = None, None
    if pitch is None:
        pitch = recorded
    if pitch is None:
        raise DesignValueError(f"--pitch (the cell size to rasterize {path.name} at, e.g. "
                               "50nm) is needed: the file does not record one")
    if recorded_shape is not None and recorded is not None \
            and abs(pitch - recorded) <= 1e-9 * recorded:
        shape = recorded_shape
    else:  # another pitch than the file's, or no recorded shape: cover its whole extent
        shape = _covering_grid(path, loaded.bounds, pitch, recorded=pitch == recorded)
    return FileRaster(path=path, coverage=_raster(loaded, shape, pitch), pitch=float(pitch))
