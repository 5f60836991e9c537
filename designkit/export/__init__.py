"""Fab hand-off and the way back: masks, meshes and outlines of a design, and files as rasters.

:func:`load_design` reads a results folder, :func:`export_design` (:mod:`.writer`) writes its
files, :func:`import_raster` (:mod:`.reader`) reads a file back onto the grid. The formats are
:mod:`.layout` (GDSII/OASIS), :mod:`.meshes` (STL/3MF/OBJ) and :mod:`.outlines` (DXF/SVG);
:mod:`.ports` places a printed part's port holes and checks its plates.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["formats", "layout", "meshes", "outlines", "ports", "reader", "writer"],
    submod_attrs={
        "formats": ["FORMATS", "MESH_FORMATS", "Mode", "output_kind"],
        "ports": ["plate_report", "port_openings"],
        "reader": ["Design", "FileRaster", "design_from_arrays", "file_raster", "file_shape",
                   "import_raster", "load_design", "recorded_pitch"],
        "writer": ["ExportReport", "ExportSettings", "describe_export", "design_geometry",
                   "export_design", "preview_png", "write_previews"],
    },
)
