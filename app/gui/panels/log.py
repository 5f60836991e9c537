"""The session's log: runs, checks, exports and errors, one line each."""

from __future__ import annotations

from PyQt6.QtWidgets import QPlainTextEdit, QWidget


class LogPanel(QPlainTextEdit):
    """Messages of the session (runs, checks, exports, errors)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)

    def log(self, text: str) -> None:
        """Append a line."""
        self.appendPlainText(text)
