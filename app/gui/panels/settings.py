"""The settings panel: forms that edit the document, one undoable edit per field."""

from __future__ import annotations

import math
from typing import Any

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.config import ConfigError
from wavefab.designkit.problems import problem_kind

from ..document import Document

#: The settings the panel shows: (section title, [(dotted key, label, kind, choices)]).
#: ``domain.<role>`` keys stand for the current problem's own setting of that role (its
#: :attr:`~wavefab.designkit.problems.ProblemKind.keys`; a problem without one hides the row).
FIELDS: list[tuple[str, list[tuple[str, str, str, tuple[str, ...]]]]] = [
    ("Task", [("data.folder", "recordings folder", "folder", ()),
              ("data.vowels", "classes (vowels)", "text", ()),
              ("data.genders", "genders", "text", ()),
              ("data.split", "folds by", "choice", ("recordings", "speakers"))]),
    ("Domain", [("domain.size", "size (width × height)", "text", ()),
                ("domain.shape", "grid [rows, cols]", "text", ()),
                ("domain.frequency", "pulse frequency (1/time)", "number", ()),
                ("domain.steps", "time steps", "number", ())]),
    ("Physics", [("physics", "wave model", "choice", ("scalar", "acoustic")),
                 ("acoustic.contrast", "solid/fluid density (acoustic)", "number", ()),
                 ("acoustic.contrast_schedule", "contrast schedule [[epoch, contrast], …]",
                  "text", ()),
                 ("acoustic.interpolation", "solid law (acoustic)", "choice",
                  ("density", "impedance")),
                 ("material.c0", "background speed", "number", ()),
                 ("material.c1", "material speed", "number", ()),
                 ("domain.absorber", "absorbing boundary (cells)", "number", ())]),
    ("Fabrication", [("fabrication.process", "process", "choice",
                      ("", "ebeam", "uv-litho", "fdm-0.4", "sla")),
                     ("fabrication.pitch", "pitch (cell size)", "text", ()),
                     ("fabrication.min_feature_cells", "min feature (cells)", "number", ()),
                     ("fabrication.robust", "robust (eroded/dilated)", "bool", ()),
                     ("fabrication.eta_e", "erosion threshold η_e", "number", ()),
                     ("fabrication.repair_choice", "repair (fewest cells / best of several)",
                      "choice", ("fewest", "best")),
                     ("fabrication.projection", "projection", "choice", ("tanh", "smoothed"))]),
    ("Optimizer", [("training.optimizer", "method", "choice", ("adam", "lbfgs")),
                   ("training.epochs", "epochs", "number", ()),
                   ("training.learning_rate", "learning rate", "number", ()),
                   ("training.beta_schedule", "β schedule [[epoch, β], …]", "text", ())]),
]


#: Sections shown only for problems that read recordings (a ``data_section``).
DATA_SECTIONS = ("Task",)


def parse_size(text: str) -> tuple[float, float]:
    """``"20mm x 13mm"`` (or ``×``, ``,``) → ``(width, height)`` in metres.

    Raises:
        ValueError: not two lengths with units, naming the expected form.
    """
    import re

    from wavefab.designkit.units import parse_length

    parts = [p for p in re.split(r"\s*[x×,]\s*", text.strip()) if p]
    if len(parts) != 2 or not all(re.search(r"[a-zµ]\s*$", p) for p in parts):
        raise ValueError(f"size {text!r}: give width × height with units, e.g. 20mm x 13mm")
    return parse_length(parts[0], "width"), parse_length(parts[1], "height")


def _parse(text: str) -> Any:
    """Text from a field as YAML (numbers, lists, ``.inf``); empty means null."""
    from wavefab.designkit.errors import FileFormatError
    from wavefab.designkit.yamlfile import yaml_value

    text = text.strip()
    if not text:
        return None
    try:
        return yaml_value(text, "field")
    except FileFormatError:
        return text  # the schema then names the field and what it takes


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isinf(value):
        return ".inf"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


