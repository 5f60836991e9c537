"""Fab hand-off end to end: a real (short) lens_fab run → every format → import → re-simulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wavefab.designkit.config import load_config
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import (
    ExportSettings,
    export_design,
    import_raster,
    load_design,
)
from wavefab.designkit.project import DEMO_CONFIG
from wavefab.designkit.verify import verify

ROOT = Path(__file__).resolve().parents[3]
PITCH = 1e-4  # the lens_fab run's 0.1 mm


@pytest.fixture
def lens_result(lens_fab_result) -> Path:
    return lens_fab_result


def test_demo_configuration_is_the_lens_fab_example():
    from wavefab.designkit.config import config_from_dict

    assert config_from_dict(dict(DEMO_CONFIG)) == load_config(
        ROOT / "assets/examples/lens_fab.yaml"
    )


def test_every_format_is_written_and_the_exact_layout_reimports_identically(lens_result, tmp_path):
    design = load_design(lens_result)
    assert design.pitch == pytest.approx(PITCH) and design.process == "sla"
    outputs = [
        tmp_path / f"lens.{ext}" for ext in ("gds", "oas", "stl", "3mf", "obj", "dxf", "svg")
    ]
    report = export_design(design, outputs, ExportSettings(height=2e-3, base=1e-3))
    assert all(p.is_file() for p in outputs)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in outputs)
    drc = json.loads((lens_result / "drc.json").read_text())
    assert report.drc["pass"] == drc["pass"]
    assert report.size_m == pytest.approx((0.014, 0.014))
    for ext in ("gds", "oas", "dxf"):
        got = import_raster(tmp_path / f"lens.{ext}", design.shape, PITCH)
        np.testing.assert_allclose(got, design.binary, atol=1e-6, err_msg=ext)
    solid_mm2 = design.binary.sum() * (PITCH * 1e3) ** 2
    for ext in ("stl", "3mf", "obj"):
        info = report.files[str(tmp_path / f"lens.{ext}")]
        assert info["watertight"]
        plate_mm2 = 14.0 * 14.0
        assert info["volume_mm3"] == pytest.approx(solid_mm2 * 2.0 + plate_mm2 * 1.0, rel=1e-5)
        got = import_raster(tmp_path / f"lens.{ext}", design.shape, PITCH)
        np.testing.assert_array_equal(got > 0.5, design.binary, err_msg=ext)


def test_verify_reproduces_the_design_from_its_mask(lens_result, tmp_path):
    design = load_design(lens_result)
    gds = tmp_path / "lens.gds"
    export_design(design, [gds])
    result = verify(lens_result, gds)
    assert result.changed_cells == 0 and result.mean_coverage_error < 1e-9
    assert result.imported["focus_gain"] == pytest.approx(result.design["focus_gain"], rel=1e-6)
    metrics = json.loads((lens_result / "metrics.json").read_text())
    assert result.design["focus_gain"] == pytest.approx(metrics["binary_focus_gain"], rel=1e-4)


def test_smooth_outlines_stay_close_to_the_design(lens_result, tmp_path):
    design = load_design(lens_result)
    gds = tmp_path / "smooth.gds"
    # the contour of a short run may have a tip under the rule; the check still runs
    report = export_design(design, [gds], ExportSettings(mode="smooth", allow_violations=True))
    assert report.drc["rule_solid_cells"] == 5
    assert report.mode == "smooth"
    coverage = import_raster(gds, design.shape, PITCH)
    area_error = abs(coverage.sum() - design.binary.sum()) / design.binary.sum()
    assert area_error < 0.05
    result = verify(lens_result, gds)
    # the run's contour_* metrics simulate these very polygons (before snapping to the 10 µm
    # grid of the process, a tenth of a cell here)
    metrics = json.loads((lens_result / "metrics.json").read_text())
    assert result.imported["focus_gain"] == pytest.approx(metrics["contour_focus_gain"], rel=0.01)


def test_refusals_name_the_problem(lens_result, tmp_path):
    design = load_design(lens_result)
    with pytest.raises(DesignValueError, match="cannot be printed with sla"):
        # at 50 µm per cell the 0.5 mm rule needs 10 cells: the 5-cell design is too fine
        export_design(design, [tmp_path / "fine.stl"], ExportSettings(pitch=50e-6, height=1e-3))
    with pytest.raises(DesignValueError, match="fails its design rules"):
        export_design(design, [tmp_path / "fine.gds"], ExportSettings(pitch=50e-6))
    report = export_design(design, [tmp_path / "fine.gds"],
                           ExportSettings(pitch=50e-6, allow_violations=True))
    assert not report.drc["pass"] and report.drc["violations"]
    (tmp_path / "fine.gds").unlink()
    with pytest.raises(DesignValueError, match="not a multiple of the sla grid"):
        export_design(design, [tmp_path / "odd.gds"], ExportSettings(pitch=125e-6))
    with pytest.raises(DesignValueError, match="--height"):
        export_design(design, [tmp_path / "x.stl"])
    with pytest.raises(DesignValueError, match="suffix"):
        export_design(design, [tmp_path / "x.png"])
    with pytest.raises(DesignValueError, match="unknown process"):
        export_design(design, [tmp_path / "x.gds"], ExportSettings(process="nope"))
    with pytest.raises(DesignValueError, match="positive"):
        export_design(design, [tmp_path / "x.stl"], ExportSettings(height=-1e-3))
    design.pitch = None
    with pytest.raises(DesignValueError, match="--pitch"):
        export_design(design, [tmp_path / "x.gds"], ExportSettings(process=None))
    design.binary = np.zeros_like(design.binary)
    with pytest.raises(DesignValueError, match="all-void"):
        export_design(design, [tmp_path / "x.gds"], ExportSettings(pitch=PITCH))
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    with pytest.raises(DesignValueError, match=r"no design\.npz"):
        load_design(tmp_path)
