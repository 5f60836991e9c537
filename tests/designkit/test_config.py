"""Run configurations: examples load, round trip, every problem listed by dotted path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavefab.designkit.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    fabrication_from_config,
    load_config,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
#: The run configurations among the examples (sweep files have a ``base:``; their own test
#: is in tests/app/cli/test_sweep.py).
RUN_EXAMPLES = sorted(p for p in EXAMPLES.glob("*.yaml")
                      if not p.read_text().lstrip("# \n").startswith("base:")
                      and "\nbase:" not in p.read_text())


@pytest.mark.parametrize("name", ["vowels_paper.yaml", "vowels_quick.yaml"])
def test_examples_load(name):
    config = load_config(EXAMPLES / name)
    assert config.geometry.shape == (140, 140) and config.data.vowels == ("ae", "ei", "iy")
    assert config.training.learning_rate == 4e-4


@pytest.mark.parametrize("path", RUN_EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates_and_round_trips(path):
    config = load_config(path)
    assert config_from_dict(config_to_dict(config)) == config
    fabrication_from_config(config)  # the fabrication section builds too


def test_defaults_are_the_reference_and_round_trip():
    config = load_config(EXAMPLES / "vowels_paper.yaml")
    assert config == RunConfig()
    assert config_from_dict(config_to_dict(config)) == config


def test_every_problem_is_listed_by_dotted_path():
    with pytest.raises(ConfigError) as info:
        config_from_dict({
            "training": {"epochs": 0, "learning_rate": "fast", "bogus": 1},
            "geometry": {"shape": [140]},
            "materials": {},
            "problem": "crystal",
        })
    problems = "\n".join(info.value.problems)
    for expected in ("training.learning_rate: must be a number",
                     "training.bogus: unknown key",
                     "geometry.shape: must have 2 entries",
                     "materials: unknown key",
                     "problem: must be one of ['vowels', 'lens', 'custom']"):
        assert expected in problems
    with pytest.raises(ConfigError, match=r"training\.epochs must be a positive integer, got 0"):
        config_from_dict({"training": {"epochs": 0}})
    with pytest.raises(ConfigError, match="schema_version: this wavefab reads version 1"):
        config_from_dict({"schema_version": 7})


def test_overrides_use_dotted_keys_and_yaml_values():
    values = apply_overrides({}, ["training.seed=3", "data.vowels=[iy, ae]", "material.c1=0.4",
                                  "training.beta_schedule=[[0, 10], [5, .inf]]"])
    config = config_from_dict(values)
    assert config.training.seed == 3 and config.data.vowels == ("iy", "ae")
    assert config.training.beta_schedule == ((0, 10.0), (5, float("inf")))
    assert config_from_dict(config_to_dict(config)) == config
    assert config.material.c1 == 0.4
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides({}, ["training.seed"])


def test_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_speaker_split_reaches_the_problem():
    from wavefab.designkit.run import build_problem

    config = config_from_dict({"data": {"split": "speakers"}, "training": {"folds": 3}})
    problem = build_problem(config)
    speakers = np.asarray(problem.data.speakers)
    for fold in problem.folds(3, seed=0):
        assert not set(speakers[fold.train]) & set(speakers[fold.test])
    with pytest.raises(ConfigError, match=r"data\.split: must be one of"):
        config_from_dict({"data": {"split": "voices"}})
