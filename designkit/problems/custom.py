"""A drawn problem: sources, probes and a painted design region, placed by hand.

What the designer's "blank" template edits with the mouse, and a config section any user can
write: point sources that all emit the same Ricker pulse, point probes with weights, and a
design region built from painted shapes (rectangles, ellipses, brush strokes; each may erase).
The optimizer maximizes the energy arriving at the probes with positive weight and keeps it away
from those with negative weight, relative to the unpatterned medium:
``loss = −Σ wᵢ ln(Eᵢ / Eᵢ⁰) / Σ |wᵢ|``. So one probe is a lens, two probes of opposite sign a
router, several positive ones a splitter.

All positions are in cells of the simulation grid: ``(row, col)``, row 0 at the top.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import PML, Grid, PointProbe, PointSource, ricker

from ..errors import DesignValueError
from .base import Problem
from .kind import Drawing, ProblemKind, Sketch
from .setup import Batch, BatchSettings, Fold, Setup


@dataclass(frozen=True)
class RegionShapeConfig:
    """One paint stroke of the design region (cells).

    Args:
        kind: ``rect`` (the cells of rows ``rows[0]..rows[1]`` × cols ``cols[0]..cols[1]``,
            inclusive), ``ellipse`` (the cells whose centres lie in the ellipse inscribed in that
            box) or ``stroke`` (the cells whose centres lie within ``radius`` of the polyline
            through ``points``).
        rows, cols: the bounding box of a rectangle or ellipse (any order).
        points: ``(row, col)`` vertices of a brush stroke.
        radius: brush radius of a stroke (cells).
        erase: remove the cells from the region instead of adding them.
    """

    kind: Literal["rect", "ellipse", "stroke"] = "rect"
    rows: tuple[float, float] = (0.0, 0.0)
    cols: tuple[float, float] = (0.0, 0.0)
    points: tuple[tuple[float, float], ...] = ()
    radius: float = 2.0
    erase: bool = False

    def cells(self, shape: tuple[int, int]) -> np.ndarray:
        """Bool mask ``shape`` of the cells this stroke covers."""
        ny, nx = shape
        r = np.arange(ny, dtype=float)[:, None]
        c = np.arange(nx, dtype=float)[None, :]
        if self.kind == "stroke":
            return _near_polyline(self.points, self.radius, r, c)
        r0, r1 = sorted(self.rows)
        c0, c1 = sorted(self.cols)
        if self.kind == "rect":
            return (r >= r0 - 1e-9) & (r <= r1 + 1e-9) & (c >= c0 - 1e-9) & (c <= c1 + 1e-9)
        # ellipse inscribed in the box of cell edges [r0 − ½, r1 + ½] × [c0 − ½, c1 + ½]
        rc, cc = (r0 + r1) / 2, (c0 + c1) / 2
        ry, rx = (r1 - r0) / 2 + 0.5, (c1 - c0) / 2 + 0.5
        return ((r - rc) / ry) ** 2 + ((c - cc) / rx) ** 2 <= 1.0 + 1e-9

    def check(self, where: str) -> None:
        """Raise :class:`DesignValueError` naming ``where`` when the stroke is malformed."""
        if self.kind not in ("rect", "ellipse", "stroke"):
            raise DesignValueError(f"{where}.kind must be rect, ellipse or stroke, got "
                                   f"{self.kind!r}")
        numbers = [*self.rows, *self.cols, self.radius, *(v for p in self.points for v in p)]
        if not all(math.isfinite(v) for v in numbers):
            raise DesignValueError(f"{where}: positions and radius must be finite numbers")
        if self.kind == "stroke":
            if not self.points:
                raise DesignValueError(f"{where}: a stroke needs at least one point")
            if not self.radius > 0:
                raise DesignValueError(f"{where}.radius must be positive, got {self.radius}")


def _near_polyline(points: tuple[tuple[float, float], ...], radius: float,
                   r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Cells whose centres lie within ``radius`` of the polyline (or point) ``points``."""
    ny, nx = r.shape[0], c.shape[1]
    mask = np.zeros((ny, nx), dtype=bool)
    path = list(points) if len(points) > 1 else [points[0], points[0]]
    for (ra, ca), (rb, cb) in itertools.pairwise(path):
        # only the segment's bounding box (grown by the radius) can be within reach
        r0 = max(math.floor(min(ra, rb) - radius), 0)
        r1 = min(math.ceil(max(ra, rb) + radius) + 1, ny)
        c0 = max(math.floor(min(ca, cb) - radius), 0)
        c1 = min(math.ceil(max(ca, cb) + radius) + 1, nx)
        if r0 >= r1 or c0 >= c1:
            continue
        rr, cc = r[r0:r1], c[:, c0:c1]
        dr, dc = rb - ra, cb - ca
        length2 = dr * dr + dc * dc
        if length2 == 0:
            t = np.zeros((r1 - r0, c1 - c0))
        else:
            t = np.clip(((rr - ra) * dr + (cc - ca) * dc) / length2, 0.0, 1.0)
        mask[r0:r1, c0:c1] |= (rr - (ra + t * dr)) ** 2 + (cc - (ca + t * dc)) ** 2 \
            <= radius**2 + 1e-9
    return mask


