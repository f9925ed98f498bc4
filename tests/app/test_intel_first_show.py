"""The Intelligence screen at launch: the item detail's module is not imported
with the screen, and an item's detail is read off the UI thread, the latest
choice winning (issue 17.5: it was on the way to the first page)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from meeting_fixtures import ranked, standard_items

from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_the_screen_does_not_import_the_item_detail_module():
    # A fresh interpreter: this test process has imported everything already.
    code = (
        "import sys, ui.main_window, ui.intel_view; print('triage.ops.item_detail' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_items_detail_is_read_off_the_ui_thread_and_the_latest_choice_wins(qtbot, db):
    standard_items(db, 20)
    ranked(db)
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    view = window.page("intel")
    qtbot.waitUntil(lambda: view.model.rowCount() == 21)
    first = view.model.row_data(0)["intel_id"]
    qtbot.waitUntil(lambda: first in view.item_view.toPlainText())  # the first row, shown
    second, third = view.model.row_data(1)["intel_id"], view.model.row_data(2)["intel_id"]
    view.table.selectRow(1)
    assert first in view.item_view.toPlainText()  # not read on the UI thread: not yet changed
    view.table.selectRow(2)  # moved on before the second row's detail came back
    qtbot.waitUntil(lambda: third in view.item_view.toPlainText())
    window.tasks.wait()
    qtbot.wait(1)
    assert third in view.item_view.toPlainText() and second not in view.item_view.toPlainText()
    qtbot.waitUntil(lambda: "Not yet discussed" in view.history_view.toPlainText())
    window.tasks.wait()
    window.close()


def test_the_first_row_is_chosen_on_a_screen_not_on_show(qtbot, db):
    standard_items(db, 20)
    ranked(db)
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    window.show_page("meetings")  # before the queue's first page comes back
    view = window.pages["intel"]
    qtbot.waitUntil(lambda: view.model.rowCount() == 21)
    first = view.model.row_data(0)["intel_id"]
    qtbot.waitUntil(lambda: first in view.item_view.toPlainText())
    assert view.table.selectionModel().currentIndex().row() == 0
    window.tasks.wait()
    window.close()


def test_the_status_bar_counts_are_read_once_the_first_page_is_shown(qtbot, db, monkeypatch):
    # Counting every item (0.2 s of CPU on a million) took a core from the
    # first page's read when both were asked for as the window was made.
    standard_items(db, 20)
    ranked(db)
    rows_when_counted: list[int] = []
    read_counts = MainWindow._read_counts

    def noted(window: MainWindow) -> None:
        rows_when_counted.append(window.pages["intel"].model.rowCount())
        read_counts(window)

    monkeypatch.setattr(MainWindow, "_read_counts", noted)
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "21 items" in window.counts_label.text())
    assert rows_when_counted == [21]
    window.tasks.wait()
    window.close()
