"""Acoustic materials in SI units, and the stand-in a simulation uses for a rigid solid.

A printed solid in air reflects essentially all sound: its impedance ``ρc`` is ~10⁴ times the
air's. Simulating its real speed (2–3 km/s) would need a ~7× smaller time step for a field that
barely enters it, so :func:`rigid_stand_in` gives the solid the fluid's bulk modulus and a
``contrast``-fold density instead: the same sound-hard wall (the flux through a fluid–solid face
is ``~2/contrast`` of the fluid's), at the fluid's time step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import SolverValueError


@dataclass(frozen=True)
class AcousticMaterial:
    """A medium for :func:`~wavefab.solver.acoustic.propagate_acoustic`.

    Args:
        name: label.
        density: ρ (kg/m³).
        speed: speed of sound c (m/s).
    """

    name: str
    density: float
    speed: float

    def __post_init__(self) -> None:
        for key in ("density", "speed"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise SolverValueError(f"{self.name}: {key} must be a positive number, got "
                                       f"{value!r}")

    @property
    def bulk_modulus(self) -> float:
        """K = ρc² (Pa)."""
        return self.density * self.speed**2

    @property
    def inv_density(self) -> float:
        """1/ρ (m³/kg)."""
        return 1.0 / self.density

    @property
    def impedance(self) -> float:
        """Z = ρc (Pa·s/m, rayl)."""
        return self.density * self.speed


#: Common media (room temperature). Printed plastics are listed with their real values; the
#: simulation treats them as rigid (see :func:`rigid_stand_in`).
MATERIALS: dict[str, AcousticMaterial] = {m.name: m for m in (
    AcousticMaterial("air", 1.2, 343.0),
    AcousticMaterial("water", 998.0, 1481.0),
    AcousticMaterial("pla", 1240.0, 2220.0),
    AcousticMaterial("resin", 1180.0, 2500.0),
)}


def material(name: str) -> AcousticMaterial:
    """A material of :data:`MATERIALS` by name.

    Raises:
        SolverValueError: an unknown name (the message lists the known ones).
    """
    try:
        return MATERIALS[name]
    except KeyError:
        raise SolverValueError(f"unknown material {name!r}; choose one of "
                               f"{', '.join(MATERIALS)} or build an AcousticMaterial") from None


def rigid_stand_in(fluid: AcousticMaterial, contrast: float = 1e4) -> AcousticMaterial:
    """A sound-hard solid for simulations in ``fluid``: ``contrast`` × its density, same K.

    Its impedance is ``√contrast`` × the fluid's in the bulk, but what decides the reflection on
    the staggered grid is the face between them, whose ``1/ρ`` (the harmonic mean) is
    ``≈ 2/contrast`` of the fluid's: |R| ≥ 0.999 for a flat wall at ``contrast = 10⁴``.
    """
    if not (math.isfinite(contrast) and contrast > 1):
        raise SolverValueError(f"contrast must be a number above 1, got {contrast!r}")
    return AcousticMaterial(f"rigid (in {fluid.name})", fluid.density * contrast,
                            fluid.speed / math.sqrt(contrast))
