"""What the optimizer must respect to make a design manufacturable.

A :class:`Fabrication` carries the minimum solid and void sizes (cells), the robust formulation
(eroded / nominal / dilated designs evaluated together, Wang, Lazarov & Sigmund 2011), and the
geometric length-scale constraints of Zhou, Lazarov, Wang & Sigmund (CMAME 293, 266, 2015) as a
penalty switched on late. :func:`build_fabrication` derives it from a process, a pitch (the
physical size of one cell) and a minimum feature.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from ..errors import DesignValueError
from ..parametrization.lengthscale import lengthscale_constraints, radius_for_length_scale
from ..units import format_length
from .processes import Process
from .rules import FabricationWarning, process_rule_cells, rule_cells

__all__ = ["SETTINGS", "Fabrication", "build_fabrication"]


@dataclass(frozen=True)
class Fabrication:
    """Manufacturability settings of a run (lengths in cells).

    Args:
        min_solid_cells: required minimum solid feature (disc diameter); 0 = no rule.
        min_void_cells: required minimum void feature; 0 = no rule.
        filter_radius: conic filter radius of the parametrization (cells).
        robust: optimize eroded, nominal and dilated designs together.
        eta_e: erosion threshold; the dilation threshold is ``1 − eta_e``.
        robust_thresholds: ``"fixed"`` evaluates the eroded and dilated designs at ``eta_e`` and
            ``1 − eta_e``; ``"random"`` draws them afresh for every step, uniformly between the
            nominal η and those extremes, so that the design must work for every edge shift in
            between (a design tuned to the three fixed thresholds can fail between them).
        objective: ``"worst"`` (max of the three losses) or ``"mean"``.
        constraint_weight: weight of the geometric length-scale penalty (0 = off).
        constraint_start: first epoch with the penalty on.
        pitch: physical size of one cell (m), when known.
        process: the process the rules came from, when any.
        repair: after thresholding, open and close the binary design with discs of the rule
            sizes until it passes (:func:`~wavefab.designkit.fab.drc.repair`); the re-evaluated
            metrics then describe the repaired design, and the number of cells changed is
            reported. The robust formulation and the penalty make the optimized design nearly
            compliant; the repair removes what pixelization leaves (pinholes, one-cell necks).
        repair_choice: ``"fewest"`` makes the fewest-change repair; ``"best"`` also makes the
            directed ones (every narrow gap widened or filled, every thin solid removed or
            thickened; :func:`~wavefab.designkit.fab.drc.repair_candidates`), simulates each on the
            fold's *training* examples and keeps the best (ties: the earlier). Its index is
            reported as ``repair_candidate``.
        exact_from: first epoch whose steps simulate the exact binary designs (the nominal one
            thresholded and repaired: what will be made) while taking gradients from the
            projection (straight-through); None: never.
    """

    min_solid_cells: int = 0
    min_void_cells: int = 0
    filter_radius: float = 0.0
    robust: bool = False
    eta_e: float = 0.75
    robust_thresholds: Literal["fixed", "random"] = "fixed"
    objective: Literal["worst", "mean"] = "worst"
    constraint_weight: float = 0.0
    constraint_start: int = 0
    pitch: float | None = None
    process: Process | None = None
    repair: bool = True
    exact_from: int | None = None
    repair_choice: Literal["fewest", "best"] = "fewest"

    def __post_init__(self) -> None:
        if not 0.5 < self.eta_e < 1:
            raise DesignValueError(f"fabrication.eta_e must lie in (0.5, 1), got {self.eta_e!r}")
        if self.objective not in ("worst", "mean"):
            raise DesignValueError(
                f"fabrication.objective must be 'worst' or 'mean', got {self.objective!r}")
        if self.constraint_weight < 0:
            raise DesignValueError("fabrication.constraint_weight must be ≥ 0")
        if self.repair_choice not in ("fewest", "best"):
            raise DesignValueError("fabrication.repair_choice must be 'fewest' or 'best', "
                                   f"got {self.repair_choice!r}")
        if self.robust_thresholds not in ("fixed", "random"):
            raise DesignValueError("fabrication.robust_thresholds must be 'fixed' or 'random', "
                                   f"got {self.robust_thresholds!r}")

    @property
    def min_feature_cells(self) -> int:
        """The larger of the solid and void rules (cells)."""
        return max(self.min_solid_cells, self.min_void_cells)

    def thresholds(self, eta: float, rng: np.random.Generator | None = None
                   ) -> tuple[float, ...]:
        """Projection thresholds evaluated per step: eroded, nominal, dilated (or nominal).

        With ``robust_thresholds="random"`` and an ``rng``, the eroded and dilated thresholds
        are drawn uniformly from [η, η_e] and [1 − η_e, η].
        """
        if not self.robust:
            return (eta,)
        if self.robust_thresholds == "random" and rng is not None:
            u, v = rng.uniform(size=2)
            return (eta + (self.eta_e - eta) * u, eta, eta - (eta - (1 - self.eta_e)) * v)
        return (self.eta_e, eta, 1 - self.eta_e)

    def combine(self, losses: list[Tensor]) -> Tensor:
        """The robust objective from the per-threshold losses."""
        if len(losses) == 1:
            return losses[0]
        stacked = torch.stack(losses)
        return stacked.max() if self.objective == "worst" else stacked.mean()

    def penalty(self, filtered: Tensor, projected: Tensor, region: Tensor, epoch: int) -> Tensor:
        """Weighted geometric length-scale penalty (0 before ``constraint_start`` or when off)."""
        if self.constraint_weight == 0 or epoch < self.constraint_start:
            return filtered.new_zeros(())
        solid, void = lengthscale_constraints(filtered, projected, region,
                                              max(self.filter_radius, 1.0), self.eta_e,
                                              1 - self.eta_e)
        return self.constraint_weight * (solid + void)

    def describe(self) -> dict[str, Any]:
        """JSON-able identity (for checkpoints and results)."""
        out: dict[str, Any] = {
            "min_solid_cells": self.min_solid_cells, "min_void_cells": self.min_void_cells,
            "filter_radius": self.filter_radius, "robust": self.robust, "eta_e": self.eta_e,
            "objective": self.objective, "constraint_weight": self.constraint_weight,
            "constraint_start": self.constraint_start, "pitch_m": self.pitch,
            "repair": self.repair, "exact_from": self.exact_from,
        }
        # defaults left out: checkpoints of runs from before these settings still match
        if self.robust_thresholds != "fixed":
            out["robust_thresholds"] = self.robust_thresholds
        if self.repair_choice != "fewest":
            out["repair_choice"] = self.repair_choice
        if self.process is not None:
            out["process"] = self.process.name
        return out


#: The :class:`Fabrication` settings :func:`build_fabrication` takes as they are (the rest, the
#: rules in cells, the filter radius, the pitch and the process, it derives or is given).
SETTINGS = tuple(f.name for f in dataclasses.fields(Fabrication)
                 if f.name not in ("min_solid_cells", "min_void_cells", "filter_radius", "pitch",
                                   "process"))


def build_fabrication(*, process: Process | None = None, pitch: float | None = None,
                      min_feature: float | None = None, min_feature_cells: int | None = None,
                      filter_radius: float | None = None, **settings: Any) -> Fabrication:
    """Derive the rules in cells and the filter radius from physical settings.

    Precedence: ``min_feature_cells`` (solid and void alike) over ``min_feature`` (metres, needs
    ``pitch``) over the process's ``min_width``/``min_space`` (needs ``pitch``). The conic
    filter radius defaults to the one that gives the larger rule as length scale under the
    robust formulation (:func:`~wavefab.designkit.parametrization.radius_for_length_scale`);
    the rules in cells come from :func:`~wavefab.designkit.fab.rules.rule_cells`.

    Args:
        process: the process whose rules apply (needs ``pitch``).
        pitch: the physical size of one cell (m).
        min_feature: the rule as a length (m; needs ``pitch``).
        min_feature_cells: the rule in cells.
        filter_radius: the density filter's radius (cells); default: from the rule.
        settings: the other :class:`Fabrication` fields (:data:`SETTINGS`: ``robust``,
            ``eta_e``, ``objective``, …), passed on unchanged.

    Raises:
        DesignValueError: a physical rule without a pitch, an unknown setting, a bad value.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise DesignValueError(f"unknown fabrication setting(s) {unknown}; known: "
                               f"{', '.join(SETTINGS)}")
    if (min_feature is not None or process is not None) and min_feature_cells is None \
            and pitch is None:
        raise DesignValueError("fabrication.pitch (the physical size of one cell, e.g. '50nm') "
                               "is needed to turn a physical minimum feature into cells")
    if pitch is not None and process is not None:
        steps = pitch / process.grid
        if abs(steps - round(steps)) > 1e-6 * max(steps, 1):
            warnings.warn(
                f"the pitch {format_length(pitch)} is not a multiple of the {process.name} grid "
                f"{format_length(process.grid)}: exact (cell-outline) exports will be refused; "
                "choose a multiple of the grid",
                FabricationWarning, stacklevel=2)
    if min_feature_cells is not None:
        solid = void = int(min_feature_cells)
    elif min_feature is not None and pitch is not None:
        solid = void = rule_cells(min_feature, pitch, "minimum feature")
    elif process is not None and pitch is not None:
        solid, void = process_rule_cells(process, pitch)
    else:
        solid = void = 0
    if filter_radius is None:
        rule = max(solid, void)
        eta_e = settings.get("eta_e", Fabrication.eta_e)
        filter_radius = radius_for_length_scale(rule, eta_e) if rule > 1 else 0.0
    return Fabrication(min_solid_cells=solid, min_void_cells=void, filter_radius=filter_radius,
                       pitch=pitch, process=process, **settings)