class SettingsPanel(QWidget):
    """Forms for the task, physics, fabrication and optimizer settings of the document.

    Every field commits on Enter/focus-out as one undoable edit; a value the configuration
    rejects is marked in place (red, the reason as tooltip) and changes nothing.
    """

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.editors: dict[str, QWidget] = {}
        self.boxes: dict[str, QGroupBox] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        layout = QVBoxLayout(self)
        for title, fields in FIELDS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            for key, label, kind, choices in fields:
                row = self._editor(key, kind, choices)
                form.addRow(label, row)
                self._rows[key] = (form, row)
            layout.addWidget(box)
            self.boxes[title] = box
        size = self.editors["domain.size"]
        assert isinstance(size, QLineEdit)
        size.setPlaceholderText("needs fabrication.pitch")
        layout.addStretch(1)
        document.config_changed.connect(self._on_config_changed)
        self._on_config_changed("")

    def _editor(self, key: str, kind: str, choices: tuple[str, ...]) -> QWidget:
        if kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on, k=key: self.commit(k, on))
            self.editors[key] = box
            return box
        if kind == "choice":
            combo = QComboBox()
            combo.addItems(list(choices))
            combo.activated.connect(
                lambda _i, k=key, c=combo: self.commit(k, c.currentText() or None))
            self.editors[key] = combo
            return combo
        line = QLineEdit()
        line.editingFinished.connect(lambda k=key, w=line: self.commit(k, _parse(w.text())))
        self.editors[key] = line
        if kind != "folder":
            return line
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(line)
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.clicked.connect(lambda: self._choose_folder(key, line))
        h.addWidget(browse)
        return row

    def _choose_folder(self, key: str, line: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of [m|w]NN<vowel>.wav recordings")
        if folder:
            line.setText(folder)
            self.commit(key, folder)

    def commit(self, key: str, value: Any) -> bool:
        """Apply a field's value; returns False (and marks the field) when it is invalid."""
        editor = self.editors[key]
        problem = None
        editor.setProperty("invalid", False)  # so that a successful edit shows its new value
        try:
            if key == "data.folder" and value is not None:
                problem = check_recordings(str(value), self.document)
            if key == "domain.size":
                from wavefab.designkit.project import resize_domain

                width, height = parse_size(str(value or ""))
                self.document.edit(resize_domain(self.document.project.config, width, height),
                                   "resize the domain")
            elif problem is None:
                self.document.set_value(self.real_key(key) or key, value)
        except ConfigError as exc:
            problem = "; ".join(exc.problems)
        except ValueError as exc:
            problem = str(exc)
        editor.setProperty("invalid", problem is not None)
        editor.setStyleSheet("border: 2px solid #d62828;" if problem else "")
        editor.setToolTip(problem or "")
        return problem is None

    def real_key(self, key: str) -> str | None:
        """The configuration key behind a field for the current problem (None: not shown)."""
        if key.startswith("domain.") and key != "domain.size":
            kind = problem_kind(self.document.project.config.problem)
            return kind.keys.get(key.removeprefix("domain."))
        return key

    def _size_text(self) -> str:
        from wavefab.designkit.project import sketch

        try:
            setup = sketch(self.document.project.config)
        except ValueError:
            return ""
        if setup.pitch is None:
            return ""
        rows, cols = setup.shape
        return f"{cols * setup.pitch * 1e3:.8g}mm x {rows * setup.pitch * 1e3:.8g}mm"

    def _on_config_changed(self, _key: str) -> None:
        reads_data = problem_kind(self.document.project.config.problem).data_section is not None
        for title, box in self.boxes.items():
            box.setVisible(reads_data or title not in DATA_SECTIONS)
        for key, editor in self.editors.items():
            real = self.real_key(key)
            form, row = self._rows[key]
            form.setRowVisible(row, real is not None)
            if key == "domain.size":
                value = self._size_text()
            elif real is None:
                continue
            else:
                try:
                    value = self.document.project.value(real)
                except ValueError:
                    value = None
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                index = editor.findText("" if value is None else str(value))
                editor.setCurrentIndex(max(index, 0))
            elif isinstance(editor, QLineEdit) and editor.property("invalid") is not True:
                editor.setText(_show(value))
            editor.blockSignals(False)


def check_recordings(folder: str, document: Document) -> str | None:
    """Why ``folder`` is not a usable recordings folder for the document, or None."""
    from pathlib import Path

    from wavefab.designkit.errors import DesignError
    from wavefab.designkit.problems.vowel_data import load_vowel_folder

    if not Path(folder).is_dir():
        return f"{folder} is not a folder"
    data = document.project.config.data
    try:
        found = load_vowel_folder(folder, vowels=data.vowels, genders=data.genders,
                                  rate=data.rate)
    except DesignError as exc:
        return str(exc)
    if len(found.labels) < 2 * len(data.vowels):
        return f"{folder}: only {len(found.labels)} usable recordings of {data.vowels}"
    return None
