"""Fabrication processes: the presets and user process files."""

from __future__ import annotations

import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab.processes import PRESETS, get_process, load_processes


def test_presets_and_user_process_files(tmp_path):
    assert {"ebeam", "uv-litho", "fdm-0.4", "sla"} <= set(PRESETS)
    fdm = get_process("fdm-0.4")
    assert fdm.min_width == pytest.approx(0.8e-3) and fdm.min_space == pytest.approx(1.0e-3)
    assert fdm.layer_height == pytest.approx(0.2e-3) and get_process("ebeam").grid == 1e-9
    path = tmp_path / "fab.yaml"
    path.write_text("stepper:\n  min_width: 350nm\n  min_space: 0.4um\n  layer: [2, 1]\n")
    mine = load_processes(path)["stepper"]
    assert mine.min_space == pytest.approx(4e-7) and mine.layer == (2, 1)
    assert get_process("stepper", path) == mine
    path.write_text("bad:\n  min_width: 1um\n  colour: red\n")
    with pytest.raises(DesignValueError, match="bad: unknown key"):
        load_processes(path)
    with pytest.raises(DesignValueError, match="unknown process 'fdm'"):
        get_process("fdm")
