"""The central canvas: the material map in physical units with the setup drawn over it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QTransform

from wavefab.designkit.project import Sketch

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

#: The canvas's mouse tools: what a left-button drag or click does.
TOOLS: dict[str, str] = {
    "pan": "pan and zoom (drag, wheel)",
    "rect": "paint a rectangle of design region (drag)",
    "ellipse": "paint an ellipse of design region (drag)",
    "brush": "paint design region with a round brush (drag or click)",
    "source": "place a source (click)",
    "probe": "place a probe (click)",
    "move": "move a source or probe (drag it)",
    "delete": "delete a source or probe (click it)",
}

#: How close (cells) a click must land to a port to pick it.
PICK_CELLS = 3.0


class _Markers(pg.ScatterPlotItem):
    """Scatter markers that let clicks through to the canvas's tools (pyqtgraph's take them)."""

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


class _EditViewBox(pg.ViewBox):
    """A view box that hands left-button drags and clicks to the canvas's current tool."""

    def __init__(self, canvas: DomainView) -> None:
        super().__init__()
        self._canvas = canvas

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if self._canvas.tool == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        self._canvas._drag(self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos()),
                           ev.isStart(), ev.isFinish())

    def mouseClickEvent(self, ev: Any) -> None:
        if self._canvas.tool == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        self._canvas._click(self.mapToView(ev.pos()))


