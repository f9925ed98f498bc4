"""``sync push``: send the work done offline on a laptop copy back to its server.

For each item and EM case pulled, three states are compared: as pulled
(``sync_owner``), on the laptop now, and on the server now. Unchanged
offline: nothing to send. Changed offline, unchanged on the server since the
pull: the server is made equal to the laptop (its workflow columns and the
rows hanging off it: decisions, reviews, ...). Changed on both sides: a
conflict, listed and audited on both sides, and nothing of it is written.
Notes are append-only and always go. Meetings run offline are created on
the server with their agenda.

The server half is one transaction, taken with the write lock (SQLite) or
the owners' rows locked (PostgreSQL), so nobody can decide an item between
the check and the write. Every row written is linked on both sides
(``sync_link``), so a push retried after the laptop's half failed finds what
it already wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, RowMapping, delete, insert, select, update
from sqlalchemy.orm import Session

from triage import clock
from triage.intel.notes import ItemNote
from triage.jobs import Job, job_or_silent
from triage.meetings.models import MeetingAgendaItem, MeetingStep
from triage.store import audit
from triage.store.db import Database
from triage.store.models import IntelItem
from triage.sync.models import SyncCopy, SyncLink, SyncOwner
from triage.sync.pull import SyncError, server_name
from triage.sync.units import (
    INTEL,
    MEETING,
    OWNERS,
    REFERENCES,
    Child,
    Owner,
    chunks,
    describe,
    digest,
    owner_of,
    states,
    table,
)
from triage.users import Action, Actor, require

Links = dict[str, dict[int, tuple[int, bool]]]  # table -> local id -> (server id, pulled)


@dataclass(frozen=True)
class Conflict:
    kind: str  # "intel" or "em"
    key: str  # the intel_id or case_id
    reason: str
    offline: dict[str, Any]
    server: dict[str, Any]

    def text(self) -> str:
        what = "item" if self.kind == "intel" else "EM case"
        return f"{what} {self.key}: {self.reason}; {_said(self.server)} on the server"


def _said(state: dict[str, Any]) -> str:
    if not state.get("exists", True):
        return "it is gone"
    if state.get("decided_by"):
        return f"{state.get('decision')} by {state['decided_by']} at {state.get('decided_at')}"
    return ", ".join(f"{k}={v}" for k, v in state.items() if v is not None)


@dataclass
class Pending:
    """Offline work not yet on the server."""

    changed: dict[str, int]
    notes: int
    meetings: int

    @property
    def total(self) -> int:
        return sum(self.changed.values()) + self.notes + self.meetings

    def text(self) -> str:
        return (
            f"{self.changed.get('intel', 0)} items, {self.changed.get('em', 0)} EM cases, "
            f"{self.notes} notes, {self.meetings} meetings"
        )


@dataclass
class PushResult:
    origin: str
    server: str
    applied: dict[str, int] = field(default_factory=lambda: {"intel": 0, "em": 0})
    already: int = 0
    notes: int = 0
    meetings: int = 0
    conflicts: list[Conflict] = field(default_factory=list)


def laptop_copy(connection: Connection | Session) -> SyncCopy | None:
    """Where this laptop copy came from (None: not a laptop copy)."""
    row = connection.execute(select(table(SyncCopy)).where(SyncCopy.side == "server")).first()
    return None if row is None else SyncCopy(**row._mapping)


def _links(connection: Connection | Session, origin: str) -> Links:
    links: Links = {}
    rows = connection.execute(
        select(SyncLink.table_name, SyncLink.local_id, SyncLink.server_id, SyncLink.pulled).where(
            SyncLink.origin == origin
        )
    )
    for name, local, server, pulled in rows:
        links.setdefault(name, {})[local] = (server, bool(pulled))
    return links


def _offline(connection: Connection) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any]]]:
    """Per owner kind: the pulled digests, and the laptop's states of the owners changed since."""
    pulled: dict[str, dict[str, str]] = {o.kind: {} for o in OWNERS}
    for kind, key, value in connection.execute(
        select(SyncOwner.kind, SyncOwner.key, SyncOwner.pulled_digest)
    ):
        pulled[kind][key] = value
    changed: dict[str, dict[str, Any]] = {}
    for owner in OWNERS:
        now = states(connection, owner, list(pulled[owner.kind]))
        changed[owner.kind] = {
            key: state for key, state in now.items() if digest(state) != pulled[owner.kind][key]
        }
    return pulled, changed


