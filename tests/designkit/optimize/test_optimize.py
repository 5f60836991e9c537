"""The training loop: events, metrics, atomic checkpoints, and resume == uninterrupted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wavefab.designkit.errors import CheckpointWarning, DesignValueError
from wavefab.designkit.optimize import (
    BatchEnd,
    EpochEnd,
    FoldEnd,
    RunEnd,
    RunStart,
    TrainingConfig,
    optimize,
)
from wavefab.designkit.parametrization import LinearSpeed, Parametrization
from wavefab.designkit.problems.synthetic_vowels import synthetic_vowels
from wavefab.designkit.problems.vowels import VowelGeometry, VowelProblem

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")

GEOMETRY = VowelGeometry(shape=(50, 60), absorber=8, source_inset=5, probe_inset=5,
                         probe_spacing=7, region_gap=3)
SETTINGS = TrainingConfig(epochs=2, batch_size=4, learning_rate=0.02, window=200, folds=2,
                            seed=5)


@pytest.fixture(scope="module")
def data():
    return synthetic_vowels(speakers={"m": 2, "w": 2}, duration=(0.04, 0.06), seed=2)


def train_vowels(data, geometry, parametrization, settings, **options):
    """optimize() on the vowel problem of ``data`` laid out as ``geometry``."""
    return optimize(VowelProblem(data, geometry), parametrization, settings, **options)


def _run(data, **kwargs):
    par = Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5))
    return list(train_vowels(data, GEOMETRY, par, SETTINGS, **kwargs))


def test_events_and_metrics(data):
    events = _run(data)
    kinds = [type(e) for e in events]
    assert kinds.count(EpochEnd) == 4 and kinds.count(FoldEnd) == 2 and kinds[-1] is RunEnd
    assert events[0] == RunStart("vowels", folds=2, epochs=2)
    assert isinstance(events[1], BatchEnd) and events[1].batches == 2
    end = events[-1]
    assert set(end.metrics) >= {"train_accuracy", "test_accuracy", "loss", "per_fold"}
    assert 0 <= end.metrics["test_accuracy"] <= 1 and len(end.metrics["per_fold"]) == 2
    for fold in end.metrics["per_fold"]:
        assert np.asarray(fold["confusion"]).sum() == 6  # 12 tokens, 6 per test fold
    assert len(end.latents) == 2 and end.latents[0].shape == GEOMETRY.shape
    assert float(end.latents[0][~GEOMETRY.region().numpy()].std()) == 0.0
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert 0 <= epoch.metrics["gray_level"] <= 1 and epoch.metrics["beta"] == 100.0
    assert epoch.row()["fold"] == 0 and "confusion" in epoch.row()


def test_resume_after_a_kill_equals_an_uninterrupted_run(data, tmp_path):
    reference = _run(data)[-1]
    run = train_vowels(data, GEOMETRY,
                       Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5)),
                       SETTINGS, checkpoint_dir=tmp_path)
    for event in run:  # "kill" the run after fold 1's first epoch
        if isinstance(event, EpochEnd) and (event.fold, event.epoch) == (1, 0):
            break
    run.close()
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    assert (state["fold"], state["epoch"]) == (1, 0)
    resumed = _run(data, checkpoint_dir=tmp_path, resume=True)
    assert [type(e) for e in resumed].count(EpochEnd) == 1
    end = resumed[-1]
    for a, b in zip(end.latents, reference.latents, strict=True):
        np.testing.assert_array_equal(a, b)
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in reference.history]
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in end.history] == strip
    assert end.metrics == reference.metrics


def test_damaged_or_foreign_checkpoints_are_clear_errors(data, tmp_path):
    run = train_vowels(data, GEOMETRY,
                       Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5)),
                       SETTINGS, checkpoint_dir=tmp_path)
    next(e for e in run if isinstance(e, EpochEnd))
    run.close()
    other = TrainingConfig(epochs=3, batch_size=4, learning_rate=0.02, window=200, folds=2)
    par = Parametrization(region=GEOMETRY.region())
    with pytest.raises(DesignValueError, match="other training settings"):
        list(train_vowels(data, GEOMETRY, par, other, checkpoint_dir=tmp_path, resume=True))
    other_data = synthetic_vowels(speakers={"m": 2, "w": 2}, duration=(0.04, 0.06), seed=3)
    with pytest.raises(DesignValueError, match=r"other problem \(data or geometry\)"):
        list(train_vowels(other_data, GEOMETRY, par, SETTINGS, checkpoint_dir=tmp_path,
                          resume=True))
    (tmp_path / "checkpoint.npz").write_bytes(b"truncated")
    with pytest.raises(DesignValueError, match="incomplete"):
        list(train_vowels(data, GEOMETRY, par, SETTINGS, checkpoint_dir=tmp_path, resume=True))


def test_schedules_follow_the_epoch():
    settings = TrainingConfig(learning_rate=0.1, lr_decay=0.5,
                                beta_schedule=((0, 10.0), (2, 50.0), (4, float("inf"))))
    assert [settings.learning_rate_at(e) for e in range(3)] == [0.1, 0.05, 0.025]
    assert [settings.beta_at(e) for e in range(6)] == [10, 10, 50, 50, float("inf"),
                                                       float("inf")]
    assert TrainingConfig().beta_at(3) is None
    with pytest.raises(DesignValueError, match="beta_schedule must be"):
        TrainingConfig(beta_schedule=((3, 10.0), (1, 5.0)))
    with pytest.raises(DesignValueError, match="lr_decay must lie"):
        TrainingConfig(lr_decay=1.5)


def test_resume_with_schedules_equals_an_uninterrupted_run(data, tmp_path):
    settings = TrainingConfig(epochs=3, batch_size=4, learning_rate=0.02, window=200,
                                folds=2, lr_decay=0.7, beta_schedule=((0, 5.0), (2, 50.0)))
    par = Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5))
    reference = list(train_vowels(data, GEOMETRY, par, settings))[-1]
    run = train_vowels(data, GEOMETRY, par, settings, checkpoint_dir=tmp_path)
    for event in run:
        if isinstance(event, EpochEnd) and (event.fold, event.epoch) == (0, 1):
            break
    run.close()
    end = list(train_vowels(data, GEOMETRY, par, settings, checkpoint_dir=tmp_path,
                            resume=True))[-1]
    for a, b in zip(end.latents, reference.latents, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_settings_name_the_field():
    with pytest.raises(DesignValueError, match=r"training\.epochs must be a positive integer"):
        TrainingConfig(epochs=0)
    with pytest.raises(DesignValueError, match=r"training\.learning_rate must be positive"):
        TrainingConfig(learning_rate=-1)


def test_a_damaged_checkpoint_falls_back_to_the_previous_one(data, tmp_path):
    reference = _run(data)[-1]
    run = train_vowels(data, GEOMETRY,
                       Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5)),
                       SETTINGS, checkpoint_dir=tmp_path)
    for event in run:
        if isinstance(event, EpochEnd) and (event.fold, event.epoch) == (1, 0):
            break
    run.close()
    previous = json.loads((tmp_path / "checkpoint.prev.json").read_text())
    assert (previous["fold"], previous["epoch"]) == (0, 1)
    damaged = bytearray((tmp_path / "checkpoint.npz").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "checkpoint.npz").write_bytes(bytes(damaged))
    with pytest.warns(CheckpointWarning, match="SHA-256 does not match"):
        resumed = _run(data, checkpoint_dir=tmp_path, resume=True)
    assert [type(e) for e in resumed].count(EpochEnd) == 2  # fold 1 again, from its start
    for a, b in zip(resumed[-1].latents, reference.latents, strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed[-1].metrics == reference.metrics


@pytest.mark.parametrize("killed_after", range(4))
def test_a_kill_inside_a_checkpoint_write_leaves_a_good_one(tmp_path, monkeypatch, killed_after):
    from wavefab.designkit.optimize import checkpoint

    def arrays(value):
        return {"latent": np.full((3, 3), value, np.float32)}

    checkpoint.save_checkpoint(tmp_path, {"epoch": 0}, arrays(0))
    checkpoint.save_checkpoint(tmp_path, {"epoch": 1}, arrays(1))
    steps = []

    class Killed(BaseException):
        pass

    def counted(real):
        def step(*args):
            if len(steps) == killed_after:
                raise Killed
            steps.append(args)
            real(*args)
        return step

    monkeypatch.setattr(checkpoint, "_keep", counted(checkpoint._keep))
    monkeypatch.setattr(checkpoint, "write_atomically", counted(checkpoint.write_atomically))
    with pytest.raises(Killed):
        checkpoint.save_checkpoint(tmp_path, {"epoch": 2}, arrays(2))
    monkeypatch.undo()
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state, loaded = checkpoint.load_checkpoint(tmp_path)
    assert state["epoch"] == 1 and float(loaded["latent"][0, 0]) == 1.0
    # after the new npz landed but not its json, the current pair is damaged: one warning
    assert len(caught) == (1 if killed_after == 3 else 0)
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_checkpoint_that_does_not_fit_the_run_is_refused(data, tmp_path):
    from wavefab.designkit.optimize.checkpoint import save_checkpoint

    run = train_vowels(data, GEOMETRY,
                       Parametrization(region=GEOMETRY.region(), material=LinearSpeed(1.0, 0.5)),
                       SETTINGS, checkpoint_dir=tmp_path)
    next(e for e in run if isinstance(e, EpochEnd))
    run.close()
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    save_checkpoint(tmp_path, state, {"latent": np.zeros((4, 4), np.float32),
                                      "exp_avg": np.zeros((4, 4)), "exp_avg_sq": np.zeros((4, 4)),
                                      "step": np.asarray(1.0)})
    with pytest.raises(DesignValueError, match=r"does not fit this run \(latent of shape \(4, 4\)"):
        _run(data, checkpoint_dir=tmp_path, resume=True)
