"""A file back on a grid of its own: the recorded pitch and shape, or the cells covering it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import file_raster, file_shape, load_design, recorded_pitch

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"


def test_a_wavefab_layout_rasterizes_on_the_grid_it_records():
    gds = GOLDEN / "files" / "golden.gds"
    assert recorded_pitch(gds) == pytest.approx(1e-4)
    found = file_raster(gds)
    design = load_design(GOLDEN / "results")
    assert found.pitch == pytest.approx(1e-4) and found.coverage.shape == design.shape
    np.testing.assert_array_equal(found.binary, design.binary)


def test_at_another_pitch_the_grid_covers_the_whole_file():
    gds = GOLDEN / "files" / "golden.gds"
    found = file_raster(gds, pitch=2e-4)
    # the solid reaches x = 6.1 mm, y = 4.6 mm: 31 × 23 cells of 0.2 mm from the origin
    assert found.coverage.shape == file_shape(gds, 2e-4) == (23, 31)
    assert found.coverage.sum() * 4e-8 == pytest.approx(8.31e-6, rel=1e-6)  # the solid area
    stl = GOLDEN / "files" / "golden.stl"
    assert file_shape(stl, 1e-4) == (64, 88)  # the printed part spans the whole design area


def test_missing_unreadable_and_scale_free_files_are_clear_errors(tmp_path):
    with pytest.raises(DesignValueError, match="does not exist"):
        file_raster(tmp_path / "missing.gds")
    svg = tmp_path / "x.svg"
    svg.write_text("<svg/>")
    with pytest.raises(DesignValueError, match="cannot check"):
        file_raster(svg)
    with pytest.raises(DesignValueError, match="does not record one"):
        file_raster(GOLDEN / "files" / "golden.stl")
