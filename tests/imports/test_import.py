"""Importing every extract kind: validation, quarantine, re-imports, atomicity."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from actors import EVERYONE, as_user
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from triage.cli.main import main as cli
from triage.em import bridge
from triage.imports import importer
from triage.imports.importer import (
    UnreadableFile,
    detect_kind,
    discard_quarantined,
    import_file,
    reimport_quarantined,
)
from triage.imports.reading import CHUNK
from triage.intel.models import RankState
from triage.jobs import Cancelled, Job
from triage.store import db as store_db
from triage.store.db import open_database
from triage.store.faults import StoreDamaged
from triage.store.models import (
    AuditEntry,
    EmCase,
    EmEvent,
    ImportBatch,
    IntelItem,
    QuarantinedRow,
    TaskingMeeting,
    TaskingOutcome,
)

INTEL_HEADER = (
    "intel_id,received_at,region,team,source_type,grading,subject_named,subject_ref,"
    "nationality,whereabouts,postcode,business_name,sector,persons_estimated,allegation,"
    "harm_flags,campaign,bucket,summary"
)


def write(path: Path, text_: str, encoding: str = "utf-8") -> Path:
    path.write_text(text_, encoding=encoding)
    return path


def intel_csv(tmp_path: Path, *rows: str, name: str = "intel.csv") -> Path:
    return write(tmp_path / name, "\n".join((INTEL_HEADER, *rows)) + "\n")


GOOD_INTEL = (
    "I-1,2026-07-01T10:00:00,LSE,London North,public,2b p,Yes,S1,alb,known,sw1a1aa,"
    "Joe's Cafe,Catering,3,illegal_working,weapon;FNO,,4,a summary",
    "I-2,2026-01-10,North Midlands Wales and South West,,police,,,,,,,,,,,,,,",
)


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


# --- intelligence items -----------------------------------------------------


def test_intel_values_are_converted_as_the_contract_says(db, tmp_path):
    result = import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    assert (result.rows_read, result.inserted, result.quarantined) == (2, 2, 0)
    with db.transaction() as session:
        item = session.scalar(select(IntelItem).where(IntelItem.intel_id == "I-1"))
        # 10:00 UK summer time is 09:00 UTC.
        assert item.received_at == datetime(2026, 7, 1, 9, 0)
        assert item.region == "LSE"
        assert (item.grading, item.grade_source, item.grade_intel, item.grade_handling) == (
            "2B P",
            2,
            "B",
            "P",
        )
        assert item.subject_named is True
        assert item.nationality == "ALB"
        assert item.postcode == "SW1A 1AA"
        assert item.sector == "catering"
        assert item.harm_flags == ";fno;weapon;"
        assert item.upstream_bucket == 4
        assert item.status == "open"
        assert item.batch_id == result.batch_id
        other = session.scalar(select(IntelItem).where(IntelItem.intel_id == "I-2"))
        assert other.region == "NMWSW"
        # Empty means unknown, never false or zero.
        assert other.subject_named is None
        assert other.persons_estimated is None
        assert other.received_at == datetime(2026, 1, 10, 0, 0)  # GMT in winter
        # Stored as SQL NULL (the bulk path binds NULL as a NaN, which SQLite
        # must turn into NULL, never a number).
        stored = session.execute(
            text(
                "SELECT team IS NULL, subject_named IS NULL, persons_estimated IS NULL, "
                "extra IS NULL FROM intel_item WHERE intel_id = 'I-2'"
            )
        ).one()
        assert tuple(stored) == (True,) * 4


def test_bad_intel_rows_are_quarantined_with_line_and_reason(db, tmp_path):
    path = intel_csv(
        tmp_path,
        GOOD_INTEL[0],
        "I-3,yesterday,LSE,,,,,,,,,,,,,,,,",
        "I-4,2026-01-01,Atlantis,,,,,,,,,,,,,,,,",
        "I-5,2026-01-01,LSE,,,,,,,,,,,,,,,9,",
        ",2026-01-01,LSE,,,,,,,,,,,,,,,,",
        "I-6,2026-01-01,LSE",
        "I-1,2026-01-01,LSE,,,,,,,,,,,,,,,,",
        "I-7,2026-01-01,LSE,,,,,,,,,,,,,unicorns,,,",
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.rows_read, result.inserted, result.quarantined) == (8, 1, 7)
    reasons = dict(result.problems)
    assert reasons[3].startswith("received_at: not a date") and "yesterday" not in reasons[3]
    assert reasons[4].startswith("region: not a known region")
    assert "bucket" in reasons[5]
    assert "intel_id: required but empty" in reasons[6]
    assert "3 cells" in reasons[7]
    assert "repeats line 2" in reasons[8]
    assert reasons[9].startswith("harm_flags: a value that is not allowed")
    with db.transaction() as session:
        stored = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.line_no)).all()
        assert [row.line_no for row in stored] == [3, 4, 5, 6, 7, 8, 9]
        assert all(row.file_name == "intel.csv" and row.status == "open" for row in stored)
        assert stored[0].raw["received_at"] == "yesterday"
        assert stored[0].raw_text.startswith("I-3,yesterday,LSE")
        batch = session.get(ImportBatch, result.batch_id)
        assert (batch.rows_read, batch.inserted, batch.quarantined) == (8, 1, 7)
        assert len(batch.sha256) == 64
    # The same file again: its bad rows are still reported, but listed once.
    again = import_file(db, "intel", path, actor=EVERYONE)
    assert again.quarantined == 7
    assert count(db, QuarantinedRow) == 7
    # A changed bad row is a new entry beside the old one.
    edited = path.read_text().replace("I-3,yesterday", "I-3,last week")
    import_file(db, "intel", write(path, edited), actor=EVERYONE)
    assert count(db, QuarantinedRow) == 8


def test_unknown_columns_are_kept_and_headers_are_case_insensitive(db, tmp_path):
    path = write(
        tmp_path / "odd.csv",
        "\ufeffIntel_ID,RECEIVED_AT,Region,Officer Note,Empty Extra\n"
        "X-1,2026-02-02,sni,call back Tuesday,\n",
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert result.inserted == 1
    with db.transaction() as session:
        item = session.scalar(select(IntelItem))
        assert item.region == "SNI"
        assert item.extra == {"Officer Note": "call back Tuesday"}


def test_reimport_updates_changes_audits_them_and_never_duplicates(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    again = import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = GOOD_INTEL[0].replace(",known,", ",unknown,")
    third = import_file(
        db, "intel", intel_csv(tmp_path, changed, GOOD_INTEL[1], name="v3.csv"), actor=EVERYONE
    )
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 1)
    assert count(db, IntelItem) == 2
    # A value stored in another form (no microseconds, as another writer
    # might store it) is the same value: unchanged, nothing audited.
    with db.transaction() as session:
        session.execute(
            text("UPDATE intel_item SET received_at = '2026-01-10 00:00:00' WHERE intel_id = 'I-2'")
        )
    fourth = import_file(
        db, "intel", intel_csv(tmp_path, changed, GOOD_INTEL[1], name="v3.csv"), actor=EVERYONE
    )
    assert (fourth.inserted, fourth.updated, fourth.unchanged) == (0, 0, 2)
    with db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_update"))
        assert (entry.entity, entry.entity_id, entry.field) == ("intel_item", "I-1", "whereabouts")
        assert (entry.old_value, entry.new_value) == ("known", "unknown")
        assert entry.batch_id == third.batch_id
        assert entry.who
    # A file without the grading column leaves the grading and its parts alone.
    without = write(tmp_path / "v4.csv", "intel_id,received_at,region\nI-1,2026-07-01T10:00,LSE\n")
    import_file(db, "intel", without, actor=EVERYONE)
    with db.transaction() as session:
        item = session.scalar(select(IntelItem).where(IntelItem.intel_id == "I-1"))
        assert (item.grading, item.grade_source, item.grade_intel, item.grade_handling) == (
            "2B P",
            2,
            "B",
            "P",
        )


def test_xlsx_imports_like_csv(db, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(INTEL_HEADER.split(","))
    sheet.append(
        ["X-1", datetime(2026, 7, 1, 10, 0), "LSE", None, "public", "1A C", True, "S9", "IND"]
        + [None] * 4
        + [12, "illegal_working", "weapon", None, 3, "from Excel"]
    )
    sheet.append(["X-2", "not a date", "LSE"])
    workbook.save(tmp_path / "intel.xlsx")
    result = import_file(db, "intel", tmp_path / "intel.xlsx", actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (1, 1)
    assert result.problems[0][0] == 3
    with db.transaction() as session:
        item = session.scalar(select(IntelItem))
        assert item.received_at == datetime(2026, 7, 1, 9, 0)
        assert (item.subject_named, item.persons_estimated, item.upstream_bucket) == (True, 12, 3)


def test_xlsx_rows_without_trailing_empty_cells_import(db, tmp_path):
    # Writers need not store empty cells at the end of a row, nor the sheet's size.
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["intel_id", "received_at", "region", "team", "summary"])
    sheet.append(["X-1", datetime(2026, 7, 1, 10, 0), "LSE"])
    sheet.append(["X-2", "2026-07-02", "SNI", None, "a summary"])
    workbook.save(tmp_path / "short.xlsx")
    seen = []
    job = Job(lambda fraction, _message: seen.append(fraction))
    result = import_file(db, "intel", tmp_path / "short.xlsx", job=job, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (2, 0)
    assert seen and all(0.0 <= f <= 1.0 for f in seen)


# --- unusable files change nothing -------------------------------------------


def test_windows_1252_is_read_and_named(db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        (INTEL_HEADER + "\nI-1,2026-01-01,LSE,,,,,,,,,,,,,,,,\n").encode()
        + "I-2,2026-01-01,LSE,,,,,,,,,Café – Rouge,,,,,,,\n".encode("cp1252")
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.inserted, result.encoding) == (2, "Windows-1252")
    with db.transaction() as session:
        stored = select(IntelItem.business_name).where(IntelItem.intel_id == "I-2")
        assert session.scalar(stored) == "Café – Rouge"


@pytest.mark.sqlite_only("compares the database file's dump")
def test_text_in_no_known_encoding_changes_nothing_and_names_the_line(db, tmp_path):
    # 0x81 is neither UTF-8 on its own nor a Windows-1252 character.
    path = tmp_path / "odd.csv"
    path.write_bytes(
        (INTEL_HEADER + "\nI-1,2026-01-01,LSE,,,,,,,,,,,,,,,,\n").encode()
        + b"I-2,2026-01-01,LSE,,,,,,,,,Caf\x81,,,,,,,\n"
    )
    before = dump(db.path)
    with pytest.raises(UnreadableFile, match=r"odd.csv: line 3: not UTF-8 or Windows-1252"):
        import_file(db, "intel", path, actor=EVERYONE)
    assert dump(db.path) == before


def test_a_bad_byte_past_the_first_megabyte_is_named_by_its_line(tmp_path):
    # The check reads the file a megabyte at a time and counts the lines
    # before the one that fails only when one does: past the first block the
    # line must still be the right one.
    from triage.imports.extracts import Extract

    row = "I-{n},2026-01-01,LSE,,,,,,,,,,,,,,,,\n"
    rows = "".join(row.format(n=n) for n in range(40000))  # about 1.5 MB
    path = tmp_path / "odd.csv"
    path.write_bytes(
        (INTEL_HEADER + "\n" + rows).encode() + b"I-x,2026-01-01,LSE,,,,,,,,,Caf\x81,,,,,,,\n"
    )
    assert path.stat().st_size > 1 << 20
    with pytest.raises(UnreadableFile, match=r"odd.csv: line 40002: not UTF-8 or Windows-1252"):
        Extract(path)


def test_missing_required_column_changes_nothing(db, tmp_path):
    path = write(tmp_path / "short.csv", "intel_id,region\nI-1,LSE\n")
    with pytest.raises(UnreadableFile, match="short.csv: missing required column received_at"):
        import_file(db, "intel", path, actor=EVERYONE)
    assert count(db, ImportBatch) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\x01binary\x00", "not a CSV or XLSX"), (b"PK\x03\x04junk", "XLSX")],
)
def test_unreadable_files_get_one_clear_message(db, tmp_path, content, message):
    path = tmp_path / "weird.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        import_file(db, "intel", path, actor=EVERYONE)
    assert count(db, ImportBatch) == 0


def test_cancel_rolls_everything_back(db, tmp_path):
    rows = [f"C-{n},2026-01-01,LSE,,,,,,,,,,,,,,,," for n in range(12000)]
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled) as stopped:
        import_file(db, "intel", intel_csv(tmp_path, *rows), job=job, actor=EVERYONE)
    assert stopped.value.partial is None
    assert count(db, IntelItem) == 0 and count(db, ImportBatch) == 0


def test_progress_is_reported_up_to_the_whole_file(db, tmp_path):
    rows = [f"P-{n},2026-01-01,LSE,,,,,,,,,,,,,,,," for n in range(12000)]
    seen = []
    job = Job(lambda fraction, message: seen.append((fraction, message)))
    import_file(db, "intel", intel_csv(tmp_path, *rows), job=job, actor=EVERYONE)
    assert seen[-1] == (1.0, "12,000 rows read")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


KILL_CHILD = """
import sys
from triage.store.db import open_database
from triage.imports import importer
from triage.imports.importer import import_file

