"""2D outlines of a design for laser cutters, CNC and drawing programs: DXF and SVG, in mm.

The input is shapely geometry in metres (x right, y up, the design in ``[0, W] × [0, H]``); the
files are in millimetres. Every ring is written, shells and holes alike, and readers apply the
even-odd rule, so a hole is a hole whatever the ring orientation. :func:`read_dxf` reads closed
polylines back into shapely geometry in metres (for tests and for importing outlines).

The 2D helpers shared with :mod:`~wavefab.designkit.export.meshes` live here too:
:func:`as_multipolygon` validates and normalizes input geometry, :func:`polygons_from_rings`
nests loose rings by the even-odd rule.

:func:`read_dxf` is the one door for DXF files, and :mod:`.meshes`'s ``read_mesh`` the one for
meshes: each validates before it trusts (file size, entity, vertex and nesting counts bounded,
units positive and finite, coordinates finite and within :data:`MAX_COORDINATE`, rings with an
area), and anything else is a :class:`ShapeFileError` naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import logging
import math
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DesignValueError, FileFormatError
from ..files import atomic_path

if TYPE_CHECKING:
    import shapely

log = logging.getLogger(__name__)

MM = 1e3
"""Millimetres per metre: files are in mm, code in metres."""

MAX_DXF_BYTES = 512 * 2**20
"""Largest DXF file :func:`read_dxf` opens (bytes): ezdxf holds the whole drawing in memory, at
several times the file's size."""

MAX_DXF_ENTITIES = 1_000_000
"""Most entities in a DXF's model space: a 2000 × 2000-cell design has fewer rings."""

MAX_OUTLINE_VERTICES = 5_000_000
"""Most points of all outlines of a DXF after arcs are flattened (checked before flattening)."""

MAX_COORDINATE = 1e3
"""Largest coordinate or arc radius in a drawing (m): 1 km, far beyond any part a printer,
cutter or mask makes, and small enough that 1 µm flattening stays exact in float64."""

MAX_NESTING_CANDIDATES = 50_000_000
"""Most pairs of rings whose bounding boxes overlap that :func:`polygons_from_rings` tests for
nesting (about 5 s; rings nested 10,000 deep, a crafted file, have 50 million)."""

FLATTEN = 1e-6
"""Chord tolerance of arcs (bulges) flattened into straight segments (m)."""

_QUERY_CHUNK = 8_000_000
"""Most candidate pairs one tree query may return (128 MB of indices)."""


class ShapeFileError(FileFormatError, DesignValueError):
    """A mesh or outline file that cannot be read; the message says which, what is wrong, the fix.

    A :class:`~wavefab.designkit.errors.FileFormatError` that is also a ``DesignValueError``:
    ``read_mesh`` and :func:`read_dxf` raised ``DesignValueError`` before they checked files
    this closely, and callers that catch it keep working.
    """


# First bytes of files that get renamed or saved under the wrong type, for a helpful message.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (a 3MF package is one)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x00\x06\x00\x02", "a GDSII layout"),
    (b"%SEMI-OASIS", "an OASIS layout"),
    (b"\x93NUMPY", "a NumPy array"),
    (b"AutoCAD Binary DXF", "a binary DXF drawing"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)


