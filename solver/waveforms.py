"""Source waveforms: the standard Ricker wavelet, and the band a set of waveforms occupies."""

from __future__ import annotations

import math

import numpy as np
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


def source_band(waveforms: Tensor, dt: float) -> tuple[float, float]:
    """Return ``(peak, upper)`` frequencies (1/time) of the mean power spectrum of ``waveforms``.

    ``upper`` is where the cumulative spectral energy reaches 99%; both are 0 for silent input.

    Args:
        waveforms: ``(B, T)`` or ``(B, T, S)`` signals sampled every ``dt``.
        dt: sample spacing.
    """
    w = waveforms.detach().to("cpu", torch.float64)
    w = w.reshape(w.shape[0], w.shape[1], -1).permute(0, 2, 1).reshape(-1, w.shape[1])
    spectrum = torch.fft.rfft(w, n=max(2 * w.shape[1], 16), dim=-1).abs().pow(2).mean(0).numpy()
    freqs = np.fft.rfftfreq(max(2 * w.shape[1], 16), d=dt)
    total = spectrum.sum()
    if total <= 0 or not np.isfinite(total):
        return 0.0, 0.0
    cumulative = np.cumsum(spectrum) / total
    upper = float(freqs[min(np.searchsorted(cumulative, 0.99), len(freqs) - 1)])
    peak = float(freqs[1:][np.argmax(spectrum[1:])]) if len(freqs) > 1 else 0.0
    return peak, upper