if sys.argv[3] == "forked":
    importer.LARGE_IMPORT_BYTES = 0  # read in a forked process

from triage.jobs import Job

def progress(fraction, message):
    print("writing", flush=True)

from triage.users import ALL_ROLES, Actor

import_file(
    open_database(sys.argv[1]), "intel", sys.argv[2], job=Job(progress),
    actor=Actor("tester", ALL_ROLES),
)
print("finished", flush=True)
"""


@pytest.mark.sqlite_only("compares the database file's dump")
@pytest.mark.parametrize(
    ("first_load", "reading"),
    [(False, "thread"), (True, "thread"), (True, "forked")],
    ids=["update", "first-load", "first-load-forked"],
)
def test_sigkill_mid_import_leaves_the_database_as_it_was(db, tmp_path, first_load, reading):
    # A first load into an empty table drops its indexes and rebuilds them
    # at the end: killed in between, the indexes must still be there.
    if not first_load:
        import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    db.close()
    before = dump(db.path)
    big = intel_csv(
        tmp_path,
        *(f"K-{n},2026-01-01,LSE,,public,2B P,yes,S{n},,known,,,,1,,,,6," for n in range(150000)),
        name="big.csv",
    )
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, db.location, str(big), reading],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    # The first progress report comes after the first chunk was written
    # inside the open transaction: kill it there, part-way through the file.
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert dump(db.path) == before
    reopened = open_database(db.location)
    assert count(reopened, IntelItem) == (0 if first_load else 2)
    reopened.close()


@pytest.mark.sqlite_only("SQLite drops and rebuilds indexes on a first load")
def test_a_first_load_leaves_every_index_in_place(db, tmp_path):
    def indexes() -> list[tuple[str, str]]:
        with db.transaction() as session:
            return session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
            ).all()

    before = indexes()
    assert any(name == "ix_intel_subject_received" for name, _sql in before)
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    assert indexes() == before


@pytest.mark.sqlite_only("SQLite drops and rebuilds indexes on a first load")
def test_a_first_load_keeps_partial_indexes_in_place(db):
    # A partial index holds the few rows its condition picks: kept, it costs
    # each row the test; rebuilt, it would read the whole table.
    from triage.imports.importer import _drop_indexes

    session = db.sessions()
    try:
        rebuilt = _drop_indexes(session, IntelItem.__table__)
        left = session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'intel_item'")
        ).scalars()
        assert "ix_intel_em_case" in set(left)
        assert any("ix_intel_subject_received" in sql for sql in rebuilt)
        assert not any("ix_intel_em_case" in sql for sql in rebuilt)
    finally:
        session.rollback()
        session.close()


@pytest.mark.sqlite_only("SQLite drops and rebuilds indexes on a first load")
def test_a_first_load_keeps_the_near_ordered_indexes_up_to_date(db, tmp_path):
    # The region/team and statistics indexes are not dropped and rebuilt but
    # kept up to date row by row: they exist under those names (a renamed
    # index would silently be rebuilt again), are not among the rebuilt, and
    # hold every row after the import.
    from triage.imports.importer import _drop_indexes, _IntelStore

    kept = _IntelStore.kept_while_loading
    session = db.sessions()
    try:
        names = set(
            session.execute(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'intel_item'"
                )
            ).scalars()
        )
        assert set(kept) <= names
        rebuilt = _drop_indexes(session, IntelItem.__table__, kept)
        assert rebuilt
        assert not any(name in sql for name in kept for sql in rebuilt)
    finally:
        session.rollback()
        session.close()
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        for name in kept:
            indexed = connection.exec_driver_sql(
                f"SELECT count(*) FROM intel_item INDEXED BY {name}"  # noqa: S608 - our names
            ).scalar()
            assert indexed == count(db, IntelItem) == len(GOOD_INTEL)


@pytest.mark.sqlite_only("SQLite drops and rebuilds indexes on a first load")
@pytest.mark.parametrize(
    ("order", "built_too"),
    [("rising", set()), ("falling", {"ix_stats_item"}), ("many teams", {"ix_intel_region_team"})],
)
def test_a_kept_index_is_built_at_the_end_when_the_first_rows_are_out_of_its_order(
    db, tmp_path, monkeypatch, order, built_too
):
    # Kept up to date row by row, an index whose entries land anywhere costs
    # the writer several times its build: the first chunk's times falling, or
    # its (region, team) pairs many, send that index to the builds at the end.
    import re

    from triage.imports import importer

    built: list[str] = []
    building = importer._build_indexes

    def watched(session, statements):
        built.extend(re.search(r"INDEX (\w+)", sql).group(1) for sql in statements)
        building(session, statements)

    monkeypatch.setattr(importer, "_build_indexes", watched)
    rows = 1200

    def row(n: int) -> str:
        minute = rows - n if order == "falling" else n
        team = f"T{n}" if order == "many teams" else "North"
        return f"I-{n},2026-01-01T{minute // 60:02d}:{minute % 60:02d},LSE,{team}" + "," * 15

    import_file(db, "intel", intel_csv(tmp_path, *map(row, range(rows))), actor=EVERYONE)
    assert set(built) == {"ix_intel_premises_received", "ix_intel_subject_received", *built_too}
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        for name in ("ix_intel_region_team", "ix_stats_item"):
            indexed = connection.exec_driver_sql(
                f"SELECT count(*) FROM intel_item INDEXED BY {name}"  # noqa: S608 - our names
            ).scalar()
            assert indexed == rows


@pytest.mark.sqlite_only("SQLite's page cache while a first load builds its indexes")
def test_a_first_load_puts_the_page_cache_size_back(db, tmp_path, monkeypatch):
    from triage.imports import importer

    seen = []
    building = importer._sorting_in_parts

    @importer.contextmanager
    def watched(session):
        with building(session):
            raw = session.connection().connection.dbapi_connection
            seen.append(raw.execute("PRAGMA cache_size").fetchone()[0])
            yield

    monkeypatch.setattr(importer, "_sorting_in_parts", watched)
    with db.engine.connect() as connection:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    assert seen == [-importer.SORTING_CACHE_KIB]
    with db.engine.connect() as connection:  # the pool's one connection, used again
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before


def test_column_statements_insert_each_row_with_its_constants():
    # Values given column by column go in row by row, each row with the
    # constants; only the constants are numbered parameters (SQLite's parser
    # looks each repeated number up among those seen before: numbering every
    # value made one prepare of a 500-row statement cost over a second).
    from triage.imports.importer import _column_statements

    columns = [[f"K-{n}" for n in range(7)], list(range(7)), [float(n) / 2 for n in range(7)]]
    constants = {"batch": 9, "made": "2026-01-01"}
    statements = _column_statements("t", ["key", "n", "x"], columns, constants, 11)
    assert len(statements) == 3  # 3 rows a statement (11 parameters: 2 constants + 3 x 3)
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (key, n, x, batch, made)")
    for sql, parameters in statements:
        assert "?3" not in sql
        connection.execute(sql, parameters)
    assert connection.execute("SELECT key, n, x, batch, made FROM t ORDER BY rowid").fetchall() == [
        (f"K-{n}", n, n / 2, 9, "2026-01-01") for n in range(7)
    ]


def test_a_key_repeated_in_a_later_chunk_names_its_first_line(db, tmp_path):
    rows = [f"R-{n},2026-01-01,LSE,,,,,,,,,,,,,,,," for n in range(5002)]
    rows.append(rows[1])
    result = import_file(db, "intel", intel_csv(tmp_path, *rows), actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (5002, 1)
    assert result.problems == [(5004, "intel_id repeats line 3")]


# --- EM cases and events -----------------------------------------------------

CASES = (
    "case_id,person_ref,region,nationality,harm_level,deportation_category,sentence_months,"
    "bail_type,bail_granted_at,held_at,device,em_status,fitted_at,last_review_at,"
    "last_contact_at,vulnerabilities,gender\n"
    "EM-1,P1,LSE,ALB,high,standard,24,ij,2026-11-18T09:00,prison,fitted,active,"
    "2026-08-30T12:00,2026-08-30,2026-11-19T08:00,mental_health;medical,Male\n"
    "EM-2,P2,,,,,,,,,,,,,,,\n"
    "EM-3,P3,LSE,ALB,extreme,standard,-3,court,,,,,,,,aliens,\n"
)


def test_em_cases_import_and_validate(db, tmp_path):
    result = import_file(db, "em-cases", write(tmp_path / "cases.csv", CASES), actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (2, 1)
    reason = result.problems[0][1]
    for column in ("harm_level", "sentence_months", "bail_type", "vulnerabilities"):
        assert column in reason
    with db.transaction() as session:
        case = session.scalar(select(EmCase).where(EmCase.case_id == "EM-1"))
        assert case.vulnerabilities == ";medical;mental_health;"
        assert case.last_review_at == date(2026, 8, 30)
        assert case.bail_granted_at == datetime(2026, 11, 18, 9, 0)


def test_a_case_id_too_long_for_its_bridge_item_is_quarantined_on_either_store(db, tmp_path):
    # A case out of contact becomes the intelligence item EM-<case id>
    # (triage.em.bridge), whose id is 64 characters at most: a case id of
    # 62 to 64 characters was imported, then PostgreSQL refused its item and
    # with it every EM refresh (exit code 3); SQLite kept a 67-character id.
    fits, too_long = "C" * 61, "D" * 62
    cases = write(
        tmp_path / "cases.csv",
        "case_id,region,harm_level,em_status,last_contact_at\n"
        f"{fits},LSE,high,active,2026-11-01T09:00\n{too_long},LSE,high,active,2026-11-01T09:00\n",
    )
    result = import_file(db, "em-cases", cases, actor=EVERYONE)
    assert (result.inserted, result.problems) == (1, [(3, "case_id: longer than 61 characters")])
    assert bridge.sync_bridge(db).created == 1
    with db.transaction() as session:
        assert session.scalar(select(IntelItem.intel_id)) == "EM-" + fits


def test_events_for_unknown_cases_are_quarantined_not_dropped(db, tmp_path):
    import_file(db, "em-cases", write(tmp_path / "cases.csv", CASES), actor=EVERYONE)
    events = write(
        tmp_path / "events.csv",
        "event_id,case_id,event_type,started_at,ended_at,due_at,notes\n"
        "E-1,EM-1,battery,2026-11-01T01:00,2026-11-01T06:00,,\n"
        "E-2,EM-404,strap_tamper,2026-11-02T01:00,,,\n"
        "E-3,EM-1,teleported,2026-11-02T01:00,,,\n"
        "E-4,EM-1,pap_received,2026-11-03T10:00,,2026-11-17T17:00,letter from solicitors\n"
        "E-5,EM-1,battery,2026-11-04T06:00,2026-11-04T01:00,,\n",
    )
    result = import_file(db, "em-events", events, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (2, 3)
    reasons = dict(result.problems)
    assert reasons[3] == "case_id: no such EM case"
    assert reasons[4].startswith("event_type: not one of")
    assert "ended_at: before started_at" in reasons[6]
    assert count(db, EmEvent) == 2
    again = import_file(db, "em-events", events, actor=EVERYONE)
    assert (again.inserted, again.unchanged) == (0, 2)


@pytest.mark.sqlite_only("SQLite's foreign keys checked at the end of a first load")
def test_an_event_whose_case_vanished_after_its_check_leaves_no_orphan(db, tmp_path, monkeypatch):
    # A first load of events checks each case against the case ids read under
    # the write lock, with SQLite's own look-up left to one check before the
    # commit: a case the reading side believed in that is not stored (as if
    # it went between check and insert) still fails the import, nothing kept.
    import_file(db, "em-cases", write(tmp_path / "cases.csv", CASES), actor=EVERYONE)
    events = write(
        tmp_path / "events.csv",
        "event_id,case_id,event_type,started_at\n"
        "E-1,EM-1,battery,2026-11-01T01:00\nE-2,EM-GONE,battery,2026-11-02T01:00\n",
    )
    believed = importer._EmEventStore.__init__

    def believing(store, *args):
        believed(store, *args)
        assert store.known_cases is not None  # the first load's check as read
        store.known_cases.add("EM-GONE")

    monkeypatch.setattr(importer._EmEventStore, "__init__", believing)
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        import_file(db, "em-events", events, actor=EVERYONE)
    assert count(db, EmEvent) == 0
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1  # the cases'
    monkeypatch.undo()
    result = import_file(db, "em-events", events, actor=EVERYONE)
    assert (result.inserted, result.problems) == (1, [(3, "case_id: no such EM case")])


@pytest.mark.parametrize(
    "row, orphan",
    [
        ("1, 'a', 1, 'x'", False),
        ("NULL, NULL, NULL, NULL", False),  # a NULL key names no parent
        ("1, 'missing', 1, 'x'", True),  # by a unique column
        ("2, 'a', 1, 'x'", True),  # by the primary key
        ("1, 'a', 2, 'x'", True),  # by a key of two columns (the pragma)
    ],
)
def test_an_orphan_is_found_by_each_kind_of_foreign_key(row, orphan):
    connection = sqlite3.connect(":memory:")
    connection.executescript(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE, "
        "n INTEGER, m TEXT, UNIQUE (n, m));"
        "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id), "
        "code TEXT REFERENCES parent (code), n INTEGER, m TEXT, "
        "FOREIGN KEY (n, m) REFERENCES parent (n, m));"
        "INSERT INTO parent VALUES (1, 'a', 1, 'x');"
        f"INSERT INTO child VALUES ({row});"
    )
    assert importer._orphan_found(connection, "child") is orphan


@pytest.mark.sqlite_only("SQLite's foreign_keys pragma on pooled connections")
@pytest.mark.parametrize("fails", [False, True])
def test_a_first_load_of_events_leaves_every_connection_with_foreign_keys_on(
    db, tmp_path, monkeypatch, fails
):
    import_file(db, "em-cases", write(tmp_path / "cases.csv", CASES), actor=EVERYONE)
    events = write(
        tmp_path / "events.csv",
        "event_id,case_id,event_type,started_at\nE-1,EM-1,battery,2026-11-01T01:00\n",
    )
    seen, used = [], []
    checked_at_end = importer._references_checked_at_end

    @importer.contextmanager
    def watched(db_, table):
        with checked_at_end(db_, table) as session:
            raw = session.connection().connection.dbapi_connection
            seen.append(raw.execute("PRAGMA foreign_keys").fetchone()[0])
            used.append(raw)
            yield session
            if fails:  # after the rows went in, before the commit
                raise RuntimeError("stopped part-way")

    monkeypatch.setattr(importer, "_references_checked_at_end", watched)
    if fails:
        with pytest.raises(RuntimeError):
            import_file(db, "em-events", events, actor=EVERYONE)
    else:
        assert import_file(db, "em-events", events, actor=EVERYONE).inserted == 1
    assert count(db, EmEvent) == (0 if fails else 1)
    assert seen == [0]  # off during the load
    with db.engine.connect() as connection:  # put back, not discarded: the pool's last in
        assert connection.connection.dbapi_connection is used[0]
    connections = [db.engine.connect() for _ in range(db.engine.pool.size() + 1)]
    try:
        assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in connections] == [
            1
        ] * len(connections)
    finally:
        for connection in connections:
            connection.close()
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):  # and they take effect
        with db.transaction() as session:
            session.execute(
                text(
                    "INSERT INTO em_event (event_id, case_id, event_type, started_at, created_at) "
                    "VALUES ('E-9', 'EM-404', 'battery', '2026-11-01', '2026-11-01')"
                )
            )


# --- outcomes ----------------------------------------------------------------


def test_outcomes_link_items_make_meetings_and_set_status(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    outcomes = write(
        tmp_path / "outcomes.csv",
        "intel_id,meeting_date,decision,reason,decided_by,result,result_at\n"
        "I-1,2026-07-06,not_discussed,,TL One,,\n"
        "I-1,2026-07-13,accepted,,TL One,arrest,2026-07-20\n"
        "I-2,2026-07-13,rejected,,TL Two,,\n"
        "I-2,2026-07-14,rejected,stale,TL Two,,\n"
        "I-9,2026-07-13,accepted,,,,\n"
        "I-2,2026-07-15,not_discussed,,,removal,\n",
    )
    result = import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (3, 3)
    reasons = dict(result.problems)
    assert "rejection needs a reason" in reasons[4]
    assert reasons[6] == "intel_id: no such intelligence item"
    assert "only an accepted task" in reasons[7]
    with db.transaction() as session:
        items = {i.intel_id: i for i in session.scalars(select(IntelItem))}
        assert (items["I-1"].status, items["I-1"].carry_over_count) == ("accepted", 1)
        assert items["I-2"].status == "rejected"
        meetings = session.scalars(select(TaskingMeeting)).all()
        assert {(m.region, m.team, m.held_on) for m in meetings} == {
            ("LSE", "London North", date(2026, 7, 6)),
            ("LSE", "London North", date(2026, 7, 13)),
            ("NMWSW", None, date(2026, 7, 14)),
        }
        assert all(m.status == "imported" for m in meetings)
        accepted = session.scalar(select(TaskingOutcome).where(TaskingOutcome.result.is_not(None)))
        assert (accepted.result, accepted.result_at) == ("arrest", date(2026, 7, 20))
    again = import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert (again.inserted, again.unchanged) == (0, 3)
    assert count(db, TaskingOutcome) == 3


def test_outcome_status_follows_the_latest_meeting_and_a_closed_item_stays_closed(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    with db.transaction() as session:  # I-2 closed without a decision (back in contact)
        session.execute(
            IntelItem.__table__.update()
            .where(IntelItem.intel_id == "I-2")
            .values(closed_at=datetime(2026, 7, 1, 9, 0))
        )
    header = "intel_id,meeting_date,decision,reason,decided_by,result,result_at\n"
    first = write(
        tmp_path / "outcomes.csv",
        header + "I-1,2026-07-13,accepted,,,,\n"
        "I-1,2026-07-06,not_discussed,,,,\n"
        "I-2,2026-07-06,not_discussed,,,,\n"
        "I-2,2026-07-13,not_discussed,,,,\n",
    )
    import_file(db, "outcomes", first, actor=EVERYONE)

    def statuses() -> dict[str, tuple[str, int]]:
        with db.transaction() as session:
            return {
                i.intel_id: (i.status, i.carry_over_count)
                for i in session.scalars(select(IntelItem))
            }

    # The latest meeting's decision counts, whatever the file's order.
    assert statuses() == {"I-1": ("accepted", 1), "I-2": ("closed", 2)}
    # A later meeting, and an earlier decision changed: only the latest counts.
    later = write(
        tmp_path / "later.csv",
        header + "I-1,2026-07-20,not_discussed,,,,\n"
        "I-2,2026-07-06,accepted,,,,\n"
        "I-2,2026-07-20,rejected,stale,,,\n",
    )
    import_file(db, "outcomes", later, actor=EVERYONE)
    assert statuses() == {"I-1": ("open", 2), "I-2": ("rejected", 1)}
    # The same file again changes nothing: no item is written, so the
    # ranking (marked stale by any write to an item) stays current.
    with db.transaction() as session:
        session.execute(RankState.__table__.update().values(dirty=False))
    again = import_file(db, "outcomes", later, actor=EVERYONE)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert statuses() == {"I-1": ("open", 2), "I-2": ("rejected", 1)}
    with db.transaction() as session:
        assert session.scalar(select(RankState.dirty)) is False


OUTCOMES = (
    "intel_id,meeting_date,decision,reason,decided_by,result,result_at\n"
    "I-1,2026-07-13,accepted,,,,\n"
    "I-2,2026-07-13,not_discussed,,,,\n"
)


@pytest.mark.sqlite_only  # a server is backed up by its operators (pg_dump)
def test_a_large_import_backs_up_the_database_as_it_was_before_it(db, tmp_path, monkeypatch):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    monkeypatch.setattr(importer, "LARGE_IMPORT_ROWS", 1)
    result = import_file(db, "outcomes", write(tmp_path / "o.csv", OUTCOMES), actor=EVERYONE)
    assert result.inserted == 2 and count(db, TaskingOutcome) == 2
    # Made while the import wrote, the copy is of the database before it.
    (copy,) = (db.path.parent / "backups").glob("*-before-import-*.sqlite")
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT count(*) FROM tasking_outcome").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM intel_item").fetchone() == (2,)
    connection.close()


@pytest.mark.sqlite_only
def test_a_large_import_is_told_by_its_rows_without_checking_its_file_twice(
    db, tmp_path, monkeypatch
):
    # Whether the import is large enough to back up first is found by reading
    # its first rows again, not the whole file's encoding and digest again.
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    monkeypatch.setattr(importer, "LARGE_IMPORT_ROWS", 1)
    checked = []
    real_check = importer.Extract._check_text
    monkeypatch.setattr(
        importer.Extract,
        "_check_text",
        lambda self, start: checked.append(self.name) or real_check(self, start),
    )
    result = import_file(db, "outcomes", write(tmp_path / "o.csv", OUTCOMES), actor=EVERYONE)
    assert checked == ["o.csv"]
    assert result.inserted == 2
    assert len(list((db.path.parent / "backups").glob("*-before-import-*.sqlite"))) == 1
    monkeypatch.setattr(importer, "LARGE_IMPORT_ROWS", 2)  # not over it: no copy
    import_file(db, "outcomes", write(tmp_path / "o2.csv", OUTCOMES), actor=EVERYONE)
    assert checked == ["o.csv", "o2.csv"]
    assert len(list((db.path.parent / "backups").glob("*-before-import-*.sqlite"))) == 1


@pytest.mark.sqlite_only
def test_a_damaged_database_stops_a_large_import_with_nothing_changed(db, tmp_path, monkeypatch):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    monkeypatch.setattr(importer, "LARGE_IMPORT_ROWS", 1)
    # The copy's check finds damage (as it would in a damaged file).
    monkeypatch.setattr(store_db, "copy_checked", lambda *args, **kwargs: "page 7: damaged")
    with pytest.raises(StoreDamaged, match="no backup written"):
        import_file(db, "outcomes", write(tmp_path / "o.csv", OUTCOMES), actor=EVERYONE)
    assert count(db, TaskingOutcome) == 0
    with db.transaction() as session:
        assert session.scalars(select(ImportBatch.kind)).all() == ["intel"]
    assert list((db.path.parent / "backups").glob("*-before-import-*")) == []


def test_an_outcome_whose_item_vanished_after_its_check_leaves_no_orphan(db, tmp_path, monkeypatch):
    # As for events: a first load of outcomes looks each item up itself and
    # leaves SQLite's own look-up to one check before the commit. An item
    # the look-up believed in that is not stored still fails the import.
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    outcomes = write(tmp_path / "o.csv", OUTCOMES + "I-GONE,2026-07-13,accepted,,,,\n")
    looked_up = importer._OutcomeStore._items

    def believing(connection, keys):
        found = looked_up(connection, keys)
        found["I-GONE"] = (987654, "LSE", None, 0, "I-GONE")  # id, region, team, day, intel id
        return found

    monkeypatch.setattr(importer._OutcomeStore, "_items", staticmethod(believing))
    with pytest.raises(IntegrityError, match="(?i)foreign key"):  # PostgreSQL: row by row
        import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert count(db, TaskingOutcome) == 0 and count(db, TaskingMeeting) == 0
    monkeypatch.undo()
    result = import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert (result.inserted, result.problems) == (2, [(4, "intel_id: no such intelligence item")])


@pytest.mark.postgresql  # on SQLite the import's write lock keeps other writers out
def test_a_meeting_committed_while_outcomes_import_is_used_by_a_later_chunk(db, tmp_path):
    # PostgreSQL lets another session hold a meeting while an import runs: a
    # later chunk naming that day must find it, not make an 'imported' one
    # beside it because an earlier chunk had already read the day.
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    with db.transaction() as session:
        region, team = session.execute(
            select(IntelItem.region, IntelItem.team).where(IntelItem.intel_id == "I-2")
        ).one()
    first_day = date(2026, 7, 2)
    # The first chunk (CHUNK rows) reads the first day for I-1's
    # meetings; the second names it for I-2, whose meeting is held meanwhile.
    days = [first_day + timedelta(days=n) for n in range(CHUNK)]
    rows = [f"I-1,{day},not_discussed,,,," for day in days] + [f"I-2,{first_day},accepted,,,,"]
    outcomes = write(tmp_path / "o.csv", OUTCOMES.split("\n")[0] + "\n" + "\n".join(rows))
    held: list[int] = []

    def hold_meeting(_fraction: float, message: str) -> None:
        if held or not message.startswith(f"{CHUNK:,} rows read"):
            return
        with db.engine.connect() as other:  # another session, committed at once
            held.append(
                other.execute(
                    insert(TaskingMeeting)
                    .values(
                        region=region,
                        team=team,
                        held_on=first_day,
                        status="open",
                        opened_at=datetime(2026, 7, 1),
                    )
                    .returning(TaskingMeeting.id)
                ).scalar_one()
            )
            other.commit()

    result = import_file(db, "outcomes", outcomes, job=Job(hold_meeting), actor=EVERYONE)
    assert held and result.inserted == len(rows)
    with db.transaction() as session:
        used = session.scalar(
            select(TaskingOutcome.meeting_id)
            .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
            .where(IntelItem.intel_id == "I-2")
        )
        made = session.scalar(
            select(func.count())
            .select_from(TaskingMeeting)
            .where(TaskingMeeting.held_on == first_day, TaskingMeeting.region == region)
        )
    assert used == held[0] and made == 1


@pytest.mark.sqlite_only  # PostgreSQL: looked up on the import's own connection
def test_outcome_items_are_looked_up_beside_the_writer_and_a_cancel_leaves_nothing(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    lookups: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def seen(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT id, region, team, received_uk_day, intel_id"):
            lookups.append(threading.current_thread().name)

    # 12,000 rows: three chunks, each naming both items on a new day.
    days = [date(2026, 7, 2) + timedelta(days=n) for n in range(6000)]
    rows = [f"I-{i},{day},not_discussed,,,," for day in days for i in (1, 2)]
    outcomes = write(tmp_path / "many.csv", OUTCOMES.split("\n")[0] + "\n" + "\n".join(rows))
    job = Job(lambda fraction, message: job.cancel())  # after the first chunk
    with pytest.raises(Cancelled):
        import_file(db, "outcomes", outcomes, job=job, actor=EVERYONE)
    assert count(db, TaskingOutcome) == 0 and count(db, TaskingMeeting) == 0
    # Over LARGE_IMPORT_ROWS: the import's own checkpoint thread (_checkpoint)
    # borrows a connection after it too; waited for, or the count races it.
    for thread in threading.enumerate():
        if thread.name == "checkpoint":
            thread.join()
    assert db.engine.pool.checkedout() == 0  # the reading thread's connection is back
    result = import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert result.inserted == 12000 and count(db, TaskingOutcome) == 12000
    # Not on the importing thread: on the reading thread, beside the writer.
    assert lookups and set(lookups) == {"import-reader"}
    with db.transaction() as session:
        carried = dict(
            session.execute(select(IntelItem.intel_id, IntelItem.carry_over_count)).all()
        )
    assert carried == {"I-1": 6000, "I-2": 6000}


def test_a_meeting_on_the_utc_day_before_the_local_day_of_receipt_is_refused(db, tmp_path):
    # Received 23:30 UTC on 1 July, which is 00:30 on 2 July in UK summer time:
    # the day that counts is the local one.
    import_file(
        db, "intel", intel_csv(tmp_path, "L-1,2026-07-02T00:30,LSE,,,,,,,,,,,,,,,,"),
        actor=EVERYONE,
    )  # fmt: skip
    decisions = write(
        tmp_path / "late.csv",
        "intel_id,meeting_date,decision\nL-1,2026-07-01,accepted\nL-1,2026-07-02,accepted\n",
    )
    result = import_file(db, "outcomes", decisions, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (1, 1)
    assert result.problems == [(2, "meeting_date: before the item was received (2026-07-02)")]


def test_outcomes_with_only_the_required_columns(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, *GOOD_INTEL), actor=EVERYONE)
    full = write(
        tmp_path / "full.csv",
        "intel_id,meeting_date,decision,reason,decided_by\nI-2,2026-07-14,rejected,stale,TL\n",
    )
    import_file(db, "outcomes", full, actor=EVERYONE)
    minimal = write(
        tmp_path / "minimal.csv",
        "intel_id,meeting_date,decision\n"
        "I-1,2026-07-13,accepted\n"
        "I-2,2026-07-15,rejected\n"
        "I-2,2026-07-14,rejected\n",
    )
    result = import_file(db, "outcomes", minimal, actor=EVERYONE)
    assert (result.inserted, result.unchanged, result.quarantined) == (1, 0, 2)
    assert "rejection needs a reason" in dict(result.problems)[3]
    # I-1 was received on 1 July 2026: a decision dated before that is refused.
    early = write(
        tmp_path / "early.csv", "intel_id,meeting_date,decision\nI-1,2026-06-30,accepted\n"
    )
    result = import_file(db, "outcomes", early, actor=EVERYONE)
    assert result.quarantined == 1
    assert "before the item was received (2026-07-01)" in result.problems[0][1]
    with db.transaction() as session:
        kept = session.scalar(select(TaskingOutcome).where(TaskingOutcome.reason.is_not(None)))
        # Columns the file does not carry are left as they were.
        assert (kept.reason, kept.decided_by) == ("stale", "TL")


# --- quarantine fix and re-import ---------------------------------------------


def test_a_fixed_quarantined_row_is_reimported_and_resolved(db, tmp_path):
    import_file(
        db, "intel", intel_csv(tmp_path, "Q-1,2026-13-45,LSE,,,,,,,,,,,,,,,,"), actor=EVERYONE
    )
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    still_bad = reimport_quarantined(db, row_id, {"received_at": "soon"}, actor=EVERYONE)
    assert still_bad.quarantined == 1 and count(db, IntelItem) == 0
    with db.transaction() as session:
        row = session.get(QuarantinedRow, row_id)
        assert row.reason.startswith("received_at: not a date") and row.status == "open"
    fixed = reimport_quarantined(db, row_id, {"received_at": "2026-03-14"}, actor=EVERYONE)
    assert (fixed.inserted, fixed.quarantined) == (1, 0)
    assert count(db, QuarantinedRow) == 1
    with db.transaction() as session:
        row = session.get(QuarantinedRow, row_id)
        assert row.status == "resolved" and row.resolved_by
    # Once resolved (or discarded) a row is no longer there to fix.
    with pytest.raises(ValueError, match="already resolved"):
        reimport_quarantined(db, row_id, {"received_at": "2026-03-15"}, actor=EVERYONE)


def test_a_fix_names_its_column_in_any_case(db, tmp_path):
    extract = write(tmp_path / "q.csv", "Intel_ID,Received_At,Region\nQ-1,bad,LSE\n")
    import_file(db, "intel", extract, actor=EVERYONE)
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    fixed = reimport_quarantined(db, row_id, {"received_at": "2026-03-14"}, actor=EVERYONE)
    assert (fixed.inserted, fixed.quarantined) == (1, 0)
    with db.transaction() as session:
        item = session.scalar(select(IntelItem))
        assert (item.intel_id, item.extra) == ("Q-1", None)


def test_a_row_imported_with_a_mapping_is_fixed_under_canonical_names(db, tmp_path):
    mapping = {"Ref": "intel_id", "When": "received_at", "Area": "region"}
    extract = write(tmp_path / "m.csv", "Ref,When,Area,Note\nM-1,bad,LSE,keep me\n")
    import_file(db, "intel", extract, mapping=mapping, actor=EVERYONE)
    with db.transaction() as session:
        row = session.scalar(select(QuarantinedRow))
        assert row.raw == {
            "intel_id": "M-1",
            "received_at": "bad",
            "region": "LSE",
            "Note": "keep me",
        }
    fixed = reimport_quarantined(db, row.id, {"received_at": "2026-03-14"}, actor=EVERYONE)
    assert (fixed.inserted, fixed.quarantined) == (1, 0)
    with db.transaction() as session:
        assert session.scalar(select(IntelItem.extra)) == {"Note": "keep me"}


def test_a_junk_row_is_discarded_with_its_reason_kept_and_audited(db, tmp_path):
    import_file(
        db, "intel", intel_csv(tmp_path, "TEST-1,never,LSE,,,,,,,,,,,,,,,,"), actor=EVERYONE
    )
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    discard_quarantined(db, row_id, "  a test row  ", actor=as_user("TL Smith"))
    with db.transaction() as session:
        row = session.get(QuarantinedRow, row_id)
        assert (row.status, row.resolved_by) == ("discarded", "TL Smith")
        assert row.resolved_at is not None
        # Nothing is lost: the cells stay, and the listing says why it was dropped.
        assert row.raw["intel_id"] == "TEST-1" and row.raw_text.startswith("TEST-1,never")
        assert "received_at" in row.reason and row.reason.endswith("discarded: a test row")
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "quarantine_discarded")
        )
        assert (entry.entity, entry.entity_id, entry.new_value, entry.who) == (
            "quarantined_row",
            str(row_id),
            "a test row",
            "TL Smith",
        )
    assert count(db, IntelItem) == 0 and count(db, QuarantinedRow) == 1


def test_discarding_refuses_unknown_rows_rows_not_open_and_no_reason(db, tmp_path):
    import_file(db, "intel", intel_csv(tmp_path, "Q-1,never,LSE,,,,,,,,,,,,,,,,"), actor=EVERYONE)
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    with pytest.raises(KeyError, match="no quarantined row 999"):
        discard_quarantined(db, 999, "duplicate", actor=EVERYONE)
    with pytest.raises(ValueError, match="why"):
        discard_quarantined(db, row_id, "   ", actor=EVERYONE)
    with db.transaction() as session:
        assert session.get(QuarantinedRow, row_id).status == "open"
    reimport_quarantined(db, row_id, {"received_at": "2026-03-14"}, actor=EVERYONE)
    with pytest.raises(ValueError, match="already resolved"):
        discard_quarantined(db, row_id, "duplicate", actor=EVERYONE)
    with db.transaction() as session:
        assert session.get(QuarantinedRow, row_id).status == "resolved"
        assert not session.scalar(
            select(func.count()).where(AuditEntry.action == "quarantine_discarded")
        )


def test_cli_quarantine_discard_exit_codes_and_json(tmp_path, capsys):
    database = str(tmp_path / "cli.sqlite")
    bad = intel_csv(tmp_path, "B-1,never,LSE,,,,,,,,,,,,,,,,", "B-2,never,LSE,,,,,,,,,,,,,,,,")
    assert cli(["--db", database, "import", "intel", str(bad)]) == 1
    capsys.readouterr()
    assert cli(["--db", database, "quarantine", "discard", "1", "--reason", ""]) == 2
    assert "why" in capsys.readouterr().err
    assert cli(["--db", database, "quarantine", "discard", "9", "--reason", "dup"]) == 2
    assert "no quarantined row 9" in capsys.readouterr().err
    command = ["--db", database, "quarantine", "discard", "1", "--reason", "known duplicate"]
    assert cli([*command, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": 1,
        "status": "discarded",
        "discard_reason": "known duplicate",
    }
    assert cli(command) == 2
    assert "already discarded" in capsys.readouterr().err
    assert cli(["--db", database, "quarantine", "list", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [2]
    assert cli(["--db", database, "quarantine", "list", "--all", "--json"]) == 0
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[1]["status"] == "discarded"
    assert listed[1]["reason"].endswith("discarded: known duplicate")
    assert cli(["--db", database, "quarantine", "discard", "2", "--reason", "test row"]) == 0
    assert "discarded" in capsys.readouterr().out


# --- CLI, detection, database -------------------------------------------------


def test_cli_import_json_and_exit_codes(tmp_path, capsys):
    database = str(tmp_path / "cli.sqlite")
    good = intel_csv(tmp_path, *GOOD_INTEL)
    assert cli(["--db", database, "import", "intel", str(good), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("kind", "file", "rows_read", "inserted", "quarantined")} == {
        "kind": "intel",
        "file": "intel.csv",
        "rows_read": 2,
        "inserted": 0 + 2,
        "quarantined": 0,
    }
    assert report["updated"] == 0 and report["batch_id"] == 1
    bad = intel_csv(tmp_path, "B-1,never,LSE,,,,,,,,,,,,,,,,", name="bad.csv")
    assert cli(["--db", database, "import", "intel", str(bad), "--json"]) == 1
    capsys.readouterr()
    missing = write(tmp_path / "missing.csv", "intel_id\nX\n")
    assert cli(["--db", database, "import", "intel", str(missing)]) == 2
    assert "missing required column" in capsys.readouterr().err
    assert cli(["--db", database, "quarantine", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["line"]) for r in listed] == [("bad.csv", 2)]
    out = tmp_path / "q.csv"
    assert cli(["--db", database, "quarantine", "export", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert exported[0]["raw"].startswith("B-1,never")
    assert cli(["--db", database, "db", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["intel_items"] == 2 and info["schema_revision"]


def test_detect_kind_from_headers():
    assert detect_kind(INTEL_HEADER.split(",")) == "intel"
    assert detect_kind(["Intel_ID", "meeting_date", "decision"]) == "outcomes"
    assert detect_kind(["event_id", "case_id", "event_type", "started_at"]) == "em-events"
    assert detect_kind(["case_id", "harm_level"]) == "em-cases"
    assert detect_kind(["name", "address"]) is None


def test_database_path_precedence(tmp_path, monkeypatch, isolated_home):
    from triage.paths import resolve_db_path

    assert resolve_db_path(None) == isolated_home / "triage.sqlite"
    monkeypatch.setenv("TRIAGE_DB", str(tmp_path / "env.sqlite"))
    assert resolve_db_path(None) == tmp_path / "env.sqlite"
    assert resolve_db_path(str(tmp_path / "flag.sqlite")) == tmp_path / "flag.sqlite"


def test_older_database_is_backed_up_then_upgraded(tmp_path):
    from alembic import command

    from triage.store.db import alembic_config, head_revision, make_engine, schema_revision

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    command.upgrade(alembic_config(engine), "0001")
    engine.dispose()
    upgraded = open_database(path)
    assert upgraded.migrated_from == "0001"
    assert schema_revision(upgraded.engine) == head_revision(upgraded.engine)
    assert upgraded.backup_path.exists()
    backup = make_engine(upgraded.backup_path)
    assert schema_revision(backup) == "0001"
    backup.dispose()
    upgraded.close()


@pytest.mark.sqlite_only("SQLite's WAL and PRAGMAs")
def test_wal_foreign_keys_and_append_only_audit(db):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    from triage.store import audit

    with db.transaction() as session:
        audit.record(session, "test", "intel_item", "I-1", "status", "open", "accepted", who="t")
    for statement in ("UPDATE audit_log SET who = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with db.transaction() as session:
                session.execute(text(statement))
    assert count(db, AuditEntry) == 1


def test_core_never_imports_qt():
    code = (
        "import sys, triage.cli.main, triage.imports.importer, triage.store.db\n"
        "triage.cli.main.build_parser()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'ui'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_row_discarded_while_its_fix_waits_is_not_imported(db, tmp_path, monkeypatch):
    # The app's writer and the command line are two writers: a row may be
    # discarded between the fix's first look at it and the fix's import.
    from triage.imports import importer

    import_file(db, "intel", intel_csv(tmp_path, "Q-1,never,LSE,,,,,,,,,,,,,,,,"), actor=EVERYONE)
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    run = importer._Pipeline.run

    def discarded_meanwhile(self, *args):
        discard_quarantined(db, row_id, "a test row", actor=as_user("TL Smith"))
        return run(self, *args)

    monkeypatch.setattr(importer._Pipeline, "run", discarded_meanwhile)
    with pytest.raises(ValueError, match="already discarded"):
        reimport_quarantined(db, row_id, {"received_at": "2026-03-14"}, actor=EVERYONE)
    with db.transaction() as session:
        row = session.get(QuarantinedRow, row_id)
        assert (row.status, row.resolved_by) == ("discarded", "TL Smith")
    assert count(db, IntelItem) == 0


def test_a_row_fixed_while_its_discard_waits_stays_resolved(db, tmp_path, monkeypatch):
    # The reverse order: the discard looked (no lock held), then a fix from
    # another writer imported the row, then the discard wrote.
    from triage import clock as real_clock
    from triage.imports import importer

    import_file(db, "intel", intel_csv(tmp_path, "Q-1,never,LSE,,,,,,,,,,,,,,,,"), actor=EVERYONE)
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))

    class FixedMeanwhile:
        fixed = False

        def __getattr__(self, name):
            return getattr(real_clock, name)

        def now(self):
            if not self.fixed:
                self.fixed = True
                reimport_quarantined(db, row_id, {"received_at": "2026-03-14"}, actor=EVERYONE)
            return real_clock.now()

    monkeypatch.setattr(importer, "clock", FixedMeanwhile())
    with pytest.raises(ValueError, match="already resolved"):
        discard_quarantined(db, row_id, "a test row", actor=EVERYONE)
    with db.transaction() as session:
        row = session.get(QuarantinedRow, row_id)
        assert row.status == "resolved" and "discarded" not in row.reason
        assert not session.scalar(
            select(func.count()).where(AuditEntry.action == "quarantine_discarded")
        )
    assert count(db, IntelItem) == 1


def test_a_discarded_row_stays_discarded_when_its_file_is_imported_again(db, tmp_path):
    path = intel_csv(tmp_path, GOOD_INTEL[0], "TEST-1,never,LSE,,,,,,,,,,,,,,,,")
    import_file(db, "intel", path, actor=EVERYONE)
    with db.transaction() as session:
        row_id = session.scalar(select(QuarantinedRow.id))
    discard_quarantined(db, row_id, "a test row", actor=EVERYONE)
    again = import_file(db, "intel", path, actor=EVERYONE)
    # Still reported as bad, but not listed again to be judged a second time.
    assert again.quarantined == 1
    with db.transaction() as session:
        assert session.execute(select(QuarantinedRow.id, QuarantinedRow.status)).all() == [
            (row_id, "discarded")
        ]


def test_a_text_longer_than_its_column_is_quarantined_on_either_store(db, tmp_path):
    # Nothing in an extract limits a cell's length, while the store declares
    # one (64 characters for a subject reference): PostgreSQL refused the
    # longer text and with it the whole import ("the database cannot be
    # used", exit code 3); SQLite kept it. On both, the row is quarantined.
    fields = GOOD_INTEL[1].split(",")
    long_ref = fields.copy()
    long_ref[0], long_ref[7] = "I-3", "S" * 65
    long_team = fields.copy()
    long_team[0], long_team[3] = "I-4", "é" * 65
    at_limit = fields.copy()
    at_limit[0], at_limit[7] = "I-5", "é" * 64
    long_sector = fields.copy()  # a converted value (memoised): 32 characters at most
    long_sector[0], long_sector[12] = "I-6", "Care" * 9
    path = intel_csv(
        tmp_path,
        *GOOD_INTEL,
        ",".join(long_ref),
        ",".join(long_team),
        ",".join(at_limit),
        ",".join(long_sector),
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (3, 3)
    assert dict(result.problems) == {
        4: "subject_ref: longer than 64 characters",
        5: "team: longer than 64 characters",
        7: "sector: longer than 32 characters",
    }
    with db.transaction() as session:
        assert (
            session.scalar(select(IntelItem.subject_ref).where(IntelItem.intel_id == "I-5"))
            == "é" * 64
        )


def test_a_long_key_s_changes_are_audited_on_either_store(db, tmp_path):
    # An update is audited under its record's key: an outcome's is its intel
    # id (64 characters at most) and meeting date, a service level's its
    # measure (160) and month, longer than the audit's 64-character
    # entity_id. PostgreSQL refused the audit entry and with it the whole
    # re-import ("the database cannot be used", exit code 3): the column
    # is text since migration 0018.
    long_id = "I" * 64
    import_file(
        db, "intel", intel_csv(tmp_path, f"{long_id},2026-07-01,LSE,,,,,,,,,,,,,,,,"),
        actor=EVERYONE,
    )  # fmt: skip
    measure = "Visit for removal of equipment where the subject was not at the address given"
    for decided_by, achieved in (("TL One", 81.8), ("TL Two", 72.2)):
        outcomes = write(
            tmp_path / "outcomes.csv",
            "intel_id,meeting_date,decision,decided_by\n"
            f"{long_id},2026-07-13,accepted,{decided_by}\n",
        )
        levels = write(
            tmp_path / "levels.csv",
            f"measure,month,target_pct,achieved_pct\n{measure},2021-10,95%,{achieved}\n",
        )
        import_file(db, "outcomes", outcomes, actor=EVERYONE)
        import_file(db, "service-levels", levels, actor=EVERYONE)
    with db.transaction() as session:
        changes = session.execute(
            select(AuditEntry.entity, AuditEntry.field, AuditEntry.new_value).where(
                AuditEntry.action == "import_update"
            )
        ).all()
    assert sorted(changes) == [
        ("em_service_level", "achieved_pct", "72.2"),
        ("tasking_outcome", "decided_by", "TL Two"),
    ]
