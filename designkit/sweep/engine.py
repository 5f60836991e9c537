"""Run a sweep: submit its points to an executor, record each, summarize, resume after a kill.

:func:`sweep` is a generator of events, like :func:`wavefab.designkit.run.run`; the CLI's
progress line and any script consume the same stream. It accepts any
:class:`concurrent.futures.Executor` (Dask's ``Client.get_executor()`` is one), or builds the
local process pool. The folder it writes::

    DIR/sweep.json              every point: id, overrides, status, reason, seconds, metrics
    DIR/summary.csv, summary.md one row per point, ranked by the metric
    DIR/plots/*.png             the metric against each swept key (and Optuna's history)
    DIR/points/<id>/            each point's ordinary results folder (+ sweep_point.log)
    DIR/optuna.journal          an Optuna study (journal file storage), when there is one

A point is finished when ``sweep.json`` says so and its ``metrics.json`` exists; a point with a
checkpoint and no such record was interrupted, and continues from its last epoch when asked to
resume. Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

from .driver import Driver, SweepRecord, read_sweep
from .events import PointEnd, PointStart, SweepEnd, SweepEvent, SweepStart
from .spec import SweepError, SweepSpec

__all__ = ["PointEnd", "PointStart", "SweepEnd", "SweepEvent", "SweepStart", "read_sweep",
           "sweep"]


def sweep(spec: SweepSpec, out: str | Path, *, executor: Executor | None = None,
          workers: int = 1, threads_per_worker: int = 1, resume: bool = False,
          data_dir: str | Path | None = None) -> Iterator[SweepEvent]:
    """Run every point of ``spec`` into ``out``; yields :data:`SweepEvent` as it goes.

    Args:
        spec: the parsed sweep (:func:`~.spec.load_sweep`).
        out: the sweep folder.
        executor: where points run; None: a local pool of ``workers`` spawned processes.
        workers: points in flight at once (the pool's size when wavefab builds it).
        threads_per_worker: threads each point's torch and solver pools get.
        resume: continue interrupted points from their checkpoints (without it, a sweep with
            interrupted points refuses to start, so that nothing is redone unasked).
        data_dir: a folder of recordings for every point.

    Raises:
        SweepError: a bad point (before anything runs), another sweep in ``out``, or
            interrupted points without ``resume``.
    """
    out = Path(out)
    if workers < 1 or threads_per_worker < 1:
        raise SweepError("--workers and --threads-per-worker must be positive integers")
    record = SweepRecord(out, spec)
    driver = Driver(record, executor, workers, threads_per_worker, resume,
                     None if data_dir is None else str(Path(data_dir).resolve()))
    if spec.strategy == "optuna":
        from .search import optuna_points

        yield from optuna_points(spec, driver)
    else:
        yield from driver.run_all(spec.points())
    from .summary import write_summary

    paths = write_summary(out, list(record.points.values()), spec)
    done, failed, _ = record.counts()
    yield SweepEnd(done, failed, record.skipped, len(record.points), record.best(), paths)
