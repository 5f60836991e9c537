"""The run's live curves: loss, the problem's accuracy or gain, gray level and β per epoch."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PyQt6.QtWidgets import QWidget


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
