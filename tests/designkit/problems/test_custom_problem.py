"""The drawn problem (``problem: custom``) and the edits the designer's mouse tools make."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wavefab.designkit.config import ConfigError, config_from_dict, config_to_dict, load_config
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.problems.base import Fold
from wavefab.designkit.problems.custom import (
    CustomConfig,
    CustomProbeConfig,
    CustomProblem,
    RegionShapeConfig,
)
from wavefab.designkit.project import (
    add_port,
    delete_port,
    move_port,
    new_project,
    paint_region,
    resize_domain,
    save_config,
    sketch,
)


def _apply(config, change):
    key, value = change
    values = config_to_dict(config)
    node = values
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return config_from_dict(values)


def test_rectangles_are_inclusive_and_ellipses_fill_their_box():
    rect = RegionShapeConfig("rect", rows=(12, 10), cols=(3, 7)).cells((20, 20))
    assert rect.sum() == 3 * 5 and rect[10:13, 3:8].all()
    ellipse = RegionShapeConfig("ellipse", rows=(20, 79), cols=(10, 49)).cells((100, 60))
    # the ellipse inscribed in the 60 × 40 cell box: area π·30·20 cells (to the pixel edge)
    assert ellipse.sum() == pytest.approx(math.pi * 30 * 20, rel=0.02)
    np.testing.assert_array_equal(ellipse[20:80], ellipse[20:80][::-1])  # symmetric in rows
    np.testing.assert_array_equal(ellipse[:, 10:50], ellipse[:, 10:50][:, ::-1])  # and cols
    assert ellipse[50, 10] and ellipse[50, 49] and not ellipse[20, 10]


def test_a_brush_stroke_covers_the_cells_within_its_radius_of_the_path():
    stroke = RegionShapeConfig("stroke", points=((10, 5), (10, 25)), radius=3).cells((30, 40))
    rows, cols = np.nonzero(stroke)
    assert rows.min() == 7 and rows.max() == 13 and cols.min() == 2 and cols.max() == 28
    # brute force: distance from each cell centre to the segment
    rr, cc = np.mgrid[0:30, 0:40]
    t = np.clip((cc - 5) / 20, 0, 1)
    expected = (rr - 10) ** 2 + (cc - (5 + 20 * t)) ** 2 <= 9
    np.testing.assert_array_equal(stroke, expected)
    dot = RegionShapeConfig("stroke", points=((4, 4),), radius=1.5).cells((9, 9))
    assert dot.sum() == 9  # a 3 × 3 block: the corners are at √2 < 1.5


def test_strokes_apply_in_order_and_stay_off_the_pml_and_the_ports():
    geometry = CustomConfig(
        shape=(60, 60), pml=10, sources=((30, 15),),
        probes=(CustomProbeConfig(30, 45, "out", 1.0),),
        region=(RegionShapeConfig("rect", rows=(0, 59), cols=(0, 59)),
                RegionShapeConfig("ellipse", rows=(25, 35), cols=(25, 35), erase=True)))
    mask = geometry.region_mask()
    assert not mask[:10].any() and not mask[:, :10].any() and not mask[50:].any()
    assert not mask[30, 30] and mask[20, 20]
    assert not mask[30, 15] and not mask[30, 45]  # ports are never design cells


@pytest.mark.parametrize("changes, message", [
    ({"sources": [[5, 60]]}, "custom.sources[0] (5, 60) must lie inside the PML-free interior"),
    ({"probes": [{"row": 60, "col": 30, "name": "a"}]}, "custom.probes[0] (60, 30) sits on"),
    ({"probes": [{"row": 50, "col": 130, "weight": -1.0}]}, "positive weight"),
    ({"probes": [{"row": 50, "col": 130, "name": "a b"}]}, "custom.probes[0].name"),
    ({"region": [{"kind": "rect", "rows": [0, 10], "cols": [0, 10]}]}, "covers no cell"),
    ({"region": [{"kind": "stroke", "points": []}]}, "custom.region[0]: a stroke needs"),
    ({"sources": []}, "place at least one source"),
    ({"shape": [30, 30]}, "leaves no interior"),
    ({"shape": [130000, 200000]}, "is above limits.cells"),  # "20 x 13" m at 0.1 mm pitch
    ({"steps": 10**9}, "custom.steps: 1,000,000,000 is above limits.steps"),
    ({"steps": 1}, "custom.steps must be at least 2"),
    ({"pml": 0}, "custom.pml must be at least 1"),
    ({"h": float("inf")}, "finite"),
    ({"region": [{"kind": "circle"}]}, "custom.region[0].kind"),
])
def test_bad_drawings_are_refused_naming_the_field(changes, message):
    values = {"problem": "custom", "custom": {"sources": [[60, 30]], **changes}}
    with pytest.raises(ConfigError) as info:
        config_from_dict(values)
    assert message in str(info.value)


def test_the_problem_measures_gains_against_the_unpatterned_medium():
    geometry = CustomConfig(shape=(80, 100), pml=12, steps=300,
                              sources=((40, 20),),
                              probes=(CustomProbeConfig(40, 80, "out", 1.0),
                                      CustomProbeConfig(20, 80, "side", -1.0)),
                              region=(RegionShapeConfig("rect", rows=(25, 55), cols=(35, 65)),))
    problem = CustomProblem(geometry)
    fold = Fold(train=np.arange(1))
    nothing = problem.evaluate(torch.ones(80, 100), fold)
    assert nothing["gain"] == pytest.approx(1.0, rel=1e-9)
    assert nothing["gain_out"] == pytest.approx(1.0) and nothing["gain_side"] == pytest.approx(1.0)
    # a slow block between source and output: gain and per-probe gains are consistent
    speed = torch.ones(80, 100)
    speed[problem.setup.region] = 0.6
    metrics = problem.evaluate(speed, fold)
    expected = math.sqrt(metrics["gain_out"] / metrics["gain_side"])  # weights ±½
    assert metrics["gain"] == pytest.approx(expected, rel=1e-9)
    probes = problem.setup.simulate(speed, problem.pulse[None]).probes
    assert math.exp(-float(problem.loss(probes, torch.zeros(1)))) == pytest.approx(
        metrics["gain"], rel=1e-5)


def test_the_blank_template_optimizes_to_a_gain(tmp_path):
    from wavefab.designkit.run import run

    project = new_project("blank")
    config = _apply(project.config, ("training.epochs", 2))
    for _ in run(config, tmp_path / "out"):
        pass
    import json

    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    # focusing onto the probe beats the empty medium, and so does the binary design
    assert metrics["gain"] > 2.0 and metrics["binary_gain"] > 2.0
    assert (tmp_path / "out" / "design.npz").is_file()


def test_drawing_edits_on_the_drawn_problem():
    config = new_project("blank").config
    config = _apply(config, add_port(config, "source", 40, 30))
    config = _apply(config, add_port(config, "probe", 80, 130))
    assert config.custom.sources == ((60, 30), (40, 30))
    assert [p.name for p in config.custom.probes] == ["out", "p2"]
    config = _apply(config, move_port(config, "probe", 1, 85, 131))
    assert (config.custom.probes[1].row, config.custom.probes[1].col) == (85, 131)
    config = _apply(config, delete_port(config, "source", 0))
    assert config.custom.sources == ((40, 30),)
    with pytest.raises(DesignValueError, match="last source cannot be deleted"):
        delete_port(config, "source", 0)
    with pytest.raises(DesignValueError, match="no probe number 5"):
        move_port(config, "probe", 4, 50, 50)
    before = sketch(config).region.sum()
    config = _apply(config, paint_region(config, {"kind": "ellipse", "rows": [60, 80],
                                                  "cols": [60, 80], "erase": True}))
    assert sketch(config).region.sum() < before
    with pytest.raises(ConfigError, match=r"custom\.probes"):
        _apply(config, move_port(config, "probe", 0, 5, 5))  # into the PML


def test_drawing_edits_on_the_lens_and_the_vowels():
    lens = new_project("lens").config
    lens = _apply(lens, add_port(lens, "source", 60, 28))  # the lens has one: placing moves it
    assert lens.lens.source == (60, 28)
    lens = _apply(lens, paint_region(lens, {"kind": "rect", "rows": [90, 30], "cols": [50, 80]}))
    assert lens.lens.region_rows == (30, 90) and lens.lens.region_cols == (50, 80)
    with pytest.raises(DesignValueError, match="one rectangle"):
        paint_region(lens, {"kind": "ellipse", "rows": [1, 2], "cols": [1, 2]})
    with pytest.raises(DesignValueError, match="exactly one source"):
        delete_port(lens, "source", 0)
    vowels = new_project("vowels").config
    with pytest.raises(DesignValueError, match="blank template"):
        add_port(vowels, "probe", 50, 50)


def test_domain_size_in_physical_units_and_config_round_trip(tmp_path):
    config = _apply(new_project("blank").config, ("fabrication.pitch", "0.1mm"))
    key, shape = resize_domain(config, 20e-3, 13e-3)
    assert (key, shape) == ("custom.shape", [130, 200])
    with pytest.raises(DesignValueError, match=r"fabrication\.pitch"):
        resize_domain(new_project("blank").config, 1e-3, 1e-3)
    config = _apply(config, paint_region(config, {"kind": "stroke", "points": [[40, 60],
                                                  [50, 90]], "radius": 4.0}))
    project = new_project("blank")
    project.config = config
    path = save_config(project, tmp_path / "drawn.yaml")
    assert load_config(path) == config  # `wavefab run` reads what the designer drew


def test_a_probe_the_pulse_never_reaches_is_refused():
    geometry = CustomConfig(shape=(80, 200), pml=12, steps=140, sources=((40, 20),),
                              probes=(CustomProbeConfig(40, 180, "far", 1.0),),
                              region=(RegionShapeConfig("rect", rows=(25, 55), cols=(60, 120)),))
    with pytest.raises(DesignValueError, match="far receive almost no energy"):
        CustomProblem(geometry).reference()