def _looks_like(head: bytes) -> str:
    """What the first bytes of a file say it is (``": it looks like a PNG image"``), or ``""``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f": it looks like {kind}"
    return ""


def _reason(exc: BaseException, path: Path | None = None) -> str:
    """An exception from a third-party reader as a short phrase on one line.

    The path is replaced by "the file": the message names it already.
    """
    text = " ".join(str(exc).split())
    if path is not None:
        text = text.replace(f"'{path}'", "the file").replace(str(path), "the file")
    if len(text) > 160:
        text = text[:157] + "..."
    kind = type(exc).__name__
    return text if text.startswith(kind) else f"{kind}: {text}" if text else kind


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size:,.0f} bytes"


def _open_file(path: Path, what: str, limit: int) -> tuple[int, bytes]:
    """Check that ``path`` is a regular, non-empty file of at most ``limit`` bytes.

    Args:
        path: the file.
        what: what the user should pass instead, with its article ("a DXF drawing").
        limit: largest size accepted (bytes).

    Returns:
        The file's size (bytes) and its first 256 bytes.

    Raises:
        ShapeFileError: missing, not a regular file (a folder, a device, a pipe), empty, too
            large or unreadable.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ShapeFileError(path, f"the file does not exist; pass an existing {what}") from None
    except OSError as exc:
        raise ShapeFileError(path, f"cannot be read ({_reason(exc)}); check the path and "
                             "its permissions") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ShapeFileError(path, f"is {kind}; pass {what}")
    if info.st_size == 0:
        raise ShapeFileError(path, f"the file is empty; pass {what} (was it copied whole?)")
    if info.st_size > limit:
        raise ShapeFileError(path, f"the file is {_mib(info.st_size)}, more than the "
                             f"{_mib(limit)} read here; simplify or split it")
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError as exc:
        raise ShapeFileError(path, f"cannot be read ({_reason(exc)}); check the path and "
                             "its permissions") from None
    return info.st_size, head


def as_multipolygon(geometry: object, *, name: str = "geometry") -> shapely.MultiPolygon:
    """Check that ``geometry`` is usable polygonal geometry and return it as a MultiPolygon.

    Accepts a shapely Polygon, MultiPolygon, or a GeometryCollection of them. Invalid geometry
    (self-intersections, overlapping parts) is repaired with ``shapely.make_valid`` and a
    warning is logged; parts without area are dropped.

    Args:
        geometry: the geometry to check (metres).
        name: the argument name used in error messages.

    Returns:
        The polygons as one valid, non-empty MultiPolygon (coordinates unchanged).

    Raises:
        DesignValueError: not shapely geometry, not polygonal, empty, without area, or with
            non-finite coordinates.
    """
    import shapely

    if not isinstance(geometry, shapely.Geometry):
        raise DesignValueError(
            f"{name} must be a shapely Polygon or MultiPolygon (metres), got "
            f"{type(geometry).__name__}; convert the design with wavefab.designkit.geometry"
        )
    if geometry.is_empty:
        raise DesignValueError(
            f"{name} is empty: there is no solid region to export; check that the design has "
            "solid cells and that the threshold is right"
        )
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise DesignValueError(f"{name} has NaN or infinite coordinates; rebuild the geometry")
    repaired = not geometry.is_valid
    if repaired:
        reason = shapely.is_valid_reason(geometry)
        log.warning("%s is invalid (%s); repairing it with shapely.make_valid", name, reason)
        geometry = shapely.make_valid(geometry)
    parts = shapely.get_parts(geometry)
    while any(
        p.geom_type.startswith("Multi") or p.geom_type == "GeometryCollection" for p in parts
    ):
        parts = np.concatenate([shapely.get_parts(p) for p in parts])
    polygons: list[shapely.Polygon] = []
    for part in parts:
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif not repaired:  # lines or points given as input (a repair may leave collapsed bits)
            raise DesignValueError(
                f"{name} contains a {part.geom_type}, not an area; pass Polygon/MultiPolygon "
                "geometry (buffer lines to give them a width)"
            )
    polygons = [p for p in polygons if p.area > 0.0]
    if not polygons:
        raise DesignValueError(
            f"{name} has no area (only points or lines); pass Polygon/MultiPolygon geometry"
        )
    return shapely.MultiPolygon(polygons)


