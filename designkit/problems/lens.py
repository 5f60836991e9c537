"""Focusing lens: shape a medium so that a pulse from one point is focused onto another.

Small, fast and needs no data: the problem to try an optimizer or a fabrication setting on. A
Ricker pulse leaves a point source; the design region between it and the focus is trained to
maximize the pulse energy (time-integrated intensity) arriving at the focus. The loss is
``−ln(gain)``, where ``gain`` is that energy relative to the same pulse in the unpatterned
medium (speed ``background_speed`` everywhere), so a loss of 0 means "no better than nothing".
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import PML, Grid, PointProbe, PointSource, ricker

from ..errors import DesignValueError
from .base import Problem
from .kind import Drawing, ProblemKind, Sketch
from .setup import Batch, BatchSettings, Fold, Setup


@dataclass(frozen=True)
class LensConfig:
    """The ``lens:`` section: grid, pulse, source, focus and design region (cells, normalized).

    Args:
        shape: ``(ny, nx)``.
        h: cell size; dt: time step.
        pml: width of the perfectly matched layer (cells).
        source: ``(row, col)`` of the point source.
        focus: ``(row, col)`` of the focus probe.
        region_rows, region_cols: first and last row/column of the design region (inclusive).
        frequency: Ricker peak frequency (1/time); keep 10 cells per wavelength at the slowest
            speed up to about twice this frequency.
        steps: time steps simulated.
    """

    shape: tuple[int, int] = (140, 140)
    h: float = 1.0
    dt: float = 0.5
    pml: int = 20
    source: tuple[int, int] = (70, 30)
    focus: tuple[int, int] = (70, 112)
    region_rows: tuple[int, int] = (25, 114)
    region_cols: tuple[int, int] = (45, 95)
    frequency: float = 0.025
    steps: int = 520

    def __post_init__(self) -> None:
        ny, nx = self.shape
        w = self.pml
        if min(ny, nx) < 2 * w + 3:
            raise DesignValueError(f"lens.shape {self.shape} leaves no interior inside a "
                                   f"{w}-cell PML; use a larger grid or lens.pml")

        def inside(r: int, c: int) -> bool:
            return w <= r < ny - w and w <= c < nx - w

        for name in ("source", "focus"):
            r, c = getattr(self, name)
            if not inside(r, c):
                raise DesignValueError(
                    f"lens.{name} {(r, c)} must lie inside the PML-free interior (rows "
                    f"{w}..{ny - w - 1}, cols {w}..{nx - w - 1})")
        (r0, r1), (c0, c1) = self.region_rows, self.region_cols
        if not (inside(r0, c0) and inside(r1, c1) and r0 <= r1 and c0 <= c1):
            raise DesignValueError(
                f"lens.region_rows {self.region_rows} / region_cols {self.region_cols} must be "
                f"increasing pairs inside the interior (rows {w}..{ny - w - 1}, cols "
                f"{w}..{nx - w - 1})")
        for name in ("source", "focus"):
            r, c = getattr(self, name)
            if r0 <= r <= r1 and c0 <= c <= c1:
                raise DesignValueError(f"lens.{name} {(r, c)} lies inside the design region; "
                                       f"move it or shrink the region")
        if not (self.frequency > 0 and math.isfinite(self.frequency)):
            raise DesignValueError(f"lens.frequency must be positive, got {self.frequency!r}")
        if self.steps < 2:
            raise DesignValueError(f"lens.steps must be ≥ 2, got {self.steps!r}")

    def region(self) -> Tensor:
        """Bool mask ``(ny, nx)`` of the design region."""
        mask = torch.zeros(self.shape, dtype=torch.bool)
        (r0, r1), (c0, c1) = self.region_rows, self.region_cols
        mask[r0:r1 + 1, c0:c1 + 1] = True
        return mask


class LensProblem(Problem):
    """Focus a pulse onto a probe; metrics ``focus_gain`` and ``peak_gain`` (vs no design).

    Args:
        geometry: grid, pulse, source, focus and region.
        background_speed: speed of the unpatterned medium the gain is measured against
            (the material's speed at density 0).
        physics: ``"scalar"`` or ``"acoustic"`` (:mod:`wavefab.designkit.parametrization.media`).
    """

    name = "lens"
    summary_keys = ("focus_gain", "peak_gain")
    score = "focus_gain"

    def __init__(self, geometry: LensConfig, *, background_speed: float = 1.0,
                 physics: str = "scalar") -> None:
        if not background_speed > 0:
            raise DesignValueError(f"background_speed must be positive, got {background_speed}")
        self.geometry = geometry
        self.background_speed = float(background_speed)
        g = geometry
        self.setup = Setup(grid=Grid(shape=g.shape, h=g.h, dt=g.dt), boundary=PML(width=g.pml),
                           sources=(PointSource(*g.source),),
                           probes=(PointProbe(*g.focus, measure="intensity"),),
                           region=g.region(), probe_names=("focus",), physics=physics)
        self.pulse = ricker(g.frequency, g.steps, g.dt)
        self._reference: tuple[float, float] | None = None

    def reference(self) -> tuple[float, float]:
        """Energy and peak intensity at the focus without any design."""
        if self._reference is None:
            speed = torch.full(self.geometry.shape, self.background_speed)
            with torch.no_grad():
                signal = self.setup.simulate(speed, self.pulse[None]).probes[0, :, 0]
            self._reference = (float(signal.sum()), float(signal.max()))
        return self._reference

    def batches(self, fold: Fold, rng: np.random.Generator | None,
                settings: BatchSettings) -> Iterator[Batch]:
        """The single pulse (one batch of one)."""
        yield Batch(self.pulse[None], torch.zeros(1))

    def loss(self, probes: Tensor, targets: Tensor) -> Tensor:
        """``−ln(focus energy / energy without design)``, averaged over the batch."""
        energy = probes[:, :, 0].sum(dim=1).clamp_min(1e-30)
        return -torch.log(energy / self.reference()[0]).mean()

    def evaluate(self, speed: Tensor, fold: Fold) -> dict[str, Any]:
        """Energy gain and peak-intensity gain at the focus."""
        energy, peak = self.reference()
        with torch.no_grad():
            signal = self.setup.simulate(speed, self.pulse[None]).probes[0, :, 0]
        return {"focus_gain": float(signal.sum()) / energy, "peak_gain": float(signal.max()) / peak}

    def refined(self, factor: int) -> Problem:
        """See :meth:`Problem.refined`; the reference without design is simulated again."""
        clone = super().refined(factor)
        clone._reference = None
        return clone

    def examples(self) -> list[tuple[str, Tensor]]:
        """The pulse."""
        return [("pulse", self.pulse)]

    def fingerprint(self) -> dict[str, Any]:
        """Geometry and background speed."""
        return {**super().fingerprint(), "geometry": asdict(self.geometry),
                "background_speed": self.background_speed}


def build(*, lens: LensConfig, background_speed: float = 1.0, physics: str = "scalar",
          data_dir: str | Path | None = None) -> LensProblem:
    """The lens problem of a configuration's ``lens:`` section (``data_dir``: unused, no data)."""
    return LensProblem(lens, background_speed=background_speed, physics=physics)


def sketch(*, lens: LensConfig) -> Sketch:
    """The lens's setup for drawing."""
    return Sketch(shape=tuple(lens.shape), h=float(lens.h), region=lens.region().numpy(),
                  sources=(tuple(lens.source),), probes=(tuple(lens.focus),),
                  probe_names=("focus",), absorber=int(lens.pml), input_names=("pulse",))


class LensDrawing(Drawing):
    """The lens has one source, one focus and one rectangular region: the tools move them."""

    def paint(self, section: dict[str, Any], shape: dict[str, Any]) -> tuple[str, Any]:
        """A rectangle becomes the new region; anything else is refused."""
        if shape.get("kind") != "rect" or shape.get("erase"):
            raise DesignValueError("the lens's design region is one rectangle: draw it with the "
                                   "rectangle tool (or use the blank template for free shapes)")
        lens = dict(section)
        lens["region_rows"] = sorted(round(v) for v in shape["rows"])
        lens["region_cols"] = sorted(round(v) for v in shape["cols"])
        return "lens", lens

    def add_port(self, section: dict[str, Any], kind: str, row: int, col: int
                 ) -> tuple[str, Any]:
        """Placing a source or the focus moves the one there is."""
        return self.move_port(section, kind, 0, row, col)

    def move_port(self, section: dict[str, Any], kind: str, index: int, row: int, col: int
                  ) -> tuple[str, Any]:
        """Move the source or the focus."""
        if index != 0:
            raise DesignValueError(f"the lens has one {kind}, not {index + 1}")
        return f"lens.{'source' if kind == 'source' else 'focus'}", [int(row), int(col)]

    def delete_port(self, section: dict[str, Any], kind: str, index: int) -> tuple[str, Any]:
        """Refused: the lens needs its source and its focus."""
        raise DesignValueError("the lens has exactly one source and one focus: move them "
                               "instead (or use the blank template)")


#: The lens in the problem table (:mod:`.registry`).
KIND = ProblemKind(
    name="lens", section="lens", sections=(("lens", LensConfig),), build=build, sketch=sketch,
    templates={"lens": ("focusing lens, no rules (seconds to optimize)",
                        {"problem": "lens", "material": {"beta": 4.0},
                         "training": {"optimizer": "lbfgs", "epochs": 12,
                                      "lbfgs_iterations": 10,
                                      "beta_schedule": [[0, 4.0], [6, 16.0], [9, 64.0]]}})},
    keys={"shape": "lens.shape", "frequency": "lens.frequency", "steps": "lens.steps",
          "absorber": "lens.pml"},
    drawing=LensDrawing(), made_metric="binary_focus_gain")
