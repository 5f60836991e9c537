"""What a scale-free design is physically: size, band and time step at a pitch, and back.

The wave equation has no length scale; a design becomes a device once one cell has a physical
size (the pitch) and the background medium a physical speed. :func:`scale_report` gives the
figures; :func:`pitch_for_frequency` picks the pitch that resolves a band.
"""

from __future__ import annotations

from typing import Any

from ..errors import DesignValueError

__all__ = ["CELLS_PER_WAVELENGTH", "pitch_for_frequency", "scale_report"]

#: Cells per wavelength below which the grid no longer resolves a wave well (dispersion).
CELLS_PER_WAVELENGTH = 10.0


def scale_report(*, pitch: float, wave_speed: float, shape: tuple[int, int], h: float,
                 dt: float, c0: float, band: tuple[float, float],
                 seconds_per_step: float | None = None,
                 absorber_cells: int | None = None) -> dict[str, Any]:
    """What the scale-free simulation is physically, given the pitch and the medium's speed.

    One normalized length unit is ``pitch / h`` metres; the normalized speed ``c0`` is
    ``wave_speed``; so one normalized time unit is ``(pitch / h)·c0 / wave_speed`` seconds.

    Args:
        pitch: physical size of one cell (m).
        wave_speed: physical background wave speed (m/s).
        shape: the simulation grid ``(ny, nx)``.
        h: its cell size (normalized units).
        dt: its time step (normalized units).
        c0: its background speed (normalized units).
        band: ``(peak, upper)`` frequency of the inputs (1/normalized time).
        seconds_per_step: when the inputs are recordings, their sample period (s): the report
            then gives the factor by which they must be played back faster.
        absorber_cells: width of the simulation's absorbing layer at every edge (cells): the
            report gives it in metres (``absorber_m``), the band a made part must absorb in.

    Returns:
        A JSON-ready mapping (SI units).
    """
    unit_time = (pitch / h) * c0 / wave_speed
    out: dict[str, Any] = {
        "pitch_m": pitch,
        "size_m": [shape[0] * pitch, shape[1] * pitch],
        "wave_speed_m_s": wave_speed,
        "time_step_s": dt * unit_time,
        "band_hz": [band[0] / unit_time, band[1] / unit_time],
        "shortest_wavelength_m": (wave_speed / (band[1] / unit_time)) if band[1] > 0 else None,
    }
    out["resolved_up_to_hz"] = wave_speed / (CELLS_PER_WAVELENGTH * pitch)
    if band[1] > 0:
        out["cells_per_wavelength_at_upper"] = wave_speed / (band[1] / unit_time) / pitch
    if seconds_per_step is not None:
        out["playback_speedup"] = seconds_per_step / (dt * unit_time)
    if absorber_cells:
        out["absorber_m"] = absorber_cells * pitch
    return out


def pitch_for_frequency(frequency: float, wave_speed: float,
                        cells_per_wavelength: float = CELLS_PER_WAVELENGTH) -> float:
    """The cell size (m) resolving ``frequency`` (Hz) at ``wave_speed`` (m/s).

    ``cells_per_wavelength`` cells per wavelength (10: the usual limit of dispersion).
    """
    if not (frequency > 0 and wave_speed > 0 and cells_per_wavelength > 0):
        raise DesignValueError("frequency, wave speed and cells per wavelength must be positive")
    return wave_speed / (frequency * cells_per_wavelength)
