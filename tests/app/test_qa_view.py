"""The Quality assurance screen on real widgets: draw, score, refusals, report,
and the feedback in the item's history."""

from __future__ import annotations

from datetime import date

import pytest
from actors import as_user
from PySide6.QtCore import QDate
from qa_helpers import add_decisions

from triage.qa import operations as qa
from ui import identity
from ui.intel_view import IntelligenceView
from ui.qa_view import QaView

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(qtbot, db):
    add_decisions(db, tasking=60, reviews=5, by="maker")
    identity.sign_in(as_user("reviewer"))
    screen = QaView(db)  # no writer thread: each write runs at once
    qtbot.addWidget(screen)
    screen.refresh()
    screen.start.setDate(QDate(2026, 10, 1))
    screen.end.setDate(QDate(2026, 10, 31))
    screen.rate.setValue(10)
    screen.seed.setValue(4)
    return screen


def test_draw_score_and_report_from_the_screen(view, db):
    assert view.sample_label.text() == "No sample drawn yet."
    view.draw_button.click()
    drawn = qa.sample(db)
    assert drawn is not None and drawn.seed == 4
    assert view.model.rowCount() == len(drawn.decisions) == 7  # 6 tasking + 1 review
    view.table.selectRow(0)
    assert view.score_button.isEnabled()
    view.points.setValue(10)
    view.fail_special.setValue(1)
    view.policy.setCurrentIndex(view.policy.findData("safeguarding"))
    assert view.preview.text() == "QS5 (unsatisfactory)"
    view.fail_special.setValue(0)
    view.minor.setValue(2)
    assert view.preview.text() == "QS2 (satisfactory)"
    view.outcome.setCurrentIndex(view.outcome.findData("probably_wrong"))
    assert "needs the fail error" in view.preview.text()
    view.outcome.setCurrentIndex(view.outcome.findData("probably_correct"))
    view.feedback.setPlainText("Give the reason in full.")
    view.score_button.click()
    assert "scored QS2" in view.message.text()
    scored = qa.sample(db).decisions[0]
    assert scored["score"] == "QS2" and scored["reviewer"] == "reviewer"
    assert view.model.rows[0][-1] == "QS2"
    rows = {(r["breakdown"], r["group"]): r for r in view.report.table.rows}
    assert rows[("All decisions", "All")]["scored"] == 1
    assert rows[("All decisions", "All")]["satisfactory_pct"] == 100


def test_the_screen_shows_the_cores_refusal_of_scoring_your_own_decision(view, db):
    view.draw_button.click()
    identity.sign_in(as_user("maker"))
    own = next(i for i, d in enumerate(view.current.decisions) if d["decided_by"] == "maker")
    view.table.selectRow(own)
    view.score_button.click()
    assert "made that decision" in view.message.text()
    assert qa.sample(db).decisions[own]["score"] is None


def test_the_report_exports_from_the_screen(view, tmp_path):
    view.draw_button.click()
    for suffix in ("csv", "xlsx", "pdf"):
        written = view.export(tmp_path / f"qa.{suffix}")
        assert written.stat().st_size > 0


def test_the_decision_maker_sees_the_feedback_in_the_items_history(qtbot, db):
    add_decisions(db, tasking=20, reviews=0, by="maker")
    drawn = qa.draw_sample(
        db, date(2026, 10, 1), date(2026, 10, 31), rate=0.1, seed=1, actor=as_user("reviewer")
    )
    decision = drawn.decisions[0]
    qa.score_decision(
        db, decision["decision_ref"], points_checked=5, errors=[], outcome="probably_correct",
        feedback="Well evidenced <b>decision</b>.", actor=as_user("reviewer"),
    )  # fmt: skip
    screen = IntelligenceView(db)
    qtbot.addWidget(screen)
    screen._show_history(decision["item_id"])
    shown = screen.history_view.toPlainText()
    assert "Quality assurance" in shown
    assert "QS1 (satisfactory)" in shown and "reviewed by reviewer" in shown
    assert "Well evidenced <b>decision</b>." in shown  # escaped, shown as written


def test_an_em_caseworker_sees_the_feedback_on_the_case(qtbot, db):
    from ui.em_view import EmCaseloadView

    add_decisions(db, tasking=0, reviews=3, by="caseworker")
    drawn = qa.draw_sample(
        db, date(2026, 10, 1), date(2026, 10, 31), rate=1, seed=1, actor=as_user("reviewer")
    )
    review = drawn.decisions[0]
    qa.score_decision(
        db, review["id"], points_checked=4, errors=[qa.Finding("significant")],
        outcome="probably_correct", feedback="Record the representation.",
        actor=as_user("reviewer"),
    )  # fmt: skip
    screen = EmCaseloadView(db)
    qtbot.addWidget(screen)
    screen._show_case(review["subject"])
    shown = screen.recommendation_view.toPlainText()
    assert "Quality assurance" in shown and "QS3 (unsatisfactory)" in shown
    assert "Record the representation." in shown
    screen.tasks.wait()
