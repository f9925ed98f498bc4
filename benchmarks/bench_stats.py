"""Benchmark: outcome statistics and the XLSX export over 1,000,000 items.

Builds a temporary database (Core executemany) with N items spread over two
years and three regions, their ranking rows and about 1.2 decisions each,
then times:

* the floor: one plain ``sqlite3`` GROUP BY over the items joined to their
  decisions (no latest-decision logic, no local dates) - the least any
  statistics query over these rows can cost on this machine;
* ``triage.stats.tasking.compute`` + every tasking and feedback table;
* the XLSX export of all of them.

Targets (issue 5 §8): statistics < 2 s, XLSX < 10 s at 1,000,000 items.

    .venv/bin/python benchmarks/bench_stats.py [--items 1000000] [--db PATH] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from triage.intel.models import IntelRank
from triage.store.db import open_database
from triage.store.models import IntelItem, TaskingOutcome

REGIONS = {
    "LSE": ["London North", "London South", "Kent and Sussex", "Thames Valley"],
    "NMWSW": ["North West", "North East and Yorkshire", "Midlands", "Wales and South West"],
    "SNI": ["Scotland", "Northern Ireland"],
}
REASONS = ["insufficient_detail", "stale", "out_of_area", "no_capacity", "not_workable"]
RESULTS = ["arrest", "removal", "no_trace", "encountered_no_action", "referral", None]
START = datetime(2024, 11, 1)
CHUNK = 50_000


def build(path: Path, n: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    db = open_database(path)
    now = datetime(2026, 11, 20)
    codes = list(REGIONS)
    outcome_id = 0
    for first in range(1, n + 1, CHUNK):
        items, ranks, outcomes = [], [], []
        for i in range(first, min(first + CHUNK, n + 1)):
            region = rng.choices(codes, (75, 21, 4))[0]
            received = START + timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
            bucket = rng.choices((1, 2, 3, 4, 5, 6), (1, 1, 1, 2, 30, 65))[0]
            items.append(
                {
                    "id": i,
                    "intel_id": f"B{i}",
                    "received_at": received,
                    "region": region,
                    "team": rng.choice(REGIONS[region]),
                    "upstream_bucket": bucket,
                    "status": "open",
                    "carry_over_count": rng.choice((0, 0, 0, 1, 2)),
                    "passed_at": received + timedelta(hours=rng.randrange(1, 80)),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            ranks.append(
                {
                    "item_id": i,
                    "bucket": bucket,
                    "bucket_rule": f"rule_b{bucket}",
                    "score": rng.random(),
                    "age_days": 0,
                    "stale": False,
                    "rules_version": "bench",
                    "as_of": now,
                    "ranked_at": now,
                }
            )
            meeting = received.date() + timedelta(days=rng.randrange(2, 60))
            if rng.random() < 0.2:  # an earlier meeting that did not get to it
                outcome_id += 1
                outcomes.append(_outcome(outcome_id, i, meeting, "not_discussed", rng))
                meeting += timedelta(days=7)
            if rng.random() < 0.8:
                outcome_id += 1
                decision = rng.choices(("accepted", "rejected", "not_discussed"), (4, 2, 4))[0]
                outcomes.append(_outcome(outcome_id, i, meeting, decision, rng))
        with db.transaction() as session:
            session.execute(insert(IntelItem), items)
            session.execute(insert(IntelRank), ranks)
            session.execute(insert(TaskingOutcome), outcomes)
    db.close()


def _outcome(oid: int, item: int, day: date, decision: str, rng: random.Random) -> dict:
    accepted = decision == "accepted"
    return {
        "id": oid,
        "item_id": item,
        "meeting_date": day,
        "decision": decision,
        "reason": rng.choice(REASONS) if decision == "rejected" else None,
        "decided_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
        "result": rng.choice(RESULTS) if accepted else None,
        "result_at": day + timedelta(days=30) if accepted else None,
    }


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``. SQLite runs in this process, so CPU time
    is the work done, whatever else the machine is running."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def floor_query(path: Path) -> None:
    """The plain sqlite3 floor: one GROUP BY over items and their decisions."""
    connection = sqlite3.connect(path)
    connection.execute(
        "SELECT i.region, o.decision, count(*) FROM intel_item i "
        "LEFT JOIN tasking_outcome o ON o.item_id = i.id GROUP BY 1, 2"
    ).fetchall()
    connection.close()


def duckdb_floor(path: Path) -> tuple[float, float] | None:
    """The floor's GROUP BY on DuckDB over a copy of the same rows (copied
    once, not timed): what a user would pick instead for the same counts."""
    try:
        import duckdb
    except ImportError:
        return None
    import pandas as pd

    target = path.with_suffix(".duckdb")
    if not target.exists():
        source = sqlite3.connect(path)
        items = pd.read_sql_query("SELECT id, region FROM intel_item", source)
        outcomes = pd.read_sql_query("SELECT item_id, decision FROM tasking_outcome", source)
        source.close()
        copy = duckdb.connect(str(target))
        copy.register("items", items)
        copy.register("outcomes", outcomes)
        copy.execute("CREATE TABLE intel_item AS SELECT * FROM items")
        copy.execute("CREATE TABLE tasking_outcome AS SELECT * FROM outcomes")
        copy.close()

    def query() -> None:
        connection = duckdb.connect(str(target), read_only=True)
        connection.execute(
            "SELECT i.region, o.decision, count(*) FROM intel_item i "
            "LEFT JOIN tasking_outcome o ON o.item_id = i.id GROUP BY 1, 2"
        ).fetchall()
        connection.close()

    return min(timed(query) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or build once at) this database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    os.environ.setdefault("TRIAGE_NOW", "2026-11-20T09:00:00")
    os.environ.setdefault("TRIAGE_HOME", tempfile.mkdtemp(prefix="triage-bench-home-"))

    from triage.stats import exports, feedback, tasking
    from triage.stats.period import Period

    folder = Path(tempfile.mkdtemp(prefix="triage-bench-stats-"))
    path = args.db or folder / "bench.sqlite"
    if not path.exists():
        started = time.perf_counter()
        build(path, args.items)
        print(f"built {args.items:,} items in {time.perf_counter() - started:.1f} s at {path}")
    db = open_database(path)
    floor = min(timed(lambda: floor_query(path)) for _ in range(3))
    period = Period.resolve(as_of=date(2026, 11, 20))
    tables = []

    def statistics_run() -> None:
        stats = tasking.compute(db, period)
        tables[:] = tasking.tables(stats) + feedback.tables(db, stats)

    statistics = min(timed(statistics_run) for _ in range(3))
    out = folder / "stats.xlsx"
    xlsx = timed(lambda: exports.write_xlsx(tables, out, period=period))
    print(
        f"items: {args.items:,}; outcome rows: "
        f"{db.engine.connect().exec_driver_sql('SELECT count(*) FROM tasking_outcome').scalar():,}"
    )
    duck = duckdb_floor(path)
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"XLSX export: wall {xlsx[0]:.3f} s, CPU {xlsx[1]:.3f} s "
        f"({out.stat().st_size:,} bytes; target < 10 s)"
    )
    if duck:
        print(
            f"DuckDB peer (the floor's GROUP BY on a DuckDB copy): wall {duck[0]:.3f} s "
            f"({duck[0] / floor[0]:.1f}x the floor), CPU {duck[1]:.3f} s "
            f"({duck[1] / floor[1]:.1f}x the floor)"
        )
    print(f"floor (plain sqlite3 GROUP BY join): wall {floor[0]:.3f} s, CPU {floor[1]:.3f} s")
    print(
        f"statistics (cube + {len(tables)} tables, best of 3): wall {statistics[0]:.3f} s "
        f"({statistics[0] / floor[0]:.1f}x the floor), CPU {statistics[1]:.3f} s "
        f"({statistics[1] / floor[1]:.1f}x the floor); target <= 3x the floor"
    )
    db.close()
    if not args.keep and args.db is None:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
