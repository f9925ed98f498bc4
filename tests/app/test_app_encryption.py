"""The app and encrypted databases: the passphrase dialog, File > New, the status bar."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLineEdit, QMessageBox

from triage.store import cipher
from triage.store.db import open_database
from ui.main_window import MainWindow
from ui.passphrase import NewDatabaseDialog, PassphraseDialog, open_asking

pytestmark = [
    pytest.mark.qt_log_ignore("propagateSizeHints"),
    pytest.mark.sqlite_only("SQLCipher encrypts a SQLite file; a server protects its own data"),
]

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def encrypted(tmp_path):
    path = tmp_path / "secret.sqlite"
    open_database(path, PASSPHRASE).close()
    return path


def answer_passphrase_dialogs(qtbot, answers: list[str]) -> list[PassphraseDialog]:
    """Type each answer into the next passphrase dialog and press Open."""
    seen: list[PassphraseDialog] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PassphraseDialog):
            QTimer.singleShot(10, answer)
            return
        seen.append(dialog)
        assert dialog.field.echoMode() == QLineEdit.EchoMode.Password  # never shown
        qtbot.keyClicks(dialog.field, answers[len(seen) - 1])
        qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
        if len(seen) < len(answers):
            QTimer.singleShot(10, answer)

    QTimer.singleShot(0, answer)
    return seen


def test_an_encrypted_database_opens_after_its_passphrase_is_typed(qtbot, encrypted):
    seen = answer_passphrase_dialogs(qtbot, [PASSPHRASE])
    db = open_asking(encrypted)
    assert db is not None and db.encrypted and len(seen) == 1
    db.close()


def test_a_wrong_passphrase_asks_again_then_gives_up(qtbot, encrypted, monkeypatch):
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warned.append(args[2]))
    seen = answer_passphrase_dialogs(qtbot, ["wrong one"] * 3)
    assert open_asking(encrypted) is None
    assert len(seen) == 3
    assert warned == [f"{encrypted.name}: wrong passphrase or not a Triage database."]


def test_a_plain_database_opens_without_asking(qtbot, db):
    db.close()
    reopened = open_asking(db.path)
    assert reopened is not None and not reopened.encrypted
    reopened.close()


def settle(window: MainWindow) -> None:
    """Let the window's background reads finish and deliver their results."""
    window.tasks.wait()
    QApplication.processEvents()


def test_the_status_bar_says_whether_the_database_is_encrypted(qtbot, db, encrypted):
    window = MainWindow(db)
    qtbot.addWidget(window)
    assert window.db_label.text().endswith("· not encrypted")
    settle(window)
    window.set_database(open_database(encrypted, PASSPHRASE))
    assert window.db_label.text().endswith("· encrypted")
    settle(window)
    window.close()
    window.db.close()


def test_new_database_is_encrypted_by_default(qtbot, db, tmp_path, monkeypatch):
    target = tmp_path / "team.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(target), ""))
    window = MainWindow(db)
    qtbot.addWidget(window)
    settle(window)

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, NewDatabaseDialog):
            QTimer.singleShot(10, fill)
            return
        assert dialog.encrypt.isChecked()
        qtbot.keyClicks(dialog.first, "too short")
        qtbot.keyClicks(dialog.second, "too short")
        qtbot.keyClick(dialog.second, Qt.Key.Key_Return)
        assert dialog.isVisible() and "at least 12 characters" in dialog.problem.text()
        for field in (dialog.first, dialog.second):
            field.clear()
            qtbot.keyClicks(field, PASSPHRASE)
        qtbot.keyClick(dialog.second, Qt.Key.Key_Return)

    QTimer.singleShot(0, fill)
    window.new_database()
    assert window.db.path == target and window.db.encrypted
    assert cipher.is_encrypted(target)
    assert window.db_label.text().endswith("· encrypted")
    settle(window)
    window.close()
    window.db.close()


def test_new_database_can_be_plain(qtbot, tmp_path):
    dialog = NewDatabaseDialog(tmp_path / "plain.sqlite")
    qtbot.addWidget(dialog)
    dialog.encrypt.setChecked(False)
    assert not dialog.first.isEnabled()
    dialog._check()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.passphrase() is None
