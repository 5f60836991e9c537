"""What every group of actions shares: the table an action is declared in, and its window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from PyQt6.QtGui import QKeySequence


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry as data: the window turns it into a ``QAction``.

    Attributes:
        key: its name in ``window.actions``.
        menu: the menu it is in (``"&File"``, ``"&Run"``).
        text: the menu text.
        handler: the method of the group that runs it (called without arguments).
        shortcut: a standard key or a key string, if any.
    """

    key: str
    menu: str
    text: str
    handler: str
    shortcut: QKeySequence.StandardKey | str | None = None


class Shell(Protocol):
    """The parts of the main window every group of actions uses (the window satisfies it)."""

    document: Any
    log: Any
    canvas: Any
    actions: dict[str, Any]

    def statusBar(self) -> Any:
        """The window's status bar."""
        ...

    def error(self, title: str, text: str) -> None:
        """Log a problem and show it in a message box."""
        ...


class ActionGroup:
    """A group of related actions and their handlers, on one window.

    Subclasses list their entries in :attr:`ACTIONS`.
    """

    ACTIONS: tuple[ActionSpec, ...] = ()

    def __init__(self, window: Shell) -> None:
        self.window = window
