"""What several subcommands share: reading flag values and printing figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def length(text: str | None, flag: str) -> float | None:
    """A length flag (``--pitch 50nm``) in metres; None when the flag was not given."""
    from wavefab.designkit.units import parse_length

    return None if text is None else parse_length(text, flag)


def layer(text: str | None, flag: str = "--layer") -> tuple[int, int] | None:
    """A ``LAYER/DATATYPE`` flag; None when the flag was not given."""
    from wavefab.designkit.export.layout import parse_layer

    return None if text is None else parse_layer(text, flag)


def format_metrics(metrics: dict[str, Any], keys: tuple[str, ...] = ()) -> str:
    """``name value`` pairs of the scalar metrics (all of them when ``keys`` is empty)."""
    names = keys or tuple(k for k, v in metrics.items() if isinstance(v, float))
    return ", ".join(f"{k.replace('_', ' ')} {metrics[k]:.3f}" for k in names if k in metrics)


def write_report(path: Path | None, values: dict[str, Any]) -> bool:
    """Write ``values`` as JSON to ``path`` (atomically) when a ``--report`` was asked for."""
    if path is None:
        return False
    from wavefab.designkit.files import write_atomically

    write_atomically(path, json.dumps(values, indent=1).encode())
    return True
