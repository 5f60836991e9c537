"""The ``optuna:`` strategy: Optuna's ask-and-tell on the sweep's own executor.

The study lives in the sweep folder (``optuna.journal``, journal file storage), so a rerun
continues it: trials already told are kept, trials a killed driver left running are run again
(their point resumes from its checkpoint) and told, and only the trials still missing are
asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .events import PointEnd, SweepEvent, SweepStart
from .spec import SearchDimension, SweepError, SweepSpec, resolve_point
from .study import import_optuna, open_study

if TYPE_CHECKING:
    from .driver import Driver

__all__ = ["optuna_points"]


def _suggest(trial: Any, dim: SearchDimension) -> Any:
    if dim.choices:
        return trial.suggest_categorical(dim.key, list(dim.choices))
    if dim.integer:
        return trial.suggest_int(dim.key, int(dim.low), int(dim.high), log=dim.log)
    return trial.suggest_float(dim.key, float(dim.low), float(dim.high), log=dim.log)


def optuna_points(spec: SweepSpec, driver: Driver) -> Iterator[SweepEvent]:
    """Ask, run and tell until the study has ``trials`` finished trials."""
    optuna = import_optuna()
    from optuna.trial import TrialState


    spec.check_space()  # every bound and choice validates before a trial runs
    study = open_study(driver.record.out, spec)
    target = int(spec.optuna["trials"])
    told = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.FAIL)]
    stale = [t for t in study.trials if t.state == TrialState.RUNNING]
    points = {}
    for t in [*told, *stale]:
        overrides = {d.key: t.params[d.key] for d in spec.space if d.key in t.params}
        points[t.number] = resolve_point(spec, t.number, overrides)
    _, interrupted = driver.classify([points[t.number] for t in [*told, *stale]])
    for t in [*told, *stale]:
        driver.record.points[points[t.number].id]["trial"] = t.number
    for t in told:  # a trial told but with no finished folder counts as told: not rerun
        entry = driver.record.points[points[t.number].id]
        if entry["status"] != "done":
            entry.update(status="failed" if t.state == TrialState.FAIL else "done",
                         metrics={spec.metric: t.value} if t.value is not None else {})
    driver.record.write()
    queue = [(t.number, points[t.number]) for t in stale]
    resumed = {p.id for p in interrupted}
    asked = len(told) + len(stale)
    yield SweepStart(target, driver.record.skipped, len(resumed), driver.workers, spec.metric)
    trial_of: dict[str, int] = {}
    try:
        while queue or driver.inflight or asked < target:
            while len(driver.inflight) < driver.workers and (queue or asked < target):
                if queue:
                    number, point = queue.pop(0)
                else:
                    trial = study.ask()
                    asked += 1
                    overrides = {d.key: _suggest(trial, d) for d in spec.space}
                    try:
                        point = resolve_point(spec, trial.number, overrides)
                    except SweepError as exc:
                        study.tell(trial.number, state=TrialState.FAIL)
                        raise SweepError(f"optuna trial {trial.number}: {exc}") from None
                    number = trial.number
                    earlier = driver.record.points.get(point.id)
                    if earlier is not None:
                        # the sampler proposed a point already run (or running): its value
                        # is known or coming, so this trial runs nothing
                        value = earlier.get("metrics", {}).get(spec.metric)
                        if earlier["status"] == "done" and isinstance(value, (int, float)):
                            study.tell(number, float(value))
                        else:
                            study.tell(number, state=TrialState.FAIL)
                        continue
                    driver.record.add(point, trial=number)
                trial_of[point.id] = number
                yield driver.submit(point, point.id in resumed)
            for point, event in driver.collect():
                if event is None:
                    queue.insert(0, (trial_of[point.id], point))
                    continue
                value = event.metrics.get(spec.metric)
                if event.status == "done" and isinstance(value, (int, float)):
                    study.tell(trial_of[point.id], float(value))
                else:
                    study.tell(trial_of[point.id], state=TrialState.FAIL)
                yield PointEnd(**{**event.__dict__})
    finally:
        driver.shutdown()
    del optuna
