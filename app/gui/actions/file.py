"""The File menu: new, open, recent, recover, save, save as, save as a configuration, import.

A sweep folder opens through here too (File > Open, Open recent, the command line): it is
handed to the sweep actions, which show it in a window of its own and leave the project be.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMenu, QMessageBox

from wavefab.designkit.errors import DesignError
from wavefab.designkit.project import TEMPLATES
from wavefab.designkit.sweep.folder import is_sweep_folder

from ..session import Autosaver, RecentFiles, autosaved, newer_autosaves, recover
from ._base import ActionGroup, ActionSpec, Shell

#: The File menu's own entries (the export entry is :mod:`.export`'s).
FILE = "&File"


class FileActions(ActionGroup):
    """Projects in and out of the window, with recent files and autosave recovery."""

    ACTIONS = (
        ActionSpec("open", FILE, "&Open…", "choose_and_open", QKeySequence.StandardKey.Open),
        ActionSpec("save", FILE, "&Save", "save", QKeySequence.StandardKey.Save),
        ActionSpec("save_as", FILE, "Save &as…", "save_as", QKeySequence.StandardKey.SaveAs),
        ActionSpec("save_config", FILE, "Save as &config…", "save_config"),
        ActionSpec("import", FILE, "&Import layout or mesh…", "choose_and_import", "Ctrl+I"),
    )

    def __init__(self, window: Shell, *,
                 open_sweep: Callable[[Path], bool] | None = None) -> None:
        super().__init__(window)
        # a sweep folder is not a project: whoever shows sweeps opens it (None: refused)
        self._open_sweep = open_sweep
        self.recent = RecentFiles()
        self.autosaver = Autosaver(window.document, parent=window)  # type: ignore[arg-type]
        self.autosaver.failed.connect(self._on_autosave_failed)
        self.recent_menu: QMenu | None = None
        self.recover_menu: QMenu | None = None

    def add_submenus(self, menu: QMenu) -> None:
        """New from template, Open recent and Recover autosaved, at the top of ``menu``."""
        new_menu = menu.addMenu("&New from template")
        for name, (description, _values) in TEMPLATES.items():
            action = new_menu.addAction(f"{name}: {description}")
            action.triggered.connect(lambda _c=False, n=name: self.new_project(n))
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        self.recover_menu = menu.addMenu("Re&cover autosaved")
        self.recover_menu.aboutToShow.connect(self.fill_recover_menu)

    # -- replacing the document ---------------------------------------------------------------
    def may_discard(self, *, closing: bool = False) -> bool:
        """Whether the document may be replaced or closed; asks about unsaved changes.

        Save saves first (and goes on only when that worked); Discard drops the changes and
        their autosave; Cancel keeps everything as it is.
        """
        window = self.window
        if getattr(window, "thread", None) is not None and not closing:
            window.error("A run is going", "Stop the optimization (Shift+F5) before replacing "
                         "or closing the project.")
            return False
        if not window.document.dirty:
            return True
        answer = QMessageBox.question(
            window, "Unsaved changes",  # type: ignore[arg-type]
            f"{window.document.project.name} has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            self.save()
            return not window.document.dirty
        if answer == QMessageBox.StandardButton.Discard:
            self.autosaver.discard()
            return True
        return False

    def new_project(self, template: str) -> None:
        """Replace the document with a template (asks first when there are unsaved edits)."""
        if self.may_discard():
            self.window.document.new(template)

    def open_path(self, path: str | Path) -> bool:
        """Open a project/results folder or a config YAML; errors go to a message box.

        A sweep folder (one with ``sweep.json``) opens in its own window; the project stays.
        """
        window = self.window
        if is_sweep_folder(path) and self._open_sweep is not None:
            if not self._open_sweep(Path(path)):
                return False
            self.recent.add(path)
            return True
        try:
            window.document.open(path)
        except (DesignError, ValueError, OSError) as exc:
            window.error("Cannot open", str(exc))
            return False
        window.log.log(f"opened {path}")
        self.recent.add(path)
        if newer_autosaves(path, self.autosaver.root, self.autosaver.written):
            message = ("an autosave of this project is newer than its last save: "
                       "File > Recover autosaved brings it back")
            window.log.log(message)
            window.statusBar().showMessage(message, 20_000)
        return True

    def choose_and_open(self) -> None:
        """File > Open: a folder chosen in a dialog (unsaved edits are asked about after it)."""
        folder = QFileDialog.getExistingDirectory(self.window,  # type: ignore[arg-type]
                                                  "Open a project, results or sweep folder")
        if folder:
            self.open_checked(folder)

    def open_checked(self, path: str | Path) -> bool:
        """Open ``path`` unless the user keeps unsaved edits (a sweep folder replaces nothing)."""
        if (is_sweep_folder(path) and self._open_sweep is not None) or self.may_discard():
            return self.open_path(path)
        return False

    def fill_recent_menu(self) -> None:
        """List the recent projects (newest first) in the Open recent menu."""
        assert self.recent_menu is not None
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_checked(p))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def fill_recover_menu(self) -> None:
        """List the autosaves other sessions left (newest first) in the Recover menu."""
        assert self.recover_menu is not None
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
        window = self.window
        if not self.may_discard():
            return False
        try:
            project = recover(Path(folder))
        except (ValueError, OSError, KeyError) as exc:
            window.error("Cannot recover", str(exc))
            return False
        window.document.replace(project, unsaved=True)
        self.autosaver.adopt(Path(folder))  # removed once the recovered work is saved
        window.log.log(f"recovered {project.name} from the autosave {folder}")
        return True

    def _on_autosave_failed(self, message: str) -> None:
        self.window.log.log(message)
        self.window.statusBar().showMessage(message, 10_000)

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> None:
        """File > Save: where the project came from, else ask (Save as)."""
        path = self.window.document.project.path
        if path is None or path.is_file():
            self.save_as()
            return
        self.save_to(path)

    def save_as(self) -> None:
        """File > Save as: into a folder chosen in a dialog."""
        folder = QFileDialog.getExistingDirectory(self.window,  # type: ignore[arg-type]
                                                  "Save the project into a folder")
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str | Path) -> bool:
        """Save the project into ``folder``; errors go to a message box."""
        window = self.window
        try:
            path = window.document.save(folder)
        except (ValueError, OSError) as exc:
            window.error("Cannot save", str(exc))
            return False
        window.log.log(f"saved {path}")
        self.recent.add(path)
        return True

    def save_config(self) -> None:
        """File > Save as config: a YAML that ``wavefab run`` accepts."""
        from wavefab.designkit.project import save_config

        project = self.window.document.project
        path, _ = QFileDialog.getSaveFileName(self.window,  # type: ignore[arg-type]
                                              "Save as a run configuration",
                                              f"{project.name}.yaml", "YAML (*.yaml *.yml)")
        if path:
            save_config(project, path)
            self.window.log.log(f"wrote {path}: run it with `wavefab run {path}`")

    # -- importing -------------------------------------------------------------------------------
    def choose_and_import(self) -> None:
        """File > Import: a layout, mesh or DXF chosen in a dialog."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import a design onto this project's grid", "",  # type: ignore[arg-type]
            "Layouts and meshes (*.gds *.oas *.stl *.3mf *.obj *.dxf)")
        if path:
            self.import_path(path)

    def import_path(self, path: str | Path, *, confirm: bool = True) -> bool:
        """Read a layout/mesh/DXF onto the project's grid as its design, then check it."""
        from wavefab.designkit.project import import_file_design

        window = self.window
        try:
            arrays, metrics = import_file_design(window.document.project, path)
        except (ValueError, OSError) as exc:
            window.error("Cannot import", str(exc))
            return False
        if "binary" in window.document.project.design and confirm:
            answer = QMessageBox.question(
                window, "Replace the design?",  # type: ignore[arg-type]
                "The project holds an optimized design. Replace it with the imported one? "
                "(The results folder it came from keeps it.)")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        window.document.project.history = []  # the curves were the replaced design's
        window.document.set_design(arrays, metrics)
        partial = int(((arrays["density"] > 0) & (arrays["density"] < 1)).sum())
        window.log.log(f"imported {path}: {int(arrays['binary'].sum())} solid cells, {partial} "
                       "partly covered (solid when at least half)")
        return True
