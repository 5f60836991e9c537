"""The physical scale of a design at a pitch."""

from __future__ import annotations

import pytest

from wavefab.designkit.fab.scaling import scale_report


def test_scale_report():
    report = scale_report(pitch=1e-3, wave_speed=343.0, shape=(100, 200), h=1.0, dt=0.5, c0=1.0,
                          band=(0.025, 0.05), seconds_per_step=1e-4)
    unit = 1e-3 / 343.0
    assert report["size_m"] == [0.1, 0.2]
    assert report["band_hz"] == pytest.approx([0.025 / unit, 0.05 / unit])
    assert report["playback_speedup"] == pytest.approx(1e-4 / (0.5 * unit))
