"""How long the UI thread is held up while the Statistics, EM and
Intelligence screens load on a large database (offscreen).

    .venv/bin/python benchmarks/bench_ui_thread.py --db PATH
    .venv/bin/python benchmarks/bench_ui_thread.py --items 100000 --keep PATH

Without ``--db`` it builds calibrated demo data at a tenth of ``--items`` and
copies the items in SQL up to ``--items``, then ranks them. A 5 ms QTimer on
the UI thread is the heartbeat: each figure is the longest gap between two
beats while a screen loads (target 50 ms, limit 100 ms), in the UI thread's
CPU time and in wall time (``ui.heartbeat``); the idle line, in the same run,
is the longest gap with the window open and idle for 2 s (what the machine's
load alone costs in wall time). These are first visits in a fresh process,
module imports and Qt's first set-up included (the test,
tests/app/test_ui_thread.py, pays those on a small database first).
Last lines: the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build(path: Path, items: int) -> None:
    from triage.demo.generator import copy_items, create_demo_database
    from triage.intel import ranking
    from triage.store.db import open_database

    create_demo_database(path, intel=items // 10, end=date(2026, 11, 19))
    db = open_database(path)
    copy_items(db, items)
    ranking.refresh(db)
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="an existing database to open")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--keep", help="build the database here and keep it")
    args = parser.parse_args()
    os.environ.setdefault("TRIAGE_NOW", "2026-11-20T09:00:00")
    os.environ.setdefault("TRIAGE_HOME", tempfile.mkdtemp(prefix="bench-ui-thread-"))
    if args.db:
        path = Path(args.db)
    else:
        path = Path(args.keep or Path(tempfile.mkdtemp(prefix="bench-ui-thread-")) / "big.sqlite")
        started = time.perf_counter()
        build(path, args.items)
        print(f"built {args.items:,} items in {time.perf_counter() - started:.0f} s", flush=True)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from triage.store.db import open_database
    from triage.users.accounts import sign_in
    from ui import identity, theme
    from ui.heartbeat import Heartbeat, Stall
    from ui.main_window import MainWindow

    theme.apply(app, theme="light")  # the app's look: its style sheet costs time too
    beat = Heartbeat(5)

    def measure(start: Callable[[], object], done: Callable[[], bool], limit_s: float) -> Stall:
        """The longest stall from ``start()`` until ``done()`` and every
        background job has reported, waiting in the event loop."""
        beat.reset()
        start()
        end = time.perf_counter() + limit_s
        while not (done() and window.tasks.idle()) and time.perf_counter() < end:
            loop = QEventLoop()
            QTimer.singleShot(5, loop.quit)
            loop.exec()
        return beat.reset()

    db = open_database(path)
    identity.sign_in(sign_in(db, None, None))  # the database's one user, as on a new laptop
    window = MainWindow(db)
    window.show()
    intel = window.page("intel")
    launch = measure(lambda: None, lambda: intel.model.complete and intel.model.rowCount() > 0, 120)
    idle_end = time.perf_counter() + 2.0
    baseline = measure(lambda: None, lambda: time.perf_counter() > idle_end, 3)
    stats = measure(
        lambda: window.show_page("stats"), lambda: bool(window.pages["stats"].tables), 300
    )
    em = measure(lambda: window.show_page("em"), lambda: window.pages["em"].queue is not None, 300)

    def queue() -> None:
        window.show_page("intel")
        intel.refresh()

    queue_gap = measure(queue, lambda: intel.model.complete and intel.model.rowCount() > 0, 120)
    window.close()
    db.close()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print("longest UI-thread stall: its CPU time (wall time); first visit of each screen")
    for name, gap in (
        ("idle for 2 s", baseline),
        ("launch to a populated queue", launch),
        ("statistics", stats),
        ("EM caseload", em),
        ("queue refreshed", queue_gap),
    ):
        print(f"{name}: {gap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
