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

A peer, "what a user would pick instead": DuckDB's ``read_csv`` loading the
same file into a table (types detected, no validation), wall and CPU time.
The importer's CPU time is measured too (with that of the process it forks
to read a large file), and the time until the WAL is
checkpointed after the import (the importer leaves that to a thread after
its commit).

``--kinds`` instead imports the four canonical extracts of the demo
generator (EM cases, EM events, intelligence, outcomes) at ``--rows``
intelligence items and ``--em`` EM cases (a tenth of ``--rows`` unless
given), each against its own floor (the same file through ``csv.reader`` +
``executemany`` into a bare table). At the default sizes the EM cases are
20,000 rows, an import of about a second whose fixed costs (the first
import's module and mapper set-up in the fresh process) weigh; ``--em
200000`` measures them at a size a user waits for.
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


def floor(path: Path, folder: Path, indexes: tuple[str, ...] = ()) -> tuple[float, float]:
    """A CSV through csv.reader + executemany into a bare table named after its
    header (no constraints), then ``indexes`` built: (wall, CPU) seconds."""
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    target = folder / f"floor-{path.stem}-{len(indexes)}.sqlite"
    connection = sqlite3.connect(target)
    connection.execute("PRAGMA journal_mode=WAL")
    columns = ", ".join(f'"{name}"' for name in header)
    connection.execute(f"CREATE TABLE bare ({columns})")
    started, cpu = time.perf_counter(), time.process_time()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        with connection:
            connection.executemany(
                f"INSERT INTO bare VALUES ({', '.join('?' * len(header))})", reader
            )
            for statement in indexes:
                connection.execute(statement)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return elapsed, cpu


def duckdb_peer(path: Path, folder: Path) -> tuple[float, float]:
    """DuckDB's read_csv into a table of a fresh database: (wall, CPU) seconds.
    DuckDB uses every core, so its CPU time can exceed its wall time."""
    import duckdb

    connection = duckdb.connect(str(folder / "peer.duckdb"))
    wall, cpu = time.perf_counter(), time.process_time()  # all of DuckDB's threads
    connection.execute(f"CREATE TABLE items AS SELECT * FROM read_csv('{path}')")
    connection.close()
    return time.perf_counter() - wall, time.process_time() - cpu


def importer_child(path: str, db_path: str, kinds: str) -> None:
    """Runs in a fresh process so its peak memory is its own."""
    import threading

    from triage.imports.importer import import_file
    from triage.store.db import open_database

    def children_cpu() -> float:  # the reading processes the importer forked
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    db = open_database(db_path)
    for label, kind, file in _plan(path, kinds):
        started, cpu, reader_cpu = time.perf_counter(), time.process_time(), children_cpu()
        result = import_file(db, kind, file, actor=EVERYONE)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        reader_cpu = children_cpu() - reader_cpu
        cpu += reader_cpu
        for thread in threading.enumerate():
            if thread.name == "checkpoint":
                thread.join()
        settled = time.perf_counter() - started
        print(
            f"{label} {elapsed:.3f} {cpu:.3f} {settled:.3f} "
            f"{result.inserted} {result.updated} {result.unchanged} {result.quarantined} "
            f"{reader_cpu:.3f}"
        )
    peak_kb = _own_peak_kb()
    reader_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak {peak_kb} {reader_kb}")


def _own_peak_kb() -> int:
    """This process's own peak resident size: VmHWM on Linux. Its ru_maxrss
    would carry over the exec the peak of the process that started it (the
    benchmark's, holding the demo generator's data: 735 MB at 200,000 EM
    cases, reported as the importer's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


KIND_FILES = {
    "em-cases": "em_cases.csv",
    "em-events": "em_events.csv",
    "intel": "intel_items.csv",
    "outcomes": "outcomes.csv",
}


def _plan(path: str, kinds: str) -> list[tuple[str, str, str]]:
    if kinds == "intel":
        return [("import", "intel", path), ("re-import", "intel", path)]
    return [(kind, kind, str(Path(path) / name)) for kind, name in KIND_FILES.items()]


def run_child(source: Path, folder: Path, kinds: str) -> list[str]:
    env = dict(os.environ, TRIAGE_HOME=str(folder / "home"))
    return subprocess.run(
        [sys.executable, __file__, "--child", str(source), str(folder / "triage.sqlite"), kinds],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.strip().split("\n")  # fmt: skip


def _rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def main_kinds(rows: int, em: int | None = None) -> None:
    from triage.demo.generator import write_demo_files

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        files = folder / "extracts"
        write_demo_files(files, intel=rows, em=em or max(1, rows // 10))
        floors = {kind: floor(files / name, folder) for kind, name in KIND_FILES.items()}
        counts = {
            kind: sum(1 for _ in open(files / name, "rb")) - 1 for kind, name in KIND_FILES.items()
        }
        output = run_child(files, folder, "all")
    print(f"demo extracts at {rows:,} intelligence items, {em or max(1, rows // 10):,} EM cases")
    ratios = []
    for line in output[:-1]:
        kind, wall, cpu, settled, inserted, _updated, _unchanged, quarantined, reader = line.split()
        (floor_s, floor_cpu), import_s = floors[kind], float(wall)
        # As for one kind: on a shared machine the busier process's CPU
        # against the floor's says what a core for each would give.
        busier = max(float(cpu) - float(reader), float(reader))
        ratios.append((kind, floor_s / import_s, floor_cpu / busier))
        print(
            f"{kind:10s} {counts[kind]:>9,} rows  floor {floor_s:6.2f} s (CPU {floor_cpu:.2f} s)  "
            f"import {import_s:7.2f} s (CPU {float(cpu):.2f} s, reading process "
            f"{float(reader):.2f} s, checkpointed {float(settled):.2f} s)  "
            f"{int(inserted):,} inserted, {int(quarantined):,} quarantined"
        )
    print(_peaks(output[-1]))
    for kind, _, cpu_ratio in ratios:
        print(f"ratio floor CPU/importer's busier process CPU {kind}: {cpu_ratio:.2f}")
    for kind, ratio, _ in ratios:
        print(f"ratio importer/floor {kind}: {ratio:.2f} (target >= 0.40)")


def _peaks(line: str) -> str:
    """The importer's peak memory, and its reading process's (a fork: the
    pages it shares with the importer count in both)."""
    _, importer_kb, reader_kb = line.split()
    return (
        f"importer peak memory: {int(importer_kb) / 1024:.0f} MB, "
        f"its reading process {int(reader_kb) / 1024:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--kinds", action="store_true", help="all four kinds from the demo generator"
    )
    parser.add_argument("--em", type=int, help="EM cases for --kinds (default: a tenth of --rows)")
    parser.add_argument("--no-peer", action="store_true", help="leave DuckDB out")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        importer_child(*args.child)
        return
    if args.kinds:
        main_kinds(args.rows, args.em)
        return
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        source = folder / "intel.csv"
        write_csv(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        floor_s, floor_cpu = floor(source, folder)
        indexed_s, _ = floor(source, folder, SCHEMA_INDEXES)
        peer = None if args.no_peer else duckdb_peer(source, folder)
        output = run_child(source, folder, "intel")
    first, again = output[0].split(), output[1].split()
    import_s, import_cpu, settled_s, reimport_s = (
        float(first[1]), float(first[2]), float(first[3]), float(again[1])
    )  # fmt: skip
    reader_cpu = float(first[8])
    writer_cpu = import_cpu - reader_cpu
    n = args.rows

    def line(label: str, seconds: float, cpu: float | None = None) -> None:
        used = "" if cpu is None else f" (CPU {cpu:.2f} s)"
        print(f"{label:42s} {seconds:7.2f} s {n / seconds:10,.0f} rows/s{used}")

    print(f"rows: {n:,} ({size_mb:.0f} MB CSV)")
    line("floor: csv.reader + sqlite3 executemany", floor_s)
    line("indexed floor: + the schema's 5 indexes", indexed_s)
    if peer:
        line("peer: DuckDB read_csv into a table", *peer)
    line("floor's CPU", floor_cpu)
    line("triage import (validate + upsert)", import_s, import_cpu)
    print(f"{'... its own process (writer)':42s} {writer_cpu:7.2f} s CPU, "
          f"its reading process {reader_cpu:.2f} s CPU")  # fmt: skip
    line("... until its WAL is checkpointed", settled_s)
    line("re-import, all rows unchanged", reimport_s)
    print(_peaks(output[2]) + " (target < 500 MB)")
    if peer:
        cpu_ratio = peer[1] / import_cpu
        print(f"ratio importer/DuckDB read_csv: {peer[0] / import_s:.2f} (CPU {cpu_ratio:.2f})")
    print(f"ratio importer/indexed floor: {indexed_s / import_s:.2f}")
    # On a loaded machine the two processes rarely get a core each: the
    # busier one's CPU against the floor's says what two free cores give.
    busier = max(writer_cpu, reader_cpu)
    print(f"ratio floor CPU/importer's busier process CPU: {floor_cpu / busier:.2f}")
    print(f"ratio importer/floor: {floor_s / import_s:.2f} (target >= 0.40)")


if __name__ == "__main__":
    main()
