"""The document's undoable edits, named by what the user did (glue's ``core/command.py`` idea).

Each command holds the configuration before and after, so undo and redo swap whole frozen
configurations: nothing is recomputed, and a redo is exactly what the edit made.
"""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtGui import QUndoCommand

from wavefab.designkit.config import RunConfig
from wavefab.designkit.project import Project


class Edited(Protocol):
    """What a command edits: the :class:`~.document.Document` (which imports the commands)."""

    project: Project

    def _replace_config(self, config: RunConfig, key: str) -> None: ...


class SetValueCommand(QUndoCommand):
    """Set one dotted configuration key (``training.epochs``); undo restores the old config."""

    def __init__(self, document: Edited, key: str, config: RunConfig,
                 text: str | None = None) -> None:
        super().__init__(text or f"set {key}")
        self._document = document
        self._key = key
        self._old = document.project.config
        self._new = config

    def redo(self) -> None:  # noqa: D102 - Qt's contract
        self._document._replace_config(self._new, self._key)

    def undo(self) -> None:  # noqa: D102
        self._document._replace_config(self._old, self._key)
