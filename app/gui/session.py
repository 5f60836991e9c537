"""What the designer remembers between sessions: recent projects and autosaved work."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QObject, QSettings, QStandardPaths, QTimer, pyqtSignal

from wavefab.designkit.errors import DesignError
from wavefab.designkit.project import Project, load_project, save_project

from .document import Document

#: How many recent projects the File menu lists.
RECENT_LIMIT = 8
#: Seconds between autosaves of a project with unsaved changes.
AUTOSAVE_SECONDS = 60
ORIGIN_FILE = "autosave.json"


def settings() -> QSettings:
    """The designer's settings store (per user)."""
    return QSettings("wavefab", "designer")


def autosave_root() -> Path:
    """Where autosaves live (per user, outside any project folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local/share") / "wavefab" / "autosave"


class RecentFiles:
    """Most-recently opened or saved projects, newest first, kept in :class:`QSettings`."""

    def __init__(self, store: QSettings | None = None, limit: int = RECENT_LIMIT) -> None:
        self.store = store if store is not None else settings()
        self.limit = limit

    def paths(self) -> list[Path]:
        """The remembered paths that still exist."""
        raw = self.store.value("recent", [])
        items = [raw] if isinstance(raw, str) else list(raw or [])
        return [Path(p) for p in items if p and Path(p).exists()]

    def add(self, path: str | Path) -> None:
        """Put ``path`` first."""
        text = str(Path(path).resolve())
        items = [text, *(str(p) for p in self.paths() if str(p) != text)][: self.limit]
        self.store.setValue("recent", items)
        self.store.sync()

    def clear(self) -> None:
        """Forget them all."""
        self.store.setValue("recent", [])
        self.store.sync()


class Autosaver(QObject):
    """Saves a copy of a project with unsaved changes every ``seconds``, away from its folder.

    The copy goes to ``root/<name>-<session>-<key>/`` (the same atomic project writer as Save),
    so a crash or a kill loses at most ``seconds`` of work and never touches what the user
    saved. Each session writes its own folders (two windows, or a session after a crash, never
    overwrite another's copy) and removes only those, after a clean save or when the changes
    are discarded.

    Signals:
        failed(str): an autosave could not be written (reported once per distinct reason).
    """

    failed = pyqtSignal(str)

    def __init__(self, document: Document, root: Path | None = None,
                 seconds: float = AUTOSAVE_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.root = root if root is not None else autosave_root()
        self._session = f"{os.getpid()}-{int(time.time() * 1000) % 10**9}-{id(self) % 10**4}"
        self._written: set[Path] = set()
        self._last_error = ""
        self.timer = QTimer(self)
        self.timer.setInterval(int(seconds * 1000))
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)
        document.path_changed.connect(self._on_clean_changed)

    def folder(self) -> Path:
        """Where this document's autosave goes."""
        project = self.document.project
        origin = str(project.path.resolve()) if project.path is not None else "unsaved"
        key = hashlib.sha256(origin.encode()).hexdigest()[:8]
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in project.name)[:40]
        return self.root / f"{safe or 'project'}-{self._session}-{key}"

    @property
    def written(self) -> set[Path]:
        """The folders this session wrote (and will remove)."""
        return set(self._written)

    def autosave(self) -> Path | None:
        """Save a copy now when there are unsaved changes; returns its folder."""
        if not self.document.dirty:
            return None
        project = self.document.project
        folder = self.folder()
        origin = {"path": str(project.path.resolve()) if project.path is not None else None,
                  "name": project.name, "saved": time.time()}
        try:
            save_project(replace(project), folder)  # a copy: the document keeps its own path
            (folder / ORIGIN_FILE).write_text(json.dumps(origin))
        except (DesignError, OSError) as exc:
            message = f"autosave to {folder} failed: {exc}"
            if message != self._last_error:
                self._last_error = message
                self.failed.emit(message)
            return None
        self._last_error = ""
        self._written.add(folder)
        return folder

    def adopt(self, folder: Path) -> None:
        """Treat a recovered autosave as this session's: removed once the work is saved."""
        self._written.add(Path(folder))

    def discard(self) -> None:
        """Remove this session's autosaves (after a clean save, or when changes are dropped)."""
        for folder in self._written:
            shutil.rmtree(folder, ignore_errors=True)
        self._written.clear()

    def _on_clean_changed(self, *_args: object) -> None:
        if not self.document.dirty:
            self.discard()


def autosaved(root: Path | None = None, exclude: set[Path] | frozenset = frozenset()
              ) -> list[tuple[Path, dict]]:
    """Autosaved projects that can be recovered, newest first: ``(folder, origin)``.

    ``exclude``: folders to leave out (the running session's own).
    """
    root = root if root is not None else autosave_root()
    found = []
    for folder in root.glob("*/"):
        if folder in exclude:
            continue
        try:
            origin = json.loads((folder / ORIGIN_FILE).read_text(encoding="utf-8"))
            float(origin.get("saved", 0))
        except (OSError, ValueError, TypeError, AttributeError, RecursionError):
            continue  # a damaged autosave record: not offered
        if (folder / "project.yaml").is_file():
            found.append((folder, origin))
    return sorted(found, key=lambda item: -float(item[1].get("saved", 0)))


def newer_autosaves(path: str | Path, root: Path | None = None,
                    exclude: set[Path] | frozenset = frozenset()) -> list[Path]:
    """Autosaves of the project at ``path`` written after its last save."""
    path = Path(path).resolve()
    marker = path / "project.yaml" if path.is_dir() else path
    saved = marker.stat().st_mtime if marker.exists() else 0.0
    return [folder for folder, origin in autosaved(root, exclude)
            if origin.get("path") == str(path) and float(origin.get("saved", 0)) > saved]


def recover(folder: Path) -> Project:
    """Open an autosave as an unsaved project bound to its original folder.

    Save then writes there; a project that was never saved has no folder and Save asks.
    """
    project = load_project(folder)
    origin = json.loads((folder / ORIGIN_FILE).read_text())
    project.path = Path(origin["path"]) if origin.get("path") else None
    project.name = origin.get("name") or project.name
    return project
