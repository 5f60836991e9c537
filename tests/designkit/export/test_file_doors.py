"""The doors for layout, mesh and drawing files: a damaged, crafted or foreign GDS, OASIS, STL,
3MF, OBJ or DXF file is one clear error naming the file and the fix, never a traceback, a
segfault or a hang, from the reader and from the CLI alike.

``tests/data/bad/layout/`` is made by ``tests/data/bad/make_layout_corpus.py`` and
``tests/data/bad/mesh|dxf/`` by ``tests/data/bad/make_mesh_dxf_corpus.py``: the inputs the
fuzzing campaign of issue 18 crashed, hung or tracebacked on, and the bounds around them.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavefab.app.cli import main
from wavefab.designkit.errors import DesignError, FileFormatError
from wavefab.designkit.export import ExportSettings, export_design, file_raster, load_design

DATA = Path(__file__).resolve().parents[2] / "data"
BAD = DATA / "bad"
#: The cell size meshes and drawings are read at (they record none).
PITCH = 0.5e-3

LAYOUT_SAYS = {
    "bit_flipped.oas": "crc32 signature does not match its contents",
    "bit_flipped_unsigned.oas": "the OASIS reader crashed on this file (signal 11, SIGSEGV)",
    "cycle.oas": "cell 'A' references itself",
    "deep_chain.gds": "nests references 101 deep, above the 100 wavefab reads",
    "duplicate_cell.gds": "it defines cell 'A' twice",
    "empty.gds": "the file is empty, not GDSII",
    "empty.oas": "the file is empty, not OASIS",
    "huge_aref.gds": "32,767 × 32,767 times, above the 2,000,000 placements",
    "huge_database_unit.gds": "its database unit is 1e+60 m",
    "huge_placement.oas": "10,000,000,000 cell placements, above the 2,000,000",
    "huge_repetition.oas": "10,000,000,000 shapes, above the 2,000,000",
    "missing_cell.gds": "references cell 'NOPE', which the file does not define",
    "mutual_reference.gds": "cells A → B → A form a cycle",
    "negative_units.gds": "its database unit is -0.001 user units",
    "nested_arefs.gds": "flattens to 1,000,000,000,000 polygons",
    "no_endlib.gds": "without the ENDLIB record",
    "not_oasis.oas": "does not start with the magic '%SEMI-OASIS'",
    "random_bytes.gds": "does not start with a HEADER record",
    "recorded_bad_shape.gds": "its recorded shape '12' is not two positive whole numbers",
    "recorded_huge_shape.gds": "above the 16,000,000 cells wavefab designs take",
    "recorded_nan_pitch.gds": "its recorded pitch 'nan' is not a positive length",
    "recorded_negative_pitch.gds": "its recorded pitch '-1e-06' is not a positive length",
    "recorded_tiny_pitch.gds": "is too fine for its 1 µm × 1 µm extent",
    "self_reference.gds": "cell 'A' references itself",
    "truncated.gds": "runs 28 bytes past the end, and ENDLIB is missing",
    "truncated.oas": "closes with a 256-byte END record, and this one has none",
    "two_point_boundary.gds": "has 2 points, not at least 4",
    "unknown_record.gds": "unknown record type",
    "unnamed_cell.gds": "each cell (BGNSTR) is named by the STRNAME record",
    "xy_outside_element.gds": "belongs inside an element",
    "zero_count_aref.gds": "has 0 × 5 copies; counts are 1 to 32767",
    "zero_record_length.gds": "has length 0 (GDSII records are at least 4 bytes)",
    "zero_unit.oas": "its unit is 0 grid steps per µm",
    "zero_units.gds": "its database unit is 0 m",
}

MESH_SAYS = {
    "absolute_member.3mf": "part '/etc/evil.txt' of the 3MF package is named outside the package",
    "ascii_garbage.stl": "contains no triangles",
    "bit_flipped.3mf": "not a readable 3MF file",
    "bzip2_member.3mf": "uses compression method 12",
    "claims_billion.stl": "records 1,000,000,000 triangles (50,000,000,084 bytes) but the file "
                          "has 284 bytes",
    "component_cycle.3mf": "components refer to each other in a cycle",
    "declared_bomb.3mf": "inflates 270 bytes to 4,096 MiB, more than 1000:1",
    "dotdot_member.3mf": "part '../evil.txt' of the 3MF package is named outside the package",
    "empty.obj": "the file is empty",
    "empty.stl": "the file is empty",
    "flat.stl": "the mesh is flat (no extent in z)",
    "huge_coordinate.stl": "a vertex lies 1e+27 m from the origin",
    "huge_index.obj": "a face refers to a vertex the file does not have",
    "inf_vertex.obj": "a vertex has a NaN or infinite coordinate",
    "inf_vertex_ascii.stl": "a vertex has a NaN or infinite coordinate",
    "instance_bomb.3mf": "places more than 10,000 objects (items and nested components)",
    "missing_vertex.obj": "a face refers to a vertex the file does not have",
    "nan_vertex.stl": "a vertex has a NaN or infinite coordinate",
    "no_model.3mf": "the package has no 3D/3dmodel.model part",
    "no_triangles.3mf": "contains no triangles",
    "not_a_zip.3mf": "not a readable ZIP archive",
    "png_renamed.obj": "it looks like a PNG image",
    "png_renamed.stl": "it looks like a PNG image",
    "ratio_bomb.3mf": "inflates 4,080 bytes to 4 MiB, more than 1000:1",
    "text.obj": "contains no triangles",
    "truncated.3mf": "not a readable ZIP archive",
    "truncated.stl": "records 4 triangles (284 bytes) but the file has 254 bytes",
    "zero_triangles.stl": "the binary STL records 0 triangles",
    "zip_renamed.stl": "it looks like a ZIP archive",
}

DXF_SAYS = {
    "big_arc.dxf": "has an arc (bulge 1e+09) of radius 2.5e+06 m, beyond the 1000 m",
    "binary.dxf": "binary DXF is not read; save it as ASCII DXF",
    "collinear_ring.dxf": "enclose no area",
    "empty.dxf": "the file is empty",
    "garbage_insunits.dxf": "not a readable DXF drawing",
    "huge_bulge.dxf": "has an arc (bulge 1e+300)",
    "huge_coordinate.dxf": "has a coordinate of 1e+297 m, beyond the 1000 m",
    "inf_bulge.dxf": "has a NaN or infinite coordinate or bulge",
    "many_big_arcs.dxf": "need more than 5,000,000 points",
    "nan_vertex.dxf": "has a NaN or infinite coordinate or bulge",
    "open_only.dxf": "has no closed polyline",
    "png_renamed.dxf": "it looks like a PNG image",
    "random_bytes.dxf": "not a readable DXF drawing",
    "truncated.dxf": "not a readable DXF drawing",
    "two_point_ring.dxf": "has no closed polyline with three or more points",
    "unknown_insunits.dxf": "has unsupported $INSUNITS 99",
    "utf16.dxf": "it looks like UTF-16 text",
}

CORPUS = [("layout", name, says) for name, says in LAYOUT_SAYS.items()] + \
         [("mesh", name, says) for name, says in MESH_SAYS.items()] + \
         [("dxf", name, says) for name, says in DXF_SAYS.items()]


@pytest.mark.parametrize("family, table", [("layout", LAYOUT_SAYS), ("mesh", MESH_SAYS),
                                           ("dxf", DXF_SAYS)])
def test_the_corpus_is_the_table(family, table):
    assert sorted(p.name for p in (BAD / family).iterdir()) == sorted(table)


def _read(path: Path) -> object:
    """The file through the door every command uses: rasterized on its grid."""
    layout = path.suffix in (".gds", ".oas")
    return file_raster(path, pitch=None if layout else PITCH)


@pytest.mark.parametrize("family, name, says", CORPUS, ids=[f"{f}/{n}" for f, n, _ in CORPUS])
def test_each_crashing_input_is_one_clear_error(family, name, says):
    start = time.perf_counter()
    with pytest.raises(FileFormatError) as caught:
        _read(BAD / family / name)
    message = str(caught.value)
    assert says in message and name in message, message
    assert "\n" not in message and "Traceback" not in message
    assert time.perf_counter() - start < 30, "a refusal must come quickly, not after a hang"


@pytest.mark.parametrize("name", ["layout/self_reference.gds", "layout/bit_flipped_unsigned.oas",
                                  "mesh/declared_bomb.3mf", "dxf/binary.dxf"])
def test_the_cli_prints_one_line_and_exits_2(name, capsys):
    args = ["drc", str(BAD / name)] + ([] if name.startswith("layout") else ["--pitch", "0.5mm"])
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wavefab drc: error: "), err
    assert Path(name).name in err[0]


# --------------------------------------------------------------------------------------------
# Mutations of good files: only the package's own errors may escape, each with a message.

FORMATS = ("gds", "oas", "stl", "3mf", "obj", "dxf")


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("good")
    design = load_design(DATA / "golden" / "results")
    paths = [folder / f"good.{kind}" for kind in FORMATS]
    export_design(design, paths, ExportSettings(height=2e-3, base=1e-3, allow_violations=True))
    files = {kind: path.read_bytes() for kind, path in zip(FORMATS, paths, strict=True)}
    for kind, path in zip(FORMATS, paths, strict=True):
        _read(path)  # each good file passes its door
        assert files[kind], kind
    return files


_MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                        min_size=1, max_size=8)),
    st.tuples(st.just("stamp"), st.floats(0, 1),
              st.sampled_from([b"\0\0\0\0", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff",
                               b"\x80\0\0\0", b"nan ", b"1e999", b"-0\n"])),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.floats(0, 1), st.integers(2, 50)),
)


def _mutated(data: bytes, mutation: tuple) -> bytes:
    kind, *args = mutation
    at = lambda fraction: min(int(fraction * len(data)), len(data) - 1)  # noqa: E731
    if kind == "truncate":
        return data[:at(args[0])]
    if kind == "stamp":
        start = at(args[0])
        return data[:start] + args[1] + data[start + len(args[1]):]
    if kind == "repeat":
        start, stop = sorted((at(args[0]), at(args[1])))
        return data[:stop] + data[start:stop] * args[2] + data[stop:]
    mutable = bytearray(data)
    for fraction, mask in args[0]:
        mutable[at(fraction)] ^= mask
    return bytes(mutable)


#: Files of a results folder and of a project, mutated in place in a copy of the golden ones.
FOLDER_FILES = {"design.npz": "results", "metrics.json": "results", "config.yaml": "results",
                "project.yaml": "project"}


def _read_folder_file(path: Path) -> object:
    """A mutated results or project file, read as the commands read it."""
    if path.name == "config.yaml":
        from wavefab.designkit.config import load_config

        return load_config(path)
    if path.name == "project.yaml":
        from wavefab.designkit.project import load_project

        return load_project(path.parent)
    from wavefab.designkit.results import read_results

    read_results(path.parent)
    return load_design(path.parent)


def _campaign(folder: Path, good: dict[str, bytes], kind: str, examples: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    if kind in FOLDER_FILES:
        source = DATA / "golden" / FOLDER_FILES[kind]
        trial_folder = folder / "trial"
        shutil.copytree(source, trial_folder, ignore=shutil.ignore_patterns("checkpoint"))
        trial = trial_folder / kind
        good = {kind: (source / kind).read_bytes()}
        read = _read_folder_file
    else:
        trial = folder / f"trial.{kind}"
        read = _read

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(_MUTATIONS)
    def one(mutation: tuple) -> None:
        trial.write_bytes(_mutated(good[kind], mutation))
        start = time.perf_counter()
        try:
            read(trial)
            outcomes["read"] += 1
        except DesignError as exc:
            message = str(exc)
            assert message, type(exc)
            # a configuration lists each of its problems on a line of its own
            assert "\n" not in message or message.count("\n  - ") == message.count("\n"), \
                repr(message)
            outcomes[type(exc).__name__] += 1
        assert time.perf_counter() - start < 60, f"{mutation} took past a minute"

    one()
    return outcomes


@pytest.mark.parametrize("kind", FORMATS + tuple(FOLDER_FILES))
def test_mutated_files_raise_only_clean_errors(kind, good_files, tmp_path):
    outcomes = _campaign(tmp_path, good_files, kind, 12 if kind == "oas" else 25)
    print(kind, dict(outcomes))
    assert sum(n for name, n in outcomes.items() if name != "read") > 0


@pytest.mark.slow
@pytest.mark.fuzz
@pytest.mark.parametrize("kind", FORMATS + tuple(FOLDER_FILES))
def test_fuzz_mutated_files_at_length(kind, good_files, tmp_path):
    outcomes = _campaign(tmp_path, good_files, kind, 1000)
    print(kind, dict(outcomes))


def test_a_database_unit_the_readers_refuse_is_refused_when_writing(tmp_path):
    """Written files are the ones the doors take: no export that only its read-back rejects."""
    import shapely

    from wavefab.designkit.errors import DesignValueError
    from wavefab.designkit.export.layout import write_layout

    square = shapely.box(0, 0, 1e-4, 1e-4)
    with pytest.raises(DesignValueError, match="database unit must lie in"):
        write_layout(square, tmp_path / "fine.gds", name="fine", bounds=square.bounds,
                     database_unit=1e-16)
    assert not (tmp_path / "fine.gds").exists()
    write_layout(square, tmp_path / "ok.gds", name="ok", bounds=square.bounds,
                 database_unit=1e-12)
    assert file_raster(tmp_path / "ok.gds", pitch=1e-5).coverage.sum() > 0


def test_the_cell_bound_holds_for_the_rounded_up_grid():
    from wavefab.designkit.export.reader import _covering_grid
    from wavefab.designkit.results import MAX_DESIGN_CELLS

    side = MAX_DESIGN_CELLS ** 0.5  # 4000: a hair above it per side rounds up past the bound
    with pytest.raises(DesignError, match="larger --pitch"):
        _covering_grid("x.gds", (0.0, 0.0, side + 0.2, side - 0.5), 1.0)
    assert _covering_grid("x.gds", (0.0, 0.0, side, side), 1.0) == (4000, 4000)


# --------------------------------------------------------------------------------------------
# Found by a second reading: each was read (or refused) wrongly before.

def _repacked_3mf(good: bytes, edit, *, duplicate: bytes | None = None) -> bytes:
    """``good`` with its model's XML passed through ``edit`` (and a second model appended)."""
    import io
    import warnings
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.lower().endswith("3dmodel.model"):
                data = edit(data)
            target.writestr(info.filename, data)
        if duplicate is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
                target.writestr("3D/3dmodel.model", duplicate)
    return out.getvalue()


