"""The designer's dialogs: export (:mod:`.export`)."""

from .export import ExportDialog

__all__ = ["ExportDialog"]
