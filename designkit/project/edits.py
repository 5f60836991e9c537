"""Drawing edits: what the designer's mouse tools change, as ``(dotted key, new value)``.

Each function computes one edit of a configuration and changes nothing; the designer applies it
as one undoable step (and the configuration's validation may still refuse it, naming the
field). How a problem's layout is drawn is the problem's own (its
:class:`~wavefab.designkit.problems.kind.Drawing`); these functions find it and say so when the
problem has none.
"""

from __future__ import annotations

from typing import Any

from ..config import RunConfig, config_to_dict
from ..errors import DesignValueError
from ..problems.kind import Drawing
from ..problems.registry import problem_kind
from ..units import parse_length

__all__ = ["PORT_KINDS", "add_port", "delete_port", "move_port", "paint_region",
           "resize_domain"]

#: What the port tools place.
PORT_KINDS = ("source", "probe")


def _drawing(config: RunConfig) -> tuple[Drawing, dict[str, Any]]:
    """The problem's drawing and its section as a plain mapping."""
    kind = problem_kind(config.problem)
    if kind.drawing is None:
        raise DesignValueError(
            f"the {config.problem} layout follows its geometry settings and cannot be drawn; "
            "start from the blank template (problem: custom) to place ports and paint a region")
    return kind.drawing, config_to_dict(config)[kind.section]


def _check_kind(kind: str) -> None:
    if kind not in PORT_KINDS:
        raise DesignValueError(f"unknown port kind {kind!r}; choose one of {PORT_KINDS}")


def paint_region(config: RunConfig, shape: dict[str, Any]) -> tuple[str, Any]:
    """The edit that adds one paint stroke (a ``RegionShapeConfig`` mapping).

    The drawn problem appends the stroke; the lens takes a rectangle as its new region.

    Raises:
        DesignValueError: the problem's region cannot be painted this way.
    """
    drawing, section = _drawing(config)
    return drawing.paint(section, shape)


def add_port(config: RunConfig, kind: str, row: int, col: int) -> tuple[str, Any]:
    """The edit that places a new source or probe at cell ``(row, col)``.

    The lens has exactly one of each: placing one moves it.
    """
    _check_kind(kind)
    drawing, section = _drawing(config)
    return drawing.add_port(section, kind, row, col)


def move_port(config: RunConfig, kind: str, index: int, row: int, col: int) -> tuple[str, Any]:
    """The edit that moves source/probe number ``index`` to cell ``(row, col)``."""
    _check_kind(kind)
    drawing, section = _drawing(config)
    return drawing.move_port(section, kind, index, row, col)


def delete_port(config: RunConfig, kind: str, index: int) -> tuple[str, Any]:
    """The edit that removes source/probe number ``index`` (the last one of a kind stays)."""
    _check_kind(kind)
    drawing, section = _drawing(config)
    return drawing.delete_port(section, kind, index)


def resize_domain(config: RunConfig, width: float, height: float) -> tuple[str, Any]:
    """The edit that sets the grid to ``width`` × ``height`` (metres) at the project's pitch.

    Raises:
        DesignValueError: no ``fabrication.pitch`` to convert lengths to cells, or a size that
            is not positive.
    """
    if config.fabrication.pitch is None:
        raise DesignValueError("a domain size in physical units needs fabrication.pitch "
                               "(the size of one cell); set it first, or edit the shape in cells")
    if not (width > 0 and height > 0):
        raise DesignValueError(f"the domain size must be positive, got {width} × {height} m")
    key = problem_kind(config.problem).keys.get("shape")
    if key is None:
        raise DesignValueError(f"the {config.problem} problem has no grid shape to resize")
    pitch = parse_length(config.fabrication.pitch, "fabrication.pitch")
    return key, [max(1, round(height / pitch)), max(1, round(width / pitch))]