def test_a_3mf_of_many_items_without_components_is_counted(good_files, tmp_path):
    import re

    def many_items(xml: bytes) -> bytes:
        item = re.search(rb"<item [^>]*/>", xml).group(0)
        return xml.replace(item, item * 10_001)

    path = tmp_path / "items.3mf"
    path.write_bytes(_repacked_3mf(good_files["3mf"], many_items))
    start = time.perf_counter()
    with pytest.raises(FileFormatError, match="places more than 10,000 objects"):
        _read(path)
    assert time.perf_counter() - start < 10


def test_a_3mf_with_its_model_twice_is_refused(good_files, tmp_path):
    path = tmp_path / "twice.3mf"
    path.write_bytes(_repacked_3mf(good_files["3mf"], lambda xml: xml, duplicate=b"<model/>"))
    with pytest.raises(FileFormatError, match=r"holds part .3D/3dmodel\.model. twice"):
        _read(path)


def test_a_mesh_beyond_a_kilometre_is_refused_and_a_metre_one_read(tmp_path):
    import trimesh

    from wavefab.designkit.export.meshes import read_mesh

    far = trimesh.creation.box((10.0, 10.0, 10.0))
    far.apply_translation((2e6, 0.0, 0.0))  # 2 km in mm
    far.export(tmp_path / "far.stl")
    with pytest.raises(FileFormatError, match=r"a vertex lies 2e\+03 m"):
        read_mesh(tmp_path / "far.stl")
    near = trimesh.creation.box((10.0, 10.0, 10.0))
    near.apply_translation((900.0, 0.0, 0.0))  # 0.9 m
    near.export(tmp_path / "near.stl")
    assert read_mesh(tmp_path / "near.stl").bounds[1][0] == pytest.approx(905.0)


def test_a_bulge_of_float_noise_is_a_straight_edge(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus", BAD / "make_mesh_dxf_corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    path = tmp_path / "noise.dxf"
    path.write_bytes(corpus.dxf(corpus.lwpolyline(((0, 0), (10, 0, 1e-8), (10, 10), (0, 10)))))
    raster = file_raster(path, pitch=PITCH)
    assert raster.coverage.sum() * PITCH**2 == pytest.approx(1e-4, rel=1e-6)  # 10 mm square
