"""Physical quantities as text: lengths and frequencies in, formatted lengths out."""

from __future__ import annotations

import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.units import format_length, parse_frequency, parse_length


@pytest.mark.parametrize(("text", "metres"), [("50nm", 50e-9), ("0.8 mm", 0.8e-3),
                                              ("1.5um", 1.5e-6), ("2µm", 2e-6), (3e-6, 3e-6),
                                              ("1e-3", 1e-3), ("2cm", 0.02)])
def test_parse_length(text, metres):
    assert parse_length(text) == pytest.approx(metres)


@pytest.mark.parametrize("bad", ["fast", "3 furlongs", "-1mm", "0nm", True])
def test_bad_lengths_name_the_field(bad):
    with pytest.raises(DesignValueError, match=r"fabrication\.pitch"):
        parse_length(bad, "fabrication.pitch")


def test_format_length():
    assert format_length(1.5e-7) == "150 nm" and format_length(8e-4) == "800 µm"


@pytest.mark.parametrize(("text", "hertz"), [("20kHz", 2e4), ("1.5 MHz", 1.5e6), ("440", 440.0),
                                             ("343 Hz", 343.0), ("20khz", 2e4)])
def test_parse_frequency(text, hertz):
    assert parse_frequency(text) == pytest.approx(hertz)


@pytest.mark.parametrize("bad", ["fast", "20 kHzz", "-3kHz", "0", "inf"])
def test_bad_frequencies_name_the_field(bad):
    with pytest.raises(DesignValueError, match="--frequency"):
        parse_frequency(bad, "--frequency")