def polygons_from_rings(rings: Sequence[np.ndarray]) -> shapely.MultiPolygon:
    """Polygons bounded by loose closed rings, nested by the even-odd rule.

    A ring inside an even number of other rings is a shell; inside an odd number, a hole of
    the ring directly around it. Orientation does not matter. Rings that cross each other fall
    back to the symmetric difference of all ring areas (the same rule, slower). Rings with fewer
    than three points (besides a repeated closing point) or without area are dropped.

    Args:
        rings: closed polylines, each ``[n, 2]`` (the closing point may be repeated or not),
            finite coordinates.

    Returns:
        A valid MultiPolygon (empty when no ring has area), in the rings' units.

    Raises:
        DesignValueError: more than :data:`MAX_NESTING_CANDIDATES` pairs of rings to test for
            nesting (rings nested thousands deep).
    """
    import shapely

    loops = []
    for ring in rings:
        ring = np.asarray(ring, dtype=float)
        if ring.ndim != 2 or ring.shape[1] < 2:
            continue
        ring = ring[:, :2]
        if len(ring) > 1 and (ring[0] == ring[-1]).all():
            ring = ring[:-1]  # closing point; shapely closes the ring itself
        if len(ring) >= 3:  # so that the closed ring has the four points shapely needs
            loops.append(shapely.Polygon(ring))
    loops = [p for p in loops if p.area > 0.0]
    if not loops:
        return shapely.MultiPolygon()
    if all(p.is_valid for p in loops):
        result = _nest(loops)
        if result.is_valid:
            return result
    parts = shapely.make_valid(np.asarray(loops, dtype=object))
    while len(parts) > 1:  # pairwise, as a balanced tree
        odd = parts[-1:] if len(parts) % 2 else parts[:0]
        parts = np.concatenate([shapely.symmetric_difference(parts[0:-1:2], parts[1::2]), odd])
    xor = parts[0]
    return as_multipolygon(xor) if xor.area > 0 else shapely.MultiPolygon()


