"""Benchmark: rank 1,000,000 intelligence items and print the top 100.

    .venv/bin/python benchmarks/bench_rank.py [--items 1000000] [--keep DB]

Builds a temporary database of synthetic items (one INSERT ... SELECT over a
recursive sequence, so building is quick), then, in the same run:

1. the floor: a fresh ``python`` process doing a plain ``sqlite3`` full scan
   ``ORDER BY ... LIMIT 100`` over the same rows;
2. Triage: a fresh process that runs ``ranking.refresh`` (every rule over
   every item, written to ``intel_rank``) and prints the top 100 of the queue;
3. one item's explanation (``ranking.explain``), timed in-process.

It prints each time and the ratio to the floor (target: at most 5x, and an
explanation under 20 ms).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2026-11-20T09:00:00"


def _pick(values: list[str | None]) -> str:
    """SQL choosing one of ``values`` at random (None -> NULL)."""
    cases = " ".join(
        f"WHEN {n} THEN {'NULL' if v is None else repr(v)}" for n, v in enumerate(values)
    )
    return f"(CASE abs(random()) % {len(values)} {cases} END)"


def build(path: Path, items: int) -> None:
    """A database at ``path`` holding ``items`` synthetic intelligence items.

    Region and receipt time are derived from the row number, because SQLite
    re-evaluates ``random()`` at every use of a flattened subquery column.
    """
    from triage.db import open_database

    open_database(path).close()  # schema at head
    regions = ["LSE"] * 6 + ["NMWSW"] * 3 + ["SNI"]
    sectors = [
        "construction",
        "care",
        "catering",
        "agriculture",
        "car_wash",
        "nail_bar",
        "retail",
        "hospitality",
        None,
        None,
        None,
        None,
    ]
    allegations = (
        ["illegal_working"] * 3
        + ["overstayer"] * 3
        + [
            "clandestine_entry",
            "sham_marriage",
            "document_fraud",
            "fno",
            "modern_slavery",
            "other",
            None,
            None,
        ]
    )
    flags = [None] * 12 + [
        ";weapon;",
        ";fno;",
        ";violence;",
        ";exploitation;",
        ";child_at_risk;",
        ";vulnerable_adult;",
        ";drugs;organised_crime;",
    ]
    campaigns = [None] * 30 + ["NAT-CARE", "LOC-LSE-CARWASH"]
    nationalities = ["ALB", "IND", "PAK", "BGD", "NGA", "CHN", "VNM", "ERI", "IRN", "XXX", None]
    sql = f"""
    WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {items})
    INSERT INTO intel_item (intel_id, received_at, passed_at, region, team, grade_source,
        grade_intel, subject_named, subject_ref, nationality, whereabouts, postcode,
        business_name, sector, persons_estimated, allegation, harm_flags, campaign, status,
        carry_over_count, created_at, updated_at)
    SELECT 'B' || x, r, CASE WHEN x % 3 = 0 THEN NULL ELSE
             strftime('%Y-%m-%d %H:%M:%S.000000', r, '+' || (abs(random()) % 96) || ' hours') END,
           g, NULL, 1 + abs(random()) % 3, {_pick(list("ABCDE") + [None])},
           abs(random()) % 3 = 0, CASE WHEN x % 4 = 0 THEN 'P' || (abs(random()) % 200000) END,
           {_pick(nationalities)}, {_pick(["known", "last_known", "unknown", None])},
           CASE WHEN x % 2 = 0 THEN 'E1 ' || (abs(random()) % 9000) END,
           CASE WHEN x % 3 = 0 THEN 'Business ' || (abs(random()) % 50000) END,
           {_pick(sectors)}, CASE WHEN x % 5 = 0 THEN abs(random()) % 20 END,
           {_pick(allegations)}, {_pick(flags)}, {_pick(campaigns)}, 'open', 0, r, r
    FROM (SELECT x, {_pick(regions).replace("abs(random())", "(x * 7)")} AS g,
                 strftime('%Y-%m-%d %H:%M:%S.000000', '{AS_OF}',
                          '-' || ((x * 2654435761) % 34560000) || ' seconds') AS r
          FROM seq)
    """
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(sql)
        connection.execute(
            "UPDATE intel_item SET team = CASE region "
            "WHEN 'LSE' THEN (CASE id % 4 WHEN 0 THEN 'London North' WHEN 1 THEN 'London South' "
            "WHEN 2 THEN 'Kent and Sussex' ELSE 'Thames Valley' END) "
            "WHEN 'NMWSW' THEN (CASE id % 4 WHEN 0 THEN 'North West' WHEN 1 THEN 'Midlands' "
            "WHEN 2 THEN 'North East and Yorkshire' ELSE 'Wales and South West' END) "
            "ELSE (CASE id % 2 WHEN 0 THEN 'Scotland' ELSE 'Northern Ireland' END) END"
        )
    connection.close()


FLOOR = """
import sqlite3, sys, time
start = time.perf_counter()
connection = sqlite3.connect(sys.argv[1])
rows = connection.execute(
    "SELECT id, intel_id, region, upstream_bucket, received_at FROM intel_item "
    "ORDER BY coalesce(upstream_bucket, 6), received_at DESC LIMIT 100").fetchall()
print(len(rows), time.perf_counter() - start)
"""

TRIAGE = """
import sys, time
start = time.perf_counter()
from datetime import datetime
from triage import ranking
from triage.db import open_database
db = open_database(sys.argv[1])
run = ranking.refresh(db, as_of=datetime.fromisoformat(sys.argv[2]))
with db.transaction() as session:
    top = ranking.rows(session, ranking.queue_ids(session, limit=100))
for row in top[:3]:
    print(row["rank"], row["intel_id"], row["bucket"], round(row["score"], 3), row["flags"])
print(len(top), run.items, run.seconds, time.perf_counter() - start)
"""


def timed(code: str, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build (or reuse) the database at this path")
    args = parser.parse_args()
    os.environ.setdefault("TRIAGE_HOME", tempfile.mkdtemp(prefix="bench-home-"))
    folder = tempfile.TemporaryDirectory(prefix="bench-rank-")
    path = Path(args.keep) if args.keep else Path(folder.name) / "bench.sqlite"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.items)
        print(f"built {args.items:,} items in {time.perf_counter() - start:.1f} s")
    # Warm the page cache for both alike: the floor runs first and last.
    timed(FLOOR, str(path))
    floor, out = timed(FLOOR, str(path))
    print(f"floor (fresh process, sqlite3 ORDER BY ... LIMIT 100): {floor:.3f} s")
    triage, out = timed(TRIAGE, str(path), AS_OF)
    *head, last = out.strip().splitlines()
    print("\n".join(head))
    shown, items, refresh_s, inside = last.split()
    print(
        f"triage (fresh process, refresh {int(items):,} items + top {shown}): {triage:.3f} s "
        f"(refresh {float(refresh_s):.3f} s)"
    )
    print(f"ratio to floor: {triage / floor:.1f}x (target <= 5x)")

    from triage import ranking
    from triage.db import open_database

    db = open_database(path)
    with db.transaction() as session:
        item_id = ranking.queue_ids(session, limit=1)[0]
    ranking.explain(db, item_id)  # first call loads the pack
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        ranking.explain(db, item_id)
        runs.append(time.perf_counter() - start)
    print(f"explain one item: median {sorted(runs)[10] * 1000:.1f} ms (target < 20 ms)")
    db.close()


if __name__ == "__main__":
    main()
