"""Projects: templates, save/open round trips, results folders, imports, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from wavefab.designkit.config import ConfigError
from wavefab.designkit.errors import DesignValueError, FileFormatError
from wavefab.designkit.project import (
    PROJECT_FILE,
    TEMPLATES,
    evaluate_design,
    import_file_design,
    load_project,
    new_project,
    save_project,
    sketch,
)


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_every_template_is_a_valid_drawable_project(template):
    project = new_project(template)
    setup = sketch(project.config)
    assert setup.region.any() and setup.sources and setup.probes
    assert setup.region.shape == tuple(setup.shape)


def test_save_and_open_keep_config_design_and_metrics(tmp_path):
    project = new_project("blank", name="mine")
    project.design = {"binary": np.eye(4, dtype=bool), "density": np.full((4, 4), 0.3,
                                                                         np.float32)}
    project.metrics = {"gain": 3.5, "fabrication": {"pitch_m": 1e-4}}
    save_project(project, tmp_path / "p")
    back = load_project(tmp_path / "p")
    assert back.config == project.config and back.name == "mine"
    np.testing.assert_array_equal(back.design["binary"], project.design["binary"])
    assert back.metrics == project.metrics and back.path == tmp_path / "p"


def test_a_results_folder_and_a_config_file_open_as_projects(lens_fab_result):
    project = load_project(lens_fab_result)
    assert "binary" in project.design and project.history and project.metrics
    from_config = load_project(lens_fab_result / "config.yaml")
    assert from_config.config == project.config and not from_config.design


def test_bad_project_files_are_named(tmp_path):
    with pytest.raises(DesignValueError, match="does not exist"):
        load_project(tmp_path / "nothing")
    folder = tmp_path / "bad"
    folder.mkdir()
    with pytest.raises(DesignValueError, match="neither"):
        load_project(folder)
    (folder / PROJECT_FILE).write_text("schema_version: 99\nconfig: {}\n")
    with pytest.raises(DesignValueError, match="newer wavefab"):
        load_project(folder)
    (folder / PROJECT_FILE).write_text("config:\n  training:\n    epochs: -1\n")
    with pytest.raises(ConfigError, match=r"training\.epochs"):
        load_project(folder)
    (folder / PROJECT_FILE).write_text("config: {}\n")
    (folder / "design.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match=r"design\.npz: not a design file, or a damaged one"):
        load_project(folder)


def test_import_needs_a_pitch_and_evaluation_the_right_grid(tmp_path, lens_fab_result):
    from wavefab.designkit.export import ExportSettings, export_design, load_design

    design = load_design(lens_fab_result)
    export_design(design, [tmp_path / "d.dxf", tmp_path / "d.gds"], ExportSettings())
    blank = new_project("blank")  # no pitch, and a DXF records none
    with pytest.raises(DesignValueError, match=r"fabrication\.pitch"):
        import_file_design(blank, tmp_path / "d.dxf")
    lens = load_project(lens_fab_result)
    arrays, metrics = import_file_design(lens, tmp_path / "d.gds")
    np.testing.assert_array_equal(arrays["binary"], design.binary)
    assert metrics["fabrication"]["pitch_m"] == pytest.approx(design.pitch)
    gain = evaluate_design(lens, arrays)["focus_gain"]
    assert gain == pytest.approx(lens.metrics["binary_focus_gain"], rel=1e-5)
    with pytest.raises(DesignValueError, match="project's grid"):
        evaluate_design(blank, arrays)
