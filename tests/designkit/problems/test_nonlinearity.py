"""The material nonlinearity as a configuration section: validated, simulated, trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from wavefab.designkit.config import ConfigError, config_from_dict, load_config
from wavefab.designkit.optimize.budget import estimate_cost
from wavefab.designkit.problems.setup import MaterialNonlinearity
from wavefab.designkit.run import build_parametrization, build_problem, run

EXAMPLES = Path(__file__).resolve().parents[3] / "assets" / "examples"
pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")

#: A small vowel model (synthetic data) that trains in seconds.
SMALL = {
    "geometry": {"shape": [60, 70], "absorber": 10, "source_inset": 6, "probe_inset": 6,
                 "probe_spacing": 8, "region_gap": 3},
    "training": {"epochs": 1, "folds": 2, "window": 300},
}


def _config(**nonlinearity):
    return config_from_dict({**SMALL, "nonlinearity": nonlinearity})


def test_the_shipped_nonlinear_example_is_the_reference_with_a_saturable_absorber():
    config = load_config(EXAMPLES / "vowels_nonlinear.yaml")
    reference = load_config(EXAMPLES / "vowels_paper.yaml")
    assert (config.nonlinearity.b0, config.nonlinearity.u_th) == (0.01, 0.01)
    assert config.geometry == reference.geometry and config.training == reference.training
    assert reference.nonlinearity.b0 == 0 and reference.nonlinearity.c_nl == 0  # linear


def test_bad_nonlinearities_are_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"nonlinearity.u_th: 0.0 must be positive"):
        _config(b0=0.1, u_th=0.0)
    with pytest.raises(ConfigError, match=r"nonlinearity.b0: -0.1 is negative"):
        _config(b0=-0.1)
    with pytest.raises(ConfigError, match=r"nonlinearity: the acoustic model is linear"):
        config_from_dict({**SMALL, "physics": "acoustic", "nonlinearity": {"c_nl": 0.1}})
    with pytest.raises(ConfigError, match=r"material.c1 ≠ material.c0"):
        config_from_dict({**SMALL, "material": {"c0": 1.0, "c1": 1.0},
                          "nonlinearity": {"b0": 0.1}})


def test_the_setup_simulates_the_law_on_the_material_with_gradients():
    linear, nonlinear = build_problem(_config()), build_problem(_config(b0=0.5, u_th=0.05))
    assert linear.setup.nonlinearity is None
    law = nonlinear.setup.nonlinearity
    assert law == MaterialNonlinearity(b0=0.5, u_th=0.05, c0=1.0, c1=0.5)
    assert "nonlinearity" in nonlinear.fingerprint() and "nonlinearity" not in linear.fingerprint()
    # the material fraction read back from the speed is the density
    density = torch.rand(60, 70, dtype=torch.float64)
    torch.testing.assert_close(law.of(1.0 - 0.5 * density).rho, density)
    par = build_parametrization(_config(), linear)
    # near the projection's threshold, where the density still has a gradient
    latent = (0.5 + 0.002 * torch.randn(linear.setup.region.shape,
                                        generator=torch.Generator().manual_seed(1)))
    latent.requires_grad_(True)
    inputs = torch.randn(2, 200, generator=torch.Generator().manual_seed(0))
    grads = []
    for problem in (linear, nonlinear):
        out = problem.setup.simulate(par.speed(latent), inputs)
        assert out.backend == "numba"  # the damping layer: the fused kernels
        grads.append(torch.autograd.grad(out.probes.sum(), latent)[0])
        assert torch.isfinite(grads[-1]).all()
    assert float((grads[0] - grads[1]).abs().max()) > 1e-3 * float(grads[0].abs().max())


def test_a_nonlinear_run_trains_records_and_is_costed_slower(tmp_path):
    config = _config(b0=0.01, u_th=0.01)
    problem = build_problem(config)
    linear_cost = estimate_cost(build_problem(_config()), config.training)
    assert estimate_cost(problem, config.training).seconds > 2 * linear_cost.seconds
    events = list(run(config, tmp_path / "out"))
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1 and events
    saved = load_config(tmp_path / "out" / "config.yaml")
    assert saved.nonlinearity == config.nonlinearity  # the results folder re-runs the same model
