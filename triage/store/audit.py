"""The append-only, hash-chained audit log: who changed what, when, from what to what.

Every write that changes a stored decision or record goes through ``record``
in the same transaction as the change itself, so the log and the data can
never disagree. The table refuses UPDATE and DELETE (the triggers of
``dialect.create_append_only_triggers``, on SQLite and PostgreSQL), and each
entry carries the SHA-256 of the entry before it and of its own canonical
content (migration 0006), so an entry edited, deleted, inserted or moved
with a database tool breaks the chain that
``verify`` walks. Cutting the chain's tail is caught against a head recorded
elsewhere (``chain_head``: printed on the minutes, written into backups).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, text

from triage import clock
from triage.store import dialect

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GENESIS = "0" * 64  # the "previous entry" of the first one
# A value the retention purge removed from an entry keeps its digest, so the
# chain still verifies: the stored text becomes this prefix plus the SHA-256.
REDACTED = "[purged] sha256:"
TRIGGERS = ("audit_log_no_update", "audit_log_no_delete")
_COLUMNS = (
    "id", "at", "who", "action", "entity", "entity_id", "field", "old_value", "new_value",
    "batch_id",
)  # fmt: skip


def entry_hash(
    entry_id: int,
    at: str,
    who: str,
    action: str,
    entity: str,
    entity_id: str,
    field: str | None,
    old_value: str | None,
    new_value: str | None,
    batch_id: int | None,
    prev_hash: str,
) -> str:
    """SHA-256 of an entry's canonical content: its stored values (the text
    SQLite holds; the old and new values by their own SHA-256, so that a purge
    can remove them and the chain still verifies) and the previous entry's
    hash, as compact JSON."""
    canonical = json.dumps(
        [entry_id, at, who, action, entity, entity_id, field, value_digest(old_value),
         value_digest(new_value), batch_id, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def value_digest(value: str | None) -> str | None:
    """SHA-256 of an old or new value, or the digest a purged one kept."""
    if value is None:
        return None
    if value.startswith(REDACTED):
        return value[len(REDACTED) :]
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def redacted(value: str | None) -> str | None:
    """What a purged value is stored as: its digest only."""
    digest = value_digest(value)
    return None if digest is None else REDACTED + digest


def register_functions(connection: sqlite3.Connection) -> None:
    """Make ``entry_hash`` callable from SQL on this connection, so an entry is
    chained in the one INSERT statement that writes it (under the write lock:
    two writers can never chain onto the same entry)."""
    connection.create_function("triage_audit_hash", 11, entry_hash, deterministic=True)
    connection.create_function("triage_audit_redacted", 1, redacted, deterministic=True)


# One statement: the new id and the previous hash are read under the same
# write lock as the insert.
_INSERT = text(
    "INSERT INTO audit_log (id, at, who, action, entity, entity_id, field, old_value, "
    "new_value, batch_id, prev_hash, entry_hash) "
    "SELECT n.id, :at, :who, :action, :entity, :entity_id, :field, :old_value, :new_value, "
    ":batch_id, n.prev, triage_audit_hash(n.id, :at, :who, :action, :entity, :entity_id, "
    ":field, :old_value, :new_value, :batch_id, n.prev) "
    "FROM (SELECT coalesce(max(id), 0) + 1 AS id, coalesce((SELECT entry_hash FROM audit_log "
    f"ORDER BY id DESC LIMIT 1), '{GENESIS}') AS prev FROM audit_log) AS n"
)

_PLAIN_INSERT = text(
    "INSERT INTO audit_log (id, at, who, action, entity, entity_id, field, old_value, "
    "new_value, batch_id, prev_hash, entry_hash) VALUES (:id, :at, :who, :action, :entity, "
    ":entity_id, :field, :old_value, :new_value, :batch_id, :prev_hash, :entry_hash)"
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _row(at: datetime, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": clock.sql_timestamp(at),
        "who": values["who"],
        "action": values["action"],
        "entity": values["entity"],
        "entity_id": str(values["entity_id"]),
        "field": values.get("field"),
        "old_value": _text(values.get("old")),
        "new_value": _text(values.get("new")),
        "batch_id": values.get("batch_id"),
    }


_PENDING = "triage_audit_pending"


def _append(session: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """Insert and chain ``rows``. SQLite: one INSERT ... SELECT, chained by the
    SQL function under the write lock. PostgreSQL: kept on the session until
    it commits (``_chain_pending``), so the chain's lock is held only for the
    commit, never through a long import while decisions wait."""
    if not dialect.is_postgres(session):
        session.execute(_INSERT, rows)
    elif isinstance(session, Connection):
        _chain(session, rows)
    else:
        _chain_sessions_at_commit()
        session.info.setdefault(_PENDING, []).extend(rows)


@cache
def _chain_sessions_at_commit() -> None:
    """Have every session chain its pending rows as it commits. Set up when
    the first rows are kept on a session (a session that already exists gets
    the listeners too), not at import: ``sqlalchemy.orm`` is imported only by
    code that uses sessions (``Database.sessions``). Two threads setting them
    up at once would add each twice, harmlessly: a session's rows are popped once."""
    from sqlalchemy.orm import Session

    event.listen(Session, "before_commit", _chain_pending)
    event.listen(Session, "after_rollback", _drop_pending)


