"""Issue 13.2: the UI thread is never held up while the statistics, EM and
intelligence screens load on a 100,000-item database.

A 5 ms heartbeat timer runs on the UI thread throughout (``ui.heartbeat``).
The figure checked is the UI thread's own CPU time between two beats: the
work the app did there in one go. The wall-clock gap is reported beside it
but not checked, because on a shared 2-core machine it also counts the time
the operating system gave the core to other processes (the idle window
itself missed its beat by 113 ms at load 9, benchmarks/bench_ui_thread.py).
Qt's first-ever set-up (fonts, style, the screens' modules) is paid first on
a small database, as it is once per run of the app.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from triage.demo.generator import copy_items, create_demo_database  # noqa: E402
from triage.intel import ranking  # noqa: E402
from triage.store.db import open_database  # noqa: E402
from ui import theme  # noqa: E402
from ui.heartbeat import Heartbeat, Stall  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

ITEMS = 100_000
LIMIT_S = 0.100  # the limit (its target is 50 ms)
LOADED_S = 300_000  # ms to wait for a screen's data on a busy machine


@pytest.fixture(scope="session")
def big_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Calibrated demo data (10,000 items, the usual EM caseload and
    outcomes) grown to 100,000 items by copying, and ranked: made once per
    test run (about 8 s of CPU)."""
    folder = tmp_path_factory.mktemp("big")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIAGE_HOME", str(folder / "home"))
        patch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
        path = folder / "big.sqlite"
        create_demo_database(path, intel=ITEMS // 10, end=date(2026, 11, 19))
        db = open_database(path)
        assert copy_items(db, ITEMS) == ITEMS
        ranking.refresh(db)
        db.close()
    return path


def open_window(qtbot, path: Path) -> MainWindow:
    window = MainWindow(open_database(path))
    qtbot.addWidget(window)
    window.show()
    return window


def queue_shown(window: MainWindow) -> bool:
    model = window.pages["intel"].model
    return model.complete and model.rowCount() > 0


def load_every_screen(qtbot, window: MainWindow, beat: Heartbeat | None = None) -> dict:
    """Launch to a populated queue, then the statistics, the EM caseload and
    the queue again, each until its data is on show; the longest stall of each."""
    stalls: dict[str, Stall] = {}

    def step(name: str, done) -> None:
        qtbot.waitUntil(done, timeout=LOADED_S)
        # Anything the screen started in the background is shown too (waited
        # for in the event loop, so results arrive one by one as in use).
        qtbot.waitUntil(window.tasks.idle, timeout=LOADED_S)
        qtbot.wait(50)
        if beat is not None:
            stalls[name] = beat.reset()

    step("launch to a populated queue", lambda: queue_shown(window))
    window.show_page("stats")
    step("statistics", lambda: bool(window.pages["stats"].tables))
    window.show_page("em")
    step("EM caseload", lambda: window.pages["em"].queue is not None)
    intel = window.show_page("intel")
    intel.refresh()
    step("intelligence queue again", lambda: queue_shown(window))
    return stalls


def test_no_screen_holds_the_ui_thread_on_100000_items(qtbot, qapp, tmp_path, big_database):
    theme.apply(qapp, theme="light")  # the app's look: its style sheet costs time too
    small = tmp_path / "small.sqlite"
    create_demo_database(small, intel=300, em=20, end=date(2026, 11, 19))
    warm_up = open_window(qtbot, small)
    load_every_screen(qtbot, warm_up)
    warm_up.close()
    warm_up.db.close()

    path = tmp_path / "big.sqlite"
    shutil.copyfile(big_database, path)
    beat = Heartbeat(5)
    window = open_window(qtbot, path)
    stalls = load_every_screen(qtbot, window, beat)
    beat.stop()
    window.close()
    window.db.close()

    report = "; ".join(f"{name}: {stall}" for name, stall in stalls.items())
    print(report)
    assert len(stalls) == 4
    assert all(stall.cpu <= LIMIT_S for stall in stalls.values()), report
