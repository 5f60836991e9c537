"""The objective of one step: the problem's loss on the projected designs plus the penalty."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..fab.fabrication import Fabrication
from ..parametrization.chain import Parametrization
from ..problems.base import Problem
from ..problems.setup import Batch
from .finalize import made_design

__all__ = ["Objective"]


@dataclass
class Objective:
    """The scalar a step minimizes, for a latent, a batch, β, the epoch and the step.

    The problem's loss on the nominal design (or the robust combination of the eroded, nominal
    and dilated designs), plus the fabrication penalty. From ``fabrication.exact_from`` on, the
    designs simulated are the exact binary ones (the nominal one thresholded and repaired as it
    will be made), with the gradients of the projection (straight-through). It owns no loop:
    the optimizers of :mod:`.loop` call it and take its gradient.
    """

    problem: Problem
    parametrization: Parametrization
    fabrication: Fabrication

    def __call__(self, latent: torch.Tensor, batch: Batch, beta: float | None,
                 epoch: int, step: int = 0) -> torch.Tensor:
        """The objective's value (a scalar tensor with the graph back to ``latent``).

        ``step`` (the batch's index in its epoch) seeds the random robust thresholds, so every
        evaluation of one batch sees the same objective.
        """
        par = self.parametrization.at_epoch(epoch)
        fab = self.fabrication
        filtered = par.filtered(latent)
        exact = fab.exact_from is not None and epoch >= fab.exact_from
        losses, nominal = [], None
        # Random robust thresholds depend on (epoch, step) alone: resumable, and the same
        # objective for every L-BFGS evaluation of a batch.
        thresholds = fab.thresholds(par.eta, np.random.default_rng([epoch, step, 0x7E5]))
        for k, eta in enumerate(thresholds):
            is_nominal = k == len(thresholds) // 2  # (eroded, nominal, dilated) or (nominal,)
            rho = par.project(filtered, beta=beta, eta=eta)
            if is_nominal:
                nominal = rho
            if exact:
                if is_nominal:
                    made = made_design(par, latent.detach(), fab)[1]
                    hard = torch.from_numpy(made).to(rho.device, rho.dtype)
                else:
                    hard = ((filtered.detach() > eta) & par.region.to(rho.device)).to(rho.dtype)
                rho = hard + rho - rho.detach()
            out = self.problem.setup.simulate(par.material(rho), batch.inputs)
            losses.append(self.problem.loss(out.probes, batch.targets))
        loss = self.fabrication.combine(losses)
        assert nominal is not None
        return loss + self.fabrication.penalty(filtered, nominal, par.region, epoch)
