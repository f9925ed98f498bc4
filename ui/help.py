"""The help window (F1): what each screen is for and every key, on one page.

A dialog of its own size with a scrolling text pane, so the whole list is
always on screen whatever the window size; Esc or Close shuts it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from ui import access

HELP_HTML = """
<h2>Triage help</h2>
<p>Move between controls with <b>Tab</b> and <b>Shift+Tab</b>; in a table or a
list the arrow keys move between rows. <b>Esc</b> closes any dialog.</p>
<h3>Anywhere</h3>
<table cellpadding=3>
<tr><td><b>F1</b></td><td>this help</td></tr>
<tr><td><b>Ctrl+1</b> … <b>Ctrl+9</b></td><td>Intelligence, EM caseload, Meetings, Statistics,
Imports, Rules, Model, Settings, Quality assurance</td></tr>
<tr><td><b>Ctrl+R</b></td><td>re-rank now</td></tr>
<tr><td><b>Ctrl+N</b> / <b>Ctrl+O</b></td><td>new / open database</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>quit (the window's layout and column widths are kept)</td></tr>
</table>
<h3>Intelligence queue</h3>
<p>Click a column header to sort by it (again to reverse, a third time for the rank
order). The <b>Why this rank</b> tab starts with one paragraph: the bucket and why,
age and freshness, harm, whereabouts and the returns route, and why the item is
below the one above it; the rule-by-rule details follow.</p>
<h3>Tasking meeting</h3>
<table cellpadding=3>
<tr><td><b>A</b></td><td>accept</td></tr>
<tr><td><b>R</b>, then <b>1</b>-<b>9</b></td><td>reject with a reason (<b>9</b> Other asks for a
note; Esc cancels)</td></tr>
<tr><td><b>N</b></td><td>not discussed (carried over)</td></tr>
<tr><td><b>J</b> / <b>K</b></td><td>next / previous item</td></tr>
<tr><td><b>U</b></td><td>undo the last decision</td></tr>
<tr><td><b>C</b></td><td>re-check a stale item</td></tr>
<tr><td><b>P</b></td><td>presenter view</td></tr>
<tr><td><b>?</b></td><td>the meeting keys</td></tr>
</table>
<h3>EM caseload</h3>
<p>Filter by case id, caseworker, deadline and harm level above the tabs. Select a
case, then use its <b>Actions</b> tab: record a review, mark breaches actioned, a reply
to a representation, PAP letter or JR, an escalation step done, the device decision
with its reason, and trail-data requests.</p>
<h3>Settings</h3>
<p>Your display name, default region and team, meeting capacity, display time zone
and theme (light, dark or as the system).</p>
"""


class HelpDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Triage help")
        self.text = QTextBrowser()
        self.text.setHtml(HELP_HTML)
        self.text.setAccessibleName("Help text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        limit = access.available_size(self)
        self.resize(min(720, limit.width() * 9 // 10), min(760, limit.height() * 9 // 10))
        access.prepare(self)
        access.keep_on_screen(self)