def _chain_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        _chain(session, rows)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _chain(session: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: take the chain's advisory lock (to the end of the
    transaction, so two writers never chain onto the same entry), then work
    out the ids and hashes here."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": dialect.AUDIT_CHAIN_LOCK})
    last = session.execute(
        text("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).first()
    entry_id, previous = (int(last[0]), str(last[1] or GENESIS)) if last else (0, GENESIS)
    chained = []
    for row in rows:
        entry_id += 1
        own = entry_hash(entry_id, row["at"], row["who"], row["action"], row["entity"],
                         row["entity_id"], row["field"], row["old_value"], row["new_value"],
                         row["batch_id"], previous)  # fmt: skip
        chained.append({**row, "id": entry_id, "prev_hash": previous, "entry_hash": own})
        previous = own
    session.execute(_PLAIN_INSERT, chained)


def record(
    session: Session | Connection,
    action: str,
    entity: str,
    entity_id: object,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    *,
    who: str,
    batch_id: int | None = None,
) -> None:
    values = {"who": who, "action": action, "entity": entity, "entity_id": entity_id,
              "field": field, "old": old, "new": new, "batch_id": batch_id}  # fmt: skip
    _append(session, [_row(clock.now(), values)])


def record_many(session: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """Bulk form for imports: each row has the keys of ``record``'s arguments."""
    if not rows:
        return
    now = clock.now()
    _append(session, [_row(now, row) for row in rows])


def chain_head(connection: Connection | Session) -> str:
    """The newest entry's hash (``GENESIS`` for an empty log): printed on
    every meeting's minutes and written into every backup, so a log cut back
    to an earlier entry afterwards no longer contains it."""
    head = connection.execute(
        text("SELECT entry_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).scalar()
    return str(head) if head else GENESIS


@dataclass(frozen=True)
class Verification:
    entries: int  # entries whose chain checked out, in order
    head: str
    problem: str | None  # the first break, naming its entry; None when intact

    @property
    def ok(self) -> bool:
        return self.problem is None


def stored_text(row: Sequence[Any]) -> list[Any]:
    """A row of ``_COLUMNS`` with its time as the text the hash was taken over
    (SQLite hands back that text; PostgreSQL a timestamp)."""
    at = row[1]
    return [row[0], clock.sql_timestamp(at) if isinstance(at, datetime) else at, *row[2:]]


def stored_hash(row: Sequence[Any]) -> str:
    """``entry_hash`` of a row read as (the columns of ``_COLUMNS``, prev_hash, ...)."""
    return entry_hash(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10]
    )


def _stored(connection: Connection) -> Iterator[tuple[Any, ...]]:
    columns = ", ".join(_COLUMNS)
    for row in connection.exec_driver_sql(
        f"SELECT {columns}, prev_hash, entry_hash FROM audit_log ORDER BY id"
    ):
        yield tuple(stored_text(row))


def missing_triggers(connection: Connection) -> list[str]:
    """The append-only triggers that are absent or no longer refuse the change."""
    stored = dialect.append_only_trigger_sql(connection)
    return [
        name for name in TRIGGERS if not dialect.refuses(name.rsplit("_", 1)[1].upper(),
                                                         stored.get(name, ""))
    ]  # fmt: skip


def verify(connection: Connection, *, expected_head: str | None = None) -> Verification:
    """Walk the chain from the first entry; stop at the first break.

    ``expected_head``: a head recorded earlier (minutes, a backup) that must
    still be in the chain; if it is not, entries were cut or rewritten since.
    """
    previous, count, seen_expected = GENESIS, 0, expected_head in (None, GENESIS)
    for row in _stored(connection):
        entry_id, prev_hash, own_hash = row[0], row[-2], row[-1]
        where = f"audit entry {entry_id}"
        if prev_hash != previous:
            return Verification(
                count, previous,
                f"{where}: does not follow the entry before it "
                "(an entry was deleted, inserted or moved here)",
            )  # fmt: skip
        if stored_hash(row) != own_hash:
            return Verification(count, previous, f"{where}: its content was changed")
        previous, count = own_hash, count + 1
        seen_expected = seen_expected or own_hash == expected_head
    if not seen_expected:
        return Verification(
            count, previous,
            f"the recorded chain head {expected_head} is not in the audit log: "
            "entries were removed or rewritten after it was recorded",
        )  # fmt: skip
    return Verification(count, previous, None)
