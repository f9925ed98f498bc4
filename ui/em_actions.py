"""Every caseworker action on the selected EM case, as the CLI's ``em ...``
commands offer them: record a review (any outcome, "ceased" included), mark
breach notifications actioned, a reply sent to a representation, PAP letter
or judicial review, an escalation step done or withdrawn, the device decision
on a recorded recommendation (with its reason, which says why when it
overrides the advice) and trail-data requests and their outcomes.

Each button calls the same ``triage.em`` function as the CLI, on the app's
single writer thread; the form only collects the arguments.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from triage import clock
from triage.em import casework, escalation, recommend, trail
from triage.em.models import (
    REVIEW_OUTCOMES,
    REVIEW_TRIGGERS,
    TRAIL_GROUNDS,
    TRAIL_KINDS,
    TRAIL_OUTCOMES,
    TRAIL_REQUESTERS,
)
from triage.store.db import Database
from triage.users import Actor
from triage.vocab import BREACH_TYPES
from ui import identity, labels
from ui.tasks import Tasks
from ui.widgets import DateField

DEVICE_CHOICES = (
    ("Fitted device", True, "fitted"),
    ("Non-fitted device", True, "non_fitted"),
    ("Exemption from EM (no device)", False, "none"),
)


def words(code: object) -> str:
    return str(code or "").replace("_", " ")


def _combo(values: tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    for value in values:
        combo.addItem(words(value), value)
    return combo


def _button(text: str, handler: Callable[[], None]) -> QPushButton:
    button = QPushButton(text)
    button.clicked.connect(handler)
    return button


class EmActionsPanel(QWidget):
    """The actions on one case; ``done`` says what was recorded (or why not)."""

    done = Signal(str, bool)  # message, succeeded

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.case_id: str | None = None
        self.recommendation_id: int | None = None

        # Review.
        self.review_outcome = _combo(REVIEW_OUTCOMES)
        self.review_trigger = _combo(REVIEW_TRIGGERS)
        self.review_date = DateField()
        self.review_note = QLineEdit(placeholderText="optional")
        review = QGroupBox("Review completed")
        form = QFormLayout(review)
        form.addRow("Outcome", self.review_outcome)
        form.addRow("Trigger", self.review_trigger)
        form.addRow("Completed on", self.review_date)
        form.addRow("Note", self.review_note)
        form.addRow(_button("Record review", self.record_review))

        # Breach notifications and legal replies.
        self.breach_label = QLabel()
        self.actioned_button = _button("Mark all actioned", self.mark_actioned)
        self.legal_event = QComboBox()
        self.reply_button = _button("Reply sent", self.reply_sent)
        notices = QGroupBox("Breaches and legal challenges")
        form = QFormLayout(notices)
        breach_row = QHBoxLayout()
        breach_row.addWidget(self.breach_label, 1)
        breach_row.addWidget(self.actioned_button)
        form.addRow("Breach notifications", breach_row)
        self.breach_label.setAccessibleName("Open breach notifications")
        form.addRow("Representation, PAP letter or JR", self.legal_event)
        form.addRow(self.reply_button)

        # Escalation ladder.
        self.escalation = QComboBox()
        self.escalation_done = _button("Done (letter sent / referral made)", self.escalation_sent)
        self.escalation_withdrawn = _button("Withdrawn", self.escalation_dropped)
        steps = QGroupBox("Escalation")
        form = QFormLayout(steps)
        form.addRow("Open step", self.escalation)
        step_buttons = QHBoxLayout()
        step_buttons.addWidget(self.escalation_done)
        step_buttons.addWidget(self.escalation_withdrawn)
        form.addRow(step_buttons)

        # Device decision.
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.advice_label.setAccessibleName("Recorded recommendation")
        self.record_advice_button = _button("Record the recommendation", self.record_advice)
        self.device = QComboBox()
        for text, em, device in DEVICE_CHOICES:
            self.device.addItem(text, (em, device))
        self.months = QSpinBox()
        self.months.setRange(0, 120)
        self.months.setSpecialValueText("as advised")
        self.months.setSuffix(" months")
        self.decision_reason = QLineEdit(
            placeholderText="required; if it differs from the advice, say why"
        )
        self.decide_button = _button("Record decision", self.record_decision)
        decision = QGroupBox("Device decision (the caseworker decides; the advice is shown)")
        form = QFormLayout(decision)
        form.addRow("Advice", self.advice_label)
        form.addRow(self.record_advice_button)
        form.addRow("Decision", self.device)
        form.addRow("Minimum period", self.months)
        form.addRow("Reason", self.decision_reason)
        form.addRow(self.decide_button)

        # Trail-data requests.
        self.trail_request = QComboBox()
        self.trail_outcome = _combo(TRAIL_OUTCOMES)
        self.trail_outcome_button = _button("Record outcome", self.record_trail_outcome)
        self.trail_org = _combo(TRAIL_REQUESTERS)
        self.trail_requester = QLineEdit(placeholderText="who asked (required)")
        self.trail_kind = _combo(TRAIL_KINDS)
        self.trail_ground = _combo(TRAIL_GROUNDS)
        self.trail_from = DateField()
        self.trail_to = DateField()
        self.trail_justification = QLineEdit(placeholderText="optional")
        requests = QGroupBox("Trail-data requests")
        form = QFormLayout(requests)
        form.addRow("Awaiting an outcome", self.trail_request)
        form.addRow("Outcome", self.trail_outcome)
        form.addRow(self.trail_outcome_button)
        form.addRow(QLabel("<b>New request</b>"))
        form.addRow("Requester organisation", self.trail_org)
        form.addRow("Requester", self.trail_requester)
        form.addRow("Kind", self.trail_kind)
        form.addRow("DPIA ground", self.trail_ground)
        form.addRow("Period from", self.trail_from)
        form.addRow("Period to", self.trail_to)
        form.addRow("Justification", self.trail_justification)
        form.addRow(_button("Register request", self.register_trail))

        body = QWidget()
        column = QVBoxLayout(body)
        for group in (review, notices, steps, decision, requests):
            column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_trace(None)

    # -- showing the case ----------------------------------------------------------

    def show_trace(self, trace: dict[str, Any] | None) -> None:
        """Fill the choices from a case's trace (``explain_case``); None disables all."""
        self.case_id = trace["case_id"] if trace else None
        self.setEnabled(trace is not None)
        open_breaches = (
            sum(1 for e in trace["timeline"] if e["type"] in BREACH_TYPES and not e["actioned_at"])
            if trace
            else 0
        )
        self.breach_label.setText(f"{open_breaches} open")
        self.actioned_button.setEnabled(open_breaches > 0)

        self.legal_event.clear()
        for legal in (trace or {}).get("deadlines", {}).get("legal", []):
            if not legal["answered_at"]:
                due = _local(legal["due_at"])
                self.legal_event.addItem(
                    f"{words(legal['type'])} {legal['event_id']}, reply due {due}",
                    legal["event_id"],
                )
        self.reply_button.setEnabled(self.legal_event.count() > 0)

        self.escalation.clear()
        for step in (trace or {}).get("escalation", {}).get("recorded", []):
            if step["status"] == "open":
                self.escalation.addItem(
                    f"{words(step['step'])} at {step['at_count']} breaches, raised "
                    f"{_local(step['raised_at'])}",
                    step["id"],
                )
        for button in (self.escalation_done, self.escalation_withdrawn):
            button.setEnabled(self.escalation.count() > 0)

        recorded = (trace or {}).get("recorded_recommendation")
        undecided = recorded is not None and recorded["decision"] is None
        self.recommendation_id = recorded["id"] if undecided else None
        if undecided:
            device = words(recorded["device"])
            months = (
                f", minimum {recorded['minimum_months']} months"
                if recorded["minimum_months"]
                else ""
            )
            self.advice_label.setText(
                f"{'EM' if recorded['em'] else 'Exemption from EM'}, {device}{months} "
                f"(recorded {_local(recorded['made_at'])})"
            )
            wanted = (recorded["em"], recorded["device"])
            self.device.setCurrentIndex(max(0, self.device.findData(wanted)))
        elif recorded is not None:
            self.advice_label.setText(
                "Decided (see the Recommendation tab); record a new one to decide again."
            )
        else:
            self.advice_label.setText("No recommendation recorded yet.")
        self.record_advice_button.setEnabled(not undecided)
        for widget in (self.device, self.months, self.decision_reason, self.decide_button):
            widget.setEnabled(undecided)

        self.trail_request.clear()
        for request in (trace or {}).get("trail_requests", []):
            if request["outcome"] is None:
                self.trail_request.addItem(
                    f"#{request['id']} {words(request['kind'])} for "
                    f"{words(request['requester_org'])}, {_local(request['requested_at'])}",
                    request["id"],
                )
        waiting = self.trail_request.count() > 0
        self.trail_outcome.setEnabled(waiting)
        self.trail_outcome_button.setEnabled(waiting)

    # -- the actions -----------------------------------------------------------------

    def _run(self, fn: Callable[[Actor], object], message: Callable[[Any], str]) -> None:
        """Run ``fn(actor)`` for the signed-in user on the writer thread; report
        its outcome with ``done``."""
        if self.case_id is None:
            return
        actor = identity.current()
        self.setEnabled(False)

        def finished(result: object) -> None:
            self.setEnabled(True)
            self.done.emit(message(result), True)

        def failed(error: str) -> None:
            self.setEnabled(True)
            self.done.emit(f"⚠ {html.escape(str(error))}", False)

        self.tasks.write(lambda _job: fn(actor), finished, failed)

    def record_review(self) -> None:
        case_id, outcome = self.case_id, self.review_outcome.currentData()
        trigger, day = self.review_trigger.currentData(), self.review_date.day()
        note = self.review_note.text().strip() or None
        self._run(
            lambda actor: casework.complete_review(
                self.db,
                str(case_id),
                outcome=outcome,
                trigger=trigger,
                completed_on=day,
                note=note,
                actor=actor,
            ),
            lambda _r: f"Review recorded: {words(outcome)}.",
        )
        self.review_note.clear()

    def mark_actioned(self) -> None:
        case_id = str(self.case_id)
        self._run(
            lambda actor: casework.mark_breaches_actioned(self.db, case_id, actor=actor),
            lambda n: f"{n} breach notification(s) marked actioned.",
        )

    def reply_sent(self) -> None:
        event_id = self.legal_event.currentData()
        if event_id:
            self._run(
                lambda actor: casework.record_reply(self.db, event_id, actor=actor),
                lambda _r: f"Reply to {event_id} recorded.",
            )

    def _escalation(self, status: str) -> None:
        step_id = self.escalation.currentData()
        if step_id is not None:
            self._run(
                lambda actor: escalation.mark_done(self.db, step_id, actor=actor, status=status),
                lambda _r: f"Escalation step recorded as {status}.",
            )

    def escalation_sent(self) -> None:
        self._escalation("done")

    def escalation_dropped(self) -> None:
        self._escalation("withdrawn")

    def record_advice(self) -> None:
        case_id = str(self.case_id)
        self._run(
            lambda actor: recommend.record_recommendation(self.db, case_id, actor=actor),
            lambda rec_id: f"Recommendation {rec_id} recorded: now record the decision.",
        )

    def record_decision(self) -> None:
        rec_id = self.recommendation_id
        if rec_id is None:
            return
        em, device = self.device.currentData()
        months = self.months.value() or None
        reason = self.decision_reason.text()
        self._run(
            lambda actor: recommend.decide(
                self.db,
                rec_id,
                em=em,
                device=device,
                reason=reason,
                actor=actor,
                minimum_months=months,
            ),
            lambda override: (
                "Decision recorded" + (" (it overrides the recommendation)." if override else ".")
            ),
        )

    def record_trail_outcome(self) -> None:
        request_id, outcome = self.trail_request.currentData(), self.trail_outcome.currentData()
        if request_id is not None:
            self._run(
                lambda actor: trail.record_outcome(self.db, request_id, outcome, actor=actor),
                lambda _r: f"Trail request #{request_id}: {words(outcome)}.",
            )

    def register_trail(self) -> None:
        case_id = str(self.case_id)
        # The period runs from the start of its first day to the end of its last (UK time).
        start = clock.start_of_local_day(self.trail_from.day())
        end = clock.start_of_local_day(self.trail_to.day() + timedelta(days=1))
        values = {
            "requester_org": self.trail_org.currentData(),
            "requester": self.trail_requester.text(),
            "kind": self.trail_kind.currentData(),
            "ground": self.trail_ground.currentData(),
            "justification": self.trail_justification.text().strip() or None,
        }
        self._run(
            lambda actor: trail.register_request(
                self.db, case_id=case_id, period_from=start, period_to=end, actor=actor, **values
            ),
            lambda request_id: f"Trail request #{request_id} registered.",
        )


def _local(value: str | None) -> str:
    if not value:
        return "-"
    return labels.local_time(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
