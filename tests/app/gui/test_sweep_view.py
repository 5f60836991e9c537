"""Sweeps in the designer: a real sweep folder's table, sorting, opening a point, Save as sweep."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QMessageBox

from wavefab.app.gui import launch
from wavefab.app.gui.views.sweep import SweepTableModel
from wavefab.designkit.config import config_to_dict, load_config
from wavefab.designkit.sweep import load_sweep

pytestmark = pytest.mark.gui

METRIC = "binary_focus_gain"


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory, tiny_lens_text):
    """A real two-point sweep (material.c1 = 0.5, 0.6) run by the sweep API (≈ 15 s)."""
    from wavefab.designkit.sweep import sweep

    root = tmp_path_factory.mktemp("sweep")
    (root / "base.yaml").write_text(tiny_lens_text)
    (root / "c1.yaml").write_text("base: base.yaml\ngrid: {material.c1: [0.5, 0.6]}\n")
    out = root / "out"
    for _ in sweep(load_sweep(root / "c1.yaml"), out, workers=1):
        pass
    return out


def metric_values(view):
    return [view.model.value(r, METRIC) for r in range(view.model.rowCount())]


def test_a_sweep_folder_opens_as_a_table_with_its_plots(window, sweep_folder):
    assert window.open_path(sweep_folder)
    view = window.sweeps.latest
    assert view is not None and view.isVisible() and view.isWindow()
    assert window.document.project.path is None  # the designer's project stays as it was
    assert view.model.rowCount() == 2
    columns = view.model.columns
    assert columns[:4] == ["rank", "id", "status", "material.c1"]
    assert columns[4] == METRIC and columns[-2:] == ["seconds", "reason"]
    state = json.loads((sweep_folder / "sweep.json").read_text())
    assert {view.point_id(r) for r in range(2)} == {p["id"] for p in state["points"]}
    values = metric_values(view)
    assert values == sorted(values, reverse=True)  # ranked best first, as summary.md
    assert [view.model.value(r, "rank") for r in range(2)] == [1, 2]
    pngs = sorted(p.name for p in (sweep_folder / "plots").glob("*.png"))
    assert pngs and sorted(view.plot_labels) == pngs
    assert all(not label.pixmap().isNull() for label in view.plot_labels.values())
    assert "2 points, 2 done" in view.heading.text()
    # the cells show what summary.md shows
    index = view.model.index(0, view.column(METRIC))
    assert view.model.data(index) == f"{values[0]:.6g}"
    # opening it again reuses its window
    assert window.open_path(sweep_folder) and window.sweeps.latest is view
    assert len(window.sweeps.views) == 1


def test_sorting_by_the_metric_is_numeric(window, sweep_folder):
    assert window.open_path(sweep_folder)
    view = window.sweeps.latest
    assert view.table.isSortingEnabled()
    column = view.column(METRIC)
    view.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    assert metric_values(view) == sorted(metric_values(view))
    view.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    assert metric_values(view) == sorted(metric_values(view), reverse=True)
    view.table.sortByColumn(view.column("material.c1"), Qt.SortOrder.DescendingOrder)
    assert [view.model.value(r, "material.c1") for r in range(2)] == [0.6, 0.5]


def test_the_table_model_sorts_numbers_by_value_and_keeps_empty_cells_last(qtbot):
    rows = [{"x": 10.0}, {"x": ""}, {"x": 9.5}, {"x": 100}, {"x": 2}]
    model = SweepTableModel(rows, ["x"])
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert [r["x"] for r in model.rows] == [2, 9.5, 10.0, 100, ""]  # not "10" < "2" < "9.5"
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert [r["x"] for r in model.rows] == [100, 10.0, 9.5, 2, ""]
    lengths = SweepTableModel([{"x": "0.45mm"}, {"x": "1mm"}, {"x": "0.4mm"}], ["x"])
    lengths.sort(0, Qt.SortOrder.AscendingOrder)
    assert [r["x"] for r in lengths.rows] == ["0.4mm", "0.45mm", "1mm"]


def test_double_clicking_a_point_opens_its_results_in_the_designer(window, qtbot, sweep_folder):
    assert window.open_path(sweep_folder)
    view = window.sweeps.latest
    view.table.sortByColumn(view.column("material.c1"), Qt.SortOrder.AscendingOrder)
    row = 1  # material.c1 = 0.6
    pid = view.point_id(row)
    rect = view.table.visualRect(view.model.index(row, 1))
    # a real double click: QTest's lone double-click event lacks the press an item view
    # pairs it with (the view opens only the point that was pressed)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    project = window.document.project
    assert project.path == sweep_folder / "points" / pid
    assert project.config.material.c1 == 0.6
    assert "binary" in project.design and METRIC in project.metrics
    assert view.isVisible()  # the table stays, for the next point


def test_a_point_without_results_says_why(window, sweep_folder, tmp_path):
    state = json.loads((sweep_folder / "sweep.json").read_text())
    state["points"][0].update(id="f" * 12, status="failed", reason="NaN loss at epoch 1")
    (tmp_path / "sweep.json").write_text(json.dumps(state))
    assert window.open_path(tmp_path)
    view = window.sweeps.latest
    assert not window.sweeps.open_point(view, "f" * 12)
    boxes = [w for w in window.findChildren(QMessageBox) if w.objectName() == "error"]
    assert boxes and "NaN loss at epoch 1" in boxes[-1].text()
    assert window.document.project.path is None


@pytest.mark.parametrize(("text", "named"), [
    ("{not json", "cannot read it"),
    ('{"points": 3}', "no points list"),
    ('{"metric": "gain", "swept_keys": [], "points": [{"id": "x"}]}', "points[0]: index"),
])
def test_a_damaged_sweep_record_is_refused_with_a_message(window, tmp_path, text, named):
    (tmp_path / "sweep.json").write_text(text)
    assert not window.open_path(tmp_path)
    boxes = [w for w in window.findChildren(QMessageBox) if w.objectName() == "error"]
    assert boxes and named in boxes[-1].text() and "sweep.json" in boxes[-1].text()
    assert window.sweeps.latest is None and not window.sweeps.views


def test_screenshot_of_a_sweep_folder_is_its_table(sweep_folder, tmp_path, qapp):
    png = tmp_path / "sweep.png"
    assert launch(sweep_folder, screenshot=png) == 0
    image = QImage(str(png))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1300, 720)  # the table's window, not the designer


def test_save_as_sweep_writes_a_file_the_sweep_command_reads(window, windows, tmp_path,
                                                            monkeypatch):
    assert "save_sweep" in window.actions
    window.document.set_value("training.epochs", 3)  # an unsaved edit goes into the base
    dialog = windows.keep(window.sweeps.dialog())
    path = tmp_path / "c1_seed.yaml"
    dialog.path.setText(str(path))
    key, values = dialog.rows[0]
    key.setText("material.c1")
    values.setText("0.5, 0.6")
    assert "now 0.5" in values.placeholderText()
    dialog.add_row("training.seed", "1, 2")
    dialog.metric.setText("focus_gain")
    assert dialog.check() and "4 points" in dialog.status.text()
    assert dialog.save() == path
    spec = load_sweep(path)
    assert spec.metric == "focus_gain"
    points = spec.points()
    assert [p.overrides for p in points] == [
        {"material.c1": 0.5, "training.seed": 1}, {"material.c1": 0.5, "training.seed": 2},
        {"material.c1": 0.6, "training.seed": 1}, {"material.c1": 0.6, "training.seed": 2}]
    assert all(p.config.training.epochs == 3 for p in points)
    base = load_config(tmp_path / "c1_seed_base.yaml")
    assert config_to_dict(base) == config_to_dict(window.document.project.config)
    assert "wrote the sweep" in window.log.toPlainText()
    # saving over it asks first; No keeps the files as they were
    written = path.read_text()
    values.setText("0.7")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert dialog.save() is None and "nothing written" in dialog.status.text()
    assert path.read_text() == written
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert dialog.save() == path
    assert {p.overrides["material.c1"] for p in load_sweep(path).points()} == {0.7}


def test_save_as_sweep_marks_a_bad_setting_and_writes_nothing(window, windows, tmp_path):
    dialog = windows.keep(window.sweeps.dialog())
    dialog.path.setText(str(tmp_path / "bad.yaml"))
    key, values = dialog.rows[0]
    key.setText("material.cx")
    values.setText("0.5")
    assert dialog.save() is None
    assert "material.cx" in dialog.status.text() and "border" in key.styleSheet()
    key.setText("material.c1")
    values.setText("0.5, [")
    assert dialog.save() is None and "border" in values.styleSheet()
    assert list(tmp_path.iterdir()) == []


def test_reload_reads_a_changed_record_and_keeps_the_table_on_a_damaged_one(window, tmp_path,
                                                                          sweep_folder):
    state = json.loads((sweep_folder / "sweep.json").read_text())
    (tmp_path / "sweep.json").write_text(json.dumps(state))
    assert window.open_path(tmp_path)
    view = window.sweeps.latest
    state["points"][1].update(status="running", metrics={})  # a sweep still going
    (tmp_path / "sweep.json").write_text(json.dumps(state))
    assert view.reload()
    assert "1 done" in view.heading.text() and "1 pending or running" in view.heading.text()
    assert [view.model.value(r, "rank") for r in range(2)] == [1, ""]
    (tmp_path / "sweep.json").write_text("{damaged")
    assert not view.reload()
    assert "cannot reload" in view.heading.text() and view.model.rowCount() == 2


def test_a_sweep_from_open_recent_keeps_unsaved_edits_without_asking(window, sweep_folder,
                                                                     monkeypatch):
    window.document.set_value("training.epochs", 5)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Cancel)
    assert window.files.open_checked(sweep_folder)  # the project is not replaced: no question
    assert not asked and window.document.dirty
    assert sweep_folder.resolve() in window.recent.paths()
    view = window.sweeps.latest
    # a point replaces the project: that asks, and Cancel keeps the edits
    assert not window.sweeps.open_point(view, view.point_id(0))
    assert len(asked) == 1 and window.document.project.config.training.epochs == 5
