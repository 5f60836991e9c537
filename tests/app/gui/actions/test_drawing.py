"""Building a project with the mouse: region tools, ports, undo — real mouse events, offscreen."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication

from wavefab.app.gui.main_window import MainWindow
from wavefab.designkit.project import sketch

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, windows):
    """A shown window on a blank project (real mouse events need a shown, exposed one)."""
    pg.setConfigOptions(mouseRateLimit=-1)  # deliver every synthetic move
    win = windows.make("blank")
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    return win


def _widget_pos(win: MainWindow, row: float, col: float) -> QPoint:
    canvas = win.canvas
    scene = canvas.plot.vb.mapViewToScene(canvas.to_point(row, col))
    return canvas.mapFromScene(scene)


def _send(win: MainWindow, kind: QEvent.Type, pos: QPoint, buttons: Qt.MouseButton) -> None:
    viewport = win.canvas.viewport()
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else \
        Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def click(win: MainWindow, qtbot, row: float, col: float) -> None:
    pos = _widget_pos(win, row, col)
    _send(win, QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton)
    _send(win, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
    qtbot.wait(10)


def drag(win: MainWindow, qtbot, path: list[tuple[float, float]]) -> None:
    points = [_widget_pos(win, r, c) for r, c in path]
    _send(win, QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
    for pos in points[1:]:
        _send(win, QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
        qtbot.wait(5)
    _send(win, QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)
    qtbot.wait(10)


def choose(win: MainWindow, tool: str) -> None:
    win.tool_actions[tool].trigger()
    assert win.canvas.tool == tool


def test_paint_the_region_with_rectangle_ellipse_brush_and_erase(window, qtbot):
    doc = window.document
    choose(window, "rect")
    drag(window, qtbot, [(25, 45), (40, 70), (60, 100)])
    strokes = doc.project.config.custom.region
    assert len(strokes) == 2
    last = strokes[-1]
    assert last.kind == "rect" and last.rows == (25, 60) and last.cols == (45, 100)
    choose(window, "ellipse")
    window.erase_action.trigger()
    drag(window, qtbot, [(50, 60), (70, 80)])
    assert doc.project.config.custom.region[-1].kind == "ellipse"
    assert doc.project.config.custom.region[-1].erase
    region = sketch(doc.project.config).region
    assert not region[60, 70] and region[35, 55]
    window.erase_action.trigger()
    choose(window, "brush")
    window.brush_size.setValue(2)
    drag(window, qtbot, [(95, 50), (95, 60), (95, 70)])
    stroke = doc.project.config.custom.region[-1]
    assert stroke.kind == "stroke" and stroke.radius == 2.0 and len(stroke.points) >= 2
    assert sketch(doc.project.config).region[95, 50:71].all()
    assert doc.undo_stack.count() == 3 and window.windowTitle().startswith("*")
    # the canvas shows the painted region (rows flipped back: the array itself)
    shown = window.canvas.image.image[::-1] > 0
    assert (shown == sketch(doc.project.config).region).all()
    window.actions["undo"].trigger()
    assert len(doc.project.config.custom.region) == 3
    assert not sketch(doc.project.config).region[95, 60]


def test_place_move_and_delete_ports(window, qtbot):
    doc = window.document
    choose(window, "source")
    click(window, qtbot, 30, 30)
    assert doc.project.config.custom.sources == ((60, 30), (30, 30))
    choose(window, "probe")
    click(window, qtbot, 90, 135)
    probes = doc.project.config.custom.probes
    assert [(p.row, p.col, p.name) for p in probes] == [(60, 130, "out"), (90, 135, "p2")]
    choose(window, "move")
    drag(window, qtbot, [(90, 135), (85, 133), (80, 131)])
    assert (doc.project.config.custom.probes[1].row,
            doc.project.config.custom.probes[1].col) == (80, 131)
    choose(window, "delete")
    click(window, qtbot, 60.4, 30.3)  # near enough to the first source
    assert doc.project.config.custom.sources == ((30, 30),)
    assert window.canvas.sources.data.shape[0] == 1
    for _ in range(4):
        window.actions["undo"].trigger()
    assert doc.project.config.custom.sources == ((60, 30),)
    assert len(doc.project.config.custom.probes) == 1


def test_invalid_drawing_is_explained_and_changes_nothing(window, qtbot):
    doc = window.document
    choose(window, "source")
    click(window, qtbot, 5, 5)  # in the absorbing layer
    assert doc.project.config.custom.sources == ((60, 30),)
    assert doc.undo_stack.count() == 0
    assert "PML-free interior" in window.statusBar().currentMessage()
    assert "refused" in window.log.toPlainText()
    choose(window, "delete")
    click(window, qtbot, 60, 30)  # the only source
    assert "last source" in window.statusBar().currentMessage()


def test_the_pan_tool_leaves_the_project_alone(window, qtbot):
    choose(window, "pan")
    drag(window, qtbot, [(60, 60), (70, 80), (80, 100)])
    assert window.document.undo_stack.count() == 0


def test_domain_fields_follow_the_problem_and_take_physical_sizes(window, qtbot):
    settings = window.settings
    assert not settings.boxes["Task"].isVisibleTo(window)  # no recordings for a drawn problem
    assert settings.real_key("domain.shape") == "custom.shape"
    assert settings.editors["domain.shape"].text() == "[120, 160]"
    size = settings.editors["domain.size"]

    def type_size(text):
        size.setText(text)
        size.editingFinished.emit()

    type_size("16mm x 12mm")  # no pitch yet: marked, nothing changes
    assert "fabrication.pitch" in size.toolTip() and window.document.undo_stack.count() == 0
    assert settings.commit("fabrication.pitch", "0.1mm")
    type_size("20mm × 13mm")
    assert size.toolTip() == "" and size.text() == "20mm x 13mm"
    assert window.document.project.config.custom.shape == (130, 200)
    assert settings.editors["domain.shape"].text() == "[130, 200]"
    assert window.canvas.image.image.shape == (130, 200)
    assert not settings.commit("domain.size", "twenty by thirteen")
    window.document.new("vowels")
    assert settings.boxes["Task"].isVisibleTo(window)
    assert settings.real_key("domain.frequency") is None


def test_field_playback_with_the_time_slider(window, qtbot):
    worker = window.simulate_field(0, frames=30)
    assert worker is not None
    with qtbot.waitSignal(worker.done, timeout=60_000):
        pass
    field = window.field
    qtbot.waitUntil(lambda: field.movie is not None, timeout=10_000)
    frames = field.movie.frames
    assert 25 <= frames.shape[0] <= 30 and field.slider.maximum() == frames.shape[0] - 1
    assert "background medium" in field.plot.titleLabel.text
    field.slider.setValue(10)
    assert field.time.text() == field.movie.time_label(10)
    np.testing.assert_array_equal(field.image.image[::-1], frames[10])
    field.play.setChecked(True)
    qtbot.waitUntil(lambda: field.slider.value() > 12, timeout=5_000)
    field.play.setChecked(False)
    assert not field.timer.isActive()
    qtbot.waitUntil(lambda: window._task is None, timeout=10_000)


def test_a_run_shows_the_material_and_the_field_live(window, qtbot, tmp_path):
    document = window.document
    for key, value in (("training.epochs", 2), ("training.lbfgs_iterations", 2),
                       ("custom.steps", 300)):
        document.set_value(key, value)
    worker = window.start_run(tmp_path / "run")
    movies = []
    worker.field.connect(movies.append)
    with qtbot.waitSignal(worker.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: window.thread is None, timeout=30_000)
    assert len(movies) == 2 and movies[-1].frames.shape[1:] == (120, 160)
    assert window.field.movie is not None
    assert "binary" in document.project.design


def test_classes_genders_and_boundary_are_editable_per_problem(window):
    settings = window.settings
    assert settings.real_key("domain.absorber") == "custom.pml"
    assert settings.commit("domain.absorber", 16)
    assert window.document.project.config.custom.pml == 16
    assert not settings.commit("domain.absorber", 70)  # no interior left
    window.document.new("vowels")
    assert settings.real_key("domain.absorber") == "geometry.absorber"
    assert settings.editors["data.vowels"].text() == "[ae, ei, iy]"
    assert settings.commit("data.vowels", ["ae", "iy"])
    assert window.document.project.config.data.vowels == ("ae", "iy")
    assert window.field.examples.count() == 2  # the inputs to play follow the classes


def test_keyboard_edits_and_shortcuts(window, qtbot):
    from PyQt6.QtGui import QKeySequence
    from PyQt6.QtTest import QTest

    editor = window.settings.editors["training.epochs"]
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, "9")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert window.document.project.config.training.epochs == 9
    steps = window.settings.editors["domain.steps"]
    steps.setFocus()
    steps.selectAll()
    QTest.keyClicks(steps, "abc")
    QTest.keyClick(steps, Qt.Key.Key_Return)
    assert "custom.steps" in steps.toolTip()  # refused in place
    window.activateWindow()
    window.canvas.setFocus()
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Undo))
    qtbot.waitUntil(lambda: window.document.project.config.training.epochs == 12, timeout=2000)
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Redo))
    qtbot.waitUntil(lambda: window.document.project.config.training.epochs == 9, timeout=2000)


def test_the_wave_model_is_a_setting(window):
    settings = window.settings
    combo = settings.editors["physics"]
    assert combo.currentText() == "scalar"
    combo.setCurrentText("acoustic")
    combo.activated.emit(combo.currentIndex())
    assert window.document.project.config.physics == "acoustic"
    assert not settings.commit("acoustic.contrast", 0.5)  # a solid lighter than the fluid
    assert "contrast" in settings.editors["acoustic.contrast"].toolTip()
    window.actions["undo"].trigger()
    assert window.document.project.config.physics == "scalar"
    assert settings.commit("acoustic.contrast_schedule", [[0, 4], [5, 1e4]])
    assert window.document.project.config.acoustic.contrast_schedule == ((0, 4.0), (5, 1e4))
    assert not settings.commit("acoustic.contrast_schedule", [[0, 0.5]])
    assert "contrast_schedule" in settings.editors["acoustic.contrast_schedule"].toolTip()
    law = settings.editors["acoustic.interpolation"]
    law.setCurrentText("impedance")
    law.activated.emit(law.currentIndex())
    assert window.document.project.config.acoustic.interpolation == "impedance"
