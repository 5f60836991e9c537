"""``wavefab export``, ``wavefab drc FILE`` and ``wavefab verify`` on a real lens_fab result."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wavefab.app.cli import main
from wavefab.designkit.export import import_raster


def test_export_writes_every_requested_file_and_a_report(lens_fab_result, tmp_path, capsys):
    out = tmp_path / "fab"
    out.mkdir()
    args = ["export", str(lens_fab_result), "--gds", str(out / "a.gds"), "--oas",
            str(out / "a.oas"), "--stl", str(out / "a.stl"), "--3mf", str(out / "a.3mf"),
            "--obj", str(out / "a.obj"), "--dxf", str(out / "a.dxf"), "--svg", str(out / "a.svg"),
            "--height", "2mm", "--base", "0.5mm", "--report", str(out / "export.json"),
            "--png", str(out / "a.png")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "140x140 cells at pitch 100 µm = 14 mm x 14 mm" in text and "DRC" in text
    for ext in ("gds", "oas", "stl", "3mf", "obj", "dxf", "svg", "png"):
        assert f"wrote {out / ('a.' + ext)}" in text
    assert (out / "a.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out / "export.json").read_text())
    assert report["process"] == "sla" and report["pitch_m"] == pytest.approx(1e-4)
    assert report["files"][str(out / "a.stl")]["watertight"]
    binary = np.load(lens_fab_result / "design.npz")["binary"]
    np.testing.assert_allclose(import_raster(out / "a.oas", binary.shape, 1e-4), binary,
                               atol=1e-9)


def test_drc_and_verify_read_the_exported_mask(lens_fab_result, tmp_path, capsys):
    gds = tmp_path / "lens.gds"
    assert main(["export", str(lens_fab_result), "--gds", str(gds)]) == 0
    capsys.readouterr()
    run_drc = json.loads((lens_fab_result / "drc.json").read_text())
    # the file records its pitch and grid shape: no options needed beyond the rule
    code = main(["drc", str(gds), "--process", "sla"])
    text = capsys.readouterr().out
    assert code == (0 if run_drc["pass"] else 1)
    file_drc = json.loads((tmp_path / "lens.drc.json").read_text())
    assert file_drc["violations"] == run_drc["violations"] or not run_drc["pass"]
    assert file_drc["min_solid_cells"] == run_drc["min_solid_cells"]
    assert "rule solid 5 / void 5 cells" in text
    assert main(["verify", str(lens_fab_result), str(gds)]) == 0
    text = capsys.readouterr().out
    assert "0 cells differ from the design" in text and "focus_gain" in text
    # the same on a grid twice as fine: the mask's cells are exact 2 × 2 blocks there
    report = tmp_path / "verify.json"
    assert main(["verify", str(lens_fab_result), str(gds), "--refine", "2",
                 "--report", str(report)]) == 0
    text = capsys.readouterr().out
    assert "0 cells differ from the design" in text and "2× finer (pitch 50 µm" in text
    fine = json.loads(report.read_text())
    assert fine["refine"] == 2
    assert fine["imported"]["focus_gain"] == pytest.approx(fine["design"]["focus_gain"],
                                                           rel=1e-6)


def test_export_errors_are_one_line(lens_fab_result, tmp_path, capsys):
    cases = [
        (["export", str(lens_fab_result)], "nothing to export"),
        (["export", str(lens_fab_result), "--stl", str(tmp_path / "x.stl")], "--height"),
        (["export", str(lens_fab_result), "--gds", str(tmp_path / "x.gds"), "--pitch=-1mm"],
         "--pitch must be positive"),
        (["export", str(tmp_path), "--gds", str(tmp_path / "x.gds")], "no design.npz"),
        (["export", str(lens_fab_result), "--gds", str(tmp_path / "x.gds"), "--layer", "a/b"],
         "--layer"),
        (["drc", str(tmp_path / "missing.gds")], "does not exist"),
        (["verify", str(lens_fab_result), str(tmp_path / "missing.gds")], "does not exist"),
        (["verify", str(lens_fab_result), str(tmp_path / "missing.gds"), "--refine", "0"],
         "refine must be a positive integer"),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"wavefab {args[0]}: error:") and message in err, (args, err)
        assert "\n" not in err
    assert list(tmp_path.iterdir()) == []
