"""The ``wavefab`` command line: one module per subcommand, each a few lines around designkit.

Exit codes: 0 ok, 1 the run failed or design-rule violations were found, 2 bad usage or
unreadable input. User errors print one line, no traceback. Heavy modules (torch, numba) are
imported only by the subcommand that runs, so ``--help`` and ``--version`` are instant.

Each subcommand module has ``add_parser(sub)`` (its arguments) and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import errno
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
        if isinstance(exc, (SolverError, DesignError)):
            print(f"wavefab {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, OSError):
            print(f"wavefab {args.command}: error: {os_error_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        raise  # a bug: keep the traceback


#: What to do about the file-system errors a user meets, by errno.
_OS_FIXES = {
    errno.ENOSPC: "free space there or choose a folder on another disk",
    errno.EDQUOT: "free space within your quota or choose a folder on another disk",
    errno.EROFS: "the file system is read-only; choose a writable folder",
    errno.EACCES: "you may not write or read there; choose another folder or fix its permissions",
    errno.EPERM: "you may not write or read there; choose another folder or fix its permissions",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "it is a folder; name a file",
    errno.EEXIST: "a file is in the way of a folder; choose another path or move the file",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.EMFILE: "too many open files; raise 'ulimit -n' or run fewer jobs at once",
}


def os_error_line(exc: OSError) -> str:
    """One line for a file-system error: what failed, on which path, and what to do."""
    what = (exc.strerror or str(exc)).rstrip(".")
    what = what[:1].lower() + what[1:]
    where = "".join(f" {name!r}" for name in (exc.filename, exc.filename2) if name)
    fix = _OS_FIXES.get(exc.errno) if exc.errno is not None else None
    if not where and not exc.strerror:  # an OSError raised with a message of its own
        return str(exc)
    return f"{what}:{where}" + (f"; {fix}" if fix else "")
