"""EM refresh is one core operation: after the app's "Apply escalation ladder
and ICE bridge" the app's intelligence queue and ``triage rank intel`` list
the same items in the same order, the bridge's new item included."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from em_helpers import NOW, add_case
from meeting_fixtures import ranked, standard_items
from PySide6.QtCore import Qt

from triage.cli.main import main
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_app_em_refresh_then_app_and_cli_rank_alike(qtbot, db, capsys):
    standard_items(db, 12)
    ranked(db)
    with db.transaction() as session:  # out of contact 10 days: bridged to ICE
        add_case(session, "GONE1", last_contact_at=NOW - timedelta(days=10))
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    em = window.show_page("em")
    with qtbot.waitSignal(em.em_refreshed, timeout=10000) as refreshed:
        qtbot.mouseClick(em.apply_button, Qt.MouseButton.LeftButton)
    assert refreshed.args[0].bridge.created == 1
    assert refreshed.args[0].ranking is not None

    view = window.show_page("intel")
    model = view.model

    def app_order() -> list[str]:
        return [model.row_data(row)["intel_id"] for row in range(model.rowCount())]

    qtbot.waitUntil(lambda: model.complete and "EM-GONE1" in app_order(), timeout=10000)
    window.tasks.wait()

    assert main(["--db", db.location, "rank", "intel", "--limit", "0", "--format", "json"]) == 0
    cli_order = [row["intel_id"] for row in json.loads(capsys.readouterr().out)]
    assert app_order() == cli_order
    assert len(cli_order) == 14  # 12 items, the stale one and the bridge's
    window.close()
