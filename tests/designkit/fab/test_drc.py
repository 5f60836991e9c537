"""Design-rule check: disc footprints, seeded violations, and agreement with brute force."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab.drc import check, covered, disc, local_size


def test_disc_footprints():
    assert disc(1).tolist() == [[True]]
    assert disc(2).all() and disc(2).shape == (2, 2)
    assert disc(3).all()  # each corner cell is 55% inside the circle
    assert disc(4).sum() == 12 and not disc(4)[0, 0]
    assert disc(5).sum() == 21
    for d in range(1, 30):
        fp = disc(d)
        assert np.array_equal(fp, fp[::-1]) and np.array_equal(fp, fp.T)  # symmetric
        assert fp[d // 2].all() and fp[:, d // 2].all()  # spans d cells both ways
        assert abs(fp.sum() - math.pi * d * d / 4) < 1.2 * d  # area close to the circle's
    with pytest.raises(DesignValueError, match="positive integer"):
        disc(0)


def _brute_covered(phase: np.ndarray, outside: bool, d: int) -> np.ndarray:
    ny, nx = phase.shape

    def at(r, c):
        return phase[r, c] if 0 <= r < ny and 0 <= c < nx else outside

    offsets = np.argwhere(disc(d))
    cover = np.zeros_like(phase)
    for r0 in range(-d + 1, ny):
        for c0 in range(-d + 1, nx):
            if all(at(r0 + a, c0 + b) for a, b in offsets):
                for a, b in offsets:
                    if 0 <= r0 + a < ny and 0 <= c0 + b < nx:
                        cover[r0 + a, c0 + b] = True
    return cover


def _brute_local_size(phase: np.ndarray, outside: bool, largest: int) -> np.ndarray:
    size = np.zeros(phase.shape, np.int32)
    for d in range(1, largest + 1):
        size[_brute_covered(phase, outside, d)] = d
    return size


@settings(max_examples=40, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 11), st.integers(3, 11))),
       st.integers(1, 4))
def test_local_size_agrees_with_brute_force(pattern, rule):
    for phase, outside in ((pattern, False), (~pattern, True)):
        fast = local_size(phase, outside=outside, largest=rule + 1)
        slow = _brute_local_size(phase, outside, rule + 1)
        np.testing.assert_array_equal(fast, slow)
    report = check(pattern, rule)
    solid_ok = not _brute_below(pattern, False, rule).any()
    void_ok = not _brute_below(~pattern, True, rule).any()
    assert report.passed == (solid_ok and void_ok)


def _brute_below(phase, outside, rule):
    """Violating cells by the module's rule, with explicit loops."""
    cover = _brute_covered(phase, outside, rule)
    ny, nx = phase.shape

    def at(r, c):
        return phase[r, c] if 0 <= r < ny and 0 <= c < nx else outside

    out = np.zeros_like(phase)
    for r in range(ny):
        for c in range(nx):
            if not phase[r, c] or cover[r, c]:
                continue
            outline = not all(at(r + a, c + b) for a, b in ((0, 1), (1, 0), (0, -1), (-1, 0)))
            near = any(0 <= r + a < ny and 0 <= c + b < nx and cover[r + a, c + b]
                       for a in (-1, 0, 1) for b in (-1, 0, 1))
            out[r, c] = not (outline and near)
    return out


def test_a_disc_meets_its_own_rule():
    for d in range(1, 12):
        design = np.zeros((d + 6, d + 6), bool)
        design[3:3 + d, 3:3 + d] = disc(d)
        report = check(design, d)
        assert report.passed, d
        assert report.min_solid_cells >= d


def test_seeded_violations_are_found_where_they_are():
    design = np.zeros((40, 50), bool)
    design[5:35, 5:20] = True           # a wide block
    design[10:30, 12] = False           # a 1-cell slit in it: a void violation
    design[20, 25:45] = True            # a 1-cell line: a solid violation
    design[5:35, 30:48] = design[5:35, 30:48] | np.pad(np.ones((26, 14), bool), 2)
    design[15:17, 38:40] = False        # a 2×2 hole inside the second block
    report = check(design, 4)
    assert not report.passed
    kinds = {(v.kind, v.size_cells) for v in report.violations}
    assert ("void", 1) in kinds and ("void", 2) in kinds
    line = [v for v in report.violations if v.kind == "solid"]
    assert line and all(v.size_cells == 1 for v in line)
    assert any(v.bbox[0] == v.bbox[2] == 20 and v.bbox[1] == 25 for v in line)
    hole = next(v for v in report.violations if v.kind == "void" and v.size_cells == 2)
    assert hole.bbox == [15, 38, 16, 39] and hole.cells == 4
    slit = next(v for v in report.violations if v.kind == "void" and v.size_cells == 1)
    assert slit.bbox == [10, 12, 29, 12]
    assert report.min_solid_cells == 1 and report.min_void_cells == 1
    assert report.enclosed_voids == 2  # the slit and the hole; the slit touches no edge
    text = json.dumps(report.to_dict())
    assert '"pass": false' in text


def test_clean_design_passes_and_reports_sizes():
    design = np.zeros((60, 60), bool)
    design[10:50, 10:16] = True   # 6 wide
    design[10:50, 24:40] = True   # 16 wide, 8-cell gap from the first
    report = check(design, 5, pitch=0.4e-3)
    assert report.passed and report.violations == []
    assert report.min_solid_cells == 6 and report.min_void_cells == 8
    assert report.islands == 2 and report.enclosed_voids == 0
    out = report.to_dict()
    assert out["min_solid_m"] == pytest.approx(6 * 0.4e-3)
    assert check(np.zeros((10, 10), bool), 3).min_solid_cells == math.inf


