"""The login dialog: shown when a database has several users; the core checks."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from triage.users import accounts
from ui.login import LoginDialog, sign_in_to


def test_single_user_database_signs_in_without_asking(db):
    assert sign_in_to(db) == accounts.sign_in(db, None, None)


def test_the_dialog_names_a_wrong_password_then_signs_in(qtbot, db):
    owner = accounts.sign_in(db, None, None)
    accounts.set_password(db, owner.name, "owner-pw", actor=owner)
    accounts.add_user(db, "bob", ["officer", "auditor"], "bob-pw", actor=owner)
    dialog = LoginDialog(db)
    qtbot.addWidget(dialog)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.name, "bob")
    qtbot.keyClicks(dialog.password, "guess")
    ok.click()
    assert dialog.actor is None and dialog.result() == 0
    assert dialog.problem.text() == "⚠ wrong password for user 'bob'"
    assert dialog.password.text() == ""  # typed again, never kept
    qtbot.keyClicks(dialog.password, "bob-pw")
    ok.click()
    assert dialog.actor is not None
    assert (dialog.actor.name, dialog.actor.roles) == ("bob", frozenset({"officer", "auditor"}))
