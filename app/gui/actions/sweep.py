"""Sweeps in the designer: a sweep folder's table, its points opened, the project saved as one.

Opening a sweep folder (File > Open, the command line, Open recent) shows its
:class:`~..views.sweep.SweepView` in a window of its own beside the designer, which keeps the
project it has; double-clicking a point opens that point's results folder in the designer, as
File > Open would (asking first about unsaved changes), so one point after another can be
looked at, checked and exported from the same table. File > Save as sweep writes a sweep file
over the current configuration (:class:`~..dialogs.sweep.SweepDialog`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import Qt

from wavefab.designkit.sweep.authoring import SweepDraft
from wavefab.designkit.sweep.folder import read_sweep_folder
from wavefab.designkit.sweep.spec import SweepError

from ..dialogs.sweep import SweepDialog
from ..views.sweep import SweepView
from ._base import ActionGroup, ActionSpec, Shell

SAVE_SWEEP = ActionSpec("save_sweep", "&File", "Save as s&weep…", "open_dialog")


class SweepActions(ActionGroup):
    """The sweep windows of this designer, and File > Save as sweep.

    Attributes:
        views: the open sweep windows, by resolved folder (opening one again reloads it).
        latest: the sweep window opened last, or None.
    """

    ACTIONS = (SAVE_SWEEP,)

    def __init__(self, window: Shell, *, open_point: Callable[[Path], bool]) -> None:
        super().__init__(window)
        # opening a point replaces the document: the File actions ask about unsaved edits
        self._open_point = open_point
        self.views: dict[Path, SweepView] = {}
        self.latest: SweepView | None = None

    # -- sweep folders -------------------------------------------------------------------------
    def open_sweep(self, path: str | Path) -> bool:
        """Show the sweep folder ``path`` in its window; a damaged record goes to a message box."""
        window = self.window
        try:
            folder = read_sweep_folder(path)
        except SweepError as exc:
            window.error("Cannot open the sweep", str(exc))
            return False
        key = folder.path.resolve()
        view = self.views.get(key)
        if view is None:
            view = SweepView(folder, parent=window)  # type: ignore[arg-type]
            # a window of its own (owned by the designer: it closes with it)
            view.setWindowFlag(Qt.WindowType.Window)
            view.point_activated.connect(lambda pid, v=view: self.open_point(v, pid))
            self.views[key] = view
        else:
            view.reload()
        view.show()
        view.raise_()
        self.latest = view
        window.log.log(f"opened the sweep {path}: {view.folder.summary()}")
        return True

    def open_point(self, view: SweepView, point_id: str) -> bool:
        """Open point ``point_id`` of ``view``'s sweep in the designer; errors in a message box."""
        window = self.window
        try:
            results = view.folder.point_results(point_id)
        except SweepError as exc:
            window.error("Cannot open the point", str(exc))
            return False
        if not self._open_point(results):
            return False
        window.raise_()  # type: ignore[attr-defined]
        window.activateWindow()  # type: ignore[attr-defined]
        return True

    # -- Save as sweep -------------------------------------------------------------------------
    def dialog(self) -> SweepDialog:
        """The Save-as-sweep dialog over the current configuration.

        It proposes ``<project>_sweep.yaml`` beside the project (beside its folder, not inside
        it: a results folder holds what one run wrote), else in the working directory.
        """
        project = self.window.document.project
        where = project.path.parent if project.path is not None else Path.cwd()
        dialog = SweepDialog(project.config, where / f"{project.name}_sweep.yaml",
                             parent=self.window, title=project.name)  # type: ignore[arg-type]
        dialog.written.connect(self._on_written)
        return dialog

    def open_dialog(self) -> None:
        """File > Save as sweep: show the dialog until it is closed."""
        dialog = self.dialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exec()

    def _on_written(self, draft: SweepDraft) -> None:
        message = (f"wrote the sweep {draft.path} ({draft.describe()}) and its base "
                   f"{draft.base_path.name}: run it with `wavefab sweep {draft.path} --out "
                   f"{draft.path.with_suffix('')}`")
        self.window.log.log(message)
        self.window.statusBar().showMessage(message, 20_000)
