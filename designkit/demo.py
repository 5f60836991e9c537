"""The built-in demonstration behind ``wavefab demo``; it needs no data.

:func:`fabrication_demo` optimizes the focusing lens for SLA printing (the configuration of
``assets/examples/lens_fab.yaml``, :data:`~wavefab.designkit.project.templates.DEMO_CONFIG`),
checks its design rules and hands it off as a GDSII mask, an STL mesh and PNG previews: the
whole loop from physics to a file a fab takes.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import config_from_dict
from .errors import DesignValueError
from .export.writer import ExportSettings, export_design, write_previews
from .files import write_atomically
from .project.templates import DEMO_CONFIG
from .results import load_design
from .run import run

__all__ = ["DEMO_BASE", "DEMO_HEIGHT", "FabricationDemo", "fabrication_demo"]

log = logging.getLogger(__name__)


#: Printed part of the demo: wall height and base plate (metres).
DEMO_HEIGHT = 2e-3
DEMO_BASE = 1e-3


@dataclass
class FabricationDemo:
    """What :func:`fabrication_demo` measured and wrote."""

    result_dir: Path
    files: dict[str, Path]
    metrics: dict
    drc_pass: bool
    seconds: float


def fabrication_demo(out_dir: str | Path, *, epochs: int | None = None,
                     on_event: Callable[[Any], None] | None = None) -> FabricationDemo:
    """Optimize the SLA lens, check it, and write GDS, STL and previews into ``out_dir``.

    Args:
        out_dir: folder for everything (created if missing): ``result/`` (the run's results
            folder), ``lens.gds``, ``lens.stl``, ``layout.png``, ``mesh.png``, ``export.json``.
        epochs: train for fewer epochs than the configuration's 14 (tests); the β schedule
            is compressed to reach a clean step at the end.
        on_event: called with every training event (progress display).

    Raises:
        DesignValueError: when ``out_dir`` cannot be written or ``epochs`` < 1.
    """
    values = copy.deepcopy(DEMO_CONFIG)
    if epochs is not None:
        if int(epochs) != epochs or epochs < 1:
            raise DesignValueError(f"epochs must be an integer ≥ 1, got {epochs!r}")
        values["training"]["epochs"] = int(epochs)
        values["training"]["beta_schedule"] = [[0, 4.0], [max(epochs - 1, 1), math.inf]]
    config = config_from_dict(values, source="the built-in demo")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DesignValueError(f"cannot create the demo folder {out}: {exc.strerror}") from None
    start = time.perf_counter()
    result_dir = out / "result"
    for event in run(config, result_dir):
        if on_event is not None:
            on_event(event)
    metrics = json.loads((result_dir / "metrics.json").read_text())
    design = load_design(result_dir)
    design.name = "wavefab_lens"
    files = {"gds": out / "lens.gds", "stl": out / "lens.stl"}
    report = export_design(design, list(files.values()),
                           # a short (--epochs) demo may miss the rules: show it, don't stop
                           ExportSettings(height=DEMO_HEIGHT, base=DEMO_BASE,
                                          allow_violations=True))
    files["export"] = out / "export.json"
    write_atomically(files["export"], json.dumps(report.to_dict(), indent=1).encode())
    files.update(write_previews(out, design, report.pitch_m, files["stl"]))
    return FabricationDemo(result_dir=result_dir, files=files, metrics=metrics,
                           drc_pass=bool(report.drc["pass"]),
                           seconds=time.perf_counter() - start)
