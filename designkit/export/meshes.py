"""Watertight 3D meshes of a design for printing: extrusion, printability, STL/3MF/OBJ, sections.

The input is shapely geometry in metres (x right, y up, the design in ``[0, W] × [0, H]``);
meshes are in millimetres, the unit slicers assume. :func:`extrude` builds one closed,
outward-oriented solid with manifold3d (solid regions on an optional base plate inside an
optional frame); :func:`check_printable` refuses walls and gaps a process cannot make;
:func:`write_mesh` / :func:`read_mesh` move meshes through files, and :func:`section` cuts a
mesh back into polygons to compare with the design.

Corner-only contacts ("pinches", e.g. two pixels touching diagonally) have no manifold solid:
after the vertices of the two parts are merged, which every STL reader does, the shared vertical
edge belongs to four faces. :func:`extrude` therefore welds each pinch with a tiny square
(side ``max(0.1 µm, 1e-5 × the design's extent)``, large enough to survive STL's float32),
which adds at most ``side²/2`` of area per pinch and turns the touching parts into one body.

:func:`read_mesh` is the one door for mesh files: it checks each format before trimesh parses
it (a binary STL's triangle count against its size, a 3MF package's members, sizes, compression
and instancing, the size of text files) and the mesh after (finite, bounded coordinates, at most
:data:`MAX_TRIANGLES`, faces that refer to vertices, a solid extent). Anything else is a
:class:`~.outlines.ShapeFileError` naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DesignValueError
from ..files import atomic_path
from .outlines import (
    MAX_COORDINATE,
    MM,
    ShapeFileError,
    _looks_like,
    _mib,
    _open_file,
    _reason,
    as_multipolygon,
    check_bounds,
    polygons_from_rings,
)

if TYPE_CHECKING:
    import manifold3d
    import shapely
    import trimesh

log = logging.getLogger(__name__)

MESH_SUFFIXES = (".stl", ".3mf", ".obj")
"""File types of :func:`write_mesh` and :func:`read_mesh`."""

MAX_MESH_BYTES = 2 * 2**30
"""Largest mesh file :func:`read_mesh` opens (bytes): room for an ASCII STL or OBJ of some ten
million triangles; a binary STL is held to :data:`MAX_TRIANGLES` by its recorded count first."""

MAX_TRIANGLES = 20_000_000
"""Most triangles of a mesh, counting every instance a 3MF build places: ~1 GB of STL, and
several GB of memory while trimesh merges vertices."""

MAX_3MF_MEMBERS = 1_000
"""Most parts (ZIP members) of a 3MF package; slicers write a few dozen."""

MAX_3MF_UNCOMPRESSED = 2 * 2**30
"""Most bytes all parts of a 3MF package may declare uncompressed: trimesh inflates them all."""

MAX_3MF_RATIO = 1000
"""Highest compression ratio of a 3MF part over 1 MiB: mesh XML deflates about 8:1, a zip bomb
near deflate's limit of 1032:1 (and far beyond it with bzip2 or LZMA)."""

MAX_3MF_INSTANCES = 10_000
"""Most placements of objects a 3MF build may expand to, items and nested components alike:
trimesh's scene grows about quadratically with them (20,000 items took 71 s to read here)."""

_STL_HEADER = 84
"""Bytes before a binary STL's triangles: an 80-byte header and a uint32 count."""

_STL_TRIANGLE = 50
"""Bytes per binary STL triangle: normal and three vertices (12 float32) and a uint16."""

_TEXT_CHUNK = 16 * 2**20
"""Bytes read at a time when counting the records of a text mesh file."""

_REL_TOL = 1e-9
"""Relative slack of the checks that geometry lies inside its bounds."""

_SLACK = 1e-4
"""Relative slack of the openings of :func:`check_printable` (see :func:`_opening_loss`): GEOS
drops an eroded remainder narrower than about 1e-5 of the buffer distance."""


