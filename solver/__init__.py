"""Differentiable wave physics on torch: the scalar wave equation, boundaries, sources, probes.

Knows nothing of fabrication or GUIs. The public API::

    from wavefab.solver import (Grid, DampingLayer, PML, PointSource, LineSource, PointProbe,
                                propagate)
"""

from .boundaries import PML, DampingLayer
from .errors import (
    ResolutionWarning,
    SolverError,
    SolverTypeError,
    SolverValueError,
    StabilityError,
    WavefabWarning,
)
from .grid import Grid, courant_limit
from .probes import PointProbe, RegionProbe
from .scalar import Nonlinearity, PropagationResult, propagate, source_band
from .sources import LineSource, MaskSource, PointSource
from .threads import set_num_threads
from .waveforms import ricker

__all__ = [
    "PML",
    "DampingLayer",
    "Grid",
    "LineSource",
    "MaskSource",
    "Nonlinearity",
    "PointProbe",
    "PointSource",
    "PropagationResult",
    "RegionProbe",
    "ResolutionWarning",
    "SolverError",
    "SolverTypeError",
    "SolverValueError",
    "StabilityError",
    "WavefabWarning",
    "courant_limit",
    "propagate",
    "ricker",
    "set_num_threads",
    "source_band",
]
