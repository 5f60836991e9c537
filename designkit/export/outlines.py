"""2D outlines of a design for laser cutters, CNC and drawing programs: DXF and SVG, in mm.

The input is shapely geometry in metres (x right, y up, the design in ``[0, W] × [0, H]``); the
files are in millimetres. Every ring is written, shells and holes alike, and readers apply the
even-odd rule, so a hole is a hole whatever the ring orientation. :func:`read_dxf` reads closed
polylines back into shapely geometry in metres (for tests and for importing outlines).

The 2D helpers shared with :mod:`~wavefab.designkit.export.meshes` live here too:
:func:`as_multipolygon` validates and normalizes input geometry, :func:`polygons_from_rings`
nests loose rings by the even-odd rule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DesignValueError
from ..files import atomic_path

if TYPE_CHECKING:
    import shapely

log = logging.getLogger(__name__)

MM = 1e3
"""Millimetres per metre: files are in mm, code in metres."""


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
    back to the symmetric difference of all ring areas (the same rule, slower).

    Args:
        rings: closed polylines, each ``[n, 2]`` (the closing point may be repeated or not).

    Returns:
        A valid MultiPolygon (empty when no ring has area), in the rings' units.
    """
    import shapely

    loops = [shapely.Polygon(np.asarray(r, dtype=float)[:, :2]) for r in rings if len(r) >= 3]
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
    """Even-odd nesting of non-crossing, valid ring polygons (see :func:`polygons_from_rings`)."""
    import shapely

    tree = shapely.STRtree(loops)
    inner, outer = tree.query(loops, predicate="within")
    keep = inner != outer
    inner, outer = inner[keep], outer[keep]
    depth = np.bincount(inner, minlength=len(loops))
    holes: dict[int, list] = {}
    for i, j in zip(inner.tolist(), outer.tolist(), strict=True):
        if depth[i] % 2 == 1 and depth[j] == depth[i] - 1:  # j: the shell directly around i
            holes.setdefault(j, []).append(loops[i].exterior)
    polygons = [
        shapely.Polygon(loops[i].exterior, holes.get(i, []))
        for i in range(len(loops))
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
    """Read the closed outlines of a DXF drawing as polygons in metres.

    Closed LWPOLYLINEs and POLYLINEs (arcs from bulges flattened to 1 µm) of the model space
    are nested by the even-odd rule (:func:`polygons_from_rings`); open polylines and other
    entities are ignored. Coordinates are scaled by ``$INSUNITS`` (unset or unitless: mm).

    Args:
        path: a ``.dxf`` file.
        layer: read only this layer (case-insensitive); None: all layers.

    Returns:
        The polygons, in metres.

    Raises:
        DesignValueError: the file is missing, is not a readable DXF, or has no closed outline.
    """
    import ezdxf
    from ezdxf import path as dxfpath
    from ezdxf import units

    path = Path(path)
    try:
        doc = ezdxf.readfile(path)
    except (OSError, ezdxf.DXFError, UnicodeDecodeError) as exc:
        raise DesignValueError(
            f"cannot read DXF file {str(path)!r}: {exc}; pass an existing DXF drawing"
        ) from exc
    insunits = int(doc.header.get("$INSUNITS", 0) or 0)
    try:
        to_metres = 1e-3 if insunits == 0 else units.conversion_factor(insunits, units.M)
    except (TypeError, ValueError, KeyError) as exc:
        raise DesignValueError(
            f"DXF file {str(path)!r} has unsupported $INSUNITS {insunits}; save it in mm"
        ) from exc
    flat = 1e-6 / to_metres  # 1 µm in drawing units
    rings = []
    for entity in doc.modelspace().query("LWPOLYLINE POLYLINE"):
        if layer is not None and entity.dxf.layer.lower() != layer.lower():
            continue
        if not entity.is_closed:
            continue
        vertices = list(dxfpath.make_path(entity).flattening(flat))
        if len(vertices) >= 3:
            rings.append(np.array([(v.x, v.y) for v in vertices]) * to_metres)
    if not rings:
        where = f" on layer {layer!r}" if layer is not None else ""
        raise DesignValueError(
            f"DXF file {str(path)!r} has no closed polyline{where}; outlines must be closed "
            "LWPOLYLINEs"
        )
    return polygons_from_rings(rings)


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
