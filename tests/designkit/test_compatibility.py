"""Files written by an earlier wavefab still open, check, export and re-simulate the same.

``tests/data/golden`` was written by wavefab at commit 9e1eefd (see its README): a results
folder of ``golden.yaml`` (with its checkpoint), an export of it (GDS, STL with lid and port
holes, ``export.json``), a designer project saved from it, and ``expected.json``: the figures
that wavefab computed on them. Code that changes where things live must reproduce them.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())


# The float32 kernels compiled cold give figures about 1e-6 relative off those of the same kernels
# loaded from numba's cache (fastmath lets LLVM reorder sums; the speed issue owns removing that):
# CI always compiles cold, expected.json was computed warm. A move that changes behaviour shifts
# these figures by far more than 1e-5.
REL = 1e-5


def _close(actual, expected, path="") -> None:
    """Equal mappings/lists, numbers to :data:`REL` relative."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert set(actual) == set(expected), f"{path}: keys {sorted(set(actual) ^ set(expected))}"
        for key, value in expected.items():
            _close(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), path
        for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _close(a, e, f"{path}[{k}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, rel=REL, abs=1e-12), path
    else:
        assert actual == expected, path


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A writable copy of the golden results folder (commands write reports into it)."""
    return Path(shutil.copytree(GOLDEN / "results", tmp_path / "results"))


def test_golden_results_folder_opens_as_a_design():
    from wavefab.designkit.export import load_design

    design = load_design(GOLDEN / "results")
    assert design.shape == (64, 88)
    assert design.pitch == pytest.approx(1e-4)
    assert design.process == "sla"
    assert (design.min_solid_cells, design.min_void_cells) == (5, 5)
    assert design.filtered is not None and design.region is not None
    assert design.scale is not None and design.scale["wave_speed_m_s"] == 343.0


def test_golden_design_checks_as_before():
    from wavefab.designkit.export import load_design
    from wavefab.designkit.fab import drc

    design = load_design(GOLDEN / "results")
    report = drc.check(design.binary, 5, min_void_cells=5, region=design.region,
                       pitch=design.pitch)
    _close(report.to_dict(), EXPECTED["drc"])
    strict = drc.check(design.binary, 30, min_void_cells=9, region=design.region,
                       pitch=design.pitch)
    _close(strict.to_dict(), EXPECTED["drc_strict"])
    _close(json.loads((GOLDEN / "results" / "drc.json").read_text()), EXPECTED["drc"])


def test_golden_design_exports_as_before(tmp_path: Path):
    from wavefab.designkit.export import ExportSettings, export_design, load_design, port_openings

    design = load_design(GOLDEN / "results")
    settings = ExportSettings(height=0.5e-3, base=0.5e-3, lid=0.5e-3,
                              openings=port_openings(design.ports, design.shape[0], 1e-3,
                                                     design.pitch))
    gds, stl = tmp_path / "golden.gds", tmp_path / "golden.stl"
    report = export_design(design, [gds, stl], settings).to_dict()
    expected = EXPECTED["export"]
    files = {Path(k).name: v for k, v in report.pop("files").items()}
    expected_files = {Path(k).name: {**v, **({"path": str(gds)} if "path" in v else {})}
                      for k, v in expected["files"].items()}
    _close(files, expected_files)
    _close(report, {k: v for k, v in expected.items() if k != "files"})
    # the same mesh as the earlier wavefab wrote (trimesh reads both back alike)
    from wavefab.designkit.export.meshes import read_mesh

    old, new = read_mesh(GOLDEN / "files" / "golden.stl"), read_mesh(stl)
    assert new.volume == pytest.approx(old.volume, rel=1e-9)
    np.testing.assert_allclose(new.bounds, old.bounds, atol=1e-6)


@pytest.mark.slow
def test_golden_files_resimulate_as_before():
    from wavefab.designkit.verify import verify

    for name, expected, options in (("golden.gds", EXPECTED["verify_gds"], {}),
                                    ("golden.stl", EXPECTED["verify_stl"],
                                     {"section_z": 0.75e-3})):
        result = verify(GOLDEN / "results", GOLDEN / "files" / name, **options).to_dict()
        result["file"] = Path(result["file"]).name
        _close(result, expected)


def test_golden_file_checks_without_being_told_its_pitch(results: Path):
    from wavefab.app.cli import main

    gds = results.parent / "golden.gds"
    shutil.copy(GOLDEN / "files" / "golden.gds", gds)
    assert main(["drc", str(gds), "--process", "sla"]) == 0
    report = json.loads((results.parent / "golden.drc.json").read_text())
    assert report["pass"] is True and report["pitch_m"] == pytest.approx(1e-4)
    assert (report["rule_solid_cells"], report["rule_void_cells"]) == (5, 5)
    assert main(["drc", str(results)]) == 0
    _close(json.loads((results / "drc.json").read_text()), EXPECTED["drc"])


def test_golden_project_opens_and_resimulates():
    from wavefab.designkit.project import evaluate_design, load_project

    project = load_project(GOLDEN / "project")
    assert project.name == "golden"
    assert project.config.problem == "custom"
    assert set(project.design) == set(np.load(GOLDEN / "results" / "design.npz").files)
    _close(evaluate_design(project, project.design), EXPECTED["evaluate_design"])
    as_results = load_project(GOLDEN / "results")
    assert len(as_results.history) == 3
    np.testing.assert_array_equal(as_results.design["binary"], project.design["binary"])


def test_golden_checkpoint_resumes_and_rewrites_the_same_files(results: Path):
    """The earlier run's checkpoint still matches: resuming it trains nothing and writes the
    results folder again with the same files, keys and figures."""
    from wavefab.designkit.config import load_config
    from wavefab.designkit.optimize import BatchEnd, RunEnd, RunStart
    from wavefab.designkit.run import run

    before = {name: (results / name).read_bytes()
              for name in ("metrics.json", "history.csv", "drc.json")}
    events = list(run(load_config(results / "config.yaml"), results, resume=True))
    assert isinstance(events[0], RunStart) and events[0].first_fold == 1
    assert not any(isinstance(e, BatchEnd) for e in events)
    assert isinstance(events[-1], RunEnd)
    old, new = (json.loads(before["metrics.json"]),
                json.loads((results / "metrics.json").read_text()))
    old.pop("wall_time_s"), new.pop("wall_time_s")
    _close(new, old)
    assert (results / "drc.json").read_bytes() == before["drc.json"]
    with open(results / "history.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == before["history.csv"].decode().splitlines()[0].split(",")
    design = np.load(results / "design.npz")
    golden = np.load(GOLDEN / "results" / "design.npz")
    assert design.files == golden.files
    for key in golden.files:
        np.testing.assert_array_equal(design[key], golden[key])


def test_golden_project_saves_with_the_same_keys(tmp_path: Path):
    import yaml

    from wavefab.designkit.config import config_from_dict, config_to_dict
    from wavefab.designkit.project import load_project, save_project

    project = load_project(GOLDEN / "project")
    save_project(project, tmp_path / "again")
    old = yaml.safe_load((GOLDEN / "project" / "project.yaml").read_text())
    new = yaml.safe_load((tmp_path / "again" / "project.yaml").read_text())
    # sections added since the golden files were written come back at their defaults
    defaults = config_to_dict(config_from_dict({}))
    added = {key: defaults[key] for key in ("limits", "nonlinearity")}
    for key, default in added.items():
        assert key not in old["config"] and new["config"].pop(key) == default
    assert new == old
    assert (json.loads((tmp_path / "again" / "metrics.json").read_text())
            == json.loads((GOLDEN / "project" / "metrics.json").read_text()))
