"""What the desktop designer edits, saves and opens, free of any GUI code.

:class:`Project` (:mod:`.project`: a configuration, a name, the design; saved as a folder),
:mod:`.templates` (what a new project starts from), :mod:`.edits` (what the mouse tools change),
:func:`sketch` (:mod:`.canvas`: what the canvas draws) and :mod:`.playback` (a design's field,
frame by frame).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["canvas", "edits", "playback", "project", "templates"],
    submod_attrs={
        "canvas": ["Sketch", "sketch"],
        "edits": ["PORT_KINDS", "add_port", "delete_port", "move_port", "paint_region",
                  "resize_domain"],
        "playback": ["FieldMovie", "FieldPlayer", "example_titles", "field_movie"],
        "project": ["PROJECT_FILE", "PROJECT_SCHEMA", "Project", "evaluate_design",
                    "import_file_design", "load_project", "new_project", "save_config",
                    "save_project"],
        "templates": ["DEMO_CONFIG", "TEMPLATES"],
    },
)
