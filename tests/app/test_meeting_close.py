"""Closing a meeting in the app asks first, with the counts the core gives."""

from __future__ import annotations

from datetime import date

import pytest
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from triage.meetings import operations as meetings
from triage.store.models import TaskingMeeting
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def window(qtbot, db):
    standard_items(db, 20)
    ranked(db)
    main = MainWindow(db)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.tasks.wait()
    main.close()


def status_of(db, meeting_id: int) -> str:
    with db.sessions() as session:
        return session.execute(
            select(TaskingMeeting.status).where(TaskingMeeting.id == meeting_id)
        ).scalar_one()


def test_close_asks_first_saying_how_many_items_carry_over(window, qtbot, db, monkeypatch):
    view = window.show_page("meetings")
    mode = view.mode
    with qtbot.waitSignal(view.started, timeout=10000):
        view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    agenda = len(mode.rows)
    qtbot.keyClick(mode, Qt.Key.Key_N)  # the first item: not discussed
    qtbot.waitUntil(lambda: mode.rows[0].decision == "not_discussed" and not mode.busy)
    asked: list[str] = []
    answer = QMessageBox.StandardButton.No

    def question(_parent, _title, text, *_args, **_kwargs):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    mode.close_button.click()  # answered No: nothing happens
    expected = meetings.ClosePreview(mode.meeting_id, agenda - 1, agenda).question()
    assert asked == [expected]
    assert f"{agenda - 1} undecided agenda items will be recorded as not discussed" in asked[0]
    assert f"{agenda} items will carry over" in asked[0]
    assert not mode.busy and status_of(db, mode.meeting_id) == "open"
    answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(mode.closed, timeout=10000):
        mode.close_button.click()
    assert status_of(db, mode.meeting_id) == "closed"
    assert f"{agenda} not discussed" in mode.banner.text()
    assert not mode.accept_button.isEnabled()


def test_the_em_page_is_read_off_the_ui_thread_when_shown(window, qtbot):
    # Shown from the main window, the caseload is built on a reader thread:
    # the page is on screen at once and fills when the read comes back.
    view = window.show_page("em")
    assert view.queue is None
    qtbot.waitUntil(lambda: view.queue is not None, timeout=10000)
    assert "pieces of EM work" in view.summary.text()
