"""The central canvas: the material map in physical units with the setup drawn over it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, pyqtSignal
from PyQt6.QtGui import QTransform

from wavefab.designkit.project import Sketch

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


class DomainView(pg.GraphicsLayoutWidget):
    """Material (or density) map with overlays: design region, absorber, sources, probes, DRC.

    Coordinates are physical: x to the right, y up, cell (row r, col c) of an R-row grid at
    ``(c + ½)·p, (R − r − ½)·p`` for the cell size ``p`` (the fabrication pitch in mm when
    there is one, else the simulation's cell size) — the orientation every export uses.

    Signals:
        hovered(str): the cursor read-out (physical position, cell, value).
    """

    hovered = pyqtSignal(str)

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"))
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.region_outline = pg.PlotDataItem(pen=pg.mkPen("#e76f51", width=2,
                                                           style=pg.QtCore.Qt.PenStyle.DashLine))
        self.absorber_outline = pg.PlotDataItem(pen=pg.mkPen("#8d99ae", width=1))
        self.sources = pg.ScatterPlotItem(symbol="star", size=16, brush="#2a9d8f",
                                          pen=pg.mkPen("k"))
        self.probes = pg.ScatterPlotItem(symbol="o", size=12, brush=None,
                                         pen=pg.mkPen("#264653", width=2))
        self.violations = pg.ScatterPlotItem(symbol="s", size=14, brush=None,
                                             pen=pg.mkPen("#d62828", width=2))
        for item in (self.region_outline, self.absorber_outline, self.sources, self.probes,
                     self.violations):
            self.plot.addItem(item)
        self.labels: list[pg.TextItem] = []
        self._sketch: Sketch | None = None
        self._values: np.ndarray | None = None
        self.unit = "cells"
        self.cell = 1.0
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_setup(self, sketch: Sketch, values: np.ndarray | None = None, *,
                   label: str = "density") -> None:
        """Draw ``values`` (default: the design region) with the setup's overlays."""
        self._sketch = sketch
        rows, cols = sketch.shape
        if sketch.pitch is not None:
            self.cell, self.unit = sketch.pitch * 1e3, "mm"
        else:
            self.cell, self.unit = sketch.h, "units"
        p = self.cell
        shown = values if values is not None else sketch.region.astype(float) * 0.15
        self._values = np.asarray(shown, float)
        # row 0 at the top: flip rows so that array row r lies at y = (R − r − ½)·p
        self.image.setImage(self._values[::-1], levels=(0.0, 1.0))
        self.image.setTransform(QTransform.fromScale(p, p))
        self.colorbar.setLevels((0.0, 1.0))
        self.colorbar.axis.setLabel(label)
        self.region_outline.setData(*_outline(sketch.region, p))
        a = sketch.absorber
        x0, y0, x1, y1 = a * p, a * p, (cols - a) * p, (rows - a) * p
        self.absorber_outline.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        self.sources.setData(*_points(sketch.sources, rows, p))
        self.probes.setData(*_points(sketch.probes, rows, p))
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        for (r, c), name in zip(sketch.probes, sketch.probe_names, strict=False):
            text = pg.TextItem(name, color="#264653", anchor=(0, 1))
            text.setPos((c + 1.0) * p, (rows - r) * p)
            self.plot.addItem(text)
            self.labels.append(text)
        self.violations.setData([], [])
        self.plot.setLabel("bottom", f"x ({self.unit})")
        self.plot.setLabel("left", f"y ({self.unit})")
        self.plot.setRange(QRectF(0, 0, cols * p, rows * p), padding=0.02)

    def show_violations(self, cells: list[tuple[float, float]]) -> None:
        """Mark DRC violations at ``(row, col)`` centroids."""
        if self._sketch is None:
            return
        rows = self._sketch.shape[0]
        self.violations.setData(*_points(cells, rows, self.cell))

    def zoom_to(self, row: float, col: float, cells: float = 12.0) -> None:
        """Centre the view on a cell, ``cells`` wide."""
        if self._sketch is None:
            return
        p = self.cell
        x, y = (col + 0.5) * p, (self._sketch.shape[0] - row - 0.5) * p
        half = cells * p / 2
        self.plot.setRange(QRectF(x - half, y - half, 2 * half, 2 * half), padding=0)

    def readout(self, x: float, y: float) -> str:
        """The cursor text at physical ``(x, y)``."""
        if self._sketch is None or self._values is None:
            return ""
        rows, cols = self._sketch.shape
        col, row = int(np.floor(x / self.cell)), int(np.floor(rows - y / self.cell))
        if not (0 <= row < rows and 0 <= col < cols):
            return f"x {x:.4g} {self.unit}, y {y:.4g} {self.unit}"
        return (f"x {x:.4g} {self.unit}, y {y:.4g} {self.unit} | row {row}, col {col} | "
                f"value {self._values[row, col]:.3f}"
                + (" | design region" if self._sketch.region[row, col] else ""))

    def _on_mouse_moved(self, position: QPointF) -> None:
        if self.plot.sceneBoundingRect().contains(position):
            point = self.plot.vb.mapSceneToView(position)
            self.hovered.emit(self.readout(point.x(), point.y()))


def _points(cells: tuple | list, rows: int, p: float) -> tuple[list[float], list[float]]:
    xs = [(c + 0.5) * p for _, c in cells]
    ys = [(rows - r - 0.5) * p for r, _ in cells]
    return xs, ys


def _outline(mask: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell-edge outline of a mask as one polyline with NaN breaks (physical units)."""
    from wavefab.designkit.geometry import cell_polygons

    xs: list[float] = []
    ys: list[float] = []
    for polygon in cell_polygons(mask, p).geoms:
        for ring in (polygon.exterior, *polygon.interiors):
            x, y = ring.xy
            xs.extend([*x, np.nan])
            ys.extend([*y, np.nan])
    return np.asarray(xs), np.asarray(ys)
