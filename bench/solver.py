"""Benchmark of the wavefab wave solver against a naive torch-autograd reference.

Run from the project root::

    python bench/solver.py                      # everything (several minutes)
    python bench/solver.py --quick              # tiny sizes, a smoke test of the script itself
    python bench/solver.py --cases p1-damping,bandwidth
    python bench/solver.py --skip-naive-p2      # skip the slow, memory-hungry naive P2 run
    python bench/solver.py --measure p2-damping-numba-fb-ckptauto   # one measurement

Every measurement runs in a fresh subprocess (this script re-invoking itself with ``--measure``),
so its ``peak_rss_mib`` is the peak resident set size (``ru_maxrss``) of a whole process that did
nothing but import, warm up and repeat that one run. Each prints one JSON line; the driver then
prints one comparison line per case (wavefab vs the naive reference, with the spec targets) and,
for P2, the memory target line.

Cases (float32, 20-cell absorbing boundary, one point source, three intensity probes):

* P1: 140×140, batch 9, 1000 steps (the reference vowel model), with DampingLayer and with PML.
* P2: 400×400, batch 1, 2000 steps.

``forward`` runs under ``torch.no_grad()``; ``forward+backward`` runs with a speed map that
requires gradients and calls ``out.probes.sum().backward()``. Seconds are the best of N repeats
after one warm-up run (which includes numba compilation); throughput is ``ny·nx·B·T / seconds``
cell-updates per second for both modes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np
import torch
import torch.nn.functional as F
from timing import timed

from wavefab.solver import (
    PML,
    DampingLayer,
    Grid,
    Nonlinearity,
    PointProbe,
    PointSource,
    ResolutionWarning,
    propagate,
)
from wavefab.solver.acoustic import propagate_acoustic

H = 1.4283556979968262
DT = 0.707
MIB = 2**20
#: Bytes a leapfrog step must move per cell at least: read u, u_prev, c²-coefficient, write u_new.
BYTES_PER_CELL_UPDATE = 16

#: Spec targets.
TARGET_P1_FORWARD_RATIO = 2.5
TARGET_P1_FB_RATIO = 3.0
TARGET_P2_PEAK_RSS_MIB = 600.0
TARGET_P2_CKPT_TIME_RATIO = 1.5

#: Resident memory per step of the naive reference's autograd graph, in (ny+2)·(nx+2)·B float32
#: fields, for the free-memory check before its forward+backward run (measured ≈ 12 at 400×400:
#: saved tensors plus allocator fragmentation), and the headroom left to other processes.
NAIVE_FIELDS_PER_STEP = 12
NAIVE_HEADROOM_MIB = 3072

GROUPS = ("bandwidth", "p1-damping", "p1-pml", "p2-damping", "p2-pml", "p1-acoustic_damping",
          "p1-acoustic_pml", "p1-nonlinear_damping")

#: Media beyond the linear scalar equation: the acoustic (variable-density) solver with each
#: boundary, and the reference nonlinear material law in the damping-layer setup. Their ids read
#: ``p1-acoustic_pml-numba-fwd`` and so on; each is compared with the scalar damping layer on the
#: same grid, against the spec's target ratio.
MEDIA = {"damping": "scalar", "pml": "scalar", "acoustic_damping": "acoustic",
         "acoustic_pml": "acoustic", "nonlinear_damping": "nonlinear"}
TARGET_VS_SCALAR_DAMPING = {"pml": 0.75, "acoustic_pml": 0.5, "nonlinear_damping": 0.5}


@dataclass(frozen=True)
class Size:
    """Problem size of one case."""

    shape: tuple[int, int]
    batch: int
    steps: int
    width: int

    @property
    def cell_updates(self) -> int:
        return self.shape[0] * self.shape[1] * self.batch * self.steps


FULL = {"p1": Size((140, 140), 9, 1000, 20), "p2": Size((400, 400), 1, 2000, 20)}
QUICK = {"p1": Size((48, 48), 3, 60, 8), "p2": Size((64, 64), 1, 120, 8)}

#: Timed repeats after the warm-up run, per case and implementation (``--repeats`` overrides).
REPEATS = {("p1", "wavefab"): 5, ("p1", "naive"): 3, ("p2", "wavefab"): 3, ("p2", "naive"): 1}


# ------------------------------------------------------------------------------------------
# helpers


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def mem_available_mib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def numba_threading_layer() -> str | None:
    try:
        return nb.threading_layer()
    except ValueError:  # no parallel numba function has run yet
        return None


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


# ------------------------------------------------------------------------------------------
# the problem


@dataclass
class Problem:
    """Grid, geometry and random inputs of one case."""

    size: Size
    grid: Grid
    source: tuple[int, int]
    probes: list[tuple[int, int]]
    speed: torch.Tensor  # (ny, nx) in [0.5, 1]
    waveforms: torch.Tensor  # (B, T) standard normal


def make_problem(size: Size, seed: int = 0) -> Problem:
    """The reference geometry (source at (70, 40), probes at rows 50/70/90 of column 100 on
    140×140), scaled to ``size.shape``."""
    ny, nx = size.shape
    row, dy, col = ny // 2, round(ny * 20 / 140), round(nx * 100 / 140)
    gen = torch.Generator().manual_seed(seed)
    speed = 0.5 + 0.5 * torch.rand(size.shape, generator=gen, dtype=torch.float32)
    waveforms = torch.randn(size.batch, size.steps, generator=gen, dtype=torch.float32)
    return Problem(
        size=size, grid=Grid(shape=size.shape, h=H, dt=DT),
        source=(row, round(nx * 40 / 140)),
        probes=[(row - dy, col), (row, col), (row + dy, col)],
        speed=speed, waveforms=waveforms,
    )


def make_boundary(name: str, width: int) -> DampingLayer | PML:
    if name.split("_")[-1] == "damping":
        return DampingLayer(width=width, sigma_max=3.0, order=4)
    return PML(width=width)


# ------------------------------------------------------------------------------------------
# the naive reference: plain autograd through a slicing 5-point Laplacian, every step stored


def naive_propagate(speed: torch.Tensor, waveforms: torch.Tensor, b: torch.Tensor, h: float,
                    dt: float, source: tuple[int, int], probes: list[tuple[int, int]]
                    ) -> torch.Tensor:
    """Damped leapfrog in the style of the reference wavetorch code; returns ``(B, T, P)``
    intensities. A fresh tensor per step; autograd keeps every step for the backward pass."""
    batch, steps = waveforms.shape
    ny, nx = speed.shape
    c2dt2 = dt * dt * speed.pow(2)
    keep = 1.0 - b * (dt / 2)
    denom = 1.0 + b * (dt / 2)
    pr = torch.tensor([p[0] for p in probes])
    pc = torch.tensor([p[1] for p in probes])
    sr, sc = source
    u = speed.new_zeros(batch, ny, nx)
    u_prev = speed.new_zeros(batch, ny, nx)
    recorded = []
    for n in range(steps):
        up = F.pad(u, (1, 1, 1, 1))
        lap = (up[:, :-2, 1:-1] + up[:, 2:, 1:-1] + up[:, 1:-1, :-2] + up[:, 1:-1, 2:]
               - 4 * up[:, 1:-1, 1:-1]) / (h * h)
        y = (2 * u - keep * u_prev + c2dt2 * lap) / denom
        y[:, sr, sc] += dt * dt * waveforms[:, n]
        recorded.append(y[:, pr, pc])
        u_prev, u = u, y
    return torch.stack(recorded, 1).pow(2)


def deepwave_forward(prob: Problem, speed: torch.Tensor, waveforms: torch.Tensor
                     ) -> Callable[[], torch.Tensor]:
    """The same case on deepwave's scalar propagator (CPML, 2nd-order stencil), as a reference.

    deepwave adds its PML around the model, so it is given the interior and the sources and
    probes shifted in: its padded grid is ours, cell for cell. Returns a forward function of
    ``(B, T, P)`` intensities.
    """
    import deepwave

    w = prob.size.width
    batch = waveforms.shape[0]
    src = torch.tensor([[[prob.source[0] - w, prob.source[1] - w]]] * batch)
    rec = torch.tensor([[[r - w, c - w] for r, c in prob.probes]] * batch)
    amplitudes = waveforms.unsqueeze(1)

    def forward() -> torch.Tensor:
        out = deepwave.scalar(speed[w:-w, w:-w], H, DT, source_amplitudes=amplitudes,
                              source_locations=src, receiver_locations=rec, accuracy=2,
                              pml_width=w, pml_freq=0.05)
        return out[-1].pow(2).transpose(1, 2)

    return forward


def have_deepwave() -> bool:
    import importlib.util

    return importlib.util.find_spec("deepwave") is not None


# ------------------------------------------------------------------------------------------
# one measurement (runs in its own process)


@dataclass(frozen=True)
class Measure:
    """A measurement id: ``{case}-{boundary}-{impl}-{mode}[-ckpt{auto|0|k}]``, e.g.
    ``p2-damping-numba-fb-ckptauto``; impl is ``numba``/``torch`` (wavefab backends),
    ``naive`` (damping only) or ``deepwave`` (pml only); mode is ``fwd`` or ``fb``."""

    case: str
    boundary: str
    impl: str
    mode: str
    ckpt: str = "auto"

    @classmethod
    def parse(cls, text: str) -> Measure:
        parts = text.split("-")
        if len(parts) not in (4, 5):
            raise SystemExit(f"bad measurement id {text!r}; see --help")
        case, boundary, impl, mode = parts[:4]
        ckpt = parts[4].removeprefix("ckpt") if len(parts) == 5 else "auto"
        ok = (case in FULL and boundary in MEDIA
              and impl in ("numba", "torch", "naive", "deepwave") and mode in ("fwd", "fb")
              and (ckpt == "auto" or ckpt.isdigit()))
        if not ok or (impl == "naive" and boundary != "damping") or \
                (impl == "deepwave" and boundary != "pml") or \
                (MEDIA[boundary] != "scalar" and impl not in ("numba", "torch")):
            raise SystemExit(f"bad measurement id {text!r}; see --help")
        return cls(case, boundary, impl, mode, ckpt)

    def __str__(self) -> str:
        tail = f"-ckpt{self.ckpt}" if self.mode == "fb" and self.impl not in (
            "naive", "deepwave") else ""
        return f"{self.case}-{self.boundary}-{self.impl}-{self.mode}{tail}"

    @property
    def checkpoint_every(self) -> int | None:
        return None if self.ckpt == "auto" else int(self.ckpt)


def run_measure(m: Measure, quick: bool, repeats: int | None) -> dict:
    warnings.simplefilter("ignore", ResolutionWarning)
    size = (QUICK if quick else FULL)[m.case]
    prob = make_problem(size)
    impl_kind = m.impl if m.impl in ("naive", "deepwave") else "wavefab"
    n_rep = repeats if repeats is not None else (
        2 if quick else REPEATS[(m.case, "naive" if impl_kind == "naive" else "wavefab")])
    speed = prob.speed.clone().requires_grad_(m.mode == "fb")
    waveforms = prob.waveforms
    info: dict = {}
    baseline = current_rss_mib()

    if impl_kind == "wavefab":
        kwargs = dict(
            grid=prob.grid, sources=[PointSource(*prob.source)],
            probes=[PointProbe(r, c, measure="intensity") for r, c in prob.probes],
            boundary=make_boundary(m.boundary, size.width), backend=m.impl,
        )

        if MEDIA[m.boundary] == "acoustic":
            # the same speeds as a variable-density medium: 1/ρ = c², K = 1
            bulk = torch.ones_like(prob.speed)

            def forward() -> torch.Tensor:
                out = propagate_acoustic(speed * speed, bulk, waveforms,
                                         checkpoint_every=m.checkpoint_every, **kwargs)
                info["segments"] = out.segments
                return out.probes
        else:
            if MEDIA[m.boundary] == "nonlinear":
                # the material in the middle of the grid (the design region of the vowel model)
                rho = torch.zeros_like(prob.speed)
                ny, nx = size.shape
                rho[ny // 4:3 * ny // 4, nx // 4:3 * nx // 4] = 1.0
                kwargs["nonlinearity"] = Nonlinearity(rho=rho, b0=0.1, u_th=1.0, c_nl=0.01)

            def forward() -> torch.Tensor:
                out = propagate(speed, waveforms, checkpoint_every=m.checkpoint_every, **kwargs)
                info["segments"] = out.segments
                return out.probes
    elif impl_kind == "deepwave":
        forward = deepwave_forward(prob, speed, waveforms)
    else:
        b = torch.as_tensor(make_boundary("damping", size.width).damping(prob.grid),
                            dtype=torch.float32)

        def forward() -> torch.Tensor:
            return naive_propagate(speed, waveforms, b, H, DT, prob.source, prob.probes)

    def run() -> None:
        if m.mode == "fwd":
            with torch.no_grad():
                forward()
        else:
            speed.grad = None
            forward().sum().backward()

    times = timed(run, n_rep)
    best = min(times)
    record = {
        "measure": str(m), "case": m.case.upper(), "boundary": m.boundary,
        "impl": impl_kind, "backend": {"naive": "torch", "deepwave": "deepwave C"}.get(
            m.impl, m.impl),
        "mode": "forward" if m.mode == "fwd" else "forward+backward",
        "shape": list(size.shape), "batch": size.batch, "steps": size.steps, "dtype": "float32",
        "seconds": round(best, 4), "seconds_all": [round(t, 4) for t in times],
        "cell_updates_per_s": size.cell_updates / best,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "rss_after_imports_mib": round(baseline, 1),
        "threads": {"torch": torch.get_num_threads(), "numba": nb.get_num_threads()},
        "loadavg_1min": load_average(),
    }
    if impl_kind == "wavefab" and m.impl == "numba":
        record["numba_threading_layer"] = numba_threading_layer()
    if impl_kind == "wavefab" and m.mode == "fb":
        record["checkpoint_every"] = m.checkpoint_every
        record["segments"] = info.get("segments")
    if quick:
        record["quick"] = True
    return record


# ------------------------------------------------------------------------------------------
# memory bandwidth (STREAM-style triad, alternating direction so no rep is dead code)


@nb.njit(fastmath=True, cache=False)
def _triad_pass(x: np.ndarray, y: np.ndarray, z: np.ndarray, s: float) -> None:
    for i in range(x.size):
        x[i] = y[i] + s * z[i]


@nb.njit(parallel=True, fastmath=True, cache=False)
def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float, reps: int,
           chunks: int) -> None:
    """``reps`` triads over ``chunks`` contiguous chunks, one thread each; odd reps run back
    from ``a`` into ``b`` so that every rep depends on the one before."""
    n = a.size
    for k in nb.prange(chunks):
        lo = k * n // chunks
        hi = (k + 1) * n // chunks
        for rep in range(reps):
            if rep % 2 == 0:
                _triad_pass(a[lo:hi], b[lo:hi], c[lo:hi], s)
            else:
                _triad_pass(b[lo:hi], a[lo:hi], c[lo:hi], -s)


def triad_gbps(n: int, reps: int, chunks: int, tries: int = 5) -> float:
    a, b, c = (np.full(n, v, np.float32) for v in (0.0, 1.0, 2.0))
    _triad(a, b, c, np.float32(1e-3), 2, chunks)
    best = min(
        _time_once(lambda: _triad(a, b, c, np.float32(1e-3), reps, chunks)) for _ in range(tries)
    )
    return 3 * 4 * n * reps / best / 1e9


def _time_once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_bandwidth(quick: bool) -> dict:
    threads = nb.get_num_threads()
    big = 2**22 if quick else 2**26  # float32 elements per array: 16 / 256 MiB
    small = 2**18  # 1 MiB per array, 3 MiB in all: inside the 32 MiB L3
    small_reps = 200 if quick else 2000
    bw = {
        "dram_all_threads_GBps": triad_gbps(big, 1, threads),
        "dram_1_thread_GBps": triad_gbps(big, 1, 1),
        "cache_all_threads_GBps": triad_gbps(small, small_reps, threads),
        "cache_1_thread_GBps": triad_gbps(small, small_reps, 1),
    }
    record: dict = {"measure": "bandwidth", "kernel": "triad (2 reads + 1 write, float32)",
                    "array_mib": {"dram": big * 4 / MIB, "cache": small * 4 / MIB},
                    "threads": threads}
    record.update({k: round(v, 2) for k, v in bw.items()})
    record["bytes_per_cell_update"] = BYTES_PER_CELL_UPDATE
    for key, value in bw.items():
        bound_key = "forward_bound_" + key.removesuffix("_GBps") + "_cell_updates_per_s"
        record[bound_key] = value * 1e9 / BYTES_PER_CELL_UPDATE
    record["loadavg_1min"] = load_average()
    if quick:
        record["quick"] = True
    return record


# ------------------------------------------------------------------------------------------
# the driver


def plan(groups: list[str], backends: list[str] | None, skip_naive_p2: bool) -> list[str]:
    """Measurement ids for the selected groups, in run order."""
    ids: list[str] = []
    for group in groups:
        if group == "bandwidth":
            ids.append("bandwidth")
            continue
        case, boundary = group.split("-")
        for backend in backends or (["numba", "torch"] if case == "p1" else ["numba"]):
            ids.append(f"{case}-{boundary}-{backend}-fwd")
            ids.append(f"{case}-{boundary}-{backend}-fb-ckptauto")
            if backend == "numba":
                ids.append(f"{case}-{boundary}-{backend}-fb-ckpt0")
        if boundary == "pml" and have_deepwave():
            ids += [f"{case}-pml-deepwave-fwd", f"{case}-pml-deepwave-fb"]
        naive_wanted = boundary == "damping" and not (case == "p2" and skip_naive_p2)
        if naive_wanted:
            ids += [f"{case}-damping-naive-fwd", f"{case}-damping-naive-fb"]
    return ids


def spawn(mid: str, args: argparse.Namespace) -> dict:
    """Run one measurement in a fresh process; return its JSON record."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", mid]
    if args.quick:
        cmd.append("--quick")
    if args.repeats is not None:
        cmd += ["--repeats", str(args.repeats)]
    if mid.endswith("naive-fb"):
        size = (QUICK if args.quick else FULL)[mid[:2]]
        need = (size.steps * size.batch * (size.shape[0] + 2) * (size.shape[1] + 2) * 4
                * NAIVE_FIELDS_PER_STEP / MIB)
        avail = mem_available_mib()
        if avail < need + NAIVE_HEADROOM_MIB:
            return {"measure": mid, "skipped": f"needs ~{need:.0f} MiB + {NAIVE_HEADROOM_MIB} MiB "
                    f"headroom, {avail:.0f} MiB available"}
    env = dict(os.environ)
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout,
                              check=False, env=env)
    except subprocess.TimeoutExpired:
        return {"measure": mid, "error": f"timed out after {args.timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"measure": mid, "error": f"exit status {proc.returncode}",
                "stdout_tail": proc.stdout[-500:]}
    return json.loads(lines[-1])


def ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or "seconds" not in a or "seconds" not in b:
        return None
    return round(b["seconds"] / a["seconds"], 3)


def bound_for(bandwidth: dict | None, batch: int) -> float | None:
    """In-cache forward bound for the threads a numba run can use (one per batch item)."""
    if not bandwidth or "threads" not in bandwidth:
        return None
    key = "all_threads" if batch > 1 and bandwidth["threads"] > 1 else "1_thread"
    return bandwidth[f"forward_bound_cache_{key}_cell_updates_per_s"]


def compare(case: str, boundary: str, res: dict[str, dict], bandwidth: dict | None,
            quick: bool) -> list[dict]:
    """The comparison lines of one case: wavefab vs naive, and the P2 memory target."""
    lines = []
    naive_boundary = "damping"
    p = f"{case}-{boundary}"
    n = f"{case}-{naive_boundary}-naive"
    targets = {"forward": TARGET_P1_FORWARD_RATIO, "forward+backward": TARGET_P1_FB_RATIO}
    row: dict = {"compare": "wavefab_vs_naive", "case": case.upper(), "boundary": boundary,
                 "naive_boundary": naive_boundary, "backend": "numba"}
    have = False
    modes = (("forward", "fwd", ""), ("forward+backward", "fb", "-ckptauto"),
             ("forward+backward checkpoint_every=0", "fb", "-ckpt0"))
    for mode, suffix, ckpt in modes:
        wf = res.get(f"{p}-numba-{suffix}{ckpt}")
        nv = res.get(f"{n}-{suffix}")
        r = ratio(wf, nv)
        entry: dict = {
            "wavefab_cell_updates_per_s": wf.get("cell_updates_per_s") if wf else None,
            "naive_cell_updates_per_s": nv.get("cell_updates_per_s") if nv else None,
            "wavefab_seconds": wf.get("seconds") if wf else None,
            "naive_seconds": nv.get("seconds") if nv else None,
            "ratio": r,
        }
        if wf and nv and "peak_rss_mib" in wf and "peak_rss_mib" in nv:
            entry["wavefab_peak_rss_mib"] = wf["peak_rss_mib"]
            entry["naive_peak_rss_mib"] = nv["peak_rss_mib"]
        if case == "p1" and boundary == "damping" and mode in targets:
            entry["target_ratio"] = targets[mode]
            entry["meets_target"] = None if r is None else r >= targets[mode]
        if mode == "forward" and wf and "cell_updates_per_s" in wf:
            bound = bound_for(bandwidth, wf["batch"])
            if bound:
                entry["in_cache_bound_cell_updates_per_s"] = bound
                entry["fraction_of_bound"] = round(wf["cell_updates_per_s"] / bound, 3)
        have = have or r is not None
        row[mode] = entry
    if boundary != naive_boundary:
        row["note"] = "naive reference has the damping layer only; compared against it"
    if quick:
        row["quick"] = True
    if have and MEDIA[boundary] == "scalar":
        lines.append(row)

    if boundary == "pml":
        dw_row: dict = {"compare": "wavefab_vs_deepwave", "case": case.upper(),
                        "boundary": "pml (CPML both)", "backend": "numba"}
        for mode, suffix, ckpt in (("forward", "fwd", ""), ("forward+backward", "fb",
                                                            "-ckptauto")):
            wf, dw = res.get(f"{p}-numba-{suffix}{ckpt}"), res.get(f"{p}-deepwave-{suffix}")
            dw_row[mode] = {
                "wavefab_cell_updates_per_s": wf.get("cell_updates_per_s") if wf else None,
                "deepwave_cell_updates_per_s": dw.get("cell_updates_per_s") if dw else None,
                "ratio": ratio(wf, dw),
            }
        if any(dw_row[m]["ratio"] is not None for m in ("forward", "forward+backward")):
            lines.append(dw_row)

    if boundary != "damping" and case == "p1":
        base = f"{case}-damping-numba"
        vs: dict = {"compare": "medium_vs_scalar_damping", "case": case.upper(),
                    "medium": boundary, "backend": "numba"}
        for mode, suffix, ckpt in (("forward", "fwd", ""), ("forward+backward", "fb",
                                                            "-ckptauto")):
            r = ratio(res.get(f"{base}-{suffix}{ckpt}"), res.get(f"{p}-numba-{suffix}{ckpt}"))
            entry = {"ratio": None if r is None else round(1 / r, 3)}
            target = TARGET_VS_SCALAR_DAMPING.get(boundary)
            if target is not None and mode == "forward+backward":
                entry["target_ratio"] = target
                entry["meets_target"] = None if r is None else 1 / r >= target
            vs[mode] = entry
        if any(vs[m]["ratio"] is not None for m in ("forward", "forward+backward")):
            lines.append(vs)

    if case == "p2":
        ck, st = res.get(f"{p}-numba-fb-ckptauto"), res.get(f"{p}-numba-fb-ckpt0")
        if ck and st and "seconds" in ck and "seconds" in st:
            time_ratio = round(ck["seconds"] / st["seconds"], 3)
            mem_ok = ck["peak_rss_mib"] <= TARGET_P2_PEAK_RSS_MIB
            time_ok = time_ratio <= TARGET_P2_CKPT_TIME_RATIO
            target = {
                "compare": "p2_memory_target", "case": "P2", "boundary": boundary,
                "backend": "numba", "segments": ck.get("segments"),
                "checkpointed_peak_rss_mib": ck["peak_rss_mib"],
                "checkpointed_seconds": ck["seconds"],
                "store_all_peak_rss_mib": st["peak_rss_mib"], "store_all_seconds": st["seconds"],
                "rss_after_imports_mib": ck.get("rss_after_imports_mib"),
                "target_peak_rss_mib": TARGET_P2_PEAK_RSS_MIB, "meets_memory_target": mem_ok,
                "time_ratio_vs_store_all": time_ratio,
                "target_time_ratio": TARGET_P2_CKPT_TIME_RATIO, "meets_time_target": time_ok,
                "meets_target": mem_ok and time_ok,
            }
            if quick:
                target["quick"] = True
            lines.append(target)
    return lines


