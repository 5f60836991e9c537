"""A user-defined objective: subclass Problem, and the optimizer, results and resume just work."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from wavefab.designkit.optimize import EpochEnd, RunEnd, TrainingConfig, optimize
from wavefab.designkit.parametrization import LinearSpeed, Parametrization
from wavefab.designkit.problems.base import Batch, Fold, Problem, Setup
from wavefab.designkit.results import write_results
from wavefab.solver import PML, Grid, PointProbe, PointSource, ricker


class Router(Problem):
    """Send a pulse to probe A rather than probe B: loss = −ln(E_A / (E_A + E_B))."""

    name = "router"
    summary_keys = ("share_a",)
    score = "share_a"

    def __init__(self) -> None:
        region = torch.zeros(70, 70, dtype=torch.bool)
        region[15:55, 25:45] = True
        self.setup = Setup(grid=Grid(shape=(70, 70), h=1.0, dt=0.5), boundary=PML(width=10),
                           sources=(PointSource(35, 15),),
                           probes=(PointProbe(22, 55, measure="intensity"),
                                   PointProbe(48, 55, measure="intensity")),
                           region=region, probe_names=("A", "B"))
        self.pulse = ricker(0.025, 260, 0.5)

    def batches(self, fold, rng, settings):
        yield Batch(self.pulse[None], torch.zeros(1))

    def _share(self, probes):
        energy = probes.sum(dim=1)
        return energy[:, 0] / energy.sum(dim=1)

    def loss(self, probes, targets):
        return -torch.log(self._share(probes)).mean()

    def evaluate(self, speed, fold: Fold):
        with torch.no_grad():
            out = self.setup.simulate(speed, self.pulse[None])
        return {"share_a": float(self._share(out.probes)[0])}

    def examples(self):
        return [("pulse", self.pulse)]


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_custom_problem_trains_and_writes_results(optimizer, tmp_path):
    problem = Router()
    par = Parametrization(region=problem.setup.region, beta=4.0, material=LinearSpeed(1.0, 0.5))
    settings = TrainingConfig(epochs=3, optimizer=optimizer, learning_rate=0.05,
                                lbfgs_iterations=4)
    events = list(optimize(problem, par, settings, checkpoint_dir=tmp_path / "ckpt"))
    shares = [e.metrics["share_a"] for e in events if isinstance(e, EpochEnd)]
    end = events[-1]
    assert isinstance(end, RunEnd)
    # symmetric start: half the energy each way; training tips it towards A
    assert shares[-1] > 0.65 and end.metrics["share_a"] == shares[-1]
    paths = write_results(tmp_path, end, problem, par, wall_time_s=1.0)
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["problem"] == "router" and metrics["share_a"] == shares[-1]
    with np.load(paths["design"]) as design:
        assert design["density"].shape == (70, 70)
    assert (tmp_path / "curves.png").exists() and (tmp_path / "fields.png").exists()


def test_a_setup_passes_the_resolution_warning_on_once():
    from wavefab.solver import DampingLayer, ResolutionWarning

    region = torch.zeros(40, 40, dtype=torch.bool)
    setup = Setup(grid=Grid(shape=(40, 40), h=1.0, dt=0.5), boundary=DampingLayer(width=8),
                  sources=(PointSource(20, 12),), probes=(PointProbe(20, 28),), region=region)
    noisy = torch.randn(2, 60)  # white noise: far too fine for 1 cell per unit length
    with pytest.warns(ResolutionWarning) as caught:
        for _ in range(3):
            setup.simulate(torch.ones(40, 40), noisy)
    assert len(caught) == 1