class DomainView(pg.GraphicsLayoutWidget):
    """Material (or density) map with overlays: design region, absorber, sources, probes, DRC.

    Coordinates are physical: x to the right, y up, cell (row r, col c) of an R-row grid at
    ``(c + ½)·p, (R − r − ½)·p`` for the cell size ``p`` (the fabrication pitch in mm when
    there is one, else the simulation's cell size) — the orientation every export uses.

    Editing: :attr:`tool` (one of :data:`TOOLS`) decides what the left mouse button does;
    the canvas changes nothing itself, it emits what was drawn in cells (row 0 at the top).

    Signals:
        hovered(str): the cursor read-out (physical position, cell, value).
        shape_drawn(dict): a region stroke (:class:`~wavefab.designkit.problems.custom.
            RegionShape` fields: kind, rows, cols, points, radius, erase).
        port_added(str, int, int): kind (``source``/``probe``), row, col.
        port_moved(str, int, int, int): kind, index, new row, new col.
        port_deleted(str, int): kind, index.
    """

    hovered = pyqtSignal(str)
    shape_drawn = pyqtSignal(dict)
    port_added = pyqtSignal(str, int, int)
    port_moved = pyqtSignal(str, int, int, int)
    port_deleted = pyqtSignal(str, int)

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.tool = "pan"
        self.erase = False
        self.brush_radius = 3.0
        self._stroke: list[tuple[float, float]] = []
        self._moving: tuple[str, int] | None = None
        self.plot = self.addPlot(viewBox=_EditViewBox(self))
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"))
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.region_outline = pg.PlotDataItem(pen=pg.mkPen("#e76f51", width=2,
                                                           style=pg.QtCore.Qt.PenStyle.DashLine))
        self.absorber_outline = pg.PlotDataItem(pen=pg.mkPen("#8d99ae", width=1))
        self.sources = _Markers(symbol="star", size=16, brush="#2a9d8f",
                                          pen=pg.mkPen("k"))
        self.probes = _Markers(symbol="o", size=12, brush=None,
                                         pen=pg.mkPen("#264653", width=2))
        self.violations = _Markers(symbol="s", size=14, brush=None,
                                             pen=pg.mkPen("#d62828", width=2))
        self.preview = pg.PlotDataItem(pen=pg.mkPen("#d62828", width=2,
                                                    style=pg.QtCore.Qt.PenStyle.DashLine))
        self.move_preview = _Markers(symbol="+", size=20, pen=pg.mkPen("#d62828",
                                                                                  width=2))
        for item in (self.region_outline, self.absorber_outline, self.sources, self.probes,
                     self.violations, self.preview, self.move_preview):
            self.plot.addItem(item)
        self.labels: list[pg.TextItem] = []
        self._sketch: Sketch | None = None
        self._values: np.ndarray | None = None
        self._framed: tuple[tuple[int, int], float] | None = None
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
        self.region_outline.setData(*region_outline(sketch.region, p))
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
        if (sketch.shape, p) != self._framed:  # keep the user's zoom while editing
            self._framed = (sketch.shape, p)
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

    # -- editing --------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        """Choose what the left mouse button does (a key of :data:`TOOLS`)."""
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}; choose one of {', '.join(TOOLS)}")
        self.tool = tool
        self.preview.setData([], [])
        self.setCursor(Qt.CursorShape.ArrowCursor if tool == "pan" else
                       Qt.CursorShape.CrossCursor)

    def to_cell(self, point: QPointF) -> tuple[float, float]:
        """Physical point → fractional ``(row, col)`` of cell centres (row 0 at the top)."""
        rows = self._sketch.shape[0] if self._sketch is not None else 0
        return rows - point.y() / self.cell - 0.5, point.x() / self.cell - 0.5

    def to_point(self, row: float, col: float) -> QPointF:
        """Cell ``(row, col)`` centre → physical point."""
        rows = self._sketch.shape[0] if self._sketch is not None else 0
        return QPointF((col + 0.5) * self.cell, (rows - row - 0.5) * self.cell)

    def nearest_port(self, row: float, col: float) -> tuple[str, int] | None:
        """The source or probe within :data:`PICK_CELLS` of ``(row, col)``, nearest first."""
        if self._sketch is None:
            return None
        best, found = PICK_CELLS, None
        for kind, ports in (("source", self._sketch.sources), ("probe", self._sketch.probes)):
            for i, (r, c) in enumerate(ports):
                distance = math.hypot(r - row, c - col)
                if distance <= best:
                    best, found = distance, (kind, i)
        return found

    def _drag(self, start: QPointF, now: QPointF, first: bool, last: bool) -> None:
        if self._sketch is None:
            return
        (r0, c0), (r1, c1) = self.to_cell(start), self.to_cell(now)
        if self.tool in ("rect", "ellipse"):
            rows = sorted((round(r0), round(r1)))
            cols = sorted((round(c0), round(c1)))
            if last:
                self.preview.setData([], [])
                self.shape_drawn.emit({"kind": self.tool, "rows": rows, "cols": cols,
                                       "erase": self.erase})
            else:
                self._preview_box(rows, cols, ellipse=self.tool == "ellipse")
        elif self.tool == "brush":
            if first:
                self._stroke = [(round(r0, 1), round(c0, 1))]
            if (round(r1, 1), round(c1, 1)) != self._stroke[-1]:
                self._stroke.append((round(r1, 1), round(c1, 1)))
            if last:
                self.preview.setData([], [])
                self._emit_stroke(self._stroke)
                self._stroke = []
            else:
                points = [self.to_point(r, c) for r, c in self._stroke]
                self.preview.setData([p.x() for p in points], [p.y() for p in points])
        elif self.tool == "move":
            if first:
                self._moving = self.nearest_port(r0, c0)
            if self._moving is None:
                return
            if last:
                self.move_preview.setData([], [])
                kind, index = self._moving
                self._moving = None
                self.port_moved.emit(kind, index, round(r1), round(c1))
            else:
                p = self.to_point(round(r1), round(c1))
                self.move_preview.setData([p.x()], [p.y()])

    def _click(self, point: QPointF) -> None:
        if self._sketch is None:
            return
        row, col = self.to_cell(point)
        if self.tool in ("source", "probe"):
            self.port_added.emit(self.tool, round(row), round(col))
        elif self.tool == "delete":
            picked = self.nearest_port(row, col)
            if picked is not None:
                self.port_deleted.emit(*picked)
        elif self.tool == "brush":
            self._emit_stroke([(round(row, 1), round(col, 1))])

    def _emit_stroke(self, points: list[tuple[float, float]]) -> None:
        # Mouse moves come every pixel; a point every half radius draws the same stroke and
        # keeps the project file (and every later redraw of the region) small.
        kept = [points[0]]
        for point in points[1:]:
            if math.dist(point, kept[-1]) >= self.brush_radius / 2:
                kept.append(point)
        if len(points) > 1 and kept[-1] != points[-1]:
            kept.append(points[-1])
        self.shape_drawn.emit({"kind": "stroke", "points": [list(p) for p in kept],
                               "radius": self.brush_radius, "erase": self.erase})

    def _preview_box(self, rows: list[int], cols: list[int], *, ellipse: bool) -> None:
        (r0, r1), (c0, c1) = rows, cols
        if ellipse:
            t = np.linspace(0, 2 * np.pi, 64)
            r = (r0 + r1) / 2 + ((r1 - r0) / 2 + 0.5) * np.sin(t)
            c = (c0 + c1) / 2 + ((c1 - c0) / 2 + 0.5) * np.cos(t)
        else:
            r = np.array([r0, r0, r1, r1, r0]) + np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
            c = np.array([c0, c1, c1, c0, c0]) + np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
        rows_total = self._sketch.shape[0] if self._sketch is not None else 0
        self.preview.setData((c + 0.5) * self.cell, (rows_total - r - 0.5) * self.cell)

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


def region_outline(mask: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell-edge outline of a mask as one polyline with NaN breaks (physical units)."""
    from wavefab.designkit.geometry import cell_polygons, outline_xy

    return outline_xy(cell_polygons(mask, p))
