"""The desktop designer, offscreen: edits and undo, runs on the worker, files, checks, exports."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PyQt6.QtWidgets import QMessageBox

from wavefab.app.gui import launch

pytestmark = pytest.mark.gui


def test_settings_edits_are_undoable_and_mark_the_title(window, qtbot):
    editor = window.settings.editors["training.epochs"]
    editor.setText("7")
    editor.editingFinished.emit()
    assert window.document.project.config.training.epochs == 7
    assert window.windowTitle().startswith("*")
    window.actions["undo"].trigger()
    assert window.document.project.config.training.epochs == 12
    assert editor.text() == "12"
    window.actions["redo"].trigger()
    assert window.document.project.config.training.epochs == 7
    window.settings.editors["fabrication.robust"].setChecked(True)
    assert window.document.project.config.fabrication.robust is True
    assert window.document.undo_stack.count() == 2
    choice = window.settings.editors["fabrication.repair_choice"]
    choice.setCurrentText("best")
    choice.activated.emit(choice.currentIndex())
    assert window.document.project.config.fabrication.repair_choice == "best"


def test_invalid_values_are_marked_in_place_and_change_nothing(window):
    assert not window.settings.commit("training.epochs", -3)
    editor = window.settings.editors["training.epochs"]
    assert "training.epochs" in editor.toolTip() and "border" in editor.styleSheet()
    assert window.document.project.config.training.epochs == 12
    assert window.document.undo_stack.count() == 0
    assert window.settings.commit("training.epochs", 5)
    assert editor.toolTip() == ""
    assert not window.settings.commit("data.folder", "/no/such/folder")
    assert "not a folder" in window.settings.editors["data.folder"].toolTip()


def test_canvas_is_in_physical_units_with_row_zero_at_the_top(window):
    rows, cols = 140, 140
    p = window.canvas.cell
    assert "row 0, col 0" in window.canvas.readout(0.5 * p, (rows - 0.5) * p)
    assert f"row {rows - 1}, col {cols - 1}" in window.canvas.readout((cols - 0.5) * p, 0.5 * p)
    image = window.canvas.image.image
    region = window.document.project.config.lens.region().numpy()
    np.testing.assert_array_equal(image[::-1] > 0, region)  # flipped back: the array itself


def test_a_tiny_run_finishes_on_the_worker_and_is_checked(window, qtbot, tmp_path):
    document = window.document
    for key, value in (("training.epochs", 1), ("training.lbfgs_iterations", 2),
                       ("lens.steps", 200)):
        document.set_value(key, value)
    worker = window.start_run(tmp_path / "run")
    assert worker is not None and not window.actions["run"].isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: window.thread is None, timeout=30_000)
    assert "binary" in document.project.design and document.project.metrics
    assert len(window.plots.rows) == 1 and window.actions["run"].isEnabled()
    assert window.progress.value() == 1000
    assert "DRC" in window.log.toPlainText()


def test_pause_and_stop_between_steps(window, qtbot, tmp_path):
    window.document.set_value("training.epochs", 50)
    window.document.set_value("lens.steps", 200)
    worker = window.start_run(tmp_path / "run")
    with qtbot.waitSignal(worker.step, timeout=120_000):
        pass
    window.toggle_pause()
    assert worker.paused and window.actions["pause"].text() == "&Resume"
    with qtbot.waitSignal(worker.stopped, timeout=120_000):
        window.stop_run()
    qtbot.waitUntil(lambda: window.thread is None, timeout=30_000)
    assert window.actions["run"].isEnabled() and "stopped" in window.log.toPlainText()


def test_save_and_open_round_trip(window, windows, tmp_path, lens_fab_result):
    window.document.set_value("training.epochs", 9)
    assert window.save_to(tmp_path / "project")
    assert not window.document.dirty and not window.windowTitle().startswith("*")
    other = windows.make()
    assert other.open_path(tmp_path / "project")
    assert other.document.project.config == window.document.project.config
    # a results folder of `wavefab run` opens with its design, which saves and reopens
    assert other.open_path(lens_fab_result)
    binary = other.document.project.design["binary"]
    assert other.save_to(tmp_path / "with_design")
    third = windows.make()
    assert third.open_path(tmp_path / "with_design")
    np.testing.assert_array_equal(third.document.project.design["binary"], binary)
    assert third.document.project.metrics == other.document.project.metrics


def test_checks_and_exports_from_the_window(window, tmp_path, lens_fab_result):
    from wavefab.designkit.export import import_raster

    assert window.open_path(lens_fab_result)
    assert len(window.plots.rows) == 3  # the run's history, one row per epoch
    assert "DRC" in window.log.toPlainText()  # checked on opening
    report = window.check_rules()
    assert report is not None and window.violations.rowCount() == len(report["violations"])
    assert window.export_to(tmp_path / "lens.gds")
    binary = window.document.project.design["binary"]
    np.testing.assert_allclose(import_raster(tmp_path / "lens.gds", binary.shape, 1e-4), binary,
                               atol=1e-9)
    assert window.export_to(tmp_path / "lens.stl", height=2e-3)
    assert (tmp_path / "lens.stl").is_file()


def test_bad_files_give_a_message_not_a_crash(window, tmp_path):
    garbage = tmp_path / "broken"
    garbage.mkdir()
    (garbage / "project.yaml").write_text("config: [not, a, mapping")
    assert not window.open_path(garbage)
    boxes = [w for w in window.findChildren(QMessageBox) if w.objectName() == "error"]
    assert boxes and "project.yaml" in boxes[-1].text()
    assert not window.export_to(tmp_path / "x.gds")  # no design yet: a message, no file
    assert not (tmp_path / "x.gds").exists()


@pytest.mark.parametrize("bad", ["layout/self_reference.gds", "layout/truncated.oas",
                                 "layout/huge_aref.gds", "mesh/claims_billion.stl",
                                 "mesh/instance_bomb.3mf", "dxf/binary.dxf"])
def test_importing_a_damaged_file_is_a_dialog_naming_it(bad, window, tmp_path):
    """Crafted files of each format (tests/data/bad) give a message and leave the design."""
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "data" / "bad" / bad
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    before = dict(window.document.project.design)
    assert not window.import_path(path, confirm=False)
    boxes = [w for w in window.findChildren(QMessageBox) if w.objectName() == "error"]
    assert boxes and path.name in boxes[-1].text() and "Traceback" not in boxes[-1].text()
    assert window.document.project.design.keys() == before.keys()


def test_screenshot_of_a_finished_project(lens_fab_result, tmp_path, qapp):
    png = tmp_path / "shot.png"
    assert launch(lens_fab_result, screenshot=png) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.parametrize("bad", ["nan_density.npz", "truncated.npz", "object_array.npz"])
def test_screenshot_of_a_damaged_design_is_one_line_and_no_png(bad, lens_fab_result, tmp_path,
                                                               qapp, capsys):
    import shutil
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[2] / "data" / "bad" / "design"
    folder = tmp_path / "result"
    shutil.copytree(lens_fab_result, folder)
    shutil.copyfile(corpus / bad, folder / "design.npz")
    png = tmp_path / "shot.png"
    assert launch(folder, screenshot=png) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("wavefab")]
    assert len(lines) == 1 and "design.npz" in lines[0] and "Traceback" not in err, err
    assert lines[0].startswith("wavefab gui: error:")
    assert not png.exists() and not list(tmp_path.glob(".*tmp*"))


def test_import_a_layout_then_check_and_resimulate_it(window, qtbot, tmp_path, lens_fab_result):
    import json

    assert window.open_path(lens_fab_result)
    binary = window.document.project.design["binary"].copy()
    assert window.export_to(tmp_path / "made.gds")
    window.document._unsaved_design = False
    window.new_project("lens-sla")  # the same setup, no design
    assert "binary" not in window.document.project.design
    assert window.import_path(tmp_path / "made.gds")
    np.testing.assert_array_equal(window.document.project.design["binary"], binary)
    assert "imported" in window.log.toPlainText() and "DRC PASS" in window.log.toPlainText()
    worker = window.resimulate()
    with qtbot.waitSignal(worker.done, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: window._task is None, timeout=10_000)
    line = [t for t in window.log.toPlainText().splitlines() if t.startswith("re-simulated")][-1]
    own = json.loads((lens_fab_result / "metrics.json").read_text())["binary_focus_gain"]
    assert f"focus_gain {own:.4g}" in line  # the file performs as the design
    # Shift+F8: the same design on a grid twice as fine (is the figure the grid's?)
    window.actions["resimulate_fine"].trigger()
    assert window._task is not None and not window.actions["resimulate"].isEnabled()
    with qtbot.waitSignal(window._task[1].done, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: window._task is None, timeout=10_000)
    line = [t for t in window.log.toPlainText().splitlines() if t.startswith("re-simulated")][-1]
    assert "on a grid 2× finer" in line
    fine = float(line.split("focus_gain ")[1].split(",")[0])
    # measured: 5.51 against 5.50 — close, and not the design grid's figure
    assert fine == pytest.approx(own, rel=0.03) and f"{fine:.4g}" != f"{own:.4g}"
    assert not window.import_path(tmp_path / "missing.gds")


def test_the_optimize_action_runs_and_an_edited_project_keeps_its_settings(window, qtbot):
    document = window.document
    for key, value in (("training.epochs", 1), ("training.lbfgs_iterations", 2),
                       ("lens.steps", 200)):
        document.set_value(key, value)
    window.actions["run"].trigger()  # the toolbar/F5 path, not start_run(path)
    worker = window.worker
    assert worker is not None and window.thread is not None
    assert not window.actions["resimulate"].isEnabled()  # one simulation at a time
    window.new_project("blank")  # refused while the run goes
    assert document.project.config.problem == "lens"
    assert "Stop the optimization" in window.log.toPlainText()
    document.set_value("lens.steps", 210)  # edited mid-run: the result must not land here
    with qtbot.waitSignal(worker.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: window.thread is None, timeout=30_000)
    assert "binary" not in document.project.design
    assert "changed during the run" in window.log.toPlainText()
    assert window.actions["resimulate"].isEnabled()
