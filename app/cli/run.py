"""``wavefab run``: train a design from a YAML configuration, with progress and an ETA."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._common import format_metrics

#: The figures shown after every epoch, when the problem has them.
SHOWN = ("loss", "train_accuracy", "test_accuracy", "focus_gain", "gray_level")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``run`` and its options to the subcommands."""
    parser = sub.add_parser("run", help="train a design from a YAML configuration")
    parser.add_argument("config", type=Path, help="YAML run configuration (see assets/examples)")
    parser.add_argument("--data", help="folder of [m|w]NN<vowel>.wav recordings (default: the "
                        "config's, else built-in synthetic vowels)")
    parser.add_argument("--out", help="results folder (default: results/<config name>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from its checkpoint in the results folder")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, help="CPU threads (default: chosen per machine)")
    parser.add_argument("--allow-long", action="store_true",
                        help="run even when the estimate is above an hour")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a config value by dotted path, e.g. training.seed=3")
    return parser


def run(args: argparse.Namespace) -> int:
    """Train; one line per epoch on stderr (a live batch line on a terminal), the summary last."""
    from wavefab.designkit.config import load_config
    from wavefab.designkit.optimize.events import BatchEnd, EpochEnd, RunEnd, RunStart
    from wavefab.designkit.run import run as run_config

    if args.threads is not None:
        from wavefab.solver import set_num_threads

        set_num_threads(args.threads)  # torch's and the kernels' threads
    config = load_config(args.config, args.set or [])
    out = args.out or f"results/{args.config.stem}"
    folds = epochs = total = 1
    start = time.perf_counter()
    done = 0
    running: list[float] = []  # losses of the epoch so far
    tty = sys.stderr.isatty()
    def show(cost) -> None:
        print(f"estimate: {cost.describe()}", file=sys.stderr, flush=True)

    for event in run_config(config, out, data_dir=args.data, resume=args.resume,
                            device=args.device, allow_long=args.allow_long, on_cost=show):
        if isinstance(event, RunStart):
            folds, epochs = event.folds, event.epochs
            total = folds * epochs - (event.first_fold * epochs + event.first_epoch)
            if event.first_fold or event.first_epoch:
                print(f"resuming at fold {event.first_fold + 1} epoch {event.first_epoch + 1}",
                      file=sys.stderr)
        elif isinstance(event, BatchEnd):
            running = [*running, event.loss] if event.batch else [event.loss]
            if tty:
                fraction = (done + (event.batch + 1) / event.batches) / max(total, 1)
                elapsed = time.perf_counter() - start
                eta = elapsed / fraction * (1 - fraction) if fraction > 0 else 0
                print(f"\rfold {event.fold + 1}/{folds} epoch {event.epoch + 1}/{epochs} "
                      f"batch {event.batch + 1}/{event.batches} running loss "
                      f"{sum(running) / len(running):.3f} ETA {eta:.0f} s   ", end="",
                      file=sys.stderr, flush=True)
        elif isinstance(event, EpochEnd):
            done += 1
            figures = format_metrics({"loss": event.loss, **event.metrics}, SHOWN)
            print(("\r" if tty else "") + f"fold {event.fold + 1}/{folds} epoch "
                  f"{event.epoch + 1}/{epochs}: {figures} ({event.seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        elif isinstance(event, RunEnd):
            m = event.metrics
            scalars = {k: v for k, v in m.items() if isinstance(v, float) and k != "loss"}
            mean = f" (mean of {folds} folds)" if folds > 1 else ""
            print(f"{format_metrics(scalars)}{mean}; results in {out}")
            if "drc_pass" in m:
                print("design-rule check of the final design(s): "
                      + ("PASS" if m["drc_pass"] else f"FAIL (see {out}/drc.png)"))
    return 0
