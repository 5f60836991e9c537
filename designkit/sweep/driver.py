"""A sweep's record and its driver: ``sweep.json``, and the points in flight on an executor.

:class:`SweepRecord` is the sweep's state as ``sweep.json`` holds it, rewritten atomically
after every change; :class:`Driver` keeps ``workers`` points in flight on an executor, retries
points whose worker died, and turns what comes back into :class:`~.events.PointEnd` events. A
point is finished when ``sweep.json`` says so and its ``metrics.json`` exists; a point with a
checkpoint and no such record was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..config import config_to_dict
from ..files import wavefab_version, write_atomically
from .events import PointEnd, PointStart, SweepEvent, SweepStart
from .spec import Point, SweepError, SweepSpec
from .worker import PointTask, run_point

__all__ = ["STATE_FILE", "Driver", "SweepRecord", "read_sweep"]

STATE_FILE = "sweep.json"


def _digest(spec: SweepSpec) -> str:
    """A digest of the sweep file and its base (recorded, to tell sweeps apart)."""
    return hashlib.sha256(json.dumps(
        {"base": spec.base_values, "text": spec.text}, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


def read_sweep(folder: str | Path) -> dict[str, Any]:
    """The ``sweep.json`` of a sweep folder.

    Raises:
        SweepError: no sweep there, or a damaged file.
    """
    path = Path(folder) / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{folder}: not a sweep folder (no {STATE_FILE})") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError, JSONDecodeError
        raise SweepError(f"{path}: cannot read it ({exc})") from None
    except RecursionError:
        raise SweepError(f"{path}: nested too deeply to be a sweep record") from None
    if not isinstance(state, dict) or not isinstance(state.get("points"), list):
        raise SweepError(f"{path}: not a wavefab sweep record (no points list)")
    return state


def _interrupted(folder: Path) -> bool:
    return (folder / "checkpoint" / "checkpoint.json").exists()


class SweepRecord:
    """The sweep's state as ``sweep.json`` holds it, written after every change."""

    def __init__(self, out: Path, spec: SweepSpec) -> None:
        self.out = out
        self.spec = spec
        self.points: dict[str, dict[str, Any]] = {}
        self.skipped = 0
        self.digest = _digest(spec)  # the same for every write of this record
        out.mkdir(parents=True, exist_ok=True)
        path = out / STATE_FILE
        self.earlier: dict[str, dict[str, Any]] = {}
        if path.exists():
            # points are addressed by their configuration, so an edited or extended sweep
            # in the same folder reuses every point it shares with the earlier one
            state = read_sweep(out)
            self.earlier = {p["id"]: p for p in state["points"] if "id" in p}

    def add(self, point: Point, status: str = "pending", **extra: Any) -> dict[str, Any]:
        """Record ``point`` with ``status``; returns its entry (a mapping kept up to date)."""
        entry = {"id": point.id, "index": point.index, "overrides": point.overrides,
                 "status": status, "reason": "", "seconds": None, "metrics": {}, "attempts": 0,
                 **extra}
        self.points[point.id] = entry
        return entry

    def finished(self, point: Point) -> bool:
        """Whether an earlier sweep in this folder finished ``point`` (and its results exist)."""
        earlier = self.earlier.get(point.id)
        return (earlier is not None and earlier.get("status") == "done"
                and (self.folder(point.id) / "metrics.json").exists())

    def folder(self, pid: str) -> Path:
        """The results folder of point ``pid``."""
        return self.out / "points" / pid

    def counts(self) -> tuple[int, int, int]:
        """Points (done, failed, running)."""
        statuses = [p["status"] for p in self.points.values()]
        return statuses.count("done"), statuses.count("failed"), statuses.count("running")

    def best(self) -> dict[str, Any] | None:
        """The best finished point by the sweep's metric, or None."""
        from .summary import rank

        ranked = rank(list(self.points.values()), self.spec.metric, self.spec.direction)
        top = ranked[0] if ranked else None
        return top if top is not None and top["status"] == "done" and \
            self.spec.metric in top["metrics"] else None

    def write(self) -> None:
        """Rewrite ``sweep.json`` atomically."""
        state = {"sweep": self.spec.source, "digest": self.digest,
                 "strategy": self.spec.strategy, "metric": self.spec.metric,
                 "direction": self.spec.direction, "swept_keys": self.spec.swept_keys,
                 "wavefab": wavefab_version(), "skipped": self.skipped,
                 "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "points": sorted(self.points.values(), key=lambda p: p["index"])}
        write_atomically(self.out / STATE_FILE,
                         json.dumps(state, indent=1, default=str).encode())


class Driver:
    """Keeps ``workers`` points in flight on the executor and records every change."""

    def __init__(self, record: SweepRecord, executor: Executor | None, workers: int,
                 threads: int, resume: bool, data_dir: str | None) -> None:
        self.record = record
        self.given = executor
        self.executor = executor
        self.workers = workers
        self.threads = threads
        self.resume = resume
        self.data_dir = data_dir
        self.inflight: dict[Future, tuple[Point, dict[str, Any]]] = {}

    # -- what to run -------------------------------------------------------------------------
    def classify(self, points: list[Point]) -> tuple[list[Point], list[Point]]:
        """Record finished points as skipped; return (to run fresh, to resume)."""
        fresh, interrupted = [], []
        for point in points:
            if self.record.finished(point):
                earlier = self.record.earlier[point.id]
                self.record.add(point, "done", reason="", seconds=earlier.get("seconds"),
                                metrics=earlier.get("metrics", {}), skipped=True,
                                **{k: v for k, v in earlier.items() if k == "trial"})
                self.record.skipped += 1
            else:
                self.record.add(point)
                folder = self.record.folder(point.id)
                (interrupted if _interrupted(folder) else fresh).append(point)
        if interrupted and not self.resume:
            names = ", ".join(p.id for p in interrupted[:3])
            raise SweepError(f"{len(interrupted)} point(s) were interrupted ({names}"
                             f"{', …' if len(interrupted) > 3 else ''}); rerun with --resume to "
                             f"continue them from their checkpoints")
        return fresh, interrupted

    def run_all(self, points: list[Point]) -> Iterator[SweepEvent]:
        """Run grid/random points to the end."""
        fresh, interrupted = self.classify(points)
        self.record.write()
        yield SweepStart(len(points), self.record.skipped, len(interrupted), self.workers,
                         self.record.spec.metric)
        queue = [(p, True) for p in interrupted] + [(p, False) for p in fresh]
        try:
            while queue or self.inflight:
                while queue and len(self.inflight) < self.workers:
                    point, resumed = queue.pop(0)
                    yield self.submit(point, resumed)
                for point, event in self.collect():
                    if event is None:  # the worker died: try again from its checkpoint
                        queue.insert(0, (point, True))
                    else:
                        yield event
        finally:
            self.shutdown()

    # -- the executor ------------------------------------------------------------------------
    def _executor(self) -> Executor:
        if self.executor is None:
            from .executors import local_pool

            self.executor = local_pool(self.workers, self.threads)
        return self.executor

    def shutdown(self) -> None:
        """Cancel what is queued, close the pool this driver built, write the record."""
        for future in self.inflight:
            future.cancel()
        if self.given is None and self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        self.record.write()

    def submit(self, point: Point, resumed: bool) -> PointStart:
        """Hand ``point`` to a worker and record it as running."""
        entry = self.record.points[point.id]
        entry.update(status="running", reason="", attempts=entry["attempts"] + 1)
        task = PointTask(point.id, config_to_dict(point.config),
                         str(self.record.folder(point.id)),
                         resume=resumed or _interrupted(self.record.folder(point.id)),
                         threads=self.threads, data_dir=self.data_dir)
        future = self._executor().submit(run_point, task)
        self.inflight[future] = (point, entry)
        self.record.write()
        return PointStart(point.id, point.index, point.overrides, task.resume)

    def collect(self) -> list[tuple[Point, PointEnd | None]]:
        """Wait for at least one point; its event, or None for one to run again."""
        finished, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
        results: list[tuple[Point, PointEnd | None]] = []
        broken = False
        for future in finished:
            point, entry = self.inflight.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process died (kill, OOM) or was lost
                broken = broken or isinstance(exc, BrokenProcessPool)
                reason = f"worker died ({type(exc).__name__}: {exc})".strip()
                if entry["attempts"] <= self.record.spec.retries:
                    entry.update(status="pending", reason=reason)
                    results.append((point, None))
                    continue
                outcome = {"status": "failed", "reason": reason, "seconds": None,
                           "metrics": {}}
            entry.update(status=outcome["status"], reason=outcome["reason"],
                         seconds=outcome["seconds"], metrics=outcome["metrics"])
            done, failed, running = self.record.counts()
            results.append((point, PointEnd(point.id, point.index, point.overrides,
                                            entry["status"], entry["reason"],
                                            entry["seconds"] or 0.0, entry["metrics"], done,
                                            failed, running, len(self.record.points),
                                            self.record.best())))
        if broken and self.given is None:
            # a dead process breaks the whole local pool: the points still in it go again
            for future, (point, entry) in list(self.inflight.items()):
                self.inflight.pop(future)
                entry.update(status="pending", attempts=max(entry["attempts"] - 1, 0))
                results.append((point, None))
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None
        self.record.write()
        return results
