"""Package layout and the one-way import rule (app → designkit → solver)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_packages_import_under_wavefab():
    import wavefab.app
    import wavefab.designkit
    import wavefab.solver

    assert Path(wavefab.solver.__file__).parent == ROOT / "solver"
    assert Path(wavefab.designkit.__file__).parent == ROOT / "designkit"
    assert Path(wavefab.app.__file__).parent == ROOT / "app"


def test_import_contracts_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
