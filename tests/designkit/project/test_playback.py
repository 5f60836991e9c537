"""Field movies: frames at the stated time steps, probe signals that agree with the metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.problems.base import Fold
from wavefab.designkit.problems.custom import (
    CustomConfig,
    CustomProbeConfig,
    CustomProblem,
    RegionShapeConfig,
)
from wavefab.designkit.project.playback import example_titles, field_movie


@pytest.fixture(scope="module")
def problem():
    return CustomProblem(CustomConfig(
        shape=(70, 90), pml=12, steps=240, sources=((35, 18),),
        probes=(CustomProbeConfig(35, 72, "out", 1.0),),
        region=(RegionShapeConfig("rect", rows=(20, 50), cols=(30, 60)),)))


def test_each_frame_is_the_field_at_its_stated_step(problem):
    speed = np.ones((70, 90), np.float32)
    speed[20:51, 30:61] = 0.7
    movie = field_movie(problem, speed, frames=12)
    assert movie.frames.shape == (12, 70, 90) and list(movie.steps) == [20 * k for k in
                                                                       range(1, 13)]
    assert movie.title == "pulse" and example_titles(problem) == ["pulse"]
    # every step kept: frame k is the field after steps[k] steps (the PML adapts to the input's
    # band, so the check plays the same whole input rather than a cut one)
    k = 6
    every = problem.setup.simulate(torch.from_numpy(speed), problem.pulse[None],
                                   snapshot_every=1).snapshots[0]
    np.testing.assert_allclose(movie.frames[k], every[movie.steps[k] - 1].numpy(), rtol=1e-6,
                               atol=1e-9)
    assert not np.allclose(movie.frames[k], every[movie.steps[k]].numpy(), atol=1e-6)
    assert movie.peak == pytest.approx(np.abs(movie.frames).max())
    assert movie.time_label(0) == "step 20"


def test_the_movie_probes_are_what_the_metrics_measure(problem):
    speed = np.ones((70, 90), np.float32)
    speed[problem.setup.region.numpy()] = 0.6
    movie = field_movie(problem, speed, frames=5)
    gain = movie.probes[:, 0].sum() / float(problem.reference()[0])
    metrics = problem.evaluate(torch.from_numpy(speed), Fold(train=np.arange(1)))
    assert math.isclose(gain, metrics["gain_out"], rel_tol=1e-5)


def test_bad_requests_name_the_problem(problem):
    with pytest.raises(DesignValueError, match="example 3 does not exist"):
        field_movie(problem, np.ones((70, 90)), example=3)
    with pytest.raises(DesignValueError, match="another setup"):
        field_movie(problem, np.ones((60, 90)))
    with pytest.raises(DesignValueError, match="frames"):
        field_movie(problem, np.ones((70, 90)), frames=0)


def test_the_player_of_a_configuration_plays_the_same_movie(problem, tmp_path):
    """What the designer plays (FieldPlayer: one problem built once) is field_movie's."""
    from dataclasses import asdict

    from wavefab.designkit.config import config_from_dict
    from wavefab.designkit.project.playback import FieldPlayer

    geometry = {**asdict(problem.geometry), "shape": list(problem.geometry.shape)}
    config = config_from_dict({"problem": "custom", "custom": geometry})
    player = FieldPlayer(config)
    density = np.zeros((70, 90), np.float32)
    density[20:51, 30:61] = 1.0
    movie = player.movie(density, frames=12)
    speed = np.where(density > 0, 0.5, 1.0).astype(np.float32)  # material.c1 = 0.5
    np.testing.assert_allclose(movie.frames, field_movie(problem, speed, frames=12).frames,
                               rtol=1e-5, atol=1e-7)
    assert player.problem is player.problem and player.titles() == ["pulse"]
    empty = player.movie(None, frames=4)
    np.testing.assert_allclose(empty.frames,
                               field_movie(problem, np.ones((70, 90), np.float32),
                                           frames=4).frames, rtol=1e-5, atol=1e-7)
    with pytest.raises(DesignValueError, match="shape"):
        player.movie(np.zeros((10, 10), np.float32))
