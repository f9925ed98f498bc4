"""The EM page in the app: what its first showing leaves for later (tables of
hidden tabs, the chosen case's part, the Actions panel) is made when wanted, and a chosen case is
explained off the UI thread, the latest choice winning."""

from __future__ import annotations

import pytest
from em_helpers import add_release_and_battery_cases
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def em(qtbot, db):
    with db.transaction() as s:
        add_release_and_battery_cases(s)
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    view = window.show_page("em")
    qtbot.waitUntil(lambda: view.queue is not None, timeout=10000)
    yield view
    # Deliver the results still queued for the UI thread while the test's
    # user is signed in (the app never signs out under an open window), and
    # wait for any read they start: one shown after the sign-out fails.
    for _ in range(10):
        window.tasks.wait()
        QApplication.processEvents()
        if window.tasks.idle():
            break
    window.close()


def test_the_case_part_is_made_when_a_case_is_first_chosen(em, qtbot):
    assert em._case_detail is None
    assert "Select a case" in em._no_case.text() and em._no_case.isVisible()
    em.tables["all"].selectRow(0)
    assert em._case_detail is not None and not em.claim_button.isEnabled()  # until read
    assert em._no_case.isHidden()  # at once, not drawn over the case's row until deleted
    qtbot.waitUntil(lambda: em.detail_tabs.isVisible() and em.case_label.isVisible())
    qtbot.waitUntil(lambda: em.claim_button.isEnabled(), timeout=10000)
    assert em.why_view.accessibleName() == "Why here"  # named as the screen's other controls
    em.tables["all"].clearSelection()
    em.refresh()  # a refresh keeps the part, and the message line stays beneath the case row
    qtbot.waitUntil(lambda: em.tasks.idle(), timeout=10000)
    assert em.message.geometry().top() > em.case_label.parentWidget().geometry().bottom()


def test_hidden_tabs_and_the_actions_panel_are_made_when_first_shown(em, qtbot):
    assert list(em.tables) == ["all"]  # only the tab on show has its table
    assert em.models["breaches"].rowCount() == 1  # the others' rows are ready all the same
    em.tabs.setCurrentIndex(3)
    table = em.tables["breaches"]
    assert table.isVisible() and table.model() is em.models["breaches"]
    assert em.tabs.tabText(3) == "Breaches (1)"
    assert em.tabs.currentWidget() is table
    assert em._actions is None
    em.detail_tabs.setCurrentIndex(em.detail_tabs.count() - 1)  # the user opens Actions
    assert em._actions is not None and em.detail_tabs.currentWidget() is em.actions
    assert em.detail_tabs.tabText(em.detail_tabs.currentIndex()) == "Actions"


def test_a_chosen_case_is_explained_off_the_ui_thread_and_the_latest_choice_wins(em, qtbot):
    table = em.tables["all"]
    table.selectRow(1)  # BAT1
    # At once: which case, and no claim on facts not yet read.
    assert em.case_id == "BAT1" and "BAT1" in em.case_label.text()
    assert not em.claim_button.isEnabled()
    table.selectRow(0)  # changed their mind before BAT1's explanation came back
    qtbot.waitUntil(lambda: "harm" in em.case_label.text(), timeout=10000)
    em.tasks.wait()
    # A queue read still coming back from the window's start shows the chosen
    # case again, its claim off until the case is read anew: wait for that.
    qtbot.waitUntil(lambda: em.claim_button.isEnabled(), timeout=10000)
    assert em.case_id == "REL1" and "REL1" in em.case_label.text()
    assert em.owner_label.text() == "Unclaimed"
    assert em.timeline.rowCount() == 0  # REL1's, not BAT1's three battery events
    assert "Advice" in em.recommendation_view.toPlainText()
