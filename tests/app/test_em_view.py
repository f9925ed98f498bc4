"""The EM caseload screen driven through its widgets (offscreen)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from em_helpers import NOW, add_case, add_event
from PySide6.QtCore import Qt

from triage.em import claims
from ui.em_view import EmCaseloadView, RowRole

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(qtbot, db, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setattr("triage.settings.current_user", lambda: "alice")
    with db.transaction() as s:
        add_case(
            s,
            "REL1",
            harm_level="high",
            em_status="awaiting_fit",
            bail_type="ij",
            bail_granted_at=NOW - timedelta(hours=80),
        )
        add_case(
            s, "BAT1", harm_level="low", fitted_at=NOW - timedelta(days=20), last_contact_at=NOW
        )
        for n, hours in enumerate((5, 4, 3)):
            start = NOW - timedelta(days=5 - n)
            add_event(s, f"B{n}", "BAT1", "battery", start, ended_at=start + timedelta(hours=hours))
    widget = EmCaseloadView(db)
    qtbot.addWidget(widget)
    widget.refresh()
    widget.show()
    yield widget
    widget.tasks.wait()


def test_tabs_deadlines_and_explanation(view, qtbot):
    all_rows = view.models["all"].rows
    assert [r["case_id"] for r in all_rows] == ["REL1", "BAT1"]
    assert view.tabs.tabText(1) == "Releases (1)"
    deadlines = view.models["deadlines"]
    assert deadlines.rowCount() == 1
    assert deadlines.data(deadlines.index(0, 1)) == "⚠ overdue"
    # Select the battery case in the Breaches tab: timeline and advice show.
    view.tabs.setCurrentIndex(3)
    table = view.tables["breaches"]
    table.selectRow(0)
    assert view.case_id == "BAT1"
    assert view.timeline.rowCount() == 3
    assert view.timeline.item(0, 4).text() == "report 1"
    assert "Advice" in view.recommendation_view.toPlainText()
    assert "consolidated" in view.why_view.toPlainText()


def test_claim_and_refusal_shown(view, qtbot, db):
    view.select_case("REL1")
    assert view.claim_button.isEnabled()
    with qtbot.waitSignal(view.claim_changed, timeout=5000):
        qtbot.mouseClick(view.claim_button, Qt.MouseButton.LeftButton)
    assert claims.holder(db, "REL1")[0] == "alice"
    assert view.owner_label.text() == "Owner: alice"
    assert view.release_button.isEnabled() and not view.claim_button.isEnabled()
    # Someone else holds BAT1: the button is off and the holder is named.
    claims.claim(db, "BAT1", who="bob")
    view.select_case("BAT1")
    assert view.owner_label.text() == "Owner: bob" and not view.claim_button.isEnabled()
    row = view.models["all"].data(view.models["all"].index(0, 0), RowRole)
    assert row["case_id"] == "REL1"


def test_claim_lost_to_someone_else_names_the_holder(view, qtbot, db):
    view.select_case("BAT1")
    claims.claim(db, "BAT1", who="bob")  # bob claims while alice is looking
    with qtbot.waitSignal(view.claim_changed, timeout=5000):
        qtbot.mouseClick(view.claim_button, Qt.MouseButton.LeftButton)
    assert "already claimed by bob" in view.message.text()
    assert view.owner_label.text() == "Owner: bob"
