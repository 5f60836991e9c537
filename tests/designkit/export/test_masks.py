"""GDSII/OASIS masks: round trips, orientation, vertex limit, tone, metadata, bad input."""

from __future__ import annotations

import gdstk
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export.layout import GDS_MAX_POINTS, read_layout, write_layout
from wavefab.designkit.geometry import cell_polygons, coverage

PITCH = 0.25e-6  # 250 nm cells: a multiple of the 1 nm database unit


def _bounds(shape: tuple[int, int], pitch: float = PITCH) -> tuple[float, float, float, float]:
    return (0.0, 0.0, shape[1] * pitch, shape[0] * pitch)


def _ring() -> np.ndarray:
    """A ring with an island in its hole and a diagonal (corner-touching) neighbour."""
    b = np.zeros((9, 9), bool)
    b[1:8, 1:8] = True
    b[2:7, 2:7] = False
    b[4, 4] = True
    b[0, 0] = True  # touches the ring's corner at one point
    return b


@pytest.mark.parametrize("suffix", [".gds", ".oas"])
def test_round_trip_is_pixel_exact_with_holes_islands_and_corner_contacts(tmp_path, suffix):
    b = _ring()
    path = tmp_path / f"ring{suffix}"
    report = write_layout(
        cell_polygons(b, PITCH),
        path,
        name="ring",
        bounds=_bounds(b.shape),
        metadata={"pitch_m": PITCH, "shape": b.shape},
    )
    assert path.is_file() and report.polygons >= 3
    back = read_layout(path)
    assert back.layer == (1, 0) and back.cell == "ring"
    assert back.metadata["pitch_m"] == str(PITCH) and back.metadata["shape"] == "9 9"
    np.testing.assert_array_equal(coverage(back.geometry, b.shape, PITCH) > 0.5, b)
    np.testing.assert_allclose(coverage(back.geometry, b.shape, PITCH), b, atol=1e-9)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    arrays(bool, st.tuples(st.integers(1, 10), st.integers(1, 10))),
    st.sampled_from([".gds", ".oas"]),
)
def test_random_patterns_survive_the_file_exactly(tmp_path, b, suffix):
    if not b.any():
        return
    path = tmp_path / f"r{suffix}"
    write_layout(cell_polygons(b, PITCH), path, name="r", bounds=_bounds(b.shape))
    got = coverage(read_layout(path).geometry, b.shape, PITCH)
    np.testing.assert_allclose(got, b, atol=1e-9)


def test_orientation_row_zero_is_at_the_top(tmp_path):
    b = np.zeros((3, 4), bool)
    b[0, 0] = True
    path = tmp_path / "o.gds"
    write_layout(cell_polygons(b, 1e-6), path, name="o", bounds=_bounds(b.shape, 1e-6), label=False)
    lib = gdstk.read_gds(path)
    (poly,) = lib.top_level()[0].polygons
    lo, hi = poly.bounding_box()
    assert np.allclose(lo, (0, 2)) and np.allclose(hi, (1, 3))  # µm: x 0-1, y 2-3


def test_polygons_above_the_gds_vertex_limit_are_split(tmp_path):
    disc = shapely.Point(50e-6, 50e-6).buffer(40e-6, quad_segs=6000)  # 24 000 vertices
    assert len(disc.exterior.coords) > GDS_MAX_POINTS
    path = tmp_path / "big.gds"
    report = write_layout(disc, path, name="big", bounds=(0, 0, 100e-6, 100e-6), label=False)
    polys = gdstk.read_gds(path).top_level()[0].polygons
    assert len(polys) >= 3 and max(len(p.points) for p in polys) <= GDS_MAX_POINTS
    assert report.max_vertices <= GDS_MAX_POINTS
    back = read_layout(path).geometry
    assert abs(back.area - disc.area) <= 1e-6 * disc.area


def test_void_tone_frame_and_label(tmp_path):
    b = _ring()
    bounds = _bounds(b.shape)
    solid = cell_polygons(b, PITCH)
    path = tmp_path / "v.gds"
    write_layout(
        solid,
        path,
        name="v",
        bounds=bounds,
        tone="void",
        frame=2 * PITCH,
        layer=(7, 3),
        metadata={"pitch_m": PITCH, "shape": b.shape},
    )
    back = read_layout(path)
    assert back.layer == (7, 3) and back.metadata["tone"] == "void"
    area = shapely.box(*bounds)
    inside = back.geometry.intersection(area)
    assert abs(inside.area - (area.area - solid.area)) < 1e-6 * area.area
    frame = back.geometry.difference(area)
    outer = area.buffer(2 * PITCH, join_style="mitre")
    assert abs(frame.area - (outer.area - area.area)) < 1e-6 * area.area
    labels = gdstk.read_gds(path).top_level()[0].labels
    assert labels and labels[0].text.startswith("v pitch 0.25 um")


