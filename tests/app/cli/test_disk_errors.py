"""The file system says no: a results path that is a file, a missing input, a read-only folder,
a full disk. Each is one line naming the path and the fix, exit 2, and what was there before is
untouched; a full disk mid-run or mid-export leaves only whole files and no temporaries.

Read-only and full file systems are real tmpfs mounts (root only; skipped elsewhere).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from wavefab.app.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.WavefabWarning")

TINY = Path(__file__).resolve().parents[2] / "data" / "sweep" / "tiny_lens.yaml"
GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden" / "results"
EXPORTS = ("gds", "oas", "stl", "3mf", "obj", "dxf", "svg", "png")


def _error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The one error line the command printed last on stderr (estimates may come before)."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "no message"
    assert "Traceback" not in "\n".join(err)
    line = err[-1]
    assert line.startswith(f"wavefab {command}: error: "), line
    return line


def _mount(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a tmpfs mount needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """An empty read-only file system."""
    yield from _mount(tmp_path / "ro", "ro,size=1m")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB file system: room for a config and a checkpoint, not for a run's results."""
    yield from _mount(tmp_path / "small", "size=64k")


@pytest.fixture
def export_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB file system: room for one export in every format."""
    yield from _mount(tmp_path / "exports", "size=512k")


def _hidden(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*")]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir() if p.is_file()}


def test_a_results_path_that_is_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("my notes\n")
    assert main(["run", str(TINY), "--out", str(taken)]) == 2
    line = _error_line(capsys, "run")
    assert str(taken) in line and "choose another path" in line
    assert taken.read_text() == "my notes\n"
    assert main(["run", str(TINY), "--out", str(taken / "inside")]) == 2
    line = _error_line(capsys, "run")
    assert "not a directory" in line and "a part of the path is a file" in line
    assert taken.read_text() == "my notes\n"


@pytest.mark.parametrize("command", [
    ["run", "{missing}.yaml"],
    ["drc", "{missing}"],
    ["export", "{missing}", "--gds", "{tmp}/a.gds"],
    ["verify", str(GOLDEN), "{missing}.gds"],
    ["verify", "{missing}", str(GOLDEN.parent / "files" / "golden.gds")],
    pytest.param(["gui", "{missing}", "--screenshot", "{tmp}/a.png"], marks=pytest.mark.gui),
])
def test_a_missing_input_is_one_line_naming_it(command, tmp_path, capsys, request):
    if command[0] == "gui":  # Qt's application must outlive the test (pytest-qt's own)
        pytest.importorskip("pytestqt")
        request.getfixturevalue("qapp")
    missing = tmp_path / "nowhere"
    argv = [a.format(missing=missing, tmp=tmp_path) for a in command]
    assert main(argv) == 2
    line = _error_line(capsys, argv[0])
    assert str(missing) in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing is written"


def test_a_read_only_results_folder_is_refused_before_any_work(read_only, capsys):
    out = read_only / "lens"
    assert main(["run", str(TINY), "--out", str(out)]) == 2
    line = _error_line(capsys, "run")
    assert str(out) in line and "read-only" in line and "writable folder" in line
    assert not out.exists()
    assert main(["export", str(GOLDEN), "--gds", str(read_only / "a.gds")]) == 2
    assert "read-only" in _error_line(capsys, "export")
    assert list(read_only.iterdir()) == []


def test_a_disk_that_fills_during_a_run_leaves_only_whole_files(small_disk, capsys,
                                                                 assert_complete):
    out = small_disk / "lens"
    assert main(["run", str(TINY), "--out", str(out)]) == 2
    line = _error_line(capsys, "run")
    assert "no space left on device" in line and str(out) in line, line
    assert "free space" in line
    assert _hidden(out) == []
    assert assert_complete(out) >= 2  # the config and the checkpoint fitted


def test_a_disk_that_fills_during_export_keeps_every_earlier_file(export_disk, capsys,
                                                                   assert_complete):
    small_disk = export_disk
    for kind in EXPORTS:
        assert main(["export", str(GOLDEN), f"--{kind}", str(small_disk / f"a.{kind}"),
                     "--height", "2mm"]) == 0
    before = _digests(small_disk)
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as fh:  # fill the disk to the last byte
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError:
            pass
    capsys.readouterr()
    for kind in EXPORTS:
        target = small_disk / f"a.{kind}"
        assert main(["export", str(GOLDEN), f"--{kind}", str(target), "--height", "3mm"]) == 2, \
            kind
        line = _error_line(capsys, "export")
        assert "no space left on device" in line and str(target) in line, line
    filler.unlink()
    assert _digests(small_disk) == before, "a failed export changed an earlier file"
    assert _hidden(small_disk) == []
    assert assert_complete(small_disk) == len(EXPORTS)
