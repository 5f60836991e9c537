"""Scale and band of a design: its physical size, the band it serves, and the pitch for a band."""

from __future__ import annotations

import pytest

from wavefab.app.cli import main
from wavefab.designkit.config import config_from_dict
from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.fab.scaling import pitch_for_frequency
from wavefab.designkit.scale import describe_scale, scale_of

LENS = config_from_dict({"problem": "lens"})


def test_the_lens_printed_by_sla_in_air():
    report = scale_of(LENS, pitch=0.1e-3, process="sla")
    assert report["size_m"] == pytest.approx([14e-3, 14e-3])
    assert report["wave_speed_m_s"] == pytest.approx(343.0)
    # 10 cells per wavelength at 0.1 mm in air: 343 kHz
    assert report["resolved_up_to_hz"] == pytest.approx(343.0 / 1e-3)
    # the lens pulse (f = 0.025 per unit time, h = 1): peak 0.025 × c/h = 85.75 kHz
    assert report["band_hz"][0] == pytest.approx(0.025 * 343.0 / 0.1e-3, rel=0.05)
    assert report["rules"]["min_width"]["cells"] == pytest.approx(5.0)
    assert report["warnings"] == []
    assert report["absorber_m"] == pytest.approx(2e-3)  # 20 cells of PML all round
    text = describe_scale(report)
    assert "14 mm × 14 mm" in text and "outer 2 mm all round" in text


def test_a_band_chooses_the_pitch_and_rules_below_a_cell_are_flagged():
    assert pitch_for_frequency(34.3e3, 343.0) == pytest.approx(1e-3)
    report = scale_of(LENS, frequency=10e3, process="fdm-0.4")  # 3.43 mm cells
    assert report["pitch_m"] == pytest.approx(3.43e-3, rel=1e-6)
    assert report["pitch_m"] / 10e-6 == pytest.approx(round(report["pitch_m"] / 10e-6))
    assert any("min width" in w and "below the grid" in w for w in report["warnings"])
    with pytest.raises(DesignValueError, match="wave speed"):
        scale_of(LENS, pitch=1e-3)


def test_the_scale_command(tmp_path, capsys):
    config = tmp_path / "lens.yaml"
    config.write_text("problem: lens\n")
    assert main(["scale", str(config), "--process", "sla", "--pitch", "0.1mm",
                 "--report", str(tmp_path / "scale.json")]) == 0
    out = capsys.readouterr().out
    assert "14 mm × 14 mm" in out and "343 m/s" in out
    assert (tmp_path / "scale.json").is_file()
    assert main(["scale", str(config), "--wave-speed", "343", "--frequency", "20kHz"]) == 0
    assert "pitch 1.715 mm" in capsys.readouterr().out
