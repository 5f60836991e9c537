"""The designer's test windows: made by a fixture, disposed of deterministically.

A window left to the garbage collector is destroyed at a random moment — possibly inside a
later test's event processing, where pyqtgraph items torn down in the wrong order can crash
the interpreter. So every window (and dialog) a test makes comes from :func:`windows` and is
closed and deleted when the test ends, or earlier where the test says so (:func:`dispose`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("pytestqt")

from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QWidget


def _close(widget: QWidget) -> None:
    """Close ``widget`` without prompts and delete it now, not whenever Python collects it.

    Unsaved changes are dropped first so the close does not ask; a run is stopped first.
    """
    if hasattr(widget, "stop_run") and widget.thread is not None:  # a window with a run
        widget.stop_run()
        widget.thread.wait(30_000)
    document = getattr(widget, "document", None)
    if document is not None:
        document.undo_stack.setClean()
        document._unsaved_design = False
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QCoreApplication.processEvents()


class Windows:
    """The windows and dialogs of one test."""

    def __init__(self) -> None:
        self.open: list[QWidget] = []

    def make(self, template: str = "lens") -> QWidget:
        """A main window on a new project from ``template``."""
        from wavefab.app.gui.document import Document
        from wavefab.app.gui.main_window import MainWindow
        from wavefab.designkit.project import new_project

        return self.keep(MainWindow(Document(new_project(template))))

    def keep(self, widget: QWidget) -> QWidget:
        """Dispose of ``widget`` with the test's other windows."""
        self.open.append(widget)
        return widget

    def dispose(self, widget: QWidget) -> None:
        """Close and delete ``widget`` now (not by qtbot: a dirty document would ask)."""
        if widget in self.open:
            self.open.remove(widget)
        _close(widget)


@pytest.fixture
def windows(qtbot) -> Iterator[Windows]:
    """Makes the test's windows; closes whatever is left of them when it ends."""
    made = Windows()
    yield made
    for widget in reversed(made.open):  # dialogs before the windows that own them
        _close(widget)


@pytest.fixture
def window(windows: Windows) -> QWidget:
    """A main window on a new lens project."""
    return windows.make("lens")


@pytest.fixture
def dispose(windows: Windows):
    """Close and delete a window now (where a test checks what closing does)."""
    return windows.dispose
