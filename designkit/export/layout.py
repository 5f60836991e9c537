"""GDSII and OASIS masks of a design, and the way back from a layout file to a raster.

Units: geometry in metres in and out; inside the files the user unit is 1 µm and the database
unit is the process's manufacturing grid (1 nm by default). Orientation is the one every export
shares: cell (row r, col c) of an R-row design at pitch p spans x ∈ [c·p, (c+1)·p],
y ∈ [(R−1−r)·p, (R−r)·p], lower-left corner at the origin, so the layout looks like the image
of the array.

What a file records about itself, so that :func:`read_layout` can rebuild the raster without
being told: OASIS cell properties, and in GDSII (which has no cell properties) the same values
as element properties of the first boundary element, attribute numbers :data:`GDS_ATTRIBUTES`
(with or without the visible text label). Values are trusted only from an element that also
carries the wavefab version (attribute 1), so other tools' properties are not misread.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely

from ..errors import DesignValueError
from ..files import atomic_path, wavefab_version
from . import gdsii

#: GDSII's limit on the vertices of one boundary element (8191 points, the first repeated).
GDS_MAX_POINTS = 8190
#: The user unit of written files (metres): coordinates read as micrometres in every viewer.
USER_UNIT = 1e-6
#: GDSII element-property attribute numbers of the metadata label.
GDS_ATTRIBUTES = {"wavefab_version": 1, "pitch_m": 2, "shape": 3, "tone": 4, "design": 5,
                  "layer": 6}
SUFFIXES = {".gds": "gds", ".gdsii": "gds", ".gds2": "gds", ".oas": "oas", ".oasis": "oas"}

Tone = Literal["solid", "void"]


def parse_layer(text: str, name: str = "layer") -> tuple[int, int]:
    """``"2"``, ``"2/0"`` or ``"2:0"`` → ``(layer, datatype)`` (datatype 0 when left out).

    Raises:
        DesignValueError: naming ``name``, for anything else or a number outside 0–65535.
    """
    parts = str(text).strip().replace(":", "/").split("/")
    try:
        values = tuple(int(v) for v in parts)
    except ValueError:
        values = ()
    if len(values) not in (1, 2) or not all(0 <= v < 65536 for v in values):
        raise DesignValueError(f"{name} must be LAYER or LAYER/DATATYPE (0-65535), e.g. 1/0, "
                               f"got {text!r}")
    return (values[0], values[1] if len(values) == 2 else 0)


def _format(path: Path) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DesignValueError(f"layout file {path}: unknown suffix {path.suffix!r}; use one of "
                               f"{', '.join(sorted(SUFFIXES))}")
    return kind


def _cell_name(name: str) -> str:
    """A GDSII-safe structure name (ASCII letters, digits, ``_?$``; at most 32 characters)."""
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "_?$" else "_" for ch in name)
    return (safe or "DESIGN")[:32]


def _polygons(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    if geometry.is_empty:
        return []
    if isinstance(geometry, shapely.Polygon):
        return [geometry]
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, shapely.Polygon)]


def _to_gdstk(polygon: shapely.Polygon, layer: tuple[int, int]) -> list[Any]:
    """Hole-free gdstk polygons (user units) for one shapely polygon with holes.

    GDSII boundaries cannot have holes; gdstk's boolean joins each hole to the outline with a
    zero-width cut (the keyhole every mask tool reads as a hole).
    """
    import gdstk

    scale = 1.0 / USER_UNIT
    shell = np.asarray(polygon.exterior.coords)[:-1] * scale
    kw = {"layer": layer[0], "datatype": layer[1]}
    if not polygon.interiors:
        return [gdstk.Polygon(shell, **kw)]
    holes = [gdstk.Polygon(np.asarray(r.coords)[:-1] * scale) for r in polygon.interiors]
    # precision: the boolean's own snapping, far below any database unit we write.
    return gdstk.boolean(gdstk.Polygon(shell), holes, "not", precision=1e-6, **kw)


@dataclass
class LayoutReport:
    """What :func:`write_layout` wrote (lengths in metres)."""

    path: Path
    format: str
    cell: str
    layer: tuple[int, int]
    tone: str
    polygons: int
    max_vertices: int
    area_m2: float
    bounds_m: tuple[float, float, float, float]
    database_unit_m: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out = dict(self.__dict__)
        out["path"] = str(self.path)
        out["layer"] = list(self.layer)
        out["bounds_m"] = list(self.bounds_m)
        return out


def write_layout(geometry: shapely.Geometry, path: str | Path, *, name: str,
                 bounds: tuple[float, float, float, float], layer: tuple[int, int] = (1, 0),
                 database_unit: float = 1e-9, tone: Tone = "solid", frame: float = 0.0,
                 label: bool = True, metadata: dict[str, Any] | None = None) -> LayoutReport:
    """Write a GDSII (``.gds``) or OASIS (``.oas``) mask of ``geometry``.

    Args:
        geometry: the solid regions (shapely, metres), e.g. from
            :func:`wavefab.designkit.geometry.cell_polygons`.
        path: output file; the suffix chooses the format. Written atomically.
        name: design name: the top cell's name (made GDSII-safe) and the label's text.
        bounds: ``(xmin, ymin, xmax, ymax)`` of the design area (metres); the void tone and the
            frame are drawn relative to it.
        layer: ``(layer, datatype)`` of the shapes.
        database_unit: the database unit (metres): the process's manufacturing grid where it
            is 1 nm or finer (coarser grids, e.g. of printers, are met by snapping the
            vertices; the file keeps 1 nm).
        tone: ``"solid"`` draws the solid regions, ``"void"`` the design area minus them (for a
            negative resist or an etch mask).
        frame: width (metres) of an optional frame drawn just outside ``bounds``; 0 for none.
        label: add a text label with the design name and pitch (and, in GDSII, the metadata).
        metadata: extra values recorded in the file (``pitch_m``, ``shape`` …, see
            :data:`GDS_ATTRIBUTES`); the wavefab version is always recorded.

    Raises:
        DesignValueError: unknown suffix, empty design, bad unit, tone or frame.
    """
    import gdstk

    path = Path(path)
    kind = _format(path)
    if tone not in ("solid", "void"):
        raise DesignValueError(f"tone must be 'solid' or 'void', got {tone!r}")
    # what the readers take (gdsii.DATABASE_UNIT_RANGE), up to the 1 µm user unit
    if not gdsii.DATABASE_UNIT_RANGE[0] <= database_unit <= USER_UNIT:
        raise DesignValueError(f"database unit must lie in [{gdsii.DATABASE_UNIT_RANGE[0]:g} m, "
                               f"1 µm], got {database_unit!r} m")
    if not (frame >= 0 and math.isfinite(frame)):
        raise DesignValueError(f"frame must be a width ≥ 0 (metres), got {frame!r}")
    xmin, ymin, xmax, ymax = bounds
    area = shapely.box(xmin, ymin, xmax, ymax)
    shapes = geometry if tone == "solid" else area.difference(geometry)
    if shapes.is_empty or shapes.area <= 0:
        raise DesignValueError(
            f"nothing to write to {path}: the design has no {tone} region "
            f"({'an all-void' if tone == 'solid' else 'an all-solid'} design); "
            "check the design or choose the other tone")
    if frame > 0:
        shapes = shapely.union(shapes, area.buffer(frame, join_style="mitre").difference(area))

    lib = gdstk.Library(name="WAVEFAB", unit=USER_UNIT, precision=database_unit)
    cell = lib.new_cell(_cell_name(name))
    written = []
    for polygon in _polygons(shapes):
        written.extend(_to_gdstk(polygon, layer))
    cell.add(*written)
    info = {"wavefab_version": wavefab_version(), "design": name, "tone": tone,
            "layer": f"{layer[0]}/{layer[1]}", **(metadata or {})}
    for key, value in info.items():
        cell.set_property(key, _property_value(value))
    for key, attr in GDS_ATTRIBUTES.items():  # GDSII: on the first boundary element
        if key in info:
            written[0].set_gds_property(attr, str(_property_value(info[key]))[:120])
    if label:
        text = name
        if "pitch_m" in info:
            text += f" pitch {float(info['pitch_m']) / USER_UNIT:.6g} um"
        cell.add(gdstk.Label(text, (xmin / USER_UNIT, (ymin - frame) / USER_UNIT),
                             anchor="n", layer=layer[0], texttype=layer[1]))
    with atomic_path(path) as tmp:
        if kind == "gds":
            # gdstk fractures any polygon above max_points into valid pieces.
            lib.write_gds(tmp, max_points=GDS_MAX_POINTS)
        else:
            # A CRC-32 signature lets the reader refuse a damaged copy before parsing it.
            lib.write_oas(tmp, validation="crc32")
        _check_written(tmp, path, kind)
    sizes = [len(p.points) for p in written]
    if kind == "gds":
        sizes = [min(s, GDS_MAX_POINTS) for s in sizes]
    return LayoutReport(path=path, format=kind, cell=cell.name, layer=tuple(layer), tone=tone,
                        polygons=len(written), max_vertices=max(sizes, default=0),
                        area_m2=float(shapes.area), bounds_m=tuple(map(float, shapes.bounds)),
                        database_unit_m=database_unit)


def _check_written(tmp: Path, path: Path, kind: str) -> None:
    """Check that gdstk wrote the whole file, raising a short write as the OSError it is.

    gdstk ignores failed writes: a full disk leaves an empty or truncated file behind a call
    that returned. A write that stops short loses the file's end, so the end is what is checked
    (the ENDLIB record of GDSII; the CRC-32 that closes OASIS), not the reader's limits.
    """
    if kind == "gds":
        with open(tmp, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 4))
            whole = size >= 8 and fh.read(4) == _GDS_ENDLIB
    else:  # written with a CRC-32 of every byte before it, in the last four
        data = tmp.read_bytes()
        whole = len(data) > 4 and zlib.crc32(data[:-4]) == int.from_bytes(data[-4:], "little")
    if not whole:
        full = shutil.disk_usage(tmp.parent).free < 2**20
        raise OSError(errno.ENOSPC if full else errno.EIO,
                      "No space left on device" if full else
                      f"gdstk wrote an incomplete {kind.upper()} file", str(path))


_GDS_ENDLIB = b"\x00\x04\x04\x00"
"""The record that closes a GDSII library: length 4, type ENDLIB, no data."""


def _property_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value)


@dataclass
class Layout:
    """A layout file read back: its shapes on one layer (metres) and the recorded metadata."""

    geometry: shapely.Geometry
    cell: str
    layer: tuple[int, int]
    metadata: dict[str, str] = field(default_factory=dict)
    unit_m: float = USER_UNIT
    database_unit_m: float = 1e-9


def read_layout(path: str | Path, *, layer: tuple[int, int] | None = None,
                cell: str | None = None) -> Layout:
    """Read the shapes of one layer of a GDSII/OASIS file as shapely geometry in metres.

    No native reader sees the file before it is checked: a GDSII file passes
    :func:`~.gdsii.check_gds` (record stream, units, rings, reference cycles, flattened counts);
    an OASIS file passes :func:`~.gdsii.check_oasis` and is converted to GDSII by gdstk in a
    child process (:func:`~.gdsii.oasis_to_gds`), whose GDSII then passes the same checks.

    Args:
        path: ``.gds`` or ``.oas`` file.
        layer: ``(layer, datatype)`` to read; default: the one the file's metadata names, else
            the only layer present.
        cell: top cell to read (flattened); default: the only top cell.

    Raises:
        FileFormatError: a damaged, truncated, crafted or oversized file (naming the problem).
        DesignValueError: a missing file or unknown suffix, several top cells or layers and
            none chosen, a layer or cell that is not there.
    """
    path = Path(path)
    kind = _format(path)
    if not path.is_file():
        raise DesignValueError(f"layout file {path} does not exist")
    if kind == "gds":
        gdsii.check_gds(path)
        return _read_checked_gds(path, path, layer=layer, cell=cell)
    gdsii.check_oasis(path)
    # The folder (and the converted file in it) is removed however the reading ends.
    with tempfile.TemporaryDirectory(prefix="wavefab-oasis-") as folder:
        converted = gdsii.oasis_to_gds(path, folder)
        gdsii.check_gds(converted.gds, shown=path)
        return _read_checked_gds(converted.gds, path, layer=layer, cell=cell,
                                 properties=converted.properties)


def _read_checked_gds(source: Path, path: Path, *, layer: tuple[int, int] | None,
                      cell: str | None, properties: dict[str, list[list[Any]]] | None = None
                      ) -> Layout:
    """:func:`read_layout` of a GDSII file ``source`` that passed the checks.

    Messages name ``path``: the OASIS file it was converted from, or ``source`` itself.
    """
    import gdstk

    try:
        lib = gdstk.read_gds(str(source))
    except Exception as exc:  # gdstk raises bare RuntimeError/OSError with C-level text
        text = " ".join(str(exc).split())[:200]
        raise gdsii.LayoutFileError(path, f"cannot read it: gdstk says {text!r}; the file is "
                                    "damaged: export or copy it again") from None
    for found in lib.cells:  # the OASIS cell properties GDSII could not carry
        for entry in (properties or {}).get(found.name, []):
            if len(entry) >= 2:
                found.set_property(str(entry[0]), entry[1])
    tops = lib.top_level()
    if cell is not None:
        chosen = [c for c in lib.cells if c.name == cell]
        if not chosen:
            raise DesignValueError(f"{path}: no cell named {cell!r}; cells: "
                                   f"{', '.join(c.name for c in lib.cells)}")
        top = chosen[0]
    elif len(tops) == 1:
        top = tops[0]
    else:
        raise DesignValueError(f"{path} has {len(tops)} top cells "
                               f"({', '.join(c.name for c in tops)}); choose one with cell=")
    meta = _read_metadata(top)
    polygons = top.get_polygons()
    present = sorted({(p.layer, p.datatype) for p in polygons})
    if layer is None and "layer" in meta:
        try:
            layer = parse_layer(meta["layer"])
        except DesignValueError:
            raise gdsii.LayoutFileError(path, f"the recorded layer {meta['layer'][:40]!r} is "
                                        "not LAYER/DATATYPE; choose one with layer= (--layer)"
                                        ) from None
    if layer is None:
        if len(present) != 1:
            raise DesignValueError(f"{path} has shapes on layers {present}; choose one with layer=")
        layer = present[0]
    if tuple(layer) not in present:
        raise DesignValueError(f"{path} has no shapes on layer {layer[0]}/{layer[1]}; layers "
                               f"present: {', '.join(f'{a}/{b}' for a, b in present) or 'none'}")
    scale = lib.unit
    pieces = []
    for p in polygons:
        if (p.layer, p.datatype) != tuple(layer):
            continue
        points = p.points * scale
        # A ring needs 3 distinct corners; fewer (a degenerate element, a zero magnification)
        # encloses no area, and shapely would refuse to build it.
        if len(points) < 3 or not np.isfinite(points).all() or len(np.unique(points, axis=0)) < 3:
            continue
        # Holes are stored as zero-width slits joining them to the outline. The default
        # (linework) repair splits such a ring along its self-touching edges and, with two
        # holes on one row, dropped the strip between their slits; the ring-structure repair
        # keeps the enclosed area (and no collapsed line pieces).
        try:
            pieces.extend(_polygons(shapely.make_valid(
                shapely.Polygon(points), method="structure", keep_collapsed=False)))
        except (shapely.errors.GEOSException, ValueError):
            continue  # a ring GEOS cannot repair encloses nothing wavefab can read
    try:
        geometry = shapely.union_all(pieces)
    except shapely.errors.GEOSException as exc:
        raise gdsii.LayoutFileError(path, f"its polygons on layer {layer[0]}/{layer[1]} cannot "
                                    f"be joined ({exc}); repair them in the tool that wrote it"
                                    ) from None
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
        geometry = shapely.MultiPolygon(_polygons(geometry))
    return Layout(geometry=geometry, cell=top.name, layer=tuple(layer), metadata=meta,
                  unit_m=lib.unit, database_unit_m=lib.precision)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", errors="replace")
    return str(value)


def _read_metadata(cell: Any) -> dict[str, str]:
    meta: dict[str, str] = {}
    for entry in cell.properties:  # OASIS: [name, value, ...]
        if len(entry) >= 2 and isinstance(entry[0], str) and entry[0] in GDS_ATTRIBUTES:
            meta[entry[0]] = _text(entry[1])
    by_attr = {v: k for k, v in GDS_ATTRIBUTES.items()}
    for element in (*cell.polygons, *cell.labels):  # GDSII: ['S_GDS_PROPERTY', attr, b'v\0']
        found = {entry[1]: _text(entry[2]) for entry in element.properties
                 if len(entry) >= 3 and entry[0] == "S_GDS_PROPERTY"}
        if GDS_ATTRIBUTES["wavefab_version"] in found:  # written by wavefab: trust it
            for attr, value in found.items():
                if attr in by_attr:
                    meta.setdefault(by_attr[attr], value)
            break
    return meta
