"""``wavefab gui``: open the desktop designer (or render it to a PNG and quit)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``gui`` and its options to the subcommands."""
    parser = sub.add_parser("gui", help="open the desktop designer")
    parser.add_argument("project", nargs="?", type=Path,
                        help="project folder, results folder of `wavefab run`, sweep folder "
                        "of `wavefab sweep`, or config YAML")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="render the window to a PNG and quit")
    parser.add_argument("--demo", action="store_true",
                        help="open a finished demo project (runs `wavefab demo` unless PROJECT "
                        "is given)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Open the window; returns its exit code."""
    from wavefab.app.gui import launch

    return launch(args.project, screenshot=args.screenshot, demo=args.demo)
