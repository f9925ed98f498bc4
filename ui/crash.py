"""An exception nothing else handled: write a crash report beside the log
(``triage.logs``) and show it in a dialog with "Copy details", instead of the
app vanishing. Installed as ``sys.excepthook`` by ``ui.app``; Qt calls it for
an exception raised in a slot, so the app carries on after the dialog."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from triage import logs
from triage.ops.about import build_info
from ui.plain import text as plain_text
from ui.widgets import close_and_copy_buttons


class CrashDialog(QDialog):
    def __init__(self, report: str, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setWindowTitle("Triage — unexpected error")
        message = QLabel(
            plain_text(
                "Triage met an error it did not expect. Your data is as it was after the "
                f"last change you saved.\nA crash report was written to {path}.\n"
                "Copy the details into your support request."
            )
        )
        message.setWordWrap(True)
        self.details = QPlainTextEdit(report)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Crash details")
        buttons, self.copy_button = close_and_copy_buttons(self, self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report)


def handle(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """``sys.excepthook``: report, then show the dialog (if a Qt app runs)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    try:
        path, report = logs.write_crash_report(kind, error, trace, build_info().line())
    except Exception:  # nowhere to write it: still tell the user
        sys.__excepthook__(kind, error, trace)
        return
    if QApplication.instance() is None:
        sys.__excepthook__(kind, error, trace)
        return
    CrashDialog(report, path, QApplication.activeWindow()).exec()


def install() -> None:
    sys.excepthook = handle
