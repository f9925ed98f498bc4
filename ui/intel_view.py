"""The Intelligence screen: filters, the ranked queue and the item's detail.

The detail pane shows the item, the items linked to it (same subject or
premises) and the rule trace from ``ranking.explain``: why it ranks where it
does and why it is not one bucket higher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from triage import settings
from triage.intel import notes, plain, regions
from triage.store.db import Database
from ui import identity, labels, theme
from ui.labels import esc
from ui.queue_model import COLUMN, IntelQueueModel
from ui.tasks import Tasks

if TYPE_CHECKING:
    from triage.ops.item_detail import ItemHistory
    from triage.store.models import IntelItem

# An item's detail as read for the pane: the item (None: no longer on file),
# the items linked to it, its history.
Detail = tuple["IntelItem | None", list[dict[str, Any]], "ItemHistory | None"]

BUCKET_CHOICES = (
    ("All buckets", None),
    ("High priority (1-4)", [1, 2, 3, 4]),
    ("Low priority (5-6)", [5, 6]),
    *((f"Bucket {labels.bucket_text(b)}", [b]) for b in range(1, 7)),
)
STATUS_CHOICES = (
    ("Open (undecided)", {"statuses": ["open"]}),
    ("Accepted", {"statuses": ["accepted"], "include_decided": True}),
    ("Rejected", {"statuses": ["rejected"], "include_decided": True}),
    ("Closed without a decision", {"statuses": ["closed"], "include_decided": True}),
    # The statistics' "not discussed" cells: open, or closed without a decision.
    ("Not discussed (open or closed)", {"statuses": ["open", "closed"]}),
    ("All statuses", {"include_decided": True}),
)
ITEM_FIELDS = (
    "intel_id",
    "received_at",
    "passed_at",
    "region",
    "team",
    "source_type",
    "grading",
    "subject_named",
    "subject_ref",
    "nationality",
    "whereabouts",
    "postcode",
    "business_name",
    "sector",
    "persons_estimated",
    "allegation",
    "harm_flags",
    "campaign",
    "upstream_bucket",
    "status",
    "carry_over_count",
    "rechecked_at",
    "em_case_id",
    "summary",
)


VERDICT_TEXT = {
    "matched": "✔ matched",
    "not matched": "✘ not matched",
    "not evaluated": "? not evaluated (input missing)",
}
TABLE = "<table cellspacing=0 cellpadding=4 border=1 style='border-collapse:collapse'>"


def _verdict(result: Any) -> str:
    return VERDICT_TEXT.get(str(result), esc(result))


def _read(values: Any) -> str:
    if not isinstance(values, dict):
        return esc(values)
    return ", ".join(
        f"{esc(k)} = <i>missing</i>" if v is None else f"{esc(k)} = {esc(v)}"
        for k, v in values.items()
    )


def render_trace(trace: dict[str, Any], *, show_harm: bool = True) -> str:
    """The explain trace as HTML: the verdict, why not one bucket higher, every
    bucket rule in order (first match wins) and the points within the bucket.
    ``show_harm=False`` leaves the harm model's score and suggestion out."""
    bucket = trace.get("bucket")
    flags = labels.flag_text(trace.get("flags") or []) or "none"
    # The plain-English paragraph (and why below the row above) first; the
    # rule-by-rule details follow for whoever wants them.
    said = f"<p style='font-size:11pt'>{esc(trace['summary'])}</p>" if trace.get("summary") else ""
    below = trace.get("below")
    if below:
        said += f"<p><b>Why below {esc(below['intel_id'])}:</b> {esc(below['why'])}</p>"
    parts = [
        f"<h2>Bucket {esc(labels.bucket_text(bucket))}</h2>{said}<h3>Details</h3>"
        f"<p><b>Why this rank:</b> rule <b>{esc(trace.get('bucket_rule'))}</b> matched first — "
        f"{esc(trace.get('bucket_label'))}.<br>"
        f"Score within the bucket <b>{_fmt(trace.get('score'))}</b> · age "
        f"{esc(trace.get('age_days'))} days · flags: {esc(flags)}<br>"
        f"<span style='color:{theme.muted()}'>Rule pack {esc(str(trace.get('rules_version'))[:12])}"
        "</span></p>"
    ]
    why_not = trace.get("why_not_higher")
    parts.append("<h3>Why not one bucket higher</h3>")
    if not why_not:
        parts.append("<p>It is already in the highest bucket.</p>")
    else:
        items = []
        for rule in why_not.get("rules", []):
            unmet = "".join(
                f"<li>needs {esc(c.get('needs'))}; read {_read(c.get('read'))} "
                f"({_verdict(c.get('result'))})</li>"
                for c in rule.get("unmet", [])
            )
            items.append(
                f"<li><b>{esc(rule.get('id'))}</b> {esc(rule.get('label'))}<ul>{unmet}</ul></li>"
            )
        parts.append(
            f"<p>Bucket {esc(labels.bucket_text(why_not.get('bucket')))} would need one of:</p>"
            f"<ul>{''.join(items)}</ul>"
        )
    rows = []
    for rule in trace.get("bucket_rules", []):
        note = ""
        if rule.get("first_match"):
            note = " <b>← first match: decides the bucket</b>"
        elif rule.get("after_first_match") and rule.get("result") == "matched":
            note = " (also matches, but a rule above matched first)"
        conditions = (
            "<br>".join(
                f"{_verdict(c.get('result'))}: {esc(c.get('needs'))} — read {_read(c.get('read'))}"
                for c in rule.get("conditions", [])
            )
            or "always"
        )
        weight = "bold" if rule.get("first_match") else "normal"
        rows.append(
            f"<tr><td style='font-weight:{weight}'>{esc(rule.get('id'))}<br>"
            f"<span style='color:{theme.muted()}'>{esc(rule.get('label'))}</span></td>"
            f"<td>{esc(rule.get('bucket'))}</td>"
            f"<td>{_verdict(rule.get('result'))}{note}</td><td>{conditions}</td></tr>"
        )
    parts.append(
        "<h3>Bucket rules, in order (first match wins)</h3>"
        + TABLE
        + "<tr><th align=left>Rule</th><th>Bucket</th><th align=left>Result</th>"
        "<th align=left>Conditions</th></tr>" + "".join(rows) + "</table>"
    )
    points = []
    for factor in trace.get("priority", []):
        flag = factor.get("flag")
        points.append(
            f"<tr><td>{esc(factor.get('label'))}</td><td>{_verdict(factor.get('result'))}</td>"
            f"<td align=right>{_fmt(factor.get('points'))}</td>"
            f"<td>{esc(factor.get('detail'))}"
            + (f" · flag {esc(labels.flag_text([flag]))}" if flag else "")
            + f"</td><td style='color:{theme.muted()}'>{_read(factor.get('read'))}</td></tr>"
        )
    parts.append(
        "<h3>Points within the bucket</h3>"
        + TABLE
        + "<tr><th align=left>Factor</th><th align=left>Result</th><th>Points</th>"
        "<th align=left>Detail</th><th align=left>Inputs read</th></tr>"
        + "".join(points)
        + f"<tr><td colspan=2><b>Score</b></td><td align=right><b>{_fmt(trace.get('score'))}"
        "</b></td><td colspan=2></td></tr></table>"
    )
    if not show_harm:
        if trace.get("harm_model") or (trace.get("stored") or {}).get("harm_score") is not None:
            parts.append(
                f"<p style='color:{theme.muted()}'>The harm model's score is hidden until this "
                "item is decided (a setting on the Model screen).</p>"
            )
        return "".join(parts)
    stored = trace.get("stored") or {}
    if stored.get("harm_score") is not None:
        parts.append(
            f"<p>Advisory harm model score: {_fmt(stored['harm_score'])} "
            "(it never decides the bucket)</p>"
        )
    harm = trace.get("harm_model") or {}
    if harm.get("reasons"):
        moved = "; ".join(
            f"{esc(r['feature'])} = {esc(str(r['value']))} "
            f"({r['contribution']:+.2f} {esc(r['unit'])})"
            for r in harm["reasons"]
        )
        parts.append(
            f"<p>Harm model {esc(harm['model_id'])} suggests {esc(harm['suggestion'])}; "
            f"moved most by: {moved}</p>"
        )
    return "".join(parts)