def _new_notes(connection: Connection, links: Links) -> list[dict[str, Any]]:
    notes = table(ItemNote)
    done, items = links.get("item_note", {}), links.get("intel_item", {})
    return [
        dict(row._mapping)
        for row in connection.execute(select(notes).order_by(notes.c.id))
        if row.id not in done and row.item_id in items
    ]


def _offline_meetings(connection: Connection, links: Links) -> list[dict[str, Any]]:
    known = links.get("tasking_meeting", {})
    return [
        dict(row._mapping)
        for row in connection.execute(select(MEETING).order_by(MEETING.c.id))
        if not known.get(row.id, (0, False))[1]
    ]


def pending(db: Database) -> Pending | None:
    """What a push would send (None: the database is not a laptop copy)."""
    with db.engine.connect() as connection:
        copy = laptop_copy(connection)
        if copy is None:
            return None
        links = _links(connection, copy.origin)
        _pulled, changed = _offline(connection)
        meetings = [
            m for m in _offline_meetings(connection, links)
            if m["id"] not in links.get("tasking_meeting", {})
        ]  # fmt: skip
        return Pending(
            {kind: len(keys) for kind, keys in changed.items()},
            len(_new_notes(connection, links)),
            len(meetings),
        )


@dataclass(frozen=True)
class CopyStatus:
    """A laptop copy: where it came from, when, and what is not yet pushed."""

    server: str
    region: str
    team: str
    pulled_at: datetime
    pulled_by: str
    pushed_at: datetime | None
    unsent: Pending


def status(db: Database) -> CopyStatus | None:
    """The laptop copy ``db`` is (None: it is not one)."""
    with db.engine.connect() as connection:
        copy = laptop_copy(connection)
    waiting = pending(db)
    if copy is None or waiting is None:
        return None
    return CopyStatus(
        copy.server, copy.region, copy.team, copy.pulled_at, copy.pulled_by, copy.pushed_at,
        waiting,
    )  # fmt: skip


def push(laptop: Database, server: Database, *, actor: Actor, job: Job | None = None) -> PushResult:
    """Send the laptop's offline work to ``server``; conflicts are listed, never written."""
    job = job_or_silent(job)
    with laptop.engine.connect() as lap:
        copy = laptop_copy(lap)
        if copy is None:
            raise SyncError("this database is not a laptop copy: pull one first (triage sync pull)")
        job.progress(0.1, "reading the offline work")
        links = _links(lap, copy.origin)
        pulled, changed = _offline(lap)
        notes = _new_notes(lap, links)
        meetings = _offline_meetings(lap, links)
        if changed["intel"] or meetings:
            require(server, actor, Action.RUN_MEETINGS)
        if notes:
            require(server, actor, Action.NOTES)
        if changed["em"]:
            require(server, actor, Action.EM_ACTIONS)
        result = PushResult(copy.origin, server_name(server))
        job.progress(0.3, "writing to the server")
        with server.transaction() as session:
            writer = _Writer(lap, session, copy.origin, links, result, actor)
            writer.register()
            decided = writer.classify(pulled, changed)
            writer.meetings(meetings)
            for owner in OWNERS:
                for key in decided[owner.kind]:
                    writer.apply(owner, key, changed[owner.kind][key], decided)
            writer.steps(meetings, decided)
            writer.notes(notes)
            writer.finish()
        job.progress(0.9, "recording the push on the laptop")
        with laptop.transaction() as local:
            _record_on_laptop(local, writer, changed)
    job.progress(1.0, "pushed")
    return result


