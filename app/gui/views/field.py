"""The field view: a simulated input played back with a time slider, or live during a run."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QTransform
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.project.playback import FieldMovie


class FieldView(QWidget):
    """Field snapshots of one input, in the canvas's physical units, with playback controls.

    Signals:
        simulate_requested(int): the user asked to simulate example number ``int``.
    """

    simulate_requested = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.movie: FieldMovie | None = None
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.plot = self.graphics.addPlot()
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=pg.colormap.get("CET-D1"))
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.colorbar.axis.setLabel("field")
        self.region_outline = pg.PlotDataItem(pen=pg.mkPen("#333333", width=1))
        self.plot.addItem(self.region_outline)
        self.examples = QComboBox()
        self.simulate = QPushButton("Simulate")
        self.simulate.setToolTip("play the chosen input through the current design")
        self.simulate.clicked.connect(
            lambda: self.simulate_requested.emit(max(self.examples.currentIndex(), 0)))
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.toggled.connect(self._on_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.show_frame)
        self.time = QLabel("no field yet")
        self.time.setMinimumWidth(110)
        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self._advance)
        controls = QHBoxLayout()
        for widget in (self.examples, self.simulate, self.play):
            controls.addWidget(widget)
        scrub = QHBoxLayout()
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.time)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(scrub)
        self._cell = 1.0
        self._rows = 0
        self._set_enabled(False)

    def set_examples(self, titles: list[str]) -> None:
        """The inputs the user can choose from."""
        current = self.examples.currentText()
        self.examples.clear()
        self.examples.addItems(titles)
        if current in titles:
            self.examples.setCurrentText(current)

    def set_movie(self, movie: FieldMovie, *, cell: float, region_outline: tuple | None = None,
                  caption: str = "") -> None:
        """Show ``movie`` (cell size ``cell`` in the canvas's unit); starts at the last frame."""
        self.movie = movie
        self._cell = cell
        self._rows = movie.frames.shape[1]
        self.image.setTransform(QTransform.fromScale(cell, cell))
        # Scale to the wavefronts, not to the few source cells that dwarf them.
        level = float(np.percentile(np.abs(movie.frames), 99.5)) or movie.peak
        self.colorbar.setLevels((-level, level))
        if region_outline is not None:
            self.region_outline.setData(*region_outline)
        self.plot.setTitle(f"{movie.title}{' · ' + caption if caption else ''}", size="9pt")
        self.slider.blockSignals(True)
        self.slider.setRange(0, movie.frames.shape[0] - 1)
        self.slider.setValue(movie.frames.shape[0] - 1)
        self.slider.blockSignals(False)
        self._set_enabled(True)
        self.show_frame(self.slider.value())
        self.plot.autoRange(padding=0.02)

    def show_frame(self, index: int) -> None:
        """Display frame ``index`` and its time."""
        if self.movie is None:
            return
        index = int(np.clip(index, 0, self.movie.frames.shape[0] - 1))
        level = self.colorbar.levels()
        self.image.setImage(self.movie.frames[index][::-1], levels=level)
        self.time.setText(self.movie.time_label(index))

    def show_peak(self) -> None:
        """Go to the frame nearest the moment the probes' summed signal peaks."""
        if self.movie is None or self.movie.probes.size == 0:
            return
        peak_step = int(np.argmax(self.movie.probes.sum(axis=1))) + 1
        self.slider.setValue(int(np.argmin(np.abs(self.movie.steps - peak_step))))

    def _on_play(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")
        if playing:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()

    def _advance(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.play.setChecked(False)
            return
        self.slider.setValue(self.slider.value() + 1)

    def _set_enabled(self, on: bool) -> None:
        self.play.setEnabled(on)
        self.slider.setEnabled(on)
