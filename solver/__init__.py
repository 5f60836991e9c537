"""Differentiable wave physics on torch: scalar and acoustic waves, boundaries, sources, probes.

Knows nothing of fabrication or GUIs. The public API::

    from wavefab.solver import (Grid, DampingLayer, PML, PointSource, LineSource, PointProbe,
                                propagate, propagate_acoustic, material, rigid_stand_in)
"""

from .acoustic import propagate_acoustic
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
from .materials import MATERIALS, AcousticMaterial, material, rigid_stand_in
from .probes import PointProbe, RegionProbe
from .scalar import Nonlinearity, PropagationResult, propagate, source_band
from .sources import LineSource, MaskSource, PointSource
from .threads import set_num_threads
from .waveforms import ricker

__all__ = [
    "MATERIALS",
    "PML",
    "AcousticMaterial",
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
    "material",
    "propagate",
    "propagate_acoustic",
    "ricker",
    "rigid_stand_in",
    "set_num_threads",
    "source_band",
]
