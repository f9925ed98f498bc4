"""Benchmark: a team deciding one meeting's agenda at once while an import runs (issue 18.3).

Ten processes (``--processes``) each decide 1,000 agenda items
(``--items``) of one open meeting through ``meetings.operations.decide``,
while another process imports an extract of ``--import-rows`` new items.
Every item is wanted by two processes (one walks its list forwards, the
other backwards), so half the attempts must be refused ("already decided by
NAME at TIME"). Run on a throwaway PostgreSQL server (tests/pg_server.py;
or ``--url`` for one of your own, whose database is emptied of nothing: give
a new one) and, for the same load, on a SQLite file.

    .venv/bin/python benchmarks/team_store.py [--processes 10] [--items 1000]

Per backend it prints decisions made, refused, lost (a decision its maker
was told was stored, but which is not: must be 0), duplicated (an item
decided twice: must be 0), throughput, p50/p95/max decision latency, and
the import's rows and time. The last lines put PostgreSQL's figures beside
SQLite's. The meeting and agenda are written directly (the setup, not
measured); ``benchmarks/rerank_blocking.py`` measures decisions beside a
re-rank.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from triage import clock
from triage.store.db import open_database
from triage.store.models import IntelItem, TaskingMeeting, TaskingOutcome

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

HEADER = (
    "intel_id,received_at,region,team,source_type,grading,subject_named,subject_ref,"
    "nationality,whereabouts,postcode,business_name,sector,persons_estimated,allegation,"
    "harm_flags,campaign,bucket,summary"
)


def set_up(location: str, processes: int, per_process: int) -> tuple[int, list[int]]:
    """An open meeting whose agenda holds ``processes * per_process / 2`` items."""
    db = open_database(location)
    count = processes * per_process // 2
    now = clock.now()
    with db.transaction() as session:
        session.execute(
            insert(IntelItem),
            [
                {"intel_id": f"T-{n:06d}", "received_at": now - timedelta(days=3),
                 "region": "LSE", "team": "London North", "status": "open",
                 "carry_over_count": 0, "created_at": now, "updated_at": now,
                 "summary": f"item {n}"}
                for n in range(count)
            ],
        )  # fmt: skip
        ids = list(session.scalars(select(IntelItem.id).order_by(IntelItem.id)))
        meeting_id = open_meeting(session, ids, now)
    db.close()
    return meeting_id, ids


def open_meeting(session: Any, ids: list[int], now: Any) -> int:
    """An open LSE / London North meeting with ``ids`` as its agenda, all
    within its capacity (the deciders' shared work)."""
    from triage.meetings.models import MeetingAgendaItem

    meeting = TaskingMeeting(region="LSE", team="London North", held_on=date(2026, 11, 20),
                             status="open", opened_at=now, capacity=len(ids))  # fmt: skip
    session.add(meeting)
    session.flush()
    session.execute(
        insert(MeetingAgendaItem),
        [{"meeting_id": meeting.id, "item_id": item, "position": n, "fits": True,
          "stale": False} for n, item in enumerate(ids, 1)],
    )  # fmt: skip
    return int(meeting.id)


def decider(args: tuple[str, int, int, list[int]]) -> dict[str, Any]:
    """One team member deciding ``items`` in order; every call timed."""
    from triage.meetings.operations import AlreadyDecided, decide
    from triage.users import ALL_ROLES, Actor

    location, meeting_id, number, items = args
    db = open_database(location)
    actor = Actor(f"member{number}", ALL_ROLES)
    made, refused, latencies = [], 0, []
    began = time.time()  # wall clock: comparable across processes
    for item in items:
        started = time.perf_counter()
        try:
            decide(db, meeting_id=meeting_id, item_id=item, decision="accepted", actor=actor,
                   seen=None)  # fmt: skip
            made.append(item)
        except AlreadyDecided:
            refused += 1
        latencies.append(time.perf_counter() - started)
    ended = time.time()
    db.close()
    return {"who": actor.name, "made": made, "refused": refused, "latencies": latencies,
            "began": began, "ended": ended}  # fmt: skip


def importer(args: tuple[str, str]) -> tuple[int, float]:
    from triage.imports.importer import import_file
    from triage.users import ALL_ROLES, Actor

    location, path = args
    db = open_database(location)
    started = time.perf_counter()
    result = import_file(db, "intel", path, actor=Actor("loader", ALL_ROLES))
    took = time.perf_counter() - started
    db.close()
    return result.inserted, took


def extract(folder: Path, rows: int) -> str:
    path = folder / "import.csv"
    lines = [HEADER] + [
        f"IMP-{n:07d},2026-11-01T10:00:00,LSE,London North,public,2b p,Yes,S{n},alb,known,"
        f"sw1a1aa,Cafe {n},Catering,3,illegal_working,weapon,,4,imported item {n}"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def run(location: str, folder: Path, processes: int, per_process: int, rows: int) -> dict[str, Any]:
    meeting_id, ids = set_up(location, processes, per_process)
    work = []
    for number in range(processes):
        share = ids[(number // 2) * per_process : (number // 2 + 1) * per_process]
        work.append((location, meeting_id, number, share if number % 2 == 0 else share[::-1]))
    csv_path = extract(folder, rows)
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes + 1) as pool:
        loading = pool.apply_async(importer, ((location, csv_path),))
        results = pool.map(decider, work)
        imported, import_took = loading.get()
    # From the first decision to the last (process start-up left out).
    decisions_took = max(r["ended"] for r in results) - min(r["began"] for r in results)
    db = open_database(location)
    with db.sessions() as session:
        stored = dict(
            session.execute(
                select(TaskingOutcome.item_id, TaskingOutcome.decided_by).where(
                    TaskingOutcome.meeting_id == meeting_id
                )
            ).all()
        )
        rows_per_item = session.execute(
            select(func.count())
            .select_from(TaskingOutcome)
            .where(TaskingOutcome.meeting_id == meeting_id)
        ).scalar_one()
        landed = session.scalar(
            select(func.count()).select_from(IntelItem).where(IntelItem.intel_id.like("IMP-%"))
        )
    db.close()
    claimed = [(item, r["who"]) for r in results for item in r["made"]]
    lost = sum(1 for item, who in claimed if stored.get(item) != who)
    won_twice = len(claimed) - len({item for item, _who in claimed})
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "made": len(claimed),
        "refused": sum(r["refused"] for r in results),
        "lost": lost,
        "duplicated": won_twice + (rows_per_item - len(stored)),
        "decided_items": len(stored),
        "items": len(ids),
        "seconds": decisions_took,
        "throughput": len(latencies) / decisions_took,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
        "imported": imported,
        "import_landed": landed,
        "import_s": import_took,
    }


def show(name: str, figures: dict[str, Any]) -> None:
    print(
        f"{name}: {figures['made']:,} decisions made, {figures['refused']:,} refused as already "
        f"decided, lost {figures['lost']}, duplicated {figures['duplicated']} "
        f"({figures['decided_items']:,} of {figures['items']:,} items decided); "
        f"{figures['throughput']:,.0f} decide calls/s over {figures['seconds']:.1f} s; "
        f"latency p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
        f"max {figures['max_ms']:.0f} ms; import {figures['import_landed']:,} of "
        f"{figures['imported']:,} rows landed in {figures['import_s']:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--items", type=int, default=1000, help="decisions each process tries")
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway server)")
    args = parser.parse_args()
    load = (args.processes, args.items, args.import_rows)
    with tempfile.TemporaryDirectory() as folder:
        lite = Path(folder) / "sqlite"
        lite.mkdir()
        sqlite = run(str(lite / "team.sqlite"), lite, *load)
        show("sqlite", sqlite)
        server = None
        url = args.url
        if url is None:
            import pg_server

            server = pg_server.start()
            server.psql("CREATE DATABASE team")
            url = server.url("team")
        try:
            pg = Path(folder) / "pg"
            pg.mkdir()
            postgres = run(url, pg, *load)
            show("postgresql", postgres)
        finally:
            if server is not None:
                server.stop()
    print(f"load: {args.processes} processes x {args.items} decisions, one import of "
          f"{args.import_rows:,} rows at the same time")  # fmt: skip
    for key, label in (("lost", "lost"), ("duplicated", "duplicated"), ("p95_ms", "p95 ms"),
                       ("throughput", "decide calls/s")):  # fmt: skip
        print(f"{label}: postgresql {postgres[key]:,.1f}, sqlite {sqlite[key]:,.1f}")


if __name__ == "__main__":
    main()
