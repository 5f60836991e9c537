"""Errors raised by :mod:`wavefab.designkit`: one base class, built-in parents for generic code."""

from __future__ import annotations

from wavefab.solver import WavefabWarning


class DesignError(Exception):
    """Base class of every error raised by :mod:`wavefab.designkit`."""


class DesignValueError(DesignError, ValueError):
    """An argument or setting has a value the design core cannot use; the message names it."""


class FileFormatError(DesignError, ValueError):
    """A file is not what it should be: the message names the file, what is wrong, and the fix.

    Attributes:
        path: the file (as given).
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class CheckpointWarning(WavefabWarning):
    """A damaged checkpoint was passed over for the previous one (resumed an epoch earlier)."""