def drive(args: argparse.Namespace) -> None:
    groups = [g.strip() for g in args.cases.split(",") if g.strip()] if args.cases else list(GROUPS)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; choose from {', '.join(GROUPS)}")
    backends = [b.strip() for b in args.backends.split(",")] if args.backends else None
    if backends and not set(backends) <= {"numba", "torch"}:
        raise SystemExit("--backends takes numba and/or torch")
    # The P1 comparisons need the P1 damping-layer runs (the naive reference, the scalar rate).
    if any(g.startswith("p1-") for g in groups) and "p1-damping" not in groups:
        groups = ["p1-damping", *groups]
    emit({"benchmark": "wavefab.solver", "quick": args.quick, "cpus": os.cpu_count(),
          "torch": torch.__version__, "numba": nb.__version__,
          "OMP_WAIT_POLICY": args.omp_wait_policy or os.environ.get("OMP_WAIT_POLICY"),
          "loadavg_1min": load_average(), "mem_available_mib": round(mem_available_mib())})
    res: dict[str, dict] = {}
    bandwidth = None
    for group in groups:
        for mid in plan([group], backends, args.skip_naive_p2):
            if mid in res:
                continue
            res[mid] = spawn(mid, args)
            emit(res[mid])
        if group == "bandwidth":
            bandwidth = res.get("bandwidth")
    for group in groups:
        if group != "bandwidth":
            for line in compare(*group.split("-"), res, bandwidth, args.quick):
                emit(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Benchmark wavefab.solver.propagate against a naive autograd reference; "
                    "prints one JSON line per measurement and per comparison.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 2 repeats: a smoke test of the script")
    parser.add_argument("--cases", help=f"comma-separated subset of {', '.join(GROUPS)}")
    parser.add_argument("--backends", help="wavefab backends to time (numba,torch); default: "
                        "numba and torch at P1, numba at P2")
    parser.add_argument("--skip-naive-p2", action="store_true",
                        help="skip the naive reference at P2 (slow, ~GiBs of memory)")
    parser.add_argument("--repeats", type=int, help="timed repeats after the warm-up run")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds allowed per measurement subprocess")
    parser.add_argument("--omp-wait-policy", choices=("passive", "active"),
                        help="set OMP_WAIT_POLICY for the measurement processes (torch and "
                             "numba both run OpenMP thread pools; see bench/README.md)")
    parser.add_argument("--measure", metavar="ID",
                        help="run one measurement in this process: 'bandwidth' or "
                             "{p1|p2}-{damping|pml}-{numba|torch|naive|deepwave}-{fwd|fb}"
                             "[-ckpt{auto|0|k}] (naive: damping only; deepwave: pml only)")
    args = parser.parse_args(argv)
    if args.measure == "bandwidth":
        emit(run_bandwidth(args.quick))
    elif args.measure:
        emit(run_measure(Measure.parse(args.measure), args.quick, args.repeats))
    else:
        drive(args)


if __name__ == "__main__":
    main()
