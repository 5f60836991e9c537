"""``wavefab drc``: design-rule check of a results folder or an exported file (exit 1: fails)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import layer, length


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``drc`` and its options to the subcommands."""
    parser = sub.add_parser("drc", help="design-rule check of a results folder or an exported "
                            "file (exit 1 on failure)")
    parser.add_argument("result", type=Path, metavar="FILE_OR_RESULT",
                        help="results folder of `wavefab run`, or a GDS/OASIS/STL/3MF/OBJ/DXF "
                        "file")
    parser.add_argument("--layer", help="layout LAYER/DATATYPE (default: the one the file names)")
    parser.add_argument("--min-feature-cells", type=int,
                        help="rule in cells (default: the run's)")
    parser.add_argument("--min-feature", help="rule as a length, e.g. 0.8mm (needs --pitch)")
    parser.add_argument("--process", help="take the rules of a process preset (needs --pitch)")
    parser.add_argument("--pitch", help="physical size of one cell, e.g. 50nm (files: the cell "
                        "size to rasterize at; default: the one the file records)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Check, print the verdict and the violations; 1 when the design fails."""
    from wavefab.designkit.check import check_rules, describe

    check = check_rules(args.result, pitch=length(args.pitch, "--pitch"),
                        layer=layer(args.layer), min_feature_cells=args.min_feature_cells,
                        min_feature=length(args.min_feature, "--min-feature"),
                        process=args.process)
    print(describe(check))
    return 0 if check.passed else 1