@dataclass(frozen=True)
class CustomProbeConfig:
    """A point probe: position (cells), label and objective weight (> 0 attract, < 0 avoid)."""

    row: int = 60
    col: int = 130
    name: str = "out"
    weight: float = 1.0


@dataclass(frozen=True)
class CustomConfig:
    """The ``custom:`` section: grid, pulse, ports and design region (cells, normalized units).

    Args:
        shape: ``(ny, nx)``.
        h: cell size; dt: time step.
        pml: width of the perfectly matched layer (cells).
        frequency: Ricker peak frequency (1/time); keep 10 cells per wavelength at the slowest
            speed up to about twice this frequency.
        steps: time steps simulated.
        sources: ``(row, col)`` of each point source (all emit the same pulse).
        probes: the probes (see :class:`CustomProbeConfig`).
        region: paint strokes applied in order to an empty region (see :class:`RegionShapeConfig`);
            cells in the PML or on a port are never part of it.
    """

    shape: tuple[int, int] = (120, 160)
    h: float = 1.0
    dt: float = 0.5
    pml: int = 20
    frequency: float = 0.025
    steps: int = 500
    sources: tuple[tuple[int, int], ...] = ((60, 30),)
    probes: tuple[CustomProbeConfig, ...] = (CustomProbeConfig(),)
    region: tuple[RegionShapeConfig, ...] = field(
        default_factory=lambda: (RegionShapeConfig("rect", rows=(30, 89), cols=(50, 109)),))

    def __post_init__(self) -> None:
        ny, nx = self.shape
        w = self.pml
        if w < 1:
            raise DesignValueError(f"custom.pml must be at least 1 cell, got {w}")
        if min(ny, nx) < 2 * w + 3:
            raise DesignValueError(f"custom.shape {tuple(self.shape)} leaves no interior inside "
                                   f"a {w}-cell PML; use a larger grid or a thinner custom.pml")
        if not (0 < self.h < math.inf and 0 < self.dt < math.inf):
            raise DesignValueError("custom.h and custom.dt must be positive, finite numbers")
        if not (self.frequency > 0 and math.isfinite(self.frequency)):
            raise DesignValueError(f"custom.frequency must be positive, got {self.frequency!r}")
        if self.steps < 2:  # the upper bound is the run's limits.steps
            raise DesignValueError(f"custom.steps must be at least 2, got {self.steps!r}")
        if not self.sources:
            raise DesignValueError("custom.sources is empty: place at least one source")
        if not self.probes:
            raise DesignValueError("custom.probes is empty: place at least one probe")
        for i, shape in enumerate(self.region):
            shape.check(f"custom.region[{i}]")
        names = set()
        for i, probe in enumerate(self.probes):
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", probe.name):
                raise DesignValueError(f"custom.probes[{i}].name {probe.name!r}: use letters, "
                                       "digits, '_' or '-'")
            if probe.name in names:
                raise DesignValueError(f"custom.probes[{i}].name {probe.name!r} is used twice")
            names.add(probe.name)
            if not (math.isfinite(probe.weight) and probe.weight != 0):
                raise DesignValueError(f"custom.probes[{i}].weight must be a non-zero number, "
                                       f"got {probe.weight!r}")
        if not any(p.weight > 0 for p in self.probes):
            raise DesignValueError("custom.probes: give at least one probe a positive weight "
                                   "(where the energy should go)")
        ports = [(f"custom.sources[{i}]", tuple(s)) for i, s in enumerate(self.sources)]
        ports += [(f"custom.probes[{i}]", (p.row, p.col)) for i, p in enumerate(self.probes)]
        seen: dict[tuple[int, int], str] = {}
        for where, (r, c) in ports:
            if not (w <= r < ny - w and w <= c < nx - w):
                raise DesignValueError(f"{where} {(r, c)} must lie inside the PML-free interior "
                                       f"(rows {w}..{ny - w - 1}, cols {w}..{nx - w - 1})")
            if (r, c) in seen:
                raise DesignValueError(f"{where} {(r, c)} sits on {seen[(r, c)]}; move one")
            seen[(r, c)] = where

    def interior(self) -> np.ndarray:
        """Bool mask of the cells outside the PML."""
        mask = np.zeros(self.shape, dtype=bool)
        w = self.pml
        mask[w:self.shape[0] - w, w:self.shape[1] - w] = True
        return mask

    def region_mask(self) -> np.ndarray:
        """The painted design region as a bool ``(ny, nx)`` array (interior only, ports free)."""
        return self._region_mask.copy()

    @cached_property
    def _region_mask(self) -> np.ndarray:
        # computed once per geometry: validation, drawing and the problem all ask for it
        mask = np.zeros(self.shape, dtype=bool)
        for shape in self.region:
            covered = shape.cells(self.shape)
            mask = mask & ~covered if shape.erase else mask | covered
        mask &= self.interior()
        for r, c in [*self.sources, *((p.row, p.col) for p in self.probes)]:
            if 0 <= r < self.shape[0] and 0 <= c < self.shape[1]:
                mask[r, c] = False
        # checked here, when first painted, not when the section is read: the schema checks
        # the grid's size against limits.cells before anything allocates it
        if not mask.any():
            raise DesignValueError("custom.region covers no cell inside the PML-free interior; "
                                   "paint a design region")
        return mask


