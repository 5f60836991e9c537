"""The ``wavefab`` command line: one module per subcommand, each a few lines around designkit.

Exit codes: 0 ok, 1 the run failed or design-rule violations were found, 2 bad usage or
unreadable input. User errors print one line, no traceback. Heavy modules (torch, numba) are
imported only by the subcommand that runs, so ``--help`` and ``--version`` are instant.

Each subcommand module has ``add_parser(sub)`` (its arguments) and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import demo, drc, export, gui, run, scale, sweep, verify

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: Exit codes.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = (demo, run, sweep, drc, export, verify, scale, gui)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wavefab`` command."""
    parser = argparse.ArgumentParser(
        prog="wavefab",
        description="Train wave media that compute, then fabricate them.",
    )
    from wavefab.designkit.files import wavefab_version

    parser.add_argument("--version", action="version", version=f"wavefab {wavefab_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
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
            return EXIT_FAILED
        if isinstance(exc, (SolverError, DesignError, OSError)):
            print(f"wavefab {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise  # a bug: keep the traceback
