"""Throughput of P1 forward+backward on a quiet and on a busy machine, per OpenMP wait policy.

Run from the project root::

    python bench/threads.py               # 2 busy processes, best of 4 per measurement
    python bench/threads.py --busy 4 --repeats 6

Each measurement is ``bench/solver.py --measure p1-damping-numba-fb-ckptauto`` in a fresh
process (OpenMP reads its wait policy once, when torch loads), run first on the quiet machine
and then while ``--busy`` other processes spin on the CPUs (pure-Python loops, as a sweep's
other workers or a neighbour's job would). Policies:

* ``OpenMP default``: nothing set (threads spin for a while before they sleep): what a script
  that uses the Python API gets.
* ``PASSIVE``: ``OMP_WAIT_POLICY=PASSIVE``, what the CLI and the GUI set, and the reference of
  the speed issue.

The table gives cell-updates/s and each busy figure as a ratio of the busy ``PASSIVE`` one.
Busy figures vary from run to run with the scheduler; compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURE = "p1-damping-numba-fb-ckptauto"

#: policy → environment changes (None: removed)
POLICIES = {
    "OpenMP default": {"OMP_WAIT_POLICY": None},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
}


def measure(policy: str, repeats: int, timeout: float) -> dict:
    """One measurement in a fresh process under ``policy``; its JSON record."""
    changes = POLICIES[policy]
    env = {k: v for k, v in os.environ.items() if k not in changes}
    env.update({k: v for k, v in changes.items() if v is not None})
    cmd = [sys.executable, str(HERE / "solver.py"), "--measure", MEASURE, "--repeats",
           str(repeats)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def spinners(count: int) -> list[subprocess.Popen]:
    """``count`` processes that keep one CPU each busy until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=2, help="spinning processes (default 2)")
    parser.add_argument("--repeats", type=int, default=4, help="timed repeats per measurement")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    figures: dict[tuple[str, str], float] = {}
    start = time.perf_counter()
    total = 2 * len(POLICIES)
    for phase in ("quiet", "busy"):
        busy = spinners(args.busy) if phase == "busy" else []
        try:
            time.sleep(1.0 if busy else 0.0)
            for policy in POLICIES:
                record = measure(policy, args.repeats, args.timeout)
                done = len(figures) + 1
                rate = record.get("cell_updates_per_s", float("nan"))
                figures[(phase, policy)] = rate
                elapsed = time.perf_counter() - start
                print(f"[{done}/{total}, {elapsed:.0f} s] {phase:5s} {policy:14s} "
                      f"{rate:.3g} cell-updates/s {record.get('error', '')}",
                      file=sys.stderr, flush=True)
        finally:
            for proc in busy:
                proc.kill()
                proc.wait()

    reference = figures[("busy", "PASSIVE")]
    print(f"\nP1 140x140, batch 9, 1000 steps, float32, forward+backward; {os.cpu_count()} CPUs, "
          f"{args.busy} busy processes, best of {args.repeats}")
    print(f"{'policy':14s} {'quiet':>12s} {'busy':>12s} {'busy / PASSIVE busy':>20s}")
    for policy in POLICIES:
        quiet, busy = figures[("quiet", policy)], figures[("busy", policy)]
        print(f"{policy:14s} {quiet:12.3g} {busy:12.3g} {busy / reference:20.2f}")


if __name__ == "__main__":
    main()