def _nest(loops: list[shapely.Polygon]) -> shapely.MultiPolygon:
    """Even-odd nesting of non-crossing, valid ring polygons (see :func:`polygons_from_rings`).

    Pairs whose bounding boxes overlap are tested in chunks of at most :data:`_QUERY_CHUNK`, so
    memory stays bounded, and at most :data:`MAX_NESTING_CANDIDATES` of them in all: rings
    nested ``n`` deep have ``n² / 2`` pairs, which a crafted file could make unbounded.
    """
    import shapely

    array = np.asarray(loops, dtype=object)
    tree = shapely.STRtree(array)
    shapely.prepare(array)  # `contains` of a prepared ring is fast
    n = len(array)
    step = max(1, _QUERY_CHUNK // n)
    found_inner, found_outer = [], []
    candidates = 0
    for start in range(0, n, step):
        inner, outer = tree.query(array[start:start + step])  # bounding boxes that overlap
        candidates += len(inner)
        if candidates > MAX_NESTING_CANDIDATES:
            raise DesignValueError(
                f"the {n:,} outlines overlap too much to nest: more than "
                f"{MAX_NESTING_CANDIDATES:,} pairs of overlapping rings (rings nested thousands "
                "deep); simplify the drawing"
            )
        inner = inner + start
        keep = inner != outer
        inner, outer = inner[keep], outer[keep]
        keep = shapely.contains(array[outer], array[inner])  # inner within outer
        found_inner.append(inner[keep].astype(np.int32))
        found_outer.append(outer[keep].astype(np.int32))
    inner = np.concatenate(found_inner)
    outer = np.concatenate(found_outer)
    depth = np.bincount(inner, minlength=n)
    # a hole: odd depth, and `outer` is the shell directly around it
    direct = (depth[inner] % 2 == 1) & (depth[outer] == depth[inner] - 1)
    holes: dict[int, list] = {}
    for i, j in zip(inner[direct].tolist(), outer[direct].tolist(), strict=True):
        holes.setdefault(j, []).append(loops[i].exterior)
    polygons = [  # a shell without holes is its ring polygon already
        shapely.Polygon(loops[i].exterior, holes[i]) if i in holes else loops[i]
        for i in range(n)
        if depth[i] % 2 == 0
    ]
    return shapely.MultiPolygon(polygons)


def _rings_mm(polygon: shapely.Polygon) -> list[np.ndarray]:
    """The rings of a polygon (shell first), each ``[n, 2]`` in mm without the closing point."""
    rings = [polygon.exterior, *polygon.interiors]
    return [np.asarray(r.coords)[:-1, :2] * MM for r in rings]


def write_dxf(geometry: shapely.Geometry, path: str | Path, *, layer: str = "WAVEFAB") -> Path:
    """Write the outline of ``geometry`` as a DXF (R2010) drawing in millimetres.

    Every ring (shells and holes) becomes one closed LWPOLYLINE on ``layer``; ``$INSUNITS`` is
    4 (millimetres). CAM programs treat nested closed outlines by the even-odd rule, as
    :func:`read_dxf` does. The file is written atomically.

    Args:
        geometry: solid regions, shapely (Multi)Polygon in metres.
        path: target file (``.dxf``).
        layer: DXF layer name of the outlines.

    Returns:
        The written path.

    Raises:
        DesignValueError: invalid geometry or layer name.
    """
    import ezdxf
    from ezdxf.lldxf.validator import is_valid_layer_name

    polygons = as_multipolygon(geometry)
    if not isinstance(layer, str) or not layer or not is_valid_layer_name(layer):
        raise DesignValueError(
            f"layer {layer!r} is not a valid DXF layer name; use letters, digits, '_' or '-' "
            '(no <>/\\":;?*|=`)'
        )
    path = Path(path)
    doc = ezdxf.new("R2010", units=4)  # 4: millimetres
    doc.header["$INSUNITS"] = 4
    doc.header["$MEASUREMENT"] = 1  # metric
    doc.layers.add(layer)
    msp = doc.modelspace()
    for polygon in polygons.geoms:
        for ring in _rings_mm(polygon):
            msp.add_lwpolyline(ring.tolist(), format="xy", close=True, dxfattribs={"layer": layer})
    with atomic_path(path) as tmp:
        doc.saveas(tmp)
    return path


def read_dxf(path: str | Path, *, layer: str | None = None) -> shapely.MultiPolygon:
    """Read the closed outlines of an ASCII DXF drawing as polygons in metres.

    Closed LWPOLYLINEs and 2D/3D POLYLINEs of the model space (arcs from bulges flattened to
    :data:`FLATTEN`, 1 µm) are nested by the even-odd rule (:func:`polygons_from_rings`); open
    polylines, meshes and other entities are ignored, and so are rings with fewer than three
    distinct points. Coordinates are scaled by ``$INSUNITS`` (unset or unitless: mm).

    The file is checked before it is trusted: at most :data:`MAX_DXF_BYTES` and
    :data:`MAX_DXF_ENTITIES`, finite coordinates and bulges within :data:`MAX_COORDINATE`, and
    at most :data:`MAX_OUTLINE_VERTICES` points once flattened (counted before flattening).

    Args:
        path: a ``.dxf`` file (ASCII; binary DXF is refused).
        layer: read only this layer (case-insensitive); None: all layers.

    Returns:
        The polygons, in metres (valid, not empty).

    Raises:
        ShapeFileError: the file is missing, empty, too large, binary DXF, not a readable DXF,
            has an unknown ``$INSUNITS``, non-finite or out-of-range coordinates, too many
            entities or points, or no closed outline with an area.
    """
    import ezdxf
    from ezdxf import units

    path = Path(path)
    _, head = _open_file(path, "a DXF drawing", MAX_DXF_BYTES)
    if head.startswith(b"AutoCAD Binary DXF"):
        # ezdxf would read it, but its binary loader fails with struct.error on damaged files
        raise ShapeFileError(path, "binary DXF is not read; save it as ASCII DXF")
    try:
        doc = ezdxf.readfile(path)
    except Exception as exc:  # ezdxf raises many kinds (ValueError, IndexError, MemoryError...)
        like = _looks_like(head)
        raise ShapeFileError(
            path, f"not a DXF drawing{like}; pass an ASCII DXF drawing" if like else
            f"not a readable DXF drawing ({_reason(exc, path)}); save it again as an ASCII DXF "
            "drawing"
        ) from None
    to_metres = _dxf_unit(path, doc.header.get("$INSUNITS", 0), units)
    try:
        msp = doc.modelspace()
        count = len(msp)
    except Exception as exc:  # a drawing without a usable model space
        raise ShapeFileError(path, f"has no readable model space ({_reason(exc)}); save it "
                             "again as an ASCII DXF drawing") from None
    if count > MAX_DXF_ENTITIES:
        raise ShapeFileError(path, f"has {count:,} entities, more than the "
                             f"{MAX_DXF_ENTITIES:,} read here; simplify or split the drawing")
    flat = FLATTEN / to_metres  # the tolerance in drawing units
    limit = MAX_COORDINATE / to_metres
    rings: list[np.ndarray] = []
    closed = 0
    total = 0
    wanted = None if layer is None else str(layer).lower()
    for entity in msp.query("LWPOLYLINE POLYLINE"):
        try:
            if wanted is not None and str(entity.dxf.layer).lower() != wanted:
                continue
            if not entity.is_closed or (entity.dxftype() == "POLYLINE" and (
                    entity.is_polygon_mesh or entity.is_poly_face_mesh)):
                continue
            points, to_world = _polyline_points(entity)
        except Exception as exc:  # a damaged entity that ezdxf loaded but cannot interpret
            raise ShapeFileError(path, f"has a damaged {entity.dxftype()} ({_reason(exc)}); "
                                 "repair or redraw it") from None
        closed += 1
        name = f"{entity.dxftype()} #{entity.dxf.get('handle', '?')}"
        if not np.isfinite(points).all():
            raise ShapeFileError(path, f"{name} has a NaN or infinite coordinate or bulge; "
                                 "repair the drawing")
        if len(points) and np.abs(points[:, :2]).max() > limit:
            raise ShapeFileError(path, f"{name} has a coordinate of "
                                 f"{np.abs(points[:, :2]).max() * to_metres:.3g} m, beyond the "
                                 f"{MAX_COORDINATE:g} m a drawing may span; check $INSUNITS "
                                 "and the drawing's scale")
        ring = _flatten(points, flat, limit, MAX_OUTLINE_VERTICES - total, path, name)
        total += len(ring)
        if to_world is not None:  # flattened in its own plane, where the arcs are circles
            ring = ring @ to_world[:2, :2] + to_world[2, :2]
            if not (np.isfinite(ring).all() and np.abs(ring).max(initial=0) <= 2 * limit):
                raise ShapeFileError(path, f"{name} has an unusable extrusion direction "
                                     f"{tuple(entity.dxf.extrusion)}; repair the drawing")
        if len(ring) >= 3:
            rings.append(ring * to_metres)
    where = f" on layer {layer!r}" if layer is not None else ""
    if not rings:
        if closed:
            raise ShapeFileError(path, f"has no closed polyline{where} with three or more "
                                 f"points ({closed} with fewer); draw the outlines as closed "
                                 "LWPOLYLINEs")
        raise ShapeFileError(path, f"has no closed polyline{where}; outlines must be closed "
                             "LWPOLYLINEs")
    try:
        polygons = polygons_from_rings(rings)
    except Exception as exc:  # GEOS on pathological rings, or nesting beyond the bound
        raise ShapeFileError(path, f"its outlines do not make valid polygons ({_reason(exc)}); "
                             "redraw them as simple closed polylines") from None
    if polygons.is_empty:
        raise ShapeFileError(path, f"its {len(rings)} closed polyline(s){where} enclose no "
                             "area; draw the outlines as closed LWPOLYLINEs around the solid")
    return polygons


def _dxf_unit(path: Path, insunits: object, units) -> float:
    """Metres per drawing unit from a ``$INSUNITS`` header value (0 or unset: mm)."""
    try:
        code = int(insunits or 0)
    except (TypeError, ValueError, OverflowError):
        code = -1
    try:  # 1…23 are lengths; METER_FACTOR[-2] would silently be another unit
        factor = 1e-3 if code == 0 else (units.conversion_factor(code, units.M)
                                         if code > 0 else math.nan)
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError):
        factor = math.nan
    if not (math.isfinite(factor) and factor > 0):
        raise ShapeFileError(path, f"has unsupported $INSUNITS {insunits!r}; save it in mm "
                             "($INSUNITS 4)")
    return float(factor)


