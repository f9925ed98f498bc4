"""The EM caseload screen driven through its widgets (offscreen)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from actors import as_user
from em_helpers import NOW, add_event, add_release_and_battery_cases
from PySide6.QtCore import Qt

from triage.em import claims
from ui import identity
from ui.em_view import EmCaseloadView, RowRole

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(qtbot, db, monkeypatch, request):
    monkeypatch.setenv("USER", "alice")
    identity.sign_in(as_user("alice"))
    request.addfinalizer(lambda: identity.sign_in(None))
    with db.transaction() as s:
        add_release_and_battery_cases(s)
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
    claims.claim(db, "BAT1", actor=as_user("bob"))
    view.select_case("BAT1")
    assert view.owner_label.text() == "Owner: bob" and not view.claim_button.isEnabled()
    row = view.models["all"].data(view.models["all"].index(0, 0), RowRole)
    assert row["case_id"] == "REL1"


def test_claim_lost_to_someone_else_names_the_holder(view, qtbot, db):
    view.select_case("BAT1")
    claims.claim(db, "BAT1", actor=as_user("bob"))  # bob claims while alice is looking
    with qtbot.waitSignal(view.claim_changed, timeout=5000):
        qtbot.mouseClick(view.claim_button, Qt.MouseButton.LeftButton)
    assert "already claimed by bob" in view.message.text()
    assert view.owner_label.text() == "Owner: bob"


def test_filters_by_case_caseworker_deadline_and_harm(view, qtbot, db):
    view.case_filter.setText("bat")
    assert [r["case_id"] for r in view.models["all"].rows] == ["BAT1"]
    view.case_filter.clear()
    view.harm_filter.setCurrentIndex(view.harm_filter.findData("high"))
    assert [r["case_id"] for r in view.models["all"].rows] == ["REL1"]
    view.harm_filter.setCurrentIndex(0)
    view.due_filter.setCurrentIndex(view.due_filter.findData("overdue"))
    assert [r["case_id"] for r in view.models["all"].rows] == ["REL1"]
    assert view.models["all"].rows[0]["rank"] == 1  # a filter keeps each row's rank
    view.due_filter.setCurrentIndex(0)
    claims.claim(db, "BAT1", actor=as_user("bob"))
    view.refresh()
    view.caseworker_filter.setCurrentIndex(view.caseworker_filter.findData("bob"))
    assert [r["case_id"] for r in view.models["all"].rows] == ["BAT1"]
    assert view.models["all"].rows[0]["rank"] == 2
    view.caseworker_filter.setCurrentIndex(view.caseworker_filter.findText("Unclaimed"))
    assert [r["case_id"] for r in view.models["all"].rows] == ["REL1"]
    assert "(filtered)" in view.summary.text()


def act(view, qtbot, button):
    """Press an Actions-tab button and wait for the write to be reported."""
    with qtbot.waitSignal(view.actions.done, timeout=5000) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_every_em_action_from_the_actions_tab(view, qtbot, db):
    from sqlalchemy import select

    from triage.em import escalation
    from triage.em.models import EmEscalation, EmRecommendation, EmReview, EmTrailRequest
    from triage.store.models import EmEvent

    with db.transaction() as s:
        add_event(s, "REP1", "BAT1", "representation_received", NOW - timedelta(days=1))
        for n in range(5):
            add_event(s, f"S{n}", "BAT1", "strap_tamper", NOW - timedelta(days=3, hours=n))
    escalation.apply_escalations(db, as_of=NOW)
    view.refresh()
    view.select_case("BAT1")
    panel = view.actions
    view.detail_tabs.setCurrentWidget(panel)

    panel.review_outcome.setCurrentIndex(panel.review_outcome.findData("ceased"))
    assert "Review recorded: ceased" in act(view, qtbot, _button(panel, "Record review"))
    assert panel.breach_label.text() == "8 open"
    assert "8 breach notification(s) marked actioned" in act(view, qtbot, panel.actioned_button)
    assert panel.legal_event.currentData() == "REP1"
    assert "Reply to REP1 recorded" in act(view, qtbot, panel.reply_button)
    assert not panel.reply_button.isEnabled()  # nothing left to answer
    assert panel.escalation.count() == 1
    assert "withdrawn" in act(view, qtbot, panel.escalation_withdrawn)

    assert "Recommendation" in act(view, qtbot, panel.record_advice_button)
    panel.device.setCurrentIndex(panel.device.findText("Exemption from EM (no device)"))
    panel.decision_reason.setText("ceased at review")
    assert "overrides the recommendation" in act(view, qtbot, panel.decide_button)

    panel.trail_requester.setText("DC Smith")
    panel.trail_ground.setCurrentIndex(panel.trail_ground.findData("absconding"))
    assert "registered" in act(view, qtbot, _button(panel, "Register request"))
    panel.trail_outcome.setCurrentIndex(panel.trail_outcome.findData("provided"))
    assert "provided" in act(view, qtbot, panel.trail_outcome_button)

    with db.sessions() as s:
        assert s.scalars(select(EmReview.outcome)).all() == ["ceased"]
        assert s.scalars(select(EmEvent.responded_at).where(EmEvent.case_id == "BAT1")).all()
        assert (
            None
            not in s.scalars(select(EmEvent.responded_at).where(EmEvent.case_id == "BAT1")).all()
        )
        assert s.scalars(select(EmEscalation.status)).all() == ["withdrawn"]
        decided = s.scalars(select(EmRecommendation)).one()
        assert (decided.decided_device, decided.overridden) == ("none", True)
        request = s.scalars(select(EmTrailRequest)).one()
        assert (request.ground, request.outcome, request.recorded_by) == (
            "absconding",
            "provided",
            "alice",
        )


def test_a_refused_action_says_why_and_changes_nothing(view, qtbot, db):
    view.select_case("BAT1")
    panel = view.actions
    assert "Recommendation" in act(view, qtbot, panel.record_advice_button)
    panel.decision_reason.setText("   ")
    assert "a decision needs a reason" in act(view, qtbot, panel.decide_button)
    assert "a decision needs a reason" in view.message.text()
    panel.trail_requester.setText("")
    assert "the requester must be named" in act(view, qtbot, _button(panel, "Register request"))


def _button(panel, text):
    from PySide6.QtWidgets import QPushButton

    return next(b for b in panel.findChildren(QPushButton) if b.text() == text)


def test_release_someone_elses_claim_asks_and_is_recorded_as_forced(view, qtbot, db, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    from sqlalchemy import select

    from triage.store.models import AuditEntry

    claims.claim(db, "BAT1", actor=as_user("bob"))
    view.select_case("BAT1")
    assert view.release_button.isEnabled()
    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No,
    )
    qtbot.mouseClick(view.release_button, Qt.MouseButton.LeftButton)
    assert "claimed by bob" in asked[0] and claims.holder(db, "BAT1")[0] == "bob"
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(view.claim_changed, timeout=5000):
        qtbot.mouseClick(view.release_button, Qt.MouseButton.LeftButton)
    assert claims.holder(db, "BAT1") is None
    with db.sessions() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "em.release_forced" in actions


def test_in_the_app_the_queue_and_filters_are_read_off_the_ui_thread(view, qtbot, db):
    """With the app's task runner, a refresh and a filter change are worked
    out on a reader thread and shown when they arrive (display text included)."""
    from ui.tasks import Tasks

    tasks = Tasks()
    in_app = EmCaseloadView(db, tasks=tasks)
    qtbot.addWidget(in_app)
    in_app.refresh()
    qtbot.waitUntil(lambda: in_app.queue is not None)
    model = in_app.models["all"]
    assert [r["case_id"] for r in model.rows] == ["REL1", "BAT1"]
    in_app.case_filter.setText("bat")
    qtbot.waitUntil(lambda: [r["case_id"] for r in model.rows] == ["BAT1"])
    assert model.data(model.index(0, 1)) == "BAT1"
    assert model.data(model.index(0, 0), RowRole)["rank"] == 2
    tasks.wait()
