"""Evaluating many inputs through one impulse response: the same readings as simulating each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wavefab.designkit.parametrization import AcousticMedium
from wavefab.designkit.problems.refine import refine_setup
from wavefab.designkit.problems.setup import Fold, MaterialNonlinearity, Setup
from wavefab.designkit.problems.synthetic_vowels import synthetic_vowels
from wavefab.designkit.problems.vowels import VowelGeometry, VowelProblem
from wavefab.solver import PML, DampingLayer, Grid, PointProbe, PointSource, RegionProbe

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.ResolutionWarning")
F64 = torch.float64


def _setup(physics: str, boundary) -> Setup:
    mask = np.zeros((40, 44))
    mask[18:22, 30:33] = 1.0
    return Setup(grid=Grid(shape=(40, 44), h=1.0, dt=0.5), boundary=boundary,
                 sources=(PointSource(20, 10),),
                 probes=(PointProbe(14, 30, measure="intensity"), PointProbe(26, 30),
                         RegionProbe(mask, measure="intensity")),
                 region=torch.zeros(40, 44, dtype=torch.bool), physics=physics)


@pytest.mark.parametrize("physics", ["scalar", "acoustic"])
@pytest.mark.parametrize("boundary", [DampingLayer(8), None], ids=["damping", "rigid"])
def test_the_convolution_reads_what_the_simulation_reads(physics, boundary):
    setup = _setup(physics, boundary)
    g = torch.Generator().manual_seed(0)
    speed = 0.7 + 0.3 * torch.rand(40, 44, generator=g, dtype=F64)
    inputs = torch.randn(5, 150, generator=g, dtype=F64)
    inputs[:, 100:] = 0  # zero-padded recordings, as the vowel groups are
    response = setup.linear_response(speed, 160)
    assert response is not None
    direct = setup.simulate(speed, inputs).probes
    fast = response(inputs)
    assert fast.shape == direct.shape and fast.dtype == direct.dtype
    torch.testing.assert_close(fast, direct, rtol=1e-9, atol=1e-12 * float(direct.abs().max()))


def test_setups_that_are_not_linear_and_time_invariant_fall_back():
    setup = _setup("scalar", DampingLayer(8))
    speed = torch.ones(40, 44)
    assert setup.linear_response(speed, 50) is not None
    nonlinear = Setup(**{**setup.__dict__, "nonlinearity": MaterialNonlinearity(b0=0.1)})
    assert nonlinear.linear_response(speed, 50) is None
    assert setup.linear_response(torch.ones(2, 40, 44), 50) is None  # a medium per input
    assert refine_setup(setup, 2).linear_response(speed, 50) is None
    # a PML is graded for the inputs' peak frequency: its response depends on them
    assert _setup("scalar", PML(8)).linear_response(speed, 50) is None
    acoustic = _setup("acoustic", DampingLayer(8))
    assert acoustic.linear_response(AcousticMedium.fluid(speed), 50) is not None
    with pytest.raises(Exception, match="longer than the response"):
        setup.linear_response(speed, 50)(torch.zeros(1, 60))


def test_vowel_accuracies_are_those_of_simulating_every_recording():
    geometry = VowelGeometry(shape=(60, 70), absorber=10, source_inset=6, probe_inset=6,
                             probe_spacing=8, region_gap=3)
    data = synthetic_vowels(speakers={"m": 3, "w": 3}, rate=10_000, seed=2)
    problem = VowelProblem(data, geometry)
    g = torch.Generator().manual_seed(3)
    speed = 0.75 + 0.25 * torch.rand(60, 70, generator=g)
    fold = Fold(train=np.arange(0, len(data), 2), test=np.arange(1, len(data), 2))
    fast = problem.evaluate(speed, fold)
    train, _ = problem._accuracy(speed, fold.train)  # no response: every recording simulated
    test, confusion = problem._accuracy(speed, fold.test)
    assert (fast["train_accuracy"], fast["test_accuracy"]) == (train, test)
    assert fast["confusion"] == confusion.tolist()
