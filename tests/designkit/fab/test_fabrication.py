"""Fabrication settings: rules in cells, the robust objective, exact steps, the repair choice,
and the lens trained under a 5-cell minimum feature ending DRC-clean."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wavefab.designkit.config import ConfigError, config_from_dict, fabrication_from_config
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab import drc
from wavefab.designkit.fab.fabrication import Fabrication, build_fabrication
from wavefab.designkit.fab.processes import get_process
from wavefab.designkit.fab.rules import FabricationWarning
from wavefab.designkit.optimize import EpochEnd, RunEnd, TrainingConfig, optimize
from wavefab.designkit.optimize.finalize import made_design
from wavefab.designkit.parametrization import LinearSpeed, Parametrization
from wavefab.designkit.parametrization.filters import DensityFilter
from wavefab.designkit.problems.lens import LensConfig, LensProblem


def test_rules_in_cells_from_process_pitch_and_feature():
    fab = build_fabrication(process=get_process("fdm-0.4"), pitch=0.2e-3, robust=True)
    assert (fab.min_solid_cells, fab.min_void_cells) == (4, 5)
    assert fab.filter_radius == pytest.approx(5.0)  # R = L for η_e = 0.75
    assert build_fabrication(min_feature=0.5e-6, pitch=0.1e-6).min_feature_cells == 5
    assert build_fabrication(min_feature_cells=3).filter_radius == pytest.approx(3.0)
    with pytest.warns(FabricationWarning, match="below one cell"):
        assert build_fabrication(process=get_process("ebeam"), pitch=200e-9).min_solid_cells == 1
    with pytest.warns(FabricationWarning, match="not a multiple"):
        build_fabrication(process=get_process("ebeam"), pitch=10.5e-9)
    with pytest.raises(DesignValueError, match=r"fabrication\.pitch"):
        build_fabrication(min_feature=1e-6)


def test_fabrication_config_section():
    config = config_from_dict({"fabrication": {"process": "sla", "pitch": "0.25mm",
                                               "robust": True, "filter_edge": "surroundings"}})
    fab = fabrication_from_config(config)
    assert fab.min_solid_cells == 2 and fab.robust and fab.process.name == "sla"
    physical = config_from_dict({"fabrication": {"pitch": "0.25mm", "min_feature_cells": 3,
                                                 "filter_radius": "1mm"}})
    assert fabrication_from_config(physical).filter_radius == pytest.approx(4.0)
    with pytest.raises(ConfigError) as info:
        config_from_dict({"fabrication": {"pitch": "fast", "objective": "best"}})
    text = "\n".join(info.value.problems)
    assert "fabrication.objective: must be one of" in text


def test_robust_thresholds_and_objective():
    fab = Fabrication(robust=True, eta_e=0.7, objective="worst")
    assert fab.thresholds(0.5) == (0.7, 0.5, pytest.approx(0.3))
    losses = [torch.tensor(1.0), torch.tensor(3.0), torch.tensor(2.0)]
    assert float(fab.combine(losses)) == 3.0
    assert float(Fabrication(robust=True, objective="mean").combine(losses)) == 2.0
    assert Fabrication().thresholds(0.5) == (0.5,)


def test_random_robust_thresholds_cover_the_interval_reproducibly():
    config = config_from_dict({"fabrication": {"min_feature_cells": 4, "robust": True,
                                               "eta_e": 0.75, "robust_thresholds": "random"}})
    fab = fabrication_from_config(config)
    assert fab.robust_thresholds == "random" and fab.describe()["robust_thresholds"] == "random"
    draws = [fab.thresholds(0.5, np.random.default_rng([epoch, step]))
             for epoch in range(20) for step in range(20)]
    eroded = np.array([d[0] for d in draws])
    dilated = np.array([d[2] for d in draws])
    assert all(d[1] == 0.5 for d in draws)
    assert 0.5 <= eroded.min() < 0.52 and 0.73 < eroded.max() <= 0.75
    assert 0.25 <= dilated.min() < 0.27 and 0.48 < dilated.max() <= 0.5
    assert abs(np.corrcoef(eroded, dilated)[0, 1]) < 0.2  # drawn independently
    again = fab.thresholds(0.5, np.random.default_rng([3, 4]))
    assert again == fab.thresholds(0.5, np.random.default_rng([3, 4]))
    # without a generator (final evaluation) the extremes are used
    assert fab.thresholds(0.5) == (0.75, 0.5, 0.25)
    assert "robust_thresholds" not in Fabrication(robust=True).describe()  # old checkpoints
    with pytest.raises(ConfigError, match="robust_thresholds"):
        config_from_dict({"fabrication": {"robust_thresholds": "sometimes"}})


@pytest.mark.slow
def test_the_lens_under_a_5_cell_minimum_feature_ends_drc_clean_and_binary():
    geometry = LensConfig(shape=(100, 100), pml=15, source=(50, 22), focus=(50, 80),
                            region_rows=(20, 79), region_cols=(32, 66), steps=380)
    problem = LensProblem(geometry)
    fab = build_fabrication(min_feature_cells=5, robust=True)
    par = Parametrization(region=problem.setup.region, beta=4.0,
                          material=LinearSpeed(1.0, 0.5), projection="smoothed",
                          filter=DensityFilter("conic", fab.filter_radius, "surroundings"))
    settings = TrainingConfig(optimizer="lbfgs", lbfgs_iterations=8, epochs=10,
                                beta_schedule=((0, 4.0), (3, 16.0), (6, 64.0), (8, math.inf)))
    events = list(optimize(problem, par, settings, fabrication=fab))
    end = events[-1]
    assert isinstance(end, RunEnd)
    fold = end.metrics["per_fold"][0]
    assert fold["drc_pass"] is True and fold["drc_violations"] == 0
    assert fold["binary_focus_gain"] > 2.0 and fold["contour_focus_gain"] > 2.0
    # the optimizer did the work: the repair touched under 2% of the design region
    region = problem.setup.region.numpy()
    assert fold["repaired_cells"] < 0.02 * region.sum()
    thresholded, binary = made_design(par, torch.from_numpy(end.latents[0]), fab)
    assert (thresholded != binary).sum() == fold["repaired_cells"]
    report = drc.check(binary, 5, region=region)
    assert report.passed and report.min_solid_cells >= 5 and report.min_void_cells >= 5
    last = [e for e in events if isinstance(e, EpochEnd)][-1]
    assert last.metrics["beta"] == math.inf
    # fully binary: the density the last epoch simulated differs from the binary design only in
    # the interface cells of the smoothed projection
    density = par.density(torch.from_numpy(end.latents[0]), beta=math.inf).numpy()
    assert np.mean(np.abs(density - thresholded) > 0.5) < 0.01


def test_exact_steps_simulate_what_will_be_made_with_projection_gradients():
    from wavefab.designkit.optimize import Objective

    geometry = LensConfig(shape=(80, 80), pml=12, source=(40, 18), focus=(40, 64),
                            region_rows=(16, 63), region_cols=(26, 56), steps=300)
    problem = LensProblem(geometry)
    fab = build_fabrication(min_feature_cells=4, exact_from=3)
    par = Parametrization(region=problem.setup.region, beta=math.inf,
                          material=LinearSpeed(1.0, 0.5), projection="smoothed",
                          filter=DensityFilter("conic", fab.filter_radius, "surroundings"))
    torch.manual_seed(1)
    latent = torch.rand(geometry.shape).requires_grad_(True)
    objective = Objective(problem, par, fab)
    batch = next(problem.batches(problem.folds(1, 0)[0], None, TrainingConfig()))
    soft = objective(latent, batch, math.inf, epoch=2)
    exact = objective(latent, batch, math.inf, epoch=3)
    made = torch.from_numpy(made_design(par, latent.detach(), fab)[1]).float()
    out = problem.setup.simulate(par.material(made), batch.inputs)
    assert exact.item() == pytest.approx(problem.loss(out.probes, batch.targets).item(),
                                         rel=1e-5)
    assert exact.item() != pytest.approx(soft.item(), rel=1e-3)
    (grad,) = torch.autograd.grad(exact, latent)
    assert torch.isfinite(grad).all() and float(grad.abs().sum()) > 0


def test_random_robust_thresholds_reach_the_objective_reproducibly():
    from wavefab.designkit.optimize import Objective

    geometry = LensConfig(shape=(80, 80), pml=12, source=(40, 18), focus=(40, 64),
                            region_rows=(16, 63), region_cols=(26, 56), steps=300)
    problem = LensProblem(geometry)
    fixed = build_fabrication(min_feature_cells=4, robust=True, objective="mean")
    drawn = build_fabrication(min_feature_cells=4, robust=True, objective="mean",
                              robust_thresholds="random")
    par = Parametrization(region=problem.setup.region, beta=8.0,
                          material=LinearSpeed(1.0, 0.5), projection="smoothed",
                          filter=DensityFilter("conic", fixed.filter_radius, "surroundings"))
    torch.manual_seed(2)
    latent = torch.rand(geometry.shape)
    batch = next(problem.batches(problem.folds(1, 0)[0], None, TrainingConfig()))
    with torch.no_grad():
        base = float(Objective(problem, par, fixed)(latent, batch, 8.0, 0, 0))
        random = Objective(problem, par, drawn)
        a, b, c = (float(random(latent, batch, 8.0, e, s)) for e, s in ((0, 0), (0, 0), (0, 1)))
    assert a == b            # the same (epoch, step) draws the same thresholds
    assert a != c and a != base


def test_repair_choice_best_keeps_the_repair_that_trains_best(tmp_path):
    """``repair_choice: best``: the made design is the candidate with the best training score,
    recorded by index, and the results' design is that one."""
    import json

    from wavefab.designkit.optimize.checkpoint import load_checkpoint
    from wavefab.designkit.optimize.finalize import repair_candidates
    from wavefab.designkit.problems.base import Fold
    from wavefab.designkit.run import build_parametrization, build_problem, run

    config = config_from_dict({
        "problem": "lens", "lens": {"steps": 400}, "material": {"beta": 4.0},
        "training": {"optimizer": "lbfgs", "epochs": 2, "lbfgs_iterations": 3},
        "fabrication": {"min_feature_cells": 6, "repair_choice": "best"}})
    with pytest.raises(ConfigError, match="repair_choice"):
        config_from_dict({"fabrication": {"repair_choice": "all"}})
    for _ in run(config, tmp_path):
        pass
    fold = json.loads((tmp_path / "metrics.json").read_text())["per_fold"][0]
    problem = build_problem(config)
    fab = fabrication_from_config(config)
    par = build_parametrization(config, problem, fab)
    latent = torch.from_numpy(load_checkpoint(tmp_path / "checkpoint")[1]["fold0"])
    candidates = repair_candidates(par, latent, fab)[1]
    assert len(candidates) > 1  # the short run leaves violations that can be fixed both ways
    gains = [problem.evaluate(par.material(torch.from_numpy(c).float()),
                              Fold(train=np.arange(1)))["focus_gain"] for c in candidates]
    chosen = fold["repair_candidate"]
    assert gains[chosen] == max(gains) and chosen == gains.index(max(gains))
    assert fold["binary_focus_gain"] == pytest.approx(gains[chosen], rel=1e-5)
    assert fold["drc_pass"] is True
    with np.load(tmp_path / "design.npz") as design:
        np.testing.assert_array_equal(design["binary"], candidates[chosen])
    np.testing.assert_array_equal(made_design(par, latent, fab, chosen)[1], candidates[chosen])
    with pytest.raises(DesignValueError, match="repair candidate"):
        made_design(par, latent, fab, len(candidates))


def test_the_config_section_carries_every_setting_the_fabrication_copies():
    import dataclasses

    from wavefab.designkit.config import FabricationConfig
    from wavefab.designkit.fab.fabrication import SETTINGS

    section = {f.name: f.default for f in dataclasses.fields(FabricationConfig)}
    defaults = Fabrication()
    for name in SETTINGS:  # same name, same default: the section is passed on as it is
        assert name in section and section[name] == getattr(defaults, name), name
    with pytest.raises(DesignValueError, match="unknown fabrication setting"):
        build_fabrication(robustness=True)
