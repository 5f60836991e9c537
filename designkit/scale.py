"""Scale and band: what physical device a scale-free design is at a given pitch, and back.

The wave equation has no length scale: a design is a device at any pitch, serving a band that
scales inversely with it. :func:`scale_of` reports, for a configuration, process and pitch (or
the band the device must serve), the physical size, the band of its inputs, the highest
frequency the grid resolves at 10 cells per wavelength, how much faster recordings must be
played, and which design rules fall below a cell.
"""

from __future__ import annotations

import math
import warnings as warnings_module
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import RunConfig, fabrication_from_config
from .errors import DesignValueError
from .fab.processes import get_process
from .fab.rules import rule_at_pitch
from .fab.scaling import CELLS_PER_WAVELENGTH, pitch_for_frequency, scale_report
from .run import build_problem
from .units import format_length, parse_length

__all__ = ["describe_scale", "scale_of"]


def scale_of(config: RunConfig, *, pitch: float | None = None, frequency: float | None = None,
             process: str | None = None, wave_speed: float | None = None,
             data_dir: str | Path | None = None) -> dict[str, Any]:
    """The physical scale of ``config``'s device.

    Args:
        config: the run configuration (its grid, inputs and background speed).
        pitch: cell size (m); default: ``fabrication.pitch``.
        frequency: instead of a pitch, the highest frequency (Hz) the device must serve: the
            pitch that resolves it at 10 cells per wavelength is chosen.
        process: process preset (default: ``fabrication.process``): its rules are checked
            against the pitch and its medium's wave speed is used.
        wave_speed: the medium's speed (m/s); default: the process's, else ``fabrication.
            wave_speed``.
        data_dir: recordings folder for vowel problems (their band).

    Returns:
        :func:`~wavefab.designkit.fab.scaling.scale_report`'s mapping plus ``rules`` (each rule
        in cells, and whether it is below one cell) and ``warnings`` (text).

    Raises:
        DesignValueError: no pitch, frequency or wave speed to work with.
    """
    name = process or config.fabrication.process
    found = get_process(name, config.fabrication.process_file) if name else None
    speed = wave_speed or (found.wave_speed if found else None) or config.fabrication.wave_speed
    if speed is None:
        raise DesignValueError("the medium's wave speed is unknown: give a process or "
                               "--wave-speed (m/s; air: 343)")
    if frequency is not None:
        pitch = pitch_for_frequency(frequency, speed)
        if found is not None:  # down to the process grid: exact exports need a multiple
            pitch = max(found.grid, found.grid * math.floor(pitch / found.grid + 1e-9))
    if pitch is None and config.fabrication.pitch is not None:
        pitch = parse_length(config.fabrication.pitch, "fabrication.pitch")
    if pitch is None:
        raise DesignValueError("give a pitch (size of one cell) or the highest frequency the "
                               "device must serve")
    problem = build_problem(config, data_dir)
    grid = problem.setup.grid
    report = scale_report(pitch=pitch, wave_speed=speed, shape=tuple(grid.shape), h=grid.h,
                          dt=grid.dt, c0=config.material.c0, band=problem.input_band(),
                          seconds_per_step=problem.seconds_per_step,
                          absorber_cells=problem.setup.boundary.width)
    report["process"] = found.name if found else None
    warnings: list[str] = []
    rules: dict[str, Any] = {}
    if found is not None:
        for key in ("min_width", "min_space"):
            rule = rule_at_pitch(getattr(found, key), pitch,
                                 f"{found.name} {key.replace('_', ' ')}")
            rules[key] = {"m": rule.length, "cells": rule.cells}
            if rule.below_one_cell:
                warnings.append(rule.warning())
    with warnings_module.catch_warnings():  # the rules' problems are reported below instead
        warnings_module.simplefilter("ignore")
        fab = fabrication_from_config(replace(config, fabrication=replace(
            config.fabrication, pitch=pitch, process=found.name if found else None)))
    rules["min_feature_cells"] = fab.min_feature_cells
    upper = report["band_hz"][1]
    if upper > report["resolved_up_to_hz"]:
        warnings.append(f"the inputs reach {upper:.4g} Hz but the grid resolves "
                        f"{report['resolved_up_to_hz']:.4g} Hz at {CELLS_PER_WAVELENGTH:g} cells "
                        "per wavelength: expect dispersion above it")
    report["rules"] = rules
    report["warnings"] = warnings
    return report


def describe_scale(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    size = report["size_m"]
    lines = [f"pitch {format_length(report['pitch_m'])}: device {format_length(size[1])} × "
             f"{format_length(size[0])} in a medium of {report['wave_speed_m_s']:g} m/s"
             + (f" ({report['process']})" if report.get("process") else ""),
             f"inputs: peak {report['band_hz'][0]:.4g} Hz, 99% of energy below "
             f"{report['band_hz'][1]:.4g} Hz; the grid resolves up to "
             f"{report['resolved_up_to_hz']:.4g} Hz at {CELLS_PER_WAVELENGTH:g} cells per "
             "wavelength",
             f"time step {report['time_step_s']:.4g} s"]
    if "playback_speedup" in report:
        lines.append(f"recordings must be played {report['playback_speedup']:.4g}× faster "
                     "(shifted up in frequency by that factor)")
    if report.get("absorber_m"):
        lines.append(f"edges: the outer {format_length(report['absorber_m'])} all round is the "
                     "simulation's absorbing layer: the made device must absorb there too (e.g. "
                     "porous foam), or its open edges reflect what the simulation let out")
    for key, rule in report.get("rules", {}).items():
        if isinstance(rule, dict):
            lines.append(f"{key.replace('_', ' ')}: {format_length(rule['m'])} = "
                         f"{rule['cells']:.3g} cells")
    lines += [f"warning: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)
