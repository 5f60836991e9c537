"""The ``wavefab`` command line: version, help, usage errors and the demo."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from wavefab.app.cli import main


def test_version_and_help_are_instant():
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "wavefab.app.cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("wavefab ")
    helped = subprocess.run([sys.executable, "-m", "wavefab.app.cli", "--help"],
                            capture_output=True, text=True, check=True)
    assert "demo" in helped.stdout
    # --help must not import torch or numba
    assert time.perf_counter() - t0 < 10
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys, wavefab.app.cli as c\n"
         "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
         "print('torch' in sys.modules, 'numba' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert probe.stdout.strip().endswith("False False")


def test_no_command_is_usage_error(capsys):
    assert main([]) == 2


def test_unknown_option_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["demo", "--bogus"])
    assert info.value.code == 2


@pytest.mark.slow
def test_demo_optimizes_checks_and_writes_the_fab_files(tmp_path, capsys):
    import numpy as np

    from wavefab.designkit.export import import_raster

    assert main(["demo", "--out", str(tmp_path), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    for name in ("lens.gds", "lens.stl", "layout.png", "mesh.png", "export.json",
                 "result/metrics.json", "result/drc.json", "result/design.npz"):
        assert (tmp_path / name).is_file(), name
        assert f"wrote {tmp_path / name}" in out or name.startswith("result/"), name
    for png in ("layout.png", "mesh.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "DRC" in out and "focus gain" in out
    binary = np.load(tmp_path / "result/design.npz")["binary"]
    np.testing.assert_allclose(import_raster(tmp_path / "lens.gds", binary.shape, 1e-4), binary,
                               atol=1e-9)


def test_demo_bad_input_is_one_line_error(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wavefab demo: error:") and "epochs" in err and "\n" not in err


def test_unwritable_output_is_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    assert capsys.readouterr().err.startswith("wavefab demo: error:")
