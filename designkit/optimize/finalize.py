"""The made design: what a trained latent becomes once it is made, and how well that scores.

A fold's training ends in a *made design*: the nominal filtered density thresholded at η and,
when the fabrication asks, repaired until it meets its rules (the made part is always binary).

* :func:`made_design`: the thresholded design and the made one, for a given repair candidate.
* :func:`repair_candidates`: every repair the made design may be (0: the fewest-change one).
* :func:`choose_made_design`: the candidate a run makes (``repair_choice: best``: the one that
  scores best on the fold's training examples).
* :func:`made_design_metrics`: the made design re-evaluated exactly (``binary_*``), its smooth
  η contour (``contour_*``) and its design-rule check: the figures a run reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import DesignValueError
from ..fab import drc
from ..fab.fabrication import Fabrication
from ..parametrization.chain import Parametrization
from ..problems.base import Problem
from ..problems.setup import Fold

__all__ = ["choose_made_design", "made_design", "made_design_metrics", "repair_candidates"]


def made_design(parametrization: Parametrization, latent: Tensor, fab: Fabrication,
                candidate: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The design to fabricate: the thresholded nominal design, repaired when ``fab.repair``.

    ``candidate`` picks among :func:`repair_candidates` (0: the fewest-change repair); a run
    with ``repair_choice: best`` records the one it chose as ``repair_candidate``.

    Returns:
        ``(thresholded, made)`` bool arrays on the whole grid (equal when nothing was repaired).

    Raises:
        DesignValueError: no such candidate.
    """
    thresholded, candidates = repair_candidates(parametrization, latent, fab,
                                                fewest_only=candidate == 0)
    if not 0 <= candidate < len(candidates):
        raise DesignValueError(f"repair candidate {candidate} does not exist: this design has "
                               f"{len(candidates)} (is the latent the one the run chose for?)")
    return thresholded, candidates[candidate]


def repair_candidates(parametrization: Parametrization, latent: Tensor, fab: Fabrication, *,
                      fewest_only: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """The thresholded nominal design and its repairs (:func:`~..fab.drc.repair_candidates`).

    Without ``fab.repair`` (or a rule) the only candidate is the thresholded design itself;
    ``fewest_only`` stops after the first (fewest-change) repair.
    """
    thresholded = parametrization.binary(latent).cpu().numpy()
    if not fab.repair or fab.min_feature_cells <= 1:
        return thresholded, [thresholded]
    region = parametrization.region.cpu().numpy()
    rules = (max(fab.min_solid_cells, 1), max(fab.min_void_cells, 1))
    if fewest_only:
        return thresholded, [drc.repair(thresholded, *rules, region=region)]
    return thresholded, drc.repair_candidates(thresholded, *rules, region=region)


def _training_score(problem: Problem, parametrization: Parametrization, binary: np.ndarray,
                    latent: Tensor, fold: Fold) -> float:
    """The problem's score of a binary design on the fold's training examples only.

    The test examples must not choose the design they judge.
    """
    medium = parametrization.material(torch.from_numpy(binary).to(latent.device, latent.dtype))
    metrics = problem.evaluate(medium, Fold(train=fold.train))
    key = (problem.score or "").replace("test_", "train_", 1)
    if key not in metrics:
        raise DesignValueError(f"repair_choice: best needs a score on the training examples; "
                               f"{problem.name} reports {sorted(metrics)}")
    return float(metrics[key])


def choose_made_design(problem: Problem, parametrization: Parametrization,
                       fabrication: Fabrication, latent: Tensor, fold: Fold
                       ) -> tuple[np.ndarray, np.ndarray, int]:
    """What a fold's run makes of its latent: ``(thresholded, made, repair candidate)``.

    With ``repair_choice: best`` the candidate with the best training score (ties: the
    fewest-change repair, index 0); otherwise the fewest-change repair.
    """
    if fabrication.repair_choice != "best":
        return (*made_design(parametrization, latent, fabrication), 0)
    thresholded, candidates = repair_candidates(parametrization, latent, fabrication)
    chosen = 0
    if len(candidates) > 1:
        scores = [_training_score(problem, parametrization, c, latent, fold) for c in candidates]
        chosen = int(np.argmax(scores))
    return thresholded, candidates[chosen], chosen


def made_design_metrics(problem: Problem, parametrization: Parametrization,
                        fabrication: Fabrication, latent: Tensor, fold: Fold
                        ) -> dict[str, Any]:
    """Make the fold's design, re-evaluate it exactly and check its rules.

    Returns:
        ``binary_<metric>`` for every metric of the made design; with the smoothed projection
        ``contour_<metric>`` of its η contour; with rules ``drc_pass``, ``drc_violations``,
        ``drc_min_solid_cells``, ``drc_min_void_cells``, ``repaired_cells`` and (when it
        repairs) ``unrepaired_drc_violations``; with ``repair_choice: best``
        ``repair_candidate``.
    """
    thresholded, binary, chosen = choose_made_design(problem, parametrization, fabrication,
                                                     latent, fold)
    speed = parametrization.material(torch.from_numpy(binary).to(latent.device, latent.dtype))
    metrics = problem.evaluate(speed, fold)
    out: dict[str, Any] = {f"binary_{k}": v for k, v in metrics.items()}
    if fabrication.repair_choice == "best":
        out["repair_candidate"] = chosen
    if parametrization.projection == "smoothed":
        # The η contour of the filtered density (marching squares) rasterized by its exact area
        # coverage: what a smooth mask or print of this design re-simulates as (`wavefab export
        # --mode smooth` writes these polygons). The smoothed projection the optimizer saw is
        # a first-order estimate of the same coverage, not the thing itself.
        from ..geometry import contour_polygons, coverage

        with torch.no_grad():
            filtered = parametrization.filtered(latent).cpu().numpy().astype(np.float64)
        region = parametrization.region.cpu().numpy()
        shapes = contour_polygons(filtered, parametrization.eta, 1.0, mask=region)
        rho = torch.from_numpy(coverage(shapes, filtered.shape, 1.0)).to(latent.device,
                                                                       latent.dtype)
        contour = problem.evaluate(parametrization.material(rho), fold)
        out.update({f"contour_{k}": v for k, v in contour.items()})
    if fabrication.min_feature_cells > 0:
        rules = {"min_solid_cells": max(fabrication.min_solid_cells, 1),
                 "min_void_cells": max(fabrication.min_void_cells, 1),
                 "region": parametrization.region.cpu().numpy()}
        report = drc.check(binary, **rules)
        out.update(drc_pass=report.passed, drc_violations=len(report.violations),
                   drc_min_solid_cells=report.to_dict()["min_solid_cells"],
                   drc_min_void_cells=report.to_dict()["min_void_cells"],
                   repaired_cells=int((thresholded != binary).sum()))
        if fabrication.repair:
            out["unrepaired_drc_violations"] = len(drc.check(thresholded, **rules).violations)
    return out
