"""How long the UI thread is held up while the Statistics, EM and
Intelligence screens load on a large database (offscreen).

    .venv/bin/python benchmarks/bench_ui_thread.py --db PATH
    .venv/bin/python benchmarks/bench_ui_thread.py --items 100000 --keep PATH

Without ``--db`` it builds calibrated demo data at a tenth of ``--items`` and
copies the items in SQL up to ``--items``, then ranks them. A 10 ms QTimer on
the UI thread is the heartbeat: each figure is the longest gap between two
beats while a screen loads (target 50 ms, limit 100 ms). The baseline, in the
same run, is the longest gap with the window open and idle for 2 s (what the
machine's load alone costs). Last lines: the figures.
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

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from triage.store.db import open_database
    from triage.users.accounts import sign_in
    from ui import identity
    from ui.main_window import MainWindow

    longest = [0.0]
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        longest[0] = max(longest[0], now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)

    def measure(start: Callable[[], object], done: Callable[[], bool], limit_s: float) -> float:
        longest[0], last[0] = 0.0, time.perf_counter()
        timer.start()
        start()
        end = time.perf_counter() + limit_s
        while not done() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        beat()
        timer.stop()
        return longest[0]

    db = open_database(path)
    identity.sign_in(sign_in(db, None, None))  # the database's one user, as on a new laptop
    window = MainWindow(db)
    window.show()
    intel = window.page("intel")
    measure(lambda: None, lambda: intel.model.complete and intel.model.rowCount() > 0, 120)
    window.tasks.wait()
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
    window.tasks.wait()
    window.close()
    db.close()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    for name, gap in (("statistics", stats), ("EM", em), ("queue", queue_gap)):
        print(
            f"{name}: longest UI-thread gap {gap * 1000:.0f} ms "
            f"(idle baseline {baseline * 1000:.0f} ms, ratio {gap / baseline:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
