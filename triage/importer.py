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
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Table, func, insert, select, update
from sqlalchemy.orm import Session

from triage import audit, clock, settings
from triage.columns import KINDS, ExtractKind, detect_kind, text
from triage.db import Database
from triage.extracts import Extract, ExtractRow, UnreadableFile
from triage.models import (
    EmCase,
    EmEvent,
    ImportBatch,
    IntelItem,
    QuarantinedRow,
    TaskingMeeting,
    TaskingOutcome,
)

__all__ = [
    "ImportCancelled",
    "ImportResult",
    "UnreadableFile",
    "detect_kind",
    "import_file",
    "reimport_quarantined",
]

CHUNK = 5000
Progress = Callable[[float, int], None]
"""Called with (fraction of the file read, rows read so far)."""


class ImportCancelled(Exception):
    """The user cancelled; the transaction was rolled back and nothing changed."""


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
        }


@dataclass
class _Row:
    line_no: int
    cells: list[str]
    values: dict[str, Any]
    extra: dict[str, str] | None


@dataclass
class _Rejected:
    row: ExtractRow
    reason: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    db: Database,
    kind: str,
    path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    mapping: dict[str, str] | None = None,
    who: str | None = None,
) -> ImportResult:
    """Import one extract file of ``kind``. See the module docstring."""
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
        )
    pipeline = _Pipeline(
        db, spec, header, extract.name, who or settings.current_user(),
        # Quarantined cells are kept under the names they were mapped to, so a
        # fixed row re-imports without its file's mapping profile.
        raw_header=[
            canonical if mapped else original
            for original, canonical, mapped in zip(
                extract.header, header, _mapped(extract.header, mapping), strict=True
            )
        ],
    )  # fmt: skip
    return pipeline.run(extract.rows(), file_sha256(path), progress, cancel, extract.fraction_read)


def reimport_quarantined(
    db: Database, row_id: int, fixed: dict[str, str] | None = None, who: str | None = None
) -> ImportResult:
    """Re-import a quarantined row after fixing cells in place.

    ``fixed`` maps header names to corrected cell text. On success the row is
    marked resolved; if it is still bad, its cells and reason are updated and
    it stays in the quarantine (``result.quarantined == 1``).
    """
    who = who or settings.current_user()
    with db.transaction() as session:
        stored = session.get(QuarantinedRow, row_id)
        if stored is None:
            raise KeyError(f"no quarantined row {row_id}")
        raw = dict(stored.raw)
        # Column names are case-insensitive: a fix replaces the cell it names.
        names = {name.strip().casefold(): name for name in raw}
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
    row = ExtractRow(line_no, [raw[h] for h in header_names])
    pipeline = _Pipeline(db, spec, header, file_name, who, raw_header=header_names)
    pipeline.retry_of = row_id
    digest = hashlib.sha256(_raw_text(row.cells).encode()).hexdigest()
    return pipeline.run(iter([row]), digest, None, None, lambda: 1.0)


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


def _identity(value: str) -> str:
    return value