def test_material_outside_the_region_is_a_violation():
    design = np.zeros((20, 20), bool)
    design[2:10, 2:10] = True
    region = np.zeros_like(design)
    region[4:16, 4:16] = True
    report = check(design, 2, region=region)
    outside = [v for v in report.violations if v.kind == "outside_region"]
    assert outside and outside[0].cells == 64 - 36


def test_bad_input_is_a_clear_error():
    with pytest.raises(DesignValueError, match="binary"):
        check(np.full((5, 5), 0.5), 2)
    # the argument is the solid rule (min_feature_cells is the larger of both rules everywhere)
    with pytest.raises(DesignValueError, match="min_solid_cells"):
        check(np.zeros((5, 5), bool), 0)


def test_covered_is_the_opening():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    phase = ndimage.binary_opening(rng.random((50, 50)) > 0.4, disc(3))
    for d in (3, 5):  # odd sizes: scipy's opening with a centred footprint is the reference
        ref = ndimage.binary_opening(np.pad(phase, d), structure=disc(d))[d:-d, d:-d]
        np.testing.assert_array_equal(covered(phase, disc(d), outside=False), ref)


def test_separate_solid_and_void_rules():
    design = np.zeros((30, 30), bool)
    design[5:25, 5:9] = True     # 4 wide
    design[5:25, 12:25] = True   # 3-cell gap
    assert check(design, 4, min_void_cells=3).passed
    report = check(design, 4, min_void_cells=4)
    assert not report.passed and {v.kind for v in report.violations} == {"void"}
    assert report.to_dict()["rule_void_cells"] == 4 and report.min_feature_cells == 4


def test_repair_removes_thin_solid_and_fills_pinholes():
    from wavefab.designkit.fab.drc import repair

    design = np.zeros((40, 40), bool)
    design[8:32, 8:32] = True
    design[19:21, 19:21] = False      # a 2×2 pinhole
    design[20, 32:38] = True          # a 1-cell spike
    region = np.zeros_like(design)
    region[4:36, 4:38] = True
    assert not check(design, 4, region=region).passed
    fixed = repair(design, 4, region=region)
    assert check(fixed, 4, region=region).passed
    assert fixed[19:21, 19:21].all() and not fixed[20, 34:38].any()
    assert (fixed != design).sum() < 20  # only the defects changed (and the block's corners)


def test_repair_makes_random_blobs_compliant():
    from scipy import ndimage

    from wavefab.designkit.fab.drc import repair

    rng = np.random.default_rng(1)
    region = np.zeros((60, 50), bool)
    region[5:55, 5:45] = True
    for _ in range(12):
        noise = ndimage.gaussian_filter(rng.random((60, 50)), 2.0)
        design = (noise > np.median(noise)) & region
        fixed = repair(design, 4, 3, region=region)
        assert check(fixed, 4, min_void_cells=3, region=region).passed
        assert not (fixed & ~region).any()


def test_repair_widens_gaps_it_may_not_fill():
    from wavefab.designkit.fab.drc import repair

    region = np.ones((20, 20), bool)
    region[:, 10] = False  # a one-cell slit the design may not fill
    fixed = repair(region.copy(), 3, 3, region=region)
    assert check(fixed, 3, region=region).passed
    assert not (fixed & ~region).any()


def test_repair_candidates_offer_the_slit_both_widened_and_filled():
    """A gap one cell too narrow between two walls: closed by the fewest-change repair, kept
    open (widened to the rule) by a directed one; every candidate passes."""
    from wavefab.designkit.fab.drc import repair, repair_candidates

    design = np.zeros((30, 30), bool)
    design[5:25, 5:13] = True
    design[5:25, 15:25] = True  # a 2-cell slit at columns 13-14, rule 4
    region = np.zeros_like(design)
    region[2:28, 2:28] = True
    candidates = repair_candidates(design, 4, region=region)
    np.testing.assert_array_equal(candidates[0], repair(design, 4, region=region))
    assert all(check(c, 4, region=region).passed and not (c & ~region).any()
               for c in candidates)
    slit = [c[10:20, 13:15].all() for c in candidates]  # (its ends may stay notched)
    assert slit[0] and not all(slit)  # filled first; some candidate keeps the channel open
    opened = candidates[slit.index(False)]
    assert not opened[10:20, 12:16].any()  # open through its length, at least the rule wide
    assert len({c.tobytes() for c in candidates}) == len(candidates)
    clean = np.zeros_like(design)
    clean[5:25, 5:12] = True
    assert len(repair_candidates(clean, 4, region=region)) == 1  # nothing to choose


def test_the_verdict_line_and_the_report_file_are_one_report():
    from wavefab.designkit.fab.drc import DrcReport

    binary = np.zeros((30, 30), bool)
    binary[5:25, 5:15] = True
    binary[15, 16:28] = True  # a one-cell line: a violation
    report = check(binary, 3, min_void_cells=4, pitch=1e-4)
    line = report.summary()
    assert line.startswith("DRC FAIL (1 violations): rule solid 3 / void 4 cells; measured ")
    assert "\n" not in line
    again = DrcReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict() and again.summary() == line
    clean = check(binary & ~(np.arange(30)[None, :] >= 16), 3, min_void_cells=4)
    assert clean.summary().startswith("DRC PASS: rule solid 3 / void 4 cells")
    assert "void > 8 cells" in clean.summary()  # unbounded: above the measurement's cap
    with pytest.raises(DesignValueError, match="not a design-rule report"):
        DrcReport.from_dict({"pass": True})
