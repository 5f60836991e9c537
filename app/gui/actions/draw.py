"""The draw toolbar: the canvas's mouse tools and the edits their strokes and clicks make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtGui import QAction, QActionGroup
from PyQt6.QtWidgets import QSpinBox, QToolBar

from wavefab.designkit.config import ConfigError
from wavefab.designkit.project import add_port, delete_port, move_port, paint_region

from ..views import TOOLS
from ._base import ActionGroup


class DrawActions(ActionGroup):
    """Exclusive mouse tools, the erase switch and the brush size; each stroke is one edit.

    Attributes:
        tool_actions: the checkable action of each tool (:data:`~..views.TOOLS`).
        erase_action: region tools remove cells instead of adding them.
        brush_size: the brush radius (cells).
    """

    def build_toolbar(self, toolbar: QToolBar) -> None:
        """Fill ``toolbar`` and connect the canvas's edits to the document."""
        window: Any = self.window
        canvas = window.canvas
        group = QActionGroup(window)
        group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for tool, tip in TOOLS.items():
            action = QAction(tool, window, checkable=True)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _c=False, t=tool: canvas.set_tool(t))
            group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["pan"].setChecked(True)
        self.erase_action = QAction("erase", window, checkable=True)
        self.erase_action.setToolTip("region tools remove cells instead of adding them")
        self.erase_action.toggled.connect(lambda on: setattr(canvas, "erase", on))
        toolbar.addSeparator()
        toolbar.addAction(self.erase_action)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 50)
        self.brush_size.setValue(int(canvas.brush_radius))
        self.brush_size.setPrefix("brush r ")
        self.brush_size.setSuffix(" cells")
        self.brush_size.valueChanged.connect(lambda v: setattr(canvas, "brush_radius", float(v)))
        toolbar.addWidget(self.brush_size)
        canvas.shape_drawn.connect(self._on_shape_drawn)
        canvas.port_added.connect(
            lambda kind, r, c: self.apply(lambda cfg: add_port(cfg, kind, r, c),
                                          f"place {kind}"))
        canvas.port_moved.connect(
            lambda kind, i, r, c: self.apply(lambda cfg: move_port(cfg, kind, i, r, c),
                                             f"move {kind}"))
        canvas.port_deleted.connect(
            lambda kind, i: self.apply(lambda cfg: delete_port(cfg, kind, i), f"delete {kind}"))

    def _on_shape_drawn(self, shape: dict) -> None:
        verb = "erase" if shape.get("erase") else "paint"
        self.apply(lambda cfg: paint_region(cfg, shape), f"{verb} {shape['kind']}")

    def apply(self, make: Callable[[Any], tuple[str, Any]], text: str) -> bool:
        """Apply a drawing edit; an invalid one is explained in the status bar and the log."""
        window = self.window
        try:
            window.document.edit(make(window.document.project.config), text)
        except ValueError as exc:
            message = "; ".join(exc.problems) if isinstance(exc, ConfigError) else str(exc)
            window.statusBar().showMessage(f"{text}: {message}", 10_000)
            window.log.log(f"{text} refused: {message}")
            return False
        return True
