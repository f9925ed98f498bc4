"""The EM caseload screen: one ranked queue in workstream tabs, the
due-soon / overdue deadlines, and for the selected case its breach timeline,
its device recommendation with the reasons, and claim / release.

Everything shown comes from ``triage.em`` (the same functions as ``triage
rank em`` and ``triage explain em``); writes (claim, release, applying the
escalation ladder and the ICE bridge) run on the app's single writer thread.

The first showing of the screen is kept off the UI thread's long path: the
core modules the queue and the explanations need (``triage.em.queue``,
``explain`` and their ORM models, about 70 ms to import) are imported where
they are first used, on reader threads (the queue's read, the first case's
explanation); the Actions tab
(156 widgets, 40% of the screen) is built when first opened; and each tab's
columns are sized when the tab is first shown. Together they took the first
showing from one 157 ms block of the UI thread to parts under 50 ms.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from triage import clock
from triage.em import claims
from triage.em.pack import HARM_ORDER, WORKSTREAMS, EmPack, default_pack
from triage.store.db import Database
from ui import access, identity, labels
from ui.plain import plain, tooltip
from ui.rows_model import RowListModel, size_columns_once
from ui.tasks import Tasks
from ui.widgets import replace_tab

if TYPE_CHECKING:
    from triage.em.queue import Queue
    from triage.ops.em_refresh import EmRefresh
    from ui.em_actions import EmActionsPanel

RowRole = Qt.ItemDataRole.UserRole + 1

# (key, header, tooltip)
QUEUE_COLUMNS = (
    ("rank", "Rank", "Position in this tab (1 = work first)"),
    ("case_id", "Case", ""),
    ("workstream", "Workstream", ""),
    ("kind", "Work", "What needs doing"),
    ("priority", "Priority", "Kind + harm + overdue / due-soon points (see Why)"),
    ("due_at", "Due ({zone})", "Deadline, if the work has one"),
    ("due_state", "Deadline", "overdue, due soon, later or none"),
    ("harm", "Harm", "very high > high > medium > low > dwa > do_breach > eea"),
    ("claimed_by", "Owner", "Who has claimed the case"),
    ("detail", "Detail", ""),
)
DEADLINE_COLUMNS = (
    ("due_at", "Due ({zone})", ""),
    ("state", "State", "overdue, due soon; representation windows open"),
    ("deadline", "Deadline", ""),
    ("case_id", "Case", ""),
    ("workstream", "Workstream", ""),
    ("claimed_by", "Owner", ""),
    ("detail", "Detail", ""),
)
STATE_TEXT = {"overdue": "⚠ overdue", "due_soon": "⏱ due soon", "later": "later", "none": "–"}
TAB_TITLES = {
    "releases": "Releases",
    "legal": "Legal",
    "breaches": "Breaches",
    "reviews": "Reviews",
    "prosecutions": "Prosecutions",
}


def _local(value: str | None) -> str:
    if not value:
        return ""
    return labels.local_time(clock.parse_datetime(value + "Z")).strftime("%Y-%m-%d %H:%M")


TabRows = dict[str, list[dict[str, Any]]]
# A refresh's read: the pack, the queue, its deadlines, the tabs, the caseworkers.
Read = tuple["EmPack", "Queue", list[dict[str, Any]], TabRows, list[str]]


def tab_rows(queue: Queue, deadlines: list[dict[str, Any]], filters: dict[str, Any]) -> TabRows:
    """Each tab's rows (all, one per workstream, deadlines) through ``filters``."""
    from triage.em.queue import filter_rows, queue_rows

    rows = {"all": queue_rows(queue, **filters)}
    for workstream in WORKSTREAMS:
        rows[workstream] = queue_rows(queue, workstream=workstream, **filters)
    rows["deadlines"] = filter_rows(deadlines, **filters)
    return rows


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "due_at":
        return _local(value)
    if key in ("due_state", "state"):
        return STATE_TEXT.get(value, value or "")
    if key == "priority":
        return f"{value:g}"
    if key in ("kind", "deadline", "harm"):
        return (value or "").replace("_", " ")
    return "" if value is None else str(value)


