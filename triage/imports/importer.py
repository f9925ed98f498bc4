"""Importing extracts: validate every row, upsert the good ones, quarantine
the bad ones, all in one transaction per file.

One file is one import batch. Re-importing the same ids updates the rows that
changed (each changed field goes to the audit log) and never duplicates. A
row that fails validation is kept in the quarantine with its line number, its
cells and the reason, while the good rows of the same file import. A file
that cannot be used at all raises ``UnreadableFile`` and changes nothing; so
does a cancelled import or a crash part-way (SQLite rolls the open
transaction back).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import islice, repeat
from json.encoder import encode_basestring_ascii as _json_string
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from triage import clock
from triage.em import bridge
from triage.em.models import EmProcessIssue, EmServiceLevel
from triage.imports import reading
from triage.imports.columns import KINDS, ExtractKind, detect_kind
from triage.imports.extracts import Extract, Rejected, UnreadableFile, wrong_separator
from triage.imports.validation import Chunk, Validator
from triage.jobs import Job, job_or_silent
from triage.store import audit, dialect, item_values, tables
from triage.store.db import Database, rows_changed
from triage.store.faults import store_fault
from triage.store.models import (
    Base,
    ImportBatch,
    IntelItem,
    QuarantinedRow,
    TaskingOutcome,
)
from triage.users import Action, Actor, require

__all__ = [
    "ImportResult",
    "UnreadableFile",
    "detect_kind",
    "discard_quarantined",
    "import_file",
    "reimport_quarantined",
]

# An import of more rows than this into a database holding data takes a
# rolling backup of the database as it was before it (issue 16.7; made
# while the import runs, waited for before its commit) and leaves SQLite's
# checkpoint until after its commit.
LARGE_IMPORT_ROWS = 10_000

# A file larger than this is read on the second core on a first load
# (triage.imports.reading) and leaves SQLite's checkpoint until after its
# commit (about 100,000 intelligence rows as CSV).
LARGE_IMPORT_BYTES = 16 * 2**20

# A file with more bad rows than this, most of its rows, is refused whole
# rather than quarantined row by row: it is not the extract it claims to be.
MAX_QUARANTINED = 10_000


@dataclass
class ImportResult:
    kind: str
    file: str
    sha256: str
    batch_id: int
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    # The first problems, for a summary; all of them are in the quarantine.
    problems: list[tuple[int, str]] = field(default_factory=list)
    # How the file was read: a CSV's encoding (None for XLSX), its physical
    # lines (sheet rows for XLSX), the blank ones, and the rows whose quoted
    # cells ran over several lines (first, last line).
    encoding: str | None = None
    lines: int = 0
    blank_lines: int = 0
    multi_line: list[tuple[int, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "sha256": self.sha256,
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "problems": [{"line": line, "reason": reason} for line, reason in self.problems],
            "encoding": self.encoding,
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "multi_line_rows": [{"first": a, "last": b} for a, b in self.multi_line],
        }


def import_file(
    db: Database,
    kind: str,
    path: str | Path,
    *,
    job: Job | None = None,
    mapping: dict[str, str] | None = None,
    actor: Actor,
) -> ImportResult:
    """Import one extract file of ``kind``. See the module docstring.

    ``job`` gets the fraction of the file read and the rows read so far; a
    cancel raises ``Cancelled`` with nothing changed (no partial result)."""
    require(db, actor, Action.IMPORT)
    if kind not in KINDS:
        raise UnreadableFile(f"unknown extract kind {kind!r} (known: {', '.join(KINDS)})")
    path = Path(path)
    extract = Extract(path)
    spec = KINDS[kind]
    header = _canonical_header(extract.header, mapping)
    doubled = sorted({name for name in header if name and header.count(name) > 1})
    if doubled:
        raise UnreadableFile(
            f"{extract.name}: the column mapping gives two columns the name {', '.join(doubled)}"
        )
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise UnreadableFile(
            f"{extract.name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} for {kind} extracts "
            f"(the header has: {', '.join(h for h in extract.header if h.strip())})"
            f"{_header_hint(header, kind)}"
        )
    pipeline = _Pipeline(
        db, spec, header, extract.name, actor.name,
        # Quarantined cells are kept under the names they were mapped to, so a
        # fixed row re-imports without its file's mapping profile.
        raw_header=[
            canonical if mapped else original
            for original, canonical, mapped in zip(
                extract.header, header, _mapped(extract.header, mapping), strict=True
            )
        ],
    )  # fmt: skip
    backed_up: Callable[[], object] | None = None
    if _has_data(db) and _more_rows_than(extract, LARGE_IMPORT_ROWS):
        # Issue 16.7: a large import is undoable. The copy is of the database
        # before the import, made and checked on another thread while the
        # file is read and written (0.7-0.9 s of the outcomes import at
        # 200,000 items); the import waits for it before its commit, so a
        # damaged database still stops it with nothing changed.
        backed_up = db.rolling_backup_begun("before-import")
    pipeline.before_commit = backed_up
    # Judged by size, without reading the file a second time.
    pipeline.large = extract.size > LARGE_IMPORT_BYTES
    # An import of over LARGE_IMPORT_ROWS rows into a database with data
    # checkpoints after its commit too (whatever its file's size: 158,000
    # outcomes are 9 MB, and their writes to the items grow the log).
    pipeline.checkpoint_later = pipeline.large or backed_up is not None
    try:
        # A first load of a large file is read on the second core
        # (triage.imports.reading); anything else on the reading thread: an
        # update sends whole chunks, and comparing them is the writer's work
        # either way (measured slower forked).
        forked = reading.Forked(extract) if pipeline.large and reading.CAN_FORK else None

        def ahead(
            validator: Validator, prepare: reading.Prepare, first_load: bool, readers: int
        ) -> reading.Ahead:
            if forked is not None and first_load:
                return forked.chunks(validator, prepare, readers)
            return reading.on_thread(extract.rows(), validator, prepare)

        result = pipeline.run(
            ahead,
            extract.sha256,
            job_or_silent(job),
            lambda: (
                forked.fraction_read() if forked and forked.started else extract.fraction_read()
            ),
        )
    except DBAPIError as error:
        # Locked beyond the busy timeout, disk full, read-only: the transaction
        # was rolled back. Said plainly, naming the database: the driver's own
        # message carries the SQL and the row's values.
        fault = store_fault(error)
        if fault is None:
            raise
        raise type(fault)(f"{db.location}: {fault}; nothing was imported") from None
    finally:
        if backed_up is not None:
            _backup_finished(backed_up)
    result.encoding = extract.encoding
    result.lines = extract.lines
    result.blank_lines = extract.blank_lines
    result.multi_line = extract.multi_line
    return result


def _backup_finished(backed_up: Callable[[], object]) -> None:
    """Wait for the rolling backup when the import stopped before its
    commit (its own error is the one to report; the copy is kept, as when
    the backup was made before the import)."""
    try:
        backed_up()
    except Exception:  # noqa: BLE001, S110 - the import's error is raised
        pass


def _has_data(db: Database) -> bool:
    """Whether any extract was imported before (an empty database needs no backup)."""
    with db.transaction() as session:
        return session.scalar(select(ImportBatch.id).limit(1)) is not None


def _more_rows_than(extract: Extract, limit: int) -> bool:
    """Whether the extract has more than ``limit`` rows, reading no further
    (with the same bounded reader as the import itself, on a copy of its own)."""
    return next(islice(extract.again().rows(), limit, None), None) is not None


def reimport_quarantined(
    db: Database, row_id: int, fixed: dict[str, str] | None = None, *, actor: Actor
) -> ImportResult:
    """Re-import a quarantined row after fixing cells in place.

    ``fixed`` maps header names to corrected cell text. On success the row is
    marked resolved; if it is still bad, its cells and reason are updated and
    it stays in the quarantine (``result.quarantined == 1``).
    """
    require(db, actor, Action.IMPORT)
    who = actor.name
    with db.transaction() as session:
        stored = _open_quarantined(session, row_id)
        raw = dict(stored.raw)
        # Column names are case-insensitive: a fix replaces the cell it names.
        names = {name.strip().casefold(): name for name in raw}
        # A misspelt name would add a cell no one reads and leave the bad one
        # as it was; a column of the kind the row lacks may be added.
        unknown = [
            name
            for name in (fixed or {})
            if name.strip().casefold() not in names
            and KINDS[stored.kind].column(name.strip().casefold()) is None
        ]
        if unknown:
            raise ValueError(
                f"quarantined row {row_id} has no column {', '.join(map(repr, unknown))} "
                f"(its columns: {', '.join(raw)})"
            )
        for name, value in (fixed or {}).items():
            raw[names.get(name.strip().casefold(), name)] = value
        kind, file_name, line_no = stored.kind, stored.file_name, stored.line_no
    header_names = list(raw)
    spec = KINDS[kind]
    header = _canonical_header(header_names, None)
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise UnreadableFile(
            f"{file_name} line {line_no}: no column {', '.join(missing)}; "
            "import the corrected file again instead"
        )
    cells = [raw[h] for h in header_names]
    pipeline = _Pipeline(db, spec, header, file_name, who, raw_header=header_names)
    pipeline.retry_of = row_id
    digest = hashlib.sha256(_raw_text(cells).encode()).hexdigest()
    return pipeline.run(
        lambda validator, prepare, *_: reading.on_thread(
            iter([(line_no, cells)]), validator, prepare
        ),
        digest,
        job_or_silent(None),
        lambda: 1.0,
    )


def discard_quarantined(db: Database, row_id: int, reason: str, *, actor: Actor) -> None:
    """Mark an open quarantined row as junk (a test row, a known duplicate).

    Nothing is deleted: the row keeps its cells and stays listed by
    ``quarantine list --all``. The reason goes to the audit log and is also
    appended to the row's own reason, so the listing says why it was dropped.
    """
    require(db, actor, Action.IMPORT)
    reason = reason.strip()
    if not reason:
        raise ValueError("say why the row is discarded")
    who = actor.name
    with db.transaction() as session:
        # Marked only if still open, in the one statement: a fix by another
        # writer (the command line, the app) may have resolved the row.
        marked = rows_changed(
            session.execute(
                update(QuarantinedRow)
                .where(QuarantinedRow.id == row_id, QuarantinedRow.status == "open")
                .values(
                    status="discarded",
                    resolved_at=clock.now(),
                    resolved_by=who,
                    reason=QuarantinedRow.reason + f" · discarded: {reason}",
                )
            )
        )
        if marked != 1:
            _open_quarantined(session, row_id)  # raises, naming why
        audit.record(
            session, "quarantine_discarded", "quarantined_row", row_id, new=reason, who=who
        )


def _header_hint(header: list[str], kind: str) -> str:
    """What a header missing required columns most likely means, if it says."""
    separator = wrong_separator(header)
    if separator:
        return f"; {separator}"
    other = detect_kind(header)
    if other and other != kind:
        return f"; its columns are those of {other} extracts"
    return ""


def _open_quarantined(session: Session, row_id: int) -> QuarantinedRow:
    """The quarantined row, if it is still open (KeyError, ValueError otherwise).

    Resolved rows are in the database already; discarded ones were judged junk."""
    stored = session.get(QuarantinedRow, row_id)
    if stored is None:
        raise KeyError(f"no quarantined row {row_id}")
    if stored.status != "open":
        raise ValueError(f"quarantined row {row_id} is already {stored.status}")
    return stored


def _mapped(header: list[str], mapping: dict[str, str] | None) -> list[bool]:
    folded = {k.strip().casefold() for k in (mapping or {})}
    return [name.strip().casefold() in folded for name in header]


def _canonical_header(header: list[str], mapping: dict[str, str] | None) -> list[str]:
    names = []
    folded_mapping = {k.strip().casefold(): v for k, v in (mapping or {}).items()}
    for name in header:
        folded = name.strip().casefold()
        names.append(folded_mapping.get(folded, folded).strip().casefold())
    return names


def _raw_text(cells: list[str]) -> str:
    """The line's text; a NUL shows as U+2400 (``dialect.NUL_SHOWN_AS``).
    Nothing is lost: the row's cells (``raw``, JSON) keep the NUL itself,
    escaped as \u0000, and a fixed row is imported again from them."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue().replace("\x00", dialect.NUL_SHOWN_AS)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the import.

    An import allocates millions of short-lived lists and tuples and no
    reference cycles, and each collection re-scans every long-lived object:
    about 15% of a million-row import's time (benchmarks/bench_import.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _transaction(
    db: Database, large: bool, references_checked: str | None = None
) -> Iterator[Session]:
    """The import's one transaction; for a large import (``large``: a file
    over LARGE_IMPORT_BYTES, or over LARGE_IMPORT_ROWS rows into a database
    with data), a commit without SQLite's checkpoint in it; for a first load
    into ``references_checked``, whose store checks each row's references
    itself, SQLite's foreign keys checked once before the commit
    (``_references_checked_at_end``).

    SQLite copies the write-ahead log into the database file when a commit
    leaves the log over 1,000 pages, inside that commit: for a million rows
    1.3-1.7 s after the data is already durable (a committed WAL is). For a
    large import the automatic checkpoint is off on the transaction's
    connection until the commit; then a passive checkpoint runs on another
    thread while the caller goes on (or SQLite does it at the next commit,
    or when the last connection closes). SQLite only: elsewhere nothing."""
    raw: Any = None
    try:
        with _references_checked_at_end(db, references_checked) as session:
            if large and db.engine.dialect.name == "sqlite":
                raw = session.connection().connection.dbapi_connection
                before = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
                raw.execute("PRAGMA wal_autocheckpoint=0")
            yield session
    finally:
        if raw is not None:
            raw.execute(f"PRAGMA wal_autocheckpoint={int(before)}")
            threading.Thread(target=_checkpoint, args=(db,), name="checkpoint", daemon=True).start()


