"""What a canvas draws of a configuration: its setup, cheaply, at the project's pitch."""

from __future__ import annotations

from dataclasses import replace

from ..config import RunConfig
from ..problems.kind import Sketch
from ..problems.registry import problem_kind
from ..units import parse_length

__all__ = ["Sketch", "sketch"]


def sketch(config: RunConfig) -> Sketch:
    """The setup of ``config`` for drawing (cheap: no recordings are read).

    Raises:
        DesignValueError: a layout the problem cannot draw (the message names the field).
    """
    found = problem_kind(config.problem).sketch_of(config)
    pitch = config.fabrication.pitch
    return replace(found, pitch=parse_length(pitch, "fabrication.pitch")
                   if pitch is not None else None)
