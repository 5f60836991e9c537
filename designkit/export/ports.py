"""What a printed part needs around the design: holes over its ports, plates that keep it 2D.

A 2D acoustic design is printed as a layer between two plates; a speaker and microphones reach
the sources and probes through holes in the top plate (:func:`port_openings`), and the gap
between the plates must stay thin enough for only the plane mode to propagate
(:func:`plate_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DesignValueError

__all__ = ["plate_report", "port_openings"]


def port_openings(ports: Sequence[tuple[int, int]], rows: int, diameter: float,
                  pitch: float | None) -> tuple[tuple[float, float, float], ...]:
    """Lid holes ``(x, y, radius)`` (m) centred over the cells ``(row, col)`` of the ports.

    Args:
        ports: the cells of the sources and probes
            (:attr:`~wavefab.designkit.results.Design.ports`).
        rows: the design's number of rows (row 0 is the top: y grows upwards).
        diameter: the holes' diameter (m).
        pitch: the cell size (m).

    Raises:
        DesignValueError: no ports, no pitch, or a non-positive diameter.
    """
    if not ports:
        raise DesignValueError("the ports are unknown (the results folder's config.yaml is "
                               "missing or unreadable): no holes can be placed over them")
    if pitch is None:
        raise DesignValueError("the ports need the pitch (size of one cell): pass --pitch")
    if not (diameter and diameter > 0):
        raise DesignValueError("--ports needs a positive diameter, e.g. 3mm")
    return tuple(((c + 0.5) * pitch, (rows - r - 0.5) * pitch, diameter / 2) for r, c in ports)


def plate_report(gap: float, scale: dict[str, Any] | None,
                 pitch: float | None = None) -> dict[str, Any]:
    """Whether a parallel-plate part of plate ``gap`` (m) behaves as the 2D design.

    Between two plates only the plane mode propagates below the first cut-on, ``c/(2·gap)``:
    the gap must stay under half the shortest wavelength the device serves (the inputs' band,
    or what the grid resolves if that is lower; from the run's scale report). When the inputs
    reach higher, ``two_dimensional_over_band`` and ``max_gap_for_band_m`` judge the gap against
    their whole band (99% of their energy). ``absorber_m`` repeats the width of the band at the
    edges that the simulation absorbed (the part must absorb there too: its open edges reflect).
    Exported at another ``pitch`` than the run's, the part is the run's device scaled: lengths
    grow and frequencies fall by the pitch ratio.
    """
    out: dict[str, Any] = {"gap_m": gap}
    ratio = 1.0
    if scale and pitch and scale.get("pitch_m"):
        ratio = pitch / float(scale["pitch_m"])
    if scale and scale.get("absorber_m"):
        out["absorber_m"] = float(scale["absorber_m"]) * ratio
    if not scale or not scale.get("wave_speed_m_s"):
        out["note"] = "the run has no physical scale (pitch and medium): the gap is unchecked"
        return out
    speed = float(scale["wave_speed_m_s"])
    band_top = float(scale.get("band_hz", [0, 0])[1]) / ratio
    tops = [f for f in (band_top, float(scale.get("resolved_up_to_hz") or 0) / ratio) if f]
    if not tops:
        out["note"] = "the run's band is unknown: the gap is unchecked"
        return out
    top = min(tops)
    out.update(highest_frequency_hz=top, half_shortest_wavelength_m=speed / top / 2,
               first_cut_on_hz=speed / (2 * gap), two_dimensional=gap < speed / top / 2)
    if band_top > top:
        # the inputs reach past what the grid resolves: the part still carries that sound,
        # and above the cut-on the gap lets a cross mode through
        out.update(band_top_hz=band_top, max_gap_for_band_m=speed / band_top / 2,
                   two_dimensional_over_band=gap < speed / band_top / 2)
    return out
