"""The ``wavefab`` command line.

Exit codes: 0 ok, 1 the run failed, 2 bad usage or unreadable input. User errors print one line,
no traceback. Heavy modules (torch, numba) are imported only by the subcommand that needs them,
so ``--help`` and ``--version`` are instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wavefab")
    except PackageNotFoundError:
        return "unknown"


def _cmd_demo(args: argparse.Namespace) -> int:
    from wavefab.designkit.demo import lens_demo

    result = lens_demo(args.out, size=args.size, steps=args.steps)
    print(f"wrote {result.figure} ({result.steps} steps in {result.seconds:.2f} s; "
          f"focus gain {result.focus_gain:.2f}x)")
    return 0


def _format_metrics(metrics: dict, keys: tuple[str, ...] = ()) -> str:
    """``name value`` pairs of the scalar metrics (all of them when ``keys`` is empty)."""
    names = keys or tuple(k for k, v in metrics.items() if isinstance(v, float))
    return ", ".join(f"{k.replace('_', ' ')} {metrics[k]:.3f}" for k in names if k in metrics)


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from wavefab.designkit.config import load_config
    from wavefab.designkit.optimize import BatchEnd, EpochEnd, RunEnd, RunStart
    from wavefab.designkit.run import run

    if args.threads is not None:
        import torch

        from wavefab.solver import set_num_threads

        set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    config = load_config(args.config, args.set or [])
    out = args.out or f"results/{args.config.stem}"
    folds = epochs = total = 1
    start = time.perf_counter()
    done = 0
    running: list[float] = []  # losses of the epoch so far
    tty = sys.stderr.isatty()
    shown = ("loss", "train_accuracy", "test_accuracy", "focus_gain", "gray_level")
    for event in run(config, out, data_dir=args.data, resume=args.resume, device=args.device):
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
            figures = _format_metrics({"loss": event.loss, **event.metrics}, shown)
            print(("\r" if tty else "") + f"fold {event.fold + 1}/{folds} epoch "
                  f"{event.epoch + 1}/{epochs}: {figures} ({event.seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        elif isinstance(event, RunEnd):
            m = event.metrics
            scalars = {k: v for k, v in m.items() if isinstance(v, float) and k != "loss"}
            mean = f" (mean of {folds} folds)" if folds > 1 else ""
            print(f"{_format_metrics(scalars)}{mean}; results in {out}")
            if "drc_pass" in m:
                print("design-rule check of the final design(s): "
                      + ("PASS" if m["drc_pass"] else f"FAIL (see {out}/drc.png)"))
    return 0


def _cmd_drc(args: argparse.Namespace) -> int:
    import numpy as np

    from wavefab.designkit.errors import DesignValueError
    from wavefab.designkit.processes import get_process, parse_length
    from wavefab.designkit.results import write_drc

    folder = args.result
    design_path = folder / "design.npz"
    if not design_path.exists():
        raise DesignValueError(f"{folder} holds no design.npz; give a results folder of "
                               "`wavefab run`")
    try:
        with np.load(design_path, allow_pickle=False) as design:
            arrays = {k: design[k] for k in design.files}
    except (OSError, ValueError) as exc:
        raise DesignValueError(f"{design_path} is unreadable: {exc}") from None
    if "binary" in arrays:
        binary = arrays["binary"].astype(bool)
    elif "density" in arrays:
        binary = arrays["density"] > 0.5
    else:
        raise DesignValueError(f"{design_path} has neither 'binary' nor 'density'")
    region = arrays.get("region", np.ones(binary.shape, bool)).astype(bool)
    pitch = parse_length(args.pitch, "--pitch") if args.pitch else None
    solid = void = None
    if args.min_feature_cells is not None:
        solid = void = args.min_feature_cells
    elif args.min_feature is not None or args.process is not None:
        if pitch is None:
            raise DesignValueError("--pitch (the size of one cell, e.g. 50nm) is needed to "
                                   "turn a physical rule into cells")
        if args.min_feature is not None:
            solid = void = int(np.ceil(parse_length(args.min_feature, "--min-feature") / pitch
                                       - 1e-9))
        else:
            proc = get_process(args.process)
            solid = int(np.ceil(proc.min_width / pitch - 1e-9))
            void = int(np.ceil(proc.min_space / pitch - 1e-9))
    else:
        solid = int(arrays.get("min_solid_cells", arrays.get("min_feature_cells", 0)))
        void = int(arrays.get("min_void_cells", arrays.get("min_feature_cells", 0)))
    paths = write_drc(folder, binary, region, max(solid, 1), max(void, 1), pitch=pitch)
    import json

    report = json.loads(paths["drc"].read_text())
    measured = (f"measured min solid {report['min_solid_cells']} / void "
                f"{report['min_void_cells']} cells (null: above {2 * max(solid, void, 1)})")
    verdict = "PASS" if report["pass"] else f"FAIL ({len(report['violations'])} violations)"
    print(f"DRC {verdict}: rule solid {max(solid, 1)} / void {max(void, 1)} cells; {measured}; "
          f"{report['islands']} islands, {report['enclosed_voids']} enclosed voids")
    for v in report["violations"][:20]:
        print(f"  {v['kind']:<15} at row {v['row']:.1f}, col {v['col']:.1f}: {v['cells']} cells, "
              f"size {v['size_cells']}")
    if len(report["violations"]) > 20:
        print(f"  … and {len(report['violations']) - 20} more (see {paths['drc']})")
    print(f"wrote {paths['drc']} and {paths['drc_png']}")
    return 0 if report["pass"] else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wavefab`` command."""
    parser = argparse.ArgumentParser(
        prog="wavefab",
        description="Train wave media that compute, then fabricate them.",
    )
    parser.add_argument("--version", action="version", version=f"wavefab {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="simulate a pulse through a lens and write field.png")
    demo.add_argument("--out", default="wavefab-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--size", type=int, default=200, help="grid size in cells")
    demo.add_argument("--steps", type=int, default=540, help="number of time steps")
    demo.set_defaults(func=_cmd_demo)

    from pathlib import Path

    runp = sub.add_parser("run", help="train a design from a YAML configuration")
    runp.add_argument("config", type=Path, help="YAML run configuration (see assets/examples)")
    runp.add_argument("--data", help="folder of [m|w]NN<vowel>.wav recordings (default: the "
                      "config's, else built-in synthetic vowels)")
    runp.add_argument("--out", help="results folder (default: results/<config name>)")
    runp.add_argument("--resume", action="store_true",
                      help="continue a killed run from its checkpoint in the results folder")
    runp.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    runp.add_argument("--threads", type=int, help="CPU threads (default: chosen per machine)")
    runp.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="override a config value by dotted path, e.g. training.seed=3")
    runp.set_defaults(func=_cmd_run)

    drcp = sub.add_parser("drc", help="design-rule check of a results folder (exit 1 on failure)")
    drcp.add_argument("result", type=Path, help="results folder of `wavefab run`")
    drcp.add_argument("--min-feature-cells", type=int, help="rule in cells (default: the run's)")
    drcp.add_argument("--min-feature", help="rule as a length, e.g. 0.8mm (needs --pitch)")
    drcp.add_argument("--process", help="take the rules of a process preset (needs --pitch)")
    drcp.add_argument("--pitch", help="physical size of one cell, e.g. 50nm")
    drcp.set_defaults(func=_cmd_drc)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("wavefab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Imported here, not at the top, so that --help never loads torch.
        from wavefab.designkit.errors import DesignError
        from wavefab.solver.errors import SolverError, StabilityError

        if isinstance(exc, StabilityError):  # the run failed (or cannot run stably)
            print(f"wavefab {args.command}: run failed: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, (SolverError, DesignError, OSError)):
            print(f"wavefab {args.command}: error: {exc}", file=sys.stderr)
            return 2
        raise  # a bug: keep the traceback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
