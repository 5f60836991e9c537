"""``wavefab scale``: a design's physical size, band and playback speed at a pitch, or back."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import length, write_report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``scale`` and its options to the subcommands."""
    parser = sub.add_parser("scale", help="physical size, band and playback speed of a design at "
                            "a pitch, or the pitch that serves a band")
    parser.add_argument("config", type=Path,
                        help="run configuration YAML (or a results folder's)")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--pitch", help="cell size, e.g. 0.5mm (default: fabrication.pitch)")
    choice.add_argument("--frequency", help="the highest frequency to serve, e.g. 20kHz: "
                        "picks the pitch with 10 cells per wavelength")
    parser.add_argument("--process", help="process preset whose rules and medium apply")
    parser.add_argument("--wave-speed", type=float,
                        help="the medium's speed in m/s (air: 343)")
    parser.add_argument("--data", help="recordings folder (vowel problems)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a setting")
    parser.add_argument("--report", type=Path, help="also write the report as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the scale report (and write it as JSON when asked)."""
    from wavefab.designkit.config import load_config
    from wavefab.designkit.scale import describe_scale, scale_of
    from wavefab.designkit.units import parse_frequency

    config = load_config(args.config, args.set or [])
    frequency = (parse_frequency(args.frequency, "--frequency")
                 if args.frequency is not None else None)
    report = scale_of(config, pitch=length(args.pitch, "--pitch"), frequency=frequency,
                      process=args.process, wave_speed=args.wave_speed, data_dir=args.data)
    print(describe_scale(report))
    write_report(args.report, report)
    return 0
