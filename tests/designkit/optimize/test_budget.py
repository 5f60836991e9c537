"""A run's time and memory are estimated from its configuration before it starts, and a run
that cannot fit, or is long and not allowed, is refused with the settings to change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wavefab.app.cli import main
from wavefab.designkit.config import load_config
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.optimize.budget import (
    LONG_RUN_S,
    RATES,
    RunCost,
    check_budget,
    estimate_cost,
)
from wavefab.designkit.run import build_problem

EXAMPLES = Path(__file__).resolve().parents[3] / "assets" / "examples"

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")


def test_the_count_is_the_lens_runs_own_work():
    config = load_config(EXAMPLES / "lens.yaml")
    problem = build_problem(config)
    cost = estimate_cost(problem, config.training)
    t = config.training
    cells, steps = 140 * 140, config.lens.steps
    # one pulse, L-BFGS: every iteration forward and back, one forward evaluation per epoch
    expected = cells * steps * (t.lbfgs_iterations + 1 / 3) * t.epochs
    assert cost.cell_updates == pytest.approx(expected)
    assert cost.seconds == pytest.approx(expected / RATES[("scalar", "cpu")])
    assert cost.batch_shape == (1, steps)
    assert 0.4 * 2**30 < cost.memory_bytes < 1.0 * 2**30  # measured: 0.52 GiB peak RSS


def test_the_estimate_follows_epochs_folds_batch_and_grid():
    config = load_config(EXAMPLES / "vowels_quick.yaml")
    base = estimate_cost(build_problem(config), config.training)
    more = replace(config, training=replace(config.training, epochs=2 * config.training.epochs))
    assert estimate_cost(build_problem(more), more.training).cell_updates == pytest.approx(
        2 * base.cell_updates)
    wide = load_config(EXAMPLES / "vowels_quick.yaml", ["training.batch_size=40"])
    wider = estimate_cost(build_problem(wide), wide.training)
    assert wider.batch_shape[0] > base.batch_shape[0]
    assert wider.memory_bytes > base.memory_bytes
    # the same examples are simulated per epoch, however they are batched
    assert wider.cell_updates == pytest.approx(base.cell_updates, rel=0.02)


def test_refusals_name_the_estimate_and_the_fix():
    huge = RunCost(cell_updates=1e15, seconds=1e7, memory_bytes=300 * 2**30,
                   batch_shape=(200, 1000))
    with pytest.raises(DesignValueError, match=r"needs about 300\.0 GiB .*this machine has "
                                               r"16\.0 GiB; lower training\.batch_size"):
        check_budget(huge, memory_bytes=16 * 2**30)
    long = replace(huge, memory_bytes=2**30, seconds=2 * LONG_RUN_S)
    with pytest.raises(DesignValueError, match=r"about 2\.0 h .*pass --allow-long"):
        check_budget(long, memory_bytes=16 * 2**30)
    check_budget(long, allow_long=True, memory_bytes=16 * 2**30)


def test_the_cli_refuses_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "big"
    code = main(["run", str(EXAMPLES / "vowels_quick.yaml"), "--out", str(out),
                 "--set", "training.batch_size=2000", "--set", "geometry.shape=[1000, 1000]"])
    err = capsys.readouterr().err
    assert code == 2 and "GiB" in err and "lower training.batch_size" in err, err
    assert err.strip().splitlines()[-1].startswith("wavefab run: error:")
    assert not out.exists()
    code = main(["run", str(EXAMPLES / "vowels_paper.yaml"), "--out", str(out),
                 "--set", "training.epochs=300"])
    err = capsys.readouterr().err
    assert code == 2 and "pass --allow-long" in err and "estimate: about" in err, err
    assert not out.exists()
