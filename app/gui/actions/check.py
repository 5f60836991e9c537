"""Run > Design-rule check, Re-simulate, and the field view: one simulation at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtCore import QThread
from PyQt6.QtWidgets import QTableWidget, QTableWidgetItem

from wavefab.designkit.project import FieldPlayer, sketch

from ..views.domain import region_outline
from ..workers import TaskWorker
from ._base import ActionGroup, ActionSpec, Shell

RUN = "&Run"


class CheckActions(ActionGroup):
    """Checks of the current design and simulations of it, on a worker thread.

    Attributes:
        violations: the design-rule table (click a row to zoom to it).
        task: the running simulation ``(thread, worker)``, or None.
        player: the field player of the configuration last played (built once per config).
    """

    ACTIONS = (
        ActionSpec("drc", RUN, "&Design-rule check", "check_rules", "F7"),
        ActionSpec("resimulate", RUN, "Re-&simulate the design", "resimulate", "F8"),
        ActionSpec("resimulate_fine", RUN, "Re-simulate on a grid twice as &fine (8× the time)",
                   "resimulate_fine", "Shift+F8"),
    )
    #: Actions that start a simulation: off while a run or another simulation goes.
    SIMULATING = ("resimulate", "resimulate_fine")

    def __init__(self, window: Shell, design: Callable[[], Any]) -> None:
        super().__init__(window)
        self._design = design
        self.violations = QTableWidget(0, 4)
        self.violations.setHorizontalHeaderLabels(["kind", "row", "col", "size (cells)"])
        self.violations.cellClicked.connect(self._on_violation_clicked)
        self.task: tuple[QThread, TaskWorker] | None = None
        self.player: FieldPlayer | None = None

    # -- design rules --------------------------------------------------------------------------
    def check_rules(self) -> dict | None:
        """Run the design-rule check of the current design; fills the violations table."""
        from wavefab.designkit.fab import drc

        design = self._design()
        if design is None:
            return None
        solid, void = max(design.min_solid_cells, 1), max(design.min_void_cells, 1)
        report = drc.check(design.binary, solid, min_void_cells=void, region=design.region,
                           pitch=design.pitch)
        self.violations.setRowCount(len(report.violations))
        cells = []
        for i, v in enumerate(report.violations):
            for j, value in enumerate((v.kind, f"{v.row:.1f}", f"{v.col:.1f}",
                                       str(v.size_cells))):
                self.violations.setItem(i, j, QTableWidgetItem(value))
            cells.append((v.row, v.col))
        self.window.canvas.show_violations(cells)
        self.window.log.log(report.summary())
        return report.to_dict()

    def _on_violation_clicked(self, row: int, _column: int) -> None:
        r = float(self.violations.item(row, 1).text())
        c = float(self.violations.item(row, 2).text())
        self.window.canvas.zoom_to(r, c)

    # -- simulations -------------------------------------------------------------------------------
    def resimulate_fine(self) -> TaskWorker | None:
        """Run > Re-simulate on a grid twice as fine."""
        return self.resimulate(refine=2)

    def resimulate(self, refine: int = 1) -> TaskWorker | None:
        """Evaluate the current binary design with the project's problem (on a worker).

        ``refine`` > 1: on a grid that many times finer in space and time, to see whether the
        figures are the design's or the grid's.
        """
        from wavefab.designkit.project import Project, evaluate_design

        window = self.window
        project = window.document.project
        if "binary" not in project.design:
            window.error("No design yet", "Optimize (F5), open a results folder or import a "
                         "layout first.")
            return None
        if self.task is not None:
            return None
        config, arrays = project.config, dict(project.design)
        source = project.metrics.get("imported_from", "the design")
        # the design's cells as blocks: what an imported file re-rasterized at the finer pitch
        # would differ by is `wavefab verify --refine`'s to say
        where = (f" on a grid {refine}× finer (its cells as {refine}×{refine} blocks)"
                 if refine > 1 else "")

        def work() -> dict[str, float]:
            return evaluate_design(Project(config=config), arrays, refine=refine)

        def done(metrics: dict[str, float]) -> None:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            window.log.log(f"re-simulated {source}{where}: {shown}")
            window.statusBar().showMessage(f"re-simulated: {shown}", 10_000)

        return self._start_task(work, done, "re-simulating the design…")

    def simulate_field(self, example: int = 0, frames: int = 120, *,
                       wait: bool = False) -> TaskWorker | None:
        """Play input ``example`` through the current design on a worker thread.

        The medium is the binary design when there is one, else the empty background; the
        Field tab shows the result when it is done. ``wait``: simulate here and now instead
        (for a screenshot), showing the moment the output probes peak.
        """
        if self.task is not None:
            return None
        config = self.window.document.project.config
        binary = self.window.document.project.design.get("binary")
        fits = binary is not None and np.shape(binary) == tuple(sketch(config).shape)
        caption = "binary design" if fits else "no design (background medium)"
        if self.player is None or self.player.config != config:
            self.player = FieldPlayer(config)
        player = self.player
        density = np.asarray(binary, np.float32) if fits else None

        def simulate() -> Any:
            return player.movie(density, example=example, frames=frames)

        if wait:
            self._on_field_done(player, caption, simulate())
            self.window.field.show_peak()
            return None
        return self._start_task(simulate,
                                lambda movie: self._on_field_done(player, caption, movie),
                                "simulating the field…")

    def _on_field_done(self, player: FieldPlayer, caption: str, movie: Any) -> None:
        self.window.field.set_examples(player.titles())
        self.show_movie(movie, caption)
        self.window.statusBar().showMessage(f"field of {movie.title}: {len(movie.frames)} "
                                            "frames", 5000)

    def show_movie(self, movie: Any, caption: str) -> None:
        """Show a field movie in the Field tab, the design region outlined."""
        window = self.window
        outline = region_outline(sketch(window.document.project.config).region,
                                 window.canvas.cell)
        window.field.set_movie(movie, cell=window.canvas.cell, region_outline=outline,
                               caption=caption)
        window.field_dock.raise_()

    def _start_task(self, function: Callable[[], Any], done: Callable[[Any], None],
                    message: str) -> TaskWorker | None:
        """Run ``function`` on a worker thread, then ``done(result)`` here; one at a time."""
        if self.task is not None:
            return None
        window = self.window
        worker = TaskWorker(function)
        thread = QThread(window)  # type: ignore[arg-type]
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        worker.done.connect(done)
        worker.failed.connect(lambda text: window.error("Cannot simulate",
                                                        text.strip().splitlines()[-1]))
        worker.failed.connect(window.log.log)  # the whole message (a traceback for a bug)
        for signal in (worker.done, worker.failed):
            signal.connect(thread.quit)
        thread.finished.connect(self._on_task_finished)
        self.task = (thread, worker)
        self.enable_simulations(False)
        window.statusBar().showMessage(message)
        thread.start()
        return worker

    def _on_task_finished(self) -> None:
        if self.task is not None:
            self.task[0].deleteLater()
        self.task = None
        self.enable_simulations(getattr(self.window, "thread", None) is None)

    def enable_simulations(self, on: bool) -> None:
        """Allow or refuse starting a simulation (one at a time; a run covers its own)."""
        self.window.field.simulate.setEnabled(on)
        for key in self.SIMULATING:
            self.window.actions[key].setEnabled(on)
