"""Writing a sweep file: values from text, checked before writing, never over a file unasked."""

from __future__ import annotations

import pytest

from wavefab.designkit.config import config_to_dict, load_config
from wavefab.designkit.project import new_project
from wavefab.designkit.sweep import SweepError, load_sweep
from wavefab.designkit.sweep.authoring import (
    base_path_for,
    draft_sweep,
    parse_values,
    setting_values,
    write_sweep_file,
)


@pytest.fixture(scope="module")
def config():
    return new_project("lens").config


@pytest.mark.parametrize(("text", "values"), [
    ("0.1, 0.2", [0.1, 0.2]),
    ("3,4", [3, 4]),
    ("true, false", [True, False]),
    ("1e-3, 2.5e-2", [0.001, 0.025]),  # YAML alone keeps 1e-3 as text
    ("0.4mm, 0.5 mm", ["0.4mm", "0.5 mm"]),
    ("best, first", ["best", "first"]),
    ("[30, 12], [30, 14]", [[30, 12], [30, 14]]),
    ("'a, b', c", ["a, b", "c"]),
    ("0.5,", [0.5]),
])
def test_values_are_read_as_the_sweep_file_reads_them(text, values):
    got = parse_values(text)
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]


@pytest.mark.parametrize(("text", "message"), [
    ("", "at least one value"),
    ("  ", "at least one value"),
    ("0.5, 0.5", "given twice"),
    ("1, 1.0", "given twice"),
    ("a, [b", "cannot read"),
])
def test_unreadable_values_name_the_key(text, message):
    with pytest.raises(SweepError, match=message) as info:
        parse_values(text, name="material.c1")
    assert str(info.value).startswith("material.c1: ")


def test_the_written_file_loads_and_gives_the_expected_points(config, tmp_path):
    path = write_sweep_file(tmp_path / "c1.yaml", config,
                            {"material.c1": parse_values("0.5, 0.6"), "training.seed": [1, 2]},
                            metric="focus_gain", direction="minimize",
                            fixed={"training.epochs": 3}, title="lens")
    assert path == tmp_path / "c1.yaml"
    base = tmp_path / "c1_base.yaml"
    assert base_path_for(path) == base and base.is_file()
    assert "wavefab sweep c1.yaml --out c1" in path.read_text()  # says how to run it
    assert config_to_dict(load_config(base)) == config_to_dict(config)  # a faithful snapshot
    spec = load_sweep(path)
    assert spec.metric == "focus_gain" and spec.direction == "minimize"
    points = spec.points()
    assert [p.overrides for p in points] == [
        {"material.c1": 0.5, "training.seed": 1}, {"material.c1": 0.5, "training.seed": 2},
        {"material.c1": 0.6, "training.seed": 1}, {"material.c1": 0.6, "training.seed": 2}]
    assert points[3].config.material.c1 == 0.6 and points[3].config.training.seed == 2
    assert all(p.config.training.epochs == 3 for p in points)
    assert len({p.id for p in points}) == 4


def test_defaults_stay_out_of_the_file(config, tmp_path):
    path = write_sweep_file(tmp_path / "s.yml", config, {"material.c1": [0.5]})
    text = path.read_text()
    assert "metric" not in text and "direction" not in text and "set:" not in text
    spec = load_sweep(path)
    assert spec.metric == "binary_focus_gain" and spec.direction == "maximize"


@pytest.mark.parametrize(("grid", "named"), [
    ({"material.cx": [0.5]}, "material.cx"),
    ({"material.c1": [0.5, -1.0]}, "material.c1=-1.0"),
    ({"epochs": [1]}, "'epochs'"),
    ({"training.epochs": ["many"]}, "training.epochs"),
    ({"material.c1": []}, "material.c1"),
])
def test_a_bad_key_or_value_is_named_and_nothing_is_written(config, tmp_path, grid, named):
    with pytest.raises(SweepError) as info:
        write_sweep_file(tmp_path / "bad.yaml", config, grid)
    assert named in str(info.value)
    assert len(str(info.value).splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_bad_path_or_an_empty_grid_is_refused(config, tmp_path):
    with pytest.raises(SweepError, match=r"\.yaml or \.yml"):
        write_sweep_file(tmp_path / "sweep.txt", config, {"material.c1": [0.5]})
    with pytest.raises(SweepError, match="at least one dotted key"):
        write_sweep_file(tmp_path / "sweep.yaml", config, {})
    with pytest.raises(SweepError, match="no such folder"):
        write_sweep_file(tmp_path / "nowhere" / "sweep.yaml", config, {"material.c1": [0.5]})
    assert list(tmp_path.iterdir()) == []


def test_the_same_configuration_twice_is_refused(config, tmp_path):
    with pytest.raises(SweepError, match="same configuration as point 1"):
        draft_sweep(tmp_path / "s.yaml", config, {"material.c1": [0.5, 0.5]})


def test_existing_files_are_not_overwritten_unless_asked(config, tmp_path):
    path = write_sweep_file(tmp_path / "s.yaml", config, {"material.c1": [0.5, 0.6]})
    before = path.read_text(), base_path_for(path).read_text()
    with pytest.raises(SweepError, match="already there"):
        write_sweep_file(path, config, {"material.c1": [0.7]})
    assert (path.read_text(), base_path_for(path).read_text()) == before
    # a user's file in the base's place is protected as well
    other = tmp_path / "t_base.yaml"
    other.write_text("# mine\n")
    with pytest.raises(SweepError, match=r"t_base\.yaml"):
        write_sweep_file(tmp_path / "t.yaml", config, {"material.c1": [0.7]})
    assert other.read_text() == "# mine\n" and not (tmp_path / "t.yaml").exists()
    assert draft_sweep(path, config, {"material.c1": [0.7]}).existing == [
        path, base_path_for(path)]
    write_sweep_file(path, config, {"material.c1": [0.7]}, overwrite=True)
    assert [p.overrides for p in load_sweep(path).points()] == [{"material.c1": 0.7}]


def test_setting_values_lists_what_a_sweep_can_vary(config):
    values = setting_values(config)
    assert values["material.c1"] == config.material.c1
    assert values["training.epochs"] == config.training.epochs
    assert "problem" not in values and "schema_version" not in values
    assert list(values) == sorted(values)
