"""Recent projects, autosave and recovery, and the unsaved-changes prompt."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QMessageBox

from wavefab.app.gui.document import Document
from wavefab.app.gui.session import Autosaver, RecentFiles, autosaved, recover
from wavefab.designkit.project import load_project, new_project

pytestmark = pytest.mark.gui


@pytest.fixture
def window(windows, tmp_path):
    """A window on a blank project whose autosaves go to a folder of the test's own."""
    win = windows.make("blank")
    win.autosaver.root = tmp_path / "autosave"
    return win


def test_recent_files_newest_first_existing_only_and_limited(tmp_path, qapp):
    recent = RecentFiles(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), limit=3)
    folders = []
    for k in range(5):
        folder = tmp_path / f"p{k}"
        folder.mkdir()
        folders.append(folder)
        recent.add(folder)
    assert recent.paths() == [folders[4], folders[3], folders[2]]
    recent.add(folders[3])
    assert recent.paths()[0] == folders[3] and len(recent.paths()) == 3
    folders[4].rmdir()
    assert folders[4] not in recent.paths()


def test_the_window_remembers_what_it_opened_and_saved(window, tmp_path):
    window.document.set_value("training.epochs", 3)
    assert window.save_to(tmp_path / "saved")
    assert window.recent.paths()[0] == (tmp_path / "saved").resolve()
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert str((tmp_path / "saved").resolve()) in texts


def test_autosave_copies_unsaved_work_and_recovery_brings_it_back(window, windows, dispose,
                                                                 tmp_path):
    saver = window.autosaver
    assert saver.autosave() is None  # nothing unsaved
    window.document.set_value("training.epochs", 5)
    folder = saver.autosave()
    assert folder is not None and (folder / "project.yaml").is_file()
    assert window.document.project.path is None  # the document is not moved to the copy
    assert load_project(folder).config.training.epochs == 5
    assert [f for f, _ in autosaved(saver.root)] == [folder]
    # a crash now: a new window recovers it, as unsaved work
    other = windows.make("lens")
    other.autosaver.root = saver.root
    assert other.recover_autosave(folder)
    assert other.document.project.config.training.epochs == 5 and other.document.dirty
    dispose(other)
    # saving cleanly removes the autosave
    assert window.save_to(tmp_path / "proj")
    assert not folder.exists() and autosaved(saver.root) == []


def test_recovery_keeps_the_original_path(tmp_path, qapp):
    document = Document(new_project("blank"))
    document.save(tmp_path / "orig")
    saver = Autosaver(document, root=tmp_path / "auto")
    document.set_value("training.epochs", 7)
    folder = saver.autosave()
    project = recover(folder)
    assert project.path == tmp_path / "orig" and project.config.training.epochs == 7


@pytest.mark.parametrize("answer, replaced", [
    (QMessageBox.StandardButton.Cancel, False),
    (QMessageBox.StandardButton.Discard, True),
    (QMessageBox.StandardButton.Save, True),
])
def test_the_unsaved_changes_prompt(window, tmp_path, monkeypatch, answer, replaced):
    assert window.save_to(tmp_path / "p")
    window.document.set_value("training.epochs", 4)
    window.autosaver.autosave()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answer)
    window.new_project("lens")
    assert (window.document.project.config.problem == "lens") == replaced
    if answer == QMessageBox.StandardButton.Save:
        assert load_project(tmp_path / "p").config.training.epochs == 4
    if answer != QMessageBox.StandardButton.Cancel:
        assert autosaved(window.autosaver.root) == []
    else:
        assert len(autosaved(window.autosaver.root)) == 1


def test_opening_a_project_keeps_its_newer_autosave_and_says_so(window, windows, dispose,
                                                                tmp_path):
    window.document.set_value("training.epochs", 3)
    assert window.save_to(tmp_path / "proj")
    window.document.set_value("training.epochs", 8)
    folder = window.autosaver.autosave()
    # the session dies here; a new one opens the project from its folder
    fresh = windows.make("lens")
    fresh.autosaver.root = window.autosaver.root
    assert fresh.open_path(tmp_path / "proj")
    assert folder.is_dir()  # opening must not delete the crash copy
    assert "newer than its last save" in fresh.log.toPlainText()
    fresh.document.set_value("training.epochs", 4)
    other = fresh.autosaver.autosave()
    assert other != folder and folder.is_dir()  # sessions never overwrite each other
    dispose(fresh)
    assert folder.is_dir()


def test_an_autosave_that_cannot_be_written_is_reported_once(window, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    window.autosaver.root = blocker
    window.document.set_value("training.epochs", 3)
    reports = []
    window.autosaver.failed.connect(reports.append)
    assert window.autosaver.autosave() is None
    assert window.autosaver.autosave() is None
    assert len(reports) == 1 and "autosave" in window.log.toPlainText()
