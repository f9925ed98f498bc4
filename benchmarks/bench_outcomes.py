"""Where the outcomes import's time goes, against its floor (issue 17.3a).

    .venv/bin/python benchmarks/bench_outcomes.py [--rows 200000] [--em 200000] [--runs 3]

Builds the demo database at ``--rows`` intelligence items and ``--em`` EM
cases (cases, events and intelligence imported as a user would), then
imports the demo's outcomes into a fresh copy of it, ``--runs`` times each,
alternately as the product does and with the rolling backup left out (the
restore point issue 16.7 takes before a large import). Each import runs in a
fresh process and prints its wall time, its CPU and how the CPU splits:

- the importing thread (the writer: every SQLite write is on it, one
  after the other), and of it the item-status refresh and the index builds;
- the rolling backup's thread (the page copy and its quick check);
- the rest: the thread that reads, validates and looks the items up.

The floor is bench_import's: the same file through ``csv.reader`` and
``executemany`` into a bare table. Last come the budget of a 0.40 ratio
(the wall time the whole import may take on free cores, and the CPU two
cores give in it: the importing thread's work is one sequence, so it must
fit in the wall time alone) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import EVERYONE, floor  # noqa: E402

GOAL = 0.40


def build(folder: Path, rows: int, em: int) -> Path:
    """The demo extracts and a database holding all but the outcomes."""
    from triage.demo.generator import write_demo_files
    from triage.imports.importer import import_file
    from triage.store.db import open_database

    extracts = folder / "extracts"
    write_demo_files(extracts, intel=rows, em=em)
    db = open_database(folder / "base.sqlite")
    for kind, name in (
        ("em-cases", "em_cases.csv"), ("em-events", "em_events.csv"), ("intel", "intel_items.csv")
    ):  # fmt: skip
        import_file(db, kind, extracts / name, actor=EVERYONE)
    with db.engine.connect() as connection:  # one file to copy, no WAL beside it
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder / "base.sqlite"


def child(base: str, outcomes: str, work: str, with_backup: bool) -> None:
    """One outcomes import into a copy of ``base``; prints its figures."""
    from triage.imports import importer
    from triage.store import db as store_db

    thread_cpu: dict[str, float] = {"backup": 0.0, "refresh": 0.0, "indexes": 0.0}

    def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                thread_cpu[label] += time.thread_time() - started

        return run

    # Looked up by name when called: the backup's copy and check run on its
    # own thread, the refresh and index builds on the importing thread.
    store_db.copy_checked = timed(store_db.copy_checked, "backup")
    importer.refresh_item_status = timed(importer.refresh_item_status, "refresh")
    importer._build_indexes = timed(importer._build_indexes, "indexes")

    target = Path(work)
    shutil.copyfile(base, target)
    db = store_db.open_database(target)
    if not with_backup:
        # Still an import that leaves the checkpoint until after its commit,
        # as one with a backup does: only the copy and its check are left out.
        db.rolling_backup_begun = lambda label: lambda: None  # type: ignore[method-assign]
    started, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    result = importer.import_file(db, "outcomes", outcomes, actor=EVERYONE)
    wall = time.perf_counter() - started
    cpu, own = time.process_time() - cpu, time.thread_time() - own
    print(
        f"{wall:.3f} {cpu:.3f} {own:.3f} {thread_cpu['refresh']:.3f} "
        f"{thread_cpu['indexes']:.3f} {thread_cpu['backup']:.3f} {result.inserted}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--em", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        base, outcomes, work, mode = args.child
        child(base, outcomes, work, mode == "backup")
        return
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        env = dict(os.environ, TRIAGE_HOME=str(folder / "home"))
        os.environ.update(env)
        base = build(folder, args.rows, args.em)
        outcomes = folder / "extracts" / "outcomes.csv"
        floors = []
        for n in range(args.runs):
            (folder / f"floor-{n}").mkdir()
            floors.append(floor(outcomes, folder / f"floor-{n}"))
        runs: dict[str, list[list[float]]] = {"backup": [], "none": []}
        for _ in range(args.runs):
            for mode in runs:
                work = folder / f"work-{mode}.sqlite"
                line = subprocess.run(
                    [sys.executable, __file__, "--child", str(base), str(outcomes),
                     str(work), mode],
                    check=True, capture_output=True, text=True, env=env,
                ).stdout.split()  # fmt: skip
                runs[mode].append([float(value) for value in line])
                for stale in folder.glob(f"work-{mode}.sqlite*"):
                    stale.unlink()
                shutil.rmtree(folder / "backups", ignore_errors=True)
        size_mb = base.stat().st_size / 1e6
    rows = int(runs["backup"][0][6])
    floor_wall = statistics.median(wall for wall, _ in floors)
    floor_cpu = statistics.median(cpu for _, cpu in floors)
    print(f"{rows:,} outcomes into {args.rows:,} items and {args.em:,} EM cases "
          f"({size_mb:.0f} MB database)")  # fmt: skip
    print(f"floor: csv.reader + executemany, median of {args.runs}: "
          f"{floor_wall:.2f} s (CPU {floor_cpu:.2f} s)")  # fmt: skip
    labels = {"backup": "as the product imports", "none": "without the rolling backup"}
    for mode, results in runs.items():
        for wall, cpu, own, refresh, indexes, backup, _ in results:
            print(
                f"{labels[mode]:27s} wall {wall:5.2f} s  CPU {cpu:5.2f} s: importing thread "
                f"{own:4.2f} (status refresh {refresh:4.2f}, index builds {indexes:4.2f}), "
                f"rolling backup {backup:4.2f}, reading {cpu - own - backup:4.2f}"
            )
    # From the floor's CPU: its wall time on a free core (on a busy machine
    # its wall time says more about the other processes).
    budget = floor_cpu / GOAL
    print(f"a ratio of {GOAL:.2f} on free cores allows {budget:.2f} s of wall time: "
          f"{2 * budget:.2f} s of CPU on two cores, {budget:.2f} s of it on the "
          "importing thread")  # fmt: skip
    for mode, results in runs.items():
        ratio = floor_wall / statistics.median(result[0] for result in results)
        print(f"ratio importer/floor {labels[mode]}: {ratio:.2f} (target >= {GOAL:.2f})")


if __name__ == "__main__":
    main()
