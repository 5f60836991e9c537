"""Fabrication processes: named design-rule presets in physical units, extendable from a file.

A process says what a fab can make: minimum solid width and void space, the manufacturing grid,
the GDS layer, and (for printed parts) the layer height; ``wave_speed`` is the background wave
speed of the medium such a device works in, which turns the scale-free simulation into a
physical frequency band. Lengths are metres (:func:`~wavefab.designkit.units.parse_length` reads
``"50nm"``, ``"0.8mm"``).

User presets live in a YAML file (``fabrication.process_file`` in a run configuration)::

    my-fab:
      description: in-house stepper
      min_width: 350nm
      min_space: 400nm
      grid: 5nm
      layer: [2, 0]
      kind: mask
      wave_speed: 1.2e8
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DesignValueError, FileFormatError
from ..units import parse_length

#: Speed of light in vacuum (m/s) and the speed in a typical silicon-slab background
#: (effective index 2.85), the medium the mask presets assume.
C_VACUUM = 299_792_458.0
#: Speed of sound in air at 20 °C (m/s).
C_AIR = 343.0


@dataclass(frozen=True)
class Process:
    """Design rules of one fabrication process (lengths in metres).

    Args:
        name: preset name.
        description: one line.
        min_width: smallest solid feature (line width, wall).
        min_space: smallest void feature (gap, hole).
        grid: manufacturing grid / database unit.
        layer: GDS ``(layer, datatype)``.
        kind: ``"mask"`` (lithography) or ``"print"`` (additive manufacturing).
        layer_height: printed layer height (``print`` only).
        wave_speed: background wave speed of the medium the device works in (m/s).
    """

    name: str
    description: str
    min_width: float
    min_space: float
    grid: float
    layer: tuple[int, int] = (1, 0)
    kind: str = "mask"
    layer_height: float | None = None
    wave_speed: float = C_VACUUM / 2.85
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for key in ("min_width", "min_space", "grid"):
            value = getattr(self, key)
            if not (value > 0 and math.isfinite(value)):
                raise DesignValueError(f"process {self.name!r}: {key} must be positive")
        if self.kind not in ("mask", "print"):
            raise DesignValueError(f"process {self.name!r}: kind must be 'mask' or 'print'")


PRESETS: dict[str, Process] = {
    p.name: p for p in (
        Process("ebeam", "electron-beam lithography", 100e-9, 100e-9, 1e-9, (1, 0)),
        Process("uv-litho", "UV contact/projection lithography", 1e-6, 1e-6, 10e-9, (1, 0)),
        Process("fdm-0.4", "FDM printing, 0.4 mm nozzle", 0.8e-3, 1.0e-3, 10e-6, (1, 0),
                kind="print", layer_height=0.2e-3, wave_speed=C_AIR),
        Process("sla", "resin (SLA/MSLA) printing", 0.5e-3, 0.5e-3, 10e-6, (1, 0),
                kind="print", layer_height=0.05e-3, wave_speed=C_AIR),
    )
}


def load_processes(path: str | Path) -> dict[str, Process]:
    """Read user presets from a YAML file (see the module docstring for the format).

    Raises:
        DesignValueError: an unreadable file or a bad entry, naming the preset and the key.
    """
    from ..yamlfile import read_yaml

    try:
        data = read_yaml(path, what="process file")
    except FileFormatError as exc:
        raise DesignValueError(f"process file {exc}") from None
    known = {"description", "min_width", "min_space", "grid", "layer", "kind", "layer_height",
             "wave_speed"}
    out = {}
    for name, entry in data.items():
        where = f"process file {path}, {name}"
        if not isinstance(entry, dict):
            raise DesignValueError(f"{where}: must be a mapping of keys")
        unknown = set(entry) - known
        if unknown:
            raise DesignValueError(f"{where}: unknown key(s) {sorted(unknown)} (known: "
                                   f"{sorted(known)})")
        missing = {"min_width", "min_space"} - set(entry)
        if missing:
            raise DesignValueError(f"{where}: missing {sorted(missing)}")
        layer = entry.get("layer", [1, 0])
        if (not isinstance(layer, (list, tuple)) or len(layer) != 2
                or not all(isinstance(v, int) and 0 <= v < 65536 for v in layer)):
            raise DesignValueError(f"{where}: layer must be [layer, datatype], got {layer!r}")
        speed = entry.get("wave_speed", C_VACUUM / 2.85)
        if (isinstance(speed, bool) or not isinstance(speed, (int, float))
                or not 0 < speed < math.inf):
            raise DesignValueError(f"{where}: wave_speed must be a positive speed in m/s, got "
                                   f"{speed!r}")
        out[str(name)] = Process(
            name=str(name), description=str(entry.get("description", "")),
            min_width=parse_length(entry["min_width"], f"{where}: min_width"),
            min_space=parse_length(entry["min_space"], f"{where}: min_space"),
            grid=parse_length(entry.get("grid", "1nm"), f"{where}: grid"),
            layer=(int(layer[0]), int(layer[1])), kind=str(entry.get("kind", "mask")),
            layer_height=(parse_length(entry["layer_height"], f"{where}: layer_height")
                          if entry.get("layer_height") is not None else None),
            wave_speed=float(speed),
        )
    return out


def get_process(name: str, process_file: str | Path | None = None) -> Process:
    """The preset ``name``, looked up in ``process_file`` first, then the built-in presets."""
    table = dict(PRESETS)
    if process_file is not None:
        table.update(load_processes(process_file))
    if name not in table:
        raise DesignValueError(f"unknown process {name!r}; known: {', '.join(sorted(table))}"
                               + ("" if process_file else " (add yours with a process_file)"))
    return table[name]