def _length(value: object, name: str, *, positive: bool = False) -> float:
    """A finite length in metres, ``> 0`` when ``positive`` else ``≥ 0``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise DesignValueError(f"{name} must be a length in metres, got {value!r}") from exc
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        need = "> 0" if positive else "≥ 0"
        raise DesignValueError(f"{name} must be a finite length {need} in metres, got {value!r}")
    return number


def _mm(metres: float) -> str:
    """A length for messages, in mm (the unit of printers)."""
    return f"{metres * MM:.3g} mm"


def _check_inside(polygons: shapely.MultiPolygon, rect: tuple[float, ...], name: str) -> None:
    """Refuse geometry outside its bounds rectangle (often metres/millimetres confusion)."""
    xmin, ymin, xmax, ymax = rect
    slack = _REL_TOL * max(xmax - xmin, ymax - ymin)
    gx0, gy0, gx1, gy1 = polygons.bounds
    if gx0 < xmin - slack or gy0 < ymin - slack or gx1 > xmax + slack or gy1 > ymax + slack:
        raise DesignValueError(
            f"geometry (bounds {tuple(round(v, 9) for v in (gx0, gy0, gx1, gy1))} m) extends "
            f"outside {name} {rect} m; pass the design's full rectangle as {name} and geometry "
            "in metres"
        )


def _within(geometry: shapely.Geometry, bounds: tuple[float, ...] | None
            ) -> tuple[shapely.MultiPolygon, tuple[float, ...]]:
    """The geometry as a MultiPolygon and its rectangle (``bounds``, checked to hold it)."""
    polygons = as_multipolygon(geometry)
    rect = check_bounds(polygons.bounds if bounds is None else bounds)
    if bounds is not None:
        _check_inside(polygons, rect, "bounds")
    return polygons, rect


def _pinch_points(region: shapely.Geometry) -> np.ndarray:
    """Points where the boundary of ``region`` meets itself (corner-only contacts), ``[k, 2]``."""
    import shapely

    lines = shapely.get_parts(shapely.unary_union(region.boundary))  # noded at contacts
    ends = np.concatenate(
        [shapely.get_coordinates(shapely.get_point(lines, i)) for i in (0, -1)], axis=0
    )
    points, degree = np.unique(ends, axis=0, return_counts=True)
    return points[degree >= 3]


def _weld_pinches(
    polygons: shapely.MultiPolygon, side: float, context: shapely.Geometry | None
) -> tuple[shapely.MultiPolygon, int]:
    """Union a ``side``-wide square onto every pinch of ``polygons`` (with ``context``)."""
    import shapely

    region = polygons if context is None else shapely.union(polygons, context)
    points = _pinch_points(region)
    if len(points) == 0:
        return polygons, 0
    half = side / 2
    squares = shapely.box(*(points - half).T, *(points + half).T)
    welded = shapely.union_all([polygons, *squares])
    log.info("welded %d corner-only contacts with %s squares", len(points), _mm(side))
    return as_multipolygon(welded), len(points)


def _cross_section(geometry: shapely.Geometry) -> manifold3d.CrossSection:
    """A manifold3d CrossSection, in mm, of polygonal shapely geometry in metres."""
    import manifold3d
    from shapely.geometry.polygon import orient

    contours = []
    for polygon in as_multipolygon(geometry).geoms:
        polygon = orient(polygon, 1.0)  # shells counter-clockwise, holes clockwise
        for ring in (polygon.exterior, *polygon.interiors):
            contours.append(np.asarray(ring.coords)[:-1, :2] * MM)
    return manifold3d.CrossSection(contours, manifold3d.FillRule.Positive)


def extrude(
    geometry: shapely.Geometry,
    height: float,
    *,
    base: float = 0.0,
    frame: float = 0.0,
    bounds: tuple[float, float, float, float] | None = None,
    lid: float = 0.0,
    openings: Sequence[tuple[float, float, float]] = (),
) -> trimesh.Trimesh:
    """Extrude the solid regions into one watertight, outward-oriented mesh in millimetres.

    The solid regions span ``z ∈ [base, base + height]``; with ``base > 0`` a plate under the
    whole ``bounds`` rectangle spans ``[0, base]``; with ``frame > 0`` a wall of that width
    around the outside of ``bounds`` spans ``[0, base + height]``. The parts are extruded and
    united with manifold3d, so the result is closed and consistently oriented (positive
    volume). Without plate or frame, separate islands stay separate bodies (each closed; see
    ``mesh_report(mesh)["bodies"]``). Corner-only contacts are welded (see the module notes);
    ``mesh.metadata["wavefab"]`` records how many.

    Args:
        geometry: solid regions, shapely (Multi)Polygon in metres; holes are holes.
        height: height of the solid regions (m).
        base: thickness of the base plate (m); 0: none.
        frame: width of the outer wall (m); 0: none.
        bounds: ``(xmin, ymin, xmax, ymax)`` of the plate and the inside of the frame (m),
            normally the design's full rectangle ``(0, 0, W, H)``; None: the geometry's bounds.
        lid: thickness of a top plate over ``bounds`` (and the frame) at
            ``z ∈ [base + height, base + height + lid]`` (m); 0: none. With a base plate it
            makes the part a parallel-plate waveguide: the 2D design between two plates.
        openings: ``(x, y, radius)`` circles (m) cut through the lid, e.g. at the ports where
            a speaker and microphones sit.

    Returns:
        The mesh, coordinates in mm, ``units == "mm"``.

    Raises:
        DesignValueError: ``height ≤ 0``, negative ``base``/``frame``, empty or non-polygonal
            geometry, bad ``bounds`` or geometry outside them, or a failed boolean union.
    """
    import manifold3d
    import shapely
    import trimesh

    height = _length(height, "height", positive=True)
    base = _length(base, "base")
    frame = _length(frame, "frame")
    polygons, rect = _within(geometry, bounds)
    xmin, ymin, xmax, ymax = rect
    inner = shapely.box(xmin, ymin, xmax, ymax)
    ring = None
    if frame > 0:
        outer = shapely.box(xmin - frame, ymin - frame, xmax + frame, ymax + frame)
        ring = outer.difference(inner)
    side = max(1e-7, 1e-5 * (max(xmax - xmin, ymax - ymin) + 2 * frame))
    polygons, welded = _weld_pinches(polygons, side, ring)

    Manifold = manifold3d.Manifold
    lid = _length(lid, "lid")
    parts = [Manifold.extrude(_cross_section(polygons), height * MM).translate((0, 0, base * MM))]
    if base > 0:
        parts.append(Manifold.extrude(_cross_section(inner), base * MM))
    if ring is not None:
        parts.append(Manifold.extrude(_cross_section(ring), (base + height + lid) * MM))
    if lid > 0:
        parts.append(Manifold.extrude(_cross_section(inner), lid * MM)
                     .translate((0, 0, (base + height) * MM)))
    body = Manifold.batch_boolean(parts, manifold3d.OpType.Add) if len(parts) > 1 else parts[0]
    holes = [shapely.Point(x, y).buffer(r, quad_segs=16) for x, y, r in openings]
    if holes:
        if not all(r > 0 and math.isfinite(r) for _, _, r in openings):
            raise DesignValueError("openings need a positive radius")
        if lid <= 0:
            raise DesignValueError("openings are cut through the lid: give a lid thickness")
        # through the lid only (down to the walls' top): a port opens the cavity to the outside
        top = (base + height) * MM
        cutter = Manifold.extrude(_cross_section(shapely.union_all(holes)), lid * MM + 1.0) \
            .translate((0, 0, top))
        body = body - cutter
    if body.status() != manifold3d.Error.NoError or body.is_empty():
        raise DesignValueError(
            f"could not build a solid from geometry (manifold3d: {body.status()}); check that "
            "geometry is valid polygons in metres"
        )
    result = body.to_mesh64()
    vertices = np.asarray(result.vert_properties, dtype=np.float64)[:, :3]
    faces = np.asarray(result.tri_verts, dtype=np.int64)
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    mesh.units = "mm"
    mesh.metadata["wavefab"] = {"welded_pinches": welded, "weld_mm": side * MM if welded else 0.0}
    return mesh


def mesh_report(mesh: trimesh.Trimesh) -> dict[str, Any]:
    """What a slicer will care about: closedness, orientation, bodies, volume, size.

    Args:
        mesh: a triangle mesh in mm.

    Returns:
        ``watertight``, ``winding_consistent`` (bools), ``bodies`` (connected parts),
        ``volume_mm3`` (positive for outward normals), ``bounds_mm`` (``[[x, y, z]min,
        [x, y, z]max]``, None when empty), ``triangles``; plus ``welded_pinches`` when the mesh
        comes from :func:`extrude`.
    """
    bounds = mesh.bounds
    report: dict[str, Any] = {
        "watertight": bool(mesh.is_watertight),
        "winding_consistent": bool(mesh.is_winding_consistent),
        "bodies": int(mesh.body_count),
        "volume_mm3": float(mesh.volume),
        "bounds_mm": None if bounds is None else np.asarray(bounds, dtype=float).tolist(),
        "triangles": len(mesh.faces),
    }
    meta = mesh.metadata.get("wavefab") if isinstance(mesh.metadata, dict) else None
    if isinstance(meta, dict) and "welded_pinches" in meta:
        report["welded_pinches"] = int(meta["welded_pinches"])
    return report


def _opening_loss(
    region: shapely.Geometry, width: float, min_area: float, clip: shapely.Geometry | None = None
) -> list:
    """Pieces of ``region`` (area > ``min_area``, inside ``clip``) lost to a ``width`` opening.

    The opening is ``buffer(-r).buffer(r)``, ``r = width / 2``, with mitre joins: on
    axis-aligned edges that is erosion and dilation by an axis-aligned square of side
    ``width``, so right-angle corners survive. Round joins would be the disc of the design
    rules, but they cut every convex corner and so flag every pixel corner as a thin feature.
    The erosion is a hair (:data:`_SLACK`) under ``r`` so that a feature of exactly ``width``
    passes (features down to ``width × (1 - 1e-4)`` do), and the dilation two hairs over it,
    because GEOS may collapse the thin remainder of such a feature onto one of its edges
    before dilating.
    """
    import shapely

    if region.is_empty or width <= 0:
        return []
    r = width / 2
    eroded = region.buffer(-r * (1 - _SLACK), join_style="mitre")
    opened = eroded.buffer(r * (1 + 2 * _SLACK), join_style="mitre")
    lost = region.difference(opened)
    if clip is not None:
        lost = lost.intersection(clip)
    return [p for p in shapely.get_parts(lost) if p.geom_type == "Polygon" and p.area > min_area]


def _feature_widths(pieces: list, rule: float) -> np.ndarray:
    """Widths of thin pieces: the diameters of their largest inscribed circles (m, ±0.1 % rule)."""
    import shapely

    circles = shapely.maximum_inscribed_circle(np.asarray(pieces, dtype=object), 5e-4 * rule)
    return 2 * shapely.length(circles)


def _thinnest(
    region: shapely.Geometry, lower: float, min_area: float, clip: shapely.Geometry | None = None
) -> float | None:
    """Smallest feature width of ``region`` (m), known to be ``≥ lower``, to ~1 %.

    The opening width grows by 1.5× from ``lower`` (or from 1/1000 of the region's extent)
    until some area is lost, then bisection narrows the bracket: about ten openings when the
    thinnest feature is near the rule, the usual case.
    """
    target = region if clip is None else region.intersection(clip)
    if target.area == 0:
        return None
    x0, y0, x1, y1 = target.bounds
    span = max(x1 - x0, y1 - y0)
    lo, hi = lower, max(lower * 1.5, span * 1e-3)
    while not _opening_loss(region, hi, min_area, clip):
        if hi >= span:
            return span
        lo, hi = hi, min(hi * 1.5, span)
    while hi - lo > 0.01 * hi:
        mid = 0.5 * (lo + hi)
        if _opening_loss(region, mid, min_area, clip):
            hi = mid
        else:
            lo = mid
    return lo


def check_printable(
    geometry: shapely.Geometry,
    min_wall: float,
    min_hole: float,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    closed_bounds: bool = False,
    measure: bool = True,
) -> dict[str, Any]:
    """Refuse a design with walls or gaps the process cannot make; else report the minimums.

    A solid is too thin where a morphological opening with an axis-aligned ``min_wall`` square
    (mitre-joined shapely buffers, see :func:`_opening_loss`) removes area; a gap or hole is
    too narrow where the same opening of the void (``min_hole``) does. Voids are measured
    inside the ``bounds`` rectangle; the outside counts as open space unless
    ``closed_bounds`` (a frame surrounds the design), so a design may end next to its edge.
    Pieces smaller than ``1e-6 × rule²`` are numerical noise and ignored.

    Args:
        geometry: solid regions, shapely (Multi)Polygon in metres.
        min_wall: the process's minimum solid width (m); 0: no rule.
        min_hole: the process's minimum gap / hole width (m); 0: no rule.
        bounds: the design's rectangle ``(xmin, ymin, xmax, ymax)`` (m); None: the geometry's.
        closed_bounds: the design is walled in (``extrude(..., frame > 0)``): gaps between the
            solid and the edge of ``bounds`` count.
        measure: also measure the thinnest wall and narrowest gap (bisection, ~1 %; a few
            dozen buffer operations); False: only check the rules.

    Returns:
        ``min_wall_mm`` and ``min_hole_mm`` (the rules), ``thinnest_wall_mm`` and
        ``narrowest_hole_mm`` (measured: at least the rule, at most 1 % under the true width,
        capped at the extent of the design; None when not measured or when there is no void
        inside the bounds). Corner-only contacts (which :func:`extrude` welds) are not
        flagged: a square opening of one cell keeps both cells.

    Raises:
        DesignValueError: a feature breaks a rule (the message gives the measured width, the
            rule, where, and what to change), or bad arguments.
    """
    import shapely

    min_wall = _length(min_wall, "min_wall")
    min_hole = _length(min_hole, "min_hole")
    polygons, rect = _within(geometry, bounds)
    box = shapely.box(*rect)
    if closed_bounds:
        void = box.difference(polygons)
    else:  # the outside is open space: a band wider than any feature around the rectangle
        band = max(rect[2] - rect[0], rect[3] - rect[1]) + min_hole
        void = box.buffer(band, join_style="mitre").difference(polygons)
    wall_area = max(1e-6 * min_wall**2, 1e-18)
    hole_area = max(1e-6 * min_hole**2, 1e-18)

    problems = []
    scale = 1.0
    for kind, region, rule, tiny, label in (
        ("solid feature", polygons, min_wall, wall_area, "minimum wall"),
        ("gap", void, min_hole, hole_area, "minimum hole"),
    ):
        lost = _opening_loss(region, rule, tiny, box)
        if not lost:
            continue
        widths = _feature_widths(lost, rule)
        k = int(np.argmin(widths))
        where = lost[k].representative_point()
        many = f"{len(lost)} {kind}s narrower than" if len(lost) > 1 else f"a {kind} below"
        problems.append(
            f"{many} the process's {label} {_mm(rule)} (narrowest {_mm(widths[k])} at "
            f"x = {_mm(where.x)}, y = {_mm(where.y)})"
        )
        scale = max(scale, rule / max(widths[k], 1e-12))
    if problems:
        rule = max(min_wall, min_hole)
        pitch = f"export at a pitch ≥ {scale:.3g}× the current one, or " if scale > 1.001 else ""
        raise DesignValueError(
            f"design is not printable: {'; '.join(problems)}. Fix: {pitch}redesign with "
            f"min_feature ≥ {_mm(rule)}"
        )
    report: dict[str, Any] = {
        "min_wall_mm": min_wall * MM,
        "min_hole_mm": min_hole * MM,
        "thinnest_wall_mm": None,
        "narrowest_hole_mm": None,
    }
    if measure:
        wall = _thinnest(polygons, min_wall, wall_area)
        hole = _thinnest(void, min_hole, hole_area, box)
        report["thinnest_wall_mm"] = None if wall is None else wall * MM
        report["narrowest_hole_mm"] = None if hole is None else hole * MM
    return report


def _suffix(path: Path, action: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise DesignValueError(
            f"cannot {action} mesh file {str(path)!r}: unknown suffix {path.suffix!r}; "
            f"supported: {', '.join(MESH_SUFFIXES)}"
        )
    return suffix


def write_mesh(mesh: trimesh.Trimesh, path: str | Path) -> Path:
    """Write a mesh (coordinates in mm) as binary STL, 3MF or OBJ, chosen by the suffix.

    The file appears complete under ``path`` or not at all (:func:`~.files.atomic_path`).
    3MF declares millimetres; STL and OBJ carry no unit (slicers assume mm). STL stores float32
    coordinates; OBJ keeps ~1e-8 mm.

    Args:
        mesh: a trimesh mesh in mm, e.g. from :func:`extrude`.
        path: target file, ``.stl``, ``.3mf`` or ``.obj``.

    Returns:
        The written path.

    Raises:
        DesignValueError: unknown suffix, or a mesh without triangles.
    """
    import trimesh
    from trimesh.exchange.obj import export_obj

    path = Path(path)
    suffix = _suffix(path, "write")
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise DesignValueError(
            f"mesh must be a trimesh.Trimesh with triangles, got {type(mesh).__name__}"
            f"{'' if not isinstance(mesh, trimesh.Trimesh) else ' without faces'}; "
            "build it with extrude()"
        )
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        if suffix == ".stl":
            mesh.export(file_obj=fh, file_type="stl")  # binary
        elif suffix == ".3mf":
            mesh.units = "millimeter"
            fh.write(mesh.export(file_type="3mf"))
        else:
            text = export_obj(
                mesh,
                include_normals=False,
                include_color=False,
                include_texture=False,
                digits=9,
                header="wavefab mesh, millimetres",
            )
            fh.write(text.encode())
        fh.flush()
        os.fsync(fh.fileno())
    return path


def read_mesh(path: str | Path) -> trimesh.Trimesh:
    """Read a mesh written by :func:`write_mesh` (or by other programs), in mm.

    Vertices shared by position are merged (STL stores none), so a closed mesh reads back
    watertight. A 3MF package's build (objects, components, transforms) becomes one mesh,
    scaled to mm by its ``unit``. OBJ material libraries are not read.

    The file is checked before trimesh parses it and the mesh after: at most
    :data:`MAX_MESH_BYTES`; a binary STL's recorded triangle count matches its size; a 3MF
    package has at most :data:`MAX_3MF_MEMBERS` parts, :data:`MAX_3MF_UNCOMPRESSED` bytes
    uncompressed, no part compressed more than :data:`MAX_3MF_RATIO`:1, no part named outside
    the package and at most :data:`MAX_3MF_INSTANCES` placed objects; at most
    :data:`MAX_TRIANGLES` triangles; finite vertices within :data:`~.outlines.MAX_COORDINATE`
    (1 km); faces that refer to existing vertices; an extent in x, y and z.

    Args:
        path: a ``.stl``, ``.3mf`` or ``.obj`` file.

    Returns:
        The mesh, coordinates in mm, ``units == "mm"``.

    Raises:
        DesignValueError: unknown suffix.
        ShapeFileError: (a ``DesignValueError`` too) a missing, empty, oversized, damaged,
            crafted or foreign file, or one without triangles; the message names the file,
            what is wrong and the fix.
    """
    import trimesh

    path = Path(path)
    suffix = _suffix(path, "read")
    kind = suffix[1:].upper()
    article = "an" if kind in ("STL", "OBJ") else "a"
    size, head = _open_file(path, f"{article} {kind} mesh file", MAX_MESH_BYTES)
    options: dict[str, Any] = {}
    if suffix == ".stl":
        _check_stl(path, size, head)
    elif suffix == ".3mf":
        _check_3mf(path, head)
    else:
        _check_obj(path, head)
        options["skip_materials"] = True  # a mesh file must not make us read other files
    try:
        # A Scene of unprocessed meshes first: trimesh's processing would silently drop NaN
        # vertices, and the build's instances are counted before they are concatenated.
        scene = trimesh.load_scene(path, file_type=suffix[1:], process=False, **options)
        triangles = sum(len(getattr(scene.geometry.get(scene.graph[node][1]), "faces", ()))
                        for node in scene.graph.nodes_geometry)
        if triangles > MAX_TRIANGLES:
            raise ShapeFileError(path, _too_many_triangles(triangles))
        for part in scene.geometry.values():
            if isinstance(part, trimesh.Trimesh):
                _check_mesh(path, part, solid=False)
                with np.errstate(invalid="ignore"):  # far vertices are refused just below
                    part.process()  # merge vertices, as trimesh.load does, per object
        mesh = scene.to_mesh()
    except ShapeFileError:
        raise
    except IndexError as exc:  # trimesh indexes vertices with the file's face records
        raise ShapeFileError(path, f"a face refers to a vertex the file does not have "
                             f"({_reason(exc)}); export the mesh again") from None
    except Exception as exc:  # trimesh, lxml and zipfile raise many kinds on damaged input
        raise ShapeFileError(path, f"not a readable {kind} file ({_reason(exc, path)}); pass "
                             f"an undamaged {', '.join(MESH_SUFFIXES)} file") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise ShapeFileError(path, f"contains no triangles; pass a mesh file "
                             f"({', '.join(MESH_SUFFIXES)})")
    units = getattr(mesh, "units", None)
    if units and units not in ("mm", "millimeter", "millimeters"):
        try:  # a 3MF in other units (trimesh reads its unit attribute)
            mesh = mesh.convert_units("millimeters")
        except Exception as exc:  # trimesh raises bare errors for unknown unit names
            raise ShapeFileError(path, f"has unit {units!r}, which cannot be converted to "
                                 f"millimetres ({_reason(exc)}); save it in millimetres"
                                 ) from None
    _check_mesh(path, mesh)
    mesh.units = "mm"
    return mesh


def _too_many_triangles(count: int) -> str:
    return (f"has {count:,} triangles, more than the {MAX_TRIANGLES:,} read here; simplify "
            "the mesh (decimate it) or export the design at a coarser pitch")


def _check_stl(path: Path, size: int, head: bytes) -> None:
    """Refuse an STL whose binary triangle count does not match its size, unless it is ASCII.

    A binary STL is exactly ``84 + 50·n`` bytes for the ``n`` its header records; that rule,
    not the word ``solid`` (which some binary headers start with too), tells the two apart.
    """
    count = struct.unpack_from("<I", head, 80)[0] if len(head) >= _STL_HEADER else None
    if count is not None and size == _STL_HEADER + _STL_TRIANGLE * count:
        if count == 0:
            raise ShapeFileError(path, "the binary STL records 0 triangles; export the mesh "
                                 "again")
        if count > MAX_TRIANGLES:
            raise ShapeFileError(path, _too_many_triangles(count))
        return
    if head.lstrip()[:5].lower() == b"solid":  # ASCII: three "vertex" lines per triangle
        vertices = _count_records(path, (b"vertex",))
        if vertices // 3 > MAX_TRIANGLES:
            raise ShapeFileError(path, _too_many_triangles(vertices // 3))
        return
    like = _looks_like(head)
    if like:
        raise ShapeFileError(path, f"not an STL mesh{like}; pass a binary or ASCII STL file")
    if count is None:
        raise ShapeFileError(path, f"is {size} bytes: shorter than a binary STL's 84-byte "
                             "header, and not ASCII STL (which starts with 'solid'); export "
                             "the mesh again")
    raise ShapeFileError(
        path, f"its binary STL header records {count:,} triangles "
        f"({_STL_HEADER + _STL_TRIANGLE * count:,} bytes) but the file has {size:,} bytes: it "
        "is truncated or not an STL file; export the mesh again"
    )


def _check_obj(path: Path, head: bytes) -> None:
    """Refuse a foreign file named .obj, and one with too many faces (counted in the text).

    The count of ``f`` records is a lower bound of the triangles (a polygon makes several),
    taken before trimesh allocates them.
    """
    like = _looks_like(head)
    if like:
        raise ShapeFileError(path, f"not an OBJ mesh{like}; pass a Wavefront OBJ text file")
    faces = _count_records(path, (b"\nf ", b"\nf\t")) + (head[:2] in (b"f ", b"f\t"))
    if faces > MAX_TRIANGLES:
        raise ShapeFileError(path, _too_many_triangles(faces))


def _count_records(path: Path, needles: tuple[bytes, ...]) -> int:
    """Occurrences of ``needles`` in a file, read in chunks (~1 GB/s; bounded memory)."""
    overlap = max(len(n) for n in needles) - 1
    count = 0
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_TEXT_CHUNK):
            data = tail + chunk
            # a match lies wholly in `data`; those ending in the carried tail were counted
            count += sum(data.count(n) - tail.count(n) for n in needles)
            tail = data[-overlap:] if overlap else b""
    return count


def _check_3mf(path: Path, head: bytes) -> None:
    """Refuse a 3MF that is not a ZIP package of bounded size, or whose build would explode.

    Checked from the ZIP's directory before anything is inflated: the number of parts, their
    declared sizes and compression ratios, their compression method and encryption, and their
    names (``..`` or absolute names point outside the package). Then the model's components,
    if it has any: their graph must be acyclic and place at most :data:`MAX_3MF_INSTANCES`
    objects (nested components multiply, so a small file could place billions).
    """
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, ValueError, EOFError on damaged archives
        like = _looks_like(head)
        raise ShapeFileError(
            path, f"not a 3MF package{like}; pass a 3MF file" if like and "ZIP" not in like
            else f"not a 3MF package: not a readable ZIP archive ({_reason(exc)}); export the "
            "mesh again"
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_3MF_MEMBERS:
            raise ShapeFileError(path, f"the 3MF package has {len(infos):,} parts, more than "
                                 f"the {MAX_3MF_MEMBERS:,} read here; export the mesh again")
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if name.lower() in seen:  # readers differ on which copy they take
                raise ShapeFileError(path, f"the 3MF package holds part {name!r} twice; it is "
                                     "not a 3MF file a slicer wrote: export the mesh again")
            seen.add(name.lower())
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
                raise ShapeFileError(path, f"part {name!r} of the 3MF package is named outside "
                                     "the package; it is not a 3MF file a slicer wrote")
            if info.flag_bits & 0x1:
                raise ShapeFileError(path, f"part {name!r} of the 3MF package is encrypted; "
                                     "export the mesh again without a password")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ShapeFileError(path, f"part {name!r} of the 3MF package uses compression "
                                     f"method {info.compress_type}; 3MF parts are stored or "
                                     "deflated; export the mesh again")
            if info.file_size > 2**20 and \
                    info.file_size > MAX_3MF_RATIO * max(info.compress_size, 1):
                raise ShapeFileError(
                    path, f"part {name!r} of the 3MF package inflates {_mib(info.compress_size)} "
                    f"to {_mib(info.file_size)}, more than {MAX_3MF_RATIO}:1 (a zip bomb?); "
                    "export the mesh again"
                )
            total += info.file_size
        if total > MAX_3MF_UNCOMPRESSED:
            raise ShapeFileError(path, f"the 3MF package declares {_mib(total)} uncompressed, "
                                 f"more than the {_mib(MAX_3MF_UNCOMPRESSED)} read here; "
                                 "simplify the mesh or export it at a coarser pitch")
        models = [i for i in infos if "3d/3dmodel.model" in i.filename.lower()]
        if not models:
            raise ShapeFileError(path, "the package has no 3D/3dmodel.model part: it is a ZIP "
                                 "archive but not a 3MF mesh; export the mesh again")
        _check_3mf_build(path, archive, models[0])


_XML_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False,
                "load_dtd": False, "dtd_validation": False, "recover": False}
"""lxml parser options for 3MF models: no entities, DTDs or network (what trimesh uses too)."""


def _check_3mf_build(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a 3MF model whose components form a cycle or place too many objects."""
    from lxml import etree

    children: dict[str, list[str]] = {}
    items: list[str] = []
    current = ""
    records = 0
    try:
        with archive.open(info) as fh:
            for event, element in etree.iterparse(
                fh, events=("start", "end"), tag=("{*}object", "{*}component", "{*}item"),
                **_XML_OPTIONS,
            ):
                tag = etree.QName(element).localname
                if event == "start":
                    if tag == "object":
                        current = str(element.get("id"))
                        children.setdefault(current, [])
                    continue
                if tag == "component":
                    children.setdefault(current, []).append(str(element.get("objectid")))
                    records += 1
                elif tag == "item":
                    items.append(str(element.get("objectid")))
                    records += 1
                else:  # an object read: drop its mesh from the tree (bounded memory)
                    element.clear()
                    while element.getprevious() is not None:
                        del element.getparent()[0]
                if records > MAX_3MF_INSTANCES:
                    raise ShapeFileError(path, _TOO_MANY_INSTANCES)
    except ShapeFileError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, XMLSyntaxError on damaged parts
        raise ShapeFileError(path, f"its 3MF model is not readable ({_reason(exc)}); export "
                             "the mesh again") from None
    if _count_placements(path, children, items) > MAX_3MF_INSTANCES:
        raise ShapeFileError(path, _TOO_MANY_INSTANCES)


_TOO_MANY_INSTANCES = (f"its 3MF build places more than {MAX_3MF_INSTANCES:,} objects (items "
                       "and nested components), more than wavefab reads; flatten the assembly "
                       "into one mesh")


def _count_placements(path: Path, children: dict[str, list[str]], items: list[str]) -> int:
    """How many objects the build places: each item counts the leaves below its object.

    An iterative depth-first walk (a crafted file can nest deeper than Python's recursion
    limit); counts are capped just above the bound, since nested components multiply them.
    """
    cap = MAX_3MF_INSTANCES + 1
    leaves: dict[str, int] = {}
    for root in set(items):
        stack = [(root, iter(children.get(root, ())))]
        on_path = {root}
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                on_path.discard(node)
                below = children.get(node)
                leaves[node] = 1 if not below else min(cap, sum(leaves[c] for c in below))
            elif child in on_path:
                raise ShapeFileError(path, f"its 3MF components refer to each other in a cycle "
                                     f"(object {child!r} contains itself); it is not a 3MF a "
                                     "slicer wrote")
            elif child not in leaves:
                stack.append((child, iter(children.get(child, ()))))
                on_path.add(child)
    return min(cap, sum(leaves[i] for i in items))


def _check_mesh(path: Path, mesh: trimesh.Trimesh, *, solid: bool = True) -> None:
    """Refuse a loaded mesh (mm) that no design can be.

    Too many triangles, faces that refer to missing vertices, NaN or infinite coordinates,
    and (``solid``: the whole mesh, in mm) coordinates beyond :data:`~.outlines.MAX_COORDINATE`
    or no extent in some axis. A part of a 3MF build (``solid=False``) is still in its file's
    units, so only what holds in any unit is checked on it.
    """
    if len(mesh.faces) > MAX_TRIANGLES:
        raise ShapeFileError(path, _too_many_triangles(len(mesh.faces)))
    vertices = np.asarray(mesh.vertices)
    faces = np.asarray(mesh.faces)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ShapeFileError(path, "a face refers to a vertex the file does not have; export "
                             "the mesh again")
    if len(vertices) == 0:
        return
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ShapeFileError(path, f"its vertices have {vertices.shape[-1]} coordinates, not "
                             "x, y and z; pass a 3D mesh")
    if not np.isfinite(vertices).all():
        raise ShapeFileError(path, "a vertex has a NaN or infinite coordinate; repair the mesh "
                             "or export it again")
    # flat and per-column reductions: numpy's `min(axis=0)` over [n, 3] is 20× slower
    if not solid:  # a part before unit conversion: its coordinates are not yet in mm
        return
    reach = float(max(vertices.max(), -vertices.min()))  # mm
    if reach > MAX_COORDINATE * MM:
        raise ShapeFileError(path, f"a vertex lies {reach / MM:.3g} m from the origin, "
                             f"beyond the {MAX_COORDINATE:g} m a part may span; check the "
                             "file's units (mm)")
    flat = [axis for k, axis in enumerate("xyz")
            if not vertices[:, k].max() > vertices[:, k].min()]
    if flat:
        raise ShapeFileError(path, f"the mesh is flat (no extent in {', '.join(flat)}), not a "
                             "solid part; pass the extruded design")


def _plane_loops(mesh: trimesh.Trimesh, z_mm: float) -> list[np.ndarray] | None:
    """Closed loops ``[n, 2]`` (mm) where the plane ``z = z_mm`` cuts the mesh's triangles.

    Each crossing mesh edge is intersected once (by its sorted vertex pair), so the two
    triangles sharing it produce bit-identical points and the segments join exactly. Returns
    None when a vertex lies on the plane (a degenerate cut for this method).
    """
    import shapely

    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    above = vertices[:, 2] > z_mm
    if np.any(vertices[:, 2] == z_mm):
        return None
    faces = np.asarray(mesh.faces)
    flags = above[faces]
    faces = faces[flags.any(axis=1) & ~flags.all(axis=1)]
    if len(faces) == 0:
        return []
    edges = np.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=1)
    crossing = above[edges[..., 0]] != above[edges[..., 1]]  # two per face
    edges = np.sort(edges[crossing], axis=1)
    keys, index = np.unique(edges[:, 0] * len(vertices) + edges[:, 1], return_inverse=True)
    a, b = vertices[keys // len(vertices)], vertices[keys % len(vertices)]
    t = (z_mm - a[:, 2]) / (b[:, 2] - a[:, 2])
    points = a[:, :2] + t[:, None] * (b[:, :2] - a[:, :2])
    segments = shapely.linestrings(points[index.reshape(-1, 2)])
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(segments)))
    closed = shapely.is_closed(merged)
    if not closed.all():
        log.warning(
            "the cut at z = %g mm has %d open chains (mesh not closed); dropped them",
            z_mm,
            int((~closed).sum()),
        )
    return [shapely.get_coordinates(line) for line in merged[closed]]


