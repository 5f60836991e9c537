"""``wavefab demo``: optimize a printable lens, check it, write GDS, STL and previews."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import format_metrics


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``demo`` and its options to the subcommands."""
    parser = sub.add_parser("demo", help="optimize a printable lens, check it, write GDS, STL "
                            "and previews")
    parser.add_argument("--out", type=Path, default=Path("wavefab-demo"),
                        help="output folder (default: %(default)s)")
    parser.add_argument("--epochs", type=int,
                        help="fewer epochs than the built-in 14 (quick look)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the demo; prints every epoch and the files written."""
    from wavefab.designkit.demo import fabrication_demo
    from wavefab.designkit.optimize.events import EpochEnd, RunStart

    def show(event: object) -> None:
        if isinstance(event, RunStart):
            print(f"optimizing the SLA lens ({event.epochs} epochs, about 1-2 min) ...",
                  flush=True)
        elif isinstance(event, EpochEnd):
            print(f"  epoch {event.epoch + 1}: {format_metrics(event.metrics)}", flush=True)

    demo = fabrication_demo(args.out, epochs=args.epochs, on_event=show)
    m = demo.metrics
    print(f"binary design: focus gain {m.get('binary_focus_gain', float('nan')):.2f}x the "
          f"unpatterned medium; DRC {'PASS' if demo.drc_pass else 'FAIL'}")
    print(f"wrote {demo.result_dir}/ (results: metrics, design, DRC report, plots)")
    for path in demo.files.values():
        print(f"wrote {path}")
    print(f"done in {demo.seconds:.0f} s")
    return 0
