"""The app shows the core's message for a file it cannot import, in a dialog
and the summary, never a stack trace; and says how a CSV was read."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from ui.imports_view import ImportsView
from ui.tasks import Tasks

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(qtbot, db):
    tasks = Tasks()
    widget = ImportsView(db, tasks)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    tasks.wait()


def test_a_damaged_workbook_is_refused_in_a_dialog(view, qtbot, tmp_path):
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    view.import_path(str(path))
    box = view.error_box
    qtbot.waitUntil(box.isVisible, timeout=5000)
    assert box.icon() == QMessageBox.Icon.Warning
    assert box.text().startswith("damaged.xlsx: not a readable XLSX workbook")
    assert "Traceback" not in box.text() and box.text() in view.summary.text()


def test_a_file_refused_while_importing_is_shown_in_a_dialog(view, qtbot, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_text("intel_id,received_at,region\n" + "x\n" * 10_500)
    view.import_path(str(path))
    qtbot.waitUntil(lambda: getattr(view, "error_box", None) is not None, timeout=20000)
    qtbot.waitUntil(view.error_box.isVisible, timeout=5000)
    assert "10,500 of the first 10,500 rows cannot be imported" in view.error_box.text()
    assert "nothing was imported" in view.summary.text()


def test_the_summary_names_an_encoding_other_than_utf8(view, qtbot, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "intel_id,received_at,region,summary\nW-1,2026-07-01,LSE,Café\n".encode("cp1252")
    )
    with qtbot.waitSignal(view.import_finished, timeout=10000):
        view.import_path(str(path))
    assert "read as Windows-1252 text" in view.summary.text()
