"""Benchmark: how long a full re-rank holds up a decision (issue 18.3: "re-ranking
never blocks a decision for more than a second").

    .venv/bin/python benchmarks/rerank_blocking.py [--items 100000] [--deciders 2]
        [--reranks 2] [--url URL]

On a SQLite file, then on a throwaway PostgreSQL server (tests/pg_server.py;
or ``--url``, an empty database of your own), each holding ``--items`` items
with the inputs the rules read, ranked once (set-up, not timed):

1. the floor: ``--deciders`` processes decide one open meeting's agenda
   items one by one (``meetings.operations.decide``), nothing else running,
   for as many decisions as ``--floor-decisions`` each;
2. the same deciders go on deciding while another process runs
   ``ranking.refresh`` (every rule over every item, the intel_rank rewrite)
   ``--reranks`` times back to back.

Per backend it prints the re-rank's seconds, the decisions made while a
re-rank ran and their p50/p95/max latency, beside the floor's; the worst
latency is the figure the issue bounds (1 s). The last line is the ratio of
the worst decision latency under a re-rank to the floor's worst, per backend.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from triage import clock
from triage.store.db import open_database
from triage.store.models import IntelItem

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from team_store import open_meeting  # noqa: E402  (beside this script)

SECTORS = ["construction", "care", "catering", "agriculture", "car_wash", "nail_bar", None]
ALLEGATIONS = ["illegal_working", "overstayer", "clandestine_entry", "sham_marriage"]
FLAGS = [None, ";children;", ";weapon;", ";modern_slavery;vulnerable_adult;", None, None]


def set_up(location: str, items: int, agenda: int) -> int:
    """``items`` items (the first ``agenda`` of them on an open meeting's
    agenda), ranked once. Returns the meeting's id."""
    from triage.intel import ranking

    db = open_database(location)
    now = clock.now()
    rows = [
        {
            "intel_id": f"B-{n:07d}",
            "received_at": now - timedelta(days=n % 400, minutes=n % 1440),
            "region": "LSE",
            "team": "London North",
            "status": "open",
            "carry_over_count": 0,
            "created_at": now,
            "updated_at": now,
            "sector": SECTORS[n % len(SECTORS)],
            "allegation": ALLEGATIONS[n % len(ALLEGATIONS)],
            "harm_flags": FLAGS[n % len(FLAGS)],
            "subject_ref": f"S{n % (items // 3 + 1)}" if n % 2 else None,
            "postcode": f"E{n % 90} {n % 9}AA" if n % 3 else None,
            "business_name": f"Cafe {n % 500}" if n % 3 else None,
            "persons_estimated": n % 12,
            "subject_named": n % 2 == 0,
            "whereabouts": "known" if n % 4 else None,
            "summary": f"item {n}",
        }
        for n in range(items)
    ]
    for start in range(0, items, 20_000):
        with db.transaction() as session:
            session.execute(insert(IntelItem), rows[start : start + 20_000])
    ranking.refresh(db)
    with db.transaction() as session:
        ids = list(session.scalars(select(IntelItem.id).order_by(IntelItem.id).limit(agenda)))
        meeting_id = open_meeting(session, ids, now)
    db.close()
    return meeting_id


def decider(location: str, meeting_id: int, items: list[int], stop: Any, out: Any) -> None:
    """Decide ``items`` one by one until ``stop`` is set or they run out; each
    decision's wall-clock start and latency go to ``out``."""
    from triage.meetings.operations import decide
    from triage.users import ALL_ROLES, Actor

    db = open_database(location)
    actor = Actor(f"member{items[0]}", ALL_ROLES)
    timings = []
    for item in items:
        if stop is not None and stop.is_set():
            break
        began = time.time()
        started = time.perf_counter()
        decide(db, meeting_id=meeting_id, item_id=item, decision="accepted", actor=actor)
        timings.append((began, time.perf_counter() - started))
    db.close()
    out.put(timings)


def reranker(location: str, times: int, stop: Any, out: Any) -> None:
    """Run ``times`` full re-ranks back to back; their wall-clock spans go to ``out``."""
    from triage.intel import ranking

    db = open_database(location)
    spans = []
    for _ in range(times):
        began = time.time()
        ranking.refresh(db)
        spans.append((began, time.time()))
    db.close()
    stop.set()
    out.put(spans)


