"""Asking for a database's passphrase, and the encryption choice for a new database.

The passphrase is typed into a password field (never shown) and handed to
``open_database``; the app keeps it only inside the open database's engine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from triage import paths
from triage.store import cipher
from triage.store.db import DEFAULT_BACKUPS_KEPT, Database, open_database
from triage.store.faults import WRONG_PASSPHRASE, StoreUnavailable
from ui import theme

# Attempts before the app gives up on an encrypted database.
ATTEMPTS = 3


class PassphraseDialog(QDialog):
    """One password field for an encrypted database's passphrase."""

    def __init__(self, path: Path, parent: QWidget | None = None, problem: str = "") -> None:
        super().__init__(parent)
        if parent is None:
            theme.style(self)
        self.setWindowTitle("Encrypted database")
        layout = QFormLayout(self)
        message = QLabel(f"{path.name} is encrypted. Enter its passphrase to open it.")
        message.setWordWrap(True)
        layout.addRow(message)
        if problem:
            warning = QLabel(problem)
            warning.setObjectName("problem")
            layout.addRow(warning)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("Passphrase")
        layout.addRow("&Passphrase:", self.field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def passphrase(self) -> str:
        return self.field.text()


class NewDatabaseDialog(QDialog):
    """File > New: encrypt the new database (the default) with a passphrase typed twice."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New database")
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"Create {path.name}"))
        self.encrypt = QCheckBox(
            "&Encrypt it (recommended: a lost laptop then loses nothing readable)"
        )
        self.encrypt.setChecked(True)
        layout.addRow(self.encrypt)
        self.first = QLineEdit()
        self.second = QLineEdit()
        for field, name in ((self.first, "Passphrase"), (self.second, "Passphrase again")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(name)
        layout.addRow("&Passphrase:", self.first)
        layout.addRow("&Again:", self.second)
        hint = QLabel(
            f"At least {cipher.MIN_PASSPHRASE} characters; three random words are easy to "
            "remember. It cannot be recovered if lost."
        )
        hint.setWordWrap(True)
        layout.addRow(hint)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        layout.addRow(self.problem)
        self.encrypt.toggled.connect(self.first.setEnabled)
        self.encrypt.toggled.connect(self.second.setEnabled)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def passphrase(self) -> str | None:
        """The chosen passphrase, or None for a plain database."""
        return self.first.text() if self.encrypt.isChecked() else None

    def _check(self) -> None:
        if self.encrypt.isChecked():
            problem = cipher.passphrase_problem(self.first.text())
            if problem is None and self.first.text() != self.second.text():
                problem = "the two passphrases differ"
            if problem:
                self.problem.setText(problem[0].upper() + problem[1:] + ".")
                return
        self.accept()


def open_asking(
    where: Path | str, parent: QWidget | None = None, backups_kept: int = DEFAULT_BACKUPS_KEPT
) -> Database | None:
    """Open the file ``where``, asking for its passphrase if it is encrypted,
    or the server database at the address ``where``.

    None when the user cancels or gives a wrong passphrase ``ATTEMPTS``
    times (they are told); other faults are raised for the caller to show.
    """
    if paths.is_url(where):
        return open_database(str(where))
    path = Path(where)
    if not cipher.is_encrypted(path):
        return open_database(path, backups_kept=backups_kept)
    problem = ""
    for _attempt in range(ATTEMPTS):
        dialog = PassphraseDialog(path, parent, problem)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        try:
            return open_database(path, dialog.passphrase(), backups_kept)
        except StoreUnavailable as error:
            if WRONG_PASSPHRASE not in str(error):
                raise
            problem = "Wrong passphrase (or not a Triage database). Try again."
    QMessageBox.warning(parent, "Encrypted database", f"{path.name}: {WRONG_PASSPHRASE}.")
    return None
