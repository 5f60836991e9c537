"""A physical rule on the grid: whole cells, and one warning text for a rule below one cell."""

from __future__ import annotations

import warnings

import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab.processes import get_process
from wavefab.designkit.fab.rules import (
    FabricationWarning,
    process_rule_cells,
    rule_at_pitch,
    rule_cells,
)


def test_a_rule_takes_the_whole_cells_that_meet_it():
    assert rule_cells(0.5e-3, 0.1e-3, "rule") == 5  # exactly 5 cells, not 6 by rounding
    assert rule_cells(0.55e-3, 0.1e-3, "rule") == 6
    rule = rule_at_pitch(0.8e-3, 0.3e-3, "fdm min width")
    assert rule.cells == pytest.approx(8 / 3) and rule.whole_cells == 3
    assert not rule.below_one_cell
    assert process_rule_cells(get_process("fdm-0.4"), 0.2e-3) == (4, 5)


def test_a_rule_below_one_cell_warns_once_with_the_text_reports_use():
    rule = rule_at_pitch(0.5e-3, 1e-3, "sla min width")
    assert rule.below_one_cell and rule.whole_cells == 1
    text = rule.warning()
    assert "sla min width" in text and "0.50 cell" in text and "below one cell" in text
    assert "pitch ≤ 500 µm" in text
    with pytest.warns(FabricationWarning) as caught:
        assert process_rule_cells(get_process("sla"), 1e-3) == (1, 1)
    assert [str(w.message) for w in caught] == [
        rule.warning(), rule_at_pitch(0.5e-3, 1e-3, "sla min space").warning()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rule_cells(1e-3, 1e-3, "exactly one cell")  # no warning at one cell


@pytest.mark.parametrize(("length", "pitch", "field"), [(0, 1e-3, "length"),
                                                         (1e-3, -1, "pitch"),
                                                         (float("nan"), 1e-3, "length")])
def test_a_bad_rule_names_what_is_wrong(length, pitch, field):
    with pytest.raises(DesignValueError, match=f"the rule's {field}"):
        rule_at_pitch(length, pitch, "rule")
