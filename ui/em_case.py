"""The EM caseload screen's case detail: the chosen case's owner with claim and
release, and its tabs (why it is here, its breach timeline, the device
recommendation, the Actions panel).

None of it is on screen until a case is chosen, so ``ui.em_view`` builds it
then (``EmCaseloadView.case_detail``), not at the screen's first showing:
this module's compiling and its widgets (two rich-text panes, the timeline
table, a second tab bar) were about a third of that showing's one block of
the UI thread.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QWidget,
)

from triage import clock
from ui import access, labels
from ui.em_view import local_text as _local
from ui.plain import plain
from ui.widgets import replace_tab

if TYPE_CHECKING:
    from ui.em_actions import EmActionsPanel
    from ui.em_view import EmCaseloadView

NO_CASE = "Select a case to see why it is here, its breaches and its recommendation."


class CaseDetail:
    """The widgets showing one case, which the screen places in its lower
    half: ``owner_row`` (the case, its owner, claim and release) and
    ``detail_tabs``. Claim and release are the screen's (it refreshes the
    queue after them)."""

    def __init__(self, view: EmCaseloadView) -> None:
        self.view = view
        self.case_label = QLabel(NO_CASE)
        self.owner_label = plain(QLabel())
        self.claim_button = QPushButton("Claim")
        self.release_button = QPushButton("Release")
        self.claim_button.clicked.connect(view.claim)
        self.release_button.clicked.connect(view.release)
        self.owner_row = QWidget()
        row = QHBoxLayout(self.owner_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.case_label, 1)
        row.addWidget(self.owner_label)
        row.addWidget(self.claim_button)
        row.addWidget(self.release_button)

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

    def show_none(self) -> None:
        self.case_label.setText(NO_CASE)
        self.owner_label.clear()
        self.claim_button.setEnabled(False)
        self.release_button.setEnabled(False)
        self.why_view.clear()
        self.recommendation_view.clear()
        self.timeline.setRowCount(0)
        self.show_trace(None)

    def show_reading(self, case_id: str) -> None:
        """Until the case is read: which case, and no claim or release on stale facts."""
        self.case_label.setText(f"<b>EM case {html.escape(case_id)}</b>")
        self.claim_button.setEnabled(False)
        self.release_button.setEnabled(False)

    def show_explained(
        self, case_id: str, trace: dict[str, Any], reviews: list[dict[str, Any]]
    ) -> str | None:
        """Show the case's explanation; the holder of its claim (None: unclaimed)."""
        harm = _words(trace["harm_tier"]) or "unknown"
        self.case_label.setText(f"<b>EM case {html.escape(case_id)}</b> — harm {html.escape(harm)}")
        holder: str | None = trace["claimed_by"]
        self.owner_label.setText(f"Owner: {holder}" if holder else "Unclaimed")
        self.claim_button.setEnabled(holder is None)
        # Someone else's claim can be released too, after a question (as
        # `triage em release --force`, and recorded as forced).
        self.release_button.setEnabled(holder is not None)
        self.why_view.setHtml(_why_html(trace))
        self.recommendation_view.setHtml(
            _recommendation_html(trace)
            + ("<h3>Quality assurance</h3>" if reviews else "")
            + "".join(labels.qa_review_html(r) for r in reviews)
        )
        self._fill_timeline(trace)
        self.show_trace(trace)
        return holder

    @property
    def actions(self) -> EmActionsPanel:
        """The Actions tab's panel, built the first time it is wanted."""
        if self._actions is None:
            from ui.em_actions import EmActionsPanel

            panel = EmActionsPanel(self.view.db, self.view.tasks)
            panel.done.connect(self.view._action_done)
            access.prepare(panel)
            replace_tab(self.detail_tabs, self.detail_tabs.indexOf(self._actions_tab), panel)
            self._actions = panel
            panel.show_trace(self._trace)
        return self._actions

    def _detail_tab_shown(self, index: int) -> None:
        if self.detail_tabs.widget(index) is self._actions_tab:
            self.actions  # noqa: B018  (builds the panel in the tab)

    def show_trace(self, trace: dict[str, Any] | None) -> None:
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
