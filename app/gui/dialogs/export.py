"""The export dialog: formats, process, scale and shape options, with a preview of the outlines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.export import (
    FORMATS,
    MESH_FORMATS,
    Design,
    ExportReport,
    ExportSettings,
    design_geometry,
    export_design,
    port_openings,
)
from wavefab.designkit.export.layout import parse_layer
from wavefab.designkit.fab.processes import PRESETS
from wavefab.designkit.geometry import outline_xy
from wavefab.designkit.units import format_length, parse_length

#: Combo text for "the process the design was optimized for".
DESIGN_PROCESS = "(the design's)"


class ExportDialog(QDialog):
    """Choose formats and options, see the outlines that will be written, export.

    Every option maps onto :class:`~wavefab.designkit.export.ExportSettings`; a bad value is
    marked in place with the reason and nothing is written. ``report`` holds the last export's
    :class:`~wavefab.designkit.export.ExportReport`.
    """

    def __init__(self, design: Design, folder: str | Path, parent: QWidget | None = None, *,
                 ports: Sequence[tuple[int, int]] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {design.name}")
        self.design = design
        # the cells the lid's holes go over (default: the design's sources and probes)
        self.ports: list[tuple[int, int]] = list(ports or design.ports)
        self.report: ExportReport | None = None
        self.folder = QLineEdit(str(folder))
        self.stem = QLineEdit(design.name)
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.clicked.connect(self._choose_folder)
        self.formats: dict[str, QCheckBox] = {}
        formats = QGroupBox("Formats")
        grid = QGridLayout(formats)
        titles = {"gds": "GDSII mask", "oas": "OASIS mask", "stl": "STL mesh", "3mf": "3MF mesh",
                  "obj": "OBJ mesh", "dxf": "DXF outline", "svg": "SVG outline"}
        for i, kind in enumerate(FORMATS):
            box = QCheckBox(f"{titles[kind]} (.{kind})")
            box.toggled.connect(self._update_enabled)
            self.formats[kind] = box
            grid.addWidget(box, i // 2, i % 2)
        self.process = QComboBox()
        self.process.addItems([DESIGN_PROCESS, *PRESETS])
        self.process.setCurrentText(DESIGN_PROCESS)
        self.pitch = QLineEdit(format_length(design.pitch) if design.pitch else "")
        self.pitch.setPlaceholderText("e.g. 50nm or 0.1mm (needed: no pitch in the design)")
        self.mode = QComboBox()
        self.mode.addItems(["exact", "smooth"])
        self.tolerance = QLineEdit()
        self.tolerance.setPlaceholderText("default: the process grid")
        self.tone = QComboBox()
        self.tone.addItems(["solid", "void"])
        self.layer = QLineEdit()
        self.layer.setPlaceholderText("layer/datatype, default: the process's")
        self.frame = QLineEdit("0")
        self.height = QLineEdit()
        self.height.setPlaceholderText("wall height, e.g. 2mm")
        self.base = QLineEdit("0")
        self.lid = QLineEdit("0")
        self.lid.setToolTip("a top plate: with a base plate the part is a parallel-plate "
                            "waveguide (the report checks the gap against the band)")
        self.port_size = QLineEdit()
        self.port_size.setPlaceholderText("hole ⌀ over sources and probes, e.g. 3mm")
        self.label = QCheckBox("text label on the mask")
        self.label.setChecked(True)
        self.allow = QCheckBox("write even if the design-rule check fails")
        options = QGroupBox("Options")
        form = QFormLayout(options)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form.addRow("folder", where)
        form.addRow("file name", self.stem)
        for text, widget in (("process", self.process), ("pitch (one cell)", self.pitch),
                             ("outline", self.mode), ("tolerance", self.tolerance),
                             ("tone", self.tone), ("layer", self.layer),
                             ("frame width", self.frame), ("height (meshes)", self.height),
                             ("base plate (meshes)", self.base),
                             ("lid (meshes)", self.lid), ("port holes (lid)", self.port_size)):
            form.addRow(text, widget)
        form.addRow(self.label)
        form.addRow(self.allow)
        self.preview = pg.PlotWidget(background="w")
        self.preview.setAspectLocked(True)
        self.preview.setLabel("bottom", "x (mm)")
        self.preview.setLabel("left", "y (mm)")
        self.outline = pg.PlotDataItem(pen=pg.mkPen("#264653", width=1.5))
        self.frame_outline = pg.PlotDataItem(pen=pg.mkPen("#8d99ae", width=1))
        self.preview.addItem(self.outline)
        self.preview.addItem(self.frame_outline)
        self.status = QLabel()
        self.status.setWordWrap(True)
        refresh = QPushButton("Preview")
        refresh.clicked.connect(self.update_preview)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._on_export)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        left = QVBoxLayout()
        left.addWidget(formats)
        left.addWidget(options)
        left.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (refresh, self.export_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        for widget in (self.pitch, self.tolerance, self.frame):
            widget.editingFinished.connect(self.update_preview)
        self.mode.activated.connect(self.update_preview)
        self.process.activated.connect(self.update_preview)
        self.resize(980, 600)
        self.formats["gds"].setChecked(True)
        self._update_enabled()
        self.update_preview()

    # -- values --------------------------------------------------------------------------------
    def _length(self, widget: QLineEdit, name: str, *, required: bool = False
                ) -> float | None:
        text = widget.text().strip()
        if not text:
            if required:
                raise ValueError(f"{name}: give a length with a unit, e.g. 2mm")
            return None
        try:
            if float(text.rstrip("abcdefghijklmnopqrstuvwxyzµ ")) == 0:
                return 0.0  # "0" or "0mm": none (a length parser rightly refuses zero)
        except ValueError:
            pass
        return parse_length(text, name)

    def settings(self) -> ExportSettings:
        """The options as export settings.

        Raises:
            ValueError: a field's value is invalid (the message names the field); the field is
                marked.
        """
        self._clear_marks()
        values: dict[str, Any] = {}
        fields: list[tuple[QLineEdit, str, str]] = [
            (self.pitch, "pitch", "pitch"), (self.tolerance, "tolerance", "tolerance"),
            (self.frame, "frame", "frame width"), (self.base, "base", "base plate"),
            (self.lid, "lid", "lid"), (self.port_size, "ports", "port holes"),
            (self.height, "height", "height")]
        for widget, key, name in fields:
            try:
                values[key] = self._length(widget, name)
            except ValueError as exc:
                self._mark(widget, str(exc))
                raise
        if any(self.formats[k].isChecked() for k in MESH_FORMATS) and values["height"] is None:
            message = "height: meshes need a wall height, e.g. 2mm"
            self._mark(self.height, message)
            raise ValueError(message)
        layer = None
        if self.layer.text().strip():
            try:
                layer = parse_layer(self.layer.text(), "layer")
            except ValueError as exc:
                self._mark(self.layer, str(exc))
                raise
        process = self.process.currentText()
        return ExportSettings(
            pitch=values["pitch"], process=None if process == DESIGN_PROCESS else process,
            process_file=self.design.process_file, mode=self.mode.currentText(),  # type: ignore[arg-type]
            tolerance=values["tolerance"], tone=self.tone.currentText(),  # type: ignore[arg-type]
            layer=layer, frame=values["frame"] or 0.0, height=values["height"],
            base=values["base"] or 0.0, lid=values["lid"] or 0.0,
            openings=self._openings(values["ports"], values["pitch"] or self.design.pitch,
                                    values["lid"]),
            label=self.label.isChecked(), name=self.stem.text() or None,
            allow_violations=self.allow.isChecked())

    def _openings(self, diameter: float | None, pitch: float | None, lid: float | None
                  ) -> tuple[tuple[float, float, float], ...]:
        if not diameter:
            return ()
        if not lid:
            message = "port holes: they are cut through the lid; give a lid thickness"
            self._mark(self.port_size, message)
            raise ValueError(message)
        if pitch is None:
            raise ValueError("port holes need the pitch (size of one cell)")
        return port_openings(self.ports, self.design.shape[0], diameter, pitch)

    def outputs(self) -> list[Path]:
        """The files the export will write."""
        folder = Path(self.folder.text().strip() or ".")
        stem = self.stem.text().strip() or self.design.name
        return [folder / f"{stem}.{kind}" for kind, box in self.formats.items()
                if box.isChecked()]

    # -- actions -------------------------------------------------------------------------------
    def update_preview(self) -> bool:
        """Draw the outlines that will be written (in mm); False when the options are invalid."""
        try:
            settings = self.settings()
            pitch = settings.pitch or self.design.pitch
            if pitch is None:
                self._mark(self.pitch, "pitch: this design has no physical scale; give one")
                raise ValueError("pitch: this design has no physical scale; give one, e.g. 50nm")
            shapes = design_geometry(self.design, pitch, settings.mode,
                                     tolerance=settings.tolerance)
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            self.outline.setData([], [])
            return False
        xs, ys = outline_xy(shapes)
        self.outline.setData(xs * 1e3, ys * 1e3, connect="finite")
        rows, cols = self.design.shape
        w, h, f = cols * pitch, rows * pitch, settings.frame
        if f > 0:
            fx = np.array([-f, w + f, w + f, -f, -f, np.nan, 0, w, w, 0, 0])
            fy = np.array([-f, -f, h + f, h + f, -f, np.nan, 0, 0, h, h, 0])
            self.frame_outline.setData(fx * 1e3, fy * 1e3, connect="finite")
        else:
            self.frame_outline.setData([], [])
        count = len(getattr(shapes, "geoms", [shapes]))
        self.status.setText(f"{count} polygons, {w * 1e3:.4g} × {h * 1e3:.4g} mm at "
                            f"{format_length(pitch)} per cell ({settings.mode} outlines)")
        self.preview.autoRange(padding=0.03)
        return True

    def export(self) -> ExportReport | None:
        """Write the chosen files; the result (or the reason for refusing) goes to the status."""
        outputs = self.outputs()
        if not outputs:
            self.status.setText("⚠ choose at least one format")
            return None
        folder = outputs[0].parent
        if not folder.is_dir():
            self._mark(self.folder, "no such folder")
            self.status.setText(f"⚠ folder {folder} does not exist; choose one")
            return None
        existing = [p for p in outputs if p.exists()]
        if existing and not self.confirm_overwrite(existing):
            self.status.setText("not written: the files exist")
            return None
        try:
            settings = self.settings()
            self.report = export_design(self.design, [str(p) for p in outputs], settings)
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            return None
        except OSError as exc:  # an unwritable folder, a full disk: earlier files stay whole
            self.status.setText(f"⚠ cannot write into {folder}: {exc.strerror or exc}")
            return None
        check = self.report.check
        verdict = (check.summary() if check is not None else "DRC ?") + (
            "" if self.report.drc.get("pass") else " (written anyway)")
        plates = self.report.plates or {}
        gap = ""
        if "two_dimensional" in plates:
            gap = (" · plate gap " + ("below" if plates["two_dimensional"] else "ABOVE")
                   + " half the shortest wavelength")
            if plates.get("two_dimensional_over_band") is False:
                gap += (f" (the inputs reach higher: a gap ≤ "
                        f"{format_length(plates['max_gap_for_band_m'])} clears their band)")
        if plates.get("absorber_m"):
            gap += (f" · line the outer {format_length(plates['absorber_m'])} with absorber "
                    "(the simulation's absorbing layer)")
        self.status.setText(f"wrote {', '.join(p.name for p in outputs)} · {verdict}{gap}")
        return self.report

    def confirm_overwrite(self, paths: list[Path]) -> bool:
        """Ask before replacing existing files (tests replace this method)."""
        from PyQt6.QtWidgets import QMessageBox

        names = ", ".join(p.name for p in paths)
        answer = QMessageBox.question(self, "Replace files?",
                                      f"{names} already exist in {paths[0].parent}. Replace?")
        return answer == QMessageBox.StandardButton.Yes

    def _on_export(self) -> None:
        if self.export() is not None and self.parent() is not None:
            log = getattr(self.parent(), "log", None)
            if log is not None:
                log.log(self.status.text())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _update_enabled(self) -> None:
        mesh = any(self.formats[k].isChecked() for k in MESH_FORMATS)
        mask = any(self.formats[k].isChecked() for k in ("gds", "oas"))
        for widget in (self.height, self.base, self.lid, self.port_size):
            widget.setEnabled(mesh)
        for widget in (self.tone, self.layer, self.label):
            widget.setEnabled(mask)

    def _mark(self, widget: QWidget, message: str) -> None:
        widget.setStyleSheet("border: 2px solid #d62828;")
        widget.setToolTip(message)

    def _clear_marks(self) -> None:
        for widget in (self.pitch, self.tolerance, self.frame, self.base, self.height,
                       self.layer, self.folder, self.lid, self.port_size):
            widget.setStyleSheet("")
            widget.setToolTip("")
