"""Field movies: one of a problem's example inputs played through a medium, frame by frame.

What the designer's field view shows (live during a run, or for a finished design with a time
slider), free of any GUI code. :class:`FieldPlayer` plays a configuration's inputs through a
design (it builds the problem once); :func:`field_movie` is the simulation underneath::

    player = FieldPlayer(config)
    movie = player.movie(density, example=0, frames=120)
    movie.frames[k]      # (ny, nx) field at time step movie.steps[k]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from ..config import RunConfig
from ..errors import DesignValueError
from ..parametrization.chain import Parametrization
from ..parametrization.media import AcousticMedium
from ..problems.base import Problem
from ..run import build_parametrization, build_problem

__all__ = ["FieldMovie", "FieldPlayer", "example_titles", "field_movie"]


@dataclass(frozen=True)
class FieldMovie:
    """Snapshots of the field of one simulated input.

    Attributes:
        title: the example's name (e.g. the vowel).
        frames: ``(N, ny, nx)`` field (float32; the solver's wave amplitude).
        steps: ``(N,)`` time step of each frame (1-based: frame ``k`` is after ``steps[k]``).
        seconds_per_step: physical duration of a step (recordings), or None (normalized time).
        probes: ``(T, P)`` probe signals of the whole input.
        probe_names: a label per probe.
        peak: the largest ``|field|`` over all frames (a colour scale that does not flicker).
    """

    title: str
    frames: np.ndarray
    steps: np.ndarray
    seconds_per_step: float | None
    probes: np.ndarray
    probe_names: tuple[str, ...]
    peak: float

    def time_label(self, index: int) -> str:
        """Human time of frame ``index`` (``t = 12.3 ms`` or ``step 240``)."""
        step = int(self.steps[index])
        if self.seconds_per_step:
            return f"t = {step * self.seconds_per_step * 1e3:.1f} ms"
        return f"step {step}"


def example_titles(problem: Problem) -> list[str]:
    """The names of the problem's example inputs, in order."""
    return [title for title, _ in problem.examples()]


def field_movie(problem: Problem, speed: np.ndarray | torch.Tensor | AcousticMedium, *,
                example: int = 0, frames: int = 100) -> FieldMovie:
    """Simulate example input ``example`` through a medium keeping at most ``frames`` snapshots.

    ``speed`` is a wave-speed map, or an acoustic medium for a problem with acoustic physics
    (build either with the run's parametrization: ``parametrization.material(density)``).

    Raises:
        DesignValueError: no such example, a ``speed`` of the wrong shape, or ``frames`` < 1.
    """
    examples = problem.examples()
    if not examples:
        raise DesignValueError(f"the {problem.name} problem has no example inputs to play")
    if not 0 <= example < len(examples):
        raise DesignValueError(f"example {example} does not exist; choose 0..{len(examples) - 1}")
    if frames < 1:
        raise DesignValueError(f"frames must be ≥ 1, got {frames}")
    medium: torch.Tensor | AcousticMedium
    if isinstance(speed, AcousticMedium):
        medium, found = speed, tuple(speed.inv_density.shape[-2:])
    else:
        medium = torch.as_tensor(np.asarray(speed, dtype=np.float32))
        found = tuple(medium.shape)
    shape = tuple(problem.setup.grid.shape)
    if found != shape:
        raise DesignValueError(f"the medium has shape {found} but the problem's "
                               f"grid is {shape}: the design belongs to another setup")
    title, waveform = examples[example]
    steps = int(waveform.numel())
    every = max(-(-steps // frames), 1)  # at most `frames` snapshots
    with torch.no_grad():
        result = problem.setup.simulate(medium, waveform.float()[None], snapshot_every=every)
    assert result.snapshots is not None
    snaps = result.snapshots[0].numpy().astype(np.float32)
    peak = float(np.abs(snaps).max()) if snaps.size else 0.0
    return FieldMovie(title=title, frames=snaps,
                      steps=every * np.arange(1, snaps.shape[0] + 1),
                      seconds_per_step=problem.seconds_per_step,
                      probes=result.probes[0].numpy(),
                      probe_names=tuple(problem.setup.probe_names),
                      peak=peak or 1.0)


class FieldPlayer:
    """Plays the example inputs of a configuration through designs of its grid.

    The problem (which may load recordings) and the parametrization are built on first use and
    kept, so a designer that shows a field after every epoch, or for every example in turn,
    simulates only the field.

    Args:
        config: the configuration whose problem and material law apply.
        data_dir: recordings folder for problems with data (default: the configuration's).
    """

    def __init__(self, config: RunConfig, data_dir: str | Path | None = None) -> None:
        self.config = config
        self.data_dir = data_dir

    @cached_property
    def problem(self) -> Problem:
        """The configuration's problem."""
        return build_problem(self.config, self.data_dir)

    @cached_property
    def parametrization(self) -> Parametrization:
        """Its density → material law (the material the design is made of)."""
        return build_parametrization(self.config, self.problem)

    def titles(self) -> list[str]:
        """The names of the example inputs, in order (see :func:`example_titles`)."""
        return example_titles(self.problem)

    def movie(self, density: np.ndarray | None, *, example: int = 0, frames: int = 100
              ) -> FieldMovie:
        """Example ``example`` played through the material of ``density`` (at most ``frames``).

        ``density`` is ``(ny, nx)`` in [0, 1] (a binary design, or a projected density during a
        run); None plays the empty background medium.

        Raises:
            DesignValueError: see :func:`field_movie`.
        """
        shape = tuple(self.problem.setup.grid.shape)
        values = np.zeros(shape, np.float32) if density is None else np.asarray(density,
                                                                               np.float32)
        medium = self.parametrization.material(torch.from_numpy(values))
        return field_movie(self.problem, medium, example=example, frames=frames)
