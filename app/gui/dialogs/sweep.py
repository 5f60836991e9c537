"""The "Save as sweep" dialog: settings and their values to sweep over the current project.

Each row is one dotted setting and its values, separated by commas; the sweep runs every
combination (a grid). What the values mean, the checks and the writing are
:mod:`wavefab.designkit.sweep.authoring`'s; this dialog collects the text, shows how many points
it makes or what is wrong, and asks before replacing a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.config import RunConfig
from wavefab.designkit.problems.registry import problem_kind
from wavefab.designkit.sweep.authoring import (
    SweepDraft,
    draft_sweep,
    parse_values,
    setting_values,
    write_sweep_file,
)
from wavefab.designkit.sweep.spec import SweepError

#: How a field with a bad value is marked (as the settings panel marks one).
BAD = "border: 1px solid #c0392b;"


class SweepDialog(QDialog):
    """Rows of dotted key + values, a metric, the file to write; Save checks, then writes.

    Attributes:
        rows: the (key, values) editors, in order.
        written_path: the sweep file last written, or None.

    Signals:
        written(object): the :class:`~wavefab.designkit.sweep.authoring.SweepDraft` just
            written (its ``path`` is the sweep file, ``base_path`` the base beside it).
    """

    written = pyqtSignal(object)

    def __init__(self, config: RunConfig, path: str | Path, parent: QWidget | None = None, *,
                 title: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Save {title or 'the project'} as a sweep")
        self.config = config
        self.title = title
        self.current = setting_values(config)
        self.rows: list[tuple[QLineEdit, QLineEdit]] = []
        self.written_path: Path | None = None
        self._completer = QCompleter(list(self.current), self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        box = QGroupBox("Settings to sweep (every combination runs)")
        self.grid_layout = QGridLayout(box)
        self.grid_layout.addWidget(QLabel("setting (dotted key)"), 0, 0)
        self.grid_layout.addWidget(QLabel("values, separated by commas"), 0, 1)
        add = QPushButton("Add a setting")
        add.clicked.connect(lambda: self.add_row())
        self.metric = QLineEdit()
        default = problem_kind(config.problem).made_metric
        self.metric.setPlaceholderText(f"default: {default}")
        self.metric.setToolTip("the metrics.json key the summary ranks the points by")
        self.metric.editingFinished.connect(self.check)
        self.direction = QComboBox()
        self.direction.addItems(["maximize", "minimize"])
        self.path = QLineEdit(str(path))
        self.path.editingFinished.connect(self.check)
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.clicked.connect(self._choose_path)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("rank by", self.metric)
        form.addRow("best is", self.direction)
        form.addRow("sweep file", where)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save_clicked)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.add_row()
        self.resize(640, 380)
        self._say("the base configuration is saved beside the sweep file as <name>_base.yaml")

    # -- the rows ------------------------------------------------------------------------------
    def add_row(self, key: str = "", values: str = "") -> tuple[QLineEdit, QLineEdit]:
        """Add a row (filled with ``key`` and ``values``); returns its two editors."""
        key_edit = QLineEdit(key)
        key_edit.setPlaceholderText("e.g. material.c1")
        key_edit.setCompleter(self._completer)
        values_edit = QLineEdit(values)
        remove = QPushButton("−")
        remove.setFixedWidth(28)
        remove.setToolTip("remove this setting")
        row = len(self.rows) + 1
        self.grid_layout.addWidget(key_edit, row, 0)
        self.grid_layout.addWidget(values_edit, row, 1)
        self.grid_layout.addWidget(remove, row, 2)
        pair = (key_edit, values_edit)
        self.rows.append(pair)
        key_edit.textChanged.connect(lambda _t, p=pair: self._show_current(p))
        key_edit.editingFinished.connect(self.check)
        values_edit.editingFinished.connect(self.check)
        remove.clicked.connect(lambda _c=False, p=pair, b=remove: self._remove_row(p, b))
        self._show_current(pair)
        return pair

    def _remove_row(self, pair: tuple[QLineEdit, QLineEdit], button: QPushButton) -> None:
        self.rows.remove(pair)
        for widget in (*pair, button):
            self.grid_layout.removeWidget(widget)
            widget.deleteLater()
        self.check()

    def _show_current(self, pair: tuple[QLineEdit, QLineEdit]) -> None:
        """The values' placeholder says what the project has now, when the key is a setting."""
        key = pair[0].text().strip()
        now = f"now {self.current[key]}, " if key in self.current else ""
        pair[1].setPlaceholderText(f"{now}e.g. 0.4, 0.5, 0.6")

    def grid(self) -> dict[str, list[Any]]:
        """The values by key from the rows (empty rows are skipped).

        Raises:
            SweepError: values without a key, a key twice, or values that cannot be read.
        """
        grid: dict[str, list[Any]] = {}
        for key_edit, values_edit in self.rows:
            key, text = key_edit.text().strip(), values_edit.text().strip()
            if not key and not text:
                continue
            if not key:
                key_edit.setStyleSheet(BAD)
                raise SweepError(f"values {text!r}: name the setting they are for")
            if key in grid:
                key_edit.setStyleSheet(BAD)
                raise SweepError(f"{key}: given in two rows")
            try:
                grid[key] = parse_values(text, name=key)
            except SweepError:
                values_edit.setStyleSheet(BAD)
                raise
        return grid

    # -- checking and writing ------------------------------------------------------------------
    def request(self) -> dict[str, Any]:
        """What to write, as the keyword arguments of ``draft_sweep``/``write_sweep_file``.

        Raises:
            SweepError: no file named, or a row that cannot be read.
        """
        path = self.path.text().strip()
        if not path:
            raise SweepError("sweep file: choose where to write it")
        # only what the user chose goes in the file: the defaults stay the sweep format's
        minimize = self.direction.currentText() == "minimize"
        return {"path": Path(path).expanduser(), "base_config": self.config,
                "grid": self.grid(), "metric": self.metric.text().strip() or None,
                "direction": "minimize" if minimize else None, "title": self.title}

    def draft(self) -> SweepDraft | None:
        """The sweep the dialog describes, checked; None (with the reason shown) when invalid."""
        for key_edit, values_edit in self.rows:
            key_edit.setStyleSheet("")
            values_edit.setStyleSheet("")
        self.path.setStyleSheet("")
        try:
            return draft_sweep(**self.request())
        except SweepError as exc:
            self._mark(str(exc))
            self._say(str(exc), error=True)
            return None

    def check(self) -> bool:
        """Check what the dialog holds and say how many points it makes, or what is wrong."""
        draft = self.draft()
        if draft is not None:
            replaces = (f"; replaces {', '.join(p.name for p in draft.existing)}"
                        if draft.existing else "")
            self._say(f"{draft.describe()} → {draft.path.name} and {draft.base_path.name}"
                      f"{replaces}")
        return draft is not None

    def save(self) -> Path | None:
        """Check and write the sweep file and its base; returns the sweep file, or None.

        Files that exist are replaced only when the user agrees; nothing is written otherwise.
        """
        draft = self.draft()
        if draft is None:
            return None
        if draft.existing and not self._confirm_replace(draft.existing):
            self._say(f"nothing written: {', '.join(map(str, draft.existing))} already there",
                      error=True)
            return None
        try:
            path = write_sweep_file(**self.request(), overwrite=bool(draft.existing))
        except SweepError as exc:
            self._say(str(exc), error=True)
            return None
        self.written_path = path
        self._say(f"wrote {path} and {draft.base_path.name} ({draft.describe()}); run it with "
                  f"`wavefab sweep {path} --out {path.with_suffix('')}`")
        self.written.emit(draft)
        return path

    def _confirm_replace(self, paths: list[Path]) -> bool:
        names = "\n".join(str(p) for p in paths)
        answer = QMessageBox.question(
            self, "Replace files?", f"These files are there already:\n{names}\nReplace them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _on_save_clicked(self) -> None:
        if self.save() is not None:
            self.accept()

    def _choose_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write the sweep file", self.path.text(),
                                              "YAML (*.yaml *.yml)")
        if path:
            self.path.setText(path)
            self.check()

    # -- messages ------------------------------------------------------------------------------
    def _mark(self, message: str) -> None:
        """Mark the row whose key the message names (the checks name keys by dotted path)."""
        for key_edit, values_edit in self.rows:
            key = key_edit.text().strip()
            if key and (f"{key}=" in message or f"{key}:" in message):
                key_edit.setStyleSheet(BAD)
                values_edit.setStyleSheet(BAD)
        if message.startswith(("sweep file", f"{self.path.text().strip()}:")):
            self.path.setStyleSheet(BAD)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")
