"""Laptops offline: pull a team's work from a server, decide offline, push it back.

    .venv/bin/python benchmarks/bench_sync.py                 # demo-sized server
    .venv/bin/python benchmarks/bench_sync.py --intel 200000  # a bigger one

Builds a server database with the demo generator (SQLite file; with
``--server URL`` an empty PostgreSQL database instead), then times: the pull
of the team with the most open items (and its region's EM caseload); an
offline meeting deciding ``--decide`` items on the laptop; the push; and a
second push with a conflict per item decided on the server meanwhile.
Baseline, measured in the same run: ``db copy`` of the whole server into a
new file, i.e. reading and writing every row once. Last line: the pull's
time over the copy's per row moved.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from triage.users import ALL_ROLES, Actor

ACTOR = Actor("bench", ALL_ROLES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--intel", type=int, default=60_000, help="intelligence items on the server"
    )
    parser.add_argument("--em", type=int, default=3_000, help="EM cases on the server")
    parser.add_argument("--decide", type=int, default=200, help="items decided offline")
    parser.add_argument("--server", help="an empty PostgreSQL database URL (default: a file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    os.environ.setdefault("TRIAGE_HOME", str(folder / "home"))
    os.environ.setdefault("TRIAGE_NOW", "2026-11-20T09:00:00")

    from triage.demo.generator import fill_database
    from triage.intel import ranking
    from triage.meetings import operations as meetings
    from triage.store.db import open_database
    from triage.store.models import IntelItem
    from triage.sync.copy import copy_database
    from triage.sync.pull import pull
    from triage.sync.push import push

    server = open_database(args.server or folder / "server.sqlite")
    started = time.perf_counter()
    fill_database(server, intel=args.intel, em=args.em)
    ranking.refresh(server)
    print(f"server: {args.intel:,} items, {args.em:,} EM cases, built in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    with server.sessions() as session:
        region, team, _n = session.execute(
            select(IntelItem.region, IntelItem.team, func.count())
            .where(IntelItem.status == "open", IntelItem.team.is_not(None))
            .group_by(IntelItem.region, IntelItem.team)
            .order_by(func.count().desc())
            .limit(1)
        ).one()

    laptop_path = folder / "laptop.sqlite"
    started = time.perf_counter()
    pulled = pull(server, laptop_path, region=region, team=team, actor=ACTOR)
    pull_s = time.perf_counter() - started
    moved = sum(pulled.counts.values())
    print(f"pull {region}/{team}: {pulled.counts} in {pull_s:.2f} s")

    laptop = open_database(laptop_path)
    started = time.perf_counter()
    meeting = meetings.start_meeting(
        laptop, region=region, team=team, held_on=date(2026, 11, 20), actor=ACTOR,
        capacity=args.decide,
    )  # fmt: skip
    with laptop.sessions() as session:
        agenda = meetings.agenda(session, meeting)
    decided = [row for row in agenda if not row.needs_recheck][: args.decide]
    for row in decided:
        meetings.decide(laptop, meeting_id=meeting, item_id=row.item_id, decision="accepted",
                        actor=ACTOR)  # fmt: skip
    print(f"offline meeting: {len(decided)} decisions in {time.perf_counter() - started:.2f} s")

    # Meanwhile on the server, a tenth of them decided otherwise: conflicts.
    online = meetings.start_meeting(
        server, region=region, team=team, held_on=date(2026, 11, 20), actor=ACTOR,
        capacity=args.decide,
    )  # fmt: skip
    clashes = 0
    for row in decided[::10]:
        server_item = _server_item(server, row.intel_id)
        try:
            meetings.decide(server, meeting_id=online, item_id=server_item, decision="rejected",
                            reason="duplicate", actor=ACTOR)  # fmt: skip
            clashes += 1
        except meetings.MeetingError:
            pass  # not on the server meeting's agenda
    started = time.perf_counter()
    pushed = push(laptop, server, actor=ACTOR)
    push_s = time.perf_counter() - started
    print(f"push: {pushed.applied} applied, {pushed.meetings} meetings, "
          f"{len(pushed.conflicts)} conflicts (expected {clashes}) in {push_s:.2f} s")  # fmt: skip
    started = time.perf_counter()
    again = push(laptop, server, actor=ACTOR)
    print(f"push again: {again.applied} applied, {len(again.conflicts)} conflicts in "
          f"{time.perf_counter() - started:.2f} s")  # fmt: skip
    laptop.close()

    copy_path = folder / "copy.sqlite"
    target = open_database(copy_path)
    started = time.perf_counter()
    copied = copy_database(server, target, actor=ACTOR)
    copy_s = time.perf_counter() - started
    target.close()
    server.close()
    print(f"baseline db copy: {copied.rows:,} rows in {copy_s:.2f} s")
    per_row_pull, per_row_copy = pull_s / max(moved, 1), copy_s / max(copied.rows, 1)
    print(f"pull per row moved / copy per row: {per_row_pull / per_row_copy:.2f}")
    return 0 if len(pushed.conflicts) == clashes else 1


def _server_item(server, intel_id: str) -> int:
    from triage.store.models import IntelItem

    with server.sessions() as session:
        return int(session.scalar(select(IntelItem.id).where(IntelItem.intel_id == intel_id)))


if __name__ == "__main__":
    sys.exit(main())
