"""Untrusted text is shown as written, never rendered as rich text (issue 14,
item 7): labels, tooltips and the import summary of the real app."""

from __future__ import annotations

from datetime import date

import pytest
from meeting_fixtures import REGION, TEAM, add_items, ranked
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QLabel

from ui import plain
from ui.main_window import MainWindow
from ui.queue_model import COLUMNS

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

MARK = "<img src='x'><b>INJ</b>"
ATTENDEE = "Ana <b>INJ</b>"


def renders_rich(text: str, text_format: Qt.TextFormat) -> bool:
    if text_format == Qt.TextFormat.RichText:
        return True
    return text_format == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text)


def assert_no_label_renders_the_mark(window) -> int:
    """Every label showing the mark shows it as text; returns how many show it."""
    showing = 0
    for label in window.findChildren(QLabel):
        text = label.text()
        if renders_rich(text, label.textFormat()):
            assert "<b>INJ" not in text, (label.objectName(), text)
            showing += "&lt;b&gt;INJ" in text
        else:
            showing += "<b>INJ" in text
    return showing


def test_a_tooltip_of_untrusted_text_shows_it_as_written():
    tip = plain.tooltip(MARK)
    assert "<b>" not in tip.replace("<p style='white-space:pre-wrap'>", "")
    assert "&lt;b&gt;INJ&lt;/b&gt;" in tip
    assert plain.tooltip("a < b, no tags") == "a < b, no tags"
    assert plain.tooltip(None) is None


def test_hostile_text_in_items_a_file_name_and_a_team_is_never_rendered(qtbot, db, tmp_path):
    add_items(
        db,
        [
            {"intel_id": f"INT-H{i}", "summary": MARK, "business_name": MARK, "team": TEAM}
            for i in range(3)
        ],
    )
    ranked(db)
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()

    queue = window.show_page("intel").model
    qtbot.waitUntil(lambda: queue.rowCount() == 3)
    summary_column = [key for key, *_ in COLUMNS].index("summary")
    tips = [
        queue.data(queue.index(row, summary_column), Qt.ItemDataRole.ToolTipRole)
        for row in range(queue.rowCount())
    ]
    assert tips and all("&lt;b&gt;INJ" in tip and "<b>INJ" not in tip for tip in tips)

    # An extract whose name and bad rows carry markup: the Imports summary.
    extract = tmp_path / "<b>INJ.csv"  # no "/" in a file name
    extract.write_text(
        "intel_id,received_at,region,summary\n"
        f"IMP-1,2026-11-01,LSE,{MARK}\nIMP-2,not a date,<b>INJ</b>,x\n",
        encoding="utf-8",
    )
    imports = window.show_page("imports")
    with qtbot.waitSignal(imports.import_finished, timeout=10000):
        imports.import_path(str(extract))
    assert "&lt;b&gt;INJ.csv" in imports.summary.text()
    imports.quarantine.list.selectRow(0)

    meetings_view = window.show_page("meetings")
    meetings_view.start(
        region=REGION, team=TEAM, held_on=date(2026, 11, 20), attendees=[ATTENDEE], capacity=2
    )
    mode = meetings_view.mode
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    assert ATTENDEE in mode.subtitle.text()

    assert assert_no_label_renders_the_mark(window) >= 3  # summary, subtitle, quarantine reason
    window.tasks.wait()
    window.close()
