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