class _Writer:
    """The server half of one push."""

    def __init__(
        self,
        lap: Connection,
        session: Session,
        origin: str,
        links: Links,
        result: PushResult,
        actor: Actor,
    ) -> None:
        self.lap, self.session, self.origin = lap, session, origin
        self.links, self.result, self.actor = links, result, actor
        self.new_links: list[dict[str, Any]] = []
        self.applied: dict[str, list[str]] = {o.kind: [] for o in OWNERS}

    def register(self) -> None:
        """Check the copy was pulled from this server, and take the write lock:
        on SQLite this first write holds off every other writer until commit."""
        found = self.session.execute(
            update(SyncCopy)
            .where(SyncCopy.origin == self.origin, SyncCopy.side == "laptop")
            .values(pushed_at=clock.now())
        )
        if not getattr(found, "rowcount", 0):
            raise SyncError(
                "this laptop copy was not pulled from this server: push it to the server "
                "it came from"
            )
        # A push retried after the laptop's half failed: the rows it wrote then.
        for name, rows in _links(self.session, self.origin).items():
            for local, (server_id, pulled) in rows.items():
                self.links.setdefault(name, {}).setdefault(local, (server_id, pulled))

    def server_id(self, name: str, local: int | None) -> int | None:
        if local is None:
            return None
        found = self.links.get(name, {}).get(local)
        return None if found is None else found[0]

    def link(self, name: str, local: int, server_id: int) -> None:
        self.links.setdefault(name, {})[local] = (server_id, False)
        self.new_links.append(
            {"origin": self.origin, "table_name": name, "local_id": local,
             "server_id": server_id, "pulled": False}
        )  # fmt: skip

    def insert(self, name: str, t: Any, local: int, values: dict[str, Any]) -> int:
        done = cast(CursorResult[Any], self.session.execute(insert(t).values(values)))
        key = done.inserted_primary_key
        if key is None:  # every synced table has an integer id; this is for the type checker
            raise SyncError(f"the server gave no id for a new {name} row")
        new_id = int(key[0])
        self.link(name, local, new_id)
        return new_id

    # -- conflicts -----------------------------------------------------------------

    def classify(
        self, pulled: dict[str, dict[str, str]], changed: dict[str, dict[str, Any]]
    ) -> dict[str, list[str]]:
        """The owners changed offline that can be applied; the rest are conflicts."""
        decided: dict[str, list[str]] = {}
        for owner in OWNERS:
            offline = changed[owner.kind]
            on_server = states(self.session, owner, list(offline), lock=True)
            decided[owner.kind] = []
            for key, state in sorted(offline.items()):
                now = on_server.get(key)
                if now is not None and digest(now) == digest(state):
                    self.result.already += 1  # sent by a push whose laptop half failed
                    self.applied[owner.kind].append(key)
                elif now is not None and digest(now) == pulled[owner.kind][key]:
                    decided[owner.kind].append(key)
                else:
                    reason = (
                        "no longer on the server"
                        if now is None
                        else "changed offline and on the server since the pull: not sent"
                    )
                    conflict = Conflict(
                        owner.kind, key, reason, describe(owner, state), describe(owner, now)
                    )
                    self.result.conflicts.append(conflict)
                    audit.record(
                        self.session, "sync.conflict", owner.table.name, key, "offline work",
                        json.dumps(conflict.server, default=str),
                        json.dumps(conflict.offline, default=str), who=self.actor.name,
                    )  # fmt: skip
        return decided

    # -- meetings ------------------------------------------------------------------

    def meetings(self, meetings: list[dict[str, Any]]) -> None:
        """Meetings run offline: created (or brought up to date) on the server,
        with the agenda lines of items the server has."""
        agenda = table(MeetingAgendaItem)
        for row in meetings:
            values = {k: v for k, v in row.items() if k != "id"}
            server_id = self.server_id("tasking_meeting", row["id"])
            if server_id is None:
                server_id = self.insert("tasking_meeting", MEETING, row["id"], values)
                self.result.meetings += 1
            else:
                current = self.session.execute(
                    select(MEETING).where(MEETING.c.id == server_id)
                ).one()
                if {k: current._mapping[k] for k in values} != values:
                    self.session.execute(
                        update(MEETING).where(MEETING.c.id == server_id).values(values)
                    )
                    self.result.meetings += 1
            have: set[int] = set(
                self.session.execute(
                    select(agenda.c.item_id).where(agenda.c.meeting_id == server_id)
                ).scalars()
            )
            lines = []
            for line in self.lap.execute(select(agenda).where(agenda.c.meeting_id == row["id"])):
                item = self.server_id("intel_item", line.item_id)
                if item is not None and item not in have:
                    lines.append({**line._mapping, "meeting_id": server_id, "item_id": item})
            if lines:
                self.session.execute(insert(agenda), lines)

    # -- owners --------------------------------------------------------------------

    def _values(self, child: Child, row: RowMapping, ref: Any) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        for column in child.columns():
            value = row[column]
            if column == child.ref:
                value = ref
            elif column in REFERENCES and value is not None:
                value = self.server_id(REFERENCES[column], value)
                if value is None:
                    return None  # names a row the server does not have
            values[column] = value
        return values

    def apply(
        self, owner: Owner, key: str, state: dict[str, Any], decided: dict[str, list[str]]
    ) -> None:
        """Make the server's owner ``key`` equal the laptop's."""
        t = owner.table
        local_id = state["id"]
        server_id: int = self.session.execute(
            select(t.c.id).where(owner.key_column() == key)
        ).scalar_one()
        row = self.lap.execute(select(t).where(t.c.id == local_id)).mappings().one()
        before = describe(owner, states(self.session, owner, [key])[key])
        self.session.execute(
            update(t)
            .where(t.c.id == server_id)
            .values({**{c: row[c] for c in owner.state}, "updated_at": clock.now()})
        )
        for child in owner.children:
            if child.digest:
                self._child(owner, child, local_id if owner.by_id else key,
                            server_id if owner.by_id else key)  # fmt: skip
        self.applied[owner.kind].append(key)
        self.result.applied[owner.kind] += 1
        audit.record(
            self.session, "sync.push", t.name, key, "offline work",
            json.dumps(before, default=str), json.dumps(describe(owner, state), default=str),
            who=self.actor.name,
        )  # fmt: skip

    def _child(self, owner: Owner, child: Child, local_ref: Any, server_ref: Any) -> None:
        c, name = child.table.c, child.table.name
        rows = (
            self.lap.execute(select(child.table).where(c[child.ref] == local_ref)).mappings().all()
        )
        kept = {self.server_id(name, r["id"]) for r in rows} - {None}
        if child.deletes:  # first, so a decision taken again on the same day fits its unique key
            on_server: Sequence[int] = (
                self.session.execute(select(c.id).where(c[child.ref] == server_ref)).scalars().all()
            )
            gone = [i for i in on_server if i not in kept]
            if gone:
                self.session.execute(delete(child.table).where(c.id.in_(gone)))
        for row in rows:
            values = self._values(child, row, server_ref)
            if values is None:
                continue
            server_id = self.server_id(name, row["id"])
            if server_id is None and child.natural:
                server_id = self.session.execute(
                    select(c.id).where(
                        c[child.ref] == server_ref, *(c[k] == row[k] for k in child.natural)
                    )
                ).scalar()
                if server_id is not None:  # the same row, made on both sides
                    self.link(name, row["id"], server_id)
            if server_id is not None:
                self.session.execute(update(child.table).where(c.id == server_id).values(values))
            elif child.inserts:
                self.insert(name, child.table, row["id"], values)

    def steps(self, meetings: list[dict[str, Any]], decided: dict[str, list[str]]) -> None:
        """Offline meetings' decision steps (kept for undo), for the items sent."""
        steps, items = table(MeetingStep), table(IntelItem)
        sent = set(decided[INTEL.kind]) | set(self.applied[INTEL.kind])
        for meeting in meetings:
            server_meeting = self.server_id("tasking_meeting", meeting["id"])
            rows = self.lap.execute(
                select(steps, items.c.intel_id)
                .join(items, items.c.id == steps.c.item_id)
                .where(steps.c.meeting_id == meeting["id"])
                .order_by(steps.c.id)
            ).mappings()
            for row in rows:
                item = self.server_id("intel_item", row["item_id"])
                if item is None or row["intel_id"] not in sent:
                    continue
                values = {"meeting_id": server_meeting, "item_id": item, "before": row["before"],
                          "after": row["after"], "undone": row["undone"]}  # fmt: skip
                server_id = self.server_id("meeting_step", row["id"])
                if server_id is None:
                    self.insert("meeting_step", steps, row["id"], values)
                else:
                    self.session.execute(
                        update(steps).where(steps.c.id == server_id).values(values)
                    )

    def notes(self, notes: list[dict[str, Any]]) -> None:
        t = table(ItemNote)
        for note in notes:
            item = self.server_id("intel_item", note["item_id"])
            if item is None:
                continue
            values = {"item_id": item, "author": note["author"], "written_at": note["written_at"],
                      "text": note["text"]}  # fmt: skip
            new_id = self.insert("item_note", t, note["id"], values)
            # As add_note audits it: the note's id, never its text.
            audit.record(
                self.session, "item.note", "intel_item", item, "note", None, new_id,
                who=note["author"],
            )  # fmt: skip
            self.result.notes += 1

    def finish(self) -> None:
        link = table(SyncLink)
        for chunk in chunks(self.new_links):
            self.session.execute(insert(link), list(chunk))
        r = self.result
        audit.record(
            self.session, "sync.push", "sync", self.origin,
            new=f"items {r.applied['intel']}, EM cases {r.applied['em']}, notes {r.notes}, "
            f"meetings {r.meetings}, conflicts {len(r.conflicts)}",
            who=self.actor.name,
        )  # fmt: skip