def _region_tensor(geometry: CustomConfig) -> Tensor:
    return torch.from_numpy(geometry.region_mask())


class CustomProblem(Problem):
    """Bring a pulse's energy to the weighted probes; metrics ``gain`` and ``gain_<probe>``.

    ``gain`` is the weighted geometric mean of the probes' energy gains (``exp(−loss)``), each
    gain the energy at a probe relative to the same pulse in the unpatterned medium.

    Args:
        geometry: grid, pulse, ports and region.
        background_speed: speed of the unpatterned medium (the material's speed at density 0).
        physics: ``"scalar"`` or ``"acoustic"`` (:mod:`wavefab.designkit.parametrization.media`).
    """

    name = "custom"
    summary_keys = ("gain",)
    score = "gain"

    def __init__(self, geometry: CustomConfig, *, background_speed: float = 1.0,
                 physics: str = "scalar") -> None:
        if not background_speed > 0:
            raise DesignValueError(f"background_speed must be positive, got {background_speed}")
        self.geometry = geometry
        self.background_speed = float(background_speed)
        g = geometry
        self.setup = Setup(
            grid=Grid(shape=tuple(g.shape), h=g.h, dt=g.dt), boundary=PML(width=g.pml),
            sources=tuple(PointSource(int(r), int(c)) for r, c in g.sources),
            probes=tuple(PointProbe(p.row, p.col, measure="intensity") for p in g.probes),
            region=_region_tensor(g), probe_names=tuple(p.name for p in g.probes),
            physics=physics)
        self.pulse = ricker(g.frequency, g.steps, g.dt)
        weights = torch.tensor([p.weight for p in g.probes], dtype=torch.float64)
        self.weights = weights / weights.abs().sum()
        self._reference: Tensor | None = None

    def reference(self) -> Tensor:
        """Energy at each probe without any design, ``(P,)``."""
        if self._reference is None:
            speed = torch.full(tuple(self.geometry.shape), self.background_speed)
            with torch.no_grad():
                signal = self.setup.simulate(speed, self.pulse[None]).probes[0]
            energy = signal.sum(dim=0).double()
            # A gain is measured against this energy: a probe the pulse does not reach within
            # the simulated steps would turn any design into an absurd "gain".
            quiet = [p.name for p, e in zip(self.geometry.probes, energy.tolist(), strict=True)
                     if not e > 1e-6 * float(energy.max().clamp_min(1e-300))]
            if quiet:
                raise DesignValueError(
                    f"probe(s) {', '.join(quiet)} receive almost no energy from the sources in "
                    f"the unpatterned medium within custom.steps = {self.geometry.steps}; "
                    "raise custom.steps or move the probes")
            self._reference = energy
        return self._reference

    def batches(self, fold: Fold, rng: np.random.Generator | None,
                settings: BatchSettings) -> Iterator[Batch]:
        """The single pulse (one batch of one)."""
        yield Batch(self.pulse[None], torch.zeros(1))

    def _log_gains(self, probes: Tensor) -> Tensor:
        energy = probes.sum(dim=1).clamp_min(1e-30)  # (B, P)
        return torch.log(energy / self.reference().to(energy))

    def loss(self, probes: Tensor, targets: Tensor) -> Tensor:
        """``−Σ wᵢ ln(Eᵢ/Eᵢ⁰) / Σ|wᵢ|``, averaged over the batch."""
        weights = self.weights.to(probes)
        return -(self._log_gains(probes) * weights).sum(dim=1).mean()

    def evaluate(self, speed: Tensor, fold: Fold) -> dict[str, Any]:
        """``gain`` (exp of minus the loss) and every probe's energy gain."""
        with torch.no_grad():
            probes = self.setup.simulate(speed, self.pulse[None]).probes
        logs = self._log_gains(probes)[0].double()
        metrics: dict[str, Any] = {"gain": math.exp(float((logs * self.weights).sum()))}
        for p, value in zip(self.geometry.probes, logs.tolist(), strict=True):
            metrics[f"gain_{p.name}"] = math.exp(value)
        return metrics

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