def _polyline_points(entity) -> tuple[np.ndarray, np.ndarray | None]:
    """The vertices of a LWPOLYLINE or 2D/3D POLYLINE as ``[n, 3]`` (x, y, bulge).

    2D polylines live in their entity's coordinate system (OCS), in which arcs are circular:
    the second value is the ``[3, 3]`` map of OCS points (x, y, elevation) to world
    coordinates, or None where the OCS is the world's (the usual case).
    """
    from ezdxf.math import OCS

    if entity.dxftype() == "LWPOLYLINE":
        points = np.array(entity.get_points("xyb"), dtype=float).reshape(-1, 3)
        elevation = float(entity.dxf.elevation)
    elif entity.is_3d_polyline:  # world coordinates, no bulges
        xyz = [v.dxf.location for v in entity.vertices]
        return np.array([(p[0], p[1], 0.0) for p in xyz], dtype=float).reshape(-1, 3), None
    else:
        points = np.array([(v.dxf.location[0], v.dxf.location[1], v.dxf.bulge)
                           for v in entity.vertices], dtype=float).reshape(-1, 3)
        elevation = float(entity.dxf.elevation[2])
    extrusion = tuple(float(v) for v in entity.dxf.extrusion)
    if extrusion == (0.0, 0.0, 1.0):
        return points, None
    ocs = OCS(extrusion)
    axes = np.array([tuple(ocs.ux), tuple(ocs.uy), tuple(ocs.uz)], dtype=float)
    return points, np.vstack([axes[:2], elevation * axes[2]])