def test_klayout_reads_the_mask_and_finds_it_clean(tmp_path):
    db = pytest.importorskip("klayout.db")
    b = np.zeros((24, 24), bool)
    b[4:12, 4:20] = True  # 8 cells = 2 µm wide
    b[16:21, 4:20] = True  # 4 µm space between the bars
    path = tmp_path / "k.gds"
    write_layout(cell_polygons(b, PITCH), path, name="k", bounds=_bounds(b.shape))
    layout = db.Layout()
    layout.read(str(path))
    region = db.Region(layout.top_cell().begin_shapes_rec(layout.layer(1, 0)))
    dbu = layout.dbu  # µm
    assert abs(region.area() * dbu**2 - b.sum() * (PITCH * 1e6) ** 2) < 1e-9
    assert region.width_check(round(1.0 / dbu)).count() == 0  # ≥ 1 µm wide: clean
    assert region.space_check(round(1.0 / dbu)).count() == 0
    assert region.width_check(round(1.5 / dbu)).count() > 0  # the 1.25 µm bar fails 1.5


def test_bad_input_names_the_problem(tmp_path):
    b = _ring()
    shapes = cell_polygons(b, PITCH)
    with pytest.raises(DesignValueError, match="suffix"):
        write_layout(shapes, tmp_path / "x.txt", name="x", bounds=_bounds(b.shape))
    with pytest.raises(DesignValueError, match="all-void"):
        write_layout(shapely.MultiPolygon(), tmp_path / "x.gds", name="x", bounds=_bounds(b.shape))
    with pytest.raises(DesignValueError, match="all-solid"):
        write_layout(
            shapely.box(*_bounds(b.shape)),
            tmp_path / "x.gds",
            name="x",
            bounds=_bounds(b.shape),
            tone="void",
        )
    with pytest.raises(DesignValueError, match="tone"):
        write_layout(shapes, tmp_path / "x.gds", name="x", bounds=_bounds(b.shape), tone="grey")
    garbage = tmp_path / "garbage.gds"
    garbage.write_bytes(b"\x00\x06\x00\x02junk" * 10)
    with pytest.raises(DesignValueError, match="cannot read"):
        read_layout(garbage)
    with pytest.raises(DesignValueError, match="does not exist"):
        read_layout(tmp_path / "missing.oas")
    good = tmp_path / "g.gds"
    write_layout(shapes, good, name="g", bounds=_bounds(b.shape))
    with pytest.raises(DesignValueError, match="no shapes on layer 5/0"):
        read_layout(good, layer=(5, 0))


def test_a_failed_write_leaves_the_old_file_alone(tmp_path, monkeypatch):
    b = _ring()
    path = tmp_path / "keep.gds"
    write_layout(cell_polygons(b, PITCH), path, name="keep", bounds=_bounds(b.shape))
    before = path.read_bytes()

    real = gdstk.Library

    class DiskFull:  # a library whose write dies half way, as on a full disk
        def __init__(self, *args, **kwargs):
            self._lib = real(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self._lib, name)

        def write_gds(self, outfile, **kwargs):
            with open(outfile, "wb") as fh:
                fh.write(b"half a file")
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(gdstk, "Library", DiskFull)
    with pytest.raises(OSError):
        write_layout(cell_polygons(~b, PITCH), path, name="keep", bounds=_bounds(b.shape))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gds"]


@pytest.mark.parametrize("suffix", [".gds", ".oas"])
def test_two_holes_on_one_row_read_back_whole(tmp_path, suffix):
    """Found by the property test: the slits joining two holes on one row to the outline
    enclosed the strip between them, and the default repair dropped it."""
    b = np.ones((5, 9), bool)
    b[2, 5] = b[3, 1] = b[3, 6] = False
    path = tmp_path / f"holes{suffix}"
    write_layout(cell_polygons(b, PITCH), path, name="holes", bounds=_bounds(b.shape))
    np.testing.assert_allclose(coverage(read_layout(path).geometry, b.shape, PITCH), b,
                               atol=1e-9)
