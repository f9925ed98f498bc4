"""The statistics dashboard: shows the same cells as the core, and drills down into queues."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from stats_helpers import item, load, outcome

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from ui.dashboard_view import DashboardView  # noqa: E402

# The offscreen platform warns on show(); it says nothing about this widget.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def view(db, qtbot):
    rows = [item("SNI", bucket=2, received=datetime(2026, 10, 1, 9)) for _ in range(4)]
    rows += [item("LSE", bucket=6, received=datetime(2026, 10, 2, 9)) for _ in range(3)]
    load(
        db,
        rows,
        [
            outcome(rows[0]["id"], "accepted", date(2026, 10, 8)),
            outcome(rows[1]["id"], "rejected", date(2026, 10, 8)),
            outcome(rows[4]["id"], "accepted", date(2026, 10, 8)),
        ],
    )
    widget = DashboardView(db)
    qtbot.addWidget(widget)
    widget.resize(1000, 900)
    widget.refresh()
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def cell_text(panel, row: int, title: str) -> str:
    column = [panel.grid.horizontalHeaderItem(c).text() for c in range(panel.grid.columnCount())]
    return panel.grid.item(row, column.index(title)).text()


def test_figure9_cells_match_the_core(view):
    panel = view.panels["figure9"]
    regions = [panel.grid.item(r, 0).text() for r in range(panel.grid.rowCount())]
    assert regions == ["London and South East", "Scotland and Northern Ireland", "All regions"]
    assert cell_text(panel, 1, "Total intelligence received") == "4"
    assert cell_text(panel, 1, "High (buckets 1-4): % accepted") == "25%"
    assert cell_text(panel, 1, "High (buckets 1-4): % not discussed") == "50%"
    assert cell_text(panel, 0, "Low (buckets 5-6): % accepted") == "33%"


def test_clicking_a_cell_opens_the_matching_queue(view, qtbot):
    panel = view.panels["figure9"]
    titles = [panel.grid.horizontalHeaderItem(c).text() for c in range(panel.grid.columnCount())]
    column = titles.index("Low (buckets 5-6): % not discussed")
    panel.grid.scrollToItem(panel.grid.item(0, column))
    rect = panel.grid.visualItemRect(panel.grid.item(0, column))
    with qtbot.waitSignal(view.drill_down_requested) as signal:
        qtbot.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    # Not discussed: open, or closed without a decision (issue 19.10).
    assert signal.args[0] == {"region": "LSE", "buckets": [5, 6], "statuses": ["open", "closed"]}


def test_clicking_a_bar_opens_the_matching_queue(view, qtbot):
    chart = view.panels["figure9"].chart
    view.tabs.setCurrentIndex(0)
    view.panels["figure9"].grid.scrollTo(view.panels["figure9"].grid.model().index(0, 0))
    chart.repaint()
    rect, row, key = next(b for b in chart.bars if b[1] == 1 and b[2] == "high_not_discussed_pct")
    with qtbot.waitSignal(view.drill_down_requested) as signal:
        point = rect.center().toPoint()
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    assert signal.args[0] == {
        "region": "SNI",
        "buckets": [1, 2, 3, 4],
        "statuses": ["open", "closed"],
    }


def test_region_filter_and_refresh_after_new_data(view, db):
    view.region_box.setCurrentIndex(view.region_box.findData("SNI"))
    panel = view.panels["figure9"]
    assert panel.grid.rowCount() == 1
    load(db, [item("SNI", bucket=1, received=datetime(2026, 10, 3, 9))], [])
    view.refresh()
    assert cell_text(panel, 0, "Total intelligence received") == "5"
    em_panel = view.panels["figure14"]
    assert em_panel.grid.item(em_panel.grid.rowCount() - 1, 0).text() == "TOTAL"


def test_refresh_runs_on_the_apps_reader_thread(db, qtbot):
    from PySide6.QtWidgets import QWidget

    from ui.tasks import Tasks

    load(db, [item("NMWSW", bucket=4, received=datetime(2026, 10, 1, 9))], [])
    host = QWidget()
    host.tasks = Tasks(host)
    qtbot.addWidget(host)
    widget = DashboardView(db, host)
    with qtbot.waitSignal(widget.refreshed, timeout=20000):
        widget.refresh()
        # refresh() returned at once: the tables come later, from the reader thread.
        assert widget.status.text() == "Computing statistics…"
    assert cell_text(widget.panels["figure9"], 0, "Total intelligence received") == "1"
    # The other tabs' panels are made and filled when their tab is first shown.
    assert "figure14" not in widget.panels
    widget.tabs.setCurrentIndex(2)  # EM
    em_panel = widget.panels["figure14"]
    assert em_panel.grid.item(em_panel.grid.rowCount() - 1, 0).text() == "TOTAL"
    assert widget.tabs.tabText(2) == "EM" and widget.tabs.currentIndex() == 2
    host.tasks.wait()


def test_statistics_stay_off_the_ui_thread_once_the_screen_is_shelved(db, qtbot, monkeypatch):
    """In the main window the screen's parent becomes the page stack: the
    statistics must still be computed on a reader thread (they ran on the UI
    thread there, freezing the app for 2 to 11.6 s on large databases)."""
    import threading

    from ui import dashboard_view
    from ui.main_window import MainWindow

    load(db, [item("NMWSW", bucket=4, received=datetime(2026, 10, 1, 9))], [])
    threads: list[int] = []
    compute = dashboard_view.compute_report

    def recorded(*args, **kwargs):
        threads.append(threading.get_ident())
        return compute(*args, **kwargs)

    monkeypatch.setattr(dashboard_view, "compute_report", recorded)
    window = MainWindow(db)
    qtbot.addWidget(window)
    stats = window.show_page("stats")
    qtbot.waitUntil(lambda: bool(stats.tables), timeout=20000)
    assert not hasattr(stats.parent(), "tasks")  # shelved: its parent is not the window
    with qtbot.waitSignal(stats.refreshed, timeout=20000):
        stats.refresh()
    assert len(threads) >= 2 and threading.get_ident() not in threads
    window.tasks.wait()


def test_a_role_without_statistics_is_told_so_and_nothing_is_computed(qtbot, db, monkeypatch):
    from triage.users import Actor
    from ui import dashboard_view, identity

    computed: list[object] = []
    monkeypatch.setattr(dashboard_view, "compute_report", lambda *a: computed.append(a))
    identity.sign_in(Actor("olive", frozenset({"officer"})))
    view = dashboard_view.DashboardView(db)
    qtbot.addWidget(view)
    view.refresh()
    assert computed == [] and view.report is None
    assert "olive (officer) may not read the statistics" in view.status.text()
