"""Benchmark the desktop app at scale (offscreen) against the core
operations it calls, measured in the same run (issue 17, item 5).

    .venv/bin/python benchmarks/bench_ui.py [--items 1000000] [--keep PATH]

Builds a database of synthetic items (Core inserts) and ranks it, then runs
the app and the core each in a fresh process on it:

- launch to a populated queue: from starting the process to the first page
  of the queue on screen; the core: a process that opens the database and
  reads the same first page (``ranking.queue_ids`` and ``ranking.rows``);
- a filter change (region LSE, buckets 5-6) to its first page on screen; the
  core: the same two reads;
- keystroke to stored: in a tasking meeting, from the key press to the
  writer thread's ``meetings.decide`` returning (committed), p95 of
  ``DECISIONS``; the core: ``meetings.decide`` alone, in a meeting of another
  team;
- peak memory of the app process.

Targets: launch < 1.5 s, keystroke to stored p95 < 30 ms, filter < 200 ms.
Last lines: the figures, each with its ratio to the core.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

TARGETS = {"launch_s": 1.5, "filter_s": 0.2, "stored_p95_s": 0.03}
FILTER = {"region": "LSE", "buckets": [5, 6]}
DECISIONS = 30
# The queue's first read and the rows the view paints first (ui.queue_model's
# FIRST_PAGE and PAGE; the core's process does not import Qt to read them).
FIRST_PAGE, PAGE = 500, 200
HELD_ON = date(2026, 11, 27)


def build(path: Path, n: int) -> None:
    from sqlalchemy import insert

    from triage import clock
    from triage.intel import ranking, regions
    from triage.store.db import open_database
    from triage.store.models import IntelItem

    db = open_database(path)
    rng = random.Random(11)
    now = clock.now()
    teams = [(r.code, t.name) for r in regions.load_regions() for t in r.teams]
    allegations = ["illegal_working", "overstayer", "sham_marriage", "other", "fno", None]
    sectors = ["construction", "care", "catering", "car_wash", "nail_bar", "retail", None]
    flags = [None, None, None, None, ";weapon;", ";exploitation;", ";organised_crime;"]
    chunk = 50_000
    started = time.perf_counter()
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            region, team = teams[rng.randrange(len(teams))]
            received = now - timedelta(days=rng.randrange(300), hours=rng.randrange(24))
            named = rng.random() < 0.3
            rows.append(
                {
                    "intel_id": f"B{i:07d}",
                    "received_at": received,
                    "region": region,
                    "team": team,
                    "subject_named": named,
                    "subject_ref": f"S{rng.randrange(n // 3 + 1)}" if named else None,
                    "postcode": f"E{rng.randrange(99)} {rng.randrange(9)}AA",
                    "business_name": f"Biz {rng.randrange(5000)}" if rng.random() < 0.2 else None,
                    "sector": rng.choice(sectors),
                    "persons_estimated": rng.randrange(12) if rng.random() < 0.5 else None,
                    "allegation": rng.choice(allegations),
                    "harm_flags": rng.choice(flags),
                    "whereabouts": rng.choice(["known", "last_known", "unknown", None]),
                    "summary": "synthetic benchmark item",
                    "status": "open",
                    "carry_over_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with db.transaction() as session:
            session.execute(insert(IntelItem), rows)
    built = time.perf_counter() - started
    run = ranking.refresh(db)
    print(f"built {n:,} items in {built:.1f} s; ranked in {run.seconds:.1f} s", flush=True)
    db.close()


def rank_today(path: Path) -> None:
    """A kept database is re-ranked when the app would re-rank it (an item
    without a rank, or a changed pack), so the app under test does not."""
    from triage.intel import ranking
    from triage.store.db import open_database

    db = open_database(path)
    if not ranking.is_current(db):
        run = ranking.refresh(db)
        print(f"re-ranked {run.items:,} items in {run.seconds:.1f} s", flush=True)
    db.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU time of this process so far (every thread, user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def core(path: Path, spawned: float) -> dict:
    """The core's side, in a fresh process (spawned at ``spawned``, epoch s)."""
    from triage.intel import ranking
    from triage.meetings import operations as meetings
    from triage.store.db import open_database
    from triage.users.accounts import sign_in

    results: dict = {}
    db = open_database(path)
    with db.sessions() as session:
        ranking.rows(session, ranking.queue_ids(session, limit=FIRST_PAGE)[:PAGE])
    results["launch_s"] = time.time() - spawned
    results["launch_cpu_s"] = cpu_s()
    t = time.perf_counter()
    with db.sessions() as session:
        ranking.rows(session, ranking.queue_ids(session, limit=FIRST_PAGE, **FILTER)[:PAGE])
    results["filter_s"] = time.perf_counter() - t
    actor = sign_in(db, None, None)
    meeting_id = meetings.start_meeting(
        db, region="LSE", team="London South", held_on=HELD_ON, capacity=DECISIONS, actor=actor
    )
    with db.sessions() as session:
        rows = meetings.agenda(session, meeting_id)[:DECISIONS]
    timings = []
    for row in rows:
        t = time.perf_counter()
        meetings.decide(
            db, meeting_id=meeting_id, item_id=row.item_id, decision="not_discussed", actor=actor
        )
        timings.append(time.perf_counter() - t)
    results["stored_p95_s"] = p95(timings)
    results["peak_mb"] = rss_mb()
    db.close()
    return results


