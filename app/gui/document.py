"""The open project as one Qt object that every view observes; every edit is undoable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoStack

from wavefab.designkit.config import RunConfig
from wavefab.designkit.project import Project, load_project, new_project, save_project

from .commands import SetValueCommand


class Document(QObject):
    """Owns the :class:`~wavefab.designkit.project.Project`; views subscribe to its signals.

    Signals:
        config_changed(str): a setting changed (its dotted key; ``""`` for a whole new project).
        design_changed(): the design arrays or metrics were replaced (a run ended, a file opened).
        path_changed(): saved under or opened from another path.
    """

    config_changed = pyqtSignal(str)
    design_changed = pyqtSignal()
    path_changed = pyqtSignal()

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project or new_project("lens")
        self.undo_stack = QUndoStack(self)
        self._unsaved_design = False

    # -- edits (undoable) ------------------------------------------------------------------
    def set_value(self, key: str, value: Any, text: str | None = None) -> None:
        """Validate and apply one setting as an undoable command (``text``: its undo label).

        Raises:
            ConfigError: naming the field, when the value is not valid; nothing changes then.
        """
        config = self.project.with_value(key, value)
        if config != self.project.config:
            self.undo_stack.push(SetValueCommand(self, key, config, text))

    def edit(self, change: tuple[str, Any], text: str) -> None:
        """Apply a drawing edit ``(key, value)`` from :mod:`wavefab.designkit.project`.

        Raises:
            ConfigError, DesignValueError: the edit is invalid (e.g. a port in the PML); the
                message names the field; nothing changes then.
        """
        self.set_value(*change, text=text)

    def _replace_config(self, config: RunConfig, key: str) -> None:
        self.project.config = config
        self.config_changed.emit(key)

    # -- whole-project operations (not undoable: they replace the document) ---------------
    def replace(self, project: Project, *, unsaved: bool = False) -> None:
        """Show another project (new or opened); clears the undo history.

        ``unsaved``: the project holds changes not saved anywhere (a recovered autosave).
        """
        self.project = project
        self._unsaved_design = unsaved
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.config_changed.emit("")
        self.design_changed.emit()
        self.path_changed.emit()

    def new(self, template: str) -> None:
        """Start a project from a template."""
        self.replace(new_project(template))

    def open(self, path: str | Path) -> None:
        """Open a project folder, results folder or configuration YAML."""
        self.replace(load_project(path))

    def save(self, path: str | Path | None = None) -> Path:
        """Save (to ``path`` or where it came from); marks the document clean."""
        target = Path(path) if path is not None else self.project.path
        if target is None or target.is_file():
            raise ValueError("no project folder to save to: choose one (Save as)")
        save_project(self.project, target)
        self._unsaved_design = False
        self.undo_stack.setClean()
        self.path_changed.emit()
        return target

    def set_design(self, design: dict, metrics: dict) -> None:
        """Take the arrays and metrics of a finished run."""
        self.project.design = dict(design)
        self.project.metrics = dict(metrics)
        self._unsaved_design = True
        self.design_changed.emit()

    @property
    def dirty(self) -> bool:
        """Unsaved changes."""
        return self._unsaved_design or not self.undo_stack.isClean()
