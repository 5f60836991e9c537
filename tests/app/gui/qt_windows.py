"""Shared by the designer's tests: windows are disposed of deterministically."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QWidget


def dispose(widget: QWidget) -> None:
    """Close ``widget`` without prompts and delete it now, not whenever Python collects it.

    A window left to the garbage collector is destroyed at a random moment — possibly inside a
    later test's event processing, where pyqtgraph items torn down in the wrong order can crash
    the interpreter. Unsaved changes are dropped first so the close does not ask.
    """
    document = getattr(widget, "document", None)
    if document is not None:
        document.undo_stack.setClean()
        document._unsaved_design = False
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QCoreApplication.processEvents()