def _flatten(points: np.ndarray, flat: float, limit: float, budget: int, path: Path,
             name: str) -> np.ndarray:
    """A closed polyline's vertices with its arcs replaced by chords, ``[m, 2]``.

    A bulge ``b`` on vertex ``k`` makes the segment to vertex ``k + 1`` (the last to the
    first) an arc of angle ``4·atan(b)`` (counter-clockwise when positive) and radius
    ``c·(|b| + 1/|b|) / 4`` on a chord ``c``. Each arc gets the fewest chords whose sagitta is
    at most ``flat`` (drawing units); their number is computed and checked against ``budget``
    and the arc's radius against ``limit`` before any point is made.
    """
    xy, bulge = points[:, :2], points[:, 2]
    chords = np.hypot(*(np.roll(xy, -1, axis=0) - xy).T)
    # An arc whose sagitta (chord·|b|/2) is within `flat` is its chord: CAD float noise writes
    # bulges of 1e-8, whose radius is absurd but whose bow is nothing. NaN stays an arc (refused).
    with np.errstate(invalid="ignore"):
        arcs = np.flatnonzero(~(np.abs(bulge) * chords / 2 <= flat))
    if len(arcs) == 0:
        if len(xy) > budget:
            _too_many(path, name)
        return xy
    chord = chords[arcs]
    b = np.abs(bulge[arcs])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        radius = chord * (b + 1 / b) / 4
        angle = 4 * np.arctan(b)
        # the chord angle whose sagitta is `flat`: R·(1 - cos(φ/2)) = flat
        step = 4 * np.arcsin(np.sqrt(np.minimum(flat / radius, 2.0) / 2))
        segments = np.where(chord > 0, np.ceil(angle / np.maximum(step, 1e-300)), 1.0)
    wild = ~(radius <= limit)  # also NaN
    if wild.any():
        k = int(np.flatnonzero(wild)[0])
        raise ShapeFileError(path, f"{name} has an arc (bulge {bulge[arcs[k]]:.3g}) of radius "
                             f"{radius[k] / limit * MAX_COORDINATE:.3g} m, beyond the "
                             f"{MAX_COORDINATE:g} m a drawing may span; repair the bulge")
    count = len(xy) + float(np.sum(segments - 1))
    if count > budget:
        _too_many(path, name)
    counts = np.ones(len(xy), dtype=np.int64)
    counts[arcs] = segments.astype(np.int64)
    out = np.empty((int(counts.sum()), 2))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out[starts] = xy
    for k, seg in zip(np.flatnonzero(counts > 1).tolist(), counts[counts > 1].tolist(),
                      strict=True):
        p0, p1, bk = xy[k], xy[(k + 1) % len(xy)], bulge[k]
        d = p1 - p0
        centre = (p0 + p1) / 2 + np.array([-d[1], d[0]]) * ((1 - bk * bk) / (4 * bk))
        theta = 4 * math.atan(bk)
        a0 = math.atan2(p0[1] - centre[1], p0[0] - centre[0])
        r = math.hypot(*(p0 - centre))
        t = a0 + theta * np.arange(1, seg) / seg
        out[starts[k] + 1:starts[k] + seg] = centre + r * np.column_stack([np.cos(t), np.sin(t)])
    return out


