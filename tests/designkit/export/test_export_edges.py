"""Export corner cases found in review: frames, unlabeled void masks, thick bases, units."""

from __future__ import annotations

import numpy as np
import pytest

from wavefab.app.cli import main
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import Design, ExportSettings, export_design, import_raster

PITCH = 1e-4  # 0.1 mm


def _design() -> Design:
    """A 20×30 design with a ring, a bar and a hole, DRC-clean at 3 cells."""
    b = np.zeros((20, 30), bool)
    b[3:15, 3:15] = True
    b[6:12, 6:12] = False
    b[4:8, 18:27] = True
    b[14:18, 18:28] = True
    return Design(name="edges", binary=b, region=np.ones_like(b), min_solid_cells=3,
                  min_void_cells=3, pitch=PITCH)


@pytest.mark.parametrize("suffix", [".gds", ".oas", ".stl", ".obj"])
def test_framed_exports_read_back_exactly(tmp_path, suffix):
    design = _design()
    path = tmp_path / f"framed{suffix}"
    export_design(design, [path], ExportSettings(frame=3 * PITCH, height=1e-3, base=5e-4))
    got = import_raster(path, design.shape, PITCH)
    np.testing.assert_allclose(got, design.binary, atol=1e-6)


def test_unlabeled_void_gds_still_knows_its_tone_and_pitch(tmp_path, capsys):
    design = _design()
    path = tmp_path / "void.gds"
    export_design(design, [path], ExportSettings(tone="void", label=False))
    np.testing.assert_allclose(import_raster(path, design.shape, PITCH), design.binary,
                               atol=1e-9)
    assert main(["drc", str(path), "--min-feature-cells", "3"]) == 0  # pitch and shape recorded
    assert "DRC PASS" in capsys.readouterr().out


def test_a_thick_base_plate_is_not_mistaken_for_walls(tmp_path):
    design = _design()
    path = tmp_path / "thick.stl"
    export_design(design, [path], ExportSettings(height=2e-4, base=5e-3))
    np.testing.assert_array_equal(import_raster(path, design.shape, PITCH) > 0.5, design.binary)


def test_drc_of_a_file_at_another_pitch_covers_all_of_it(tmp_path, capsys):
    design = _design()
    path = tmp_path / "d.gds"
    export_design(design, [path])
    assert main(["drc", str(path), "--pitch", "0.05mm", "--min-feature-cells", "1"]) == 0
    capsys.readouterr()
    import json

    report = json.loads((tmp_path / "d.drc.json").read_text())
    assert report["islands"] == 3  # the ring and both bars, not a corner of the layout


def test_svg_canvas_is_the_design_area(tmp_path):
    import xml.etree.ElementTree as ET

    design = _design()
    path = tmp_path / "d.svg"
    export_design(design, [path])
    root = ET.parse(path).getroot()
    assert root.get("width") == "3mm" and root.get("height") == "2mm"


def test_the_runs_own_rule_applies_at_its_pitch(tmp_path):
    design = _design()
    design.process = "sla"  # 0.5 mm = 5 cells at 0.1 mm, stricter than the run's 3
    report = export_design(design, [tmp_path / "own.gds"])
    assert report.drc["rule_solid_cells"] == 3 and report.drc["pass"]
    with pytest.raises(DesignValueError, match="fails its design rules"):
        export_design(design, [tmp_path / "sla.gds"], ExportSettings(process="sla"))


def test_a_damaged_design_file_is_a_one_line_error(tmp_path, capsys):
    folder = tmp_path / "result"
    folder.mkdir()
    np.savez(folder / "design.npz", binary=_design().binary)
    data = (folder / "design.npz").read_bytes()
    (folder / "design.npz").write_bytes(data[: len(data) // 2])
    assert main(["export", str(folder), "--gds", str(tmp_path / "x.gds")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wavefab export: error:") and "a damaged one" in err and "\n" not in err


def test_3mf_in_other_units_reads_in_millimetres(tmp_path):
    import io
    import zipfile

    import trimesh

    from wavefab.designkit.export.meshes import read_mesh

    written = io.BytesIO(trimesh.creation.box((1.0, 2.0, 3.0)).export(file_type="3mf"))
    path = tmp_path / "inch.3mf"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():  # the same part, declared in inches
            data = src.read(name)
            if name.endswith(".model"):
                data = data.replace(b'unit="millimeter"', b'unit="inch"')
            dst.writestr(name, data)
    mesh = read_mesh(path)
    assert mesh.extents == pytest.approx([25.4, 50.8, 76.2], rel=1e-6)
