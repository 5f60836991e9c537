"""What a worker process does with one point: train it into its folder, say how it went.

:func:`run_point` is the one function a sweep sends to an executor (a process pool, a Dask
worker, any :class:`concurrent.futures.Executor`). It takes and returns plain data, so it
pickles anywhere, and it never raises for a point that fails: the failure comes back as its
one-line reason, so that one bad point never stops the others.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PointTask", "limit_threads", "run_point"]


@dataclass(frozen=True)
class PointTask:
    """One point to run.

    Attributes:
        id: the point's id (its folder's name).
        config: the resolved configuration as a plain mapping (``config_to_dict``).
        folder: the point's results folder.
        resume: continue from the checkpoint in ``folder``.
        threads: threads for torch's pool and the solver kernels' pool.
        data_dir: a folder of recordings overriding the configuration's.
    """

    id: str
    config: dict[str, Any]
    folder: str
    resume: bool = False
    threads: int = 1
    data_dir: str | None = None


def limit_threads(threads: int) -> None:
    """Give torch's intra-op pool and the solver kernels' pool ``threads`` threads each.

    Also sets the OpenMP/MKL environment for libraries loaded later in this process, so that N
    workers with K threads never run more than N·K busy threads.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "WAVEFAB_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # contended pools must not spin
    import torch

    from wavefab.solver import set_num_threads

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    set_num_threads(threads)


def run_point(task: PointTask) -> dict[str, Any]:
    """Train one point; returns ``{id, status: done|failed, reason, seconds, metrics}``.

    The point's own log (one line per epoch, and the traceback of a failure) goes to
    ``<folder>/sweep_point.log``.
    """
    start = time.perf_counter()
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "sweep_point.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    log = logging.getLogger("wavefab.sweep")
    # a point's warnings (resolution, DRC) belong in its log, not in the sweep's terminal
    logging.captureWarnings(True)
    # decided here, not only by the driver: an engine that re-runs a task by itself (Dask
    # reschedules the tasks of a lost worker) must continue the point, not start it over
    resume = task.resume or (folder / "checkpoint" / "checkpoint.json").exists()
    try:
        limit_threads(task.threads)
        from ..config import config_from_dict
        from ..optimize.events import EpochEnd, RunEnd
        from ..run import run

        config = config_from_dict(task.config, source=f"point {task.id}")
        log.info("point %s: %s (threads %d, pid %d)", task.id,
                 "resuming" if resume else "starting", task.threads, os.getpid())
        metrics: dict[str, Any] = {}
        for event in run(config, folder, data_dir=task.data_dir, resume=resume):
            if isinstance(event, EpochEnd):
                figures = {k: v for k, v in event.metrics.items() if isinstance(v, float)}
                log.info("fold %d epoch %d: loss %.4g %s (%.1f s)", event.fold + 1,
                         event.epoch + 1, event.loss, figures, event.seconds)
            elif isinstance(event, RunEnd):
                metrics = scalar_metrics(event.metrics)
        log.info("point %s done in %.1f s", task.id, time.perf_counter() - start)
        return {"id": task.id, "status": "done", "reason": "",
                "seconds": time.perf_counter() - start, "metrics": metrics}
    except Exception as exc:  # a failed point is data, not a crash of the sweep
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.error("point %s failed: %s\n%s", task.id, reason, traceback.format_exc())
        return {"id": task.id, "status": "failed", "reason": f"{type(exc).__name__}: {reason}",
                "seconds": time.perf_counter() - start, "metrics": {}}
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The top-level numbers and flags of a ``metrics.json`` mapping (no per-fold lists)."""
    return {k: v for k, v in metrics.items()
            if isinstance(v, (int, float, bool)) and not isinstance(v, dict)}
