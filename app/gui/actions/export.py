"""File > Export: the current design to masks, meshes and outlines, through the export dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt

from wavefab.designkit.results import Design

from ..dialogs import ExportDialog
from ._base import ActionGroup, ActionSpec

EXPORT = ActionSpec("export", "&File", "&Export…", "open_dialog", "Ctrl+E")


class ExportActions(ActionGroup):
    """The design as the export and the checks see it, and its hand-off."""

    ACTIONS = (EXPORT,)

    def design(self) -> Design | None:
        """The project's design with its rules, pitch and ports (None, said, when there is none)."""
        from wavefab.designkit.export import design_from_arrays
        from wavefab.designkit.project import sketch

        project = self.window.document.project
        if "binary" not in project.design:
            self.window.error("No design yet", "Optimize (F5) or open a results folder first.")
            return None
        try:
            setup = sketch(project.config)
            ports = (*setup.sources, *setup.probes)
        except ValueError:
            ports = ()  # a layout that cannot be drawn: the ports stay unknown
        return design_from_arrays(project.name, project.design,
                                  project.metrics.get("fabrication") or {},
                                  eta=project.config.material.eta, ports=ports)

    def dialog(self) -> ExportDialog | None:
        """The export dialog for the current design (None, with a message, when there is none).

        The dialog writes into the project's folder by default (else the working directory).
        """
        design = self.design()
        if design is None:
            return None
        path = self.window.document.project.path
        folder = path if path is not None and path.is_dir() else Path.cwd()
        return ExportDialog(design, folder, parent=self.window)  # type: ignore[arg-type]

    def open_dialog(self) -> None:
        """File > Export: show the dialog until it is closed."""
        dialog = self.dialog()
        if dialog is not None:
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.exec()

    def export_to(self, path: str | Path, **settings: Any) -> bool:
        """Export the current design (format from the suffix); errors go to a message box."""
        from wavefab.designkit.export import ExportSettings, export_design

        design = self.design()
        if design is None:
            return False
        try:
            report = export_design(design, [path], ExportSettings(**settings))
        except ValueError as exc:
            self.window.error("Cannot export", str(exc))
            return False
        self.window.log.log(f"wrote {path} ({report.polygons['polygons']} polygons, "
                            f"{report.check.summary() if report.check else 'DRC ?'})")
        return True