def _raw_text(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _chunks(rows: Iterator[ExtractRow], size: int) -> Iterator[list[ExtractRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


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
        self.header = header
        self.raw_header = raw_header or header
        self.file_name = file_name
        self.who = who
        self.retry_of: int | None = None
        # Where each known column sits in a row; everything else is "extra".
        self.positions = [
            (i, column) for i, name in enumerate(header) if (column := spec.column(name))
        ]
        self.extra_positions = [
            (i, self.raw_header[i].strip())
            for i, name in enumerate(header)
            if name and spec.column(name) is None
        ]
        self.key_index = header.index(spec.key)
        self.plan = [
            (i, c, c.attribute, _identity if c.convert is text else c.convert,
             {} if c.repetitive else None)
            for i, c in self.positions
        ]  # fmt: skip
        self.seen_keys: dict[Any, int] = {}

    def run(
        self,
        rows: Iterator[ExtractRow],
        sha256: str,
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
        fraction_read: Callable[[], float],
    ) -> ImportResult:
        with self.db.transaction() as session:
            batch_id = session.execute(
                insert(ImportBatch).returning(ImportBatch.id),
                [
                    {
                        "kind": self.spec.name,
                        "file_name": self.file_name,
                        "sha256": sha256,
                        "imported_by": self.who,
                        "started_at": clock.now(),
                    }
                ],
            ).scalar_one()
            result = ImportResult(self.spec.name, self.file_name, sha256, batch_id)
            store = _STORES[self.spec.name](session, batch_id, self.who)
            for chunk in _chunks(rows, CHUNK):
                if cancel is not None and cancel():
                    raise ImportCancelled(
                        f"{self.file_name}: import cancelled; nothing was changed"
                    )
                result.rows_read += len(chunk)
                valid, rejected = self._validate(chunk)
                rejected += store.load(valid, result)
                self._quarantine(session, batch_id, rejected, result)
                if progress is not None:
                    progress(fraction_read(), result.rows_read)
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
        return result

    def _validate(self, chunk: list[ExtractRow]) -> tuple[list[_Row], list[_Rejected]]:
        valid: list[_Row] = []
        rejected: list[_Rejected] = []
        width = len(self.header)
        plan = self.plan
        for row in chunk:
            cells = row.cells
            if len(cells) != width:
                rejected.append(
                    _Rejected(row, f"the row has {len(cells)} cells, the header has {width}")
                )
                continue
            values: dict[str, Any] = {}
            problems = None
            # The hot loop of every import: plain locals, memoised codes.
            for i, column, attribute, convert, memo in plan:
                cell = cells[i]
                if cell and not cell.isspace():
                    if memo is not None and cell in memo:
                        values[attribute] = memo[cell]
                        continue
                    try:
                        value = convert(cell.strip())
                    except ValueError as error:
                        problems = (problems or []) + [f"{column.name}: {error}"]
                        continue
                    values[attribute] = value
                    if memo is not None and len(memo) < 10000:
                        memo[cell] = value
                else:
                    if column.required:
                        problems = (problems or []) + [f"{column.name}: required but empty"]
                    values[attribute] = None
            if problems is None:
                key = self._key(values)
                first = self.seen_keys.get(key)
                if first is not None:
                    problems = [f"{self.spec.key} {cells[self.key_index]!r} repeats line {first}"]
                else:
                    self.seen_keys[key] = row.line_no
            if problems:
                rejected.append(_Rejected(row, "; ".join(problems)))
                continue
            extra = {name: cells[i] for i, name in self.extra_positions if cells[i].strip()}
            valid.append(_Row(row.line_no, cells, values, extra or None))
        return valid, rejected

    def _key(self, values: dict[str, Any]) -> Any:
        if self.spec.name == "outcomes":
            return (values["intel_id"], values["meeting_date"])
        return values[self.spec.key]

    def _quarantine(
        self, session: Session, batch_id: int, rejected: list[_Rejected], result: ImportResult
    ) -> None:
        if not rejected:
            return
        result.quarantined += len(rejected)
        for item in rejected[: max(0, 20 - len(result.problems))]:
            result.problems.append((item.row.line_no, item.reason))
        if self.retry_of is not None:
            # A fixed row that is still bad stays the same quarantine entry.
            item = rejected[0]
            session.execute(
                update(QuarantinedRow)
                .where(QuarantinedRow.id == self.retry_of)
                .values(
                    raw=self._raw(item.row.cells),
                    raw_text=_raw_text(item.row.cells),
                    reason=item.reason,
                )
            )
            return
        # Importing the same file again does not list its bad rows twice: a
        # row already open in the quarantine (same file, line and text) stays
        # the one entry to fix.
        already = {
            (line_no, raw_text)
            for line_no, raw_text in session.execute(
                select(QuarantinedRow.line_no, QuarantinedRow.raw_text).where(
                    QuarantinedRow.status == "open",
                    QuarantinedRow.kind == self.spec.name,
                    QuarantinedRow.file_name == self.file_name,
                    QuarantinedRow.line_no.in_({item.row.line_no for item in rejected}),
                )
            )
        }
        texts = [(item, _raw_text(item.row.cells)) for item in rejected]
        records = [
            {
                "batch_id": batch_id,
                "kind": self.spec.name,
                "file_name": self.file_name,
                "line_no": item.row.line_no,
                "raw": self._raw(item.row.cells),
                "raw_text": raw_text,
                "reason": item.reason,
                "status": "open",
            }
            for item, raw_text in texts
            if (item.row.line_no, raw_text) not in already
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

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        self.session = session
        self.batch_id = batch_id
        self.who = who
        self.now = clock.now()
        self.entity = self.table.name
        # While the table is empty (a first load) there is nothing to look up:
        # keys repeated inside the file are already rejected by validation.
        self.table_was_empty = session.execute(select(self.table.c.id).limit(1)).first() is None

    def columns(self, rows: list[_Row]) -> list[str]:
        return list(rows[0].values) + ["extra"]

    def load(self, rows: list[_Row], result: ImportResult) -> list[_Rejected]:
        if not rows:
            return []
        rejected, rows = self.check(rows)
        if not rows:
            return rejected
        if self.table_was_empty:
            _bulk_insert(self.session, self.table, rows, self.new_record_constants())
            result.inserted += len(rows)
            return rejected
        compared = self.columns(rows)
        key_column = self.table.c[self.key]
        existing = {
            record._mapping[self.key]: record._mapping
            for record in self.session.execute(
                select(self.table.c.id, *(self.table.c[c] for c in compared)).where(
                    key_column.in_([r.values[self.key] for r in rows])
                )
            )
        }
        inserts, updates, changes = [], [], []
        for row in rows:
            values = dict(row.values, extra=row.extra)
            old = existing.get(values[self.key])
            if old is None:
                inserts.append(row)
                continue
            changed = {c: values[c] for c in compared if values[c] != old[c]}
            if not changed:
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
            updates.append(self.changed_record(old["id"], changed))
        if inserts:
            _bulk_insert(self.session, self.table, inserts, self.new_record_constants())
        for record in updates:
            self.session.execute(
                update(self.table).where(self.table.c.id == record.pop("id")).values(**record)
            )
        audit.record_many(self.session, changes)
        result.inserted += len(inserts)
        result.updated += len(updates)
        return rejected

    def check(self, rows: list[_Row]) -> tuple[list[_Rejected], list[_Row]]:
        """Checks that need the database (e.g. a referenced case exists)."""
        return [], rows

    def new_record_constants(self) -> dict[str, Any]:
        """Columns a new row gets besides its extract values."""
        return {"batch_id": self.batch_id, "created_at": self.now, "updated_at": self.now}

    def changed_record(self, record_id: int, changed: dict[str, Any]) -> dict[str, Any]:
        return dict(changed, id=record_id, batch_id=self.batch_id, updated_at=self.now)

    def finish(self, result: ImportResult) -> None:
        pass


class _IntelStore(_KeyedStore):
    table = IntelItem.__table__
    key = "intel_id"

    def load(self, rows: list[_Row], result: ImportResult) -> list[_Rejected]:
        # The grading's three parts are stored beside it, and only from a file
        # that has the column: one without it leaves grading and parts as they are.
        if rows and "grading" in rows[0].values:
            for row in rows:
                grading = row.values["grading"]
                row.values["grade_source"] = int(grading[0]) if grading else None
                row.values["grade_intel"] = grading[1] if grading else None
                row.values["grade_handling"] = grading[3] if grading else None
        return super().load(rows, result)

    def new_record_constants(self) -> dict[str, Any]:
        return dict(super().new_record_constants(), status="open", carry_over_count=0)


class _EmCaseStore(_KeyedStore):
    table = EmCase.__table__
    key = "case_id"


class _EmEventStore(_KeyedStore):
    table = EmEvent.__table__
    key = "event_id"

    def check(self, rows: list[_Row]) -> tuple[list[_Rejected], list[_Row]]:
        wanted = {r.values["case_id"] for r in rows}
        known = set(self.session.scalars(select(EmCase.case_id).where(EmCase.case_id.in_(wanted))))
        good, bad = [], []
        for r in rows:
            ended = r.values.get("ended_at")
            if r.values["case_id"] not in known:
                problem = f"case_id: no EM case {r.values['case_id']!r}"
            elif ended is not None and ended < r.values["started_at"]:
                # A period that ends before it starts would silently drop out
                # of the battery consolidation.
                problem = "ended_at: before started_at"
            else:
                good.append(r)
                continue
            bad.append(_Rejected(ExtractRow(r.line_no, r.cells), problem))
        return bad, good

    def new_record_constants(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "created_at": self.now}

    def changed_record(self, record_id: int, changed: dict[str, Any]) -> dict[str, Any]:
        return dict(changed, id=record_id, batch_id=self.batch_id)


class _OutcomeStore:
    """Tasking outcomes: keyed by (item, meeting date); meetings made up as
    'imported' per region, team and date; item status kept in step."""

    def __init__(self, session: Session, batch_id: int, who: str) -> None:
        self.session = session
        self.batch_id = batch_id
        self.who = who
        self.now = clock.now()
        self.touched_items: set[int] = set()
        self.meetings: dict[tuple[str, str | None, Any], int] = {}

    def load(self, rows: list[_Row], result: ImportResult) -> list[_Rejected]:
        if not rows:
            return []
        items = {
            r.intel_id: r
            for r in self.session.execute(
                select(
                    IntelItem.id,
                    IntelItem.intel_id,
                    IntelItem.region,
                    IntelItem.team,
                    IntelItem.received_at,
                ).where(IntelItem.intel_id.in_({row.values["intel_id"] for row in rows}))
            )
        }
        rejected, good = [], []
        for row in rows:
            values = row.values
            item = items.get(values["intel_id"])
            received = clock.to_local(item.received_at).date() if item else None
            if item is None:
                problem = f"intel_id: no intelligence item {values['intel_id']!r}"
            # Only the three required columns are sure to be in the header.
            elif values["decision"] == "rejected" and not values.get("reason"):
                problem = "reason: a rejection needs a reason code"
            elif values.get("result") and values["decision"] != "accepted":
                problem = "result: only an accepted task can have a result"
            elif values["meeting_date"] < received:
                # It would count as decided before it was received (age at decision < 0).
                problem = f"meeting_date: before the item was received ({received})"
            else:
                good.append(row)
                continue
            rejected.append(_Rejected(ExtractRow(row.line_no, row.cells), problem))
        if not good:
            return rejected
        item_ids = {items[r.values["intel_id"]].id for r in good}
        existing = {
            (o.item_id, o.meeting_date): o
            for o in self.session.execute(
                select(
                    TaskingOutcome.id,
                    TaskingOutcome.item_id,
                    TaskingOutcome.meeting_date,
                    TaskingOutcome.decision,
                    TaskingOutcome.reason,
                    TaskingOutcome.decided_by,
                    TaskingOutcome.result,
                    TaskingOutcome.result_at,
                    TaskingOutcome.extra,
                ).where(TaskingOutcome.item_id.in_(item_ids))
            )
        }
        # A column the file does not have is left as it is, as for the other kinds.
        compared = tuple(
            c
            for c in ("decision", "reason", "decided_by", "result", "result_at")
            if c in good[0].values
        ) + ("extra",)
        inserts, changes = [], []
        for row in good:
            item = items[row.values["intel_id"]]
            values = {c: row.values[c] for c in compared if c != "extra"}
            values["extra"] = row.extra
            old = existing.get((item.id, row.values["meeting_date"]))
            self.touched_items.add(item.id)
            if old is None:
                meeting_id = self._meeting(item.region, item.team, row.values["meeting_date"])
                inserts.append(
                    dict(
                        values,
                        item_id=item.id,
                        meeting_id=meeting_id,
                        meeting_date=row.values["meeting_date"],
                        decided_at=clock.start_of_local_day(row.values["meeting_date"]),
                        batch_id=self.batch_id,
                    )
                )
                continue
            changed = {c: values[c] for c in compared if values[c] != getattr(old, c)}
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
                    "entity_id": f"{row.values['intel_id']}@{row.values['meeting_date']}",
                    "field": name,
                    "old": getattr(old, name),
                    "new": value,
                    "batch_id": self.batch_id,
                }
                for name, value in changed.items()
            ]
        if inserts:
            self.session.execute(insert(TaskingOutcome), inserts)
            result.inserted += len(inserts)
        audit.record_many(self.session, changes)
        return rejected

    def _meeting(self, region: str, team: str | None, day: Any) -> int:
        key = (region, team, day)
        if key not in self.meetings:
            found = self.session.scalar(
                select(TaskingMeeting.id).where(
                    TaskingMeeting.region == region,
                    TaskingMeeting.team.is_(None) if team is None else TaskingMeeting.team == team,
                    TaskingMeeting.held_on == day,
                )
            )
            if found is None:
                found = self.session.execute(
                    insert(TaskingMeeting).returning(TaskingMeeting.id),
                    [
                        {
                            "region": region,
                            "team": team,
                            "held_on": day,
                            "status": "imported",
                            "opened_at": self.now,
                            "closed_at": self.now,
                        }
                    ],
                ).scalar_one()
            self.meetings[key] = found
        return self.meetings[key]

    def finish(self, result: ImportResult) -> None:
        """Bring item status and carry-over counts in line with the history."""
        refresh_item_status(self.session, self.touched_items)


def refresh_item_status(session: Session, item_ids: Iterable[int]) -> None:
    """Status from the latest decision; carry-overs = times not discussed."""
    ids = list(item_ids)
    for start in range(0, len(ids), 20000):
        part = ids[start : start + 20000]
        latest = (
            select(TaskingOutcome.decision)
            .where(TaskingOutcome.item_id == IntelItem.id)
            .order_by(
                TaskingOutcome.meeting_date.desc(),
                TaskingOutcome.decided_at.desc(),
                TaskingOutcome.id.desc(),
            )
            .limit(1)
            .scalar_subquery()
        )
        carried = (
            select(func.count())
            .where(
                TaskingOutcome.item_id == IntelItem.id,
                TaskingOutcome.decision == "not_discussed",
            )
            .scalar_subquery()
        )
        session.execute(
            update(IntelItem)
            .where(IntelItem.id.in_(part))
            .values(
                status=func.coalesce(
                    func.nullif(func.replace(latest, "not_discussed", "open"), ""), "open"
                ),
                carry_over_count=carried,
            )
        )


def _storage_encoder(column_type: Any) -> Callable[[Any], Any] | None:
    """How SQLAlchemy's SQLite dialect stores a Python value, done directly.

    The bulk path hands tuples straight to the driver, so values must already
    be in the stored form the ORM reads back (same as the dialect writes)."""
    if isinstance(column_type, DateTime):
        return lambda v: v.isoformat(" ", "microseconds")
    if isinstance(column_type, Date):
        return date.isoformat
    if isinstance(column_type, JSON):
        return json.dumps
    return None


def _bulk_insert(
    session: Session, table: Table, rows: list[_Row], constants: dict[str, Any]
) -> None:
    """Insert new rows at driver speed: one Core executemany of plain tuples."""
    value_names = list(rows[0].values)
    names = value_names + ["extra", *constants]
    encoders = [_storage_encoder(table.c[name].type) for name in value_names]
    encoded = [(i, e) for i, e in enumerate(encoders) if e is not None]
    tail = tuple(_encode(table, name, value) for name, value in constants.items())
    dump = json.dumps
    records = []
    for row in rows:
        values = list(row.values.values())
        for i, encode in encoded:
            if values[i] is not None:
                values[i] = encode(values[i])
        values.append(dump(row.extra) if row.extra else None)
        records.append((*values, *tail))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    session.connection().exec_driver_sql(sql, records)


def _encode(table: Table, name: str, value: Any) -> Any:
    encoder = _storage_encoder(table.c[name].type)
    return value if value is None or encoder is None else encoder(value)


_STORES: dict[str, Callable[[Session, int, str], Any]] = {
    "intel": _IntelStore,
    "em-cases": _EmCaseStore,
    "em-events": _EmEventStore,
    "outcomes": _OutcomeStore,
}