def app(path: Path, spawned: float) -> dict:
    """The app's side, in a fresh process (spawned at ``spawned``, epoch s)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from triage.meetings import operations as meetings
    from triage.store.db import open_database
    from triage.users.accounts import sign_in
    from ui import identity, theme
    from ui.main_window import MainWindow
    from ui.queue_model import FIRST_PAGE as APP_FIRST_PAGE
    from ui.queue_model import PAGE as APP_PAGE

    assert (APP_FIRST_PAGE, APP_PAGE) == (FIRST_PAGE, PAGE), "the core reads what the app reads"

    def wait(signal) -> None:  # in an event loop, as in use (a polling loop starves threads)
        loop = QEventLoop()
        signal.connect(loop.quit)
        loop.exec()
        signal.disconnect(loop.quit)

    def settle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def quiet(seconds: float = 0.3) -> None:
        """Until no background job has run for ``seconds``: a job's result can
        start the next read (the first page, then the whole queue's ids), and
        between the two the pools are idle for a moment; a single idle check
        there let the filter and the keystrokes run beside the million-id read."""
        since = time.perf_counter()
        while True:
            settle(20)
            if not window.tasks.idle():
                since = time.perf_counter()
            elif time.perf_counter() - since >= seconds:
                return

    results: dict = {}
    qt = QApplication([])
    theme.apply(qt)
    db = open_database(path)
    identity.sign_in(sign_in(db, None, None))  # the database's one user
    window = MainWindow(db)
    window.show()
    view = window.page("intel")
    if view.model.rowCount() == 0:
        wait(view.model.first_page_ready)
    qt.processEvents()  # painted
    results["launch_s"] = time.time() - spawned
    results["launch_cpu_s"] = cpu_s()
    quiet()  # the whole id list, the ranking check, the counts
    results["queue_rows"] = view.model.rowCount()

    t = time.perf_counter()
    view.set_filters(FILTER)
    wait(view.model.first_page_ready)
    qt.processEvents()
    results["filter_s"] = time.perf_counter() - t
    quiet()

    meetings_view = window.show_page("meetings")
    mode = meetings_view.mode
    meetings_view.start(region="LSE", team="London North", held_on=HELD_ON, capacity=DECISIONS)
    wait(meetings_view.started)
    quiet()
    stored_at: list[float] = []
    core_decide = meetings.decide

    def decide_and_note(*args, **kwargs):
        step = core_decide(*args, **kwargs)
        stored_at.append(time.perf_counter())
        return step

    meetings.decide = decide_and_note
    timings = []
    for _ in range(DECISIONS):
        if mode.current_row() is None or mode.current_row().decision is not None:
            break
        loop = QEventLoop()
        mode.changed.connect(loop.quit)
        pressed = time.perf_counter()
        QTest.keyClick(mode, Qt.Key.Key_N)
        loop.exec()
        mode.changed.disconnect(loop.quit)
        timings.append(stored_at[-1] - pressed)
    meetings.decide = core_decide
    results["stored_p95_s"] = p95(timings)
    results["decisions"] = len(timings)
    results["peak_mb"] = rss_mb()
    window.tasks.wait()
    window.close()
    return results


def run(flag: str, path: Path) -> dict:
    """``flag``'s side in a fresh process; its figures."""
    spawned = time.time()
    out = subprocess.run(
        [sys.executable, __file__, flag, str(path), "--spawned", repr(spawned)],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        sys.exit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build (or reuse) the database at this path")
    parser.add_argument("--app", help=argparse.SUPPRESS)
    parser.add_argument("--core", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app:
        print(json.dumps(app(Path(args.app), args.spawned)))
        return
    if args.core:
        print(json.dumps(core(Path(args.core), args.spawned)))
        return
    folder = tempfile.mkdtemp(prefix="bench-ui-")
    os.environ["TRIAGE_HOME"] = folder
    path = Path(args.keep) if args.keep else Path(folder) / "bench.sqlite"
    if not path.exists():
        build(path, args.items)
    else:
        rank_today(path)
    # Both sides start a meeting and decide: on a copy, so a kept database
    # can be measured again (an item decided today cannot be decided again).
    scratch = Path(folder) / "run.sqlite"
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", f"{scratch}{suffix}")
    load_before = os.getloadavg()[0]
    core_figures = run("--core", scratch)
    app_figures = run("--app", scratch)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    print(
        f"{app_figures['queue_rows']:,} items in the open queue; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(f"{'measure':<40}{'app':>10}{'core':>10}{'ratio':>8}{'target':>9}  met")
    for key, label in (
        ("launch_s", "launch to a populated queue"),
        ("launch_cpu_s", "  ... its CPU time (every thread)"),
        ("filter_s", "filter change to its first page"),
        ("stored_p95_s", f"keystroke to stored, p95 of {app_figures['decisions']}"),
        ("peak_mb", "peak memory (RSS, MB)"),
    ):
        mine, floor = app_figures[key], core_figures[key]
        target = TARGETS.get(key)
        scale, unit = (1, "MB") if key == "peak_mb" else (1000, "ms")
        met = "" if target is None else ("yes" if mine < target else "NO")
        goal = "" if target is None else f"{target * scale:g}{unit}"
        print(
            f"{label:<40}{mine * scale:>8.0f}{unit:>2}{floor * scale:>8.0f}{unit:>2}"
            f"{mine / floor:>8.1f}{goal:>9}  {met}"
        )


if __name__ == "__main__":
    main()
