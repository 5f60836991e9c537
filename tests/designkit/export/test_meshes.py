"""Meshes: watertight extrusions with the right volume, file round trips, sections, printability."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import shapely
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import LineString, Polygon, box

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import meshes

MM = 1e-3
PITCH = 0.5 * MM


def grid_geometry(cells: np.ndarray, pitch: float = PITCH) -> shapely.Geometry:
    """Union of the true cells of a boolean grid, row 0 at the bottom (y up)."""
    rows, cols = np.nonzero(cells)
    return shapely.union_all(
        shapely.box(cols * pitch, rows * pitch, (cols + 1) * pitch, (rows + 1) * pitch)
    )


def expected_volume_mm3(geometry, height, base, frame, bounds) -> float:
    xmin, ymin, xmax, ymax = bounds
    plate = (xmax - xmin) * (ymax - ymin)
    ring = (xmax - xmin + 2 * frame) * (ymax - ymin + 2 * frame) - plate if frame else 0.0
    return (geometry.area * height + plate * base + ring * (base + height)) * 1e9


grids = arrays(np.bool_, st.tuples(st.integers(1, 7), st.integers(1, 7))).filter(np.any)
lengths = st.floats(0.1, 4.0).map(lambda v: v * MM)
optional = st.one_of(st.just(0.0), lengths)


@settings(max_examples=30, deadline=None)
@given(cells=grids, height=lengths, base=optional, frame=optional)
def test_extrusion_is_watertight_with_exact_volume_through_every_format(
    cells, height, base, frame, tmp_path_factory
):
    geometry = grid_geometry(cells)
    ny, nx = cells.shape
    bounds = (0.0, 0.0, nx * PITCH, ny * PITCH)
    mesh = meshes.extrude(geometry, height, base=base, frame=frame, bounds=bounds)
    report = meshes.mesh_report(mesh)
    assert report["watertight"] and report["winding_consistent"]
    expected = expected_volume_mm3(geometry, height, base, frame, bounds)
    assert report["volume_mm3"] == pytest.approx(expected, rel=1e-6)
    assert report["triangles"] == len(mesh.faces)
    if base > 0:
        assert report["bodies"] == 1
    low, high = np.array(report["bounds_mm"])
    corner = np.array(bounds[:2]) - frame if base or frame else np.array(geometry.bounds[:2])
    assert low == pytest.approx([*(corner / MM), 0.0], abs=1e-6)  # CrossSection: 1e-8 mm grid
    assert high[2] == pytest.approx((base + height) / MM)
    # every shell closed on its own
    assert all(part.is_watertight for part in mesh.split(only_watertight=False))

    # the walls cut at mid-height give the design back (the frame lies outside the bounds)
    cut = meshes.section(mesh, base + height / 2).intersection(box(*bounds))
    assert cut.symmetric_difference(geometry).area <= 1e-6 * geometry.area

    folder = tmp_path_factory.mktemp("mesh")
    for suffix, rel in ((".stl", 1e-5), (".3mf", 1e-7), (".obj", 1e-7)):
        path = meshes.write_mesh(mesh, folder / f"design{suffix}")
        back = meshes.read_mesh(path)
        assert back.is_watertight and back.is_winding_consistent, suffix
        assert back.volume == pytest.approx(mesh.volume, rel=rel), suffix
    assert sorted(p.name for p in folder.iterdir()) == ["design.3mf", "design.obj", "design.stl"]


def test_holes_and_islands_in_holes_keep_their_nesting():
    outer = box(0, 0, 10 * MM, 10 * MM).difference(box(2 * MM, 2 * MM, 8 * MM, 8 * MM))
    geometry = shapely.union(outer, box(4 * MM, 4 * MM, 6 * MM, 6 * MM))
    mesh = meshes.extrude(geometry, 1 * MM)
    report = meshes.mesh_report(mesh)
    assert report["watertight"] and report["bodies"] == 2
    assert report["volume_mm3"] == pytest.approx((100 - 36 + 4) * 1.0)
    cut = meshes.section(mesh, 0.5 * MM)
    assert len(cut.geoms) == 2
    assert sorted(len(p.interiors) for p in cut.geoms) == [0, 1]
    assert cut.symmetric_difference(geometry).area < 1e-12
    # with a base plate everything is one body; the hole is open down to the plate
    plated = meshes.extrude(geometry, 1 * MM, base=0.5 * MM, bounds=(0, 0, 10 * MM, 10 * MM))
    assert meshes.mesh_report(plated)["bodies"] == 1
    assert plated.volume == pytest.approx(68.0 + 50.0)
    assert meshes.section(plated, 0.25 * MM).area == pytest.approx(100 * MM**2)


def test_separate_islands_are_separate_closed_bodies():
    geometry = shapely.MultiPolygon([box(0, 0, MM, MM), box(3 * MM, 0, 4 * MM, 2 * MM)])
    mesh = meshes.extrude(geometry, 2 * MM)
    parts = mesh.split(only_watertight=False)
    assert meshes.mesh_report(mesh)["bodies"] == 2
    assert sorted(p.volume for p in parts) == pytest.approx([2.0, 4.0])
    assert all(p.is_watertight and p.volume > 0 for p in parts)


def test_corner_contacts_are_welded_into_one_manifold_body(tmp_path):
    checker = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=bool)
    geometry = grid_geometry(checker)
    mesh = meshes.extrude(geometry, 1 * MM)
    report = meshes.mesh_report(mesh)
    assert report["welded_pinches"] == 4
    assert report["bodies"] == 1 and report["watertight"]
    assert report["volume_mm3"] == pytest.approx(5 * 0.25, rel=1e-6)
    back = meshes.read_mesh(meshes.write_mesh(mesh, tmp_path / "checker.stl"))
    assert back.is_watertight and back.body_count == 1


def test_outward_normals():
    mesh = meshes.extrude(box(0, 0, MM, MM), MM)
    assert mesh.volume > 0
    top = mesh.triangles_center[:, 2] > 1.0 - 1e-9
    assert np.allclose(mesh.face_normals[top], [0, 0, 1])


def test_frame_is_a_wall_outside_the_bounds():
    geometry = box(1 * MM, 1 * MM, 2 * MM, 2 * MM)
    bounds = (0.0, 0.0, 3 * MM, 3 * MM)
    mesh = meshes.extrude(geometry, 2 * MM, frame=1 * MM, bounds=bounds)
    assert meshes.mesh_report(mesh)["bodies"] == 2  # island + free-standing frame
    assert mesh.volume == pytest.approx(1 * 2 + (25 - 9) * 2)
    assert mesh.bounds.ravel() == pytest.approx([-1, -1, 0, 4, 4, 2])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"height": 0.0}, "height"),
        ({"height": -1e-3}, "height"),
        ({"height": float("nan")}, "height"),
        ({"height": "tall"}, "height"),
        ({"height": 1e-3, "base": -1e-3}, "base"),
        ({"height": 1e-3, "frame": -1e-3}, "frame"),
        ({"height": 1e-3, "bounds": (0, 0, -1, 1)}, "bounds"),
        ({"height": 1e-3, "bounds": (0, 0, 1e-4, 1e-4)}, "bounds"),  # geometry in mm, say
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(DesignValueError, match=field):
        meshes.extrude(box(0, 0, MM, MM), **kwargs)


@pytest.mark.parametrize(
    "geometry", [Polygon(), shapely.MultiPolygon(), LineString([(0, 0), (1, 1)]), "square"]
)
def test_bad_geometry_is_refused(geometry):
    with pytest.raises(DesignValueError, match="geometry"):
        meshes.extrude(geometry, MM)


def test_mm_coordinates_against_metre_bounds_are_refused():
    with pytest.raises(DesignValueError, match="outside bounds"):
        meshes.extrude(box(0, 0, 5, 5), MM, base=MM, bounds=(0, 0, 5 * MM, 5 * MM))


def test_unknown_suffix_lists_the_supported_ones(tmp_path):
    mesh = meshes.extrude(box(0, 0, MM, MM), MM)
    with pytest.raises(DesignValueError, match=r"\.stl, \.3mf, \.obj"):
        meshes.write_mesh(mesh, tmp_path / "design.ply")
    with pytest.raises(DesignValueError, match="supported"):
        meshes.read_mesh(tmp_path / "design.step")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DesignValueError, match="mesh"):
        meshes.write_mesh(trimesh.Trimesh(), tmp_path / "empty.stl")


@pytest.mark.parametrize("suffix", [".stl", ".3mf", ".obj"])
@pytest.mark.parametrize(
    "content",
    [None, b"", b"this is not a mesh\n", b"\x00\xff" * 50],
    ids=["missing", "empty", "text", "binary"],
)
def test_unreadable_files_are_refused(tmp_path, suffix, content):
    path = tmp_path / f"bad{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DesignValueError, match="bad"):
        meshes.read_mesh(path)


def test_3mf_is_a_valid_package_in_millimetres(tmp_path):
    mesh = meshes.extrude(box(0, 0, MM, 2 * MM), 3 * MM)
    path = meshes.write_mesh(mesh, tmp_path / "part.3mf")
    with zipfile.ZipFile(path) as zf:
        assert {"[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"} <= set(zf.namelist())
        model = zf.read("3D/3dmodel.model").decode()
    assert 'unit="millimeter"' in model
    back = meshes.read_mesh(path)
    assert np.allclose(np.sort(back.vertices, axis=0), np.sort(mesh.vertices, axis=0), atol=1e-9)
    assert back.volume == pytest.approx(mesh.volume)


class _Boom(RuntimeError):
    pass


def _fail_after_partial_write(fh, *args, **kwargs):
    fh.write(b"partial")
    raise _Boom("disk full")


@pytest.mark.parametrize("suffix", [".stl", ".3mf", ".obj"])
def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch, suffix):
    mesh = meshes.extrude(box(0, 0, MM, MM), MM)
    if suffix == ".stl":
        monkeypatch.setattr(
            trimesh.Trimesh,
            "export",
            lambda self, file_obj, **kw: _fail_after_partial_write(file_obj),
        )
    else:

        def broken(*args, **kwargs):
            raise _Boom("disk full")

        if suffix == ".3mf":
            monkeypatch.setattr(trimesh.Trimesh, "export", broken)
        else:
            monkeypatch.setattr(trimesh.exchange.obj, "export_obj", broken)
    with pytest.raises(_Boom):
        meshes.write_mesh(mesh, tmp_path / f"new{suffix}")
    assert list(tmp_path.iterdir()) == []

    old = tmp_path / f"old{suffix}"
    old.write_bytes(b"previous version")
    with pytest.raises(_Boom):
        meshes.write_mesh(mesh, old)
    assert old.read_bytes() == b"previous version"
    assert [p.name for p in tmp_path.iterdir()] == [old.name]


def test_section_misses_and_bad_height():
    mesh = meshes.extrude(box(0, 0, MM, MM), MM)
    assert meshes.section(mesh, 5 * MM).is_empty
    with pytest.raises(DesignValueError, match="z"):
        meshes.section(mesh, float("inf"))


def test_section_through_vertices_uses_the_general_cut():
    cube = trimesh.creation.box((2.0, 4.0, 2.0)).subdivide()  # vertices at z = 0 (mm)
    assert np.any(cube.vertices[:, 2] == 0.0)
    cut = meshes.section(cube, 0.0)
    assert cut.area == pytest.approx(8 * MM**2)
    assert cut.bounds == pytest.approx((-1 * MM, -2 * MM, 1 * MM, 2 * MM))


def _wall(width_mm: float) -> shapely.Geometry:
    """A 6 mm × 2 mm block with a wall of the given width standing on it, 4 mm tall."""
    x0 = 3 - width_mm / 2
    return shapely.union(
        box(0, 0, 6 * MM, 2 * MM), box(x0 * MM, 2 * MM, (x0 + width_mm) * MM, 6 * MM)
    )


def test_printable_refuses_a_thin_wall():
    with pytest.raises(DesignValueError) as info:
        meshes.check_printable(_wall(0.3), 0.8 * MM, 0.0)
    message = str(info.value)
    assert "0.3 mm" in message and "minimum wall 0.8 mm" in message
    assert "pitch ≥ 2.67×" in message and "min_feature ≥ 0.8 mm" in message


def test_printable_refuses_a_narrow_gap_and_a_small_hole():
    slot = box(0, 0, 7 * MM, 7 * MM).difference(box(3 * MM, 2 * MM, 3.5 * MM, 7 * MM))
    with pytest.raises(DesignValueError, match=r"gap below .* minimum hole 1 mm .*0\.5 mm"):
        meshes.check_printable(slot, 0.8 * MM, 1.0 * MM)
    pinhole = box(0, 0, 5 * MM, 5 * MM).difference(box(2 * MM, 2 * MM, 2.5 * MM, 2.5 * MM))
    with pytest.raises(DesignValueError, match=r"0\.5 mm"):
        meshes.check_printable(pinhole, 0.8 * MM, 1.0 * MM)
    # the same slot is fine for a process that can make 0.5 mm holes
    assert meshes.check_printable(slot, 0.8 * MM, 0.5 * MM)["narrowest_hole_mm"] == pytest.approx(
        0.5, rel=0.011
    )


def test_printable_passes_walls_of_exactly_the_rule_and_measures_them():
    report = meshes.check_printable(_wall(1.0), 1.0 * MM, 1.0 * MM, bounds=(0, 0, 6 * MM, 6 * MM))
    assert report["min_wall_mm"] == pytest.approx(1.0)
    assert report["thinnest_wall_mm"] == pytest.approx(1.0, rel=0.011)
    assert report["thinnest_wall_mm"] >= 1.0
    square = meshes.check_printable(box(0, 0, 0.8 * MM, 0.8 * MM), 0.8 * MM, 1.0 * MM)
    assert square["narrowest_hole_mm"] is None  # no void inside the bounds
    gap = meshes.check_printable(_wall(1.0), 1.0 * MM, 2.5 * MM, closed_bounds=True)
    assert gap["narrowest_hole_mm"] == pytest.approx(2.5, rel=0.011)
    with pytest.raises(DesignValueError, match="gap"):
        meshes.check_printable(_wall(1.0), 1.0 * MM, 2.6 * MM, closed_bounds=True)


@settings(max_examples=20, deadline=None)
@given(cells=grids)
def test_any_grid_is_printable_at_its_pitch(cells):
    ny, nx = cells.shape
    bounds = (0.0, 0.0, nx * PITCH, ny * PITCH)
    geometry = grid_geometry(cells)
    meshes.check_printable(geometry, PITCH, PITCH, bounds=bounds, measure=False)
    if cells.all() or not cells.any(axis=0).all() or not cells.any(axis=1).all():
        return
    # a design with a one-cell feature somewhere fails just above the pitch
    thin = np.zeros((3, 5), dtype=bool)
    thin[1, :] = True
    with pytest.raises(DesignValueError, match="solid feature"):
        meshes.check_printable(grid_geometry(thin), 1.01 * PITCH, 0.0, measure=False)


def test_printable_bad_rules():
    with pytest.raises(DesignValueError, match="min_wall"):
        meshes.check_printable(box(0, 0, MM, MM), -1.0, 0.0)
    with pytest.raises(DesignValueError, match="min_hole"):
        meshes.check_printable(box(0, 0, MM, MM), 0.0, float("nan"))


def test_stl_is_binary(tmp_path):
    path = meshes.write_mesh(meshes.extrude(box(0, 0, MM, MM), MM), tmp_path / "a.stl")
    data = path.read_bytes()
    assert len(data) == 84 + 50 * 12  # 80-byte header, count, 50 bytes per triangle
    assert meshes.read_mesh(path).is_watertight


def test_the_plate_gap_is_judged_against_the_whole_band_when_the_inputs_reach_higher():
    from wavefab.designkit.export import plate_report

    # the printed vowel part: the recordings' 99% band reaches 455 kHz, the grid resolves 137
    scale = {"pitch_m": 0.25e-3, "wave_speed_m_s": 343.0, "band_hz": [47.9e3, 454.7e3],
             "resolved_up_to_hz": 137.2e3, "absorber_m": 5e-3}
    plates = plate_report(1e-3, scale)
    assert plates["two_dimensional"] is True  # against what the grid resolves
    assert plates["two_dimensional_over_band"] is False  # 171.5 kHz cut-on < 455 kHz
    assert plates["max_gap_for_band_m"] == pytest.approx(343.0 / 454.7e3 / 2)  # 0.377 mm
    assert plate_report(0.35e-3, scale)["two_dimensional_over_band"] is True
    bigger = plate_report(1e-3, scale, pitch=0.5e-3)  # the same device twice the size
    assert bigger["band_top_hz"] == pytest.approx(454.7e3 / 2)
    assert bigger["absorber_m"] == pytest.approx(10e-3)
    lens = {"pitch_m": 1e-4, "wave_speed_m_s": 343.0, "band_hz": [85e3, 200e3],
            "resolved_up_to_hz": 343e3}
    assert "two_dimensional_over_band" not in plate_report(0.5e-3, lens)  # band resolved


def test_a_parallel_plate_part_with_port_holes_in_its_lid(lens_fab_result, tmp_path, capsys):
    """The 2D acoustic design between two plates, open where speaker and microphones go."""
    import json

    from wavefab.app.cli import main
    from wavefab.designkit.export.meshes import read_mesh, section

    report_path = tmp_path / "plates.json"
    assert main(["export", str(lens_fab_result), "--stl", str(tmp_path / "lens.stl"),
                 "--height", "0.5mm", "--base", "1mm", "--lid", "1mm", "--ports", "1mm",
                 "--report", str(report_path)]) == 0
    assert "edges: the outer 2 mm all round" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    plates = report["plates"]
    assert plates["gap_m"] == pytest.approx(0.5e-3) and plates["two_dimensional"] is True
    assert plates["first_cut_on_hz"] == pytest.approx(343.0 / 1e-3)  # c / (2 · gap)
    assert plates["absorber_m"] == pytest.approx(20 * 0.1e-3)  # the lens's 20-cell PML
    mesh = read_mesh(tmp_path / "lens.stl")
    assert mesh.is_watertight
    width = 140 * 0.1  # mm
    lid = section(mesh, 2.0e-3)  # mid-lid: the plate minus one hole per port (source, focus)
    assert len(lid.geoms) == 1 and len(lid.geoms[0].interiors) == 2
    hole = np.pi * 0.5**2  # mm²
    assert lid.area * 1e6 == pytest.approx(width * width - 2 * hole, rel=1e-3)
    # a gap wider than half the shortest wavelength is reported as not two-dimensional
    assert main(["export", str(lens_fab_result), "--stl", str(tmp_path / "tall.stl"),
                 "--height", "3mm", "--base", "1mm", "--lid", "1mm",
                 "--report", str(report_path)]) == 0
    assert json.loads(report_path.read_text())["plates"]["two_dimensional"] is False
    # a run whose inputs reach past the cut-on: the export says which height clears them
    import shutil

    wide = tmp_path / "wide"
    shutil.copytree(lens_fab_result, wide)
    metrics = json.loads((wide / "metrics.json").read_text())
    metrics["fabrication"]["scale"]["band_hz"][1] = 5e5  # above the 343 kHz the grid resolves
    (wide / "metrics.json").write_text(json.dumps(metrics))
    capsys.readouterr()
    assert main(["export", str(wide), "--stl", str(tmp_path / "wide.stl"), "--height", "0.5mm",
                 "--base", "1mm", "--lid", "1mm"]) == 0
    assert "the inputs reach 5e+05 Hz, above the cut-on: --height ≤ 343 µm" in \
        capsys.readouterr().out
    # the same part at twice the pitch: twice the size, half the frequencies
    assert main(["export", str(lens_fab_result), "--stl", str(tmp_path / "big.stl"),
                 "--pitch", "0.2mm", "--height", "0.5mm", "--base", "1mm", "--lid", "1mm",
                 "--report", str(report_path)]) == 0
    big = json.loads(report_path.read_text())["plates"]
    assert big["absorber_m"] == pytest.approx(2 * plates["absorber_m"])
    assert big["highest_frequency_hz"] == pytest.approx(plates["highest_frequency_hz"] / 2)