def _too_many(path: Path, name: str) -> None:
    raise ShapeFileError(path, f"the outlines need more than {MAX_OUTLINE_VERTICES:,} points "
                         f"(reached at {name}) once arcs are flattened to {FLATTEN * 1e6:g} µm; "
                         "simplify the drawing or split it")


def _fmt(value: float) -> str:
    """A coordinate in mm for SVG: nanometre resolution, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def write_svg(
    geometry: shapely.Geometry,
    path: str | Path,
    *,
    fill: str = "black",
    bounds: tuple[float, float, float, float] | None = None,
) -> Path:
    """Write the design as an SVG picture, sized in millimetres, that looks like the layout.

    One ``<path>`` per polygon, holes as subpaths, ``fill-rule="evenodd"``; ``width`` and
    ``height`` in mm and a viewBox in mm, so one user unit is one millimetre. SVG's y axis
    points down: a point ``(x, y)`` is drawn at ``(x, -y)`` with the viewBox starting at
    ``-ymax``, so the top of the design is at the top of the picture. The file is written
    atomically.

    Args:
        geometry: solid regions, shapely (Multi)Polygon in metres.
        path: target file (``.svg``).
        fill: fill colour of the solid regions (any SVG paint, e.g. ``"black"``, ``"#333"``).
        bounds: ``(xmin, ymin, xmax, ymax)`` in metres of the picture (normally the design's
            full rectangle); None: the geometry's bounds.

    Returns:
        The written path.

    Raises:
        DesignValueError: invalid geometry, bounds or fill.
    """
    from xml.sax.saxutils import quoteattr

    polygons = as_multipolygon(geometry)
    xmin, ymin, xmax, ymax = check_bounds(polygons.bounds if bounds is None else bounds)
    if not isinstance(fill, str) or not fill.strip():
        raise DesignValueError(f"fill must be a non-empty SVG colour string, got {fill!r}")
    width, height = (xmax - xmin) * MM, (ymax - ymin) * MM
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_fmt(width)}mm" '
        f'height="{_fmt(height)}mm" viewBox="{_fmt(xmin * MM)} {_fmt(-ymax * MM)} '
        f'{_fmt(width)} {_fmt(height)}">',
        f'<g fill={quoteattr(fill)} fill-rule="evenodd" stroke="none">',
    ]
    for polygon in polygons.geoms:
        subpaths = []
        for ring in _rings_mm(polygon):
            points = " L ".join(f"{_fmt(x)} {_fmt(-y)}" for x, y in ring.tolist())
            subpaths.append(f"M {points} Z")
        lines.append(f'<path fill-rule="evenodd" d="{" ".join(subpaths)}"/>')
    lines += ["</g>", "</svg>", ""]
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return path


def check_bounds(
    bounds: Sequence[float], *, name: str = "bounds"
) -> tuple[float, float, float, float]:
    """Validate a ``(xmin, ymin, xmax, ymax)`` rectangle in metres and return it as floats.

    Raises:
        DesignValueError: not four finite numbers with ``xmin < xmax`` and ``ymin < ymax``.
    """
    try:
        values = tuple(float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise DesignValueError(
            f"{name} must be (xmin, ymin, xmax, ymax) in metres, got {bounds!r}"
        ) from exc
    if len(values) != 4 or not all(np.isfinite(values)):
        raise DesignValueError(
            f"{name} must be four finite numbers (xmin, ymin, xmax, ymax) in metres, got {bounds!r}"
        )
    xmin, ymin, xmax, ymax = values
    if not (xmin < xmax and ymin < ymax):
        raise DesignValueError(
            f"{name} {values} is not a rectangle: need xmin < xmax and ymin < ymax (metres)"
        )
    return xmin, ymin, xmax, ymax
