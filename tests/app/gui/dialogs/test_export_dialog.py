"""The export dialog: options in, files out that read back; bad options marked, nothing written."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")


from wavefab.designkit.export import import_raster
from wavefab.designkit.export.meshes import read_mesh
from wavefab.designkit.export.outlines import read_dxf

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(window, windows, lens_fab_result, tmp_path):
    """The export dialog of a window on a short lens_fab run, writing into the test's folder."""
    assert window.open_path(lens_fab_result)
    dlg = windows.keep(window.export_dialog())
    assert dlg is not None
    dlg.folder.setText(str(tmp_path))
    return dlg


def test_every_format_is_written_and_reads_back(dialog, tmp_path):
    binary = dialog.design.binary
    for kind, box in dialog.formats.items():
        box.setChecked(kind in ("gds", "oas", "3mf", "dxf", "svg"))
    assert dialog.height.isEnabled() and dialog.tone.isEnabled()  # a mesh and a mask chosen
    dialog.height.setText("2mm")
    dialog.frame.setText("1mm")
    dialog.stem.setText("lens_out")
    report = dialog.export()
    assert report is not None, dialog.status.text()
    assert "wrote" in dialog.status.text() and "DRC PASS" in dialog.status.text()
    for suffix in ("gds", "oas", "3mf", "dxf", "svg"):
        assert (tmp_path / f"lens_out.{suffix}").is_file()
    pitch = dialog.design.pitch
    for suffix in ("gds", "oas"):
        raster = import_raster(tmp_path / f"lens_out.{suffix}", binary.shape, pitch)
        np.testing.assert_allclose(raster, binary, atol=1e-9)
    mesh = read_mesh(tmp_path / "lens_out.3mf")
    assert mesh.is_watertight
    assert mesh.bounds[1][2] - mesh.bounds[0][2] == pytest.approx(2.0)  # mm
    assert not read_dxf(tmp_path / "lens_out.dxf").is_empty


def test_preview_shows_the_outlines_for_the_chosen_mode(dialog):
    assert dialog.update_preview()
    exact_points = np.count_nonzero(np.isfinite(dialog.outline.xData))
    assert "polygons" in dialog.status.text() and "exact" in dialog.status.text()
    dialog.mode.setCurrentText("smooth")
    assert dialog.update_preview()
    smooth_points = np.count_nonzero(np.isfinite(dialog.outline.xData))
    assert smooth_points != exact_points and "smooth" in dialog.status.text()
    cols = dialog.design.shape[1]
    x = dialog.outline.xData[np.isfinite(dialog.outline.xData)]
    assert 0 <= x.min() and x.max() <= cols * dialog.design.pitch * 1e3 + 1e-9  # mm
    dialog.frame.setText("1mm")
    assert dialog.update_preview() and dialog.frame_outline.xData is not None


def test_bad_options_are_marked_and_nothing_is_written(dialog, tmp_path):
    dialog.formats["stl"].setChecked(True)  # a mesh without a height
    assert dialog.export() is None
    assert "height" in dialog.status.text() and "border" in dialog.height.styleSheet()
    dialog.height.setText("2mm")
    dialog.layer.setText("one/zero")
    assert dialog.export() is None and "layer" in dialog.layer.toolTip()
    dialog.layer.setText("")
    dialog.pitch.setText("-3mm")
    assert dialog.export() is None and "pitch" in dialog.status.text()
    assert list(tmp_path.iterdir()) == []


def test_missing_folders_and_existing_files_are_not_written_over_silently(dialog, tmp_path):
    dialog.folder.setText(str(tmp_path / "nowhere"))
    assert dialog.export() is None and "does not exist" in dialog.status.text()
    dialog.folder.setText(str(tmp_path))
    (tmp_path / f"{dialog.design.name}.gds").write_bytes(b"keep me")
    dialog.confirm_overwrite = lambda paths: False
    assert dialog.export() is None
    assert (tmp_path / f"{dialog.design.name}.gds").read_bytes() == b"keep me"
    dialog.confirm_overwrite = lambda paths: True
    assert dialog.export() is not None
    assert (tmp_path / f"{dialog.design.name}.gds").read_bytes() != b"keep me"


def test_a_parallel_plate_part_from_the_dialog(dialog, tmp_path):
    from wavefab.designkit.export.meshes import section

    for kind, box in dialog.formats.items():
        box.setChecked(kind == "stl")
    dialog.height.setText("0.5mm")
    dialog.base.setText("1mm")
    dialog.port_size.setText("1mm")
    assert dialog.export() is None and "lid" in dialog.port_size.toolTip()  # holes need a lid
    dialog.lid.setText("1mm")
    report = dialog.export()
    assert report is not None, dialog.status.text()
    assert report.plates["two_dimensional"] and "plate gap below" in dialog.status.text()
    assert "line the outer 2 mm with absorber" in dialog.status.text()
    assert "inputs reach higher" not in dialog.status.text()  # the lens's band is resolved
    import dataclasses

    scale = {**dialog.design.scale, "band_hz": [dialog.design.scale["band_hz"][0], 5e5]}
    dialog.design = dataclasses.replace(dialog.design, scale=scale)
    dialog.confirm_overwrite = lambda paths: True
    assert dialog.export() is not None
    assert "the inputs reach higher: a gap ≤ 343 µm clears their band" in dialog.status.text()
    mesh = read_mesh(tmp_path / f"{dialog.design.name}.stl")
    lid = section(mesh, 2.0e-3)
    assert sum(len(p.interiors) for p in lid.geoms) == len(dialog.ports) == 2
