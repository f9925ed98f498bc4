"""The Meetings screen: start a tasking meeting, run it from the keyboard,
close it, export agenda and minutes, and record what accepted tasks led to.

Keys in a meeting: A accept, R reject then 1-9 for the reason (Esc cancels),
N not discussed, J/K next/previous, U undo, C re-check a stale item,
P presenter view, ? help. Every decision is written by the app's single
writer thread through ``triage.meetings.operations``; the agenda is then re-read.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from triage import clock, settings
from triage.intel import regions
from triage.meetings import operations as meetings
from triage.store.db import Database
from ui import labels
from ui.labels import esc
from ui.tasks import Tasks

HELP_TEXT = (
    "<b>A</b> accept · <b>R</b> reject, then <b>1-9</b> reason (Esc cancels) · "
    "<b>N</b> not discussed · <b>J</b>/<b>K</b> next / previous · <b>U</b> undo · "
    "<b>C</b> re-check a stale item · <b>P</b> presenter view · <b>?</b> this help"
)

AGENDA_COLUMNS = (
    ("position", "#"),
    ("intel_id", "Intel ID"),
    ("decision", "Decision"),
    ("bucket", "Bucket"),
    ("score", "Score"),
    ("age_days", "Days old"),
    ("carry_over_count", "Carried"),
    ("flags", "Flags"),
    ("allegation", "Allegation"),
    ("business_name", "Business"),
    ("postcode", "Postcode"),
    ("harm_score", "Harm model"),
)
PERSONAL_COLUMNS = {key for key, _header in AGENDA_COLUMNS if key in meetings.PERSONAL_FIELDS}
MEETING_COLUMNS = [
    "Date",
    "Region",
    "Team",
    "Status",
    "Capacity",
    "Accepted",
    "Rejected",
    "Not discussed",
]
STATUS_TEXT = {"open": "● open", "closed": "✔ closed", "imported": "⇩ from history"}


def _date_edit_today() -> QDateEdit:
    """A date field set to today, UK time (meetings and results are dated so)."""
    edit = QDateEdit(calendarPopup=True)
    edit.setDisplayFormat("yyyy-MM-dd")
    today = clock.to_local(clock.now()).date()
    edit.setDate(QDate(today.year, today.month, today.day))
    return edit


class StartMeetingDialog(QDialog):
    """Region, team, date, attendees and capacity (default from organisation.toml)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a tasking meeting")
        self.region = QComboBox()
        for region in regions.load_regions():
            self.region.addItem(f"{region.code} · {region.name}", region.code)
        self.team = QComboBox()
        self.held_on = _date_edit_today()
        self.attendees = QLineEdit(placeholderText="Names, separated by commas")
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 10000)
        self.capacity.setToolTip("Tasks the team can take on this week (the capacity line)")
        self.region.currentIndexChanged.connect(self._fill_teams)
        self.team.currentIndexChanged.connect(self._default_capacity)
        self._fill_teams()
        form = QFormLayout(self)
        form.addRow("Region", self.region)
        form.addRow("Team", self.team)
        form.addRow("Date", self.held_on)
        form.addRow("Attendees", self.attendees)
        form.addRow("Capacity", self.capacity)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start meeting")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _fill_teams(self) -> None:
        self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem("Whole region", None)
        for team in regions.region_by_code(self.region.currentData()).teams:
            self.team.addItem(team.name, team.name)
        self.team.setCurrentIndex(1 if self.team.count() > 1 else 0)
        self.team.blockSignals(False)
        self._default_capacity()

    def _default_capacity(self) -> None:
        self.capacity.setValue(
            meetings.default_capacity(self.region.currentData(), self.team.currentData())
        )

    def values(self) -> dict:
        d = self.held_on.date()
        return {
            "region": self.region.currentData(),
            "team": self.team.currentData(),
            "held_on": date(d.year(), d.month(), d.day()),
            "attendees": [a for a in self.attendees.text().split(",") if a.strip()],
            "capacity": self.capacity.value(),
        }


