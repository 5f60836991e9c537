"""The designer's main window: a shell that puts the views, panels and actions around a document.

What each menu does lives in :mod:`.actions` (as data and handlers), the canvas and the field in
:mod:`.views`, the forms, curves and log in :mod:`.panels`; this module builds the docks, menus
and toolbars, and redraws the views when the document changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QThread
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QWidget,
)

from wavefab.designkit.project import sketch

from .actions import (
    ActionGroup,
    ActionSpec,
    CheckActions,
    DrawActions,
    ExportActions,
    FileActions,
    RunActions,
    SweepActions,
)
from .dialogs import ExportDialog
from .document import Document
from .panels import LogPanel, RunPlots, SettingsPanel
from .session import Autosaver, RecentFiles
from .views import DomainView, FieldView
from .workers import RunWorker, TaskWorker

#: The menus, in order; the toolbar's actions.
MENUS = ("&File", "&Edit", "&Run")
TOOLBAR = ("open", "save", "undo", "redo", "run", "pause", "stop", "drc", "export")


class MainWindow(QMainWindow):
    """One project: the material map in the middle, settings left, run plots and log right.

    Everything the window does goes through :mod:`wavefab.designkit` (the same calls as the
    CLI); runs happen on a :class:`~.workers.RunWorker` thread, simulations on a
    :class:`~.workers.TaskWorker` one.
    """

    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
        self.document = document or Document()
        self.last_error: str | None = None  # the text of the last error() shown
        self.canvas = DomainView()
        self.setCentralWidget(self.canvas)
        self.settings = SettingsPanel(self.document)
        self.plots = RunPlots()
        self.log = LogPanel()
        self.field = FieldView()
        self.actions: dict[str, QAction] = {}
        # a sweep's points open as File > Open opens them; File > Open hands sweep folders over
        self.sweeps = SweepActions(self, open_point=lambda path: self.files.open_checked(path))
        self.files = FileActions(self, open_sweep=self.sweeps.open_sweep)
        self.exports = ExportActions(self)
        self.checks = CheckActions(self, self.exports.design)
        self.runs = RunActions(self, check=self.checks.check_rules,
                               redraw=self._on_document_changed,
                               enable_simulations=self.checks.enable_simulations,
                               show_movie=self.checks.show_movie)
        self.draw = DrawActions(self)
        self._build_docks()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("%p%")
        self.cursor_label = QLabel()
        self.statusBar().addPermanentWidget(self.cursor_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.canvas.hovered.connect(self.cursor_label.setText)
        self.field.simulate_requested.connect(self.simulate_field)
        self._build_menus()
        self.document.config_changed.connect(self._on_document_changed)
        self.document.design_changed.connect(self._on_document_changed)
        self.document.design_changed.connect(self._on_design_changed)
        self.document.path_changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self._on_document_changed()
        self.resize(1400, 850)
        # the canvas is the point of the window: side panels get what their forms need
        self.resizeDocks([self._settings_dock, self._run_dock], [290, 340],
                         Qt.Orientation.Horizontal)

    # -- construction ------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self._settings_dock = self._dock("Settings", self.settings, left)
        self._run_dock = self._dock("Run", self.plots, right)
        rules_dock = self._dock("Design rules", self.checks.violations, right)
        self.field_dock = self._dock("Field", self.field, right)
        self.tabifyDockWidget(rules_dock, self.field_dock)
        rules_dock.raise_()
        self._dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)

    def _build_menus(self) -> None:
        """Menus and the main toolbar from the action groups' tables, then the draw toolbar."""
        menus = {title: self.menuBar().addMenu(title) for title in MENUS}
        self.files.add_submenus(menus["&File"])
        groups: tuple[ActionGroup, ...] = (self.files, self.sweeps, self.exports, self.runs,
                                           self.checks)
        for group in groups:
            for spec in group.ACTIONS:
                self.actions[spec.key] = self._action(spec, getattr(group, spec.handler))
                menus[spec.menu].addAction(self.actions[spec.key])
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        menus["&Edit"].addActions([undo, redo])
        self.actions.update(undo=undo, redo=redo)
        toolbar = self.addToolBar("main")
        toolbar.setObjectName("main toolbar")
        for key in TOOLBAR:
            toolbar.addAction(self.actions[key])
        draw = self.addToolBar("draw")
        draw.setObjectName("draw toolbar")
        self.draw.build_toolbar(draw)
        self.runs.set_running(False)

    def _action(self, spec: ActionSpec, handler: Any) -> QAction:
        action = QAction(spec.text, self)
        if spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        action.triggered.connect(lambda _checked=False: handler())  # not triggered(bool)
        return action

    # -- document → views --------------------------------------------------------------------
    def _on_document_changed(self, _key: str = "") -> None:
        project = self.document.project
        try:
            setup = sketch(project.config)
        except ValueError as exc:
            self.log.log(f"cannot draw the setup: {exc}")
            return
        values = project.design.get("binary")
        label = "binary design (1 material)"
        if values is None:
            values = project.design.get("density")
            label = "density"
        if values is not None and np.shape(values) != tuple(setup.shape):
            values = None  # the grid was resized since: the old design does not fit
        self.canvas.show_setup(setup, None if values is None else np.asarray(values, float),
                               label=label)
        player = self.checks.player
        if player is None or player.config != project.config:
            self.field.set_examples(list(setup.input_names))
        self._update_title()

    def _on_design_changed(self) -> None:
        """Show a loaded run's history and check its design."""
        project = self.document.project
        if self.thread is None:
            self.plots.clear_run()
            for row in project.history:
                self.plots.add_epoch(row)
        self.checks.violations.setRowCount(0)
        if "binary" in project.design and self.thread is None:
            self.check_rules()

    def _update_title(self, *_args: object) -> None:
        project = self.document.project
        where = f" — {project.path}" if project.path else ""
        mark = "*" if self.document.dirty else ""
        self.setWindowTitle(f"{mark}{project.name}{where} · wavefab designer")

    # -- what the groups own, under the names the window has always had ---------------------
    @property
    def violations(self) -> Any:
        """The design-rule table."""
        return self.checks.violations

    @property
    def recent(self) -> RecentFiles:
        """The recent projects."""
        return self.files.recent

    @property
    def recent_menu(self) -> Any:
        """File > Open recent."""
        return self.files.recent_menu

    @property
    def autosaver(self) -> Autosaver:
        """The autosave of unsaved changes."""
        return self.files.autosaver

    @property
    def thread(self) -> QThread | None:
        """The running optimization's thread, or None."""
        return self.runs.thread

    @property
    def worker(self) -> RunWorker | None:
        """The running optimization, or None."""
        return self.runs.worker

    @property
    def _task(self) -> tuple[QThread, TaskWorker] | None:
        return self.checks.task

    @property
    def tool_actions(self) -> dict[str, QAction]:
        """The canvas's mouse tools."""
        return self.draw.tool_actions

    @property
    def erase_action(self) -> QAction:
        """The region tools' erase switch."""
        return self.draw.erase_action

    @property
    def brush_size(self) -> Any:
        """The brush radius (cells)."""
        return self.draw.brush_size

    def new_project(self, template: str) -> None:
        """Replace the document with a template (asks first when there are unsaved edits)."""
        self.files.new_project(template)

    def open_path(self, path: str | Path) -> bool:
        """Open a project/results folder or a config YAML; errors go to a message box.

        A sweep folder opens its table in a window of its own (:attr:`sweeps`).
        """
        return self.files.open_path(path)

    def save_to(self, folder: str | Path) -> bool:
        """Save the project into ``folder``; errors go to a message box."""
        return self.files.save_to(folder)

    def import_path(self, path: str | Path, *, confirm: bool = True) -> bool:
        """Read a layout/mesh/DXF onto the project's grid as its design, then check it."""
        return self.files.import_path(path, confirm=confirm)

    def recover_autosave(self, folder: str | Path) -> bool:
        """Open an autosaved copy as an unsaved project."""
        return self.files.recover_autosave(folder)

    def _fill_recent_menu(self) -> None:
        self.files.fill_recent_menu()

    def export_dialog(self) -> ExportDialog | None:
        """The export dialog for the current design (None, with a message, when there is none)."""
        return self.exports.dialog()

    def export_to(self, path: str | Path, **settings: Any) -> bool:
        """Export the current design (format from the suffix); errors go to a message box."""
        return self.exports.export_to(path, **settings)

    def check_rules(self) -> dict | None:
        """Run the design-rule check of the current design; fills the violations table."""
        return self.checks.check_rules()

    def resimulate(self, refine: int = 1) -> TaskWorker | None:
        """Evaluate the current binary design with the project's problem (on a worker)."""
        return self.checks.resimulate(refine)

    def simulate_field(self, example: int = 0, frames: int = 120, *,
                       wait: bool = False) -> TaskWorker | None:
        """Play input ``example`` through the current design (on a worker unless ``wait``)."""
        return self.checks.simulate_field(example, frames, wait=wait)

    def start_run(self, out_dir: str | Path | None = None) -> RunWorker | None:
        """Optimize the document's configuration on a worker thread."""
        return self.runs.start_run(out_dir)

    def toggle_pause(self) -> None:
        """Pause or resume the running optimization."""
        self.runs.toggle_pause()

    def stop_run(self) -> None:
        """Stop after the current step (the last epoch's checkpoint is kept)."""
        self.runs.stop_run()

    # -- messages and closing --------------------------------------------------------------------
    def error(self, title: str, text: str) -> None:
        """Log a problem and show it in a (non-blocking) message box."""
        self.last_error = text  # what a headless launch prints (the box is not seen there)
        self.log.log(f"{title}: {text}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setObjectName("error")
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop a run cleanly (its checkpoint stays) and ask about unsaved edits."""
        if not self.files.may_discard(closing=True):
            event.ignore()
            return
        self.runs.close()
        if self.checks.task is not None:  # a field simulation: short, let it end
            self.checks.task[0].quit()
            self.checks.task[0].wait(60_000)
        self.field.timer.stop()
        self.autosaver.timer.stop()  # nothing fires into a window being torn down
        for view in self.sweeps.views.values():  # their own windows: they go with the designer
            view.close()
        event.accept()
