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
explanation); the chosen case's part (``ui.em_case``: its owner row and
its tabs) is built when a case is first chosen, and its Actions tab (156
widgets) when first opened; and each queue tab's table is made, and its
columns sized, when the tab is first shown. Together they took the first
showing from one 157 ms block of the UI thread to 46-57 ms, and with the
case part left for later to 29-43 ms (100,000 items; docs/benchmarks.md).
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
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from triage import clock
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
    from ui.em_case import CaseDetail

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


def local_text(value: str | None) -> str:
    """A stored UTC time as the display zone's date and minutes ("" for none)."""
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
        return local_text(value)
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

        # The selected case (``ui.em_case``), built when a case is first chosen:
        # until then its place holds one line saying what choosing shows.
        self._case_detail: CaseDetail | None = None
        self._no_case = QLabel(
            "Select a case to see why it is here, its breaches and its recommendation."
        )
        self.message = plain(QLabel(objectName="emMessage"))
        self.message.setWordWrap(True)
        self._detail_layout = QVBoxLayout()
        self._detail_layout.addWidget(self._no_case)
        self._detail_layout.addWidget(self.message)
        self._detail_layout.addStretch(1)
        detail = self._detail = QWidget()
        detail.setLayout(self._detail_layout)

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
            self.holder = None
            if self._case_detail is not None:  # nothing to clear before a case was shown
                self._case_detail.show_none()
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
        self.case_detail.show_reading(case_id)

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
        self.holder = self.case_detail.show_explained(case_id, trace, reviews)

    @property
    def case_detail(self) -> CaseDetail:
        """The chosen case's part of the screen, built the first time it is wanted
        (``ui.em_case``), in place of the line that said to choose a case."""
        if self._case_detail is None:
            from ui.em_case import CaseDetail

            detail = CaseDetail(self)
            layout = self._detail_layout
            layout.replaceWidget(self._no_case, detail.owner_row)
            self._no_case.hide()  # at once: it is deleted only when the event loop next runs
            self._no_case.deleteLater()
            layout.takeAt(layout.count() - 1)  # the stretch: the tabs take the height now
            layout.addWidget(detail.detail_tabs, 1)
            access.prepare(self._detail)  # Tab order and names, as the screen had when built
            self._case_detail = detail
        return self._case_detail

    # The case detail's parts, as the screen's own (tests, screenshots, QA).
    @property
    def case_label(self) -> QLabel:
        return self.case_detail.case_label

    @property
    def owner_label(self) -> QLabel:
        return self.case_detail.owner_label

    @property
    def claim_button(self) -> QPushButton:
        return self.case_detail.claim_button

    @property
    def release_button(self) -> QPushButton:
        return self.case_detail.release_button

    @property
    def why_view(self) -> QTextBrowser:
        return self.case_detail.why_view

    @property
    def recommendation_view(self) -> QTextBrowser:
        return self.case_detail.recommendation_view

    @property
    def timeline(self) -> QTableWidget:
        return self.case_detail.timeline

    @property
    def detail_tabs(self) -> QTabWidget:
        return self.case_detail.detail_tabs

    @property
    def actions(self) -> EmActionsPanel:
        return self.case_detail.actions

    @property
    def _actions(self) -> EmActionsPanel | None:
        return None if self._case_detail is None else self._case_detail._actions

    # -- writing (on the writer thread) ---------------------------------------------

    def claim(self) -> None:
        if self.case_id:
            case_id, actor = self.case_id, identity.current()
            self._write(
                lambda _job: _claims().claim(self.db, case_id, actor=actor), case_id, "Claimed."
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
            lambda _job: _claims().release(self.db, case_id, actor=actor, force=force),
            case_id,
            "Released." if not force else f"Released ({holder}'s claim).",
        )

    def _action_done(self, text: str, succeeded: bool) -> None:
        """An action from the Actions tab finished: show the case as it is now."""
        if succeeded:
            self.refresh(then=lambda: self.message.setText(text))
        self.message.setText(text)

    def _write(self, fn, case_id: str, done_text: str) -> None:
        self.case_detail.claim_button.setEnabled(False)
        self.case_detail.release_button.setEnabled(False)

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


def _claims() -> Any:
    """``triage.em.claims``, imported on the first claim or release (on the writer thread)."""
    from triage.em import claims

    return claims