def _render_value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "<ul>"
            + "".join(f"<li><b>{esc(k)}</b>: {_render_value(v)}</li>" for k, v in value.items())
            + "</ul>"
        )
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_render_value(v)}</li>" for v in value) + "</ul>"
    return _fmt(value)


def _when(moment: Any) -> str:
    """A stored (naive UTC) time in the display time zone, to the minute."""
    return f"{labels.local_time(moment):%Y-%m-%d %H:%M}" if moment is not None else ""


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else esc(value)


class IntelligenceView(QWidget):
    """Filters + queue table + detail tabs."""

    item_selected = Signal(int)

    def __init__(self, db: Database, tasks: Tasks | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self._trace_for: int | None = None
        self.model = IntelQueueModel(db, tasks, self)
        self.model.first_page_ready.connect(self._first_page)
        self.model.queue_complete.connect(self._show_count)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.apply_filters)

        title = QLabel("Intelligence queue", objectName="title")
        self.count_label = QLabel(objectName="subtitle")

        self.region = QComboBox()
        self.region.addItem("All regions", None)
        for region in regions.load_regions():
            self.region.addItem(f"{region.code} · {region.name}", region.code)
        self.team = QComboBox()
        self.bucket = QComboBox()
        for text, value in BUCKET_CHOICES:
            self.bucket.addItem(text, value)
        self.status = QComboBox()
        for text, value in STATUS_CHOICES:
            self.status.addItem(text, value)
        self.max_age = QSpinBox()
        self.max_age.setRange(0, 9999)
        self.max_age.setSpecialValueText("any age")
        self.max_age.setSuffix(" days max")
        self.text = QLineEdit(placeholderText="Search intel id, business, postcode, summary…")
        self.text.setClearButtonEnabled(True)
        self._fill_teams()

        self.region.currentIndexChanged.connect(self._fill_teams)
        for combo in (self.region, self.team, self.bucket, self.status):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.max_age.valueChanged.connect(self._debounce.start)
        self.text.textChanged.connect(self._debounce.start)

        filters = QHBoxLayout()
        for label, widget in (
            ("Region", self.region),
            ("Team", self.team),
            ("Bucket", self.bucket),
            ("Status", self.status),
            ("Age", self.max_age),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)

        self.table = QTableView()
        self.table.setAccessibleName("Intelligence queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setWordWrap(False)
        self._choose_first_when_painted = False  # see _first_page
        self.table.viewport().installEventFilter(self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for key, width in (
            ("rank", 58),
            ("bucket", 200),
            ("score", 66),
            ("age_days", 86),
            ("flags", 270),
            ("intel_id", 130),
            ("region", 66),
            ("team", 140),
            ("status", 85),
            ("carry_over_count", 70),
            ("harm_score", 95),
        ):
            self.table.setColumnWidth(COLUMN[key], width)
        # A header click sorts by that column (the model's ``sort``), a second
        # click reverses it and a third goes back to the rank order, as does
        # clicking Rank. The indicator starts on Rank so that enabling sorting
        # asks for the rank order the model already has.
        header.setSortIndicator(COLUMN["rank"], Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorClearable(True)
        self.table.setSortingEnabled(True)
        self.model.sort_kept.connect(self._show_sort)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.detail_tabs = QTabWidget()
        self.item_view = QTextBrowser()
        self.trace_view = QTextBrowser()
        self.linked_view = QTextBrowser()
        self.detail_tabs.addTab(self.trace_view, "Why this rank")
        self.detail_tabs.addTab(self.item_view, "Item")
        self.detail_tabs.addTab(self.linked_view, "Linked items")
        self.history_view = QTextBrowser()
        self.history_view.setAccessibleName("Decision history and notes")
        self.note_text = QPlainTextEdit(
            placeholderText="Add a note: what you found, what to check…"
        )
        self.note_text.setAccessibleName("New note")
        self.note_text.setTabChangesFocus(True)
        self.note_text.setMaximumHeight(90)
        self.note_button = QPushButton("Add note")
        self.note_button.clicked.connect(self.add_note)
        self.note_message = QLabel(objectName="subtitle")
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(self.history_view, 1)
        history_layout.addWidget(self.note_text)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_message, 1)
        note_row.addWidget(self.note_button)
        history_layout.addLayout(note_row)
        self.detail_tabs.addTab(history, "History and notes")
        self._item_id: int | None = None
        self._item_status: str | None = None
        self._trace_waiting: dict[str, Any] | None = None  # a trace back before its item

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.detail_tabs)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 3)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.text, 2)
        top.addSpacing(16)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

    # -- filters -------------------------------------------------------------------

    def _fill_teams(self) -> None:
        code = self.region.currentData()
        self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem("All teams", None)
        if code:
            for team in regions.region_by_code(code).teams:
                self.team.addItem(team.name, team.name)
        self.team.blockSignals(False)

    def current_filters(self) -> dict[str, Any]:
        filters: dict[str, Any] = {
            "region": self.region.currentData(),
            "team": self.team.currentData(),
            "buckets": self.bucket.currentData(),
            "max_age_days": self.max_age.value() or None,
            "text": self.text.text().strip() or None,
        }
        filters.update(self.status.currentData())
        return filters

    def set_filters(self, filters: dict[str, Any]) -> None:
        """Set the filter widgets (drill-down from the dashboard) and apply."""
        widgets = (self.region, self.team, self.bucket, self.status)
        for widget in widgets:
            widget.blockSignals(True)
        if "region" in filters:
            self.region.setCurrentIndex(max(0, self.region.findData(filters["region"])))
            self._fill_teams()
        if "team" in filters:
            self.team.setCurrentIndex(max(0, self.team.findData(filters["team"])))
        if "buckets" in filters:
            wanted = sorted(filters["buckets"] or [])
            for n in range(self.bucket.count()):
                if sorted(self.bucket.itemData(n) or []) == wanted:
                    self.bucket.setCurrentIndex(n)
        if "statuses" in filters:
            for n in range(self.status.count()):
                if self.status.itemData(n).get("statuses") == filters["statuses"]:
                    self.status.setCurrentIndex(n)
        for widget in widgets:
            widget.blockSignals(False)
        self.apply_filters()

    def apply_filters(self) -> None:
        self.count_label.setText("Filtering…")
        self.model.set_filters(**self.current_filters())

    def _first_page(self, count: int) -> None:
        if not self.model.complete:
            self.count_label.setText(f"{count:,}+ items (counting…)")
        if not self.model.rowCount():
            self._show_nothing()
        elif self.table.isVisible():
            # The first row is chosen once the page is painted: its detail's
            # read (at launch also the import of its module, 0.05-0.09 s) would
            # otherwise take turns with the first paint for the interpreter.
            self._choose_first_when_painted = True
            self.table.viewport().update()
        else:
            self._choose_first_row()

    def _choose_first_row(self) -> None:
        if self.model.rowCount():
            self.table.selectionModel().setCurrentIndex(
                self.model.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def _choose_first_row_if_shown(self) -> None:
        if self.isVisible():  # not for a window closed since its paint
            self._choose_first_row()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and watched is self.table.viewport()
            and self._choose_first_when_painted
        ):
            self._choose_first_when_painted = False
            QTimer.singleShot(0, self, self._choose_first_row_if_shown)  # after this paint
        return False

    def refresh(self) -> None:
        self.apply_filters()

    def _show_sort(self, column: int, order: Qt.SortOrder) -> None:
        """Put the header's indicator back on the sort in force (a click on a
        column that cannot be sorted changed it); no new sort is asked for."""
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(column, order)
        header.blockSignals(False)
        header.viewport().update()

    def _show_count(self, count: int) -> None:
        self.count_label.setText(f"{count:,} items")

    # -- detail --------------------------------------------------------------------

    def _show_history(self, item_id: int) -> None:
        """Read and show the item's history (in the app on a reader thread)."""
        db = self.db

        def read(_job: object) -> ItemHistory:
            from triage.ops.item_detail import item_history

            return item_history(db, item_id)

        def show(history: ItemHistory) -> None:
            if self._item_id == item_id:  # still the item on show
                self._render_history(history)

        if self.tasks is None:
            self._render_history(read(None))
            return
        self.tasks.read(read, on_done=show)

    def _render_history(self, history: ItemHistory) -> None:
        """The item's meeting decisions, the QA reviews of them and its notes
        (who, when), oldest first."""
        decisions, written = history.decisions, history.notes
        rows = "".join(
            f"<tr><td>{esc(d['meeting_date'])}</td><td>{esc(d['team'] or '')}</td>"
            f"<td><b>{esc(labels.DECISIONS.get(d['decision'], d['decision']))}</b></td>"
            f"<td>{esc(d['reason'] or '')}{': ' + esc(d['note']) if d['note'] else ''}</td>"
            f"<td>{esc(d['decided_by'] or '')}</td><td>{esc(_when(d['decided_at']))}</td>"
            f"<td>{esc(labels.RESULTS.get(d['result'], d['result'] or ''))}</td></tr>"
            for d in decisions
        )
        parts = ["<h3>Decisions</h3>"]
        parts.append(
            TABLE + "<tr><th>Meeting</th><th>Team</th><th>Decision</th><th>Reason</th>"
            f"<th>By</th><th>Recorded</th><th>Result</th></tr>{rows}</table>"
            if decisions
            else "<p>Not yet discussed at a meeting.</p>"
        )
        if history.qa_reviews:
            parts.append("<h3>Quality assurance</h3>")
            parts.extend(labels.qa_review_html(r) for r in history.qa_reviews)
        parts.append("<h3>Notes</h3>")
        parts.extend(
            f"<p><b>{esc(n['author'])}</b>, {esc(_when(n['written_at']))}:<br>"
            f"{esc(n['text']).replace(chr(10), '<br>')}</p>"
            for n in written
        )
        if not written:
            parts.append("<p>No notes yet.</p>")
        self.history_view.setHtml("".join(parts))

    def add_note(self) -> None:
        """Store the typed note (author: the acting user) on the writer thread."""
        item_id, text = self._item_id, self.note_text.toPlainText()
        if item_id is None:
            return
        actor = identity.current()
        self.note_button.setEnabled(False)

        def done(_note_id: object) -> None:
            self.note_button.setEnabled(True)
            self.note_text.clear()
            self.note_message.setText("Note added.")
            if self._item_id == item_id:
                self._show_history(item_id)

        def failed(error: object) -> None:
            self.note_button.setEnabled(True)
            self.note_message.setText(f"⚠ {error}")

        if self.tasks is None:
            try:
                done(notes.add_note(self.db, item_id, text, actor=actor))
            except notes.NoteError as error:
                failed(error)
            return
        self.tasks.write(
            lambda _job: notes.add_note(self.db, item_id, text, actor=actor), done, failed
        )

    def _show_nothing(self) -> None:
        self._trace_for = self._item_id = None  # a read still under way is not shown
        for view in (self.item_view, self.trace_view, self.linked_view, self.history_view):
            view.setHtml(f"<p style='color:{theme.muted()}'>No item selected.</p>")

    def _row_changed(self, current, _previous) -> None:
        self._choose_first_when_painted = False  # a row is chosen: leave it
        item_id = self.model.item_id(current.row()) if current.isValid() else None
        if item_id is None:
            self._show_nothing()
            return
        above = self.model.item_id(current.row() - 1) if current.row() > 0 else None
        self.show_item(item_id, above_id=above)
        self.item_selected.emit(item_id)

    def show_item(self, item_id: int, *, above_id: int | None = None) -> None:
        """Show one item; ``above_id``, the row above it, gets a "why below".

        In the app the item, its links and history are read on a reader
        thread (``triage.ops.item_detail`` and the QA and EM models it brings
        are imported there by the first item shown, not at the screen's
        import: at launch that was on the way to the first page), and its
        rule trace on another; the trace is shown once the item is (whether
        the model's score shows depends on the item's status). A result for
        an item the user has left is dropped."""
        self._trace_for = item_id
        self._trace_waiting = None
        db = self.db

        def read(_job: object) -> Detail:
            from triage.ops.item_detail import item_detail, item_history

            item, linked = item_detail(db, item_id)
            return item, linked, (item_history(db, item_id) if item is not None else None)

        def shown(detail: Detail) -> None:
            if self._trace_for == item_id:  # the user may have moved on meanwhile
                self._show_detail(item_id, *detail)

        def explained(trace: dict[str, Any]) -> None:
            if self._trace_for != item_id:
                return
            if self._item_id == item_id:
                self._show_trace(trace)
            else:  # the item is still being read
                self._trace_waiting = trace

        def failed(message: object) -> None:  # an unranked item or a pack problem
            if self._trace_for == item_id:
                self.trace_view.setHtml(f"<p><b>No rule trace:</b> {esc(message)}</p>")

        if self.tasks is None:
            shown(read(None))
            try:
                explained(plain.explain(self.db, item_id, above_id=above_id))
            except Exception as error:  # shown to the user, never a crash
                failed(error)
            return
        self.tasks.read(read, on_done=shown)
        # With a model active, explaining loads and verifies it: on its own thread.
        self.trace_view.setHtml(f"<p style='color:{theme.muted()}'>Working out why…</p>")
        self.tasks.read(
            lambda _job: plain.explain(db, item_id, above_id=above_id),
            on_done=explained,
            on_fail=failed,
        )

    def _show_trace(self, trace: dict[str, Any]) -> None:
        """The rule trace of the item on show."""
        hide = settings.load().hide_model_score_until_decided and self._item_status == "open"
        self.trace_view.setHtml(render_trace(trace, show_harm=not hide))

    def _show_detail(
        self,
        item_id: int,
        item: IntelItem | None,
        linked: list[dict[str, Any]],
        history: ItemHistory | None,
    ) -> None:
        if item is None or history is None:  # deleted since the queue was read
            self._show_nothing()
            return
        rows = "".join(
            f"<tr><td><b>{esc(name.replace('_', ' '))}</b></td>"
            f"<td>{esc(getattr(item, name))}</td></tr>"
            for name in ITEM_FIELDS
            if getattr(item, name) not in (None, "")
        )
        extra = "".join(
            f"<tr><td><i>{esc(k)}</i></td><td>{esc(v)}</td></tr>"
            for k, v in (item.extra or {}).items()
        )
        self.item_view.setHtml(
            f"<h2>{esc(item.intel_id)}</h2><table cellpadding=3>{rows}{extra}</table>"
        )
        if linked:
            lines = "".join(
                f"<tr><td>{esc(o['intel_id'])}</td><td>{esc(o['why'])}</td>"
                f"<td>{esc(o['received_at'])}</td><td>{esc(o['status'])}</td>"
                f"<td>{esc(o['allegation'])}</td><td>{esc(o['business_name'])}</td></tr>"
                for o in linked
            )
            self.linked_view.setHtml(
                f"<h3>{len(linked)} linked item(s)</h3><table cellpadding=4 border=1 "
                "style='border-collapse:collapse'><tr><th>Intel ID</th><th>Link</th>"
                "<th>Received</th>"
                f"<th>Status</th><th>Allegation</th><th>Business</th></tr>{lines}</table>"
            )
        else:
            self.linked_view.setHtml("<p>No other item about the same subject or premises.</p>")
        self._item_id, self._item_status = item_id, item.status
        self.note_message.clear()
        self._render_history(history)
        if self._trace_waiting is not None:  # it came back first
            self._show_trace(self._trace_waiting)
            self._trace_waiting = None