def decide_while(
    context: Any, location: str, meeting_id: int, shares: list[list[int]], reranks: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Each share decided by its own process (with ``reranks`` re-ranks running
    alongside, if any). Returns every decision's (start, latency) and the
    re-ranks' (start, end)."""
    stop = context.Event() if reranks else None
    out = context.Queue()
    workers = [
        context.Process(target=decider, args=(location, meeting_id, share, stop, out))
        for share in shares
    ]
    spans_out = context.Queue()
    ranker = (
        context.Process(target=reranker, args=(location, reranks, stop, spans_out))
        if reranks
        else None
    )
    for process in workers + ([ranker] if ranker else []):
        process.start()
    timings = [t for _ in workers for t in out.get()]
    spans = spans_out.get() if ranker else []
    for process in workers + ([ranker] if ranker else []):
        process.join()
    return timings, spans


def run(location: str, args: argparse.Namespace) -> dict[str, Any]:
    agenda = args.deciders * (args.floor_decisions + args.under_rerank)
    meeting_id = set_up(location, args.items, agenda)
    with open_database(location).sessions() as session:
        from triage.meetings.models import MeetingAgendaItem

        ids = list(
            session.scalars(
                select(MeetingAgendaItem.item_id)
                .where(MeetingAgendaItem.meeting_id == meeting_id)
                .order_by(MeetingAgendaItem.position)
            )
        )
    context = multiprocessing.get_context("spawn")
    floor_n = args.floor_decisions
    floor_shares = [ids[d * floor_n : (d + 1) * floor_n] for d in range(args.deciders)]
    rest = ids[args.deciders * floor_n :]
    rerank_shares = [rest[d :: args.deciders] for d in range(args.deciders)]
    floor, _ = decide_while(context, location, meeting_id, floor_shares, 0)
    timings, spans = decide_while(context, location, meeting_id, rerank_shares, args.reranks)
    during = sorted(
        latency
        for began, latency in timings
        if any(start <= began + latency and began <= end for start, end in spans)
    )
    floor_latencies = sorted(latency for _began, latency in floor)
    if not during:
        raise SystemExit("no decision overlapped a re-rank: give --under-rerank more items")
    return {
        "rerank_s": [end - start for start, end in spans],
        "during": len(during),
        "p50": statistics.median(during),
        "p95": during[math.ceil(0.95 * len(during)) - 1],
        "max": during[-1],
        "floor_n": len(floor_latencies),
        "floor_p50": statistics.median(floor_latencies),
        "floor_max": floor_latencies[-1],
    }


def show(name: str, figures: dict[str, Any]) -> None:
    reranks = ", ".join(f"{s:.2f}" for s in figures["rerank_s"])
    print(
        f"{name}: full re-rank {reranks} s; {figures['during']:,} decisions during a re-rank: "
        f"p50 {1000 * figures['p50']:.0f} ms, p95 {1000 * figures['p95']:.0f} ms, worst "
        f"{1000 * figures['max']:.0f} ms (limit 1000 ms); floor ({figures['floor_n']:,} "
        f"decisions, nothing else running): p50 {1000 * figures['floor_p50']:.0f} ms, worst "
        f"{1000 * figures['floor_max']:.0f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--deciders", type=int, default=2)
    parser.add_argument("--reranks", type=int, default=2)
    parser.add_argument("--floor-decisions", type=int, default=100, help="each decider's")
    parser.add_argument(
        "--under-rerank", type=int, default=3000, help="most decisions each decider may make"
    )
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway server)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        if args.only != "postgresql":
            results["sqlite"] = run(str(Path(folder) / "rerank.sqlite"), args)
            show("sqlite", results["sqlite"])
        if args.only != "sqlite":
            server = None
            url = args.url
            if url is None:
                import pg_server

                server = pg_server.start()
                server.psql("CREATE DATABASE rerank")
                url = server.url("rerank")
            try:
                results["postgresql"] = run(url, args)
                show("postgresql", results["postgresql"])
            finally:
                if server is not None:
                    server.stop()
    print(
        f"load: {args.items:,} items, {args.deciders} deciding processes, "
        f"{args.reranks} full re-ranks"
    )
    print(
        "worst decision latency under a re-rank / the floor's worst: "
        + ", ".join(f"{name} {r['max'] / r['floor_max']:.1f}x" for name, r in results.items())
    )


if __name__ == "__main__":
    main()
