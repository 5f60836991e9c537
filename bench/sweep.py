"""Sweep throughput: the same 8 lens points serially, on the local pool, and on Dask.

Run from the project root on an otherwise quiet machine::

    python bench/sweep.py                 # 8 points (about 2 minutes on 2 cores)
    python bench/sweep.py --points 4      # fewer points
    python bench/sweep.py --repeats 2     # best of 2 for every way

The points are the 140×140 lens of lens.yaml (520 steps), 5 L-BFGS epochs of 5 iterations
each, varying ``material.c1`` over 8 values. Every way runs each point in a fresh folder:

* **serial**: ``wavefab run`` once per point, one after another (each a new process with
  torch's default threads: what a shell loop does);
* **local pool**: ``wavefab sweep --workers 2`` (2 processes × 1 thread);
* **dask**: ``wavefab sweep --executor dask --workers 2`` (a 2-worker LocalCluster, processes).

Throughput is points per hour of wall time (best of ``--repeats``). The sweep overhead per point
is measured twice: the wall time of a rerun where every point is already finished (validation,
hashing, ``sweep.json``, summary and plots: all the driver does) divided by the points, and the
local pool's wall time minus the points' own time (as their workers measured it) over the
workers, per point (process start, imports, pickling, result collection).
Targets (issue 17): local pool ≥ 1.7× serial on 2 cores; Dask within 10% of the local pool.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
schema_version: 1
problem: lens
lens: {shape: [140, 140], h: 1.0, dt: 0.5, pml: 20, source: [70, 30], focus: [70, 112],
       region_rows: [25, 114], region_cols: [45, 95], frequency: 0.025, steps: 520}
material: {c0: 1.0, c1: 0.5}
training: {optimizer: lbfgs, lbfgs_iterations: 5, epochs: 5}
"""


def _values(points: int) -> list[float]:
    return [round(0.45 + 0.025 * k, 4) for k in range(points)]


def _wavefab(*args: str) -> float:
    """Run ``wavefab ARGS`` quietly; its wall time in seconds."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "wavefab.app.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _serial(folder: Path, base: Path, values: list[float]) -> float:
    total = 0.0
    for k, value in enumerate(values):
        total += _wavefab("run", str(base), "--out", str(folder / f"p{k}"),
                          "--set", f"material.c1={value}")
    return total


def _sweep_file(folder: Path, values: list[float]) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(f"base: base.yaml\ngrid: {{material.c1: {values}}}\n")
    return path


def main() -> int:
    """Print the throughput of each way side by side, and the overhead per point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    values = _values(args.points)
    work = Path(tempfile.mkdtemp(prefix="wavefab-bench-sweep-"))
    base = work / "base.yaml"
    base.write_text(BASE)
    sweep = _sweep_file(work, values)
    print(f"{args.points} lens points (140×140, 520 steps, 5 L-BFGS epochs), in {work}",
          flush=True)
    _wavefab("run", str(base), "--out", str(work / "warm"), "--set", "training.epochs=1")

    best: dict[str, float] = {}
    point_seconds = 0.0
    for repeat in range(args.repeats):
        runs = {
            "serial wavefab run": lambda r=repeat: _serial(work / f"serial{r}", base, values),
            "local pool, 2 workers": lambda r=repeat: _wavefab(
                "sweep", str(sweep), "--out", str(work / f"pool{r}"), "--workers", "2"),
            "dask LocalCluster, 2 workers": lambda r=repeat: _wavefab(
                "sweep", str(sweep), "--out", str(work / f"dask{r}"), "--executor", "dask",
                "--workers", "2"),
        }
        for name, measure in runs.items():
            seconds = measure()
            print(f"  {name}: {seconds:.1f} s (repeat {repeat + 1})", flush=True)
            if seconds < best.get(name, float("inf")):
                best[name] = seconds
                if name.startswith("local pool"):
                    state = json.loads((work / f"pool{repeat}" / "sweep.json").read_text())
                    point_seconds = sum(p["seconds"] for p in state["points"])
    rerun = min(_wavefab("sweep", str(sweep), "--out", str(work / "pool0"))
                for _ in range(3))

    serial = best["serial wavefab run"]
    pool = best["local pool, 2 workers"]
    dask = best["dask LocalCluster, 2 workers"]
    print()
    print(f"{'way':32s} {'wall s':>8s} {'points/h':>9s} {'vs serial':>10s}")
    for name, seconds in best.items():
        print(f"{name:32s} {seconds:8.1f} {3600 * args.points / seconds:9.1f} "
              f"{serial / seconds:9.2f}×")
    print()
    print(f"local pool / serial: {serial / pool:.2f}× (target ≥ 1.7×)")
    print(f"dask / local pool:   {pool / dask:.2f}× (target ≥ 0.90×)")
    print(f"driver overhead (rerun of {args.points} finished points, best of 3, process start "
          f"included): {rerun:.1f} s, {rerun / args.points:.2f} s per point")
    print(f"pool overhead: {pool:.1f} s wall - {point_seconds:.1f} s of points / 2 workers = "
          f"{(pool - point_seconds / 2) / args.points:.2f} s per point "
          f"(point: {point_seconds / args.points:.1f} s on 1 thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
