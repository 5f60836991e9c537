"""What the designer shows: the canvas, the field playback, a sweep's points.

The canvas is :mod:`.domain`, the field playback :mod:`.field`, a sweep's table and plots
:mod:`.sweep`.
"""

from .domain import TOOLS, DomainView, region_outline
from .field import FieldView
from .sweep import SweepTableModel, SweepView

__all__ = ["TOOLS", "DomainView", "FieldView", "SweepTableModel", "SweepView", "region_outline"]
