"""File > Sync in the app: push a laptop copy's offline work (a conflict
listed), pull a team's work into a new copy; the same core as `triage sync`."""

from __future__ import annotations

from datetime import date

import pytest
from actors import EVERYONE
from em_helpers import add_case
from meeting_fixtures import REGION, TEAM, standard_items
from PySide6.QtCore import Qt
from sqlalchemy import select

from triage.meetings import operations as meetings
from triage.store.db import open_database
from triage.store.models import IntelItem
from triage.sync.pull import pull
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def server(tmp_path, new_database_file):
    db = open_database(new_database_file(tmp_path / "server.sqlite"))
    standard_items(db, 6)
    with db.transaction() as session:
        add_case(session, "EM-1")
    yield db
    db.close()


def _decide(db, intel_id, decision):
    meeting = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=EVERYONE
    )
    with db.sessions() as session:
        item = session.scalar(select(IntelItem.id).where(IntelItem.intel_id == intel_id))
    reason = "duplicate" if decision == "rejected" else None
    meetings.decide(
        db, meeting_id=meeting, item_id=item, decision=decision, actor=EVERYONE, reason=reason
    )


def _status(db, intel_id):
    with db.sessions() as session:
        return session.scalar(select(IntelItem.status).where(IntelItem.intel_id == intel_id))


def test_push_from_the_app_lists_the_conflict(qtbot, server, tmp_path):
    laptop_path = tmp_path / "laptop.sqlite"
    pull(server, laptop_path, region=REGION, team=TEAM, actor=EVERYONE)
    laptop = open_database(laptop_path)
    _decide(laptop, "INT-0000", "accepted")
    _decide(laptop, "INT-0001", "accepted")
    _decide(server, "INT-0001", "rejected")
    window = MainWindow(laptop)
    qtbot.addWidget(window)
    window.show()
    try:
        dialog = window.open_sync()
        qtbot.waitUntil(lambda: dialog.ready, timeout=10000)  # read off the UI thread
        assert "Not yet pushed: 2 items" in dialog.about.text()
        assert dialog.server.text() == str(server.path)
        qtbot.mouseClick(dialog.push_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.report.toPlainText().startswith("Pushed"), timeout=20000)
        report = dialog.report.toPlainText()
        assert "Pushed: 1 items" in report
        assert "1 conflict(s), not sent" in report and "item INT-0001" in report
        # The conflict stays unsent.
        qtbot.waitUntil(lambda: "Not yet pushed: 1 items" in dialog.about.text(), timeout=10000)
        assert _status(server, "INT-0000") == "accepted"
        assert _status(server, "INT-0001") == "rejected"
        dialog.reject()
    finally:
        window.tasks.wait()
        window.close()


def test_pull_from_the_app_into_a_new_copy(qtbot, server, db, tmp_path):
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    try:
        dialog = window.open_sync()
        qtbot.waitUntil(lambda: dialog.ready, timeout=10000)
        assert not dialog.push_button.isEnabled()  # not a laptop copy
        assert "not a laptop copy" in dialog.about.text()
        dialog.server.setText(str(server.path))
        dialog.region.setText(REGION)
        dialog.team.setText(TEAM)
        target = tmp_path / "copy.sqlite"
        dialog.target.setText(str(target))
        qtbot.mouseClick(dialog.pull_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.pulled is not None, timeout=20000)
        assert "7 open items, 1 EM cases" in dialog.report.toPlainText()
        copy = open_database(target)
        assert _status(copy, "INT-0000") == "open"
        copy.close()
        dialog.reject()
    finally:
        window.tasks.wait()
        window.close()
