"""PNG previews of exported geometry: the mask outline and the printed part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .files import atomic_path


def _figure_module() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def layout_png(geometry: shapely.Geometry, bounds: tuple[float, float, float, float],
               path: str | Path, *, title: str = "") -> Path:
    """Draw the solid regions (metres, shown in mm) with their holes; written atomically."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(6, 6))
    polygons = [geometry] if isinstance(geometry, shapely.Polygon) else list(
        getattr(geometry, "geoms", []))
    for polygon in polygons:
        # One compound path per polygon: shell and holes drawn with the even-odd rule.
        rings = [polygon.exterior, *polygon.interiors]
        vertices = np.concatenate([np.asarray(r.coords) * 1e3 for r in rings])
        codes = np.concatenate([[MplPath.MOVETO] + [MplPath.LINETO] * (len(r.coords) - 2)
                                + [MplPath.CLOSEPOLY] for r in rings])
        ax.add_patch(PathPatch(MplPath(vertices, codes), facecolor="#33415c",
                               edgecolor="#0b132b", linewidth=0.4))
    x0, y0, x1, y1 = (v * 1e3 for v in bounds)
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="0.6", linewidth=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(title or "exported outline", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)


def mesh_png(mesh: Any, path: str | Path, *, title: str = "") -> Path:
    """A shaded oblique view of a trimesh mesh (millimetres); written atomically."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    plt = _figure_module()
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    triangles = np.asarray(mesh.triangles)
    normals = np.asarray(mesh.face_normals)
    light = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
    colours = np.c_[0.25 * shade, 0.45 * shade, 0.75 * shade, np.ones_like(shade)]
    ax.add_collection3d(Poly3DCollection(triangles, facecolors=colours, linewidths=0))
    lo, hi = np.asarray(mesh.bounds)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect((hi - lo) + 1e-9)
    ax.view_init(elev=35, azim=-60)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_zlabel("z (mm)")
    ax.set_title(title or "printed part", fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)


def write_previews(out: Path, design: Any, pitch: float, mesh_path: Path | None = None
                   ) -> dict[str, Path]:
    """``layout.png`` (exact outline of ``design`` at ``pitch``) and, given a mesh, ``mesh.png``."""
    from .geometry import cell_polygons

    rows, cols = design.shape
    shapes = cell_polygons(design.binary, pitch)
    written = {"layout_png": layout_png(shapes, (0.0, 0.0, cols * pitch, rows * pitch),
                                        out / "layout.png",
                                        title=f"{design.name}: {len(getattr(shapes, 'geoms', []))}"
                                        " polygons")}
    if mesh_path is not None:
        from .meshes import read_mesh

        written["mesh_png"] = mesh_png(read_mesh(mesh_path), out / "mesh.png",
                                       title=f"{design.name}: {mesh_path.name}")
    return written
