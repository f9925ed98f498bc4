"""Signing in: asked once a database is opened, unless it has a single user
without a password (a new single-user laptop), who is signed in silently."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from triage.store.db import Database
from triage.users import Actor
from triage.users.accounts import SignInError, sign_in
from ui import theme


class LoginDialog(QDialog):
    """Name and password; the core checks them (``accounts.sign_in``)."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if parent is None:
            theme.style(self)
        self.db = db
        self.actor: Actor | None = None
        self.setWindowTitle("Sign in to Triage")
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&User name:", self.name)
        form.addRow("&Password:", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{db.name} has several users: who are you?"))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def try_sign_in(self) -> None:
        try:
            self.actor = sign_in(self.db, self.name.text().strip(), self.password.text())
        except SignInError as error:
            self.problem.setText(f"⚠ {error}")
            self.password.clear()
            self.password.setFocus()
            return
        self.accept()


def sign_in_to(db: Database, parent: QWidget | None = None) -> Actor | None:
    """The acting user for ``db``: silently in single-user mode, else asked;
    None if the user gave up."""
    try:
        return sign_in(db, None, None)
    except SignInError:
        pass
    dialog = LoginDialog(db, parent)
    return dialog.actor if dialog.exec() == QDialog.DialogCode.Accepted else None
