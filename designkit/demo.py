"""A built-in demonstration: a Ricker pulse focused by a slow circular lens, written as a PNG."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from wavefab.solver import PML, Grid, PointProbe, PointSource, propagate, ricker

from .errors import DesignValueError

log = logging.getLogger(__name__)


#: Smallest grid (cells per side) the demo's geometry fits in.
MIN_SIZE = 100


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its figure, and what it measured."""

    figure: Path
    steps: int
    seconds: float
    focus_gain: float


def lens_demo(out_dir: str | Path, *, size: int = 200, steps: int = 540) -> DemoResult:
    """Simulate a pulse through a circular lens (speed 0.6 in a medium of speed 1) and plot it.

    Args:
        out_dir: folder to write ``field.png`` into (created if missing).
        size: grid size in cells (square).
        steps: number of time steps.

    Returns:
        A :class:`DemoResult`; ``focus_gain`` is the peak intensity behind the lens relative to
        the same point without the lens.

    Raises:
        DesignValueError: for a grid under 100 cells (the PML and the focus need room) or
            fewer than 3 steps.
    """
    if int(size) != size or size < MIN_SIZE:
        raise DesignValueError(
            f"size must be an integer ≥ {MIN_SIZE} cells (the 20-cell PML and the focus behind "
            f"the lens need room), got {size!r}"
        )
    if int(steps) != steps or steps < 3:
        raise DesignValueError(f"steps must be an integer ≥ 3, got {steps!r}")
    import time

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grid = Grid(shape=(size, size), h=1.0, dt=0.5)
    yy, xx = np.mgrid[0:size, 0:size]
    centre = (size // 2, int(size * 0.42))
    radius = size * 0.2
    lens = ((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) <= radius**2
    speed = torch.ones(grid.shape)
    speed[torch.from_numpy(lens)] = 0.6
    focus = PointProbe(size // 2, int(size * 0.75), measure="intensity")
    src = PointSource(size // 2, 28)
    wave = ricker(0.03, steps, grid.dt).unsqueeze(0)
    t0 = time.perf_counter()
    res = propagate(speed, wave, grid=grid, sources=[src], probes=[focus],
                    boundary=PML(width=20), snapshot_every=steps // 3)
    free = propagate(torch.ones(grid.shape), wave, grid=grid, sources=[src], probes=[focus],
                     boundary=PML(width=20))
    seconds = time.perf_counter() - t0
    gain = float(res.probes.max() / free.probes.max())
    assert res.snapshots is not None
    snaps = res.snapshots[0].numpy()

    fig, axes = plt.subplots(1, snaps.shape[0], figsize=(4 * snaps.shape[0], 4))
    for k, ax in enumerate(np.atleast_1d(axes)):
        vmax = float(np.abs(snaps[k]).max()) or 1.0
        ax.imshow(snaps[k], cmap="RdBu_r", vmin=-vmax, vmax=vmax, origin="upper")
        ax.contour(lens, levels=[0.5], colors="k", linewidths=0.8)
        ax.plot([src.col], [src.row], "g*", ms=10)
        ax.plot([focus.col], [focus.row], "ko", mfc="none", ms=8)
        ax.set_title(f"step {(k + 1) * (steps // 3)}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"wavefab demo: pulse through a slow lens (focus gain {gain:.2f}×)")
    fig.tight_layout()
    figure = out / "field.png"
    fig.savefig(figure, dpi=100)
    plt.close(fig)
    log.info("wrote %s", figure)
    return DemoResult(figure=figure, steps=steps, seconds=seconds, focus_gain=gain)
