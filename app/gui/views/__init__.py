"""What the designer shows: the canvas (:mod:`.domain`) and the field playback (:mod:`.field`)."""

from .domain import TOOLS, DomainView, region_outline
from .field import FieldView

__all__ = ["TOOLS", "DomainView", "FieldView", "region_outline"]