def section(mesh: trimesh.Trimesh, z: float) -> shapely.MultiPolygon:
    """Cut a mesh (mm) with the plane at height ``z`` (metres) into polygons in metres.

    Loops of the cut are nested by the even-odd rule, so holes come back as holes. Cut inside
    a slab (not exactly at a plate or top face, where the cut is degenerate): at mid-height of
    the walls of :func:`extrude`'s mesh it returns the design's geometry.

    Args:
        mesh: a closed mesh in mm.
        z: cut height in metres (``base + height / 2`` for the walls of :func:`extrude`).

    Returns:
        The cross-section in metres; empty when the plane misses the mesh.

    Raises:
        DesignValueError: ``z`` is not a finite number.
    """
    import shapely

    try:
        z_mm = float(z) * MM
    except (TypeError, ValueError) as exc:
        raise DesignValueError(f"z must be a height in metres, got {z!r}") from exc
    if not math.isfinite(z_mm):
        raise DesignValueError(f"z must be a finite height in metres, got {z!r}")
    loops = _plane_loops(mesh, z_mm)
    if loops is None:  # a vertex on the plane: trimesh's general (slower) cut
        path = mesh.section(plane_origin=[0.0, 0.0, z_mm], plane_normal=[0.0, 0.0, 1.0])
        loops = [] if path is None else [np.asarray(loop)[:, :2] for loop in path.discrete]
    if not loops:
        return shapely.MultiPolygon()
    return polygons_from_rings([loop / MM for loop in loops])
