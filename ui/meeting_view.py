"""The Meetings screen: start a tasking meeting, run it from the keyboard,
close it, export agenda and minutes, and record what accepted tasks led to.

Keys in a meeting: A accept, R reject then 1-9 for the reason (Esc cancels),
N not discussed, J/K next/previous, U undo, C re-check a stale item,
P presenter view, ? help. Every decision is written by the app's single
writer thread through ``triage.meetings.operations``; the agenda is then re-read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
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

from triage import settings
from triage.intel import regions
from triage.meetings import minutes
from triage.meetings import operations as meetings
from triage.store.db import Database
from ui import access, identity, labels, theme
from ui.plain import plain
from ui.rows_model import TextRowsModel, rows_table
from ui.tasks import Job, Tasks
from ui.widgets import DateField, Island, WrappedLabel

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
KEYS = [key for key, _header in AGENDA_COLUMNS]
BUCKET_COLUMN, DECISION_COLUMN = KEYS.index("bucket"), KEYS.index("decision")
# Room around an agenda cell's and a header section's text (its padding and
# grid line; the style sheet's header padding), as Qt's own sizing leaves.
CELL_ROOM, HEADER_ROOM = 8, 16
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
    return DateField()  # Tab leaves it (Qt's own date edit holds Tab)


class _Latest:
    """Only the newest of overlapping background reads reaches the screen: two
    reader threads may finish out of order, and an older list must not win."""

    def __init__(self) -> None:
        self.issued = 0

    def guard(self, show: Callable[[Any], None]) -> Callable[[Any], None]:
        self.issued += 1
        ticket = self.issued

        def shown(result: Any) -> None:
            if ticket == self.issued:
                show(result)

        return shown


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
        # The Settings screen's default region, team and capacity, if set.
        preferred = settings.load()
        self.region.setCurrentIndex(max(0, self.region.findData(preferred.default_region)))
        self._fill_teams()
        if preferred.default_team:
            self.team.setCurrentIndex(max(0, self.team.findData(preferred.default_team)))
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
        access.prepare(self)

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
        chosen = settings.load().meeting_capacity  # 0: the team's, from organisation.toml
        self.capacity.setValue(
            chosen or meetings.default_capacity(self.region.currentData(), self.team.currentData())
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


class ItemCard(QFrame):
    """The current agenda item: its heading, whether it fits this week, its
    fields one a line and its summary, each a fixed plain-text label whose
    text is replaced on every key. A rich-text label parsed and laid out a
    new document on every key and asked to be painted a second time after
    each paint (its text layout is made lazily, while painting): a third of a
    decision's UI-thread time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="card")
        self.heading = plain(QLabel(objectName="card_heading"))
        self.heading.setWordWrap(True)
        self.fits = plain(QLabel(objectName="card_fits"))
        self.fits.setProperty("fits", "true")  # as most items do: a change re-polishes
        # Names and values in two columns of lines: one label each, so a new
        # item sets two texts instead of laying out a grid of them.
        self.names = plain(QLabel(objectName="card_names"))
        self.values = plain(QLabel(objectName="card_values"))
        self.summary_name = plain(QLabel("Summary", objectName="card_names"))
        self.summary = plain(QLabel(objectName="card_values"))
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        for label in (
            self.heading,
            self.fits,
            self.names,
            self.values,
            self.summary_name,
            self.summary,
        ):
            label.setParent(self)  # no layout to adopt them
        self.setMinimumSize(200, 160)
        self._placed: tuple[object, ...] = ()
        self._values: list[str] = []  # in full; the label may show them cut short

    # Placed here rather than by a layout: each new text asks for a new
    # layout, and a box layout measured every label again (the summary's
    # word wrap included) on every key. The summary takes the height left.
    MARGINS = (14, 12, 14, 12)
    GAP = 12

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self._place()
            return True
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._place()

    def _place(self) -> bool:
        """Place the labels if something that moves them changed (True)."""
        if not self.isVisible():
            # Placed once shown, at the size it is shown at: a screen not yet on
            # show is resized as it is laid out, and each size placed the labels
            # and cut every value to width again (three times as a meeting opened).
            self._placed = ()
            return False
        left, top, right, bottom = self.MARGINS
        area = self.contentsRect().adjusted(left, top, -right, -bottom)
        x, y, width = area.left(), area.top(), area.width()
        # Placed again only when something that moves a label changed: the
        # size, the fonts, the heading's wrapping, which fields are listed and
        # whether there is a summary; a new item's texts alone move nothing.
        metrics = self.heading.fontMetrics()
        one_line = metrics.horizontalAdvance(self.heading.text()) <= width
        placed = (
            width,
            area.height(),
            metrics.height(),
            self.names.fontMetrics().height(),
            one_line or self.heading.text(),
            self.names.text(),
            self.summary_name.isHidden(),
        )
        if placed == self._placed:
            return False
        self._placed = placed
        heading = self.heading.heightForWidth(width)
        self.heading.setGeometry(x, y, width, heading)
        y += heading
        fits = self.fits.sizeHint().height()
        self.fits.setGeometry(x, y, width, fits)
        y += fits + 6
        fields = self.names.sizeHint() if self.names.text() else QSize(0, 0)
        self.names.setGeometry(x, y, fields.width(), fields.height())
        values_x = x + fields.width() + self.GAP
        self.values.setGeometry(values_x, y, max(0, area.right() + 1 - values_x), fields.height())
        self._show_values()
        y += fields.height() + 6
        if not self.summary_name.isHidden():
            name = self.summary_name.sizeHint().height()
            self.summary_name.setGeometry(x, y, width, name)
            y += name
        self.summary.setGeometry(x, y, width, max(0, area.bottom() + 1 - y))
        return True

    def show_item(
        self, heading: str, fits: bool | None, fields: list[tuple[str, str]], summary: str
    ) -> None:
        """Show one item (``fits`` None: no line about the capacity)."""
        self.heading.setText(heading)
        if fits is None:
            self.fits.setText("")
        else:
            above, below = "✔ fits this week (above the capacity line)", "▼ below the capacity line"
            self.fits.setText(above if fits else below)
            state = "true" if fits else "false"
            if self.fits.property("fits") != state:  # re-styled only when it changes
                self.fits.setProperty("fits", state)
                self.fits.style().unpolish(self.fits)
                self.fits.style().polish(self.fits)
        self.names.setText("\n".join(name for name, _value in fields))
        self._values = [value.replace("\n", " ") for _name, value in fields]
        self.summary_name.setVisible(bool(summary))
        self.summary.setText(summary)
        # Placed now if a new list of fields moves them (the values then cut to
        # their new width), not later on the layout request: that cut every
        # value twice.
        if not self._place():
            self._show_values()

    def _show_values(self) -> None:
        """The values a line each, a line too long for the card cut short with
        "…" (the label does not wrap: a wrapped value would no longer sit
        beside its name); the tooltip then gives them in full."""
        width = self.values.width() if self.isVisible() else 0  # else: cut once shown
        metrics = self.values.fontMetrics()
        shown = [
            metrics.elidedText(value, Qt.TextElideMode.ElideRight, width) if width else value
            for value in self._values
        ]
        self.values.setText("\n".join(shown))
        self.values.setToolTip("" if shown == self._values else "\n".join(self._values))

    def text(self) -> str:
        """Everything the card shows, as plain text (name and value a line),
        each value in full."""
        names, values = self.names.text().split("\n"), self._values or [""]
        lines = [self.heading.text(), self.fits.text()]
        lines += [f"{name}  {value}" for name, value in zip(names, values, strict=True) if name]
        if self.summary.text():
            lines.append(f"Summary  {self.summary.text()}")
        return "\n".join(line for line in lines if line)


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
        self.cells: list[list[str]] = []  # each agenda line's texts, as shown
        self.line_at: int | None = None  # first agenda line below the capacity line
        self.current = 0
        self.rejecting = False
        self.presenter = False
        self.busy = False
        self.reasons = meetings.load_reasons()
        self.info: meetings.MeetingSummary | None = None
        self.hide_score = True  # the model's score of undecided items (a setting)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.title = plain(QLabel(objectName="title"))
        self.subtitle = plain(WrappedLabel(objectName="subtitle"))
        self.counter = QLabel(objectName="counter")
        self.counter.setToolTip("Accepted tasks against this week's capacity")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)  # in its fixed width
        # Styled as it mostly is from the start: a changed property re-polishes.
        self.counter.setProperty("over", "false")
        back = self._button("◀ Meetings", self.back_requested.emit)
        self.presenter_box = QCheckBox("Presenter view (P)")
        self.presenter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.presenter_box.toggled.connect(self.set_presenter)
        self.export_agenda_button = self._button("Export agenda…", lambda: self.export("agenda"))
        self.export_minutes_button = self._button("Export minutes…", lambda: self.export("minutes"))
        # Not the slot itself: clicked(bool) would pass False as confirm and skip the question.
        self.close_button = self._button("Close meeting", lambda: self.close_meeting())
        self.close_button.setObjectName("primary")

        # Two rows so the window fits a 1280-pixel projector: what and how many
        # on top, the less frequent actions underneath.
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
        self.table.setAccessibleName("Agenda")
        self.table.setHorizontalHeaderLabels([h for _k, h in AGENDA_COLUMNS])
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._clicked_row)
        # The view scrolls itself a page at a time (_keep_in_view), not one
        # line per key as a moving current row would.
        self.table.setAutoScroll(False)
        # The header shares the table's selection model by default, and a whole
        # row selected covers every column: the whole header was repainted on
        # every key. It highlights nothing, so it gets a selection of its own.
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSelectionModel(QItemSelectionModel(self.table.model(), header))

        self.card = ItemCard()
        self.banner = plain(QLabel(objectName="banner"))
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
            # Aligned by the app's style sheet: a sheet of its own on each button
            # cost the meeting's first showing 0.2 ms of polishing.
            button.setObjectName("reason")
            reason_layout.addWidget(button)
        self.reason_panel.hide()

        # Remembers its height for a width: the whole window's layout asks it.
        self.help = WrappedLabel(HELP_TEXT, objectName="subtitle")

        action_buttons = QWidget()
        action_buttons.setLayout(actions)
        actions.setContentsMargins(0, 0, 0, 0)
        # Laid out by itself: each key changes the card, and the banner or the
        # reason panel comes and goes, without re-measuring the window.
        side = Island([self.banner, self.card, action_buttons, self.reason_panel], self.card)
        side.setContentsMargins(0, 6, 6, 6)

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

    def open_meeting(
        self,
        meeting_id: int,
        loaded: tuple[list[meetings.AgendaRow], meetings.MeetingSummary] | None = None,
    ) -> None:
        """Show a meeting: its agenda as ``loaded`` (read off the UI thread by
        whoever started it), else read now."""
        self.meeting_id = meeting_id
        width = max(self.split.width(), 1200)
        self.split.setSizes([width * 62 // 100, width * 38 // 100])
        self.current = 0
        self._show(*(self._read(None) if loaded is None else loaded))
        first = next((n for n, r in enumerate(self.rows) if r.decision is None), 0)
        self.select(first)  # the card, drawn once
        self.setFocus()

    def reload(self) -> None:
        """Re-read the whole agenda (after a refresh), staying on the same line."""
        rows, info = self._read(None)
        self._show(rows, info)
        self.select(self.current)  # the refilled table has no line selected

    def _read(
        self, item_ids: list[int] | None
    ) -> tuple[list[meetings.AgendaRow], meetings.MeetingSummary]:
        """The agenda lines of ``item_ids`` (all when None) and the counts."""
        with self.db.sessions() as session:
            rows = meetings.agenda(session, self.meeting_id, item_ids=item_ids)
            return rows, meetings.summary(session, self.meeting_id)

    def _show(
        self,
        rows: list[meetings.AgendaRow],
        info: meetings.MeetingSummary,
        item_ids: list[int] | None = None,
    ) -> None:
        """Show a re-read: the whole agenda, or just the lines of ``item_ids``.
        The caller then selects the line to show, which draws the card."""
        self.info = info
        if item_ids is None:
            self.rows = rows
            self._fill_table()
        else:
            fresh = {row.item_id: row for row in rows}
            for n, old in enumerate(self.rows):
                if old.item_id in fresh:
                    self.rows[n] = fresh[old.item_id]
                    self._fill_row(n)
        self.title.setText(f"Tasking meeting · {info.region} / {info.team or 'whole region'}")
        self.subtitle.setText(
            f"{info.held_on.isoformat()} · {info.status} · chair {info.chair or '-'} · "
            f"{', '.join(info.attendees) or 'no attendees listed'} · {info.agenda_items} on agenda"
        )
        over = info.capacity is not None and info.accepted > info.capacity
        # A meeting imported from history has no capacity on record: no "/ None".
        of_capacity = "" if info.capacity is None else f" / {info.capacity}"
        widest = f"Accepted {info.agenda_items}{of_capacity}"
        if self.counter.property("widest") != widest:
            # A fixed size, as wide as it can get in this meeting: a label whose
            # size may change re-measures the whole window on each new text.
            self.counter.setProperty("widest", widest)
            self.counter.ensurePolished()
            self.counter.setText(widest)
            self.counter.setFixedSize(self.counter.sizeHint())
        self.counter.setText(f"Accepted {info.accepted}{of_capacity}")
        if self.counter.property("over") != ("true" if over else "false"):
            # Re-styled only when it changes: a re-polish costs a relayout.
            self.counter.setProperty("over", "true" if over else "false")
            self.counter.style().unpolish(self.counter)
            self.counter.style().polish(self.counter)
        self.counter.setToolTip(
            f"Over capacity by {info.accepted - info.capacity}"
            if over
            else "Accepted tasks against this week's capacity"
        )
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

    def _fill_table(self) -> None:
        table = self.table
        table.blockSignals(True)
        table.clearSpans()
        table.setRowCount(0)
        self.line_at = line_at = self._line_at()
        table.setRowCount(len(self.rows) + (0 if line_at is None else 1))
        if line_at is not None:
            marker = QTableWidgetItem(
                f"──── capacity line: {self.info.capacity} fit this week; items below do not ────"
            )
            marker.setFlags(Qt.ItemFlag.NoItemFlags)
            # Colours as QColor, not QBrush: the first QBrush made in a run sets up
            # PySide's gradient enums, 19 ms of the meeting start's UI thread.
            marker.setForeground(QColor(theme.colour("bad")))
            table.setItem(line_at, 0, marker)
            table.setSpan(line_at, 0, 1, len(AGENDA_COLUMNS))
        # Read once per fill (a file read), not on every key: a changed setting
        # shows when the screen is next shown (the agenda is filled again then).
        self.hide_score = settings.load().hide_model_score_until_decided
        self.cells = [self._cells(row) for row in self.rows]
        # Each colour made once per fill, not once per cell (a QColor parses its
        # name): the bucket tints and the decisions' colours.
        tints = {bucket: QColor(tint) for bucket, tint in labels.BUCKET_TINTS.items()}
        white, tint_text = QColor("#ffffff"), QColor(theme.TINT_TEXT)
        decided = {
            value: QColor(theme.colour(colour))
            for value, colour in (("accepted", "good"), ("rejected", "bad"))
        }
        muted = QColor(theme.colour("muted"))
        for n, (row, cells) in enumerate(zip(self.rows, self.cells, strict=True)):
            out = self._table_row(n)
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == BUCKET_COLUMN:
                    cell.setBackground(tints.get(row.bucket, white))
                    cell.setForeground(tint_text)
                elif col == DECISION_COLUMN and row.decision is not None:
                    cell.setForeground(decided.get(row.decision, muted))
                table.setItem(out, col, cell)
        for col, (key, _h) in enumerate(AGENDA_COLUMNS):
            table.setColumnHidden(col, self.presenter and key in PERSONAL_COLUMNS)
        self._size_columns(self.cells)
        table.blockSignals(False)

    def _size_columns(self, texts: list[list[str]]) -> None:
        """Each column as wide as its header and the widest text written in it,
        once per fill (a header left in ResizeToContents mode re-measures every
        row on each cell written). Measured from the texts with the fonts in
        force, not by ``resizeColumnsToContents``, which asked the style for
        each of the 720 cells' size: 8 ms of the meeting start."""
        header = self.table.horizontalHeader()
        self.table.ensurePolished()  # the style sheet's font sizes
        header.ensurePolished()
        measure = self.table.fontMetrics().horizontalAdvance
        bold = QFont(header.font())
        bold.setWeight(QFont.Weight.DemiBold)  # the header sections' weight in the style sheet
        titles = QFontMetrics(bold)
        least = header.minimumSectionSize()
        # Each distinct text once: buckets, decisions and flags repeat.
        for col, column in enumerate(zip(*texts, strict=True) if texts else []):
            widest = max(map(measure, set(column)))
            title = AGENDA_COLUMNS[col][1]
            width = max(widest + CELL_ROOM, titles.horizontalAdvance(title) + HEADER_ROOM, least)
            header.resizeSection(col, width)

    def _cells(self, row: meetings.AgendaRow) -> list[str]:
        """Agenda line ``row`` as its cells' texts, in ``AGENDA_COLUMNS``' order."""
        decision = labels.DECISIONS.get(row.decision, row.decision or "")
        if row.decision == "rejected" and row.reason:
            decision += f" ({row.reason.replace('_', ' ')})"
        harm = row.harm_score
        hidden_harm = harm is None or (self.hide_score and row.decision is None)
        return [
            str(row.position),
            row.intel_id,
            decision,
            labels.bucket_text(row.bucket),
            "" if row.score is None else f"{row.score:.1f}",
            str(row.age_days),
            str(row.carry_over_count),
            labels.flag_text(row.flags),
            row.allegation or "",
            row.business_name or "",
            row.postcode or "",
            "" if hidden_harm else f"{harm:.2f}",
        ]

    def _fill_row(self, n: int) -> None:
        """Write agenda line ``n`` again after a re-read: only the cells whose
        text changed (after a decision, its decision cell and perhaps its harm
        score), as each new cell is a repaint and a new item."""
        row = self.rows[n]
        out = self._table_row(n)
        cells = self._cells(row)
        for col, (text, shown) in enumerate(zip(cells, self.cells[n], strict=True)):
            if text == shown:
                continue  # its colours follow from its text, so they are the same too
            cell = QTableWidgetItem(text)
            if col == BUCKET_COLUMN:
                cell.setBackground(QColor(labels.BUCKET_TINTS.get(row.bucket, "#ffffff")))
                cell.setForeground(QColor(theme.TINT_TEXT))
            elif col == DECISION_COLUMN and row.decision is not None:
                colour = {"accepted": "good", "rejected": "bad"}.get(row.decision, "muted")
                cell.setForeground(QColor(theme.colour(colour)))
            self.table.setItem(out, col, cell)
        self.cells[n] = cells

    def _line_at(self) -> int | None:
        """Index of the first agenda line below the capacity line, if any."""
        return next((n for n, r in enumerate(self.rows) if not r.fits), None)

    def _agenda_index(self, table_row: int) -> int | None:
        """The agenda line in table row ``table_row`` (None: the capacity line)."""
        if self.line_at is None or table_row < self.line_at:
            return table_row
        return None if table_row == self.line_at else table_row - 1

    def _table_row(self, agenda_index: int) -> int:
        """The table row of agenda line ``agenda_index`` (the capacity line takes one)."""
        below = self.line_at is not None and agenda_index >= self.line_at
        return agenda_index + (1 if below else 0)

    # -- navigation ----------------------------------------------------------------

    def select(self, index: int) -> None:
        if not self.rows:
            self._show_current()
            return
        self.current = max(0, min(index, len(self.rows) - 1))
        self.table.blockSignals(True)
        self.table.selectRow(self._table_row(self.current))
        self.table.blockSignals(False)
        self._keep_in_view(self._table_row(self.current))
        self._show_current()

    def _keep_in_view(self, table_row: int) -> None:
        """Scroll only when the line is off screen, and then a page at once
        (the line near the top, two lines above it for context): a scroll
        repaints the whole table, which kept one line at a time was 60% of a
        decision's UI-thread time from about the 17th key on."""
        index = self.table.model().index(table_row, 0)
        line = self.table.visualRect(index)
        if line.top() >= 0 and line.bottom() <= self.table.viewport().height():
            return
        if line.top() < 0:  # moving up: show it at the top edge
            self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
            return
        above = self.table.model().index(max(0, table_row - 2), 0)
        self.table.scrollTo(above, QAbstractItemView.ScrollHint.PositionAtTop)

    def _clicked_row(self) -> None:
        items = self.table.selectedItems()
        index = self._agenda_index(items[0].row()) if items else None
        if index is not None:
            self.current = index
            self._show_current()
        self.setFocus()

    def current_row(self) -> meetings.AgendaRow | None:
        return self.rows[self.current] if 0 <= self.current < len(self.rows) else None

    def _show_current(self) -> None:
        row = self.current_row()
        if row is None:
            self.banner.hide()
            self.card.show_item("The agenda is empty: no open items for this team.", None, [], "")
            return
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
            ]
        if row.decision:
            decision = labels.DECISIONS.get(row.decision, row.decision)
            if row.reason:
                decision += f" — {row.reason.replace('_', ' ')}"
            fields.insert(0, ("Decision", decision))
        self.card.show_item(
            f"#{row.position} · {row.intel_id}",
            row.fits,
            [(name, str(value)) for name, value in fields if value not in (None, "")],
            "" if self.presenter else (row.summary or ""),
        )
        # Shown or hidden once: hiding then showing it again relaid the whole
        # side panel (its word-wrapped card) on every key.
        if row.needs_recheck and row.decision is None and self._open():
            self.show_banner(
                "⚠ Stale item: redo its basic checks first, then press C (or reject it with R)."
            )
        else:
            self.banner.hide()

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

    def _write(
        self,
        fn: Callable[[], Any],
        after: Callable[[Any], None] | None = None,
        changed: Callable[[Any], list[int] | None] = lambda _result: None,
    ) -> None:
        """Run the core operation ``fn`` on the writer thread, then re-read there
        the agenda lines it ``changed`` (item ids from its result; None: all)
        and show them: the UI thread only swaps in what was read."""
        if self.busy or self.meeting_id is None or not self._still_open():
            return
        self.busy = True

        def work(_job: Job) -> tuple[Any, list[int] | None, Any]:
            result = fn()
            item_ids = changed(result)
            return result, item_ids, self._read(item_ids)

        def done(outcome: tuple[Any, list[int] | None, Any]) -> None:
            result, item_ids, (rows, info) = outcome
            self.busy = False
            self._show(rows, info, item_ids)
            if after:
                after(result)
            self.changed.emit()

        def failed(message: str) -> None:
            self.busy = False
            self.show_banner(f"⚠ {message}")

        self.tasks.write(work, on_done=done, on_fail=failed)

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
        actor = identity.current()
        self._write(
            lambda: meetings.decide(
                self.db,
                meeting_id=self.meeting_id,
                item_id=row.item_id,
                decision=decision,
                reason=reason,
                note=note,
                actor=actor,
            ),
            self._next_undecided,
            lambda _step: [row.item_id],
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

        actor = identity.current()
        self._write(
            lambda: meetings.undo(self.db, meeting_id=self.meeting_id, actor=actor),
            moved,
            lambda item_id: [] if item_id is None else [item_id],
        )

    def recheck(self) -> None:
        row = self.current_row()
        if row is None:
            return
        actor = identity.current()
        self._write(
            lambda: meetings.recheck(self.db, item_id=row.item_id, actor=actor),
            lambda _r: self.select(self.current),
            lambda _when: [row.item_id],
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
        meeting_id = self.meeting_id
        if confirm:
            with self.db.sessions() as session:  # two counts: quick enough to ask at once
                preview = meetings.close_preview(session, meeting_id)
            answer = QMessageBox.question(self, "Close meeting", preview.question())
            if answer != QMessageBox.StandardButton.Yes:
                return

        def done(result) -> None:
            self.select(self.current)  # the card: its decision, and no keys any more
            self.show_banner(
                f"Meeting closed: {result.accepted} accepted, {result.rejected} rejected, "
                f"{result.not_discussed} not discussed (carried over)."
            )
            self.closed.emit(meeting_id)

        # Closing changes only the lines it records as not discussed and those
        # it carries over (the not discussed): re-read and redraw those, not
        # the whole agenda with its columns measured again.
        changed = [r.item_id for r in self.rows if r.decision in (None, "not_discussed")]
        actor = identity.current()
        self._write(
            lambda: meetings.close_meeting(self.db, meeting_id=meeting_id, actor=actor),
            done,
            lambda _result: changed,
        )

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
            lambda job: minutes.export(
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
        self.model = TextRowsModel(
            ["Intel ID", "Team", "Accepted at meeting", "Result", "Result date"]
        )
        self.table = rows_table(self.model)
        self.table.setAccessibleName("Results of accepted tasks")
        self.table.setAlternatingRowColors(False)
        self.result = QComboBox()
        for code, text in labels.RESULTS.items():
            self.result.addItem(text, code)
        self.when = _date_edit_today()
        record = QPushButton("Record result")
        record.setObjectName("primary")
        record.clicked.connect(self.record)
        self.message = plain(QLabel())
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
        self._latest = _Latest()
        self._stale = True

    def refresh(self) -> None:
        """Re-read the accepted tasks on a reader thread (up to 2,000 of them)
        if they are on screen, else when next shown: behind the meeting list's
        tab, a read on every showing of the screen overlapped the list's own
        (58 ms of CPU on the demo database) for rows nobody was looking at."""
        self._stale = True
        if self.isVisible():
            self._read()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._read()

    def _read(self) -> None:
        self._stale = False
        db = self.db

        def read(_job) -> list[dict]:
            with db.sessions() as session:
                return meetings.accepted_awaiting_result(session)

        self.tasks.read(read, on_done=self._latest.guard(self._show))

    def _show(self, outcomes: list[dict]) -> None:
        self.outcomes = outcomes
        self.model.set_rows(
            [
                (
                    o["intel_id"],
                    o["team"] or o["region"],
                    o["meeting_date"].isoformat(),
                    labels.RESULTS.get(o["result"], "· awaiting result"),
                    o["result_at"].isoformat() if o["result_at"] else "",
                )
                for o in outcomes
            ]
        )

    def record(self) -> None:
        row = self.table.currentIndex().row()
        if row < 0 or row >= len(self.outcomes):
            self.message.setText("Select an accepted task first.")
            return
        d = self.when.date()
        outcome_id = self.outcomes[row]["outcome_id"]
        result = self.result.currentData()
        actor = identity.current()
        self.tasks.write(
            lambda job: meetings.record_result(
                self.db,
                outcome_id=outcome_id,
                result=result,
                result_at=date(d.year(), d.month(), d.day()),
                actor=actor,
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
    list_loaded = Signal()  # the meeting list shows the latest read
    started = Signal(int)  # a meeting was started and is on screen

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
        self.list_model = TextRowsModel(MEETING_COLUMNS)
        self.list = rows_table(self.list_model)
        self.list.setAccessibleName("Meetings")
        self.list.activated.connect(lambda index: self._open_row(index.row()))
        self.list.doubleClicked.connect(lambda index: self._open_row(index.row()))
        open_button = QPushButton("Open selected")
        open_button.clicked.connect(lambda: self._open_row(self.list.currentIndex().row()))
        self.message = plain(QLabel())
        self.meeting_ids: list[int] = []
        self._latest_list = _Latest()
        self.results = ResultsPanel(db, tasks)
        self.results.changed.connect(self.changed)
        self.tabs = tabs = QTabWidget()
        meetings_tab = QWidget()
        mlayout = QVBoxLayout(meetings_tab)
        mlayout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(open_button)
        # In a line of its own: "Preparing the agenda…" laid out the whole
        # screen again and repainted the meeting list behind the new meeting
        # (9 of the start's 34 ms on the UI thread).
        self.message.ensurePolished()
        line = QSize(200, self.message.fontMetrics().height() + 4)
        row.addWidget(Island([self.message], self.message, size=line), 1)
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
        # The list and the results are behind the meeting: read again when shown.
        self.mode.closed.connect(self._home_changed)
        self._home_stale = False
        self.stack.addWidget(home)
        self.stack.addWidget(self.mode)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def in_meeting(self) -> bool:
        return self.stack.currentWidget() is self.mode and self.mode.meeting_id is not None

    def refresh(self) -> None:
        if self.in_meeting():  # the list and results are read when the user goes back
            self._home_changed()
            self.mode.reload()
        else:
            self.refresh_list()
            self.results.refresh()

    def refresh_list(self) -> None:
        """Re-read the meeting list on a reader thread (up to 500 meetings)."""
        db = self.db

        def read(_job) -> list[dict]:
            with db.sessions() as session:
                return meetings.list_meetings(session)

        self.tasks.read(read, on_done=self._latest_list.guard(self._show_list))

    def _show_list(self, rows: list[dict]) -> None:
        self.meeting_ids = [m["id"] for m in rows]
        self.list_model.set_rows(
            [
                (
                    str(m["held_on"]),
                    m["region"],
                    m["team"] or "whole region",
                    STATUS_TEXT[m["status"]],
                    "" if m["capacity"] is None else str(m["capacity"]),
                    str(m["accepted"]),
                    str(m["rejected"]),
                    str(m["not_discussed"]),
                )
                for m in rows
            ]
        )
        self.list_loaded.emit()

    def _home_changed(self, _meeting_id: int | None = None) -> None:
        self._home_stale = True

    def show_home(self) -> None:
        self.refresh_list()
        if self._home_stale:
            self._home_stale = False
            self.results.refresh()
        self.stack.setCurrentIndex(0)
        self.setFocusProxy(None)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.meeting_ids):
            self.open_meeting(self.meeting_ids[row])

    def open_meeting(
        self,
        meeting_id: int,
        loaded: tuple[list[meetings.AgendaRow], meetings.MeetingSummary] | None = None,
    ) -> None:
        self.mode.open_meeting(meeting_id, loaded)
        self.stack.setCurrentWidget(self.mode)
        # Coming back to this screen (its setFocus) must put the keys on the meeting.
        self.setFocusProxy(self.mode)
        self.mode.setFocus()

    def start_dialog(self) -> None:
        dialog = StartMeetingDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.start(**dialog.values())

    def start(self, **values: Any) -> None:
        """Start a meeting off the UI thread (ranking brought up to date, the
        agenda snapshotted and read back), then open it."""
        self.message.setText("Preparing the agenda…")
        db = self.db
        actor, weight = identity.current(), identity.model_weight()

        def work(_job: Job) -> tuple[int, tuple[list[meetings.AgendaRow], meetings.MeetingSummary]]:
            meeting_id = meetings.start_meeting(db, actor=actor, model_weight=weight, **values)
            with db.sessions() as session:
                loaded = meetings.agenda(session, meeting_id), meetings.summary(session, meeting_id)
            return meeting_id, loaded

        def done(
            started: tuple[int, tuple[list[meetings.AgendaRow], meetings.MeetingSummary]],
        ) -> None:
            self.message.setText("")
            self.open_meeting(*started)  # the list shows it when the user goes back
            self.started.emit(started[0])

        self.tasks.write(
            work,
            on_done=done,
            on_fail=lambda m: self.message.setText(f"⚠ Could not start the meeting: {m}"),
        )
