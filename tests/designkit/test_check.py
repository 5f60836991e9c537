"""``wavefab drc`` as a function: a folder or a file, the rule it is judged by, the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from wavefab.designkit.check import check_rules, describe
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab.rules import FabricationWarning

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOLDEN / "results", tmp_path / "results"))


def test_a_folder_is_judged_by_its_run_s_rule_or_the_one_given(results):
    expected = json.loads((GOLDEN / "expected.json").read_text())
    own = check_rules(results)
    assert own.passed and own.report.to_dict() == expected["drc"]
    assert json.loads(own.paths["drc"].read_text()) == expected["drc"]
    strict = check_rules(results, min_feature=3e-3)  # 30 cells at the run's 0.1 mm
    assert not strict.passed and strict.report.rule_solid_cells == 30
    text = describe(strict)
    assert text.startswith("DRC FAIL (1 violations): rule solid 30 / void 30 cells")
    assert "1 islands" in text and f"wrote {strict.paths['drc']}" in text


def test_a_file_is_checked_next_to_it_and_never_over_the_run_s_report(results):
    gds = results.parent / "golden.gds"
    shutil.copy(GOLDEN / "files" / "golden.gds", gds)
    before = (results / "drc.json").read_bytes()
    found = check_rules(gds, process="sla")
    assert found.passed and found.paths["drc"] == results.parent / "golden.drc.json"
    assert (results / "drc.json").read_bytes() == before
    with pytest.warns(FabricationWarning, match="below one cell"):
        check_rules(gds, process="sla", pitch=1e-3)  # 0.5 mm rules on 1 mm cells


def test_a_check_needs_a_rule_and_a_scale(results, tmp_path):
    (results / "design.npz").write_bytes((GOLDEN / "project" / "design.npz").read_bytes())
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(GOLDEN / "results" / "design.npz", bare / "design.npz")
    with pytest.raises(DesignValueError, match="--pitch"):
        check_rules(bare, process="sla")  # no metrics.json: the folder's pitch is unknown
    assert check_rules(bare).report.rule_solid_cells == 5  # the rule design.npz records
