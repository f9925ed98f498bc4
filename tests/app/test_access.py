"""Keyboard, screen-reader and window-size behaviour of the whole app
(issue 15.13), driven through the real widgets offscreen."""

from __future__ import annotations

import pytest
from meeting_fixtures import ranked, standard_items
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableWidget, QVBoxLayout, QWidget

from ui import access
from ui.main_window import PAGES, MainWindow
from ui.widgets import DateField

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


@pytest.fixture
def window(qtbot, db):
    standard_items(db, 12)
    ranked(db)
    main = MainWindow(db)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.tasks.wait()
    main.close()


def describe(widget: QWidget) -> str:
    parents = []
    parent = widget.parentWidget()
    while parent is not None and len(parents) < 4:
        parents.append(type(parent).__name__)
        parent = parent.parentWidget()
    return f"{type(widget).__name__} in {' < '.join(parents)}"


def test_every_control_of_every_screen_has_an_accessible_name(window, qtbot):
    for _text, key in PAGES:
        window.show_page(key)
        window.tasks.wait()
    # The EM screen makes its Actions panel and its tabs' tables when first shown,
    em = window.pages["em"]
    em.detail_tabs.setCurrentWidget(em.actions)
    for index in range(em.tabs.count()):
        em.tabs.setCurrentIndex(index)
    assert len(em.tables) == em.tabs.count()
    stats = window.pages["stats"]  # and the statistics their tabs' panels
    for index in range(stats.tabs.count()):
        stats.tabs.setCurrentIndex(index)
    assert len(stats.panels) == sum(len(names) for names in stats.PANELS.values())
    missing = [describe(w) for w in access.unnamed_controls(window)]
    assert missing == []


def test_f1_opens_help_and_esc_closes_it(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.help_dialog is not None and window.help_dialog.isVisible())
    dialog = window.help_dialog
    assert "Tasking meeting" in dialog.text.toPlainText()
    limit = access.available_size(dialog)
    assert dialog.width() <= limit.width() and dialog.height() <= limit.height()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def _focus_chain(qtbot, first: QWidget, presses: int) -> list[QWidget]:
    first.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is first)
    seen = []
    for _ in range(presses):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_leaves_a_date_field_and_a_table(qtbot):
    panel = QWidget()
    layout = QVBoxLayout(panel)
    date, table, button = DateField(), QTableWidget(3, 3), QPushButton("After")
    for widget in (date, table, button):
        layout.addWidget(widget)
    access.prepare(panel)
    qtbot.addWidget(panel)
    panel.show()
    panel.activateWindow()
    qtbot.waitExposed(panel)
    assert _focus_chain(qtbot, date, 2) == [table, button]


def test_the_window_never_grows_past_the_screen(window, qtbot):
    limit = access.available_size(window)
    view = window.page("intel")
    huge = QLabel("x" * 4000)  # as a long export path did: 1,881 px wide
    huge.setMinimumHeight(limit.height() + 500)  # as the reject panel did: 1,063 px tall
    view.layout().addWidget(huge)
    window.adjustSize()
    qtbot.wait(10)
    assert window.width() <= limit.width() and window.height() <= limit.height()


def test_layout_and_column_widths_are_kept_between_runs(qtbot, db):
    standard_items(db, 3)
    ranked(db)
    first = MainWindow(db)
    qtbot.addWidget(first)
    view = first.page("intel")
    view.table.setColumnWidth(3, 211)
    first.tasks.wait()
    first.close()
    second = MainWindow(db)
    qtbot.addWidget(second)
    assert second.page("intel").table.columnWidth(3) == 211
    second.tasks.wait()
    second.close()


@pytest.mark.parametrize("make", ["start_meeting", "mapping", "help"])
def test_esc_closes_every_dialog_and_its_controls_are_named(qtbot, make):
    from PySide6.QtWidgets import QDialog

    from ui.help import HelpDialog
    from ui.imports_view import MappingDialog
    from ui.meeting_view import StartMeetingDialog

    dialog = {
        "start_meeting": StartMeetingDialog,
        "mapping": lambda: MappingDialog("extract.csv", ["Ref", "Date received"]),
        "help": HelpDialog,
    }[make]()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert [describe(w) for w in access.unnamed_controls(dialog)] == []
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Rejected
