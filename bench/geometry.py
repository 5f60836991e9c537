"""Speed of raster ↔ geometry conversion at 400×400 (``wavefab.designkit.geometry``).

Run from the project root::

    python bench/geometry.py               # wavefab only (a few seconds)
    python bench/geometry.py --reference   # also plain shapely doing the same work

Patterns: ``random`` (each cell True with probability ½: ~10⁴ tiny polygons, the worst case)
and ``blob`` (Gaussian-filtered noise, σ = 4 cells, thresholded: a typical design). Best of 3
runs after a warm-up, seconds. The references: ``shapely.union_all`` of the row runs of True
cells as rectangles (for :func:`cell_polygons`) and, for :func:`coverage`, an STRtree of the
polygons: cells within one count 1, cells overlapping one add the area of their intersection
with it (one run each).
"""

from __future__ import annotations

import argparse

import numpy as np
import shapely
from scipy import ndimage
from timing import best

from wavefab.designkit.geometry import cell_polygons, contour_polygons, coverage, polygon_stats


def union_of_runs(binary: np.ndarray) -> shapely.Geometry:
    rows = binary.shape[0]
    padded = np.pad(binary, ((0, 0), (1, 1))).astype(np.int8)
    step = np.diff(padded, axis=1)
    r, c0 = np.nonzero(step == 1)
    _, c1 = np.nonzero(step == -1)
    return shapely.union_all(shapely.box(c0, rows - 1 - r, c1, rows - r))


def cell_intersections(geometry: shapely.Geometry, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    r, c = np.mgrid[0:rows, 0:cols]
    boxes = shapely.box(c, rows - 1 - r, c + 1, rows - r).ravel()
    # Intersect each cell only with the polygons whose outline it touches (an STRtree);
    # intersecting every box with the whole multipolygon takes minutes.
    parts = shapely.get_parts(geometry)
    tree = shapely.STRtree(parts)
    inside = tree.query(boxes, predicate="within")
    edge = tree.query(boxes, predicate="overlaps")
    area = np.bincount(inside[0], minlength=len(boxes)).astype(float)
    area += np.bincount(edge[0], shapely.area(shapely.intersection(boxes[edge[0]],
                                                                   parts[edge[1]])),
                        minlength=len(boxes))
    return area.reshape(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", action="store_true", help="also time plain shapely")
    args = parser.parse_args()

    n = 400
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.standard_normal((n, n)), 4.0)
    smooth /= np.abs(smooth).max()
    patterns = {"random": rng.random((n, n)) < 0.5, "blob": smooth > 0}
    print(f"{n}×{n}, seconds (best of 3)")
    for name, binary in patterns.items():
        cells = cell_polygons(binary)
        stats = polygon_stats(cells)
        print(f"{name}: {stats['polygons']} polygons, {stats['holes']} holes, "
              f"{stats['vertices']} vertices")
        print(f"  cell_polygons        {best(lambda b=binary: cell_polygons(b)):.4f}")
        print(f"  coverage(cells)      {best(lambda g=cells: coverage(g, (n, n))):.4f}")
        if args.reference:
            print(f"  ref union_all(runs)  {best(lambda b=binary: union_of_runs(b), 1):.4f}")
            print(f"  ref box ∩ geometry   "
                  f"{best(lambda g=cells: cell_intersections(g, (n, n)), 1):.4f}")
    region = contour_polygons(smooth, 0.0)
    stats = polygon_stats(region)
    print(f"contour of the blob field: {stats['polygons']} polygons, {stats['holes']} holes, "
          f"{stats['vertices']} vertices")
    print(f"  contour_polygons     {best(lambda: contour_polygons(smooth, 0.0)):.4f}")
    print(f"  coverage(contour)    {best(lambda: coverage(region, (n, n))):.4f}")
    if args.reference:
        print(f"  ref box ∩ geometry   "
              f"{best(lambda: cell_intersections(region, (n, n)), 1):.4f}")


if __name__ == "__main__":
    main()
