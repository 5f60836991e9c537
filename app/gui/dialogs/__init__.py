"""The designer's dialogs: export (:mod:`.export`), save as sweep (:mod:`.sweep`)."""

from .export import ExportDialog
from .sweep import SweepDialog

__all__ = ["ExportDialog", "SweepDialog"]
