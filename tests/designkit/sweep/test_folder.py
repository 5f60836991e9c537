"""A sweep folder read back: ranked rows, plots, points' results; damaged records refused."""

from __future__ import annotations

import json

import pytest

from wavefab.designkit.sweep import SweepError
from wavefab.designkit.sweep.folder import is_sweep_folder, read_sweep_folder, sort_key


def point(pid, index, c1, gain, status="done", **extra):
    return {"id": pid, "index": index, "overrides": {"material.c1": c1}, "status": status,
            "reason": "", "seconds": 2.0, "metrics": {} if gain is None else
            {"binary_focus_gain": gain, "focus_gain": gain + 1}, "attempts": 1, **extra}


def record(points, **extra):
    return {"sweep": "/somewhere/rules.yaml", "digest": "x", "strategy": "grid",
            "metric": "binary_focus_gain", "direction": "maximize",
            "swept_keys": ["material.c1"], "wavefab": "0.1.0", "skipped": 0,
            "updated": "2025-01-01T00:00:00", "points": points, **extra}


@pytest.fixture
def folder(tmp_path):
    points = [point("aaaa", 0, 0.5, 2.0), point("bbbb", 1, 0.6, 10.0),
              point("cccc", 2, 0.7, None, status="failed", reason="NaN loss")]
    (tmp_path / "sweep.json").write_text(json.dumps(record(points)))
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "binary_focus_gain_vs_material.c1.png").write_bytes(b"")
    (tmp_path / "points" / "aaaa").mkdir(parents=True)
    (tmp_path / "points" / "aaaa" / "config.yaml").write_text("{}")
    return tmp_path


def test_rows_are_ranked_by_the_recorded_metric(folder):
    swept = read_sweep_folder(folder)
    assert is_sweep_folder(folder) and not is_sweep_folder(folder / "points")
    assert swept.name == "rules.yaml" and swept.metric == "binary_focus_gain"
    rows = swept.rows()
    assert [r["id"] for r in rows] == ["bbbb", "aaaa", "cccc"]
    assert [r["rank"] for r in rows] == [1, 2, ""]
    assert swept.columns() == ["rank", "id", "status", "material.c1", "binary_focus_gain",
                               "focus_gain", "seconds", "reason"]
    assert rows[2]["reason"] == "NaN loss"
    assert [p.name for p in swept.plots] == ["binary_focus_gain_vs_material.c1.png"]
    assert swept.counts() == {"done": 2, "failed": 1, "running": 0, "pending": 0, "total": 3}
    assert "3 points, 2 done, 1 failed" in swept.summary()


def test_minimize_ranks_the_other_way(folder):
    state = json.loads((folder / "sweep.json").read_text())
    state["direction"] = "minimize"
    (folder / "sweep.json").write_text(json.dumps(state))
    assert [r["id"] for r in read_sweep_folder(folder).rows()] == ["aaaa", "bbbb", "cccc"]


def test_a_points_results_or_why_there_are_none(folder):
    swept = read_sweep_folder(folder)
    assert swept.point_results("aaaa") == folder / "points" / "aaaa"
    with pytest.raises(SweepError, match=r"point 3 \(cccc\) has no results.*failed: NaN loss"):
        swept.point_results("cccc")
    with pytest.raises(SweepError, match="no point 'zzzz'"):
        swept.point_results("zzzz")


@pytest.mark.parametrize(("change", "named"), [
    (lambda s: s.update(metric=None), "metric"),
    (lambda s: s.update(direction="up"), "direction"),
    (lambda s: s.update(swept_keys="material.c1"), "swept_keys"),
    (lambda s: s["points"].__setitem__(1, "junk"), "points[1]"),
    (lambda s: s["points"][0].update(overrides=None), "points[0]: overrides"),
    (lambda s: s["points"][0].update(id="../../etc"), "points[0]: id"),
    (lambda s: s["points"][0].pop("status"), "points[0]: status"),
    (lambda s: s["points"][2].update(metrics=[1]), "points[2]: metrics"),
    (lambda s: s["points"][1].update(id="aaaa"), "an id appears twice"),
])
def test_a_damaged_record_is_one_line_naming_the_field(folder, change, named):
    state = json.loads((folder / "sweep.json").read_text())
    change(state)
    (folder / "sweep.json").write_text(json.dumps(state))
    with pytest.raises(SweepError) as info:
        read_sweep_folder(folder)
    assert named in str(info.value) and "sweep.json" in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_unreadable_or_missing_records(tmp_path):
    with pytest.raises(SweepError, match="not a sweep folder"):
        read_sweep_folder(tmp_path)
    (tmp_path / "sweep.json").write_text("{not json")
    with pytest.raises(SweepError, match="cannot read it"):
        read_sweep_folder(tmp_path)


def test_cells_sort_by_value_and_empty_cells_have_no_key():
    values = [10.0, 9.5, 100, "0.45mm", "0.4mm", "1e-3", True]
    assert sorted(values, key=sort_key) == [
        "0.4mm", "0.45mm", "1e-3", True, 9.5, 10.0, 100]  # lengths in metres
    assert sort_key("") is None and sort_key(None) is None and sort_key(float("nan")) is None
    assert sort_key("best") > sort_key(1e9)  # text after numbers
