"""Speed of the mesh and outline exports for a 140×140-cell design at a 0.5 mm pitch.

Run from the project root::

    python bench/meshes.py

Two designs: ``blobs`` (smoothed noise thresholded at its median, like an optimized design:
~30 islands, a few corner contacts) and ``pixels`` (independent random cells, the worst case:
thousands of corner contacts to weld and one-cell features). Geometry is the union of the solid
runs of each row (a stand-in for :mod:`wavefab.designkit.geometry`). Each line: best of 3 runs,
seconds, and the file size where a file is written. Walls 2 mm, base plate 1 mm, frame 2 mm.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from scipy import ndimage

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import meshes, outlines

N = 140
PITCH = 0.5e-3
HEIGHT, BASE, FRAME = 2e-3, 1e-3, 2e-3


def best(fn, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def geometry_of(cells: np.ndarray) -> shapely.Geometry:
    boxes = []
    for row, line in enumerate(cells):
        padded = np.r_[False, line, False].astype(np.int8)
        starts = np.flatnonzero(np.diff(padded) == 1)
        stops = np.flatnonzero(np.diff(padded) == -1)
        boxes += [
            shapely.box(a * PITCH, row * PITCH, b * PITCH, (row + 1) * PITCH)
            for a, b in zip(starts, stops, strict=True)
        ]
    return shapely.union_all(boxes)


def line(name: str, seconds: float, extra: str = "") -> None:
    print(f"  {name:<40}{seconds:>9.3f} s  {extra}")


def run(name: str, cells: np.ndarray, folder: Path) -> None:
    bounds = (0.0, 0.0, N * PITCH, N * PITCH)
    t, geometry = best(lambda: geometry_of(cells))
    parts = len(getattr(geometry, "geoms", [geometry]))
    rings = sum(1 + len(p.interiors) for p in getattr(geometry, "geoms", [geometry]))
    print(f"{name}: {N}×{N} cells, fill {cells.mean():.2f}, {parts} polygons, {rings} rings")
    line("raster → polygons (row runs, union)", t)
    t, plain = best(lambda: meshes.extrude(geometry, HEIGHT))
    report = meshes.mesh_report(plain)
    line(
        "extrude (walls only)",
        t,
        f"{report['triangles']} triangles, {report['bodies']} bodies, "
        f"{report['welded_pinches']} welds, watertight {report['watertight']}",
    )
    t, plated = best(lambda: meshes.extrude(geometry, HEIGHT, base=BASE, bounds=bounds))
    line("extrude + base plate", t, f"{len(plated.faces)} triangles")
    t, mesh = best(lambda: meshes.extrude(geometry, HEIGHT, base=BASE, frame=FRAME, bounds=bounds))
    report = meshes.mesh_report(mesh)
    line(
        "extrude + base plate + frame",
        t,
        f"{report['triangles']} triangles, {report['bodies']} body, "
        f"watertight {report['watertight']}",
    )
    t, _ = best(lambda: meshes.mesh_report(meshes.extrude(geometry, HEIGHT)), repeats=1)
    line("extrude + mesh_report (fresh mesh)", t)
    for suffix in meshes.MESH_SUFFIXES:
        path = folder / f"{name}{suffix}"
        t, _ = best(lambda path=path: meshes.write_mesh(mesh, path))
        line(f"write_mesh {suffix}", t, f"{path.stat().st_size / 1e6:.2f} MB")
        t, back = best(lambda path=path: meshes.read_mesh(path))
        line(f"read_mesh {suffix}", t, f"watertight {back.is_watertight}")
    t, cut = best(lambda: meshes.section(plain, HEIGHT / 2))
    line(
        "section at mid-height",
        t,
        f"XOR/area {cut.symmetric_difference(geometry).area / geometry.area:.1e}",
    )
    for rule, measure in ((0.5e-3, False), (0.5e-3, True), (1e-3, False)):
        t0 = time.perf_counter()
        try:
            result = meshes.check_printable(geometry, rule, rule, measure=measure)
            verdict = "passes"
            if measure:
                verdict += (
                    f", thinnest wall {result['thinnest_wall_mm']:.3f} mm, "
                    f"narrowest hole {result['narrowest_hole_mm']:.3f} mm"
                )
        except DesignValueError as exc:
            verdict = f"refused: {str(exc)[:70]}…"
        how = "measured" if measure else "rules only"
        line(f"check_printable {rule * 1e3:g} mm, {how}", time.perf_counter() - t0, verdict)
    t, _ = best(lambda: outlines.write_dxf(geometry, folder / f"{name}.dxf"))
    line("write_dxf", t, f"{(folder / f'{name}.dxf').stat().st_size / 1e6:.2f} MB")
    t, back = best(lambda: outlines.read_dxf(folder / f"{name}.dxf"))
    line("read_dxf", t, f"XOR/area {back.symmetric_difference(geometry).area / geometry.area:.1e}")
    t, _ = best(lambda: outlines.write_svg(geometry, folder / f"{name}.svg", bounds=bounds))
    line("write_svg", t, f"{(folder / f'{name}.svg').stat().st_size / 1e6:.2f} MB")


def main() -> None:
    rng = np.random.default_rng(0)
    noise = ndimage.gaussian_filter(rng.standard_normal((N, N)), 2.0)
    designs = {"blobs": noise > np.median(noise), "pixels": rng.random((N, N)) < 0.5}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cells in designs.items():
            run(name, cells, Path(tmp))


if __name__ == "__main__":
    main()
