"""What a sweep says as it runs: the events :func:`~.engine.sweep` yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PointEnd", "PointStart", "SweepEnd", "SweepEvent", "SweepStart"]


@dataclass
class SweepStart:
    """The sweep begins: ``total`` points, ``skipped`` of them finished before."""

    total: int
    skipped: int
    resumed: int
    workers: int
    metric: str


@dataclass
class PointStart:
    """A point was handed to a worker."""

    id: str
    index: int
    overrides: dict[str, Any]
    resumed: bool


@dataclass
class PointEnd:
    """A point finished (``status`` done or failed, with the one-line ``reason``)."""

    id: str
    index: int
    overrides: dict[str, Any]
    status: str
    reason: str
    seconds: float
    metrics: dict[str, Any]
    done: int
    failed: int
    running: int
    total: int
    best: dict[str, Any] | None = None


@dataclass
class SweepEnd:
    """Everything ran; the summary files are written."""

    done: int
    failed: int
    skipped: int
    total: int
    best: dict[str, Any] | None
    paths: dict[str, Path] = field(default_factory=dict)


SweepEvent = SweepStart | PointStart | PointEnd | SweepEnd
