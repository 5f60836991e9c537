"""The training section: β schedules that depend on the epoch and the recorded history only."""

from __future__ import annotations

import math

import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.optimize import TrainingConfig


def test_beta_schedules():
    exp = TrainingConfig(beta_growth=2.0, beta_every=3, beta_max=40.0)
    assert [exp.beta_for(e, 4.0) for e in range(8)] == [4, 4, 4, 8, 8, 8, 16, 16]
    assert exp.beta_for(30, 4.0) == 40.0
    gray = TrainingConfig(beta_growth=2.0, gray_target=0.1)
    assert gray.beta_for(3, 4.0, [0.5, 0.05, 0.3]) == 16.0  # two epochs were grayer
    steps = TrainingConfig(beta_schedule=((0, 8.0), (2, math.inf)))
    assert steps.beta_for(1, 4.0) == 8.0 and steps.beta_for(2, 4.0) == math.inf
    with pytest.raises(DesignValueError, match="gray_target must lie"):
        TrainingConfig(gray_target=1.5)