class RowsModel(RowListModel):
    """A read-only table of dict rows, each row's text made when first shown.

    Only the rows painted (and the first rows the columns are sized from) are
    ever formatted: formatting every row of every tab ahead took 74 ms of
    CPU per refresh on the demo caseload (5,400 rows over seven tabs), and
    when the columns were measured over all of them, seconds of the UI thread.
    """

    def __init__(self, columns: tuple[tuple[str, str, str], ...], parent=None) -> None:
        super().__init__(len(columns), parent)
        self.columns = columns
        self.cells: list[tuple[str, ...] | None] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.cells = [None] * len(rows)
        super().set_rows(rows)

    def text(self, row: int) -> tuple[str, ...]:
        cells = self.cells[row]
        if cells is None:
            cells = self.cells[row] = tuple(_cell(self.rows[row], c[0]) for c in self.columns)
        return cells

    def headers(self) -> list[str]:
        return [self.headerData(n, Qt.Orientation.Horizontal) for n in range(len(self.columns))]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][1].format(zone=labels.zone_label())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section][2] or None
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row())[index.column()]
        if role == RowRole:
            return self.rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and self.columns[index.column()][0] == "priority":
            return tooltip(self.rows[index.row()].get("reason"))
        return None


class EmCaseloadView(QWidget):
    """The EM caseload screen (embedded by the main window)."""

    claim_changed = Signal(str)  # case id
    em_refreshed = Signal(object)  # the EmRefresh: the intel ranking may have changed
    loaded = Signal()  # a refresh is on show

    def __init__(
        self, db: Database, parent: QWidget | None = None, *, tasks: Tasks | None = None
    ) -> None:
        super().__init__(parent)
        self.db = db
        app_tasks: Tasks | None = tasks or getattr(parent, "tasks", None)
        self.tasks: Tasks = app_tasks or Tasks(self)
        # In the app the queue is built on a reader thread (seconds on a large
        # caseload); a standalone screen (tests, tools) builds it at once.
        self._in_background = app_tasks is not None
        self._generation = 0  # of refreshes
        self._fill_generation = 0  # of filter changes
        self._case_reads = 0  # of cases chosen: only the latest one's read is shown
        # The EM pack the queue on show was built with (read with it, off the
        # UI thread), so its explanations use the same rules.
        self.pack: EmPack | None = None
        self.case_id: str | None = None
        self.holder: str | None = None  # who has claimed the case on show
        self.queue: Queue | None = None  # the queue on show, reused by explanations
        self.deadlines: list[dict[str, Any]] = []
        self.models: dict[str, RowsModel] = {}
        self.tables: dict[str, QTableView] = {}

        self.summary = QLabel(objectName="emSummary")
        self.summary.setWordWrap(True)
        self.apply_button = QPushButton("Apply escalation ladder and ICE bridge")
        self.apply_button.setToolTip(
            "Raise due warning letters / prosecution referrals and link cases out of "
            "contact 7 days or more to ICE (both idempotent)"
        )
        self.apply_button.clicked.connect(self.apply_rules)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.apply_button)

        # Filters: the same ``queue_rows`` filters as ``triage rank em``.
        self.case_filter = QLineEdit(placeholderText="Case id…")
        self.case_filter.setClearButtonEnabled(True)
        self.caseworker_filter = QComboBox()
        self.due_filter = QComboBox()
        for text, value in (
            ("Any deadline", None),
            ("Overdue or due soon", "due"),
            ("Overdue", "overdue"),
            ("Due soon", "due_soon"),
        ):
            self.due_filter.addItem(text, value)
        self.harm_filter = QComboBox()
        self.harm_filter.addItem("Any harm level", None)
        for tier in HARM_ORDER:
            self.harm_filter.addItem(tier.replace("_", " "), tier)
        self.caseworker_filter.addItem("Anyone", None)  # and the names, once read
        filters = QHBoxLayout()
        for text, widget in (
            ("&Case", self.case_filter),
            ("Case&worker", self.caseworker_filter),
            ("&Deadline", self.due_filter),
            ("&Harm", self.harm_filter),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", "") + " filter")
            filters.addWidget(label)
            filters.addWidget(widget)
        filters.addStretch(1)
        self.case_filter.textChanged.connect(self._fill_tabs)
        for combo in (self.caseworker_filter, self.due_filter, self.harm_filter):
            combo.currentIndexChanged.connect(self._fill_tabs)

        # Each tab's model is filled on every refresh; its table is made when
        # the tab is first shown (until then an empty page holds its place).
        self.tabs = QTabWidget()
        self._unmade: dict[QWidget, str] = {}
        for key, title in [("all", "All work"), *TAB_TITLES.items(), ("deadlines", "Deadlines")]:
            columns = DEADLINE_COLUMNS if key == "deadlines" else QUEUE_COLUMNS
            self.models[key] = RowsModel(columns, self)
            page = self._make_table(key) if key == "all" else QWidget()
            if key != "all":
                self._unmade[page] = key
            self.tabs.addTab(page, title)
        self.tabs.currentChanged.connect(self._queue_tab_shown)

        # The selected case: owner and buttons, then its explanation and timeline.
        self.case_label = QLabel("Select a case")
        self.owner_label = plain(QLabel())
        self.claim_button = QPushButton("Claim")
        self.release_button = QPushButton("Release")
        self.claim_button.clicked.connect(self.claim)
        self.release_button.clicked.connect(self.release)
        self.message = plain(QLabel(objectName="emMessage"))
        self.message.setWordWrap(True)
        owner_row = QHBoxLayout()
        owner_row.addWidget(self.case_label, 1)
        owner_row.addWidget(self.owner_label)
        owner_row.addWidget(self.claim_button)
        owner_row.addWidget(self.release_button)

        self.detail_tabs = QTabWidget()
        self.why_view = QTextBrowser()
        self.recommendation_view = QTextBrowser()
        self.timeline = QTableWidget(0, 6)
        self.timeline.setHorizontalHeaderLabels(
            [
                f"Started ({labels.zone_label()})",
                "Event",
                f"Ended ({labels.zone_label()})",
                "Hours",
                "Battery report",
                "Actioned",
            ]
        )
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.detail_tabs.addTab(self.why_view, "Why here")
        self.detail_tabs.addTab(self.timeline, "Breach timeline")
        self.detail_tabs.addTab(self.recommendation_view, "Recommendation")
        # Built when first opened (``actions``); until then an empty tab.
        self._actions: EmActionsPanel | None = None
        self._actions_tab = QWidget()
        self._trace: dict[str, Any] | None = None  # the case on show
        self.detail_tabs.addTab(self._actions_tab, "Actions")
        self.detail_tabs.currentChanged.connect(self._detail_tab_shown)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.addLayout(owner_row)
        detail_layout.addWidget(self.message)
        detail_layout.addWidget(self.detail_tabs, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(detail)
        splitter.setSizes([520, 380])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        self._show_case(None)

    def _make_table(self, key: str) -> QTableView:
        model = self.models[key]
        table = QTableView()
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.verticalHeader().setVisible(False)
        # Sized once, from the first rows: in ResizeToContents mode the header
        # measured all 8,000 rows of every tab (4 s on showing it).
        table.horizontalHeader().setStretchLastSection(True)
        size_columns_once(table, model)
        table.selectionModel().currentRowChanged.connect(
            lambda current, _previous, m=model: self._row_selected(m, current)
        )
        self.tables[key] = table
        return table

    def _queue_tab_shown(self, index: int) -> None:
        key = self._unmade.pop(self.tabs.widget(index), None)
        if key is not None:
            table = self._make_table(key)
            access.prepare(table)
            replace_tab(self.tabs, index, table)

    # -- reading -------------------------------------------------------------------

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Rebuild the queue and deadlines, and re-read the selected case; then
        ``then()``. A result made obsolete by a newer refresh is dropped."""
        db = self.db
        self._generation += 1
        generation = self._generation

        filters = self.current_filters()

        def read(_job: object) -> Read:
            # Only what the page shows: ``explain`` is imported by the first
            # case chosen (its own reader), not by every first showing (13 ms).
            from triage.em.queue import build_queue, caseworkers, deadline_rows

            pack = default_pack()
            with db.transaction() as session:
                queue = build_queue(session, as_of=clock.now(), pack=pack)
            deadlines = deadline_rows(queue, pack=pack)
            tabs = tab_rows(queue, deadlines, filters)
            return pack, queue, deadlines, tabs, caseworkers(queue)

        def show(result: Read) -> None:
            if generation != self._generation:
                return
            self.pack, self.queue, self.deadlines, rows, names = result
            self._fill_caseworkers(names)
            if filters == self.current_filters():
                self._show_tabs(rows)
            else:  # changed while the queue was read
                self._fill_tabs()
            self._show_case(self.case_id)
            if then is not None:
                then()
            self.loaded.emit()

        if not self._in_background:
            show(read(None))
            return
        self.tasks.read(
            read,
            on_done=show,
            on_fail=lambda error: self.message.setText(f"⚠ {html.escape(error)}"),
        )

    def current_filters(self) -> dict[str, Any]:
        return {
            "case_id": self.case_filter.text().strip() or None,
            "caseworker": self.caseworker_filter.currentData(),
            "due": self.due_filter.currentData(),
            "harm": self.harm_filter.currentData(),
        }

    def _fill_caseworkers(self, names: list[str]) -> None:
        from triage.em.queue import UNCLAIMED

        chosen = self.caseworker_filter.currentData()
        self.caseworker_filter.blockSignals(True)
        self.caseworker_filter.clear()
        self.caseworker_filter.addItem("Anyone", None)
        self.caseworker_filter.addItem("Unclaimed", UNCLAIMED)
        me = identity.current().name
        for name in sorted({*names, me}):
            self.caseworker_filter.addItem(f"{name} (me)" if name == me else name, name)
        self.caseworker_filter.setCurrentIndex(max(0, self.caseworker_filter.findData(chosen)))
        self.caseworker_filter.blockSignals(False)

    def _fill_tabs(self) -> None:
        """The tabs from the queue on show, through the filters (no rebuild; in
        the app on a reader thread, as the queue may hold thousands of cases)."""
        queue, deadlines, filters = self.queue, self.deadlines, self.current_filters()
        if queue is None:
            return
        if not self._in_background:
            self._show_tabs(tab_rows(queue, deadlines, filters))
            return
        self._fill_generation += 1
        generation = self._fill_generation

        def show(tabs: TabRows) -> None:
            if generation == self._fill_generation and queue is self.queue:
                self._show_tabs(tabs)

        self.tasks.read(lambda _job: tab_rows(queue, deadlines, filters), on_done=show)

    def _show_tabs(self, tabs: TabRows) -> None:
        """Each tab's rows (worked out off the UI thread in the app)."""
        queue = self.queue
        if queue is None:
            return
        filters = self.current_filters()
        self.models["all"].set_rows(tabs["all"])
        counts = []
        for workstream in WORKSTREAMS:
            rows = tabs[workstream]
            self.models[workstream].set_rows(rows)
            overdue = sum(1 for r in rows if r["due_state"] == "overdue")
            index = list(self.models).index(workstream)
            self.tabs.setTabText(index, f"{TAB_TITLES[workstream]} ({len(rows)})")
            counts.append(
                f"{TAB_TITLES[workstream].lower()} {len(rows)}"
                + (f" ({overdue} overdue)" if overdue else "")
            )
        deadlines = tabs["deadlines"]
        self.models["deadlines"].set_rows(deadlines)
        overdue_deadlines = sum(1 for r in deadlines if r["state"] == "overdue")
        self.tabs.setTabText(len(self.models) - 1, f"Deadlines ({overdue_deadlines} overdue)")
        shown = " (filtered)" if any(v is not None for v in filters.values()) else ""
        self.summary.setText(
            f"<b>{len(queue.items)} pieces of EM work</b> as of "
            f"{labels.local_time(queue.as_of):%Y-%m-%d %H:%M}{shown}: {', '.join(counts)}. "
            f"Rules {html.escape(queue.rules_version)}."
        )

    def select_case(self, case_id: str) -> None:
        self._show_case(case_id)

    def _row_selected(self, model: RowsModel, current: QModelIndex) -> None:
        if not current.isValid():
            return
        row = model.data(model.index(current.row(), 0), RowRole)
        self._show_case(row["case_id"])

    def _show_case(self, case_id: str | None) -> None:
        """Show case ``case_id`` (None: no case). In the app its explanation is
        read on a reader thread (the first took 70 ms on the demo database,
        compiling its statements) and shown when it comes back, unless another
        case was chosen meanwhile."""
        self.case_id = case_id
        self.message.clear()
        self._case_reads += 1
        if case_id is None:
            self.case_label.setText(
                "Select a case to see why it is here, its breaches and its recommendation."
            )
            self.owner_label.clear()
            self.claim_button.setEnabled(False)
            self.release_button.setEnabled(False)
            self.why_view.clear()
            self.recommendation_view.clear()
            self.timeline.setRowCount(0)
            self._show_trace(None)
            return
        db, pack, queue = self.db, self.pack, self.queue

        def read(_job: object) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            from triage.em.explain import explain_case
            from triage.ops.item_detail import case_qa_reviews

            try:
                trace = explain_case(db, case_id, pack=pack, queue=queue)
            except KeyError:
                return None  # no longer on file
            return trace, case_qa_reviews(db, case_id)

        if not self._in_background:
            self._show_explained(case_id, read(None))
            return
        ticket = self._case_reads
        # Until it is read: which case, and no claim or release on stale facts.
        self.case_label.setText(f"<b>EM case {html.escape(case_id)}</b>")
        self.claim_button.setEnabled(False)
        self.release_button.setEnabled(False)

        def show(explained: tuple[dict[str, Any], list[dict[str, Any]]] | None) -> None:
            if ticket == self._case_reads:
                self._show_explained(case_id, explained)

        self.tasks.read(
            read,
            on_done=show,
            on_fail=lambda error: self.message.setText(f"⚠ {html.escape(error)}"),
        )

    def _show_explained(
        self, case_id: str, explained: tuple[dict[str, Any], list[dict[str, Any]]] | None
    ) -> None:
        if explained is None:
            self._show_case(None)
            return
        trace, reviews = explained
        harm = _words(trace["harm_tier"]) or "unknown"
        self.case_label.setText(f"<b>EM case {html.escape(case_id)}</b> — harm {html.escape(harm)}")
        holder = trace["claimed_by"]
        self.owner_label.setText(f"Owner: {holder}" if holder else "Unclaimed")
        self.claim_button.setEnabled(holder is None)
        # Someone else's claim can be released too, after a question (as
        # `triage em release --force`, and recorded as forced).
        self.release_button.setEnabled(holder is not None)
        self.holder = holder
        self.why_view.setHtml(_why_html(trace))
        self.recommendation_view.setHtml(
            _recommendation_html(trace)
            + ("<h3>Quality assurance</h3>" if reviews else "")
            + "".join(labels.qa_review_html(r) for r in reviews)
        )
        self._fill_timeline(trace)
        self._show_trace(trace)

    @property
    def actions(self) -> EmActionsPanel:
        """The Actions tab's panel, built the first time it is wanted."""
        if self._actions is None:
            from ui.em_actions import EmActionsPanel

            panel = EmActionsPanel(self.db, self.tasks)
            panel.done.connect(self._action_done)
            access.prepare(panel)
            replace_tab(self.detail_tabs, self.detail_tabs.indexOf(self._actions_tab), panel)
            self._actions = panel
            panel.show_trace(self._trace)
        return self._actions

    def _detail_tab_shown(self, index: int) -> None:
        if self.detail_tabs.widget(index) is self._actions_tab:
            self.actions  # noqa: B018  (builds the panel in the tab)

    def _show_trace(self, trace: dict[str, Any] | None) -> None:
        self._trace = trace
        if self._actions is not None:
            self._actions.show_trace(trace)

    def _fill_timeline(self, trace: dict) -> None:
        report_of: dict[str, int] = {}
        for number, report in enumerate(trace["consolidated_battery_breaches"], start=1):
            for event_id in report["event_ids"]:
                report_of[event_id] = number
        events = [e for e in trace["timeline"] if e["type"] != "contact_made"]
        self.timeline.setRowCount(len(events))
        for row, event in enumerate(events):
            hours = ""
            if event["started_at"] and event["ended_at"]:
                span = clock.parse_datetime(event["ended_at"] + "Z") - clock.parse_datetime(
                    event["started_at"] + "Z"
                )
                hours = f"{span.total_seconds() / 3600:.1f}"
            report = report_of.get(event["event_id"])
            battery = (
                f"report {report}"
                if report
                else ("below threshold" if event["type"] == "battery" else "")
            )
            cells = [
                _local(event["started_at"]),
                event["type"].replace("_", " "),
                _local(event["ended_at"]),
                hours,
                battery,
                _local(event["actioned_at"]) or "open",
            ]
            for column, text in enumerate(cells):
                self.timeline.setItem(row, column, QTableWidgetItem(text))

    # -- writing (on the writer thread) ---------------------------------------------

    def claim(self) -> None:
        if self.case_id:
            case_id, actor = self.case_id, identity.current()
            self._write(
                lambda _job: claims.claim(self.db, case_id, actor=actor), case_id, "Claimed."
            )

    def release(self) -> None:
        if not self.case_id:
            return
        case_id, actor, holder = self.case_id, identity.current(), self.holder
        force = holder is not None and holder != actor.name
        if force:
            answer = QMessageBox.question(
                self,
                "Release someone else's claim",
                f"Case {case_id} is claimed by {holder}. Release it anyway? "
                "The audit log records that you released it.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._write(
            lambda _job: claims.release(self.db, case_id, actor=actor, force=force),
            case_id,
            "Released." if not force else f"Released ({holder}'s claim).",
        )

    def _action_done(self, text: str, succeeded: bool) -> None:
        """An action from the Actions tab finished: show the case as it is now."""
        if succeeded:
            self.refresh(then=lambda: self.message.setText(text))
        self.message.setText(text)

    def _write(self, fn, case_id: str, done_text: str) -> None:
        self.claim_button.setEnabled(False)
        self.release_button.setEnabled(False)

        def done(_result: object) -> None:
            def shown() -> None:
                self.message.setText(done_text)
                self.claim_changed.emit(case_id)

            self.refresh(then=shown)

        def failed(error: str) -> None:
            self._show_case(self.case_id)
            self.message.setText(f"⚠ {error}")
            self.claim_changed.emit(case_id)

        self.tasks.write(fn, done, failed)

    def apply_rules(self) -> None:
        """The core's EM refresh (the same as ``triage em refresh``): ladder,
        bridge, then the intelligence ranking if the bridge created items."""
        self.apply_button.setEnabled(False)
        db, pack = self.db, self.pack

        def done(result: EmRefresh) -> None:
            ladder, linked = result.escalation, result.bridge
            self.apply_button.setEnabled(True)
            text = (
                f"Escalation ladder: {ladder.warning_letters} warning letter(s), "
                f"{ladder.prosecution_referrals} prosecution referral(s) raised. ICE bridge: "
                f"{linked.created} item(s) created, {linked.back_in_contact} back in contact "
                f"({linked.closed} closed), {linked.reopened} reopened."
            )
            self.refresh(then=lambda: self.message.setText(text))
            self.em_refreshed.emit(result)

        def failed(error: str) -> None:
            self.apply_button.setEnabled(True)
            self.message.setText(f"⚠ {error}")

        weight = identity.model_weight()

        def work(job: Any) -> EmRefresh:
            from triage.ops.em_refresh import refresh_em

            return refresh_em(db, pack=pack, job=job, model_weight=weight)

        self.tasks.write(work, done, failed)


def _words(code: str | None) -> str:
    return html.escape((code or "").replace("_", " "))


def _work_html(work: dict) -> str:
    esc = html.escape
    sums = " + ".join(f"{esc(c['part'])} {c['points']:g}" for c in work["components"])
    due = ""
    if work["due_at"]:
        due = f"; due {esc(_local(work['due_at']))} ({_words(work['due_state'])})"
    below = work["below"]
    if below:
        where = f"Below #{below['rank']} {esc(below['case_id'])} ({_words(below['kind'])})"
        position = f"{where}: {esc(below['why'])}"
    else:
        position = "First in the queue."
    return (
        f"<li><b>#{work['rank']} {esc(work['workstream'])}: {_words(work['kind'])}</b> — "
        f"{esc(work['detail'])}<br>Priority {sums} = <b>{work['priority']:g}</b>{due}"
        f"<br>{position}</li>"
    )


def _why_html(trace: dict) -> str:
    esc = html.escape
    parts = []
    if trace["work"]:
        parts.append("<h3>Open work and why it is here</h3><ul>")
        parts.extend(_work_html(work) for work in trace["work"])
        parts.append("</ul>")
    else:
        parts.append("<p>No open work for this case.</p>")
    for note in trace["not_evaluated"]:
        parts.append(f"<p>Not evaluated: {esc(note)}</p>")
    d = trace["deadlines"]
    release = esc(_local(d["release_deadline"]) or "-")
    overdue = " — overdue" if d["review_overdue"] else ""
    parts.append("<h3>Deadlines</h3><ul>")
    parts.append(f"<li>Release: {release} ({esc(str(d['release_state']))})</li>")
    parts.append(f"<li>Review due: {esc(d['review_due'] or '-')}{overdue}</li>")
    if d["representation_window_end"]:
        window = esc(_local(d["representation_window_end"]))
        parts.append(f"<li>Representation window until {window}</li>")
    for legal in d["legal"]:
        parts.append(
            f"<li>{_words(legal['type'])} {esc(legal['event_id'])}: reply due "
            f"{esc(_local(legal['due_at']) or '-')} ({_words(legal['state'])})</li>"
        )
    parts.append("</ul>")
    c = trace["contact"]
    out = " — <b>out of contact 7 days or more</b>" if c["out_of_contact"] else ""
    reports = len(trace["consolidated_battery_breaches"])
    parts.append(
        f"<p>Last contact {esc(_local(c['last_contact_at']) or 'unknown')}{out}. "
        f"Breach notifications {trace['breaches_raw']} (battery {trace['battery_events_raw']} "
        f"raw → {reports} consolidated reports, {esc(trace['battery_rule'])}); "
        f"counted breaches {trace['counted_breaches']} ({esc(trace['escalation']['rule'])}).</p>"
    )
    if trace["bridge"]:
        item = trace["bridge"]
        parts.append(f"<p>ICE item {esc(item['intel_id'])}: {_words(item['state'])}</p>")
    return "".join(parts)


def _recommendation_html(trace: dict) -> str:
    esc = html.escape
    rec = trace["recommendation"]
    device = {"fitted": "fitted device", "non_fitted": "non-fitted device", "none": "no device"}[
        rec["device"]
    ]
    outcome = "EM" if rec["em"] else "Exemption from EM"
    months = f", minimum {rec['minimum_months']} months" if rec["minimum_months"] else ""
    flags = ", ".join(f.replace("_", " ") for f in rec["flags"])
    parts = [
        f"<h3>Advice: {outcome} — {device}{months}</h3>",
        "<p><i>Advice only: the caseworker decides and records the reason.</i></p>",
    ]
    if flags:
        parts.append(f"<p><b>⚑ {esc(flags)}</b></p>")
    parts.append("<ol>" + "".join(f"<li>{esc(r)}</li>" for r in rec["reasons"]) + "</ol>")
    recorded = trace["recorded_recommendation"]
    if recorded and recorded["decision"]:
        decision = recorded["decision"]
        parts.append(
            f"<p>Decision by {esc(decision['by'])}: {'EM' if decision['em'] else 'exemption'}, "
            f"{esc(decision['device'])}{' (override)' if decision['override'] else ''} — "
            f"“{esc(decision['reason'])}”</p>"
        )
    return "".join(parts)
