"""Side panels: settings forms that edit the document, live run plots, the log."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.config import ConfigError

from .document import Document

#: The settings the panel shows: (section title, [(dotted key, label, kind, choices)]).
#: ``domain.*`` keys stand for the current problem's own section (see :data:`DOMAIN_KEYS`).
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


#: Where each ``domain.*`` field lives for each problem (absent: the row is hidden).
DOMAIN_KEYS: dict[str, dict[str, str]] = {
    "domain.shape": {"custom": "custom.shape", "lens": "lens.shape",
                     "vowels": "geometry.shape"},
    "domain.frequency": {"custom": "custom.frequency", "lens": "lens.frequency"},
    "domain.steps": {"custom": "custom.steps", "lens": "lens.steps"},
    "domain.absorber": {"custom": "custom.pml", "lens": "lens.pml",
                        "vowels": "geometry.absorber"},
}

#: Sections shown only for some problems.
SECTION_PROBLEMS: dict[str, tuple[str, ...]] = {"Task": ("vowels",)}


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
    import yaml

    text = text.strip()
    if not text:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


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
        if key in DOMAIN_KEYS:
            return DOMAIN_KEYS[key].get(self.document.project.config.problem)
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
        problem = self.document.project.config.problem
        for title, box in self.boxes.items():
            box.setVisible(problem in SECTION_PROBLEMS.get(title, (problem,)))
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


class RunPlots(pg.GraphicsLayoutWidget):
    """Live curves of a run: loss, the problem's accuracy/gain, gray level and β per epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.loss = self.addPlot(title="loss")
        self.nextRow()
        self.score = self.addPlot(title="metrics")
        self.nextRow()
        self.gray = self.addPlot(title="gray level and log₁₀ β")
        for plot in (self.score, self.gray):
            # top right, on a translucent card: readable over the curves it names
            plot.addLegend(offset=(-4, 4), brush=pg.mkBrush(255, 255, 255, 210),
                           labelTextSize="8pt", verSpacing=-6, colCount=3)
        self.rows: list[dict] = []
        self.curves: dict[str, pg.PlotDataItem] = {}

    def clear_run(self) -> None:
        """Forget the curves of an earlier run."""
        self.rows = []
        for plot in (self.loss, self.score, self.gray):
            plot.clear()
        self.curves = {}

    def add_epoch(self, row: dict) -> None:
        """Append one epoch (a :class:`~app.gui.workers.RunWorker` ``epoch`` payload)."""
        self.rows.append(row)
        x = list(range(1, len(self.rows) + 1))
        series: dict[str, tuple[Any, list[float]]] = {"loss": (self.loss, [])}
        for key in row:
            if key.endswith(("accuracy", "gain")):
                series[key] = (self.score, [])
        series["gray_level"] = (self.gray, [])
        series["log10 beta"] = (self.gray, [])
        colours = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8d99ae"]
        for i, (key, (plot, values)) in enumerate(series.items()):
            for r in self.rows:
                if key == "log10 beta":
                    beta = r.get("beta", float("nan"))
                    values.append(math.log10(beta) if 0 < beta < math.inf else float("nan"))
                else:
                    values.append(float(r.get(key, float("nan"))))
            if key not in self.curves:
                self.curves[key] = plot.plot(pen=pg.mkPen(colours[i % len(colours)], width=2),
                                             symbol="o", symbolSize=4, name=key)
            self.curves[key].setData(x, values)


class LogPanel(QPlainTextEdit):
    """Messages of the session (runs, checks, exports, errors)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)

    def log(self, text: str) -> None:
        """Append a line."""
        self.appendPlainText(text)

