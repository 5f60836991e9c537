"""Port holes of a printed part: over the cells of the sources and probes, y up."""

from __future__ import annotations

import numpy as np
import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.export import port_openings


def test_holes_sit_over_their_cells_with_row_zero_at_the_top():
    holes = port_openings([(0, 0), (9, 4)], rows=10, diameter=2e-3, pitch=1e-3)
    np.testing.assert_allclose(holes, [(0.5e-3, 9.5e-3, 1e-3), (4.5e-3, 0.5e-3, 1e-3)])


@pytest.mark.parametrize(("ports", "diameter", "pitch", "message"), [
    ((), 1e-3, 1e-3, "ports are unknown"),
    (((1, 1),), 1e-3, None, "pitch"),
    (((1, 1),), 0.0, 1e-3, "positive diameter"),
])
def test_what_is_missing_is_named(ports, diameter, pitch, message):
    with pytest.raises(DesignValueError, match=message):
        port_openings(ports, 10, diameter, pitch)
