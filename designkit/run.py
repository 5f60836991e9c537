"""Run a configuration end to end: problem, training, results folder.

The same few lines serve the CLI (``wavefab run``), the GUI's worker and scripts::

    from wavefab.designkit.config import load_config
    from wavefab.designkit.run import run

    for event in run(load_config("assets/examples/vowels_quick.yaml"), "results/quick"):
        print(event)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from .config import RunConfig, fabrication_from_config
from .fab.fabrication import Fabrication
from .optimize.budget import RunCost, check_budget, estimate_cost
from .optimize.events import Event, RunEnd
from .optimize.loop import optimize
from .parametrization.chain import LinearSpeed, Parametrization
from .parametrization.filters import DensityFilter
from .parametrization.media import RigidSolid
from .problems.base import Problem
from .problems.registry import problem_kind
from .results import write_config, write_results

__all__ = ["build_parametrization", "build_problem", "run"]

log = logging.getLogger(__name__)


def build_problem(config: RunConfig, data_dir: str | Path | None = None) -> Problem:
    """The problem a configuration describes (problems with data load it here).

    ``data_dir`` overrides the configuration's folder of recordings.
    """
    return problem_kind(config.problem).build_from(config, data_dir)


def build_parametrization(config: RunConfig, problem: Problem,
                          fabrication: Fabrication | None = None) -> Parametrization:
    """The latent → speed chain of a configuration, on the problem's design region.

    The density filter's radius comes from ``fabrication`` (built from the config when None).
    """
    m = config.material
    fab = fabrication if fabrication is not None else fabrication_from_config(config)
    acoustic = config.acoustic
    material = (RigidSolid(m.c0, acoustic.contrast, acoustic.contrast_schedule,
                           acoustic.interpolation)
                if config.physics == "acoustic" else LinearSpeed(m.c0, m.c1))
    return Parametrization(region=problem.setup.region, blur_radius=m.blur_radius,
                           beta=m.beta, eta=m.eta, material=material,
                           filter=DensityFilter(config.fabrication.filter, fab.filter_radius,
                                                config.fabrication.filter_edge),
                           projection=config.fabrication.projection)


def run(config: RunConfig, out_dir: str | Path, *, data_dir: str | Path | None = None,
        resume: bool = False, device: str = "cpu", allow_long: bool = True,
        on_cost: Callable[[RunCost], None] | None = None) -> Iterator[Event]:
    """Train as configured, writing checkpoints and finally the results into ``out_dir``.

    Yields the training events (see :mod:`wavefab.designkit.optimize.events`); the results
    folder is complete once :class:`~wavefab.designkit.optimize.RunEnd` has been yielded.
    ``wall_time_s`` in ``metrics.json`` includes the time spent before a resume.

    Before anything is written, the run's time and memory are estimated
    (:func:`~wavefab.designkit.optimize.budget.estimate_cost`, handed to ``on_cost``); a run
    that cannot fit this machine's memory is refused, and so is one above an hour unless
    ``allow_long`` (a resumed run has been allowed before).

    Raises:
        DesignValueError: the run does not fit, or is long and not allowed.
    """
    out = Path(out_dir)
    start = time.perf_counter()
    section = problem_kind(config.problem).data_section
    if data_dir is not None and section is not None:
        # Record where the recordings came from, so that the results folder alone re-runs,
        # exports and verifies on the same data (not on the synthetic default).
        data = replace(getattr(config, section), folder=str(Path(data_dir).resolve()))
        config = replace(config, **{section: data})
    problem = build_problem(config, data_dir)
    cost = estimate_cost(problem, config.training, physics=config.physics,
                         device=device.split(":")[0], robust=config.fabrication.robust)
    if on_cost is not None:
        on_cost(cost)
    check_budget(cost, allow_long=allow_long or resume)
    fabrication = fabrication_from_config(config)
    parametrization = build_parametrization(config, problem, fabrication)
    out.mkdir(parents=True, exist_ok=True)
    write_config(out, config)
    for event in optimize(problem, parametrization, config.training,
                          checkpoint_dir=out / "checkpoint", resume=resume, device=device,
                          fabrication=fabrication):
        if isinstance(event, RunEnd):
            write_results(out, event, problem, parametrization,
                          event.earlier_seconds + time.perf_counter() - start,
                          fabrication=fabrication, wave_speed=config.fabrication.wave_speed)
        yield event