@contextmanager
def _references_checked_at_end(db: Database, table: str | None) -> Iterator[Session]:
    """``db.transaction()``; for a first load into ``table`` on SQLite, one
    whose foreign keys are checked in one pass before the commit instead of
    row by row.

    Each row SQLite inserts with foreign keys on looks its parents up: for
    EM events, the case, 37% of the insert's CPU (docs/benchmarks.md). A
    first load of events checks every row's case against the case ids read
    under the import's write lock already; ``_orphan_found`` before the
    commit checks every row's keys again in one pass, so a row whose case
    is missing still fails the import with nothing changed, as its INSERT
    did.

    SQLite ignores ``PRAGMA foreign_keys`` inside a transaction: it is set
    off on a connection of the import's own, before the transaction starts,
    and on again after it ends, before the connection goes back to the
    pool; a connection on which that did not take is discarded instead."""
    if table is None or db.engine.dialect.name != "sqlite":
        with db.transaction() as session:
            yield session
        return
    with db.engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        # The table's emptiness is looked at before the write lock: another
        # writer loading it meanwhile makes the check at the end longer,
        # never wrong (the store then checks the references under the lock).
        deferred = (
            not raw.in_transaction
            and raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            and raw.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None
        )
        if deferred:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with db.sessions(bind=connection) as session, session.begin():
                yield session
                if deferred and _orphan_found(raw, table):
                    # What the row's INSERT raised with foreign keys on (no values in it).
                    raise IntegrityError(
                        f"PRAGMA foreign_key_check({table})",
                        None,
                        sqlite3.IntegrityError("FOREIGN KEY constraint failed"),
                    )
        finally:
            if deferred and not connection.invalidated:
                if not raw.in_transaction:
                    raw.execute("PRAGMA foreign_keys=ON")
                if raw.in_transaction or raw.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
                    connection.invalidate()  # never back to the pool with them off


def _orphan_found(raw: Any, table: str) -> bool:
    """Whether a row of ``table`` names a parent row that does not exist, by
    any of its foreign keys (SQLite).

    A key of one column is checked over its distinct values (read from an
    index where there is one) against the parent's unique index: for
    860,000 EM events 0.23 s of CPU, against 0.62-0.76 s for ``PRAGMA
    foreign_key_check``, which looks each row up by each key (the check
    runs after the last row, while nothing else can go on). Any other
    key is left to the pragma."""
    keys: dict[int, list[tuple[str, str, str | None]]] = {}
    for key_id, _seq, parent, column, parent_column, *_ in raw.execute(
        f"PRAGMA foreign_key_list({table})"
    ):
        keys.setdefault(key_id, []).append((parent, column, parent_column))
    for (parent, column, parent_column), *more in keys.values():
        if more or parent_column is None:
            return raw.execute(f"PRAGMA foreign_key_check({table})").fetchone() is not None
        if raw.execute(
            f'SELECT 1 FROM (SELECT DISTINCT "{column}" AS value FROM "{table}" '
            f'WHERE "{column}" IS NOT NULL) AS child WHERE NOT EXISTS '
            f'(SELECT 1 FROM "{parent}" WHERE "{parent_column}" = child.value) LIMIT 1'
        ).fetchone():
            return True
    return False


def _checkpoint(db: Database) -> None:
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # noqa: BLE001, S110 - SQLite checkpoints later by itself
        pass


