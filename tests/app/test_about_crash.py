"""Help > About, the crash dialog and ``triage-desk --version``."""

from __future__ import annotations

import logging
import logging.handlers
import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from triage.ops.about import about, build_info
from ui import app, crash
from ui.about import AboutDialog

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture(autouse=True)
def no_log_handler():
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()


def test_about_shows_versions_and_copies_them(qtbot, db):
    dialog = AboutDialog(about(db))
    qtbot.addWidget(dialog)
    assert dialog.components.rowCount() == len(dialog.about.components) > 5
    names = [dialog.components.item(r, 0).text() for r in range(dialog.components.rowCount())]
    assert "Python" in names
    assert "pyside6-essentials" in [name.lower().replace("_", "-") for name in names]
    dialog.copy_button.click()
    copied = QApplication.clipboard().text()
    assert f"Version: {build_info().version}" in copied and "Harm model: none active" in copied


def test_about_is_in_the_help_menu(qtbot, db):
    from ui.main_window import MainWindow

    window = MainWindow(db)
    qtbot.addWidget(window)
    window.tasks.wait()
    help_menu = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"][0]
    assert "&About Triage" in [a.text() for a in help_menu.actions()]


def test_uncaught_exception_writes_report_and_shows_copyable_dialog(qtbot, isolated_home):
    shown = []

    def close_dialog():
        dialog = QApplication.activeModalWidget()
        shown.append(dialog)
        dialog.copy_button.click()
        dialog.reject()

    QTimer.singleShot(0, close_dialog)
    try:
        raise KeyError("unexpected")
    except KeyError:
        crash.handle(*sys.exc_info())
    (dialog,) = shown
    assert isinstance(dialog, crash.CrashDialog)
    (report,) = (isolated_home / "logs").glob("crash-*.txt")
    assert dialog.report == report.read_text()
    assert "KeyError: 'unexpected'" in dialog.report
    assert QApplication.clipboard().text() == dialog.report


def test_version_prints_the_build_and_exits(capsys):
    assert app.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == build_info().line().replace(
        "triage", "triage-desk", 1
    )
