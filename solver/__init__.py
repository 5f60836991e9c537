"""Differentiable wave physics on torch: scalar and acoustic waves, boundaries, sources, probes.

Knows nothing of fabrication or GUIs. The public API::

    from wavefab.solver import (Grid, DampingLayer, PML, PointSource, LineSource, PointProbe,
                                propagate, propagate_acoustic, material, rigid_stand_in)

The layout, from the top: :mod:`.scalar` and :mod:`.acoustic` hold the two propagators (public
entry points only); :mod:`.backends` steps what they set up; :mod:`._setup` validates the
inputs and builds the coefficients for both; below it sit the stencils (:mod:`.operators`) and
the grid, boundaries, sources, probes, waveforms, materials, threads and errors.
"""

from ._setup import Nonlinearity, PropagationResult
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
from .scalar import propagate
from .sources import LineSource, MaskSource, PointSource
from .threads import apply_environment as _apply_environment
from .threads import set_num_threads
from .waveforms import ricker, source_band

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

_apply_environment()
