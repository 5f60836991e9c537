"""The one door for configurations: hostile or broken files and ``--set`` values are one clear
error naming the dotted path and the value; never a traceback, a hang or a run of defaults.

``tests/data/bad/config/`` holds the inputs that once crashed or hung a run (issue 18's fuzzing
harness): each must stay a clean refusal.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavefab.app.cli import main
from wavefab.designkit.config import ConfigError, config_from_dict, config_to_dict, load_config
from wavefab.designkit.errors import DesignError
from wavefab.designkit.yamlfile import parse_yaml, yaml_value

BAD = Path(__file__).resolve().parents[1] / "data" / "bad" / "config"

#: what each refusal must say (a fragment of its one problem line)
SAYS = {
    "billion_laughs.yaml": "YAML aliases (*l0) are not read",
    "binary.yaml": "not UTF-8 text",
    "bool_as_integer.yaml": "training.epochs: must be an integer, got True",
    "comments_only.yaml": "the file is empty",
    "deep_nesting.yaml": "nested more than 32 levels deep",
    "empty.yaml": "the file is empty",
    "huge_blur.yaml": "material.blur_radius: 1,000,000,000 cells; give 0..140",
    "huge_epochs.yaml": "training.epochs: 1,000,000,000,000 is above limits.epochs (10,000)",
    "huge_grid.yaml": "lens.shape: 1,000,000 × 1,000,000 = 1,000,000,000,000 cells is above",
    "huge_integer.yaml": "a value YAML cannot read (Exceeds the limit (4300 digits)",
    "inf_integer.yaml": "lens.pml: must be an integer, got inf",
    "integer_keys.yaml": "keys are names, got 1",
    "latin1.yaml": "not UTF-8 text (byte 20)",
    "limits_zero.yaml": "limits.epochs must be a positive integer, got 0",
    "nan_integer.yaml": "training.lbfgs_iterations: must be an integer, got nan",
    "nan_number.yaml": "material.c1: must be a finite number, got nan",
    "nul_byte.yaml": "not valid YAML",
    "python_tag.yaml": "not valid YAML (could not determine a constructor",
    "section_is_list.yaml": "training: must be a mapping of keys, got [1, 2]",
    "string_shape.yaml": "lens.shape: must be a list, got 'big'",
    "tab_indent.yaml": "not valid YAML",
    "top_list.yaml": "a run configuration is a mapping of keys at the top level, got list",
    "top_number.yaml": "at the top level, got int 42",
    "top_string.yaml": "at the top level, got str",
    "utf16.yaml": "not UTF-8 text (byte 1)",
}


def test_the_corpus_is_the_table():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(SAYS)


@pytest.mark.parametrize("name", sorted(SAYS))
def test_each_bad_configuration_is_refused_by_name(name: str):
    with pytest.raises(ConfigError) as caught:
        load_config(BAD / name)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert SAYS[name] in caught.value.problems[0], caught.value.problems[0]


@pytest.mark.parametrize("name", sorted(SAYS))
def test_the_cli_refuses_each_with_exit_2_and_no_traceback(name: str, capsys, tmp_path):
    assert main(["run", str(BAD / name), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wavefab run: error:") and "Traceback" not in err
    assert SAYS[name] in err
    assert not (tmp_path / "out").exists(), "a refused configuration started a run"


@pytest.mark.parametrize("path, says", [
    ("/dev/null", "not a regular file"),
    (".", "a folder; give the path of a run configuration"),
    ("missing.yaml", "cannot read the file (No such file or directory)"),
])
def test_a_path_that_is_no_configuration_is_named(path: str, says: str):
    with pytest.raises(ConfigError, match=r".*" + says.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


@pytest.mark.parametrize("override, says", [
    ("training.epochs=.inf", "training.epochs: must be an integer, got inf"),
    ("training.epochs=1000000000", "training.epochs: 1,000,000,000 is above limits.epochs"),
    ("lens.pml=.nan", "lens.pml: must be an integer, got nan"),
    ("material.c1=.inf", "material.c1: must be a finite number, got inf"),
    ("training.seed=*x", "--set training.seed: line 1: YAML aliases (*x) are not read"),
    ("training.epochs=" + "9" * 5000, "--set training.epochs: a value YAML cannot read"),
    ("lens.shape=[[[[1]]]]", "lens.shape: must have 2 entries"),
    ("lens.shape=[[1], 2]", "lens.shape[0]: must be an integer, got [1]"),
    ("training.epochs", "expected KEY=VALUE"),
    ("training.epochs.x=1", "training.epochs: must be an integer, got {'x': 1}"),
    ("problem.x=1", "--set problem.x: problem is not a section"),
])
def test_set_goes_through_the_same_door(override: str, says: str, tmp_path):
    path = tmp_path / "lens.yaml"
    path.write_text("problem: lens\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, [override])
    assert any(says in p for p in caught.value.problems), caught.value.problems


def test_a_limit_is_raised_on_purpose(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("problem: lens\ntraining: {epochs: 20000}\n")
    with pytest.raises(ConfigError, match=r"set limits\.epochs: 20000 to go past it"):
        load_config(path)
    config = load_config(path, ["limits.epochs=20000"])
    assert config.training.epochs == 20000 and config.limits.epochs == 20000


def test_infinity_is_kept_where_it_means_something(tmp_path):
    path = tmp_path / "step.yaml"
    path.write_text("problem: lens\nmaterial: {beta: .inf}\n"
                    "training: {beta_schedule: [[0, 8.0], [3, .inf]], beta_max: .inf}\n")
    config = load_config(path)
    assert math.isinf(config.material.beta) and math.isinf(config.training.beta_schedule[1][1])


def test_yaml_values_are_bounded_like_files():
    assert yaml_value("[1, 2.5, .inf]", "v") == [1, 2.5, math.inf]
    with pytest.raises(DesignError, match="aliases"):
        parse_yaml("a: &x 1\nb: *x\n", "f")
    with pytest.raises(DesignError, match="characters"):
        yaml_value("x" * 200_001, "v")


# -- property: any mutation of a valid configuration is accepted or refused by name ---------

_ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 300), st.floats(allow_nan=True)), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def _keys(values: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in values.items():
        out.append(f"{prefix}{key}")
        if isinstance(value, dict):
            out.extend(_keys(value, f"{prefix}{key}."))
    return out


_EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
#: the example configurations of each problem and physics, as plain mappings
_BASES = {name: config_to_dict(load_config(_EXAMPLES / f"{name}.yaml"))
          for name in ("lens", "lens_fab", "vowels_fab", "vowels_acoustic")}
_BASES["custom"] = config_to_dict(config_from_dict({"problem": "custom"}))
_MUTATIONS = st.sampled_from(sorted(_BASES)).flatmap(lambda name: st.tuples(
    st.just(name),
    st.lists(st.tuples(st.sampled_from(_keys(_BASES[name])), _ODD), min_size=1, max_size=3)))


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_MUTATIONS)
def test_mutated_configurations_raise_only_config_errors(mutation):
    _accepted_or_refused_by_name(mutation)


@pytest.mark.slow
@pytest.mark.fuzz
@settings(max_examples=3000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_MUTATIONS)
def test_fuzz_mutated_configurations_at_length(mutation):
    _accepted_or_refused_by_name(mutation)


def _accepted_or_refused_by_name(mutation: tuple) -> None:
    import copy

    name, changes = mutation
    values = copy.deepcopy(_BASES[name])
    for key, value in changes:
        target = values
        *parents, last = key.split(".")
        for part in parents:
            target = target[part] if isinstance(target.get(part), dict) else {}
        target[last] = value
    try:
        config_from_dict(values)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