class MeetingMode(QWidget):
    """One meeting's agenda, decided from the keyboard (or the mouse)."""

    changed = Signal()  # a decision was stored (the queue and stats may refresh)
    closed = Signal(int)
    back_requested = Signal()

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.meeting_id: int | None = None
        self.rows: list[meetings.AgendaRow] = []
        self.current = 0
        self.rejecting = False
        self.presenter = False
        self.busy = False
        self.reasons = meetings.load_reasons()
        self.info: meetings.MeetingSummary | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.title = QLabel(objectName="title")
        self.subtitle = QLabel(objectName="subtitle")
        self.counter = QLabel(objectName="counter")
        self.counter.setToolTip("Accepted tasks against this week's capacity")
        back = self._button("◀ Meetings", self.back_requested.emit)
        self.presenter_box = QCheckBox("Presenter view (P)")
        self.presenter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.presenter_box.toggled.connect(self.set_presenter)
        self.export_agenda_button = self._button("Export agenda…", lambda: self.export("agenda"))
        self.export_minutes_button = self._button("Export minutes…", lambda: self.export("minutes"))
        self.close_button = self._button("Close meeting", self.close_meeting)
        self.close_button.setObjectName("primary")

        # Two rows so the window fits a 1280-pixel projector: what and how many
        # on top, the less frequent actions underneath.
        self.subtitle.setWordWrap(True)
        top_row = QHBoxLayout()
        top_row.addWidget(back)
        top_row.addWidget(self.title, 1)
        top_row.addWidget(self.counter)
        second_row = QHBoxLayout()
        second_row.addWidget(self.subtitle, 1)
        second_row.addWidget(self.presenter_box)
        second_row.addWidget(self.export_agenda_button)
        second_row.addWidget(self.export_minutes_button)
        second_row.addWidget(self.close_button)
        head = QVBoxLayout()
        head.addLayout(top_row)
        head.addLayout(second_row)

        self.table = QTableWidget(0, len(AGENDA_COLUMNS))
        self.table.setHorizontalHeaderLabels([h for _k, h in AGENDA_COLUMNS])
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._clicked_row)

        self.card = QLabel(objectName="card")
        self.card.setWordWrap(True)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.banner = QLabel(objectName="banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.accept_button = self._button("Accept (A)", lambda: self.decide("accepted"))
        self.accept_button.setObjectName("accept")
        self.reject_button = self._button("Reject (R)", self.start_reject)
        self.reject_button.setObjectName("reject")
        self.nd_button = self._button("Not discussed (N)", lambda: self.decide("not_discussed"))
        self.recheck_button = self._button("Re-check done (C)", self.recheck)
        self.undo_button = self._button("Undo (U)", self.undo)
        # Two rows, so the item card can stay narrow beside a wide agenda.
        actions = QGridLayout()
        actions.addWidget(self.accept_button, 0, 0)
        actions.addWidget(self.reject_button, 0, 1)
        actions.addWidget(self.nd_button, 0, 2)
        actions.addWidget(self.recheck_button, 1, 0)
        actions.addWidget(self.undo_button, 1, 1)

        self.reason_panel = QWidget()
        reason_layout = QVBoxLayout(self.reason_panel)
        reason_layout.addWidget(QLabel("<b>Reject: choose the reason (1-9), Esc cancels</b>"))
        for reason in self.reasons:
            button = self._button(
                f"{reason.key}  {reason.label}", lambda _=False, code=reason.code: self.reject(code)
            )
            button.setStyleSheet("text-align: left")
            reason_layout.addWidget(button)
        self.reason_panel.hide()

        self.help = QLabel(HELP_TEXT)
        self.help.setWordWrap(True)
        self.help.setObjectName("subtitle")

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.banner)
        side_layout.addWidget(self.card, 1)
        side_layout.addLayout(actions)
        side_layout.addWidget(self.reason_panel)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.table)
        self.split.addWidget(side)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([1000, 500])

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.help)

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys always reach the meeting
        button.clicked.connect(slot)
        return button

    # -- loading -------------------------------------------------------------------

    def open_meeting(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        width = max(self.split.width(), 1200)
        self.split.setSizes([width * 62 // 100, width * 38 // 100])
        self.current = 0
        self.reload()
        first = next((n for n, r in enumerate(self.rows) if r.decision is None), 0)
        self.select(first)
        self.setFocus()

    def reload(self) -> None:
        with self.db.sessions() as session:
            self.rows = meetings.agenda(session, self.meeting_id)
            self.info = meetings.summary(session, self.meeting_id)
        info = self.info
        self.title.setText(f"Tasking meeting · {info.region} / {info.team or 'whole region'}")
        self.subtitle.setText(
            f"{info.held_on.isoformat()} · {info.status} · chair {info.chair or '-'} · "
            f"{', '.join(info.attendees) or 'no attendees listed'} · {info.agenda_items} on agenda"
        )
        over = info.capacity is not None and info.accepted > info.capacity
        # A meeting imported from history has no capacity on record: no "/ None".
        of_capacity = "" if info.capacity is None else f" / {info.capacity}"
        self.counter.setText(f"Accepted {info.accepted}{of_capacity}")
        self.counter.setProperty("over", "true" if over else "false")
        self.counter.setToolTip(
            f"Over capacity by {info.accepted - info.capacity}"
            if over
            else "Accepted tasks against this week's capacity"
        )
        self.counter.style().unpolish(self.counter)
        self.counter.style().polish(self.counter)
        is_open = info.status == "open"
        for button in (
            self.accept_button,
            self.reject_button,
            self.nd_button,
            self.recheck_button,
            self.undo_button,
            self.close_button,
        ):
            button.setEnabled(is_open)
        self._fill_table()
        self._show_current()

    def _fill_table(self) -> None:
        hide_score = settings.load().hide_model_score_until_decided
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        line_at = next((n for n, r in enumerate(self.rows) if not r.fits), None)
        self.table.setRowCount(len(self.rows) + (0 if line_at is None else 1))
        out = 0
        for n, row in enumerate(self.rows):
            if n == line_at:
                marker = QTableWidgetItem(
                    f"──── capacity line: {self.info.capacity} fit this week; "
                    "items below do not ────"
                )
                marker.setFlags(Qt.ItemFlag.NoItemFlags)
                marker.setForeground(QBrush(QColor("#b3261e")))
                self.table.setItem(out, 0, marker)
                self.table.setSpan(out, 0, 1, len(AGENDA_COLUMNS))
                out += 1
            for col, (key, _header) in enumerate(AGENDA_COLUMNS):
                value = getattr(row, key)
                if key == "decision":
                    text = labels.DECISIONS.get(value, value)
                    if value == "rejected" and row.reason:
                        text += f" ({row.reason.replace('_', ' ')})"
                elif key == "bucket":
                    text = labels.bucket_text(value)
                elif key == "flags":
                    text = labels.flag_text(value)
                elif key == "harm_score":
                    text = (
                        ""
                        if value is None or (hide_score and row.decision is None)
                        else f"{value:.2f}"
                    )
                elif key == "score":
                    text = "" if value is None else f"{value:.1f}"
                else:
                    text = "" if value is None else str(value)
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, n)
                if key == "bucket":
                    cell.setBackground(QBrush(QColor(labels.BUCKET_TINTS.get(value, "#ffffff"))))
                if key == "decision" and value is not None:
                    cell.setForeground(
                        QBrush(
                            QColor(
                                {"accepted": "#1b5e20", "rejected": "#8e1b14"}.get(value, "#37414b")
                            )
                        )
                    )
                self.table.setItem(out, col, cell)
            out += 1
        for col, (key, _h) in enumerate(AGENDA_COLUMNS):
            self.table.setColumnHidden(col, self.presenter and key in PERSONAL_COLUMNS)
        self.table.blockSignals(False)

    def _table_row(self, agenda_index: int) -> int:
        line_at = next((n for n, r in enumerate(self.rows) if not r.fits), None)
        return agenda_index + (1 if line_at is not None and agenda_index >= line_at else 0)

    # -- navigation ----------------------------------------------------------------

    def select(self, index: int) -> None:
        if not self.rows:
            self._show_current()
            return
        self.current = max(0, min(index, len(self.rows) - 1))
        self.table.blockSignals(True)
        self.table.selectRow(self._table_row(self.current))
        self.table.blockSignals(False)
        self.table.scrollToItem(self.table.item(self._table_row(self.current), 0))
        self._show_current()

    def _clicked_row(self) -> None:
        items = self.table.selectedItems()
        if items and items[0].data(Qt.ItemDataRole.UserRole) is not None:
            self.current = int(items[0].data(Qt.ItemDataRole.UserRole))
            self._show_current()
        self.setFocus()

    def current_row(self) -> meetings.AgendaRow | None:
        return self.rows[self.current] if 0 <= self.current < len(self.rows) else None

    def _show_current(self) -> None:
        row = self.current_row()
        self.banner.hide()
        if row is None:
            self.card.setText("<p>The agenda is empty: no open items for this team.</p>")
            return
        fits = (
            "<span style='color:#1b5e20'>✔ fits this week (above the capacity line)</span>"
            if row.fits
            else "<span style='color:#8e1b14'>▼ below the capacity line</span>"
        )
        fields = [
            ("Bucket", labels.bucket_text(row.bucket)),
            ("Score", "" if row.score is None else f"{row.score:.1f}"),
            ("Age", f"{row.age_days} days"),
            ("Carried over", f"{row.carry_over_count} time(s)"),
            ("Flags", labels.flag_text(row.flags) or "none"),
            ("Allegation", row.allegation),
            ("Sector", row.sector),
            ("People", row.persons_estimated),
        ]
        if not self.presenter:
            fields += [
                ("Business", row.business_name),
                ("Postcode", row.postcode),
                ("Subject", row.subject_ref),
                ("Summary", row.summary),
            ]
        if row.decision:
            decision = labels.DECISIONS.get(row.decision, row.decision)
            if row.reason:
                decision += f" — {row.reason.replace('_', ' ')}"
            fields.insert(0, ("Decision", decision))
        body = "".join(
            f"<tr><td style='color:#4a5563;padding-right:12px'>{esc(k)}</td><td>{esc(v)}</td></tr>"
            for k, v in fields
            if v not in (None, "")
        )
        self.card.setText(
            f"<div style='font-size:16pt'><b>#{row.position} · {esc(row.intel_id)}</b></div>"
            f"<div style='font-size:12pt'>{fits}</div>"
            f"<table cellpadding=3 style='font-size:12pt'>{body}</table>"
        )
        if row.needs_recheck and row.decision is None and self._open():
            self.show_banner(
                "⚠ Stale item: redo its basic checks first, then press C (or reject it with R)."
            )

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _open(self) -> bool:
        return self.info is not None and self.info.status == "open"

    def _still_open(self) -> bool:
        """True for an open meeting; on a closed one, say why a key did nothing."""
        if self.info is not None and self.info.status != "open":
            self.show_banner(
                f"This meeting is not open ({self.info.status}): its decisions can no longer "
                "change."
            )
            return False
        return self.info is not None

    # -- keys ----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        text = event.text()
        if self.rejecting:
            if key == Qt.Key.Key_Escape:
                self.cancel_reject()
            elif len(text) == 1 and text in "123456789":  # not isdigit(): '²' is one too
                reason = next((r for r in self.reasons if r.key == int(text)), None)
                if reason:
                    self.reject(reason.code)
            return
        actions = {
            Qt.Key.Key_A: lambda: self.decide("accepted"),
            Qt.Key.Key_R: self.start_reject,
            Qt.Key.Key_N: lambda: self.decide("not_discussed"),
            Qt.Key.Key_J: lambda: self.select(self.current + 1),
            Qt.Key.Key_Down: lambda: self.select(self.current + 1),
            Qt.Key.Key_K: lambda: self.select(self.current - 1),
            Qt.Key.Key_Up: lambda: self.select(self.current - 1),
            Qt.Key.Key_U: self.undo,
            Qt.Key.Key_C: self.recheck,
            Qt.Key.Key_P: lambda: self.presenter_box.setChecked(not self.presenter),
        }
        if text == "?" or key == Qt.Key.Key_Question:
            self.help.setVisible(not self.help.isVisible())
        elif key in actions and not event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            actions[key]()
        else:
            super().keyPressEvent(event)

    # -- decisions (through the single writer) ------------------------------------------

    def _write(self, fn, after=None) -> None:
        if self.busy or self.meeting_id is None or not self._still_open():
            return
        self.busy = True

        def done(result) -> None:
            self.busy = False
            self.reload()
            if after:
                after(result)
            self.changed.emit()

        def failed(message: str) -> None:
            self.busy = False
            self.show_banner(f"⚠ {message}")

        self.tasks.write(lambda job: fn(), on_done=done, on_fail=failed)

    def _next_undecided(self, _result=None) -> None:
        after = [n for n, r in enumerate(self.rows) if r.decision is None and n > self.current]
        self.select(after[0] if after else self.current)

    def decide(self, decision: str, reason: str | None = None, note: str | None = None) -> None:
        row = self.current_row()
        if row is None or not self._still_open():
            return
        if decision == "accepted" and row.needs_recheck:
            self.show_banner(
                "⚠ This item is stale: its basic checks must be redone before it "
                "can be accepted. Press C once they are, or reject it (R)."
            )
            return
        self._write(
            lambda: meetings.decide(
                self.db,
                meeting_id=self.meeting_id,
                item_id=row.item_id,
                decision=decision,
                reason=reason,
                note=note,
            ),
            self._next_undecided,
        )

    def start_reject(self) -> None:
        if self.current_row() is None or not self._still_open():
            return
        self.rejecting = True
        self.reason_panel.show()

    def cancel_reject(self) -> None:
        self.rejecting = False
        self.reason_panel.hide()

    def reject(self, code: str) -> None:
        self.cancel_reject()
        note = None
        if code == "other":
            # "Other (say why in the note)": without the note the minutes and
            # the feedback statistics could not say why.
            note, ok = QInputDialog.getText(self, "Rejected: other", "Why is it rejected?")
            note = note.strip()
            if not ok or not note:
                self.show_banner("Not rejected: 'Other' needs a note saying why.")
                return
        self.decide("rejected", code, note)

    def undo(self) -> None:
        def moved(item_id) -> None:
            if item_id is None:
                self.show_banner("Nothing to undo.")
                return
            index = next((n for n, r in enumerate(self.rows) if r.item_id == item_id), None)
            if index is not None:
                self.select(index)

        self._write(lambda: meetings.undo(self.db, meeting_id=self.meeting_id), moved)

    def recheck(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self._write(
            lambda: meetings.recheck(self.db, item_id=row.item_id),
            lambda _r: self.select(self.current),
        )

    def set_presenter(self, on: bool) -> None:
        """Presenter view: no personal fields, larger type for the back of the room."""
        self.presenter = on
        self.table.setStyleSheet("font-size: 14pt;" if on else "")
        self.table.verticalHeader().setDefaultSectionSize(38 if on else 30)
        if self.rows:
            self._fill_table()
            self.select(self.current)
        self.setFocus()

    # -- close and export ---------------------------------------------------------------

    def close_meeting(self, confirm: bool = True) -> None:
        if self.info is None or not self._open():
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Close meeting",
                f"Close the meeting? The {self.info.undecided} undecided item(s) will be recorded "
                "as not discussed and carried over to the next meeting.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        meeting_id = self.meeting_id

        def done(result) -> None:
            self.show_banner(
                f"Meeting closed: {result.accepted} accepted, {result.rejected} rejected, "
                f"{result.not_discussed} not discussed (carried over)."
            )
            self.closed.emit(meeting_id)

        self._write(lambda: meetings.close_meeting(self.db, meeting_id=meeting_id), done)

    def export(self, kind: str, path: str | None = None) -> None:
        if self.meeting_id is None:
            return
        if path is None:
            suggested = f"{kind}-{self.info.region}-{self.info.held_on.isoformat()}.pdf"
            path, _filter = QFileDialog.getSaveFileName(
                self, f"Export {kind}", suggested, "PDF (*.pdf);;CSV (*.csv)"
            )
            if not path:
                return
        meeting_id, presenter = self.meeting_id, self.presenter
        self.tasks.read(
            lambda job: meetings.export(
                self.db, meeting_id=meeting_id, path=path, kind=kind, presenter=presenter
            ),
            on_done=lambda target: self.show_banner(f"Exported {kind} to {target}"),
            on_fail=lambda message: self.show_banner(f"⚠ Export failed: {message}"),
        )


class ResultsPanel(QWidget):
    """Closing the loop: what each accepted task led to, and when."""

    changed = Signal()

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            ["Intel ID", "Team", "Accepted at meeting", "Result", "Result date"]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.result = QComboBox()
        for code, text in labels.RESULTS.items():
            self.result.addItem(text, code)
        self.when = _date_edit_today()
        record = QPushButton("Record result")
        record.setObjectName("primary")
        record.clicked.connect(self.record)
        self.message = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("What the task led to"))
        bar.addWidget(self.result)
        bar.addWidget(QLabel("on"))
        bar.addWidget(self.when)
        bar.addWidget(record)
        bar.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Accepted tasks: those without a result first"))
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        self.outcomes: list[dict] = []

    def refresh(self) -> None:
        with self.db.sessions() as session:
            self.outcomes = meetings.accepted_awaiting_result(session)
        self.table.setRowCount(len(self.outcomes))
        for n, o in enumerate(self.outcomes):
            values = (
                o["intel_id"],
                o["team"] or o["region"],
                o["meeting_date"].isoformat(),
                labels.RESULTS.get(o["result"], "· awaiting result"),
                o["result_at"].isoformat() if o["result_at"] else "",
            )
            for col, value in enumerate(values):
                self.table.setItem(n, col, QTableWidgetItem(str(value)))

    def record(self) -> None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.outcomes):
            self.message.setText("Select an accepted task first.")
            return
        d = self.when.date()
        outcome_id = self.outcomes[row]["outcome_id"]
        result = self.result.currentData()
        self.tasks.write(
            lambda job: meetings.record_result(
                self.db,
                outcome_id=outcome_id,
                result=result,
                result_at=date(d.year(), d.month(), d.day()),
            ),
            on_done=lambda _r: (
                self.message.setText("Recorded."),
                self.refresh(),
                self.changed.emit(),
            ),
            on_fail=lambda m: self.message.setText(f"⚠ {m}"),
        )


class MeetingsView(QWidget):
    """Meeting list + start; the meeting mode; results of accepted tasks."""

    changed = Signal()

    def __init__(self, db: Database, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.stack = QStackedWidget()

        home = QWidget()
        title = QLabel("Tasking meetings", objectName="title")
        self.start_button = QPushButton("Start a meeting…")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start_dialog)
        self.list = QTableWidget(0, len(MEETING_COLUMNS))
        self.list.setHorizontalHeaderLabels(MEETING_COLUMNS)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAlternatingRowColors(True)
        self.list.verticalHeader().setVisible(False)
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.list.horizontalHeader().setStretchLastSection(True)
        self.list.cellActivated.connect(lambda row, _col: self._open_row(row))
        self.list.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        open_button = QPushButton("Open selected")
        open_button.clicked.connect(lambda: self._open_row(self.list.currentRow()))
        self.message = QLabel()
        self.meeting_ids: list[int] = []
        self.results = ResultsPanel(db, tasks)
        self.results.changed.connect(self.changed)
        tabs = QTabWidget()
        meetings_tab = QWidget()
        mlayout = QVBoxLayout(meetings_tab)
        mlayout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(open_button)
        row.addWidget(self.message, 1)
        mlayout.addLayout(row)
        tabs.addTab(meetings_tab, "Meetings")
        tabs.addTab(self.results, "Results of accepted tasks")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.start_button)
        home_layout = QVBoxLayout(home)
        home_layout.addLayout(head)
        home_layout.addWidget(tabs, 1)

        self.mode = MeetingMode(db, tasks)
        self.mode.back_requested.connect(self.show_home)
        self.mode.changed.connect(self.changed)
        self.mode.closed.connect(lambda _id: (self.refresh_list(), self.results.refresh()))
        self.stack.addWidget(home)
        self.stack.addWidget(self.mode)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def in_meeting(self) -> bool:
        return self.stack.currentWidget() is self.mode and self.mode.meeting_id is not None

    def refresh(self) -> None:
        self.refresh_list()
        self.results.refresh()
        if self.in_meeting():
            self.mode.reload()

    def refresh_list(self) -> None:
        with self.db.sessions() as session:
            rows = meetings.list_meetings(session)
        self.meeting_ids = [m["id"] for m in rows]
        self.list.setRowCount(len(rows))
        for n, m in enumerate(rows):
            values = (
                m["held_on"],
                m["region"],
                m["team"] or "whole region",
                STATUS_TEXT[m["status"]],
                "" if m["capacity"] is None else m["capacity"],
                m["accepted"],
                m["rejected"],
                m["not_discussed"],
            )
            for col, value in enumerate(values):
                self.list.setItem(n, col, QTableWidgetItem(str(value)))

    def show_home(self) -> None:
        self.refresh_list()
        self.stack.setCurrentIndex(0)
        self.setFocusProxy(None)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.meeting_ids):
            self.open_meeting(self.meeting_ids[row])

    def open_meeting(self, meeting_id: int) -> None:
        self.mode.open_meeting(meeting_id)
        self.stack.setCurrentWidget(self.mode)
        # Coming back to this screen (its setFocus) must put the keys on the meeting.
        self.setFocusProxy(self.mode)
        self.mode.setFocus()

    def start_dialog(self) -> None:
        dialog = StartMeetingDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.start(**dialog.values())

    def start(self, **values) -> None:
        """Start a meeting off the UI thread (ranking the agenda), then open it."""
        self.message.setText("Preparing the agenda…")
        self.tasks.write(
            lambda job: meetings.start_meeting(self.db, **values),
            on_done=lambda meeting_id: (
                self.message.setText(""),
                self.refresh_list(),
                self.open_meeting(meeting_id),
            ),
            on_fail=lambda m: self.message.setText(f"⚠ Could not start the meeting: {m}"),
        )
