"""A physical design rule on the simulation grid: the one derivation of "the rule in cells".

A rule of length ``L`` at a pitch ``p`` (the physical size of one cell) needs ``⌈L/p⌉`` cells: a
feature of fewer whole cells is narrower than ``L``. A rule below one cell is met by every
design, but the grid then cannot show what the process could make; :func:`rule_cells` says so
with a :class:`FabricationWarning`, and :func:`rule_at_pitch` gives the same figures and text to
reports that list such rules instead of warning.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from wavefab.solver import WavefabWarning

from ..errors import DesignValueError
from ..units import format_length
from .processes import Process

__all__ = ["FabricationWarning", "RuleAtPitch", "process_rule_cells", "rule_at_pitch",
           "rule_cells"]


class FabricationWarning(WavefabWarning):
    """A fabrication setting that will not do what it seems to (e.g. a rule below one cell)."""


@dataclass(frozen=True)
class RuleAtPitch:
    """A rule of ``length`` (m) on a grid of ``pitch`` (m) per cell.

    Attributes:
        what: the rule's name for messages (``"sla min width"``, ``"minimum feature"``).
        length: the rule (m).
        pitch: the cell size (m).
    """

    what: str
    length: float
    pitch: float

    @property
    def cells(self) -> float:
        """The rule in cells, unrounded."""
        return self.length / self.pitch

    @property
    def whole_cells(self) -> int:
        """The smallest whole number of cells that meets the rule (at least one)."""
        return max(1, math.ceil(self.cells - 1e-9))

    @property
    def below_one_cell(self) -> bool:
        """Whether the grid is coarser than the rule."""
        return self.cells < 1

    def warning(self) -> str:
        """The text that says what a rule below one cell means (see the module docstring)."""
        return (f"the {self.what} of {format_length(self.length)} is {self.cells:.2f} cell at a "
                f"pitch of {format_length(self.pitch)}: below one cell, every design meets it, "
                f"but below the grid's resolution what the process could make is lost; use a "
                f"pitch ≤ {format_length(self.length)} to use the process fully")


def rule_at_pitch(length: float, pitch: float, what: str) -> RuleAtPitch:
    """The rule ``length`` (m) at ``pitch`` (m per cell).

    Raises:
        DesignValueError: a length or pitch that is not positive and finite, naming ``what``.
    """
    for name, value in (("length", length), ("pitch", pitch)):
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            raise DesignValueError(f"the {what}'s {name} must be a positive length (m), got "
                                   f"{value!r}")
    return RuleAtPitch(what, float(length), float(pitch))


def rule_cells(length: float, pitch: float, what: str, *, stacklevel: int = 2) -> int:
    """The rule ``length`` (m) in whole cells at ``pitch``; warns when it is below one cell.

    Args:
        length: the rule (m).
        pitch: the cell size (m).
        what: the rule's name in the warning.
        stacklevel: passed to :func:`warnings.warn` (1 more than the caller's).

    Raises:
        DesignValueError: a non-positive length or pitch.
    """
    rule = rule_at_pitch(length, pitch, what)
    if rule.below_one_cell:
        warnings.warn(rule.warning(), FabricationWarning, stacklevel=stacklevel + 1)
    return rule.whole_cells


def process_rule_cells(process: Process, pitch: float, *, stacklevel: int = 2
                       ) -> tuple[int, int]:
    """A process's ``(min width, min space)`` in whole cells at ``pitch`` (:func:`rule_cells`)."""
    return (rule_cells(process.min_width, pitch, f"{process.name} min width",
                       stacklevel=stacklevel + 1),
            rule_cells(process.min_space, pitch, f"{process.name} min space",
                       stacklevel=stacklevel + 1))