def build(*, custom: CustomConfig, background_speed: float = 1.0, physics: str = "scalar",
          data_dir: str | Path | None = None) -> CustomProblem:
    """The drawn problem of a ``custom:`` section (``data_dir``: unused, no data)."""
    return CustomProblem(custom, background_speed=background_speed, physics=physics)


def sketch(*, custom: CustomConfig) -> Sketch:
    """The drawn problem's setup for drawing."""
    return Sketch(shape=tuple(custom.shape), h=float(custom.h), region=custom.region_mask(),
                  sources=tuple((int(r), int(c)) for r, c in custom.sources),
                  probes=tuple((p.row, p.col) for p in custom.probes),
                  probe_names=tuple(p.name for p in custom.probes), absorber=int(custom.pml),
                  input_names=("pulse",))


class CustomDrawing(Drawing):
    """The mouse tools paint the region and place, move and delete any number of ports."""

    def paint(self, section: dict[str, Any], shape: dict[str, Any]) -> tuple[str, Any]:
        """Append the stroke to ``custom.region``."""
        return "custom.region", [*section["region"], dict(shape)]

    def add_port(self, section: dict[str, Any], kind: str, row: int, col: int
                 ) -> tuple[str, Any]:
        """Append a source, or a probe named ``p<n>`` (the first free ``n``) of weight 1."""
        if kind == "source":
            return "custom.sources", [*section["sources"], [int(row), int(col)]]
        names = {p["name"] for p in section["probes"]}
        n = len(section["probes"]) + 1
        while f"p{n}" in names:
            n += 1
        probe = {"row": int(row), "col": int(col), "name": f"p{n}", "weight": 1.0}
        return "custom.probes", [*section["probes"], probe]

    def move_port(self, section: dict[str, Any], kind: str, index: int, row: int, col: int
                  ) -> tuple[str, Any]:
        """Move one source or probe (a probe keeps its name and weight)."""
        ports = list(section[f"{kind}s"])
        if not 0 <= index < len(ports):
            raise DesignValueError(f"there is no {kind} number {index + 1}")
        if kind == "source":
            ports[index] = [int(row), int(col)]
        else:
            ports[index] = {**ports[index], "row": int(row), "col": int(col)}
        return f"custom.{kind}s", ports

    def delete_port(self, section: dict[str, Any], kind: str, index: int) -> tuple[str, Any]:
        """Remove one source or probe; the last one of a kind stays."""
        ports = list(section[f"{kind}s"])
        if not 0 <= index < len(ports):
            raise DesignValueError(f"there is no {kind} number {index + 1}")
        if len(ports) == 1:
            raise DesignValueError(f"the last {kind} cannot be deleted: a problem needs one; "
                                   "move it instead")
        del ports[index]
        return f"custom.{kind}s", ports


#: The drawn problem in the problem table (:mod:`.registry`).
KIND = ProblemKind(
    name="custom", section="custom", sections=(("custom", CustomConfig),), build=build,
    sketch=sketch,
    templates={"blank": ("blank: place sources and probes, paint the design region (seconds "
                         "to optimize)",
                         {"problem": "custom", "material": {"beta": 4.0},
                          "training": {"optimizer": "lbfgs", "epochs": 12,
                                       "lbfgs_iterations": 10,
                                       "beta_schedule": [[0, 4.0], [6, 16.0], [9, 64.0]]}})},
    keys={"shape": "custom.shape", "frequency": "custom.frequency", "steps": "custom.steps",
          "absorber": "custom.pml"},
    drawing=CustomDrawing(), made_metric="binary_gain")
