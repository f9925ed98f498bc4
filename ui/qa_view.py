"""The Quality assurance screen: draw a sample of decisions, score them, read
the report (003 Annex D, the Calibre framework).

Every step calls the same ``triage.qa`` functions as ``triage qa``: the
draw and the scores are written on the writer thread; the core refuses a
reviewer who made the decision, and the message says so. The score a
review will get is shown as the form is filled in (``qa.scoring`` is plain
Python: the same rules the core applies when it stores it).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from triage import clock, settings
from triage.qa import operations as qa
from triage.qa.report import KIND_LABELS, build_report, write_report
from triage.qa.scoring import (
    OUTCOMES,
    SPECIAL_POLICIES,
    Finding,
    ScoreError,
    quality_score,
    satisfactory,
    score_label,
)
from triage.store.db import Database
from triage.users import NotPermitted
from ui import identity
from ui.dashboard_view import TablePanel
from ui.labels import QA_OUTCOMES as OUTCOME_TEXT
from ui.plain import plain
from ui.rows_model import TextRowsModel, rows_table
from ui.tasks import Tasks
from ui.widgets import DateField

HEADERS = ("Decision", "Kind", "Decided", "By", "Region", "Team", "About", "What", "Score")
POLICY_TEXT = {
    "safeguarding": "Safeguarding",
    "security": "Security",
    "modern_slavery": "Modern slavery",
}


class QaView(QWidget):
    """Samples, the score form and the report; ``changed`` after each write."""

    changed = Signal()

    def __init__(self, db: Database, tasks: Tasks | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.db, self.tasks = db, tasks
        self.current: qa.Sample | None = None
        self.shown_report: Any = None  # the released report of the sample shown

        title = QLabel("Quality assurance", objectName="title")
        intro = plain(
            QLabel(
                "A random sample of a period's tasking and EM decisions, each scored QS1-QS5 "
                "by a reviewer who did not make it (Calibre, 003 Annex D). The same seed "
                "draws the same sample."
            )
        )
        intro.setWordWrap(True)

        # Last month by default: the period a monthly QA round looks back on.
        last_day = clock.to_local(clock.now()).date().replace(day=1) - timedelta(days=1)
        self.start = DateField()
        self.start.setDate(_qdate(last_day.replace(day=1)))
        self.end = DateField()
        self.end.setDate(_qdate(last_day))
        self.rate = QSpinBox(suffix=" %")
        self.rate.setRange(1, 100)
        self.rate.setValue(round(qa.DEFAULT_RATE * 100))
        self.seed = QSpinBox()
        self.seed.setRange(-1, qa.MAX_SEED)
        self.seed.setSpecialValueText("new")
        self.seed.setValue(-1)
        self.draw_button = QPushButton("&Draw sample", objectName="primary")
        self.draw_button.clicked.connect(self.draw)
        self.samples = QComboBox()
        self.samples.setAccessibleName("Sample")
        self.samples.currentIndexChanged.connect(self._sample_chosen)
        draw_row = QHBoxLayout()
        for label, widget in (("&From", self.start), ("&To", self.end), ("R&ate", self.rate),
                              ("S&eed", self.seed)):  # fmt: skip
            caption = QLabel(label)
            caption.setBuddy(widget)
            draw_row.addWidget(caption)
            draw_row.addWidget(widget)
        draw_row.addWidget(self.draw_button)
        draw_row.addSpacing(16)
        draw_row.addWidget(QLabel("Sample"))
        draw_row.addWidget(self.samples, 1)
        self.sample_label = plain(QLabel(objectName="subtitle"))

        self.model = TextRowsModel(HEADERS, self)
        self.table = rows_table(self.model)
        self.table.setAccessibleName("Sampled decisions")
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._decision_chosen())

        # The score form.
        self.chosen = plain(QLabel("Choose a decision to score."))
        self.chosen.setWordWrap(True)
        self.points = QSpinBox()
        self.points.setRange(1, 200)
        self.points.setValue(10)
        self.minor, self.significant, self.fail, self.fail_special = (QSpinBox() for _ in range(4))
        for box in (self.minor, self.significant, self.fail, self.fail_special):
            box.setRange(0, 200)
            box.valueChanged.connect(self._preview)
        self.points.valueChanged.connect(self._preview)
        self.policy = QComboBox()
        for key in SPECIAL_POLICIES:
            self.policy.addItem(POLICY_TEXT[key], key)
        self.outcome = QComboBox()
        for key in OUTCOMES:
            self.outcome.addItem(OUTCOME_TEXT[key], key)
        self.outcome.currentIndexChanged.connect(self._preview)
        self.feedback = QPlainTextEdit()
        self.feedback.setPlaceholderText("Feedback the decision maker will see in the history")
        self.feedback.setFixedHeight(70)
        self.preview = plain(QLabel())
        self.score_button = QPushButton("&Score this decision", objectName="primary")
        self.score_button.clicked.connect(self.score)
        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.chosen)
        form.addRow("&Points checked", self.points)
        form.addRow("&Minor errors", self.minor)
        form.addRow("S&ignificant errors", self.significant)
        form.addRow("Fail errors (&other)", self.fail)
        form.addRow("Fail errors on a special &policy", self.fail_special)
        form.addRow("Special polic&y", self.policy)
        form.addRow("&Outcome assessed", self.outcome)
        form.addRow("Feedbac&k", self.feedback)
        form.addRow("Score", self.preview)
        form.addRow(self.score_button)
        form.addRow(self.message)
        score_box = QGroupBox("Score a decision")
        score_box.setLayout(form)

        self.report = TablePanel(self, chart=False)
        self.export_button = QPushButton("E&xport report…")
        self.export_button.clicked.connect(self.export_dialog)

        self.splitter = QSplitter()
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(score_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(draw_row)
        layout.addWidget(self.sample_label)
        layout.addWidget(self.splitter, 3)
        layout.addWidget(self.report, 2)
        layout.addWidget(self.export_button)
        self._preview()

    # -- samples -------------------------------------------------------------------

    def refresh(self, select_id: int | None = None) -> None:
        """List the samples again (read off the UI thread), then show one."""
        wanted = select_id if select_id is not None else self.samples.currentData()
        db = self.db
        self._read(lambda: qa.samples(db), lambda listed: self._list_samples(listed, wanted))

    def _list_samples(self, listed: list[dict[str, Any]], wanted: int | None) -> None:
        self.samples.blockSignals(True)
        self.samples.clear()
        for s in listed:
            self.samples.addItem(
                f"{s['id']}: {s['period_from']} to {s['period_to']}, "
                f"{s['sampled']} of {s['population']} ({s['scored']} scored)",
                s["id"],
            )
        index = self.samples.findData(wanted) if wanted is not None else 0
        self.samples.setCurrentIndex(max(index, 0))
        self.samples.blockSignals(False)
        self._sample_chosen()

    def _sample_chosen(self) -> None:
        """Read the chosen sample and its period's report off the UI thread."""
        sample_id = self.samples.currentData()
        db, suppress_below = self.db, settings.load().suppress_below

        def read() -> tuple[qa.Sample | None, Any]:
            chosen = qa.sample(db, sample_id) if sample_id is not None else None
            if chosen is None:
                return None, None
            report = build_report(db, chosen.period_from, chosen.period_to)
            return chosen, report.released(suppress_below)

        self._read(read, self._show_sample)

    def _show_sample(self, read: tuple[qa.Sample | None, Any]) -> None:
        self.current, report = read
        self.shown_report = report  # exported as shown: not computed again
        rows = self.current.decisions if self.current else []
        self.model.set_rows(
            [
                (
                    d["decision_ref"],
                    KIND_LABELS.get(d["kind"], d["kind"]),
                    str(d["decided_on"]),
                    d["decided_by"] or "not recorded",
                    d["region"] or "",
                    d["team"] or "",
                    d["subject"],
                    d["decision"],
                    d["score"] or "not scored",
                )  # fmt: skip
                for d in rows
            ]
        )
        if self.current is None:
            self.sample_label.setText("No sample drawn yet.")
            return
        s = self.current
        self.sample_label.setText(
            f"Sample {s.id}: {len(s.decisions):,} of {s.population:,} decisions made "
            f"{s.period_from} to {s.period_to}, rate {s.rate:.0%}, seed {s.seed}; drawn by "
            f"{s.drawn_by}."
        )
        self.report.set_table(report.table)
        self._decision_chosen()

    def draw(self) -> None:
        start, end = self.start.day(), self.end.day()
        rate = self.rate.value() / 100
        seed = None if self.seed.value() < 0 else self.seed.value()
        actor = identity.current()

        def done(drawn: qa.Sample) -> None:
            self.draw_button.setEnabled(True)
            self.message.setText(
                f"Sample {drawn.id} {'drawn' if drawn.created else 'already drawn'} "
                f"(seed {drawn.seed})."
            )
            self.refresh(select_id=drawn.id)
            self.changed.emit()

        self._run(lambda: qa.draw_sample(self.db, start, end, rate=rate, seed=seed, actor=actor),
                  done, self.draw_button)  # fmt: skip

    # -- scoring -------------------------------------------------------------------

    def selected(self) -> dict[str, Any] | None:
        row = self.table.currentIndex().row()
        if self.current is None or not 0 <= row < len(self.current.decisions):
            return None
        return self.current.decisions[row]

    def _decision_chosen(self) -> None:
        decision = self.selected()
        self.score_button.setEnabled(decision is not None)
        if decision is None:
            self.chosen.setText("Choose a decision to score.")
            return
        made = decision["decided_by"] or "someone not recorded"
        scored = (
            f" Scored {decision['score']} by {decision['reviewer']}; scoring again replaces it."
            if decision["score"]
            else ""
        )
        self.chosen.setText(
            f"{decision['decision_ref']} ({decision['subject']}): {decision['decision']}, "
            f"decided {decision['decided_on']} by {made}.{scored}"
        )

    def findings(self) -> list[Finding]:
        policy = self.policy.currentData()
        return (
            [Finding("minor")] * self.minor.value()
            + [Finding("significant")] * self.significant.value()
            + [Finding("fail")] * self.fail.value()
            + [Finding("fail", policy)] * self.fail_special.value()
        )

    def _preview(self) -> None:
        try:
            score = quality_score(self.points.value(), self.findings(), self.outcome.currentData())
        except ScoreError as error:
            self.preview.setText(f"⚠ {error}")
            return
        verdict = "satisfactory" if satisfactory(score) else "unsatisfactory"
        self.preview.setText(f"{score_label(score)} ({verdict})")

    def score(self) -> None:
        decision = self.selected()
        if decision is None:
            return
        sample_decision_id = int(decision["id"])
        points, errors = self.points.value(), self.findings()
        outcome, text = self.outcome.currentData(), self.feedback.toPlainText()
        actor = identity.current()

        def done(scored: dict[str, Any]) -> None:
            self.score_button.setEnabled(True)
            self.message.setText(f"{scored['decision_ref']} scored {scored['score']}.")
            self.feedback.clear()
            row = self.table.currentIndex().row()
            self.refresh()
            self.table.selectRow(row)
            self.changed.emit()

        self._run(
            lambda: qa.score_decision(
                self.db,
                sample_decision_id,
                points_checked=points,
                errors=errors,
                outcome=outcome,
                feedback=text,
                actor=actor,
            ),  # fmt: skip
            done,
            self.score_button,
        )

    # -- report --------------------------------------------------------------------

    def export(self, path: Path) -> Path:
        """Write the report of the sample's period (csv, xlsx or pdf, by suffix)."""
        return write_report(self.shown_report, path, path.suffix.lower().lstrip("."))

    def export_dialog(self) -> None:
        if self.current is None:
            self.message.setText("Draw a sample first.")
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Export QA report", "qa-report.xlsx", "Excel (*.xlsx);;PDF (*.pdf);;CSV (*.csv)"
        )
        if name:
            try:
                self.message.setText(f"Report written to {self.export(Path(name))}.")
            except (OSError, ValueError) as error:
                self.message.setText(f"⚠ {error}")

    # -- running core calls ---------------------------------------------------------

    def _read(self, fn: Any, done: Any) -> None:
        """``fn`` on a reader thread (directly without one), then ``done`` with its result."""
        if self.tasks is None:
            done(fn())
            return
        self.tasks.read(lambda _job: fn(), done, lambda error: self.message.setText(f"⚠ {error}"))

    def _run(self, fn: Any, done: Any, button: QPushButton) -> None:
        """``fn`` on the writer thread (directly without one); a refusal or a
        bad request shows its message beside the form."""
        button.setEnabled(False)

        def failed(error: object) -> None:
            button.setEnabled(True)
            self.message.setText(f"⚠ {error}")

        if self.tasks is None:
            try:
                result = fn()
            except (NotPermitted, qa.QaRequestError, ScoreError) as error:
                failed(error)
                return
            done(result)
            return
        self.tasks.write(lambda _job: fn(), done, failed)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
