"""Import throughput against a floor measured in the same run.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000]

Writes N canonical intelligence rows to a CSV, imports them through the real
importer (validation, upsert, batch, audit) into a fresh database, then loads
the same file with ``csv.reader`` + plain ``sqlite3`` ``executemany`` into a
bare table: the floor no importer can beat. Prints rows/s for both, the
ratio (target >= 0.4) and the importer's peak memory (target < 1 GB), then a
re-import of the same file (all rows unchanged).

A second baseline, "indexed floor", is the same plain load followed by
building the indexes the product's schema keeps on the item table (the
unique id and the five the queue, explanations and statistics read), on the
file's raw text columns: what SQLite alone needs for those indexes, with no
validation at all.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from triage.users import ALL_ROLES, Actor

EVERYONE = Actor("benchmark", ALL_ROLES)

HEADER = [
    "intel_id", "received_at", "region", "team", "source_type", "grading", "subject_named",
    "subject_ref", "nationality", "whereabouts", "postcode", "business_name", "sector",
    "persons_estimated", "allegation", "harm_flags", "campaign", "bucket", "summary",
]  # fmt: skip


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 8, 0, 0)
    regions = ["LSE", "NMWSW", "SNI"]
    sectors = ["construction", "care", "catering", "car_wash", "nail_bar", "agriculture", ""]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow([
                f"INT-{n:08d}",
                (start + timedelta(minutes=n % 400000)).isoformat(),
                regions[n % 3],
                "",
                rng.choice(["public", "police", "partner", ""]),
                rng.choice(["2B P", "1A C", "3E P", ""]),
                rng.choice(["yes", "no", ""]),
                f"S{rng.randrange(300000)}",
                rng.choice(["ALB", "IND", "PAK", ""]),
                rng.choice(["known", "last_known", "unknown", ""]),
                rng.choice(["SW1A 1AA", "M1 1AE", ""]),
                rng.choice(["", "", "Acme Ltd"]),
                rng.choice(sectors),
                str(rng.randrange(12)),
                rng.choice(["illegal_working", "overstayer", "other"]),
                rng.choice(["", "", "weapon", "fno;violence"]),
                "",
                str(rng.randint(1, 6)),
                "synthetic benchmark row",
            ])  # fmt: skip


# The item table's indexes (triage.store.models, triage.intel.models,
# triage.stats.indexes) over the raw columns they are built from.
SCHEMA_INDEXES = (
    "CREATE UNIQUE INDEX ix_id ON bare (intel_id)",
    "CREATE INDEX ix_region_team ON bare (region, team)",
    "CREATE INDEX ix_subject ON bare (subject_ref, received_at)",
    "CREATE INDEX ix_premises ON bare (postcode, business_name, received_at)",
    "CREATE INDEX ix_stats ON bare (received_at, region, team, bucket, campaign)",
)


def floor(path: Path, folder: Path, indexes: tuple[str, ...] = ()) -> float:
    target = folder / f"floor-{len(indexes)}.sqlite"
    connection = sqlite3.connect(target)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"CREATE TABLE bare ({', '.join(HEADER)})")
    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        with connection:
            connection.executemany(
                f"INSERT INTO bare VALUES ({', '.join('?' * len(HEADER))})", reader
            )
            for statement in indexes:
                connection.execute(statement)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def importer_child(path: str, db_path: str) -> None:
    """Runs in a fresh process so its peak memory is its own."""
    from triage.imports.importer import import_file
    from triage.store.db import open_database

    db = open_database(db_path)
    for label in ("import", "re-import"):
        started = time.perf_counter()
        result = import_file(db, "intel", path, actor=EVERYONE)
        elapsed = time.perf_counter() - started
        print(f"{label} {elapsed:.3f} {result.inserted} {result.updated} {result.unchanged}")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak {peak_kb}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        importer_child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        source = folder / "intel.csv"
        write_csv(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        floor_s = floor(source, folder)
        indexed_s = floor(source, folder, SCHEMA_INDEXES)
        env = dict(os.environ, TRIAGE_HOME=str(folder / "home"))
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(source), str(folder / "triage.sqlite")],
            check=True, capture_output=True, text=True, env=env,
        ).stdout.split("\n")  # fmt: skip
        first = output[0].split()
        again = output[1].split()
        peak_mb = int(output[2].split()[1]) / 1024
        import_s, reimport_s = float(first[1]), float(again[1])
    floor_rate = args.rows / floor_s
    import_rate = args.rows / import_s
    print(f"rows: {args.rows:,} ({size_mb:.0f} MB CSV)")
    print(f"floor  csv.reader + sqlite3 executemany: {floor_s:7.2f} s  {floor_rate:10,.0f} rows/s")
    print(
        f"triage import (validate + upsert):       {import_s:7.2f} s  {import_rate:10,.0f} rows/s"
    )
    print(f"ratio importer/floor: {import_rate / floor_rate:.2f} (target >= 0.40)")
    print(
        f"indexed floor (same load + the schema's 5 indexes): {indexed_s:7.2f} s  "
        f"{args.rows / indexed_s:10,.0f} rows/s; importer/indexed floor: {indexed_s / import_s:.2f}"
    )
    print(f"re-import, all unchanged: {reimport_s:.2f} s  {args.rows / reimport_s:,.0f} rows/s")
    print(f"importer peak memory: {peak_mb:.0f} MB (target < 1024 MB)")


if __name__ == "__main__":
    main()
