"""Work on worker threads, so the window never waits for the solver: runs and one-off tasks."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from wavefab.designkit.config import RunConfig


class RunWorker(QObject):
    """Drives :func:`wavefab.designkit.run.run` and reports by signals (numpy/plain data only).

    Move it to a ``QThread`` and connect the thread's ``started`` to :meth:`work`. Pause, resume
    and stop take effect between two optimizer steps; a stopped run keeps the checkpoint of its
    last finished epoch in ``out_dir/checkpoint`` (``wavefab run --resume`` continues it).

    Signals:
        started(int, int): folds, epochs.
        step(int, int, int, int): fold, epoch, step, steps of the epoch.
        epoch(dict): one finished epoch: ``fold``, ``epoch``, ``loss``, ``seconds`` and metrics.
        medium(ndarray): the projected density the epoch was evaluated on (what the material
            is becoming).
        field(FieldMovie): with ``live_fields``, the first example input played through that
            medium (one extra simulation per epoch).
        finished(str): the results folder, complete.
        stopped(): stopped by :meth:`stop` (checkpoint kept).
        failed(str): the error message (user errors) or traceback (bugs).
    """

    started = pyqtSignal(int, int)
    step = pyqtSignal(int, int, int, int)
    epoch = pyqtSignal(dict)
    medium = pyqtSignal(object)
    field = pyqtSignal(object)
    finished = pyqtSignal(str)
    stopped = pyqtSignal()
    failed = pyqtSignal(str)

    def __init__(self, config: RunConfig, out_dir: str | Path, *,
                 data_dir: str | Path | None = None, resume: bool = False,
                 live_fields: bool = True, frames: int = 40) -> None:
        super().__init__()
        self.config = config
        self.live_fields = live_fields
        self.frames = frames
        self._player = None  # a FieldPlayer, built on the first live field
        self.out_dir = Path(out_dir)
        self.data_dir = data_dir
        self.resume = resume
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        """Hold the run after the current step."""
        self._running.clear()

    def resume_run(self) -> None:
        """Continue a paused run."""
        self._running.set()

    @property
    def paused(self) -> bool:
        """Whether the run is held."""
        return not self._running.is_set()

    def stop(self) -> None:
        """End the run after the current step (also releases a pause)."""
        self._stop.set()
        self._running.set()

    def work(self) -> None:
        """The thread's body: iterate the run's events, emit them, honour pause and stop."""
        from wavefab.designkit.errors import DesignError
        from wavefab.designkit.optimize.events import BatchEnd, EpochEnd, RunStart
        from wavefab.designkit.run import run
        from wavefab.solver.errors import SolverError

        try:
            for event in run(self.config, self.out_dir, data_dir=self.data_dir,
                             resume=self.resume):
                if isinstance(event, RunStart):
                    self.started.emit(event.folds, event.epochs)
                elif isinstance(event, BatchEnd):
                    self.step.emit(event.fold, event.epoch, event.batch, event.batches)
                elif isinstance(event, EpochEnd):
                    self.epoch.emit({"fold": event.fold, "epoch": event.epoch,
                                     "loss": float(event.loss), "seconds": event.seconds,
                                     **{k: v for k, v in event.metrics.items()
                                        if isinstance(v, (int, float))}})
                    if event.density is not None:
                        self.medium.emit(event.density)
                        if self.live_fields:
                            self._emit_field(event.density)
                self._running.wait()
                if self._stop.is_set():
                    self.stopped.emit()
                    return
        except (DesignError, SolverError, OSError) as exc:
            self.failed.emit(str(exc))
            return
        except Exception:  # a bug: the window shows the traceback instead of dying
            self.failed.emit(traceback.format_exc())
            return
        self.finished.emit(str(self.out_dir))

    def _emit_field(self, density: object) -> None:
        from wavefab.designkit.project import FieldPlayer

        if self._player is None:  # the run builds its own problem; this one only plays inputs
            self._player = FieldPlayer(self.config, self.data_dir)
        if self._player.problem.examples():
            self.field.emit(self._player.movie(density, frames=self.frames))


class TaskWorker(QObject):
    """Runs one function on a worker thread; reports ``done(result)`` or ``failed(message)``."""

    done = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, function: object) -> None:
        super().__init__()
        self._function = function

    def work(self) -> None:
        """The thread's body."""
        import traceback

        try:
            result = self._function()  # type: ignore[operator]
        except (ValueError, OSError, RuntimeError) as exc:  # user errors: the message
            self.failed.emit(str(exc))
            return
        except Exception:  # a bug: the traceback, and the thread still ends
            self.failed.emit(traceback.format_exc())
            return
        self.done.emit(result)
