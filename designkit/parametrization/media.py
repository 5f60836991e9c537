"""What a design is made of, for the two physics a problem can run with.

* ``scalar`` (the reference model; lithographic devices): the material changes the wave speed,
  ``c = c0 + (c1 − c0)·ρ`` (:class:`~wavefab.designkit.parametrization.LinearSpeed`).
* ``acoustic`` (3D-printed parts in air): the material is a rigid solid in the fluid
  (:class:`RigidSolid`), simulated with :func:`wavefab.solver.propagate_acoustic`.

In the acoustic physics a plain speed map still means "fluid of that speed" (``1/ρ = c²``,
``K = 1`` in the problems' normalized units), so references and backgrounds need no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ..errors import DesignValueError

Physics = Literal["scalar", "acoustic"]
Interpolation = Literal["density", "impedance"]


@dataclass(frozen=True, eq=False)
class AcousticMedium:
    """``1/ρ`` and ``K`` maps, ``(ny, nx)`` or ``(B, ny, nx)``.

    In the problems' normalized units a fluid of speed ``c`` has ``1/ρ = c²`` and ``K = 1``.
    """

    inv_density: Tensor
    bulk_modulus: Tensor

    @classmethod
    def fluid(cls, speed: Tensor) -> AcousticMedium:
        """A fluid whose sound speed is ``speed`` everywhere it is given."""
        return cls(speed * speed, torch.ones_like(speed))

    def sound_speed(self) -> Tensor:
        """``√(K/ρ)`` (for maps and plots)."""
        return torch.sqrt(self.bulk_modulus * self.inv_density)


Medium = Tensor | AcousticMedium


def sound_speed(medium: Medium) -> Tensor:
    """The wave-speed map of either kind of medium."""
    return medium.sound_speed() if isinstance(medium, AcousticMedium) else medium


@dataclass(frozen=True)
class RigidSolid:
    """Density → acoustic medium: fluid of speed ``c0`` at ρ = 0, a rigid solid at ρ = 1.

    ``1/ρ`` is interpolated linearly from the fluid's ``c0²`` to ``c0²/contrast`` (the usual
    acoustic topology-optimization law; Wadbro & Berggren 2006); ``K`` stays the fluid's, so
    the solid is sound-hard without a smaller time step (see
    :func:`wavefab.solver.rigid_stand_in`).

    ``contrast_schedule`` (continuation): ``(first_epoch, contrast)`` pairs; during training the
    solid has the contrast of the last pair whose epoch has begun (``contrast`` before the first
    and whenever there is none). A soft solid first (contrast 4 is the reference's half-speed
    material, with an impedance step) lets the design form where a rigid wall's gradient is
    nearly all-or-nothing; the made part is always evaluated at ``contrast``.

    ``interpolation`` says what the density changes:

    * ``"density"``: ``1/ρ`` alone, ``K`` stays the fluid's. The solid is slow
      (``c0/√contrast``) with impedance ``√contrast`` × the fluid's, so at a soft contrast a
      design can work by refraction through solid that a rigid wall does not let through.
    * ``"impedance"``: ``K = c0²/(1/ρ)`` with the same ``1/ρ``, so the speed is ``c0``
      everywhere and only the impedance changes (``contrast`` × the fluid's in the solid): at
      every contrast the solid can only reflect, as the printed wall does. The problems'
      2nd-order stencil keeps its time step (a face between a stiff and a soft cell at most
      doubles the operator's largest eigenvalue); the solver's 4th-order stencil reaches
      past that face, and its stability check refuses the step.
    """

    c0: float = 1.0
    contrast: float = 1e4
    contrast_schedule: tuple[tuple[int, float], ...] = ()
    interpolation: Interpolation = "density"

    def __post_init__(self) -> None:
        if not self.c0 > 0:
            raise DesignValueError(f"the fluid's speed must be positive, got c0={self.c0}")
        if not self.contrast > 1:
            raise DesignValueError(f"acoustic.contrast must exceed 1, got {self.contrast}")
        firsts = [first for first, _ in self.contrast_schedule]
        if (firsts != sorted(set(firsts)) or any(first < 0 for first in firsts)
                or any(not value > 1 for _, value in self.contrast_schedule)):
            raise DesignValueError(
                "acoustic.contrast_schedule must be (first_epoch, contrast) pairs with increasing "
                f"epochs ≥ 0 and contrasts > 1, got {self.contrast_schedule!r}; "
                "e.g. [[0, 4], [6, 100], [10, 10000]]")
        if self.interpolation not in ("density", "impedance"):
            raise DesignValueError(f"acoustic.interpolation must be 'density' or 'impedance', "
                                   f"got {self.interpolation!r}")

    def at_epoch(self, epoch: int) -> RigidSolid:
        """The solid trained with in ``epoch`` (this one where the schedule does not apply)."""
        contrast = self.contrast
        for first, value in self.contrast_schedule:
            if epoch >= first:
                contrast = value
        return (self if contrast == self.contrast
                else RigidSolid(self.c0, contrast, interpolation=self.interpolation))

    def __call__(self, density: Tensor) -> AcousticMedium:
        """The medium for ``density`` (same shape)."""
        # (1 − ρ) + ρ/contrast, not 1 − (1 − 1/contrast)·ρ: exact at ρ = 1 in float32
        share = (1.0 - density) + density / self.contrast
        inv = self.c0 * self.c0 * share
        bulk = 1.0 / share if self.interpolation == "impedance" else torch.ones_like(inv)
        return AcousticMedium(inv, bulk)
