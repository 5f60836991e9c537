"""Physical quantities as text: lengths (``"50nm"``, ``"0.8 mm"``) and frequencies (``"20kHz"``).

Lengths are metres and frequencies hertz in code; these are the only places that read and write
them with units, for configuration files, command-line flags and reports alike.
"""

from __future__ import annotations

import math
import re

from .errors import DesignValueError

__all__ = ["format_length", "parse_frequency", "parse_length"]

_UNITS = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "μm": 1e-6, "nm": 1e-9}
_LENGTH = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Zµμ]*)\s*$")
_FREQUENCY_UNITS = {"khz": 1e3, "mhz": 1e6, "hz": 1.0}


def parse_length(value: str | float | int, name: str = "length") -> float:
    """A length in metres from a number (metres) or text with a unit (``"50nm"``, ``"0.8 mm"``).

    Raises:
        DesignValueError: naming ``name``, for anything else or a non-positive length.
    """
    if isinstance(value, bool):
        raise DesignValueError(f"{name} must be a length such as '50nm' or '0.8mm', got {value!r}")
    if isinstance(value, (int, float)):
        metres = float(value)
    else:
        match = _LENGTH.match(str(value))
        unit = match.group(2) if match else None
        if match is None or (unit not in _UNITS and unit != ""):
            raise DesignValueError(
                f"{name} must be a length such as '50nm' or '0.8mm' (units: "
                f"{', '.join(k for k in _UNITS if k not in ('µm', 'μm'))}), got {value!r}")
        metres = float(match.group(1)) * _UNITS.get(unit or "m", 1.0)
    if not (metres > 0 and math.isfinite(metres)):
        raise DesignValueError(f"{name} must be positive, got {value!r}")
    return metres


def format_length(metres: float) -> str:
    """``1.5e-7`` → ``"150 nm"``: the largest unit giving a number ≥ 1."""
    for unit, scale in (("m", 1.0), ("mm", 1e-3), ("µm", 1e-6), ("nm", 1e-9)):
        if abs(metres) >= scale:
            return f"{metres / scale:.4g} {unit}"
    return f"{metres / 1e-9:.4g} nm"


def parse_frequency(text: str, name: str = "frequency") -> float:
    """A frequency in hertz from text such as ``"20kHz"``, ``"1.5 MHz"`` or ``"440"`` (Hz).

    Raises:
        DesignValueError: naming ``name``, for anything that is not a positive number with Hz,
            kHz or MHz.
    """
    lowered = str(text).strip().lower()
    unit = next((u for u in _FREQUENCY_UNITS if lowered.endswith(u)), "")
    try:
        value = float(lowered[: len(lowered) - len(unit)]) * _FREQUENCY_UNITS.get(unit, 1.0)
    except ValueError:
        raise DesignValueError(f"{name} {text!r}: give a number with Hz, kHz or MHz, e.g. "
                               "20kHz") from None
    if not (value > 0 and math.isfinite(value)):
        raise DesignValueError(f"{name} must be a positive frequency, got {text!r}")
    return value
