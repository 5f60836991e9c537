"""The focusing-lens problem, L-BFGS-B, and the problem-generic optimizer loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.optimize import (
    BatchEnd,
    EpochEnd,
    RunEnd,
    RunStart,
    TrainingConfig,
    optimize,
)
from wavefab.designkit.parametrization import LinearSpeed, Parametrization
from wavefab.designkit.problems.lens import LensConfig, LensProblem

SMALL = LensConfig(shape=(80, 80), pml=12, source=(40, 18), focus=(40, 64),
                     region_rows=(16, 63), region_cols=(26, 56), steps=300)


def _parts(geometry=SMALL, beta=4.0):
    problem = LensProblem(geometry)
    par = Parametrization(region=problem.setup.region, beta=beta,
                          material=LinearSpeed(1.0, 0.5))
    return problem, par


def test_the_unpatterned_medium_has_gain_one_and_loss_zero():
    problem, par = _parts()
    speed = par.speed(torch.zeros(SMALL.shape))
    assert problem.evaluate(speed, problem.folds(5, 0)[0]) == pytest.approx(
        {"focus_gain": 1.0, "peak_gain": 1.0})
    batch = next(problem.batches(problem.folds(1, 0)[0], None, TrainingConfig()))
    out = problem.setup.simulate(speed, batch.inputs)
    assert float(problem.loss(out.probes, batch.targets)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_both_optimizers_focus_the_pulse(optimizer):
    problem, par = _parts()
    settings = TrainingConfig(epochs=3, optimizer=optimizer, learning_rate=0.05,
                                lbfgs_iterations=4)
    events = list(optimize(problem, par, settings))
    assert events[0] == RunStart("lens", folds=1, epochs=3)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    gains = [e.metrics["focus_gain"] for e in epochs]
    assert gains[-1] > 2.0 and gains[-1] > gains[0]
    losses = [e.loss for e in epochs]
    assert losses[-1] < min(losses[0], 0.0)
    end = events[-1]
    assert isinstance(end, RunEnd) and set(end.metrics) >= {"focus_gain", "peak_gain", "loss"}
    latent = end.latents[0]
    assert latent.min() >= 0.0 and latent.max() <= 1.0
    outside = ~problem.setup.region.numpy()
    assert np.all(latent[outside] == 0.5)  # only the design region is optimized
    if optimizer == "lbfgs":
        # one BatchEnd per objective evaluation; the budget caps them
        counts = [sum(isinstance(e, BatchEnd) and e.epoch == k for e in events)
                  for k in range(3)]
        assert all(1 <= c <= 12 for c in counts)


def test_lbfgs_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path):
    problem, par = _parts()
    settings = TrainingConfig(epochs=3, optimizer="lbfgs", lbfgs_iterations=3,
                                beta_schedule=((0, 4.0), (2, 16.0)))
    reference = list(optimize(problem, par, settings))[-1]
    run = optimize(problem, par, settings, checkpoint_dir=tmp_path)
    for event in run:
        if isinstance(event, EpochEnd) and event.epoch == 1:
            break
    run.close()
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    assert state["epoch"] == 1 and state["elapsed_s"] > 0
    resumed = list(optimize(problem, par, settings, checkpoint_dir=tmp_path, resume=True))
    assert resumed[0] == RunStart("lens", 1, 3, first_fold=0, first_epoch=2)
    end = resumed[-1]
    np.testing.assert_array_equal(end.latents[0], reference.latents[0])
    assert end.metrics == reference.metrics
    assert end.earlier_seconds == state["elapsed_s"]


def test_resume_refuses_another_problem_or_material(tmp_path):
    problem, par = _parts()
    settings = TrainingConfig(epochs=2, optimizer="lbfgs", lbfgs_iterations=2)
    run = optimize(problem, par, settings, checkpoint_dir=tmp_path)
    next(e for e in run if isinstance(e, EpochEnd))
    run.close()
    moved = LensConfig(**{**SMALL.__dict__, "focus": (30, 64)})
    other, _ = _parts(moved)
    with pytest.raises(DesignValueError, match=r"other problem \(data or geometry\)"):
        list(optimize(other, par, settings, checkpoint_dir=tmp_path, resume=True))
    _, steeper = _parts(beta=8.0)
    with pytest.raises(DesignValueError, match="other material parametrization"):
        list(optimize(problem, steeper, settings, checkpoint_dir=tmp_path, resume=True))


def test_a_parametrization_of_another_region_is_refused():
    problem, _ = _parts()
    wrong = Parametrization(region=torch.zeros(SMALL.shape, dtype=torch.bool))
    with pytest.raises(DesignValueError, match="design region is not the problem's"):
        list(optimize(problem, wrong, TrainingConfig(epochs=1)))


@pytest.mark.parametrize(("change", "message"), [
    ({"source": (40, 30)}, r"lens\.source \(40, 30\) lies inside the design region"),
    ({"focus": (5, 64)}, r"lens\.focus \(5, 64\) must lie inside the PML-free interior"),
    ({"region_cols": (50, 30)}, r"lens\.region_rows .* must be increasing pairs"),
    ({"shape": (20, 20)}, r"lens\.shape \(20, 20\) leaves no interior"),
    ({"frequency": -1.0}, r"lens\.frequency must be positive"),
])
def test_bad_lens_geometry_names_the_field(change, message):
    with pytest.raises(DesignValueError, match=message):
        LensConfig(**{**SMALL.__dict__, **change})


def test_bad_optimizer_names_the_field():
    with pytest.raises(DesignValueError, match=r"training\.optimizer must be 'adam' or 'lbfgs'"):
        TrainingConfig(optimizer="sgd")
    with pytest.raises(DesignValueError, match=r"training\.lbfgs_iterations must be a positive"):
        TrainingConfig(lbfgs_iterations=0)
