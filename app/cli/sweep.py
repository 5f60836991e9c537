"""``wavefab sweep``: run many configurations of one base, locally or on Dask, resumably."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sweep`` and its options to the subcommands."""
    parser = sub.add_parser("sweep", help="run a sweep file's points (grid, random, optuna)")
    parser.add_argument("sweep", type=Path, help="YAML sweep file (see assets/examples/sweep_*)")
    parser.add_argument("--out", type=Path, help="sweep folder (default: results/<sweep name>)")
    parser.add_argument("--workers", type=int,
                        help="points run at once (default: 2 local processes; with --executor "
                        "dask, the cluster's worker processes)")
    parser.add_argument("--threads-per-worker", type=int, default=1,
                        help="threads for each point's torch and solver pools (default 1)")
    parser.add_argument("--executor", choices=["local", "dask"], default="local",
                        help="local process pool (default) or Dask")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --executor dask: a running scheduler, e.g. tcp://host:8786 "
                        "(default: a LocalCluster, or the sweep file's cluster: section)")
    parser.add_argument("--resume", action="store_true",
                        help="continue interrupted points from their checkpoints")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and list the points; run nothing")
    parser.add_argument("--data", help="folder of [m|w]NN<vowel>.wav recordings for every point")
    return parser


def _figure(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _print_job_script(cluster: dict[str, Any]) -> None:
    """The script each job of the ``cluster:`` section would submit (nothing is submitted)."""
    from wavefab.designkit.sweep.executors import jobqueue_cluster
    from wavefab.designkit.sweep.spec import SweepError

    try:
        made = jobqueue_cluster(cluster)
    except SweepError as exc:  # no extra here: the points were still worth listing
        print(f"{cluster['kind']} job script: not shown ({exc})")
        return
    try:
        script = made.job_script()
    finally:
        made.close()
    print(f"each {cluster['kind']} job (with --executor dask) would run:")
    print(script.rstrip())


def run(args: argparse.Namespace) -> int:
    """Validate every point, then run them with one progress line per finished point."""
    from wavefab.designkit.sweep.engine import PointEnd, PointStart, SweepEnd, SweepStart, sweep
    from wavefab.designkit.sweep.spec import SweepError, load_sweep, space_label

    spec = load_sweep(args.sweep)
    if (args.workers is not None and args.workers < 1) or args.threads_per_worker < 1:
        raise SweepError("--workers and --threads-per-worker must be positive integers")
    if args.scheduler and args.executor != "dask":
        raise SweepError("--scheduler needs --executor dask")
    out = args.out or Path("results") / args.sweep.stem
    if spec.strategy == "optuna":
        spec.check_space()
        points = []
    else:
        points = spec.points()  # every point validates before anything runs
    if args.dry_run:
        if points:
            for p in points:
                print(f"{p.index + 1:4d}  {p.id}  {p.label()}")
            print(f"{len(points)} points, ranked by {spec.metric} ({spec.direction}); "
                  f"results in {out}/points/<id>")
        else:
            print(f"optuna: {spec.optuna['trials']} trials ({spec.optuna['sampler']} sampler), "
                  f"{spec.direction} {spec.metric} over:")
            for key, span in space_label(spec).items():
                print(f"  {key}: {span}")
        if spec.cluster is not None:
            _print_job_script(spec.cluster)
        return 0

    executor, session = None, None
    if args.executor == "dask":
        from wavefab.designkit.sweep.executors import start_dask

        session = start_dask(scheduler=args.scheduler, workers=args.workers or 2,
                             threads_per_worker=args.threads_per_worker, cluster=spec.cluster)
        executor = session.executor
        print(f"dask dashboard: {session.dashboard}", file=sys.stderr, flush=True)
    threads = session.threads if session is not None else args.threads_per_worker
    workers = args.workers or (session.slots if session is not None else 2)
    start = time.perf_counter()
    total = done_now = 0
    ran: list[float] = []
    try:
        for event in sweep(spec, out, executor=executor, workers=workers,
                           threads_per_worker=threads, resume=args.resume, data_dir=args.data):
            if isinstance(event, SweepStart):
                total = event.total
                extra = f", {event.resumed} resumed" if event.resumed else ""
                print(f"sweep {args.sweep.name}: {event.total} points, {event.skipped} already "
                      f"done (skipped){extra}; {workers} workers × {threads} threads; "
                      f"results in {out}", file=sys.stderr, flush=True)
                done_now = event.skipped
            elif isinstance(event, PointStart):
                state = "resumed" if event.resumed else "started"
                print(f"  point {event.id} {state}: {_label(event.overrides)}",
                      file=sys.stderr, flush=True)
            elif isinstance(event, PointEnd):
                done_now += 1
                ran.append(event.seconds)
                elapsed = time.perf_counter() - start
                left = total - done_now
                eta = elapsed / len(ran) * left if ran else 0.0
                figure = event.metrics.get(spec.metric)
                what = (f"{spec.metric} {_figure(figure)}" if event.status == "done"
                        else f"FAILED: {event.reason}")
                best = ""
                if event.best is not None:
                    best = (f"; best {event.best['id']} "
                            f"{_figure(event.best['metrics'][spec.metric])}")
                print(f"[{event.done} done, {event.running} running, {event.failed} failed of "
                      f"{event.total}] point {event.id} in {_duration(event.seconds)}: {what}"
                      f"{best}; elapsed {_duration(elapsed)}, ETA {_duration(eta)}",
                      file=sys.stderr, flush=True)
            elif isinstance(event, SweepEnd):
                print(f"{event.done} of {event.total} points done ({event.skipped} skipped, "
                      f"finished before), {event.failed} failed; summary in {out}/summary.md")
                if event.best is not None:
                    print(f"best: {event.best['id']} {_label(event.best['overrides'])}: "
                          f"{spec.metric} {_figure(event.best['metrics'][spec.metric])}")
                return 1 if event.failed else 0
    finally:
        if session is not None:
            session.close()
    return 0


def _label(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "(base)"
