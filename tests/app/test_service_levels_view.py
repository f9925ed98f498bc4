"""The Statistics screen's EMS service levels tab (issue 19.2): Figure 12
from its published figures, below-target cells marked in words and colour."""

from __future__ import annotations

import pytest
from actors import EVERYONE
from service_level_helpers import BELOW, figure12_csv, issues_csv

pytest.importorskip("PySide6")

from triage.imports.importer import import_file  # noqa: E402
from ui.dashboard_view import FLAGGED_BACKGROUND, DashboardView  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_service_levels_tab_marks_the_months_below_target(db, qtbot, tmp_path):
    import_file(db, "service-levels", figure12_csv(tmp_path), actor=EVERYONE)
    import_file(db, "process-issues", issues_csv(tmp_path), actor=EVERYONE)
    view = DashboardView(db)
    qtbot.addWidget(view)
    view.refresh()
    tabs = [view.tabs.tabText(n) for n in range(view.tabs.count())]
    assert "EMS service levels" in tabs and "Breach trends" in tabs
    view.tabs.setCurrentIndex(tabs.index("EMS service levels"))
    grid = view.panels["service_levels"].grid
    titles = [grid.horizontalHeaderItem(c).text() for c in range(grid.columnCount())]
    months = [titles.index(t) for t in ("Oct 2021 %", "Nov 2021 %", "Dec 2021 %")]
    for r in range(grid.rowCount()):
        measure = grid.item(r, 0).text()
        marked = [
            titles[c].removesuffix(" %")
            for c in months
            if grid.item(r, c).text().endswith("(below target)")
        ]
        assert (", ".join(marked) or "none") == BELOW[measure], measure
        for c in months:
            coloured = grid.item(r, c).background().color().name().upper() == FLAGGED_BACKGROUND
            assert coloured == grid.item(r, c).text().endswith("(below target)")
    assert grid.item(0, titles.index("Oct 2021 %")).text() == "81.8 (below target)"
    issues = view.panels["process_issues"].grid
    assert issues.item(issues.rowCount() - 1, 0).text() == "Total"


def test_the_imports_screen_offers_every_extract_kind():
    from triage.imports.columns import KINDS
    from ui.imports_view import KIND_LABELS

    assert set(KIND_LABELS) == set(KINDS)
