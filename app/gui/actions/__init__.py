"""What the designer's menus and tools do: each group lists its entries as data, with handlers.

:mod:`.file` (the File menu's projects and imports), :mod:`.export` (File > Export),
:mod:`.run` (Optimize, Pause, Stop), :mod:`.check` (design-rule check, re-simulation, the field
view), :mod:`.draw` (the canvas's mouse tools and their edits) and :mod:`.sweep` (sweep folders'
tables, and File > Save as sweep). The main window builds its menus and toolbars from the
groups' ``ACTIONS``.
"""

from ._base import ActionGroup, ActionSpec, Shell
from .check import CheckActions
from .draw import DrawActions
from .export import ExportActions
from .file import FileActions
from .run import RunActions
from .sweep import SweepActions

__all__ = ["ActionGroup", "ActionSpec", "CheckActions", "DrawActions", "ExportActions",
           "FileActions", "RunActions", "Shell", "SweepActions"]
