"""The acoustic solver's speed next to the scalar one on the reference vowel grid.

    python bench/acoustic.py            # 140×140, batch 9, 1000 steps, float32

Prints forward and forward+backward seconds for: the scalar equation on its fused numba
kernels (the reference) and on torch, and the variable-density acoustic equation (numba where it
with a damping layer (the vowel setup) and with a PML, at orders 2 and 4.
"""

from __future__ import annotations

import warnings

import torch
from timing import best

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    PointProbe,
    PointSource,
    propagate,
    propagate_acoustic,
    ricker,
)

warnings.simplefilter("ignore")
GRID = Grid(shape=(140, 140), h=1.0, dt=0.5)
WAVES = ricker(0.03, 1000, 0.5)[None].repeat(9, 1)
KW = {"grid": GRID, "sources": [PointSource(70, 25)],
      "probes": [PointProbe(50, 115), PointProbe(70, 115), PointProbe(90, 115)]}


def scalar(backend: str, boundary: object, grad: bool, order: int = 2) -> None:
    speed = torch.ones(140, 140, requires_grad=grad)
    out = propagate(speed, WAVES, boundary=boundary, backend=backend, order=order, **KW)
    if grad:
        out.probes.sum().backward()


def acoustic(backend: str, boundary: object, grad: bool, order: int = 2) -> None:
    inv = torch.ones(140, 140, requires_grad=grad)
    out = propagate_acoustic(inv, torch.ones(140, 140), WAVES, boundary=boundary,
                             backend=backend, order=order, **KW)
    if grad:
        out.probes.sum().backward()


def main() -> None:
    print(f"{'case':52s}{'forward s':>11s}{'fwd+bwd s':>11s}")
    for label, boundary in (("damping layer", DampingLayer(20)), ("PML", PML(20))):
        rows = [
            (f"scalar, numba (reference), {label}", lambda g, b=boundary: scalar("numba", b, g)),
            (f"scalar, torch, {label}", lambda g, b=boundary: scalar("torch", b, g)),
            (f"acoustic, torch, {label}", lambda g, b=boundary: acoustic("torch", b, g)),
            (f"acoustic, numba, {label}", lambda g, b=boundary: acoustic("numba", b, g)),
            (f"scalar, numba (reference), order 4, {label}",
             lambda g, b=boundary: scalar("numba", b, g, 4)),
            (f"acoustic, torch, order 4, {label}",
             lambda g, b=boundary: acoustic("torch", b, g, 4)),
            (f"acoustic, numba, order 4, {label}",
             lambda g, b=boundary: acoustic("numba", b, g, 4))]
        for name, run in rows:
            forward = best(lambda r=run: r(False), 2)
            both = best(lambda r=run: r(True), 2)
            print(f"{name:52s}{forward:>11.2f}{both:>11.2f}")


if __name__ == "__main__":
    main()
