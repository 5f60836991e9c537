"""Run > Optimize, Pause, Stop: the document's configuration trained on a worker thread."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QThread

from wavefab.designkit.project import sketch

from ..workers import RunWorker
from ._base import ActionGroup, ActionSpec, Shell

RUN = "&Run"


class RunActions(ActionGroup):
    """One optimization at a time, with live curves, medium, field, progress and ETA.

    Attributes:
        thread, worker: the running optimization, or None.
    """

    ACTIONS = (
        ActionSpec("run", RUN, "&Optimize", "start_run", "F5"),
        ActionSpec("pause", RUN, "&Pause", "toggle_pause", "F6"),
        ActionSpec("stop", RUN, "&Stop", "stop_run", "Shift+F5"),
    )

    def __init__(self, window: Shell, *, check: Callable[[], object],
                 redraw: Callable[[], object], enable_simulations: Callable[[bool], None],
                 show_movie: Callable[[object, str], None]) -> None:
        super().__init__(window)
        self._check = check
        self._redraw = redraw
        self._enable_simulations = enable_simulations
        self._show_movie = show_movie
        self.thread: QThread | None = None
        self.worker: RunWorker | None = None
        self._started = 0.0
        self._total = 1

    def start_run(self, out_dir: str | Path | None = None) -> RunWorker | None:
        """Optimize the document's configuration on a worker thread.

        ``out_dir``: the results folder (default: ``results/`` in the project's folder, else a
        new temporary folder).
        """
        if self.thread is not None:
            return None
        window = self.window
        project = window.document.project
        if out_dir is None:
            base = project.path if project.path is not None and project.path.is_dir() else \
                Path(tempfile.mkdtemp(prefix="wavefab-run-"))
            out_dir = base / "results" if base == project.path else base
        window.plots.clear_run()
        self.worker = RunWorker(project.config, out_dir)
        self.thread = QThread(window)  # type: ignore[arg-type]
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.work)
        self.worker.started.connect(self._on_started)
        self.worker.step.connect(self._on_step)
        self.worker.epoch.connect(self._on_epoch)
        self.worker.medium.connect(self._on_medium)
        self.worker.field.connect(lambda movie: self._show_movie(movie, "live"))
        self.worker.finished.connect(self._on_finished)
        self.worker.stopped.connect(self._on_stopped)
        self.worker.failed.connect(self._on_failed)
        for signal in (self.worker.finished, self.worker.stopped, self.worker.failed):
            signal.connect(self.thread.quit)
        self.thread.finished.connect(self._on_thread_finished)
        self._started = time.perf_counter()
        self.set_running(True)
        window.log.log(f"optimizing into {out_dir}")
        self.thread.start()
        return self.worker

    def toggle_pause(self) -> None:
        """Pause or resume the running optimization."""
        if self.worker is None:
            return
        if self.worker.paused:
            self.worker.resume_run()
            self.window.actions["pause"].setText("&Pause")
            self.window.log.log("resumed")
        else:
            self.worker.pause()
            self.window.actions["pause"].setText("&Resume")
            self.window.log.log("paused after the current step")

    def stop_run(self) -> None:
        """Stop after the current step (the last epoch's checkpoint is kept)."""
        if self.worker is not None:
            self.worker.stop()

    def set_running(self, running: bool) -> None:
        """Enable the actions that fit a running (or idle) optimization."""
        actions = self.window.actions
        actions["run"].setEnabled(not running)
        actions["pause"].setEnabled(running)
        actions["stop"].setEnabled(running)
        # one simulation at a time: the live field view covers the run itself
        self._enable_simulations(not running)

    # -- the worker's signals -------------------------------------------------------------------
    def _on_started(self, folds: int, epochs: int) -> None:
        self._total = max(folds * epochs, 1)
        self.window.progress.setRange(0, 1000)

    def _on_step(self, fold: int, epoch: int, step: int, steps: int) -> None:
        epochs = max(self.window.document.project.config.training.epochs, 1)
        done = (fold * epochs + epoch) + (step + 1) / max(steps, 1)
        fraction = min(done / self._total, 1.0)
        self.window.progress.setValue(int(1000 * fraction))
        elapsed = time.perf_counter() - self._started
        if fraction > 0.01:
            eta = elapsed * (1 - fraction) / fraction
            self.window.statusBar().showMessage(f"fold {fold + 1}, epoch {epoch + 1}: about "
                                                f"{eta:.0f} s left")

    def _on_epoch(self, row: dict) -> None:
        self.window.plots.add_epoch(row)
        shown = ", ".join(f"{k} {v:.3g}" for k, v in row.items()
                          if k not in ("fold", "epoch", "seconds"))
        self.window.log.log(f"fold {row['fold'] + 1} epoch {row['epoch'] + 1}: {shown}")

    def _on_medium(self, density: np.ndarray) -> None:
        """Show what the material is becoming (density: 0 background, 1 material)."""
        density = np.asarray(density, float)
        try:
            setup = sketch(self.window.document.project.config)
        except ValueError:
            return
        if density.shape == tuple(setup.shape):
            self.window.canvas.show_setup(setup, np.clip(density, 0.0, 1.0),
                                          label="density (live)")

    def _on_finished(self, out_dir: str) -> None:
        from wavefab.designkit.project import load_project

        window = self.window
        result = load_project(out_dir)
        window.progress.setValue(1000)
        if self.worker is not None and self.worker.config != window.document.project.config:
            # edited (or replaced) during the run: its design belongs to the old settings
            window.log.log(f"finished, but the project changed during the run: the design "
                           f"stays in {out_dir} (File > Open to look at it)")
            return
        window.document.set_design(result.design, result.metrics)
        window.statusBar().showMessage("optimization finished", 5000)
        window.log.log(f"finished: results in {out_dir}")
        self._check()

    def _on_stopped(self) -> None:
        self.window.log.log("stopped; the last finished epoch's checkpoint is kept")

    def _on_failed(self, message: str) -> None:
        self.window.log.log(f"run failed: {message}")
        self.window.error("Run failed", message.splitlines()[-1] if message else "unknown "
                          "error")

    def _on_thread_finished(self) -> None:
        self.set_running(False)
        self.window.actions["pause"].setText("&Pause")
        if self.thread is not None:
            self.thread.deleteLater()
        self.thread = None
        self.worker = None
        self._redraw()  # the project's own design again, not the live density

    def close(self) -> None:
        """Stop a run and wait for it (the window is closing; its checkpoint stays)."""
        if self.thread is not None and self.worker is not None:
            # the worker stops after its current step; a thread still running when the
            # window goes would abort the application, so wait for it whatever it takes
            self.window.statusBar().showMessage("stopping the run after its current step…")
            self.worker.stop()
            self.thread.quit()
            self.thread.wait()