def _record_on_laptop(
    session: Session, writer: _Writer, changed: dict[str, dict[str, Any]]
) -> None:
    """The laptop's half: the rows' links, the new agreed states, the audit."""
    link = table(SyncLink)
    have = {
        (name, local)
        for name, local in session.execute(
            select(link.c.table_name, link.c.local_id).where(link.c.origin == writer.origin)
        )
    }
    missing = [
        {"origin": writer.origin, "table_name": name, "local_id": local, "server_id": server_id,
         "pulled": pulled}
        for name, rows in writer.links.items()
        for local, (server_id, pulled) in rows.items()
        if (name, local) not in have
    ]  # fmt: skip
    for chunk in chunks(missing):
        session.execute(insert(link), list(chunk))
    for kind, keys in writer.applied.items():
        for key in keys:
            session.execute(
                update(SyncOwner)
                .where(SyncOwner.kind == kind, SyncOwner.key == key)
                .values(pulled_digest=digest(changed[kind][key]))
            )
    session.execute(update(SyncCopy).where(SyncCopy.side == "server").values(pushed_at=clock.now()))
    r = writer.result
    for conflict in r.conflicts:
        owner = owner_of(conflict.kind)
        audit.record(
            session, "sync.conflict", owner.table.name, conflict.key, "offline work",
            json.dumps(conflict.server, default=str), json.dumps(conflict.offline, default=str),
            who=writer.actor.name,
        )  # fmt: skip
    audit.record(
        session, "sync.push", "sync", writer.origin,
        new=f"to {r.server}: items {r.applied['intel']}, EM cases {r.applied['em']}, "
        f"notes {r.notes}, meetings {r.meetings}, conflicts {len(r.conflicts)}",
        who=writer.actor.name,
    )  # fmt: skip
