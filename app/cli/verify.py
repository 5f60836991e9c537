"""``wavefab verify``: re-simulate an exported file and compare it with the design."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import layer, length, write_report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``verify`` and its options to the subcommands."""
    parser = sub.add_parser("verify", help="re-simulate an exported file and compare with the "
                            "design")
    parser.add_argument("result", type=Path, help="results folder of `wavefab run`")
    parser.add_argument("file", type=Path, help="GDS, OASIS, STL, 3MF, OBJ or DXF file")
    parser.add_argument("--data", help="recordings folder (vowel problems; default: the run's)")
    parser.add_argument("--pitch", help="cell size the file was exported at (default: the "
                        "run's, else the one the file records)")
    parser.add_argument("--layer", help="layout LAYER/DATATYPE (default: the one the file names)")
    parser.add_argument("--section-z", help="meshes: height of the cut above the lowest point "
                        "(default: mid-height of the walls)")
    parser.add_argument("--physics", choices=["scalar", "acoustic"],
                        help="re-simulate in this wave model instead of the run's (e.g. a "
                        "speed-only design as a printed rigid part)")
    parser.add_argument("--refine", type=int, default=1, metavar="K",
                        help="simulate on a grid K times finer in space and time (K³ the cost): "
                        "do the figures hold with less numerical dispersion?")
    parser.add_argument("--report", type=Path, help="also write the comparison as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    """Re-simulate and print the design's and the file's metrics side by side."""
    from wavefab.designkit.verify import describe, verify

    result = verify(args.result, args.file, data_dir=args.data,
                    pitch=length(args.pitch, "--pitch"), layer=layer(args.layer),
                    section_z=length(args.section_z, "--section-z"), physics=args.physics,
                    refine=args.refine)
    print(describe(result))
    if write_report(args.report, result.to_dict()):
        print(f"wrote {args.report}")
    return 0
