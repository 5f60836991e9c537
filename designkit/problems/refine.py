"""The same setup on a finer grid: is a design's figure a property of the device or of the grid?

A design is trained and evaluated on one grid. Above about ten cells per wavelength the
discrete wave equation is dispersive, and a design may learn to use that — a device that
works only in the simulation. :func:`refine_setup` builds the same physical setup on a grid
``factor`` times finer in space and in time (same extent, same absorber thickness and rate,
same source and probe areas, the design's cells as blocks of ``factor × factor`` cells), so
that any problem evaluated on it (:meth:`Problem.refined`) measures the design with less
discretization error. If the figures agree, the design does not depend on the grid.

Conventions: cell ``(i, j)`` of the coarse grid covers fine cells ``factor·i … factor·i +
factor − 1`` (and the same in ``j``), as a file rasterized at ``pitch / factor`` lays them out.
A point source becomes a uniform source over its block with the same total force; a point probe
the mean over its block. Inputs are resampled to the finer step (polyphase, band-limited);
outputs come back at the coarse steps (intensity probes: the mean over each coarse step's
``factor`` fine steps; field probes: the value at the coarse step's end), so a problem's loss
and metrics read them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from wavefab.solver import PML, DampingLayer, Grid, MaskSource, PropagationResult, RegionProbe

from ..errors import DesignValueError
from ..parametrization.media import AcousticMedium
from .setup import Setup


def _blocks(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int],
            factor: int) -> np.ndarray:
    """A fine-grid map holding each coarse cell's weight on its ``factor × factor`` block."""
    coarse = np.zeros((shape[0] // factor, shape[1] // factor))
    np.add.at(coarse, (rows, cols), weights)
    return np.kron(coarse, np.ones((factor, factor)))


def upsample_map(x: Tensor, factor: int) -> Tensor:
    """Every cell of ``x`` (``(..., ny, nx)``) as a ``factor × factor`` block."""
    return x.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)


def upsample_time(inputs: Tensor, factor: int) -> Tensor:
    """``(B, T[, S])`` waveforms at ``factor`` times the rate (``(B, factor·T[, S])``).

    Band-limited (polyphase) interpolation: sample ``n`` of the input is sample ``factor·n`` of
    the output. No gradient flows through it.
    """
    from scipy.signal import resample_poly

    x = inputs.detach().cpu().double().numpy()
    # scipy's default Kaiser β = 5 ripples ~0.2% in the passband; β = 8 holds 10⁻⁴ up to 0.7
    # of the input's Nyquist frequency (measured on sines)
    y = resample_poly(x, factor, 1, axis=1, window=("kaiser", 8.0))
    return torch.from_numpy(np.ascontiguousarray(y)).to(device=inputs.device, dtype=inputs.dtype)


@dataclass(frozen=True, eq=False)
class RefinedSetup(Setup):
    """A :class:`Setup` on a grid ``factor`` times finer, fed and read at the coarse steps.

    :meth:`simulate` takes media of the coarse shape (upsampled as blocks) or of the fine one
    (e.g. a file rasterized at the finer pitch), and inputs at the coarse time step; it returns
    probes ``(B, T, P)`` at the coarse steps (see the module notes; an intensity reading is the
    mean over the ``factor`` fine steps that end at its coarse step, the better estimate of the
    time integrals the problems' losses and metrics take). Snapshots come at the fine grid's
    resolution, every ``snapshot_every`` coarse steps. For evaluation: no gradient flows
    through the resampling of the inputs.
    """

    factor: int = 1
    measures: tuple[str, ...] = ()

    @property
    def coarse_shape(self) -> tuple[int, int]:
        """The grid shape the design was made on."""
        ny, nx = self.grid.shape
        return ny // self.factor, nx // self.factor

    @property
    def input_dt(self) -> float:
        """The design grid's step: inputs and probe readings stay at its rate."""
        return self.grid.dt * self.factor

    def _fine(self, x: Tensor, name: str) -> Tensor:
        shape = tuple(x.shape[-2:])
        if shape == tuple(self.grid.shape):
            return x
        if shape == self.coarse_shape:
            return upsample_map(x, self.factor)
        raise DesignValueError(
            f"{name} has shape {shape}: give the design's grid {self.coarse_shape} or the "
            f"refined one {tuple(self.grid.shape)}")

    def simulate(self, speed: Tensor | AcousticMedium, inputs: Tensor,
                 **options: Any) -> PropagationResult:
        """Propagate coarse-step ``inputs`` through ``speed`` on the fine grid (see class)."""
        k = self.factor
        if isinstance(speed, AcousticMedium):
            medium: Tensor | AcousticMedium = AcousticMedium(
                self._fine(speed.inv_density, "inv_density"),
                self._fine(speed.bulk_modulus, "bulk_modulus"))
        else:
            medium = self._fine(speed, "the medium")
        if options.get("nonlinearity") is not None:
            raise DesignValueError("a refined setup does not take a nonlinearity: evaluate "
                                   "nonlinear media on the design's grid")
        if options.get("damping") is not None:
            options["damping"] = self._fine(options["damping"], "damping")
        if options.get("snapshot_every"):
            options["snapshot_every"] = int(options["snapshot_every"]) * k
        steps = int(inputs.shape[1])
        out = super().simulate(medium, upsample_time(inputs, k), **options)
        if not self.measures:
            return replace(out, probes=out.probes[:, k - 1::k])
        fine = out.probes.reshape(out.probes.shape[0], steps, k, -1)
        columns = [fine[:, :, :, p].mean(dim=2) if m == "intensity" else fine[:, :, -1, p]
                   for p, m in enumerate(self.measures)]
        return replace(out, probes=torch.stack(columns, dim=2))


def check_factor(factor: object) -> int:
    """``factor`` as an int, or a :class:`DesignValueError` naming ``refine`` and the fix."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise DesignValueError(f"refine must be a positive integer (1 = the design's grid, "
                               f"2 = twice as fine), got {factor!r}")
    return int(factor)


def refine_setup(setup: Setup, factor: int) -> Setup:
    """``setup`` on a grid ``factor`` times finer in space and time (same physical extent).

    Args:
        setup: the design's setup.
        factor: refinement, an integer ≥ 1 (1 returns ``setup`` itself).

    Raises:
        DesignValueError: a factor that is not a positive integer, an unknown boundary.
    """
    factor = check_factor(factor)
    if factor == 1:
        return setup
    grid = setup.grid
    fine_grid = Grid(shape=(grid.shape[0] * factor, grid.shape[1] * factor), h=grid.h / factor,
                     dt=grid.dt / factor, c_max=grid.c_max, units=grid.units)
    boundary = setup.boundary
    if isinstance(boundary, (DampingLayer, PML)):
        # the same thickness; the rates (1/time) and the PML's reflection target stay
        boundary = replace(boundary, width=boundary.width * factor)
    else:
        raise DesignValueError(f"cannot refine a {type(boundary).__name__} boundary")
    sources = []
    for source in setup.sources:
        cells = source.cells(grid)  # force densities: the same on every fine cell of a block
        sources.append(MaskSource(_blocks(cells.rows, cells.cols, cells.weights,
                                          fine_grid.shape, factor)))
    probes, measures = [], []
    for probe in setup.probes:
        cells = probe.cells(grid)
        probes.append(RegionProbe(_blocks(cells.rows, cells.cols, cells.weights,
                                          fine_grid.shape, factor), measure=cells.measure))
        measures.append(cells.measure)
    region = upsample_map(setup.region.to(torch.uint8), factor).bool()
    return RefinedSetup(grid=fine_grid, boundary=boundary, sources=tuple(sources),
                        probes=tuple(probes), region=region, probe_names=setup.probe_names,
                        physics=setup.physics, nonlinearity=setup.nonlinearity, factor=factor,
                        measures=tuple(measures))