class _Pipeline:
    """Validates and stores one file's rows inside one transaction."""

    def __init__(
        self,
        db: Database,
        spec: ExtractKind,
        header: list[str],
        file_name: str,
        who: str,
        raw_header: list[str] | None = None,
    ) -> None:
        self.db = db
        self.spec = spec
        self.raw_header = raw_header or header
        self.file_name = file_name
        self.who = who
        self.retry_of: int | None = None
        self.large = False  # over LARGE_IMPORT_BYTES: read in the forked process
        self.checkpoint_later = False  # SQLite's checkpoint after the commit
        # Called inside the transaction before its commit (the rolling backup).
        self.before_commit: Callable[[], object] | None = None
        self.validator = Validator(spec, header, self.raw_header, _text_lengths(spec.name))

    def run(
        self,
        ahead: Callable[[Validator, reading.Prepare, bool, int], reading.Ahead],
        sha256: str,
        job: Job,
        fraction_read: Callable[[], float],
    ) -> ImportResult:
        """Store the chunks ``ahead`` reads, validates and prepares with the
        validator and the store's ``prepare`` (triage.imports.reading), told
        whether the store takes a first load as ready statements and how many
        reading processes it wants."""
        own_checks = getattr(_STORES[self.spec.name], "references_checked_here", None)
        with (
            _collector_paused(),
            _transaction(self.db, self.checkpoint_later, own_checks) as session,
        ):
            # No INSERT ... RETURNING: SQLite before 3.35 (the older-Linux
            # bundle's) has none; the flush reads the new row's id either way.
            batch = ImportBatch(
                kind=self.spec.name,
                file_name=self.file_name,
                sha256=sha256,
                imported_by=self.who,
                started_at=clock.now(),
            )
            session.add(batch)
            session.flush()
            batch_id = batch.id
            if self.retry_of is not None:
                # Checked again under the write lock the insert above took: the
                # row may have been resolved or discarded by another writer (the
                # command line, the app) since reimport_quarantined looked.
                _open_quarantined(session, self.retry_of)
            result = ImportResult(self.spec.name, self.file_name, sha256, batch_id)
            store = _STORES[self.spec.name](session, batch_id, self.who)
            first_load = getattr(store, "sends_statements", False)
            readers = getattr(store, "reading_processes", 1)
            for read, valid, rejected in ahead(self.validator, store.prepare, first_load, readers):
                job.check(f"{self.file_name}: import cancelled; nothing was changed")
                result.rows_read += read
                rejected += store.load(valid, result)
                self._quarantine(session, batch_id, rejected, result)
                if (
                    result.quarantined > MAX_QUARANTINED
                    and 2 * result.quarantined > result.rows_read
                ):
                    line, reason = result.problems[0]
                    raise UnreadableFile(
                        f"{self.file_name}: {result.quarantined:,} of the first "
                        f"{result.rows_read:,} rows cannot be imported (the first, line {line}: "
                        f"{reason}); nothing was imported: is it the right file for "
                        f"a {self.spec.name} import?"
                    )
                job.progress(fraction_read(), f"{result.rows_read:,} rows read")
            store.finish(result)
            if self.retry_of is not None and not result.quarantined:
                session.execute(
                    update(QuarantinedRow)
                    .where(QuarantinedRow.id == self.retry_of)
                    .values(status="resolved", resolved_at=clock.now(), resolved_by=self.who)
                )
                audit.record(
                    session, "quarantine_resolved", "quarantined_row", self.retry_of,
                    who=self.who, batch_id=batch_id,
                )  # fmt: skip
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(
                    rows_read=result.rows_read,
                    inserted=result.inserted,
                    updated=result.updated,
                    unchanged=result.unchanged,
                    quarantined=result.quarantined,
                    finished_at=clock.now(),
                )
            )
            audit.record(
                session,
                "import",
                "import_batch",
                batch_id,
                new=f"{self.spec.name} {self.file_name}: {result.rows_read} read, "
                f"{result.inserted} inserted, {result.updated} updated, "
                f"{result.quarantined} quarantined",
                who=self.who,
                batch_id=batch_id,
            )
            if self.before_commit is not None:
                self.before_commit()
        return result

    def _quarantine(
        self, session: Session, batch_id: int, rejected: list[Rejected], result: ImportResult
    ) -> None:
        if not rejected:
            return
        result.quarantined += len(rejected)
        for item in rejected[: max(0, 20 - len(result.problems))]:
            result.problems.append((item.line_no, item.reason))
        if self.retry_of is not None:
            # A fixed row that is still bad stays the same quarantine entry.
            item = rejected[0]
            session.execute(
                update(QuarantinedRow)
                .where(QuarantinedRow.id == self.retry_of)
                .values(
                    raw=self._raw(item.cells),
                    raw_text=_raw_text(item.cells),
                    reason=item.reason,
                )
            )
            return
        # Importing the same file again does not list its bad rows twice: a
        # row already open in the quarantine (same file, line and text) stays
        # the one entry to fix, and one discarded as junk stays discarded.
        lines = sorted({item.line_no for item in rejected})
        # Besides the lines, the look-up binds two statuses, the kind and the file.
        already = {
            (line_no, raw_text)
            for part in _parts(lines, _in_list_size(session.connection(), 4))
            for line_no, raw_text in session.execute(
                select(QuarantinedRow.line_no, QuarantinedRow.raw_text).where(
                    QuarantinedRow.status.in_(("open", "discarded")),
                    QuarantinedRow.kind == self.spec.name,
                    QuarantinedRow.file_name == self.file_name,
                    QuarantinedRow.line_no.in_(part),
                )
            )
        }
        texts = [(item, _raw_text(item.cells)) for item in rejected]
        records = [
            {
                "batch_id": batch_id,
                "kind": self.spec.name,
                "file_name": self.file_name,
                "line_no": item.line_no,
                "raw": self._raw(item.cells),
                "raw_text": raw_text,
                "reason": item.reason,
                "status": "open",
            }
            for item, raw_text in texts
            if (item.line_no, raw_text) not in already
        ]
        if records:
            session.execute(insert(QuarantinedRow), records)

    def _raw(self, cells: list[str]) -> dict[str, str]:
        names = list(self.raw_header)
        # Keep every cell, even those past the header (named by position).
        names += [f"column_{i + 1}" for i in range(len(names), len(cells))]
        return {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names)}


