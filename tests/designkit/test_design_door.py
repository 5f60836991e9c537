"""The one door for ``design.npz``: a damaged, crafted or foreign file is one clear error from
every command that reads a design (``drc``, ``verify``, ``export``), never a traceback.

``tests/data/bad/design/`` is made by ``tests/data/bad/make_design_corpus.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from wavefab.app.cli import main
from wavefab.designkit.errors import DesignError, FileFormatError
from wavefab.designkit.npzfile import read_npz
from wavefab.designkit.results import load_design, read_results

BAD = Path(__file__).resolve().parents[1] / "data" / "bad" / "design"

SAYS = {
    "array_rule.npz": "min_void_cells must be one whole number, got shape (4,)",
    "binary_of_twos.npz": "binary must hold 0/1",
    "bit_flipped.npz": "Bad CRC-32",
    "claims_huge_shape.npz": "of shape (1000000000, 1000000000) takes the file past",
    "dotdot_member.npz": "member '../binary.npy' is not a plain array name",
    "empty.npz": "the file is empty",
    "flat_binary.npz": "binary must be a 2-D grid, got shape (400,)",
    "fractional_fold.npz": "fold must be a whole number",
    "huge_rule.npz": "min_solid_cells must be a whole number from 0 to the grid side (20)",
    "rule_wider_than_grid.npz": "min_void_cells must be a whole number from 0 to the grid side",
    "huge_fold.npz": "fold must be a whole number from 0 to 10,000",
    "inf_filtered.npz": "filtered holds NaN or infinite values",
    "mismatched_region.npz": "region has shape (5, 5), the other arrays (20, 20)",
    "nan_density.npz": "density holds NaN or infinite values",
    "nan_rule.npz": "min_solid_cells must be a whole number",
    "negative_rule.npz": "min_solid_cells must be a whole number from 0",
    "no_design.npz": "has neither 'binary' nor 'density'",
    "not_a_zip.npz": "not a design file, or a damaged one",
    "not_npy_member.npz": "member 'binary.txt' is not a plain array name",
    "object_array.npz": "has dtype object",
    "single_npy.npz": "a single .npy array, not a design file",
    "string_rule.npz": "array 'min_solid_cells' has dtype <U5",
    "too_many_members.npz": "100 members",
    "truncated.npz": "not a design file, or a damaged one",
}


def test_the_corpus_is_the_table():
    assert sorted(p.name for p in BAD.glob("*.npz")) == sorted(SAYS)


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name.removesuffix(".npz")
    folder.mkdir()
    shutil.copyfile(BAD / name, folder / "design.npz")
    return folder


@pytest.mark.parametrize("name", sorted(SAYS))
def test_each_bad_design_is_refused_by_name(name: str, tmp_path):
    with pytest.raises(DesignError) as caught:
        load_design(_folder(tmp_path, name))
    message = str(caught.value)
    assert SAYS[name] in message and "design.npz" in message, message
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(SAYS))
@pytest.mark.parametrize("command", [["drc"], ["verify", "{out}/any.gds"],
                                     ["export", "--gds", "{out}/x.gds"]])
def test_every_command_refuses_it_with_exit_2(name: str, command: list[str], tmp_path, capsys):
    folder = _folder(tmp_path, name)
    args = [a.replace("{out}", str(tmp_path)) for a in command]
    assert main([args[0], str(folder), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wavefab {args[0]}: error:") and "Traceback" not in err
    assert SAYS[name] in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.gds").exists()


def _maker():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_design_corpus",
                                                  BAD.parent / "make_design_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_script_names_every_file():
    assert sorted(_maker().corpus()) == sorted(SAYS)


def test_a_good_design_reads(tmp_path):
    maker = _maker()
    folder = tmp_path / "good"
    folder.mkdir()
    (folder / "design.npz").write_bytes(maker._npz(**maker._good()))
    design = load_design(folder)
    assert design.shape == (20, 20) and design.min_solid_cells == 2
    assert read_results(folder).arrays["fold"].dtype.kind == "i"


def test_nothing_is_ever_unpickled(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, binary=np.array([object()], dtype=object))
    with pytest.raises(FileFormatError, match="dtype object"):
        read_npz(path)


@pytest.mark.parametrize(("pitch", "says"), [
    ("NaN", "fabrication.pitch_m must be a positive length"),
    ("-1e-6", "fabrication.pitch_m must be a positive length"),
    ('"50um"', "got '50um'"),
    ("1e300", "up to 1 m"),
])
def test_a_bad_recorded_pitch_is_named(pitch: str, says: str, tmp_path, capsys):
    maker = _maker()
    folder = tmp_path / "result"
    folder.mkdir()
    (folder / "design.npz").write_bytes(maker._npz(**maker._good()))
    (folder / "metrics.json").write_text('{"fabrication": {"pitch_m": ' + pitch + "}}")
    with pytest.raises(FileFormatError, match=r"metrics\.json") as caught:
        load_design(folder)
    assert says in str(caught.value)
    assert main(["export", str(folder), "--gds", str(tmp_path / "x.gds")]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.gds").exists()


@pytest.mark.parametrize(("text", "says"), [
    (b'{"fabrication": {"pitch_m": 1e-4', "is damaged: not readable JSON"),
    (b"\xff\xfe{\x00}\x00", "is damaged: not readable JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"[1, 2]", "holds a JSON list, not the mapping a run writes"),
])
def test_a_damaged_metrics_file_is_named_not_ignored(text: bytes, says: str, tmp_path, capsys):
    """It holds the pitch and process: ignoring it would make a scaled design look unscaled."""
    maker = _maker()
    folder = tmp_path / "result"
    folder.mkdir()
    (folder / "design.npz").write_bytes(maker._npz(**maker._good()))
    (folder / "metrics.json").write_bytes(text)
    with pytest.raises(FileFormatError, match=r"metrics\.json") as caught:
        load_design(folder)
    assert says in str(caught.value) and "restore the file" in str(caught.value)
    assert main(["drc", str(folder)]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


def test_export_at_the_widest_rule_finishes(tmp_path, capsys):
    """A rule as wide as the grid is accepted, and the export's checks of it end quickly."""
    maker = _maker()
    folder = tmp_path / "result"
    folder.mkdir()
    arrays = {**maker._good(), "min_solid_cells": np.asarray(20), "min_void_cells": np.asarray(20)}
    (folder / "design.npz").write_bytes(maker._npz(**arrays))
    (folder / "metrics.json").write_text('{"fabrication": {"pitch_m": 1e-6}}')
    assert main(["export", str(folder), "--gds", str(tmp_path / "x.gds"),
                 "--allow-violations"]) == 0
    assert (tmp_path / "x.gds").stat().st_size > 0
