"""Replay: preview a rule-pack change over the current data before adopting it.

``diff`` ranks every item with the old and the new pack at the same instant
and reports how many change bucket (a from -> to matrix) and, for each team's
queue of open items, which items cross its weekly capacity line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from triage import clock
from triage.rules.engine import compile_pack, prepare
from triage.rules.pack import Pack
from triage.store import dialect
from triage.store.db import Database

UNASSIGNED = "(no team)"


@dataclass
class Crossing:
    region: str
    team: str
    capacity: int  # with the new pack
    open_items: int
    # intel_ids now above the line that were below it, and the reverse.
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    old_capacity: int | None = None  # with the pack in force, when it differs


@dataclass
class Diff:
    old_version: str
    new_version: str
    as_of: datetime
    items: int
    moved: int
    # matrix[old bucket][new bucket] = number of items
    matrix: dict[int, dict[int, int]]
    crossings: list[Crossing]

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "as_of": self.as_of.isoformat(),
            "items": self.items,
            "moved": self.moved,
            "matrix": {
                str(a): {str(b): n for b, n in row.items()} for a, row in self.matrix.items()
            },
            "crossings": [c.__dict__ for c in self.crossings],
        }


def _ranked(
    db: Database, pack: Pack, as_of: datetime, model_weight: float
) -> dict[int, tuple[Any, ...]]:
    # Items received by the instant only: a replay --as-of a past day sees the data of then.
    compiled = compile_pack(
        pack, as_of, where="i.received_at <= :as_of", postgres=dialect.is_postgres(db.engine)
    )
    sql = (
        f"SELECT c.item_id, c.bucket, c.score + :weight * coalesce(r.harm_score, 0.0), "
        "i.received_at, i.intel_id, i.region, i.team, i.status "
        f"FROM ({compiled.sql}) c JOIN intel_item i ON i.id = c.item_id "
        "LEFT JOIN intel_rank r ON r.item_id = c.item_id"
    )
    params = dict(compiled.params, weight=model_weight)
    with db.engine.connect() as connection:
        prepare(connection, compiled)
        return {row[0]: row[1:] for row in connection.execute(text(sql), params)}


def diff(
    db: Database,
    old: Pack,
    new: Pack,
    *,
    as_of: datetime | None = None,
    model_weight: float = 0.0,
) -> Diff:
    """Compare two packs over every item received by ``as_of`` (default now),
    ordering within a bucket with the harm score at ``model_weight``."""
    moment = as_of or clock.now()
    before, after = _ranked(db, old, moment, model_weight), _ranked(db, new, moment, model_weight)
    matrix: dict[int, dict[int, int]] = {a: {b: 0 for b in range(1, 7)} for a in range(1, 7)}
    for item_id, row in before.items():
        matrix[row[0]][after[item_id][0]] += 1
    moved = sum(n for a, row in matrix.items() for b, n in row.items() if a != b)

    teams = {(r.code, t.name): t.capacity for r in new.regions for t in r.teams}
    # Each side's line at its own pack's capacity: a capacity change in
    # organisation.toml moves items across the line as a rule change does.
    old_teams = {(r.code, t.name): t.capacity for r in old.regions for t in r.teams}
    queues: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item_id, row in before.items():
        if row[6] == "open":
            key = (row[4], row[5]) if (row[4], row[5]) in teams else (row[4], UNASSIGNED)
            queues[key].append(item_id)

    def line(ranked: dict[int, tuple[Any, ...]], ids: list[int], capacity: int) -> set[int]:
        order = sorted(ids, key=lambda i: (ranked[i][0], -ranked[i][1], ranked[i][2], ranked[i][3]))
        return set(order[:capacity])

    crossings = []
    for (region, team), ids in sorted(queues.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        capacity = teams.get((region, team), 0)
        old_capacity = old_teams.get((region, team), 0)
        above_old, above_new = line(before, ids, old_capacity), line(after, ids, capacity)
        crossings.append(
            Crossing(
                region=region,
                team=team,
                capacity=capacity,
                open_items=len(ids),
                entered=sorted(before[i][3] for i in above_new - above_old),
                left=sorted(before[i][3] for i in above_old - above_new),
                old_capacity=old_capacity if old_capacity != capacity else None,
            )
        )
    return Diff(old.version, new.version, moment, len(before), moved, matrix, crossings)
