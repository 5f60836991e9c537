"""Errors and warnings raised by the solver.

Every error a user can cause names the argument, the value received and the fix. All of them
derive from :class:`SolverError`, so callers can catch the package's errors in one place, and from
the matching built-in (``ValueError``/``TypeError``), so generic handlers keep working.
"""

from __future__ import annotations


class WavefabWarning(UserWarning):
    """Base class of every warning wavefab emits."""


class ResolutionWarning(WavefabWarning):
    """The source band is sampled by too few grid points per wavelength (numerical dispersion)."""


class SolverError(Exception):
    """Base class of every error raised by :mod:`wavefab.solver`."""


class SolverValueError(SolverError, ValueError):
    """An argument has the right type but a value the solver cannot use."""


class SolverTypeError(SolverError, TypeError):
    """An argument has the wrong type, dtype, device or shape kind."""


class StabilityError(SolverValueError):
    """The time step violates the CFL condition, or the field became non-finite."""


def as_number(name: str, value: object) -> float:
    """``float(value)``, or a :class:`SolverTypeError` naming ``name`` when it is not a number."""
    if isinstance(value, (bool, str, bytes)):
        raise SolverTypeError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SolverTypeError(f"{name} must be a number, got {value!r}") from None


def as_int(name: str, value: object) -> int:
    """``int(value)`` for an integral number, else a :class:`SolverTypeError` naming ``name``."""
    number = as_number(name, value)
    if not number.is_integer():
        raise SolverTypeError(f"{name} must be an integer, got {value!r}")
    return int(number)
