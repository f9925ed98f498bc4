"""The window's layout is kept between runs: each table's column widths come
back on the same table, whichever page of a screen was showing when the app
closed."""

from __future__ import annotations

from datetime import date

import pytest
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from PySide6.QtCore import Qt

from ui.main_window import MainWindow
from ui.rows_model import TextRowsModel

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def open_window(qtbot, db) -> MainWindow:
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    return window


def test_column_widths_come_back_on_their_own_table_after_closing_in_a_meeting(qtbot, db):
    standard_items(db, 20)
    ranked(db)
    first = open_window(qtbot, db)
    view = first.show_page("meetings")
    with qtbot.waitSignal(view.list_loaded, timeout=10000):
        pass
    first.tasks.wait()
    qtbot.wait(1)
    view.list.horizontalHeader().resizeSection(0, 173)
    view.results.table.horizontalHeader().resizeSection(0, 151)
    # Closed in a meeting: the meeting mode is the page on top, which reorders
    # the screen's children (their order once named the saved column widths).
    with qtbot.waitSignal(view.started, timeout=10000):
        view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    first.tasks.wait()
    first.close()

    second = open_window(qtbot, db)
    view = second.show_page("meetings")
    with qtbot.waitSignal(view.list_loaded, timeout=10000):
        pass
    second.tasks.wait()
    qtbot.wait(1)  # the results read's rows reach the screen
    assert view.list.horizontalHeader().count() == len(view.list_model.headers)
    assert view.results.table.horizontalHeader().count() == len(view.results.model.headers)
    assert view.list.columnWidth(0) == 173
    assert view.results.table.columnWidth(0) == 151
    second.tasks.wait()
    second.close()


def test_a_header_asked_for_a_column_past_the_last_gets_nothing():
    # An exception from headerData reaches Qt as a crash of the whole app.
    model = TextRowsModel(["Intel ID", "Team"])
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Team"
    assert model.headerData(5, Qt.Orientation.Horizontal) is None
