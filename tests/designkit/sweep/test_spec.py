"""The sweep file: strategies, point ids, validation before anything runs."""

from __future__ import annotations

import pytest

from wavefab.designkit.sweep.spec import SweepError, load_sweep


@pytest.fixture
def folder(tmp_path, tiny_lens_text):
    (tmp_path / "base.yaml").write_text(tiny_lens_text)
    return tmp_path


def sweep_file(folder, text):
    path = folder / "sweep.yaml"
    path.write_text("base: base.yaml\n" + text)
    return path


def test_grid_and_zip_give_the_product_with_stable_ids(folder):
    spec = load_sweep(sweep_file(
        folder, "grid: {material.c1: [0.5, 0.6]}\n"
                "zip: {training.seed: [1, 2], material.eta: [0.5, 0.4]}\n"))
    points = spec.points()
    assert [p.overrides for p in points] == [
        {"material.c1": 0.5, "training.seed": 1, "material.eta": 0.5},
        {"material.c1": 0.5, "training.seed": 2, "material.eta": 0.4},
        {"material.c1": 0.6, "training.seed": 1, "material.eta": 0.5},
        {"material.c1": 0.6, "training.seed": 2, "material.eta": 0.4}]
    assert points[2].config.material.c1 == 0.6 and points[1].config.training.seed == 2
    assert len({p.id for p in points}) == 4 and all(len(p.id) == 12 for p in points)
    again = load_sweep(sweep_file(folder, "# a comment changes nothing\n"
                                          "zip: {training.seed: [1, 2], material.eta: [0.5, 0.4]}\n"
                                          "grid: {material.c1: [0.5, 0.6]}\n")).points()
    assert {p.id for p in again} == {p.id for p in points}
    assert spec.metric == "binary_focus_gain" and spec.direction == "maximize"


def test_set_overrides_every_point_and_changes_the_ids(folder):
    plain = load_sweep(sweep_file(folder, "grid: {material.c1: [0.5]}\n")).points()
    fixed = load_sweep(sweep_file(folder, "set: {training.epochs: 3}\n"
                                          "grid: {material.c1: [0.5]}\n")).points()
    assert fixed[0].config.training.epochs == 3 and fixed[0].id != plain[0].id


def test_random_and_latin_hypercube_samples(folder):
    spec = load_sweep(sweep_file(
        folder, "random: {samples: 8, seed: 3, method: lhs,\n"
                "  material.c1: {low: 0.4, high: 0.8},\n"
                "  training.learning_rate: {low: 1e-3, high: 1e-1, log: true},\n"
                "  training.seed: {choices: [1, 2]}}\n"))
    points = spec.points()
    c1 = sorted(p.overrides["material.c1"] for p in points)
    # Latin hypercube: one sample in each eighth of the range
    assert [int((v - 0.4) / 0.05) for v in c1] == list(range(8))
    assert all(1e-3 <= p.overrides["training.learning_rate"] <= 1e-1 for p in points)
    assert {p.overrides["training.seed"] for p in points} == {1, 2}
    assert [p.id for p in spec.points()] == [p.id for p in points]  # same seed, same points


@pytest.mark.parametrize(("text", "message"), [
    ("grid: {material.c1: [0.5]}\nfoo: 1\n", "foo: unknown key"),
    ("grid: {material.nope: [1]}\n", "point 1 (material.nope=1): material.nope: unknown key"),
    ("grid: {material.c1: [0.5, -1]}\n", "point 2 (material.c1=-1): material"),
    ("grid: {material.c1: []}\n", "grid.material.c1: give a non-empty list"),
    ("grid: {}\n", "grid: give a mapping"),
    ("random: {samples: 2, material.c1: {low: 0.9, high: 0.1}}\n", "low must be below high"),
    ("random: {samples: 0, material.c1: {low: 0.1, high: 0.9}}\n", "samples: a positive"),
    ("optuna: {trials: 3, sampler: grid, material.c1: {low: 0.1, high: 0.9}}\n", "sampler: one of"),
    ("zip: {training.seed: [1, 2], material.c1: [0.5]}\n", "every list needs the same length"),
    ("grid: {material.c1: [0.5]}\nrandom: {samples: 1}\n", "give one strategy"),
    ("cluster: {kind: slurm}\ngrid: {material.c1: [0.5]}\n", "give cores: and memory:"),
    ("cluster: {kind: slurm, cores: 2, memory: 8GB, walltime: 2:00:00}\n"
     "grid: {material.c1: [0.5]}\n", "as the number 7200"),
    ("cluster: {kind: pbs, cores: 2, memory: 8GB, walltime: '2:75:00'}\n"
     "grid: {material.c1: [0.5]}\n", "cluster.walltime: give it quoted"),
])
def test_bad_sweep_files_are_one_line(folder, text, message):
    with pytest.raises(SweepError) as caught:
        load_sweep(sweep_file(folder, text)).points()
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_base_is_named(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("base: nowhere.yaml\ngrid: {material.c1: [0.5]}\n")
    with pytest.raises(SweepError, match=r"base: nowhere\.yaml not found"):
        load_sweep(path)
    with pytest.raises(SweepError, match=r"missing\.yaml: cannot read the file"):
        load_sweep(tmp_path / "missing.yaml")


@pytest.mark.parametrize(("value", "seconds"), [("02:00:00", 7200), ("0:30", 1800),
                                                ("48:00:05", 172805)])
def test_a_walltime_reads_as_seconds(value, seconds):
    from wavefab.designkit.sweep.spec import walltime_seconds

    assert walltime_seconds(value, "cluster.walltime") == seconds
