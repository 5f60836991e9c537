"""Standard source waveforms."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def ricker(
    frequency: float, steps: int, dt: float, *, delay: float | None = None,
    dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
) -> Tensor:
    """Ricker wavelet (Mexican hat) sampled at ``t = n·dt``, ``n = 0..steps-1``.

    ``w(t) = (1 − 2π²f²τ²)·exp(−π²f²τ²)``, ``τ = t − delay``.

    Args:
        frequency: peak frequency (1/time units of ``dt``).
        steps: number of samples.
        dt: sample spacing.
        delay: centre of the wavelet; default ``1.5/frequency`` (starts near zero).
        dtype: float dtype of the result.
        device: device of the result.

    Returns:
        A ``(steps,)`` tensor.
    """
    if not (frequency > 0 and math.isfinite(frequency)):
        raise ValueError(f"frequency must be positive, got {frequency!r}")
    t0 = 1.5 / frequency if delay is None else delay
    t = torch.arange(steps, dtype=torch.float64) * dt - t0
    a = (math.pi * frequency * t) ** 2
    return ((1 - 2 * a) * torch.exp(-a)).to(dtype=dtype, device=device)
