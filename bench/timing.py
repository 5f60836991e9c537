"""Timing shared by the bench scripts (imported as ``timing``: scripts run from bench/)."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeats: int, *, warm_up: bool = True) -> list[float]:
    """Run ``fn`` once to warm up (unless told not to), then ``repeats`` times; the seconds."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def best(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed runs (a warm-up first when there are several)."""
    return min(timed(fn, repeats, warm_up=repeats > 1))