class _KeyedStore:
    """Upserts rows keyed by a unique text id (intel items, EM cases, EM events)."""

    table: Table
    key: str
    # Indexes a first load keeps up to date row by row instead of building
    # them after it (``_drop_indexes``).
    kept_while_loading: tuple[str, ...] = ()

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        self.session = session
        self.batch_id = batch_id
        self.who = who
        self.now = clock.now()
        self.entity = self.table.name
        # While the table is empty (a first load) there is nothing to look up:
        # keys repeated inside the file are already rejected by validation.
        self.table_was_empty = session.execute(select(self.table.c.id).limit(1)).first() is None
        self.deferred_indexes = (
            _drop_indexes(session, self.table, self.kept_while_loading)
            if self.table_was_empty
            else []
        )
        self.stale_trigger = dialect.pause_rank_stale_on_insert(
            session.connection(), self.table.name
        )
        self.on_sqlite = not dialect.is_postgres(session)  # the form values are stored in
        # A first load with no check against the database: ``prepare`` reduces
        # each chunk to its INSERT statements.
        self.sends_statements = (
            self.table_was_empty and self.on_sqlite and type(self).check is _KeyedStore.check
        )
        # For the statements ``prepare`` makes on a reading thread or process.
        self.variable_limit = _variable_limit(session.connection())

    def _stored_rows(self, chunk: Chunk, compared: list[str]) -> list[Sequence[Any]]:
        """The stored rows with the chunk's keys: id, then ``compared``. SQLite:
        as stored (text times), to compare with ``_stored``'s forms; PostgreSQL:
        typed values, as ``_stored(raw=True)`` gives."""
        connection = self.session.connection()
        table = self.table
        found: list[Sequence[Any]] = []
        for part in _parts(chunk.column(self.key), _in_list_size(connection)):
            if dialect.is_postgres(connection):
                found += connection.execute(
                    select(table.c.id, *(table.c[name] for name in compared)).where(
                        table.c[self.key].in_(part)
                    )
                ).all()
            else:
                found += connection.exec_driver_sql(
                    f"SELECT id, {', '.join(compared)} FROM {table.name} "
                    f"WHERE {self.key} IN ({', '.join('?' * len(part))})",
                    tuple(part),
                ).all()
        return found

    def prepare(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        """The work on a validated chunk that needs no database: checks
        between its columns, derived columns and, for a first load, the
        stored form of every value. Done on the reading thread."""
        rejected, chunk = self.check_rows(chunk)
        self.derive(chunk)
        if self.table_was_empty and self.on_sqlite and len(chunk):
            chunk.stored = _stored_columns(self.table, chunk)
            if self.sends_statements:
                # Nothing will look at the converted values or the cells
                # again (no check against the database can reject a row):
                # the chunk is reduced to its INSERT statements, all a
                # reading process sends.
                constants = self.new_record_constants()
                chunk.statements = _column_statements(
                    self.table.name,
                    [*chunk.names, "extra"],
                    chunk.stored,
                    {
                        name: _stored(self.table.c[name].type, [value])[0]
                        for name, value in constants.items()
                    },
                    self.variable_limit,
                )
                chunk.columns, chunk.cells, chunk.extras, chunk.stored = [], [], [], None
                chunk.time_texts, chunk.time_days = {}, {}  # in the statements already
        return rejected, chunk

    def check_rows(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        """Checks between a row's own values."""
        return [], chunk

    def derive(self, chunk: Chunk) -> None:
        """Columns stored beside the extract's, computed from them."""

    def derive_new(self, chunk: Chunk) -> None:
        """Columns stored beside a new row's values only (not on an update)."""

    def load(self, chunk: Chunk, result: ImportResult) -> list[Rejected]:
        rejected, chunk = self.check(chunk)
        if not len(chunk):
            return rejected
        if self.table_was_empty:
            _bulk_insert(self.session, self.table, chunk, self.new_record_constants())
            result.inserted += len(chunk)
            return rejected
        # Most rows of a re-import are unchanged: find them by comparing
        # stored forms as plain tuples, and only look at the others field
        # by field.
        compared = [*chunk.names, "extra"]
        raw = dialect.is_postgres(self.session)  # typed values both ways, no stored text
        stored = _stored_columns(self.table, chunk, null=None, raw=raw)
        key_at = chunk.names.index(self.key)
        existing = {row[1 + key_at]: tuple(row) for row in self._stored_rows(chunk, compared)}
        is_new, maybe_changed = [], {}
        for k, new in enumerate(zip(*stored, strict=True)):
            old = existing.get(new[key_at])
            is_new.append(old is None)
            if old is None:
                continue
            if old[1:] == new:
                result.unchanged += 1
            else:
                maybe_changed[k] = old[0]
        inserts = chunk.take(is_new)
        if len(inserts):
            self.derive_new(inserts)
            _bulk_insert(self.session, self.table, inserts, self.new_record_constants())
            result.inserted += len(inserts)
        if maybe_changed:
            self._update(chunk, maybe_changed, compared, result)
        return rejected

    def _update(
        self, chunk: Chunk, record_ids: dict[int, int], compared: list[str], result: ImportResult
    ) -> None:
        """Update rows (chunk index -> record id) field by field, auditing each change."""
        ids = list(record_ids.values())
        existing = {
            record.id: record._mapping
            for part in _parts(ids, _in_list_size(self.session.connection()))
            for record in self.session.execute(
                select(self.table.c.id, *(self.table.c[c] for c in compared)).where(
                    self.table.c.id.in_(part)
                )
            )
        }
        rows = chunk.rows()
        updates, changes = [], []
        for k, record_id in record_ids.items():
            values = dict(rows[k], extra=chunk.extras[k])
            old = existing[record_id]
            changed = {c: values[c] for c in compared if values[c] != old[c]}
            if not changed:  # the same value stored in another form
                result.unchanged += 1
                continue
            changes += [
                {
                    "who": self.who,
                    "action": "import_update",
                    "entity": self.entity,
                    "entity_id": values[self.key],
                    "field": name,
                    "old": old[name],
                    "new": value,
                    "batch_id": self.batch_id,
                }
                for name, value in changed.items()
            ]
            updates.append(self.changed_record(record_id, changed))
        for record in updates:
            self.session.execute(
                update(self.table).where(self.table.c.id == record.pop("id")).values(**record)
            )
        audit.record_many(self.session, changes)
        result.updated += len(updates)

    def check(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        """Checks that need the database (e.g. a referenced case exists)."""
        return [], chunk

    def new_record_constants(self) -> dict[str, Any]:
        """Columns a new row gets besides its extract values."""
        return {"batch_id": self.batch_id, "created_at": self.now, "updated_at": self.now}

    def changed_record(self, record_id: int, changed: dict[str, Any]) -> dict[str, Any]:
        return dict(changed, id=record_id, batch_id=self.batch_id, updated_at=self.now)

    def finish(self, result: ImportResult) -> None:
        _build_indexes(self.session, self.deferred_indexes)
        if self.stale_trigger is not None:
            connection = self.session.connection()
            if result.inserted:
                dialect.mark_rank_stale(connection)
            connection.exec_driver_sql(self.stale_trigger)


REGION_TEAM_INDEX = "ix_intel_region_team"
ITEM_STATS_INDEX = "ix_stats_item"  # triage.stats.indexes
# A first chunk's rows whose time received is not before the previous row's,
# at least, for the statistics index to be kept up to date during a load;
# and its (region, team) pairs, at most, for that index.
ORDERED_SHARE = 0.9
FEW_REGION_TEAMS = 1000


class _IntelStore(_KeyedStore):
    table = tables.intel_item
    key = "intel_id"
    # A first load is paced by its reading process (parsing and validating:
    # about 10 s of CPU at 1,000,000 rows against the writer's 6.6 s of
    # inserts), so the writer has time to spare while it inserts, and none
    # while the reader waits for the index builds at the end. These two
    # indexes are kept up to date during the load: their keys start with
    # few values (region, team) or with the time received (an extract lists
    # items roughly in that order), so each row's entry goes near the last
    # one, in pages already cached. Building them afterwards was 1.7 s of
    # the writer's CPU after the last row, for about the same CPU spent
    # while the reader reads (docs/benchmarks.md, "Issue 17.2, seventh
    # session"). The subject and premises indexes start with values in no
    # order and are still built at the end: kept up to date, the subject
    # index alone cost the writer 7.7 s more. So the first chunk decides:
    # a file whose first rows are not in that order has the index dropped
    # and built at the end after all (``_dropped_if_out_of_order``).
    kept_while_loading = (REGION_TEAM_INDEX, ITEM_STATS_INDEX)

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        super().__init__(session, batch_id, who)
        self.order_unchecked = self.table_was_empty and self.sends_statements

    def load(self, chunk: Chunk, result: ImportResult) -> list[Rejected]:
        rejected = super().load(chunk, result)
        if self.order_unchecked and chunk.statements:
            self.order_unchecked = False
            self._dropped_if_out_of_order(chunk, chunk.statements)
        return rejected

    def _dropped_if_out_of_order(self, chunk: Chunk, statements: list[tuple[str, Any]]) -> None:
        """Drop a kept index (to be built at the end) when the first chunk's
        keys do not come in the order that makes keeping it cheap: the
        statistics index's times mostly rising row to row, the region and
        team index's pairs few."""
        names = [*chunk.names, "extra"]
        width, fixed = len(names), len(self.new_record_constants())

        def column(name: str) -> list[Any]:
            if name not in names:  # the file lacks it: NULL in every row
                return [None] * len(chunk)
            at = fixed + names.index(name)
            return [value for _sql, values in statements for value in values[at::width]]

        received = column("received_at")
        rising = sum(map(operator.le, received, received[1:]))
        out_of_order = []
        if rising < ORDERED_SHARE * (len(received) - 1):
            out_of_order.append(ITEM_STATS_INDEX)
        if len(set(zip(column("region"), column("team"), strict=True))) > FEW_REGION_TEAMS:
            out_of_order.append(REGION_TEAM_INDEX)
        if out_of_order:
            # The table's other indexes were set aside already: only these go.
            still_kept = tuple(set(self.kept_while_loading).difference(out_of_order))
            self.deferred_indexes += _drop_indexes(self.session, self.table, still_kept)

    def derive(self, chunk: Chunk) -> None:
        # The grading's three parts are stored beside it, and only from a file
        # that has the column: one without it leaves grading and parts as they are.
        if "grading" in chunk.names:
            gradings = chunk.column("grading")
            chunk.add_column("grade_source", [int(g[0]) if g else None for g in gradings])
            chunk.add_column("grade_intel", [g[1] if g else None for g in gradings])
            chunk.add_column("grade_handling", [g[3] if g else None for g in gradings])
        # The values statistics and the harm score read (store.item_values),
        # each only from a file that has its inputs, as the grading's parts.
        received = chunk.column("received_at")
        # The UK days come with the times: the validator parses both at once.
        chunk.add_column("received_uk_day", chunk.time_days["received_at"])
        if "passed_at" in chunk.names:
            passed = chunk.column("passed_at")
            chunk.add_column(
                "passed_within_48h",
                [
                    item_values.passed_within_48h(r, p)
                    for r, p in zip(received, passed, strict=True)
                ],
            )
        for source, name, compute in (
            ("sector", "sector_key", item_values.sector_key),
            ("harm_flags", "harm_flag_bits", item_values.harm_flag_bits),
        ):
            if source in chunk.names:
                values = chunk.column(source)
                known = {value: compute(value) for value in set(values)}  # few distinct
                chunk.add_column(name, [known[value] for value in values])
        if self.table_was_empty:  # every row is new (else derive_new, on the new rows)
            self.derive_new(chunk)

    def derive_new(self, chunk: Chunk) -> None:
        # The harm model's codes, exact for a new row (an input column the
        # file lacks is NULL in it); an updated row's from its stored columns
        # (_update).
        chunk.add_column(
            "harm_codes",
            item_values.harm_codes_column(
                {name: chunk.column(name) for name in chunk.names}, len(chunk)
            ),
        )

    def check_rows(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        if "passed_at" not in chunk.names:
            return [], chunk
        # Passed on before it was received is a typo in one of the two; kept,
        # it would count as meeting the 48-hour pass-on target.
        problems = {
            k: "passed_at: before received_at"
            for k, (received, passed) in enumerate(
                zip(chunk.column("received_at"), chunk.column("passed_at"), strict=True)
            )
            if passed is not None and passed < received
        }
        return chunk.split(problems)

    def new_record_constants(self) -> dict[str, Any]:
        return dict(super().new_record_constants(), status="open", carry_over_count=0)

    def changed_record(self, record_id: int, changed: dict[str, Any]) -> dict[str, Any]:
        record = super().changed_record(record_id, changed)
        if "received_at" in changed and "passed_within_48h" not in changed:
            # The file moved the receipt but not the 48-hour answer: test the
            # new receipt against the pass-on time now in force, the file's
            # if it moved that too, else the stored one.
            passed = (
                changed["passed_at"]
                if "passed_at" in changed
                else self.session.scalar(
                    select(self.table.c.passed_at).where(self.table.c.id == record_id)
                )
            )
            record["passed_within_48h"] = item_values.passed_within_48h(
                changed["received_at"], passed
            )
        if any(name in record for name in item_values.HARM_CODE_INPUTS):
            # The codes need every input and the file may not have them all:
            # computed from the stored row once it is updated (_update).
            record["harm_codes"] = None
            self.codes_to_compute.append(record_id)
        return record

    def _update(
        self, chunk: Chunk, record_ids: dict[int, int], compared: list[str], result: ImportResult
    ) -> None:
        self.codes_to_compute: list[int] = []
        super()._update(chunk, record_ids, compared, result)
        # The rows an update left without codes get them from their stored
        # columns, as migration 0019 gave every row: left NULL, each would be
        # scored by the slower SQL path until a file inserted it again.
        ids = self.codes_to_compute
        for part in _parts(ids, _in_list_size(self.session.connection())):
            self.session.execute(
                update(self.table)
                .where(self.table.c.id.in_(part))
                .values(harm_codes=literal_column(item_values.harm_codes_sql()))
            )


class _EmCaseStore(_KeyedStore):
    table = tables.em_case
    key = "case_id"


class _EmEventStore(_KeyedStore):
    table = tables.em_event
    key = "event_id"
    # Every row's case is checked here (check_rows, check) under the import's
    # write lock: SQLite's row-by-row look-up is left to one check at the end
    # (_references_checked_at_end).
    references_checked_here = table.name
    # A first load's writer waits on one reading process most of the time
    # (its inserts are cheap; validating four time columns is not): two
    # share the chunks (triage.imports.reading.Forked).
    reading_processes = 2

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        super().__init__(session, batch_id, who)
        # A first load into SQLite checks each row's case against the case
        # ids read here once, so its check needs no database and its chunks
        # are reduced to their statements where they are read (on the second
        # core for a large file), as a first load of cases or items is. The
        # import's transaction already holds SQLite's write lock (its batch
        # row): no case can come or go until it ends. (Read whole, by the
        # driver's own cursor: a first load is large as a rule, and through
        # SQLAlchemy's result rows 200,000 case ids took 0.65 s, a third of
        # that read directly.)
        self.known_cases: set[str] | None = None
        if self.table_was_empty and self.on_sqlite:
            raw: Any = session.connection().connection.dbapi_connection
            self.known_cases = {
                case_id for (case_id,) in raw.execute("SELECT case_id FROM em_case")
            }
            self.sends_statements = True

    def check_rows(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        if self.known_cases is None:
            return [], chunk
        return chunk.split(self._problems(chunk, self.known_cases))

    def check(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        if self.known_cases is not None:  # checked as the chunk was read
            return [], chunk
        known = _present(self.session, "em_case", "case_id", list(set(chunk.column("case_id"))))
        return chunk.split(self._problems(chunk, known))

    @staticmethod
    def _problems(chunk: Chunk, known: set[str]) -> dict[int, str]:
        """Events of no known case, and periods that end before they start."""
        case_ids = chunk.column("case_id")
        problems = {}
        if not known.issuperset(case_ids):  # the usual chunk: every case known
            problems = {
                k: "case_id: no such EM case"
                for k, case_id in enumerate(case_ids)
                if case_id not in known
            }
        if "ended_at" in chunk.names:
            # A period that ends before it starts would silently drop out
            # of the battery consolidation.
            started, ended = chunk.column("started_at"), chunk.column("ended_at")
            backwards = [
                k
                for k, (start, end) in enumerate(zip(started, ended, strict=True))
                if end is not None and end < start
            ]
            for k in backwards:
                problems.setdefault(k, "ended_at: before started_at")
        return problems

    def new_record_constants(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "created_at": self.now}

    def changed_record(self, record_id: int, changed: dict[str, Any]) -> dict[str, Any]:
        return dict(changed, id=record_id, batch_id=self.batch_id)


class _ServiceLevelStore(_KeyedStore):
    """Supplier service levels, keyed by measure and month together."""

    table = Base.metadata.tables[EmServiceLevel.__tablename__]
    key = "level_key"

    def derive(self, chunk: Chunk) -> None:
        chunk.add_column(
            "level_key",
            [
                f"{measure}|{month:%Y-%m}"
                for measure, month in zip(
                    chunk.column("measure"), chunk.column("month"), strict=True
                )
            ],
        )


class _ProcessIssueStore(_KeyedStore):
    table = Base.metadata.tables[EmProcessIssue.__tablename__]
    key = "issue_id"


_OUTCOMES = tables.tasking_outcome
_MEETINGS = tables.tasking_meeting
# The outcome columns an extract may carry besides its key, compared on a re-import.
_OUTCOME_VALUES = ("decision", "reason", "decided_by", "result", "result_at")
# The columns a new outcome gets besides those and its meeting and extra cells.
_NEW_OUTCOME_COLUMNS = ("item_id", "meeting_date", "decided_at")
_EPOCH = date(1970, 1, 1)


class _OutcomeStore:
    """Tasking outcomes: keyed by (item, meeting date); meetings made up as
    'imported' per region, team and date; item status kept in step.

    Column by column, as the keyed stores: each chunk's items are looked up
    in one query per part, the checks run over whole columns, and new
    outcomes go in as statements bound column by column."""

    # Every row's item is looked up and its meeting found or made here, under
    # the import's write lock: on a first load SQLite's row-by-row look-ups of
    # them are left to one check at the end (_references_checked_at_end).
    references_checked_here = _OUTCOMES.name

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        self.session = session
        self.batch_id = batch_id
        self.who = who
        self.now = clock.now()
        self.touched_items: set[int] = set()
        self.meetings: dict[tuple[str, str | None, Any], int] = {}
        # Days whose meetings are all in ``meetings`` (those held then, and
        # any this import made since): not read again for each chunk. SQLite
        # only (``_held_on``): the import's write lock keeps other writers out.
        self.days_read: set[Any] = set()
        self.day_starts: dict[Any, Any] = {}
        # meeting date -> days since 1970-01-01 (for ``prepare``'s checks)
        self.day_numbers: dict[date, int] = {}
        self.on_sqlite = not dialect.is_postgres(session)
        self.variable_limit = _variable_limit(session.connection())
        # No outcome stored before this import: none to compare with, since
        # an (item, meeting date) repeated in the file is rejected as a
        # repeated key, so no chunk meets one an earlier chunk stored.
        self.table_was_empty = session.execute(select(TaskingOutcome.id).limit(1)).first() is None
        # A first load builds the indexes once at the end, as a keyed store's.
        self.deferred_indexes = _drop_indexes(session, _OUTCOMES) if self.table_was_empty else []
        # A database file's items are looked up in ``prepare``, on the
        # reading thread, through a connection of the engine's own: its SQL
        # (0.4 s for 158,000 rows) runs beside the writer's instead of before
        # it. It reads what the writer reads: the import holds the write
        # lock from its first statement, and writes no item's id, region,
        # team or day of receipt. (PostgreSQL, an in-memory database: in
        # ``load``, on the import's own connection.)
        engine = session.get_bind().engine  # (the session may be bound to a connection)
        self.items_aside = (
            engine if self.on_sqlite and engine.url.database not in (None, "", ":memory:") else None
        )

    def prepare(self, chunk: Chunk) -> tuple[list[Rejected], Chunk]:
        if self.items_aside is None or not len(chunk):
            return [], chunk
        with self.items_aside.connect() as connection:
            rejected, chunk = self._checked(chunk, connection)
        if self.table_was_empty and len(chunk):
            # A first load: every row is new, so all but its meeting can be
            # put in stored form here, off the writer's thread (_insert).
            compared = [c for c in _OUTCOME_VALUES if c in chunk.names]
            values = self._new_values(chunk, chunk.column(_ITEM_COLUMN), compared, list)
            chunk.stored = self._stored_new(values, chunk.extras)
        return rejected, chunk

    def _checked(self, chunk: Chunk, connection: Connection) -> tuple[list[Rejected], Chunk]:
        """The chunk's rows that name no item, or contradict themselves or
        their item, rejected; each good row's item added as the column
        _ITEM_COLUMN."""
        intel_ids = chunk.column("intel_id")
        items = self._items(connection, list(set(intel_ids)))
        found = list(map(items.get, intel_ids))
        problems = self._problems(chunk, found)
        rejected, chunk = chunk.split(problems)
        # (A row naming no item is among the problems.)
        chunk.add_column(
            _ITEM_COLUMN,
            [item for k, item in enumerate(found) if item is not None and k not in problems],
        )
        return rejected, chunk

    def load(self, chunk: Chunk, result: ImportResult) -> list[Rejected]:
        if not len(chunk):
            return []
        rejected: list[Rejected] = []
        if _ITEM_COLUMN not in chunk.names:
            rejected, chunk = self._checked(chunk, self.session.connection())
            if not len(chunk):
                return rejected
        good = chunk.column(_ITEM_COLUMN)
        days = chunk.column("meeting_date")
        item_ids = list(map(_ITEM_ID, good))
        self.touched_items.update(item_ids)
        existing = {} if self.table_was_empty else self._existing(set(item_ids))
        if existing:
            new = [
                k for k, key in enumerate(zip(item_ids, days, strict=True)) if key not in existing
            ]
        else:
            new = list(range(len(chunk)))
        # A column the file does not have is left as it is, as for the other kinds.
        compared = [c for c in _OUTCOME_VALUES if c in chunk.names]
        if existing:
            self._update(chunk, good, existing, compared, result)
        if new:
            meeting_keys = list(zip(map(_REGION, good), map(_TEAM, good), days, strict=True))
            self._find_meetings(meeting_keys if len(new) == len(chunk) else
                                [meeting_keys[k] for k in new])  # fmt: skip
            self._insert(chunk, new, good, meeting_keys, compared)
            result.inserted += len(new)
        return rejected

    def _problems(self, chunk: Chunk, found: list[_Item | None]) -> dict[int, str]:
        """Rows that contradict themselves or the items they name (row index -> reason)."""
        # Only the three required columns are sure to be in the header.
        missing = [None] * len(chunk)
        reasons = chunk.column("reason") if "reason" in chunk.names else missing
        results = chunk.column("result") if "result" in chunk.names else missing
        columns = zip(
            found, chunk.column("decision"), reasons, results, chunk.column("meeting_date"),
            strict=True,
        )  # fmt: skip
        day_numbers = self.day_numbers
        for day in set(chunk.column("meeting_date")).difference(day_numbers):
            day_numbers[day] = (day - _EPOCH).days
        problems = {}
        for k, (item, decision, reason, outcome, day) in enumerate(columns):
            if item is None:
                problems[k] = "intel_id: no such intelligence item"
            elif decision == "rejected" and not reason:
                problems[k] = "reason: a rejection needs a reason code"
            elif outcome and decision != "accepted":
                problems[k] = "result: only an accepted task can have a result"
            elif day_numbers[day] < _RECEIVED_UK_DAY(item):
                # It would count as decided before it was received (age at decision < 0).
                received = _EPOCH + timedelta(days=_RECEIVED_UK_DAY(item))
                problems[k] = f"meeting_date: before the item was received ({received})"
        return problems

    def _existing(self, item_ids: set[int]) -> dict[tuple[int, Any], Any]:
        """The stored outcomes of these items, by (item, meeting date)."""
        found = {}
        for part in _parts(list(item_ids), _in_list_size(self.session.connection())):
            for outcome in self.session.execute(
                select(
                    TaskingOutcome.id,
                    TaskingOutcome.item_id,
                    TaskingOutcome.meeting_date,
                    *(getattr(TaskingOutcome, name) for name in _OUTCOME_VALUES),
                    TaskingOutcome.extra,
                ).where(TaskingOutcome.item_id.in_(part))
            ):
                found[(outcome.item_id, outcome.meeting_date)] = outcome
        return found

    def _update(
        self,
        chunk: Chunk,
        good: list[_Item],
        existing: dict[tuple[int, Any], Any],
        compared: list[str],
        result: ImportResult,
    ) -> None:
        """Update the chunk's stored outcomes that changed, field by field,
        auditing each change (a re-import: most rows are unchanged)."""
        columns = {name: chunk.column(name) for name in compared}
        columns["extra"] = chunk.extras
        intel_ids, days = chunk.column("intel_id"), chunk.column("meeting_date")
        changes = []
        for k, item in enumerate(good):
            old = existing.get((_ITEM_ID(item), days[k]))
            if old is None:
                continue
            changed = {
                name: values[k]
                for name, values in columns.items()
                if values[k] != getattr(old, name)
            }
            if not changed:
                result.unchanged += 1
                continue
            self.session.execute(
                update(TaskingOutcome)
                .where(TaskingOutcome.id == old.id)
                .values(**changed, batch_id=self.batch_id)
            )
            result.updated += 1
            changes += [
                {
                    "who": self.who,
                    "action": "import_update",
                    "entity": "tasking_outcome",
                    "entity_id": f"{intel_ids[k]}@{days[k]}",
                    "field": name,
                    "old": getattr(old, name),
                    "new": value,
                    "batch_id": self.batch_id,
                }
                for name, value in changed.items()
            ]
        audit.record_many(self.session, changes)

    def _insert(
        self,
        chunk: Chunk,
        new: list[int],
        good: list[_Item],
        meeting_keys: list[tuple[str, str | None, Any]],
        compared: list[str],
    ) -> None:
        """Insert the chunk's rows at ``new`` as outcomes of their meetings
        (``meeting_keys``: each row's region, team and meeting date)."""
        whole = len(new) == len(chunk)

        def picked(values: list[Any]) -> list[Any]:
            return list(values) if whole else [values[k] for k in new]

        meeting_ids = list(map(self.meetings.__getitem__, picked(meeting_keys)))
        if not self.on_sqlite:  # typed values through SQLAlchemy's insert
            values = self._new_values(chunk, good, compared, picked)
            values["meeting_id"] = meeting_ids
            rows = [
                dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)
            ]
            for row, extra in zip(rows, picked(chunk.extras), strict=True):
                row.update(extra=extra, batch_id=self.batch_id)
            self.session.execute(insert(_OUTCOMES), rows)
            return
        # Stored forms bound column by column, as a keyed store's first load:
        # all but the meetings made by ``prepare`` on the reading thread when
        # it could (a first load), else here.
        if chunk.stored is not None and whole:
            columns = list(chunk.stored)
        else:
            values = self._new_values(chunk, good, compared, picked)
            columns = self._stored_new(values, picked(chunk.extras))
        connection = self.session.connection()
        for sql, parameters in _column_statements(
            _OUTCOMES.name,
            [*compared, *_NEW_OUTCOME_COLUMNS, "extra", "meeting_id"],
            [*columns, meeting_ids],
            {"batch_id": self.batch_id},
            self.variable_limit,
        ):
            connection.exec_driver_sql(sql, parameters)

    def _new_values(
        self,
        chunk: Chunk,
        good: list[_Item],
        compared: list[str],
        picked: Callable[[list[Any]], list[Any]],
    ) -> dict[str, list[Any]]:
        """The values of the rows ``picked`` from the chunk as new outcomes,
        but their meetings and extra cells: ``compared``, then
        _NEW_OUTCOME_COLUMNS."""
        days = picked(chunk.column("meeting_date"))
        for day in set(days).difference(self.day_starts):
            self.day_starts[day] = clock.start_of_local_day(day)
        values: dict[str, list[Any]] = {name: picked(chunk.column(name)) for name in compared}
        values.update(
            item_id=list(map(_ITEM_ID, picked(good))),
            meeting_date=days,
            decided_at=list(map(self.day_starts.__getitem__, days)),
        )
        return values

    @staticmethod
    def _stored_new(
        values: dict[str, list[Any]], extras: list[dict[str, str] | None]
    ) -> list[list[Any]]:
        """``values`` and then ``extras`` in the form SQLite stores them (an
        empty extra as SQLAlchemy stores JSON's None: null)."""
        columns = [_stored(_OUTCOMES.c[name].type, column) for name, column in values.items()]
        columns.append(["null" if extra is None else _cells_json(extra) for extra in extras])
        return columns

    @staticmethod
    def _items(connection: Connection, keys: list[str]) -> dict[str, _Item]:
        """The items with these intel ids, by intel id."""
        found: dict[str, _Item] = {}
        for part in _parts(keys, _in_list_size(connection)):
            if dialect.is_postgres(connection):
                rows: Sequence[Any] = connection.execute(
                    select(
                        IntelItem.id,
                        IntelItem.region,
                        IntelItem.team,
                        IntelItem.received_uk_day,
                        IntelItem.intel_id,
                    ).where(IntelItem.intel_id.in_(part))
                ).all()
            else:
                # SQLite: a statement of plain placeholders (SQLAlchemy's
                # expanding IN names every parameter, chunk by chunk).
                rows = connection.exec_driver_sql(
                    "SELECT id, region, team, received_uk_day, intel_id "
                    f"FROM intel_item WHERE intel_id IN ({', '.join('?' * len(part))})",
                    tuple(part),
                ).all()  # fetched at once: row by row is a driver call each
            # Every item has its received_uk_day: each writer of an item fills
            # it (store.item_values; tests/store/test_item_values.py), and
            # migration 0016 filled the items stored before it.
            # The result's rows themselves, read by position (_ITEM_ID ...):
            # an object made for each, or a row's column read by name, cost
            # more than the look-up's SQL (0.5 us a row).
            found.update(zip(map(_INTEL_ID, rows), rows, strict=True))
        return found

    def _find_meetings(self, keys: list[tuple[str, str | None, Any]]) -> None:
        """Have ``meetings`` give the meeting of each (region, team, day):
        the one held that day if there is one, else one made up as
        'imported'. Looked up together, made together."""
        # In the order the rows first name them, as they were made one by one.
        wanted = [key for key in dict.fromkeys(keys) if key not in self.meetings]
        if not wanted:
            return
        # A day read before gave every meeting held on it: on SQLite the
        # import holds the write lock, so only its own come later, and those
        # it reads back below. (Each chunk names most days of the history;
        # the look-ups went from 0.12 to 0.095 s of the writer's CPU at
        # 158,320 rows, most of the rest reading back the days of the
        # meetings it made.) PostgreSQL lets another session hold a meeting
        # meanwhile: there every chunk reads its days again, or it would make
        # an 'imported' meeting beside that one.
        self._held_on(sorted({day for _, _, day in wanted}.difference(self.days_read)))
        missing = [key for key in wanted if key not in self.meetings]
        if not missing:
            return
        # Inserted in one statement, then read back with the others of their
        # days (no INSERT ... RETURNING, which SQLite before 3.35 lacks): as
        # ORM objects flushed one by one they cost 0.2 ms each.
        self.session.connection().execute(
            insert(_MEETINGS),  # Core's executemany, not the ORM's bulk insert
            [
                {
                    "region": region,
                    "team": team,
                    "held_on": day,
                    "status": "imported",
                    "opened_at": self.now,
                    "closed_at": self.now,
                }
                for region, team, day in missing
            ],
        )
        self._held_on(sorted({day for _, _, day in missing}))

    def _held_on(self, days: list[Any]) -> None:
        """Have ``meetings`` give the first meeting (lowest id) held on each
        of ``days`` for each region and team it names."""
        connection = self.session.connection()
        for day_part in _parts(days, min(500, _in_list_size(connection))):
            for found in connection.execute(  # Core: no ORM result for a look-up
                select(_MEETINGS.c.id, _MEETINGS.c.region, _MEETINGS.c.team, _MEETINGS.c.held_on)
                .where(_MEETINGS.c.held_on.in_(day_part))
                .order_by(_MEETINGS.c.id)
            ):
                key = (found.region, found.team, found.held_on)
                if key not in self.meetings:
                    self.meetings[key] = found.id
        if self.on_sqlite:  # no other writer until the import ends
            self.days_read.update(days)

    def finish(self, result: ImportResult) -> None:
        """Bring item status and carry-over counts in line with the history."""
        _build_indexes(self.session, self.deferred_indexes)
        # After a first load every item with an outcome is one it touched.
        refresh_item_status(self.session, None if self.table_was_empty else self.touched_items)


def _present(session: Session, table: str, column: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` the text column ``column`` of ``table`` holds."""
    connection = session.connection()
    found: set[str] = set()
    for part in _parts(keys, _in_list_size(connection)):
        if dialect.is_postgres(connection):
            column_ = Base.metadata.tables[table].c[column]
            found.update(connection.execute(select(column_).where(column_.in_(part))).scalars())
            continue
        # SQLite: plain placeholders (SQLAlchemy's expanding IN names and
        # renders every parameter, part by part).
        found.update(
            connection.exec_driver_sql(
                f"SELECT {column} FROM {table} WHERE {column} IN ({', '.join('?' * len(part))})",
                tuple(part),
            )
            .scalars()
            .all()  # fetched at once: row by row is a driver call each
        )
    return found


# Keys one look-up names at most on PostgreSQL (its driver allows 65,535
# parameters a statement): a chunk's.
PG_KEYS_PER_LOOKUP = 5000


def _in_list_size(connection: Connection, others: int = 0) -> int:
    """How many keys one ``IN (...)`` look-up may name beside ``others``
    parameters of its own: on SQLite the build's variable limit (999 where
    it cannot be asked, as with sqlcipher3), so a chunk's 5,000 keys go in
    parts on a build that allows fewer."""
    if connection.dialect.name != "sqlite":
        return max(1, PG_KEYS_PER_LOOKUP - others)
    return max(1, _variable_limit(connection) - others)


# An outcome's item, as its look-up's row: what its checks and its meeting
# need (id, region, team, received_uk_day: its UK day of receipt as days since
# 1970-01-01) and its intel_id, read by position at C speed.
_Item = Row[Any]
_ITEM_ID = itemgetter(0)
_REGION = itemgetter(1)
_TEAM = itemgetter(2)
_RECEIVED_UK_DAY = itemgetter(3)
_INTEL_ID = itemgetter(4)
# The chunk's column of its rows' items, added by _OutcomeStore._checked.
_ITEM_COLUMN = "_item"


def _parts(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def refresh_item_status(session: Session, item_ids: Iterable[int] | None) -> None:
    """Status from the latest decision; carry-overs = times not discussed.

    Set-based: one pass over these items' outcomes gives each its latest
    meeting date and its count of 'not discussed' (an item has one outcome
    per meeting date, so that date names its latest decision), and one
    UPDATE ... FROM writes the items whose status or count differs. Per
    item correlated subqueries cost 0.3 s more per 100,000 items, and a
    re-import that changes nothing now writes no item (nor marks the
    ranking stale). An item without any outcome is left as it is (every
    item an import touches has one). ``item_ids`` None: every item with an
    outcome (after a first load, each one it stored), without naming them."""
    parts = [None] if item_ids is None else _parts(list(item_ids), 20000)
    outcome = TaskingOutcome.__table__
    for part in parts:
        # The ids written into the statement, not bound: they are the
        # store's own integers, so no limit on parameters applies, and
        # SQLAlchemy coerces or names each bound one (0.2-0.3 s per
        # 100,000 items, more than a fifth of the statement's SQL).
        in_part = None if part is None else ", ".join(map(str, map(int, part)))
        # Each item's latest decision and count of 'not discussed': on
        # SQLite one pass over ix_stats_outcome (0.23-0.32 s against
        # 0.30-0.38 s with the latest outcomes joined back, at 158,320
        # outcomes; docs/benchmarks.md, session 8).
        latest = dialect.latest_per_key_with(
            session,
            outcome.c.item_id,
            outcome.c.meeting_date,
            outcome.c.decision,
            func.sum(case((outcome.c.decision == "not_discussed", 1), else_=0)).label("carried"),
            where=None if in_part is None else text(f"tasking_outcome.item_id IN ({in_part})"),
        )
        status = case(
            # Closed without a decision (a bridge item back in contact)
            # stays closed until a meeting accepts or rejects it.
            (
                and_(IntelItem.closed_at.is_not(None), latest.c.decision == "not_discussed"),
                "closed",
            ),
            (latest.c.decision == "not_discussed", "open"),
            else_=latest.c.decision,
        )
        session.execute(
            update(IntelItem)
            .where(
                IntelItem.id == latest.c.item_id,
                or_(
                    IntelItem.status.is_distinct_from(status),
                    IntelItem.carry_over_count.is_distinct_from(latest.c.carried),
                ),
            )
            .values(status=status, carry_over_count=latest.c.carried)
            # No item is held as an object in the import's session: nothing
            # to bring in step (the ORM would otherwise fetch every id).
            .execution_options(synchronize_session=False)
        )


# NULL as the driver's fastest type: sqlite3 binds a float directly, while
# None (like bool) first goes through its adapter lookup, which costs more
# than the insert itself on a wide row. SQLite stores a NaN as NULL
# (https://www.sqlite.org/floatingpoint.html); tests read the NULLs back.
_NULL = float("nan")


def _stored(column_type: Any, values: list[Any], null: Any = _NULL, raw: bool = False) -> list[Any]:
    """A column of values in the stored form SQLAlchemy's SQLite dialect
    writes (and the ORM reads back), ready to bind directly; ``raw``
    (PostgreSQL, whose driver binds typed values): the values themselves.
    A ``column_type`` of None: values already in stored form (but None)."""
    if raw:
        return [None if v is None else v for v in values]
    if isinstance(column_type, DateTime | Date):
        # Days and the times made from them (an outcome's decided_at) repeat:
        # each distinct value is written once. (An extract's times come with
        # their stored text from the validator: Chunk.time_texts.)
        timed = isinstance(column_type, DateTime)
        texts = {
            v: v.isoformat(" ", "microseconds") if timed else v.isoformat()
            for v in set(values)
            if v is not None
        }
        texts[None] = null
        return list(map(texts.__getitem__, values))
    if isinstance(column_type, JSON):
        return [null if v is None else json.dumps(v) for v in values]
    if isinstance(column_type, Boolean):
        return [null if v is None else int(v) for v in values]
    if None not in values:  # a column with a value in every row (checked at C speed)
        return values
    return [null if v is None else v for v in values]


def _stored_columns(
    table: Table, chunk: Chunk, null: Any = _NULL, raw: bool = False
) -> list[list[Any]]:
    """The chunk's columns and then its extras, in stored form."""
    columns = [
        _stored(table.c[name].type, values, null, raw)
        if raw or name not in chunk.time_texts
        else _stored(None, chunk.time_texts[name], null)
        for name, values in zip(chunk.names, chunk.columns, strict=True)
    ]
    extras = [extra or None for extra in chunk.extras]
    if raw:
        columns.append(_stored(table.c.extra.type, extras, null, raw))
    else:
        columns.append([null if extra is None else _cells_json(extra) for extra in extras])
    return columns


def _cells_json(cells: dict[str, str]) -> str:
    """``json.dumps`` of a row's extra cells (text to text), written with
    json's own C string encoder: the same text at half the cost."""
    return (
        "{" + ", ".join([f"{_json_string(k)}: {_json_string(v)}" for k, v in cells.items()]) + "}"
    )


def _bulk_insert(session: Session, table: Table, chunk: Chunk, constants: dict[str, Any]) -> None:
    """Insert new rows at driver speed: on SQLite, stored forms bound
    column by column (``_column_statements``)."""
    names = [*chunk.names, "extra", *constants]
    if dialect.is_postgres(session):  # typed values through SQLAlchemy's insert
        values = _stored_columns(table, chunk, null=None, raw=True)
        rows = [dict(zip(names, [*row, *constants.values()], strict=True))
                for row in zip(*values, strict=True)]  # fmt: skip
        # An empty JSON value is SQL NULL, as on SQLite (not JSON's null).
        json_nulls = {
            name: bindparam(name, type_=JSON(none_as_null=True))
            for name in names
            if isinstance(table.c[name].type, JSON)
        }
        session.execute(insert(table).values(json_nulls), rows)
        return
    connection = session.connection()
    statements = chunk.statements  # made by the store's prepare, or now
    if statements is None:
        statements = _column_statements(
            table.name,
            [*chunk.names, "extra"],
            chunk.stored or _stored_columns(table, chunk),
            {name: _stored(table.c[name].type, [value])[0] for name, value in constants.items()},
            _variable_limit(connection),
        )
    for sql, parameters in statements:
        connection.exec_driver_sql(sql, parameters)


# Rows per INSERT statement on SQLite, at most (fewer when the build allows
# fewer parameters per statement). A divisor of CHUNK: every statement of a
# chunk is the one SQL text, prepared once (a shorter last one would be
# another text to prepare).
ROWS_PER_INSERT = 500


def _variable_limit(connection: Connection) -> int:
    """How many parameters one statement may have on this SQLite build."""
    raw = connection.connection.dbapi_connection
    if connection.dialect.name != "sqlite" or raw is None:
        return 999
    getlimit = getattr(raw, "getlimit", None)
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if getlimit else 999


def _column_statements(
    table_name: str,
    names: list[str],
    columns: list[list[Any]],
    constants: dict[str, Any],
    variable_limit: int,
) -> list[tuple[str, Any]]:
    """The statements that insert rows given column by column (stored
    values in ``names`` order), each row also getting ``constants``.

    Each constant is one numbered parameter (``?1``, ``?2``, ...) named in
    every row; the rows' values follow as plain ``?``, row after row. The
    parameters are put in that order by one slice assignment per column,
    with no tuple per row. (Numbering the values column by column instead
    made SQLite's parser look each number up in a list of all those seen
    before: one prepare of a 500-row statement took 1-1.7 s of CPU.)"""
    width, count = len(names), len(columns[0])
    per = max(1, min(ROWS_PER_INSERT, (variable_limit - len(constants)) // width))
    fixed = list(constants.values())
    into = f"INSERT INTO {table_name} ({', '.join([*constants, *names])}) VALUES "
    statements: list[tuple[str, Any]] = []
    for start in range(0, count, per):
        rows = min(per, count - start)
        parameters: list[Any] = [*fixed, *repeat(None, rows * width)]
        for j, column in enumerate(columns):
            parameters[len(fixed) + j :: width] = column[start : start + rows]
        statements.append((_column_values_sql(into, width, len(fixed), rows), tuple(parameters)))
    return statements


@lru_cache(maxsize=8)
def _column_values_sql(into: str, width: int, constants: int, rows: int) -> str:
    """``into`` and the VALUES of ``rows`` rows: ``constants`` numbered
    parameters named in every row, then ``width`` plain ones."""
    row = "(" + ", ".join([*(f"?{k + 1}" for k in range(constants)), *("?" * width)]) + ")"
    return into + ", ".join([row] * rows)


def _drop_indexes(session: Session, table: Table, kept: tuple[str, ...] = ()) -> list[str]:
    """Drop ``table``'s secondary indexes but those named in ``kept``,
    returning the statements that rebuild them.

    For a first load into an empty table: building an index once from the
    loaded rows is about three times cheaper than updating it row by row.
    It all happens inside the import's transaction, so a cancel or crash
    leaves the indexes (and everything else) as they were. PostgreSQL keeps
    its indexes: the statements are SQLite's, and its index updates are cheap.

    A partial index (``... WHERE``) stays: it holds the few rows its
    condition picks (an item's EM case: none an extract sets), so keeping
    it costs each row only the test, while rebuilding it reads the whole
    table (0.2 s for a million items)."""
    if dialect.is_postgres(session):
        return []
    found: Sequence[tuple[str, str]] = session.execute(
        text(
            "SELECT m.name, m.sql FROM sqlite_master AS m "
            "JOIN pragma_index_list(:table) AS l ON l.name = m.name "
            "WHERE m.type = 'index' AND m.tbl_name = :table AND m.sql IS NOT NULL "
            "AND NOT l.partial"
        ),
        {"table": table.name},
    ).all()
    dropped = [(name, sql) for name, sql in found if name not in kept]
    for name, _sql in dropped:
        session.execute(text(f'DROP INDEX "{name}"'))
    return [sql for _name, sql in dropped]


# The page cache while a first load builds its indexes (KiB, as SQLite's
# negative cache_size): small enough that a million keys do not fit.
SORTING_CACHE_KIB = 16 * 1024


def _build_indexes(session: Session, statements: list[str]) -> None:
    """Build the indexes a first load set aside (``_drop_indexes``), their
    keys sorted in parts on SQLite's helper thread."""
    if statements:
        with _sorting_in_parts(session):
            for statement in statements:
                session.execute(text(statement))


@contextmanager
def _sorting_in_parts(session: Session) -> Iterator[None]:
    """SQLite sorts an index's keys on its helper threads (``PRAGMA
    threads``) only when they do not fit in the page cache's size: in one
    piece they are sorted on the caller's thread alone. So while the
    indexes are built the cache is made small (SORTING_CACHE_KIB): the keys
    are sorted in parts on the second core while the caller reads on,
    then merged. At 1,000,000 items the caller's CPU for the four index
    builds went from 4.5 to 2.9 s (docs/benchmarks.md). The pages that no
    longer fit are written to the WAL now instead of at the commit. The
    cache size is put back afterwards."""
    raw = session.connection().connection.dbapi_connection
    if raw is None:
        yield
        return
    before = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size=-{SORTING_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={before}")


def _text_lengths(kind: str) -> dict[str, int]:
    """The declared length of each of ``kind``'s stored text columns that has one."""
    store = _STORES[kind]
    table = _OUTCOMES if store is _OutcomeStore else getattr(store, "table", None)
    if table is None:
        return {}
    lengths = {
        column.name: column.type.length
        for column in table.c
        if isinstance(column.type, String) and column.type.length
    }
    if kind == "em-cases":  # its bridge item's id must fit too
        lengths["case_id"] = min(lengths["case_id"], bridge.LONGEST_CASE_ID)
    return lengths


_STORES: dict[str, Callable[[Session, int, str], Any]] = {
    "intel": _IntelStore,
    "em-cases": _EmCaseStore,
    "em-events": _EmEventStore,
    "outcomes": _OutcomeStore,
    "service-levels": _ServiceLevelStore,
    "process-issues": _ProcessIssueStore,
}
