"""What a laptop copy is made of, and how its state is compared with the server's.

Work done offline belongs to an *owner*: an intelligence item (key: its
``intel_id``) or an EM case (key: its ``case_id``), the stable keys both
databases share. An owner's *decision state* is its own workflow columns
plus the rows that hang off it (outcomes; reviews, escalations, ...),
compared through a digest of their content: never of row ids, which differ
between databases. Notes are append-only and never conflict, so they are
not part of the state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.orm import Session

from triage.em.models import EmEscalation, EmRecommendation, EmReview, EmTrailRequest
from triage.intel.notes import ItemNote
from triage.store.models import EmCase, EmEvent, IntelItem, TaskingMeeting, TaskingOutcome

# Bound parameters per IN list: well under SQLite's and PostgreSQL's limits.
CHUNK = 500


def table(model: Any) -> Table:
    found: Table = model.__table__
    return found


@dataclass(frozen=True)
class Child:
    """Rows that belong to an owner."""

    table: Table
    ref: str  # the column naming the owner: its row id (item_id) or its key (case_id)
    digest: tuple[str, ...]  # the columns of the decision state; () for notes
    pushed: tuple[str, ...] | None = None  # columns a push may write (None: all but ids)
    inserts: bool = True  # rows made offline go to the server
    deletes: bool = False  # rows removed offline are removed there (an undone decision)
    # Columns that, with the owner, name one row on either side (a unique key):
    # a row made offline is matched to the same row made on the server.
    natural: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        if self.pushed is not None:
            return list(self.pushed)
        return [c.name for c in self.table.columns if c.name not in ("id", "batch_id")]


@dataclass(frozen=True)
class Owner:
    kind: str
    table: Table
    key: str
    state: tuple[str, ...]  # the owner's own columns work offline may change
    children: tuple[Child, ...]
    by_id: bool  # children name it by row id (else by key)

    def key_column(self) -> Column[Any]:
        return self.table.c[self.key]


INTEL = Owner(
    "intel",
    table(IntelItem),
    "intel_id",
    # closed_at and closed_reason go with a status the EM bridge set to closed.
    ("status", "carry_over_count", "rechecked_at", "closed_at", "closed_reason"),
    (
        Child(
            table(TaskingOutcome),
            "item_id",
            (
                "meeting_date",
                "decision",
                "reason",
                "note",
                "decided_by",
                "decided_at",
                "result",
                "result_at",
            ),
            deletes=True,
            natural=("meeting_date",),
        ),  # fmt: skip
        Child(table(ItemNote), "item_id", ()),
    ),
    by_id=True,
)
EM = Owner(
    "em",
    table(EmCase),
    "case_id",
    ("last_review_at", "em_status", "claimed_by", "claimed_at"),
    (
        Child(table(EmEvent), "case_id", ("event_id", "responded_at"), ("responded_at",), False),
        Child(
            table(EmReview),
            "case_id",
            ("completed_on", "trigger", "outcome", "note", "completed_by", "recorded_at"),
        ),
        Child(
            table(EmEscalation),
            "case_id",
            ("step", "breach_count", "status", "done_at"),
            natural=("step", "breach_count"),
        ),
        Child(
            table(EmRecommendation),
            "case_id",
            (
                "made_at",
                "decided_em",
                "decided_device",
                "decided_months",
                "decision_reason",
                "decided_by",
                "decided_at",
            ),
        ),  # fmt: skip
        Child(
            table(EmTrailRequest),
            "case_id",
            ("requested_at", "requester", "kind", "ground", "outcome", "outcome_at"),
        ),
    ),
    by_id=False,
)
OWNERS = (INTEL, EM)
MEETING = table(TaskingMeeting)
# Columns naming another synced row by id: translated between the databases.
REFERENCES = {"item_id": "intel_item", "meeting_id": "tasking_meeting"}


def owner_of(kind: str) -> Owner:
    return next(o for o in OWNERS if o.kind == kind)


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def canonical(value: Any) -> Any:
    """A stored value as the same JSON on either backend."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, default=str)


def _sorted(rows: list[list[Any]]) -> list[list[Any]]:
    return sorted(rows, key=lambda row: json.dumps(row))


def states(
    connection: Connection | Session, owner: Owner, keys: Iterable[str], *, lock: bool = False
) -> dict[str, dict[str, Any]]:
    """The decision state of each owner in ``keys`` that exists: its state
    columns and, per child table, its rows' state columns (sorted). ``lock``:
    the owners' rows are locked until the transaction ends (PostgreSQL's
    ``FOR UPDATE``; SQLite's write lock, taken before, already covers them)."""
    found: dict[str, dict[str, Any]] = {}
    t = owner.table
    for chunk in chunks(sorted(set(keys))):
        query = select(t.c.id, owner.key_column(), *(t.c[c] for c in owner.state)).where(
            owner.key_column().in_(chunk)
        )
        if lock:
            query = query.with_for_update()
        refs: dict[Any, str] = {}
        for row in connection.execute(query):
            key = row[1]
            refs[row[0] if owner.by_id else key] = key
            found[key] = {
                "id": row[0],
                "state": {c: canonical(v) for c, v in zip(owner.state, row[2:], strict=True)},
                "children": {c.table.name: [] for c in owner.children if c.digest},
            }
        if not refs:
            continue
        for child in owner.children:
            if not child.digest:
                continue
            c = child.table.c
            rows = connection.execute(
                select(c[child.ref], *(c[name] for name in child.digest)).where(
                    c[child.ref].in_(list(refs))
                )
            )
            for row in rows:
                found[refs[row[0]]]["children"][child.table.name].append(
                    [canonical(v) for v in row[1:]]
                )
    for state in found.values():
        state["children"] = {name: _sorted(rows) for name, rows in state["children"].items()}
    return found


def digest(state: dict[str, Any]) -> str:
    """SHA-256 of a state (without the row id, which differs between databases)."""
    content = json.dumps([state["state"], state["children"]], sort_keys=True)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def describe(owner: Owner, state: dict[str, Any] | None) -> dict[str, Any]:
    """A state in a few words for people: an item's status and latest
    decision (who, when); a case's claim, review and status."""
    if state is None:
        return {"exists": False}
    shown: dict[str, Any] = dict(state["state"])
    if owner is INTEL:
        outcomes = state["children"]["tasking_outcome"]
        if outcomes:
            latest = max(outcomes, key=lambda o: (o[5] or "", o[0] or ""))
            shown.update(
                {"decision": latest[1], "reason": latest[2], "decided_by": latest[4],
                 "decided_at": latest[5], "meeting_date": latest[0]}
            )  # fmt: skip
    else:
        shown.update({name: len(rows) for name, rows in state["children"].items()})
    return shown
