"""Outlines: DXF and SVG in mm that read back as the same polygons, y up, holes as holes."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

import ezdxf
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import LineString, Polygon, box

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import outlines

MM = 1e-3
PITCH = 0.5 * MM
SVG = "{http://www.w3.org/2000/svg}"


def grid_geometry(cells: np.ndarray, pitch: float = PITCH) -> shapely.Geometry:
    rows, cols = np.nonzero(cells)
    return shapely.union_all(
        shapely.box(cols * pitch, rows * pitch, (cols + 1) * pitch, (rows + 1) * pitch)
    )


def ring_count(geometry) -> tuple[int, int]:
    polygons = outlines.as_multipolygon(geometry).geoms
    return len(polygons), sum(len(p.interiors) for p in polygons)


def nested() -> shapely.Geometry:
    """A frame with a hole, an island in the hole with its own hole: three nesting levels."""
    frame = box(0, 0, 10 * MM, 8 * MM).difference(box(1 * MM, 1 * MM, 9 * MM, 7 * MM))
    island = box(3 * MM, 2 * MM, 7 * MM, 6 * MM).difference(box(4 * MM, 3 * MM, 5 * MM, 5 * MM))
    return shapely.union(frame, island)


def ell() -> shapely.Geometry:
    """An L: a 4 mm bar along the bottom, a 1 mm post up the left side to y = 3 mm."""
    return shapely.union(box(0, 0, 4 * MM, 1 * MM), box(0, 0, 1 * MM, 3 * MM))


def svg_rings(path_element) -> list[np.ndarray]:
    """The subpaths of an SVG path written by write_svg, as rings in SVG user units (mm)."""
    rings = []
    for sub in re.findall(r"M([^Z]*)Z", path_element.get("d")):
        numbers = [float(v) for v in sub.replace("L", " ").split()]
        rings.append(np.array(numbers).reshape(-1, 2))
    return rings


def read_svg(path) -> tuple[ET.Element, list[ET.Element], shapely.MultiPolygon]:
    root = ET.parse(path).getroot()
    paths = list(root.iter(f"{SVG}path"))
    polygons = []
    for element in paths:
        rings = [r * [1, -1] * MM for r in svg_rings(element)]  # back to metres, y up
        polygons.extend(outlines.polygons_from_rings(rings).geoms)
    return root, paths, shapely.MultiPolygon(polygons)


@settings(max_examples=25, deadline=None)
@given(cells=arrays(np.bool_, st.tuples(st.integers(1, 6), st.integers(1, 6))).filter(np.any))
def test_dxf_and_svg_round_trip_random_layouts(cells, tmp_path_factory):
    geometry = grid_geometry(cells)
    folder = tmp_path_factory.mktemp("outline")
    back = outlines.read_dxf(outlines.write_dxf(geometry, folder / "design.dxf"))
    assert back.symmetric_difference(geometry).area <= 1e-9 * geometry.area
    assert back.area == pytest.approx(geometry.area, rel=1e-9)
    _, paths, svg = read_svg(outlines.write_svg(geometry, folder / "design.svg"))
    assert len(paths) == len(outlines.as_multipolygon(geometry).geoms)
    assert svg.symmetric_difference(geometry).area <= 1e-9 * geometry.area


def test_dxf_is_mm_with_one_closed_polyline_per_ring(tmp_path):
    geometry = nested()
    path = outlines.write_dxf(geometry, tmp_path / "nested.dxf", layer="CUT")
    doc = ezdxf.readfile(path)
    assert doc.header["$INSUNITS"] == 4
    polylines = list(doc.modelspace().query("LWPOLYLINE"))
    assert len(polylines) == 4
    assert all(p.closed and p.dxf.layer == "CUT" for p in polylines)
    assert "CUT" in doc.layers
    xs = [x for p in polylines for x, *_ in p.get_points("xy")]
    assert max(xs) == pytest.approx(10.0)  # mm
    back = outlines.read_dxf(path)
    assert ring_count(back) == ring_count(geometry) == (2, 2)
    assert back.area == pytest.approx(geometry.area, rel=1e-12)
    assert back.symmetric_difference(geometry).area < 1e-15
    assert outlines.read_dxf(path, layer="cut").area == pytest.approx(geometry.area)
    with pytest.raises(DesignValueError, match="no closed polyline on layer 'OTHER'"):
        outlines.read_dxf(path, layer="OTHER")


def test_dxf_keeps_y_up(tmp_path):
    path = outlines.write_dxf(ell(), tmp_path / "ell.dxf")
    points = np.array(
        [
            pt
            for p in ezdxf.readfile(path).modelspace().query("LWPOLYLINE")
            for pt in p.get_points("xy")
        ]
    )
    assert points[:, 1].max() == pytest.approx(3.0)  # the post goes up, at small x
    assert points[points[:, 1] > 2, 0].max() == pytest.approx(1.0)
    assert outlines.read_dxf(path).symmetric_difference(ell()).area < 1e-15


def test_read_dxf_other_units_and_open_polylines(tmp_path):
    doc = ezdxf.new("R2010", units=6)  # metres
    doc.header["$INSUNITS"] = 6
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (0.002, 0), (0.002, 0.001), (0, 0.001)], close=True)
    msp.add_lwpolyline([(0, 0), (1, 1), (2, 0)], close=False)  # open: ignored
    doc.saveas(tmp_path / "metres.dxf")
    back = outlines.read_dxf(tmp_path / "metres.dxf")
    assert back.area == pytest.approx(2e-6)
    assert back.bounds == pytest.approx((0, 0, 0.002, 0.001))


def test_svg_size_viewbox_evenodd_and_orientation(tmp_path):
    geometry = shapely.union(ell(), box(2 * MM, 2 * MM, 3 * MM, 3 * MM))  # L + a loose square
    design = (0.0, 0.0, 5 * MM, 4 * MM)
    root, paths, back = read_svg(outlines.write_svg(geometry, tmp_path / "l.svg", bounds=design))
    assert root.get("width") == "5mm" and root.get("height") == "4mm"
    assert [float(v) for v in root.get("viewBox").split()] == [0.0, -4.0, 5.0, 4.0]
    assert len(paths) == 2
    assert all(p.get("fill-rule") == "evenodd" for p in paths)
    assert back.symmetric_difference(geometry).area < 1e-15
    # in picture coordinates (y down from the top edge at -4): the bar is at the bottom
    ys = np.concatenate([r[:, 1] for p in paths for r in svg_rings(p)]) + 4.0
    xs = np.concatenate([r[:, 0] for p in paths for r in svg_rings(p)])
    assert ys.max() == pytest.approx(4.0)  # bottom of the picture
    assert xs[ys == ys.max()].max() == pytest.approx(4.0)  # the bar spans the bottom
    assert xs[ys < 2.0].max() == pytest.approx(3.0)  # the post and the square are at the top


def test_svg_holes_are_subpaths_of_one_path(tmp_path):
    geometry = box(0, 0, 4 * MM, 4 * MM).difference(box(1 * MM, 1 * MM, 2 * MM, 2 * MM))
    _, paths, back = read_svg(outlines.write_svg(geometry, tmp_path / "h.svg", fill="#123"))
    assert len(paths) == 1 and len(svg_rings(paths[0])) == 2
    assert back.area == pytest.approx(15 * MM**2)
    group = ET.parse(tmp_path / "h.svg").getroot().find(f"{SVG}g")
    assert group.get("fill") == "#123"


def test_svg_fill_is_escaped(tmp_path):
    path = outlines.write_svg(box(0, 0, MM, MM), tmp_path / "x.svg", fill='red" onload="x')
    group = ET.parse(path).getroot().find(f"{SVG}g")
    assert group.get("fill") == 'red" onload="x'
    assert group.get("onload") is None


def test_even_odd_nesting_ignores_orientation_and_handles_crossing_rings():
    square = np.array([(0, 0), (4, 0), (4, 4), (0, 4)], float)
    rings = [square, square[::-1] * 0.5 + 1, square * 0.25 + 1.5]  # shell, hole, island
    result = outlines.polygons_from_rings(rings)
    assert result.area == pytest.approx(16 - 4 + 1)
    assert ring_count(result) == (2, 1)
    crossing = [square, square + 2]  # overlap counted out by even-odd
    assert outlines.polygons_from_rings(crossing).area == pytest.approx(16 + 16 - 2 * 4)
    assert outlines.polygons_from_rings([]).is_empty


def test_invalid_geometry_is_repaired_with_a_warning(caplog):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with caplog.at_level(logging.WARNING):
        fixed = outlines.as_multipolygon(bowtie)
    assert fixed.is_valid and fixed.area == pytest.approx(0.5)
    assert "invalid" in caplog.text
    mixed = shapely.GeometryCollection([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    assert len(outlines.as_multipolygon(mixed).geoms) == 2


@pytest.mark.parametrize(
    "make",
    [
        Polygon,
        lambda: LineString([(0, 0), (1, 0)]),
        lambda: None,
        lambda: box(0, 0, np.inf, 1),
    ],
    ids=["empty", "line", "none", "infinite"],
)
def test_bad_geometry_is_refused(tmp_path, make):
    geometry = make()
    with pytest.raises(DesignValueError, match="geometry"):
        outlines.write_dxf(geometry, tmp_path / "a.dxf")
    with pytest.raises(DesignValueError, match="geometry"):
        outlines.write_svg(geometry, tmp_path / "a.svg")
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(DesignValueError, match="layer"):
        outlines.write_dxf(box(0, 0, MM, MM), tmp_path / "a.dxf", layer="a/b")
    with pytest.raises(DesignValueError, match="fill"):
        outlines.write_svg(box(0, 0, MM, MM), tmp_path / "a.svg", fill="")
    with pytest.raises(DesignValueError, match="bounds"):
        outlines.write_svg(box(0, 0, MM, MM), tmp_path / "a.svg", bounds=(0, 0, 0, 1))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not a dxf\n", b"\x00\xff" * 40],
    ids=["missing", "empty", "text", "binary"],
)
def test_unreadable_dxf_is_refused(tmp_path, content):
    path = tmp_path / "bad.dxf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DesignValueError, match=r"bad\.dxf"):
        outlines.read_dxf(path)


class _Boom(RuntimeError):
    pass


def test_failed_dxf_write_leaves_no_file(tmp_path, monkeypatch):
    def broken(self, filename, *args, **kwargs):
        with open(filename, "w") as fh:
            fh.write("0\nSECTION\n")  # a truncated drawing
        raise _Boom("disk full")

    monkeypatch.setattr(ezdxf.document.Drawing, "saveas", broken)
    with pytest.raises(_Boom):
        outlines.write_dxf(box(0, 0, MM, MM), tmp_path / "a.dxf")
    assert list(tmp_path.iterdir()) == []


def test_failed_svg_write_keeps_the_old_file(tmp_path, monkeypatch):
    old = tmp_path / "a.svg"
    old.write_text("previous")

    def broken(self, text, *args, **kwargs):
        with open(self, "w") as fh:
            fh.write(text[:10])
        raise _Boom("disk full")

    monkeypatch.setattr(type(old), "write_text", broken)
    with pytest.raises(_Boom):
        outlines.write_svg(box(0, 0, MM, MM), old)
    assert old.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["a.svg"]
