"""The file formats wavefab writes and reads, told apart by their suffixes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..errors import DesignValueError

__all__ = ["FORMATS", "LAYOUT_FORMATS", "MESH_FORMATS", "Mode", "output_kind"]

#: How a design becomes outlines: ``exact`` cell outlines or the ``smooth`` η contour.
Mode = Literal["exact", "smooth"]
#: Output kinds and the suffixes each accepts.
FORMATS = {"gds": (".gds",), "oas": (".oas",), "stl": (".stl",), "3mf": (".3mf",),
           "obj": (".obj",), "dxf": (".dxf",), "svg": (".svg",)}
#: The kinds that are masks and the kinds that are meshes.
LAYOUT_FORMATS = ("gds", "oas")
MESH_FORMATS = ("stl", "3mf", "obj")


def output_kind(path: str | Path) -> str:
    """The export format a path's suffix asks for (``"gds"``, ``"stl"`` …).

    Raises:
        DesignValueError: a suffix of no known format, listing the known ones.
    """
    suffix = Path(path).suffix.lower()
    for kind, suffixes in FORMATS.items():
        if suffix in suffixes:
            return kind
    known = ", ".join(s for v in FORMATS.values() for s in v)
    raise DesignValueError(f"cannot tell the format of {path}: suffix {suffix or '(none)'!r}; "
                           f"use one of {known}")
