"""GPU throughput of the solver: the fused CUDA kernels beside the torch backend.

    python bench/gpu.py                 # on a machine with a CUDA device
    python bench/gpu.py --simulate      # smoke test of this script on numba's CUDA simulator

Prints one Markdown table: size × batch → forward and forward+backward cell-updates/s, peak GPU
memory, the first call's time (kernel compilation included), for ``backend="cuda"`` and
``backend="torch"``, under a line naming the device, the versions and the git commit: the linear
scalar medium at three sizes, the nonlinear and the acoustic medium at the largest; 20-cell
damping layer, float32, best of N after a warm-up. The spec's target on an H200:
≥ 5e10 cell-updates/s forward at 1024² × batch 64, backward ≤ 3× forward.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = [((256, 256), 8, 1000), ((1024, 1024), 8, 1000), ((1024, 1024), 64, 1000)]
SIMULATED = [((8, 9), 2, 6)]


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(backend: str, shape: tuple[int, int], batch: int, steps: int, device: str,
            repeats: int, medium: str = "scalar") -> dict:
    import torch

    from wavefab.solver import DampingLayer, Grid, Nonlinearity, PointProbe, PointSource, propagate
    from wavefab.solver.acoustic import propagate_acoustic

    ny, nx = shape
    grid = Grid(shape=shape, h=1.0, dt=0.5)
    gen = torch.Generator().manual_seed(0)
    speed = (0.5 + 0.5 * torch.rand(shape, generator=gen)).to(device)
    waves = torch.randn(batch, steps, generator=gen).to(device)
    width = min(20, min(shape) // 4)
    kw = dict(grid=grid, sources=[PointSource(ny // 2, nx // 4)],
              probes=[PointProbe(ny // 2, 3 * nx // 4, measure="intensity")],
              boundary=DampingLayer(width), backend=backend)
    if medium == "nonlinear":
        rho = torch.zeros(shape, device=device)
        rho[ny // 4:3 * ny // 4, nx // 4:3 * nx // 4] = 1.0
        kw["nonlinearity"] = Nonlinearity(rho=rho, b0=0.1, u_th=1.0, c_nl=0.01)

    def run(s: torch.Tensor):
        if medium == "acoustic":
            return propagate_acoustic(s * s, torch.ones_like(s), waves, **kw)
        return propagate(s, waves, **kw)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def forward() -> None:
        with torch.no_grad():
            run(speed)
        sync()

    def both() -> None:
        s = speed.clone().requires_grad_(True)
        run(s).probes.sum().backward()
        sync()

    row: dict = {"backend": backend, "medium": medium, "shape": shape, "batch": batch,
                 "steps": steps}
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for name, fn in (("forward", forward), ("forward+backward", both)):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        row[name] = ny * nx * batch * steps / min(times)
        row[f"{name} first call s"] = first
    row["peak MiB"] = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda"
                       else float("nan"))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulate", action="store_true",
                        help="tiny sizes on numba's CUDA simulator (CPU tensors)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.simulate:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    import torch

    warnings.simplefilter("ignore")
    if not args.simulate and not torch.cuda.is_available():
        print("no CUDA device here: nothing to measure (python bench/gpu.py --simulate runs "
              "the script on the CUDA simulator)")
        return
    device = "cpu" if args.simulate else "cuda"
    name = "numba CUDA simulator" if args.simulate else torch.cuda.get_device_name()
    print(f"{name}; torch {torch.__version__}; commit {commit()}; float32, damping layer, best "
          f"of {args.repeats} after a warm-up")
    print()
    print("| backend | medium | size × batch × steps | forward cell-updates/s | forward+backward "
          "cell-updates/s | backward / forward time | peak GPU memory | first call (s) |")
    print("|---|---|---|---|---|---|---|---|")
    backends = ["cuda"] if args.simulate else ["cuda", "torch"]
    cases = [(*case, "scalar") for case in (SIMULATED if args.simulate else FULL)]
    largest = (SIMULATED if args.simulate else FULL)[-1]
    cases += [(*largest, "nonlinear"), (*largest, "acoustic")]
    for shape, batch, steps, medium in cases:
        for backend in backends:
            r = measure(backend, shape, batch, steps, device, args.repeats, medium)
            ratio = r["forward"] / r["forward+backward"]
            print(f"| {backend} | {medium} | {shape[0]}×{shape[1]} × {batch} × {steps} | "
                  f"{r['forward']:.3g} | {r['forward+backward']:.3g} | {ratio - 1:.2f} | "
                  f"{r['peak MiB']:.0f} MiB | {r['forward first call s']:.1f} |", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
