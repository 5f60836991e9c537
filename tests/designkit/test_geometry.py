"""Raster ↔ geometry conversion: orientation, exact round trips, smooth contours, clean-up."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage
from shapely import affinity

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.geometry import (
    cell_polygons,
    contour_polygons,
    coverage,
    polygon_stats,
    simplify,
    snap_to_grid,
)


def reference_coverage(
    geometry: shapely.Geometry, shape: tuple[int, int], pitch: float
) -> np.ndarray:
    """Brute force: intersect every cell box with the geometry."""
    rows, cols = shape
    r, c = np.mgrid[0:rows, 0:cols]
    boxes = shapely.box(c * pitch, (rows - 1 - r) * pitch, (c + 1) * pitch, (rows - r) * pitch)
    return shapely.area(shapely.intersection(boxes, geometry)) / pitch**2


def cell_centres(shape: tuple[int, int], pitch: float) -> np.ndarray:
    rows, cols = shape
    r, c = np.mgrid[0:rows, 0:cols]
    return shapely.points((c + 0.5) * pitch, (rows - r - 0.5) * pitch)


def assert_oriented(geometry: shapely.MultiPolygon) -> None:
    for polygon in geometry.geoms:
        assert polygon.exterior.is_ccw
        assert not any(ring.is_ccw for ring in polygon.interiors)


# --------------------------------------------------------------------------------------------
# cell_polygons


def test_single_cell_lies_where_the_image_shows_it():
    a = np.zeros((3, 4), dtype=bool)
    a[0, 0] = True
    result = cell_polygons(a, pitch=2.0)
    assert isinstance(result, shapely.MultiPolygon)
    assert len(result.geoms) == 1
    assert result.geoms[0].normalize().equals_exact(shapely.box(0, 4, 2, 6).normalize(), 0)


def test_not_transposed():
    a = np.zeros((2, 3), dtype=bool)
    a[1, 2] = True  # bottom right
    assert cell_polygons(a, 0.5).bounds == (1.0, 0.0, 1.5, 0.5)


def test_empty_and_full():
    assert cell_polygons(np.zeros((3, 2), dtype=bool)).is_empty
    assert isinstance(cell_polygons(np.zeros((3, 2))), shapely.MultiPolygon)
    full = cell_polygons(np.ones((3, 2)), 0.5)
    assert polygon_stats(full) == {"polygons": 1, "holes": 0, "vertices": 4, "area": 1.5}


@pytest.mark.parametrize(
    ("pattern", "polygons", "holes"),
    [
        pytest.param([[1, 0], [0, 1]], 2, 0, id="checkerboard"),
        pytest.param([[0, 1], [1, 0]], 2, 0, id="anti-checkerboard"),
        pytest.param([[1, 1, 1], [1, 0, 1], [1, 1, 1]], 1, 1, id="ring"),
        # A pocket whose mouth is one diagonal point: a hole touching its shell.
        pytest.param([[1, 1, 1], [1, 0, 1], [1, 1, 0]], 1, 1, id="pocket"),
        # Two holes meeting at a corner.
        pytest.param(
            [[1, 1, 1, 1], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]], 1, 2, id="holes-touch"
        ),
        # An island inside a hole, touching the hole's edge at a corner.
        pytest.param(
            [[1, 1, 1, 1, 1], [1, 1, 0, 0, 1], [1, 0, 1, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]],
            2,
            1,
            id="island-touches-hole",
        ),
    ],
)
def test_hand_made_topologies(pattern, polygons, holes):
    a = np.array(pattern, dtype=bool)
    result = cell_polygons(a, 0.25)
    assert result.is_valid, shapely.is_valid_reason(result)
    stats = polygon_stats(result)
    assert (stats["polygons"], stats["holes"]) == (polygons, holes)
    assert stats["area"] == pytest.approx(a.sum() * 0.25**2, rel=1e-12)
    assert_oriented(result)


@st.composite
def designs(draw) -> np.ndarray:
    """Random patterns (holes, diagonal contacts) and nested square rings (islands in holes)."""
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["random", "rings", "checker"]))
    noise = draw(hnp.arrays(np.bool_, (rows, cols)))
    if kind == "random":
        return noise
    r, c = np.mgrid[0:rows, 0:cols]
    if kind == "rings":
        base = np.minimum(np.minimum(r, c), np.minimum(rows - 1 - r, cols - 1 - c)) % 2 == 0
        flips = noise & draw(hnp.arrays(np.bool_, (rows, cols)))  # sparse: 1 in 4
    else:
        base = (r + c) % 2 == 0
        flips = (
            noise
            & draw(hnp.arrays(np.bool_, (rows, cols)))
            & draw(hnp.arrays(np.bool_, (rows, cols)))
        )
    return base ^ flips


@settings(max_examples=100, deadline=None)
@given(binary=designs(), pitch=st.sampled_from([1.0, 0.3, 2.5, 1.7e-7]))
def test_cells_round_trip_exactly(binary, pitch):
    result = cell_polygons(binary, pitch)
    assert result.is_valid, shapely.is_valid_reason(result)
    assert_oriented(result)
    np.testing.assert_allclose(coverage(result, binary.shape, pitch), binary, rtol=0, atol=1e-9)
    assert result.area == pytest.approx(binary.sum() * pitch**2, rel=1e-12, abs=0)
    _, components = ndimage.label(binary)  # 4-connected: diagonal cells are separate polygons
    assert len(result.geoms) == components


# --------------------------------------------------------------------------------------------
# coverage


def _rotated_frame() -> shapely.Geometry:
    frame = shapely.box(-3.1, -2.0, 25.3, 11.7).difference(shapely.Point(10, 5).buffer(4))
    return affinity.rotate(frame, 17, origin=(10, 5))


@pytest.mark.parametrize(
    ("geometry", "pitch"),
    [
        pytest.param(_rotated_frame(), 1.0, id="rotated-frame-beyond-the-array"),
        pytest.param(shapely.box(3.21, 4.02, 3.48, 4.31), 0.7, id="inside-one-cell"),
        pytest.param(shapely.Point(9.1, 6.3).buffer(5.2), 0.7, id="disc"),
        pytest.param(shapely.box(100, 100, 101, 101), 1.0, id="outside"),
        pytest.param(shapely.box(-5, 30, 50, 40), 1.0, id="above-the-array"),
    ],
)
def test_coverage_matches_cell_intersections(geometry, pitch):
    shape = (17, 23)
    geometry = shapely.MultiPolygon([geometry]) if geometry.geom_type == "Polygon" else geometry
    ours = coverage(geometry, shape, pitch)
    assert ours.dtype == np.float64 and ours.shape == shape
    np.testing.assert_allclose(ours, reference_coverage(geometry, shape, pitch), atol=1e-9)


def test_coverage_of_contours_matches_cell_intersections():
    field = ndimage.gaussian_filter(np.random.default_rng(3).standard_normal((25, 31)), 2.0)
    region = contour_polygons(field, 0.0, 0.4)
    np.testing.assert_allclose(
        coverage(region, field.shape, 0.4), reference_coverage(region, field.shape, 0.4), atol=1e-9
    )


# --------------------------------------------------------------------------------------------
# contour_polygons


def _distance_field(shape, centre, pitch):
    rows, cols = shape
    r, c = np.mgrid[0:rows, 0:cols]
    return np.hypot((c + 0.5) * pitch - centre[0], (rows - r - 0.5) * pitch - centre[1])


def test_disc_contour_is_a_circle():
    pitch, radius, centre = 0.5, 10 * 0.5, (20.3 * 0.5, 19.7 * 0.5)
    region = contour_polygons(radius - _distance_field((40, 40), centre, pitch), 0.0, pitch)
    assert region.is_valid
    assert polygon_stats(region)["polygons"] == 1 and polygon_stats(region)["holes"] == 0
    assert region.area == pytest.approx(math.pi * radius**2, rel=0.01)
    xy = shapely.get_coordinates(region)
    error = np.abs(np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1]) - radius) / pitch
    assert error.max() < 0.05  # cells; measured ≈ 0.01
    assert_oriented(region)


def test_annulus_contour_has_one_hole():
    field = 4 - np.abs(_distance_field((40, 40), (19.6, 20.2), 1.0) - 12)
    region = contour_polygons(field, 0.0)
    assert region.is_valid
    assert (polygon_stats(region)["polygons"], polygon_stats(region)["holes"]) == (1, 1)
    assert region.area == pytest.approx(math.pi * (16**2 - 8**2), rel=0.01)


def test_contour_trivial_fields():
    assert contour_polygons(np.zeros((5, 6)), 0.5).is_empty
    full = contour_polygons(np.ones((5, 6)), 0.5, pitch=2.0)
    assert full.normalize().equals_exact(
        shapely.MultiPolygon([shapely.box(0, 0, 12, 10)]).normalize(), 1e-12
    )


@pytest.mark.parametrize(
    ("seed", "level", "pitch"), [(0, 0.0, 1.0), (1, 0.05, 0.25), (2, -0.03, 3.0)]
)
def test_random_contours_follow_the_samples(seed, level, pitch):
    field = ndimage.gaussian_filter(np.random.default_rng(seed).standard_normal((30, 34)), 2.5)
    field /= np.abs(field).max()
    region = contour_polygons(field, level, pitch)
    assert region.is_valid
    rows, cols = field.shape

    # Away from the contour, a cell is mostly covered exactly when its centre sample is high.
    near = shapely.distance(cell_centres(field.shape, pitch), region.boundary) < 0.5 * pitch
    covered = coverage(region, field.shape, pitch) > 0.5
    assert (~near).sum() > 0.5 * field.size
    assert np.array_equal(covered[~near], (field > level)[~near])

    # Every contour vertex (not on the clipping rectangle) is where the bilinear interpolant
    # of the samples equals the level; beyond the outer centres the edge values repeat.
    xy = shapely.get_coordinates(region)
    on_edge = (
        (np.abs(xy[:, 0]) < 1e-9)
        | (np.abs(xy[:, 0] - cols * pitch) < 1e-9)
        | (np.abs(xy[:, 1]) < 1e-9)
        | (np.abs(xy[:, 1] - rows * pitch) < 1e-9)
    )
    xy = xy[~on_edge]
    assert len(xy) > 50
    value = ndimage.map_coordinates(
        field, [rows - xy[:, 1] / pitch - 0.5, xy[:, 0] / pitch - 0.5], order=1, mode="nearest"
    )
    np.testing.assert_allclose(value, level, rtol=0, atol=1e-6)


def test_contour_clipped_to_mask():
    field = ndimage.gaussian_filter(np.random.default_rng(4).standard_normal((20, 20)), 2.0)
    mask = np.zeros(field.shape, dtype=bool)
    mask[3:15, 5:18] = True
    mask[8:10, 9:12] = False
    region = contour_polygons(field, 0.0, 0.5, mask=mask)
    assert region.is_valid and not region.is_empty
    assert region.difference(cell_polygons(mask, 0.5)).area < 1e-12
    whole = contour_polygons(field, 0.0, 0.5)
    assert region.area == pytest.approx(
        whole.intersection(cell_polygons(mask, 0.5)).area, rel=1e-12
    )


# --------------------------------------------------------------------------------------------
# simplify, snap_to_grid, polygon_stats


def test_simplify():
    region = contour_polygons(
        ndimage.gaussian_filter(np.random.default_rng(5).standard_normal((40, 40)), 3.0), 0.0
    )
    assert simplify(region, 0).area == pytest.approx(region.area, rel=1e-12)
    stairs = cell_polygons(np.tril(np.ones((12, 12), dtype=bool)))
    smooth = simplify(stairs, 0.75)
    assert isinstance(smooth, shapely.MultiPolygon) and smooth.is_valid
    assert polygon_stats(smooth)["vertices"] < polygon_stats(stairs)["vertices"]
    assert polygon_stats(simplify(stairs, 0))["vertices"] == polygon_stats(stairs)["vertices"]


def test_snap_refuses_to_merge_polygons():
    grid = 0.1
    pair = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(1 + grid / 10, 0, 2, 1)])
    with pytest.raises(DesignValueError, match=r"1 place.*merge at \(1, 0\.5\)"):
        snap_to_grid(pair, grid)


@pytest.mark.parametrize(
    ("geometry", "problem"),
    [
        pytest.param(shapely.box(0.3, 0.3, 0.33, 0.34), "vanishes", id="vanish"),
        pytest.param(
            shapely.box(0, 0, 1, 1).difference(shapely.box(0.5, 0.5, 0.52, 0.51)),
            "hole at .* closes",
            id="hole-closes",
        ),
        pytest.param(
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(1.04, 1.04, 2, 2)]),
            "start to touch",
            id="new-corner-contact",
        ),
    ],
)
def test_snap_refuses_topology_changes(geometry, problem):
    with pytest.raises(DesignValueError, match=problem):
        snap_to_grid(geometry, 0.1)


def test_accepted_snap_keeps_counts_and_is_idempotent():
    region = contour_polygons(
        ndimage.gaussian_filter(np.random.default_rng(6).standard_normal((40, 40)), 3.0),
        0.0,
        pitch=1e-6,
    )
    snapped = snap_to_grid(region, 1e-9)
    assert isinstance(snapped, shapely.MultiPolygon) and snapped.is_valid
    before, after = polygon_stats(region), polygon_stats(snapped)
    assert (after["polygons"], after["holes"]) == (before["polygons"], before["holes"])
    xy = shapely.get_coordinates(snapped) / 1e-9
    np.testing.assert_allclose(xy, np.round(xy), atol=1e-6)
    again = snap_to_grid(snapped, 1e-9)
    assert again.normalize().equals_exact(snapped.normalize(), 0)
    single = snap_to_grid(shapely.box(0.01, 0.02, 1.04, 0.98), 0.1)
    assert single.geom_type == "Polygon" and single.equals(shapely.box(0, 0, 1, 1))


def test_polygon_stats_of_a_ring():
    ring = np.ones((3, 3), dtype=bool)
    ring[1, 1] = False
    assert polygon_stats(cell_polygons(ring, 2.0)) == {
        "polygons": 1,
        "holes": 1,
        "vertices": 8,
        "area": 32.0,
    }
    assert polygon_stats(shapely.MultiPolygon()) == {
        "polygons": 0,
        "holes": 0,
        "vertices": 0,
        "area": 0.0,
    }


# --------------------------------------------------------------------------------------------
# Bad input

_square = shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        pytest.param(lambda: cell_polygons(np.ones((2, 2)), pitch=0), "pitch", id="pitch-0"),
        pytest.param(lambda: cell_polygons(np.ones((2, 2)), pitch=-1.0), "pitch", id="pitch-neg"),
        pytest.param(
            lambda: cell_polygons(np.ones((2, 2)), pitch=math.inf), "pitch", id="pitch-inf"
        ),
        pytest.param(lambda: cell_polygons(np.ones((2, 2)), pitch="1"), "pitch", id="pitch-str"),
        pytest.param(lambda: cell_polygons(np.ones((2, 2, 2))), "binary", id="3d"),
        pytest.param(lambda: cell_polygons(np.array([[0.0, 0.7]])), "binary", id="not-binary"),
        pytest.param(lambda: contour_polygons(np.ones(4)), "field", id="field-1d"),
        pytest.param(lambda: contour_polygons(np.full((2, 2), np.nan)), "field", id="field-nan"),
        pytest.param(lambda: contour_polygons(np.ones((2, 2)), math.nan), "level", id="level-nan"),
        pytest.param(
            lambda: contour_polygons(np.ones((2, 2)), pitch=0), "pitch", id="contour-pitch"
        ),
        pytest.param(
            lambda: contour_polygons(np.ones((2, 2)), mask=np.ones((2, 3), dtype=bool)),
            "mask",
            id="mask-shape",
        ),
        pytest.param(lambda: simplify(_square, -0.1), "tolerance", id="tolerance-neg"),
        pytest.param(lambda: simplify(_square, math.nan), "tolerance", id="tolerance-nan"),
        pytest.param(lambda: simplify("square", 0.1), "geometry", id="simplify-not-geometry"),
        pytest.param(lambda: snap_to_grid(_square, 0), "grid", id="grid-0"),
        pytest.param(
            lambda: snap_to_grid(shapely.LineString([(0, 0), (1, 1)]), 0.1),
            "geometry",
            id="snap-line",
        ),
        pytest.param(
            lambda: snap_to_grid(shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), 0.1),
            "geometry",
            id="snap-invalid",
        ),
        pytest.param(lambda: coverage(_square, (2,)), "shape", id="shape-1d"),
        pytest.param(lambda: coverage(_square, (2, 2.5)), "shape", id="shape-float"),
        pytest.param(lambda: coverage(_square, (2, 2), pitch=0), "pitch", id="coverage-pitch"),
        pytest.param(
            lambda: coverage(shapely.Point(0, 0), (2, 2)), "geometry", id="coverage-point"
        ),
        pytest.param(lambda: polygon_stats(None), "geometry", id="stats-none"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(DesignValueError, match=rf"^{name}\b|\b{name} "):
        call()
    assert issubclass(DesignValueError, ValueError)


def test_outline_xy_draws_every_ring_once_with_breaks():
    from wavefab.designkit.geometry import outline_xy

    ring = np.ones((5, 5), bool)
    ring[2, 2] = False
    x, y = outline_xy(cell_polygons(ring, 1.0))
    breaks = np.flatnonzero(np.isnan(x))
    assert len(breaks) == 2 and breaks[-1] == len(x) - 1  # shell and hole, each closed
    assert np.array_equal(np.isnan(x), np.isnan(y))
    shell = np.c_[x[:breaks[0]], y[:breaks[0]]]
    assert (shell[0] == shell[-1]).all() and {tuple(p) for p in shell} >= {(0, 0), (5, 5)}
    hole = np.c_[x[breaks[0] + 1:breaks[1]], y[breaks[0] + 1:breaks[1]]]
    assert {tuple(p) for p in hole} == {(2, 2), (3, 2), (3, 3), (2, 3)}
    assert [len(v) for v in outline_xy(cell_polygons(np.zeros((3, 3), bool)))] == [0, 0]
