"""The designer's main window: canvas, settings, runs, checks and exports around one document."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QThread
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from wavefab.designkit.config import ConfigError
from wavefab.designkit.problems.base import Problem
from wavefab.designkit.project import (
    TEMPLATES,
    Project,
    add_port,
    delete_port,
    move_port,
    paint_region,
    sketch,
)

from .document import Document
from .domain_view import TOOLS, DomainView, region_outline
from .export_dialog import ExportDialog
from .field_view import FieldView, TaskWorker
from .panels import LogPanel, RunPlots, SettingsPanel
from .session import Autosaver, RecentFiles
from .workers import RunWorker


class MainWindow(QMainWindow):
    """One project: the material map in the middle, settings left, run plots and log right.

    Everything the window does goes through :mod:`wavefab.designkit` (the same calls as the
    CLI); runs happen on a :class:`~.workers.RunWorker` thread.
    """

    #: Actions that start a simulation: off while a run or another simulation goes.
    _SIMULATING_ACTIONS = ("resimulate", "resimulate_fine")

    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
        self.document = document or Document()
        self.canvas = DomainView()
        self.setCentralWidget(self.canvas)
        self.settings = SettingsPanel(self.document)
        self.plots = RunPlots()
        self.log = LogPanel()
        self.violations = QTableWidget(0, 4)
        self.violations.setHorizontalHeaderLabels(["kind", "row", "col", "size (cells)"])
        self.violations.cellClicked.connect(self._on_violation_clicked)
        settings_dock = self._dock("Settings", self.settings,
                                   Qt.DockWidgetArea.LeftDockWidgetArea)
        run_dock = self._dock("Run", self.plots, Qt.DockWidgetArea.RightDockWidgetArea)
        rules_dock = self._dock("Design rules", self.violations,
                                Qt.DockWidgetArea.RightDockWidgetArea)
        self.field = FieldView()
        self.field_dock = self._dock("Field", self.field, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(rules_dock, self.field_dock)
        rules_dock.raise_()
        self.field.simulate_requested.connect(self.simulate_field)
        self._task: tuple[QThread, TaskWorker] | None = None
        self._playback: tuple[object, Problem] | None = None  # (config, problem) cache
        self._dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("%p%")
        self.cursor_label = QLabel()
        self.statusBar().addPermanentWidget(self.cursor_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.canvas.hovered.connect(self.cursor_label.setText)
        self.thread: QThread | None = None
        self.worker: RunWorker | None = None
        self._run_started = 0.0
        self._build_actions()
        self.document.config_changed.connect(self._on_document_changed)
        self.document.design_changed.connect(self._on_document_changed)
        self.document.design_changed.connect(self._on_design_changed)
        self.document.path_changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.recent = RecentFiles()
        self.autosaver = Autosaver(self.document, parent=self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        self._on_document_changed()
        self.resize(1400, 850)
        # the canvas is the point of the window: side panels get what their forms need
        self.resizeDocks([settings_dock, run_dock], [290, 340], Qt.Orientation.Horizontal)

    # -- construction ------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot: object, shortcut: QKeySequence.StandardKey | str | None
                = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        file_menu = self.menuBar().addMenu("&File")
        new_menu = file_menu.addMenu("&New from template")
        for name, (description, _values) in TEMPLATES.items():
            action = self._action(f"{name}: {description}",
                                  lambda _c=False, n=name: self.new_project(n))
            new_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.recover_menu = file_menu.addMenu("Re&cover autosaved")
        self.recover_menu.aboutToShow.connect(self._fill_recover_menu)
        for key, text, slot, shortcut in (
                ("open", "&Open…", self._on_open, QKeySequence.StandardKey.Open),
                ("save", "&Save", self._on_save, QKeySequence.StandardKey.Save),
                ("save_as", "Save &as…", self._on_save_as, QKeySequence.StandardKey.SaveAs),
                ("save_config", "Save as &config…", self._on_save_config, None),
                ("import", "&Import layout or mesh…", self._on_import, "Ctrl+I"),
                ("export", "&Export…", self._on_export, "Ctrl+E")):
            self.actions[key] = self._action(text, slot, shortcut)
            file_menu.addAction(self.actions[key])
        edit = self.menuBar().addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        self.actions.update(undo=undo, redo=redo)
        run = self.menuBar().addMenu("&Run")
        for key, text, slot, shortcut in (
                ("run", "&Optimize", lambda: self.start_run(), "F5"),  # not triggered(bool)
                ("pause", "&Pause", self.toggle_pause, "F6"),
                ("stop", "&Stop", self.stop_run, "Shift+F5"),
                ("drc", "&Design-rule check", self.check_rules, "F7"),
                ("resimulate", "Re-&simulate the design", lambda: self.resimulate(), "F8"),
                ("resimulate_fine", "Re-simulate on a grid twice as &fine (8× the time)",
                 lambda: self.resimulate(refine=2), "Shift+F8")):
            self.actions[key] = self._action(text, slot, shortcut)
            run.addAction(self.actions[key])
        toolbar = self.addToolBar("main")
        toolbar.setObjectName("main toolbar")
        for key in ("open", "save", "undo", "redo", "run", "pause", "stop", "drc", "export"):
            toolbar.addAction(self.actions[key])
        self._build_draw_toolbar()
        self._set_running(False)

    def _build_draw_toolbar(self) -> None:
        """Mouse tools of the canvas (exclusive), the erase switch and the brush size."""
        from PyQt6.QtGui import QActionGroup
        from PyQt6.QtWidgets import QSpinBox

        draw = self.addToolBar("draw")
        draw.setObjectName("draw toolbar")
        group = QActionGroup(self)
        group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for tool, tip in TOOLS.items():
            action = QAction(tool, self, checkable=True)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _c=False, t=tool: self.canvas.set_tool(t))
            group.addAction(action)
            draw.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["pan"].setChecked(True)
        self.erase_action = QAction("erase", self, checkable=True)
        self.erase_action.setToolTip("region tools remove cells instead of adding them")
        self.erase_action.toggled.connect(lambda on: setattr(self.canvas, "erase", on))
        draw.addSeparator()
        draw.addAction(self.erase_action)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 50)
        self.brush_size.setValue(int(self.canvas.brush_radius))
        self.brush_size.setPrefix("brush r ")
        self.brush_size.setSuffix(" cells")
        self.brush_size.valueChanged.connect(
            lambda v: setattr(self.canvas, "brush_radius", float(v)))
        draw.addWidget(self.brush_size)
        self.canvas.shape_drawn.connect(self._on_shape_drawn)
        self.canvas.port_added.connect(
            lambda kind, r, c: self._apply_edit(lambda cfg: add_port(cfg, kind, r, c),
                                                f"place {kind}"))
        self.canvas.port_moved.connect(
            lambda kind, i, r, c: self._apply_edit(lambda cfg: move_port(cfg, kind, i, r, c),
                                                   f"move {kind}"))
        self.canvas.port_deleted.connect(
            lambda kind, i: self._apply_edit(lambda cfg: delete_port(cfg, kind, i),
                                             f"delete {kind}"))

    def _on_shape_drawn(self, shape: dict) -> None:
        verb = "erase" if shape.get("erase") else "paint"
        self._apply_edit(lambda cfg: paint_region(cfg, shape), f"{verb} {shape['kind']}")

    def _apply_edit(self, make: object, text: str) -> bool:
        """Apply a drawing edit; an invalid one is explained in the status bar and the log."""
        try:
            self.document.edit(make(self.document.project.config), text)  # type: ignore[operator]
        except ValueError as exc:
            message = "; ".join(exc.problems) if isinstance(exc, ConfigError) else str(exc)
            self.statusBar().showMessage(f"{text}: {message}", 10_000)
            self.log.log(f"{text} refused: {message}")
            return False
        return True

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
        config = project.config
        if self._playback is None or self._playback[0] != config:
            self.field.set_examples(list(config.data.vowels) if config.problem == "vowels"
                                    else ["pulse"])
        self._update_title()

    def _on_design_changed(self) -> None:
        """Show a loaded run's history and check its design."""
        project = self.document.project
        if self.thread is None:
            self.plots.clear_run()
            for row in project.history:
                self.plots.add_epoch(row)
        self.violations.setRowCount(0)
        if "binary" in project.design and self.thread is None:
            self.check_rules()

    def _update_title(self, *_args: object) -> None:
        project = self.document.project
        where = f" — {project.path}" if project.path else ""
        mark = "*" if self.document.dirty else ""
        self.setWindowTitle(f"{mark}{project.name}{where} · wavefab designer")

    # -- files ---------------------------------------------------------------------------------
    def new_project(self, template: str) -> None:
        """Replace the document with a template (asks first when there are unsaved edits)."""
        if self._may_discard():
            self.document.new(template)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _c=False, p=path: self._open_checked(p))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _fill_recover_menu(self) -> None:
        from .session import autosaved

        self.recover_menu.clear()
        found = autosaved(self.autosaver.root, exclude=self.autosaver.written)
        for folder, origin in found:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(origin.get("saved", 0)))
            action = self.recover_menu.addAction(
                f"{origin.get('name')} ({origin.get('path') or 'never saved'}), {when}")
            action.triggered.connect(lambda _c=False, f=folder: self.recover_autosave(f))
        if not found:
            self.recover_menu.addAction("(nothing to recover)").setEnabled(False)

    def recover_autosave(self, folder: str | Path) -> bool:
        """Open an autosaved copy as an unsaved project (Save writes it where it came from)."""
        from .session import recover

        if not self._may_discard():
            return False
        try:
            project = recover(Path(folder))
        except (ValueError, OSError, KeyError) as exc:
            self._error("Cannot recover", str(exc))
            return False
        self.document.replace(project, unsaved=True)
        self.autosaver.adopt(Path(folder))  # removed once the recovered work is saved
        self.log.log(f"recovered {project.name} from the autosave {folder}")
        return True

    def _on_autosave_failed(self, message: str) -> None:
        self.log.log(message)
        self.statusBar().showMessage(message, 10_000)

    def _open_checked(self, path: str | Path) -> None:
        if self._may_discard():
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a project/results folder or a config YAML; errors go to a message box."""
        try:
            self.document.open(path)
        except (ValueError, OSError) as exc:
            self._error("Cannot open", str(exc))
            return False
        self.log.log(f"opened {path}")
        self.recent.add(path)
        from .session import newer_autosaves

        if newer_autosaves(path, self.autosaver.root, self.autosaver.written):
            message = ("an autosave of this project is newer than its last save: "
                       "File > Recover autosaved brings it back")
            self.log.log(message)
            self.statusBar().showMessage(message, 20_000)
        return True

    def _on_open(self) -> None:
        if not self._may_discard():
            return
        folder = QFileDialog.getExistingDirectory(self, "Open a project or results folder")
        if folder:
            self.open_path(folder)

    def _on_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a design onto this project's grid", "",
            "Layouts and meshes (*.gds *.oas *.stl *.3mf *.obj *.dxf)")
        if path:
            self.import_path(path)

    def import_path(self, path: str | Path, *, confirm: bool = True) -> bool:
        """Read a layout/mesh/DXF onto the project's grid as its design, then check it."""
        from wavefab.designkit.project import import_file_design

        try:
            arrays, metrics = import_file_design(self.document.project, path)
        except (ValueError, OSError) as exc:
            self._error("Cannot import", str(exc))
            return False
        if "binary" in self.document.project.design and confirm:
            answer = QMessageBox.question(
                self, "Replace the design?", "The project holds an optimized design. Replace "
                "it with the imported one? (The results folder it came from keeps it.)")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.document.project.history = []  # the curves were the replaced design's
        self.document.set_design(arrays, metrics)
        partial = int(((arrays["density"] > 0) & (arrays["density"] < 1)).sum())
        self.log.log(f"imported {path}: {int(arrays['binary'].sum())} solid cells, {partial} "
                     "partly covered (solid when at least half)")
        return True

    def resimulate(self, refine: int = 1) -> TaskWorker | None:
        """Evaluate the current binary design with the project's problem (on a worker).

        ``refine`` > 1: on a grid that many times finer in space and time, to see whether the
        figures are the design's or the grid's.
        """
        from wavefab.designkit.project import evaluate_design

        project = self.document.project
        if "binary" not in project.design:
            self._error("No design yet", "Optimize (F5), open a results folder or import a "
                        "layout first.")
            return None
        if self._task is not None:
            return None
        config, arrays = project.config, dict(project.design)
        source = project.metrics.get("imported_from", "the design")

        # the design's cells as blocks: what an imported file re-rasterized at the finer pitch
        # would differ by is `wavefab verify --refine`'s to say
        where = (f" on a grid {refine}× finer (its cells as {refine}×{refine} blocks)"
                 if refine > 1 else "")

        def work() -> dict[str, float]:
            return evaluate_design(Project(config=config), arrays, refine=refine)

        def done(metrics: dict[str, float]) -> None:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            self.log.log(f"re-simulated {source}{where}: {shown}")
            self.statusBar().showMessage(f"re-simulated: {shown}", 10_000)

        return self._start_task(work, done, "re-simulating the design…")

    def _on_save(self) -> None:
        if self.document.project.path is None or self.document.project.path.is_file():
            self._on_save_as()
            return
        self.save_to(self.document.project.path)

    def _on_save_as(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the project into a folder")
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str | Path) -> bool:
        """Save the project into ``folder``; errors go to a message box."""
        try:
            path = self.document.save(folder)
        except (ValueError, OSError) as exc:
            self._error("Cannot save", str(exc))
            return False
        self.log.log(f"saved {path}")
        self.recent.add(path)
        return True

    def _on_save_config(self) -> None:
        from wavefab.designkit.project import save_config

        path, _ = QFileDialog.getSaveFileName(self, "Save as a run configuration",
                                              f"{self.document.project.name}.yaml",
                                              "YAML (*.yaml *.yml)")
        if path:
            save_config(self.document.project, path)
            self.log.log(f"wrote {path}: run it with `wavefab run {path}`")

    def export_dialog(self) -> ExportDialog | None:
        """The export dialog for the current design (None, with a message, when there is none).

        The dialog writes into the project's folder by default (else the working directory).
        """
        design = self._design()
        if design is None:
            return None
        path = self.document.project.path
        folder = path if path is not None and path.is_dir() else Path.cwd()
        setup = sketch(self.document.project.config)
        return ExportDialog(design, folder, parent=self,
                            ports=[*setup.sources, *setup.probes])

    def _on_export(self) -> None:
        dialog = self.export_dialog()
        if dialog is not None:
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.exec()

    def export_to(self, path: str | Path, **settings: object) -> bool:
        """Export the current design (format from the suffix); errors go to a message box."""
        from wavefab.designkit.export import ExportSettings, export_design

        design = self._design()
        if design is None:
            return False
        try:
            report = export_design(design, [path], ExportSettings(**settings))  # type: ignore[arg-type]
        except ValueError as exc:
            self._error("Cannot export", str(exc))
            return False
        self.log.log(f"wrote {path} ({report.polygons['polygons']} polygons, DRC "
                     f"{'pass' if report.drc['pass'] else 'FAIL'})")
        return True

    def _design(self):
        from wavefab.designkit.export import design_from_arrays

        project = self.document.project
        if "binary" not in project.design:
            self._error("No design yet", "Optimize (F5) or open a results folder first.")
            return None
        return design_from_arrays(project.name, project.design,
                                  project.metrics.get("fabrication") or {},
                                  eta=project.config.material.eta)

    # -- checks ------------------------------------------------------------------------------
    def check_rules(self) -> dict | None:
        """Run the design-rule check of the current design; fills the violations table."""
        from wavefab.designkit.fab import drc

        design = self._design()
        if design is None:
            return None
        solid, void = max(design.min_solid_cells, 1), max(design.min_void_cells, 1)
        report = drc.check(design.binary, solid, min_void_cells=void, region=design.region,
                           pitch=design.pitch).to_dict()
        self.violations.setRowCount(len(report["violations"]))
        cells = []
        for i, v in enumerate(report["violations"]):
            for j, value in enumerate((v["kind"], f"{v['row']:.1f}", f"{v['col']:.1f}",
                                       str(v["size_cells"]))):
                self.violations.setItem(i, j, QTableWidgetItem(value))
            cells.append((v["row"], v["col"]))
        self.canvas.show_violations(cells)
        verdict = "PASS" if report["pass"] else f"FAIL ({len(report['violations'])} violations)"
        def measured(value: float | None, rule: int) -> str:
            return f"> {2 * rule}" if value is None else f"{value:g}"  # None: above 2 × rule

        self.log.log(f"DRC {verdict}: rule solid {solid} / void {void} cells; measured "
                     f"{measured(report['min_solid_cells'], solid)} / "
                     f"{measured(report['min_void_cells'], void)}")
        return report

    def _on_violation_clicked(self, row: int, _column: int) -> None:
        r = float(self.violations.item(row, 1).text())
        c = float(self.violations.item(row, 2).text())
        self.canvas.zoom_to(r, c)

    # -- fields --------------------------------------------------------------------------------
    def simulate_field(self, example: int = 0, frames: int = 120, *,
                       wait: bool = False) -> TaskWorker | None:
        """Play input ``example`` through the current design on a worker thread.

        The medium is the binary design when there is one, else the empty background; the
        Field tab shows the result when it is done. ``wait``: simulate here and now instead
        (for a screenshot), showing the moment the output probes peak.
        """
        if self._task is not None:
            return None
        config = self.document.project.config
        design = self.document.project.design
        cached = self._playback if self._playback and self._playback[0] == config else None
        binary = design.get("binary")
        fits = binary is not None and np.shape(binary) == tuple(sketch(config).shape)
        caption = "binary design" if fits else "no design (background medium)"

        def simulate() -> tuple[Any, Problem, str]:
            import torch

            from wavefab.designkit.project.playback import field_movie
            from wavefab.designkit.run import build_parametrization, build_problem

            problem = cached[1] if cached else build_problem(config)
            shape = tuple(problem.setup.grid.shape)
            density = np.zeros(shape, np.float32)
            if fits:
                density = np.asarray(binary, np.float32)
            medium = build_parametrization(config, problem).material(torch.from_numpy(density))
            return field_movie(problem, medium, example=example, frames=frames), problem, caption

        if wait:
            self._on_field_done(config, simulate())
            self.field.show_peak()
            return None
        return self._start_task(simulate, lambda result: self._on_field_done(config, result),
                                "simulating the field…")

    def _start_task(self, function: object, done: object, message: str) -> TaskWorker | None:
        """Run ``function`` on a worker thread, then ``done(result)`` here; one at a time."""
        if self._task is not None:
            return None
        worker = TaskWorker(function)
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        worker.done.connect(done)
        worker.failed.connect(lambda text: self._error("Cannot simulate",
                                                       text.strip().splitlines()[-1]))
        worker.failed.connect(self.log.log)  # the whole message (a traceback for a bug)
        for signal in (worker.done, worker.failed):
            signal.connect(thread.quit)
        thread.finished.connect(self._on_task_finished)
        self._task = (thread, worker)
        self.field.simulate.setEnabled(False)
        for key in self._SIMULATING_ACTIONS:
            self.actions[key].setEnabled(False)
        self.statusBar().showMessage(message)
        thread.start()
        return worker

    def _on_field_done(self, config: object, result: tuple[Any, Problem, str]) -> None:
        from wavefab.designkit.project.playback import example_titles

        movie, problem, caption = result
        self._playback = (config, problem)
        self.field.set_examples(example_titles(problem))
        self._show_movie(movie, caption)
        self.statusBar().showMessage(f"field of {movie.title}: {len(movie.frames)} frames",
                                     5000)

    def _show_movie(self, movie: Any, caption: str) -> None:
        outline = region_outline(sketch(self.document.project.config).region, self.canvas.cell)
        self.field.set_movie(movie, cell=self.canvas.cell, region_outline=outline,
                             caption=caption)
        self.field_dock.raise_()

    def _on_task_finished(self) -> None:
        if self._task is not None:
            self._task[0].deleteLater()
        self._task = None
        self.field.simulate.setEnabled(self.thread is None)
        for key in self._SIMULATING_ACTIONS:
            self.actions[key].setEnabled(self.thread is None)

    def _on_run_medium(self, density: np.ndarray) -> None:
        """Show what the material is becoming (density: 0 background, 1 material)."""
        density = np.asarray(density, float)
        try:
            setup = sketch(self.document.project.config)
        except ValueError:
            return
        if density.shape == tuple(setup.shape):
            self.canvas.show_setup(setup, np.clip(density, 0.0, 1.0), label="density (live)")

    def _on_run_field(self, movie: Any) -> None:
        self._show_movie(movie, "live")

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, out_dir: str | Path | None = None) -> RunWorker | None:
        """Optimize the document's configuration on a worker thread."""
        if self.thread is not None:
            return None
        project = self.document.project
        if out_dir is None:
            base = project.path if project.path is not None and project.path.is_dir() else \
                Path(tempfile.mkdtemp(prefix="wavefab-run-"))
            out_dir = base / "results" if base == project.path else base
        self.plots.clear_run()
        self.worker = RunWorker(project.config, out_dir)
        self.thread = QThread(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.work)
        self.worker.started.connect(self._on_run_started)
        self.worker.step.connect(self._on_run_step)
        self.worker.epoch.connect(self._on_run_epoch)
        self.worker.medium.connect(self._on_run_medium)
        self.worker.field.connect(self._on_run_field)
        self.worker.finished.connect(self._on_run_finished)
        self.worker.stopped.connect(self._on_run_stopped)
        self.worker.failed.connect(self._on_run_failed)
        for signal in (self.worker.finished, self.worker.stopped, self.worker.failed):
            signal.connect(self.thread.quit)
        self.thread.finished.connect(self._on_thread_finished)
        self._run_started = time.perf_counter()
        self._set_running(True)
        self.log.log(f"optimizing into {out_dir}")
        self.thread.start()
        return self.worker

    def toggle_pause(self) -> None:
        """Pause or resume the running optimization."""
        if self.worker is None:
            return
        if self.worker.paused:
            self.worker.resume_run()
            self.actions["pause"].setText("&Pause")
            self.log.log("resumed")
        else:
            self.worker.pause()
            self.actions["pause"].setText("&Resume")
            self.log.log("paused after the current step")

    def stop_run(self) -> None:
        """Stop after the current step (the last epoch's checkpoint is kept)."""
        if self.worker is not None:
            self.worker.stop()

    def _set_running(self, running: bool) -> None:
        self.actions["run"].setEnabled(not running)
        self.actions["pause"].setEnabled(running)
        self.actions["stop"].setEnabled(running)
        # one simulation at a time: the live field view covers the run itself
        for key in self._SIMULATING_ACTIONS:
            self.actions[key].setEnabled(not running)
        self.field.simulate.setEnabled(not running)

    def _on_run_started(self, folds: int, epochs: int) -> None:
        self._total = max(folds * epochs, 1)
        self.progress.setRange(0, 1000)

    def _on_run_step(self, fold: int, epoch: int, step: int, steps: int) -> None:
        done = ((fold * self._epochs_per_fold() + epoch) + (step + 1) / max(steps, 1))
        fraction = min(done / self._total, 1.0)
        self.progress.setValue(int(1000 * fraction))
        elapsed = time.perf_counter() - self._run_started
        if fraction > 0.01:
            eta = elapsed * (1 - fraction) / fraction
            self.statusBar().showMessage(f"fold {fold + 1}, epoch {epoch + 1}: about "
                                         f"{eta:.0f} s left")

    def _epochs_per_fold(self) -> int:
        return max(self.document.project.config.training.epochs, 1)

    def _on_run_epoch(self, row: dict) -> None:
        self.plots.add_epoch(row)
        shown = ", ".join(f"{k} {v:.3g}" for k, v in row.items()
                          if k not in ("fold", "epoch", "seconds"))
        self.log.log(f"fold {row['fold'] + 1} epoch {row['epoch'] + 1}: {shown}")

    def _on_run_finished(self, out_dir: str) -> None:
        from wavefab.designkit.project import load_project

        result: Project = load_project(out_dir)
        self.progress.setValue(1000)
        if self.worker is not None and self.worker.config != self.document.project.config:
            # edited (or replaced) during the run: its design belongs to the old settings
            self.log.log(f"finished, but the project changed during the run: the design stays "
                         f"in {out_dir} (File > Open to look at it)")
            return
        self.document.set_design(result.design, result.metrics)
        self.statusBar().showMessage("optimization finished", 5000)
        self.log.log(f"finished: results in {out_dir}")
        self.check_rules()

    def _on_run_stopped(self) -> None:
        self.log.log("stopped; the last finished epoch's checkpoint is kept")

    def _on_run_failed(self, message: str) -> None:
        self.log.log(f"run failed: {message}")
        self._error("Run failed", message.splitlines()[-1] if message else "unknown error")

    def _on_thread_finished(self) -> None:
        self._set_running(False)
        self._on_document_changed()  # the project's own design again, not the live density
        self.actions["pause"].setText("&Pause")
        if self.thread is not None:
            self.thread.deleteLater()
        self.thread = None
        self.worker = None

    # -- closing -------------------------------------------------------------------------------
    def _may_discard(self, *, closing: bool = False) -> bool:
        """Whether the document may be replaced or closed; asks about unsaved changes.

        Save saves first (and goes on only when that worked); Discard drops the changes and
        their autosave; Cancel keeps everything as it is.
        """
        if self.thread is not None and not closing:
            self._error("A run is going", "Stop the optimization (Shift+F5) before replacing "
                        "or closing the project.")
            return False
        if not self.document.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes",
            f"{self.document.project.name} has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            self._on_save()
            return not self.document.dirty
        if answer == QMessageBox.StandardButton.Discard:
            self.autosaver.discard()
            return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop a run cleanly (its checkpoint stays) and ask about unsaved edits."""
        if not self._may_discard(closing=True):
            event.ignore()
            return
        if self.thread is not None and self.worker is not None:
            # the worker stops after its current step; a thread still running when the
            # window goes would abort the application, so wait for it whatever it takes
            self.statusBar().showMessage("stopping the run after its current step…")
            self.worker.stop()
            self.thread.quit()
            self.thread.wait()
        if self._task is not None:  # a field simulation: short, let it end
            self._task[0].quit()
            self._task[0].wait(60_000)
        self.field.timer.stop()
        self.autosaver.timer.stop()  # nothing fires into a window being torn down
        event.accept()

    def _error(self, title: str, text: str) -> None:
        self.log.log(f"{title}: {text}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setObjectName("error")
        box.open()
