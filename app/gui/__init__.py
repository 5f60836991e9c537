"""The desktop designer (PyQt6 + pyqtgraph): ``wavefab gui [PROJECT]``.

Qt is imported only here and below, never by :mod:`wavefab.designkit` or the solver.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Windows closed on an error path, kept alive (see :func:`launch`).
_KEPT: list = []


def launch(project: str | Path | None = None, *, screenshot: str | Path | None = None,
           demo: bool = False) -> int:
    """Open the main window (on ``project``); with ``screenshot``, render it to a PNG and quit.

    A sweep folder as ``project`` opens its table beside an empty designer; its screenshot is
    the table's window. ``demo`` opens a finished demonstration project: the results of
    ``wavefab demo`` (run now, about 2 minutes, unless ``project`` already names a results
    folder).
    """
    from PyQt6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    if demo and project is None:
        import tempfile

        from wavefab.designkit.demo import fabrication_demo

        project = fabrication_demo(Path(tempfile.mkdtemp(prefix="wavefab-demo-"))).result_dir
    if project is not None and not window.open_path(project):
        # One line on the terminal as from every command; the window shows it in a dialog.
        print(f"wavefab gui: error: {window.last_error}", file=sys.stderr)
        if screenshot is not None:
            window.close()
            # Kept until the process ends, its posted events handled: deleting it here with
            # events still queued for it crashed the next event pass (once, in a CI run).
            _KEPT.append(window)
            app.processEvents()
            return 2
        window.show()
        app.exec()
        return 2
    if demo:
        window.check_rules()
    window.show()
    if screenshot is not None and "binary" in window.document.project.design:
        window.simulate_field(wait=True)  # the field view at the moment the output peaks
    if screenshot is not None:
        from wavefab.designkit.files import atomic_path

        for _ in range(5):  # let layouts and pyqtgraph settle before grabbing
            app.processEvents()
        window.canvas.plot.autoRange(padding=0.02)
        app.processEvents()
        # a sweep folder opened its table: that is what was asked to be seen
        shown = window.sweeps.latest if project is not None else None
        target = shown if shown is not None else window
        with atomic_path(screenshot) as tmp:
            if not target.grab().save(str(tmp), "PNG"):
                raise OSError(f"could not write {screenshot}")
        window.document.undo_stack.setClean()
        window.close()
        return 0
    return app.exec()
