"""A large file is read in a forked process (triage.imports.reading.Forked):
the same result as on the reading thread, and a reading error, a cancel or a
store error leaves nothing behind, the child process included. And the
ranking's insert trigger, paused for an import, is back after it."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from actors import EVERYONE
from sqlalchemy import func, select, text

from triage import private_files
from triage.imports import extracts, importer, reading
from triage.imports.importer import UnreadableFile, import_file
from triage.intel import ranking
from triage.jobs import Cancelled, Job
from triage.store.db import open_database
from triage.store.models import EmEvent, ImportBatch, IntelItem, QuarantinedRow

pytestmark = pytest.mark.skipif(not reading.CAN_FORK, reason="the reading process needs fork")

# The reading process takes first loads into SQLite (PostgreSQL binds typed
# values through SQLAlchemy and keeps the reading thread).
FIRST_LOAD_ON_SQLITE = pytest.mark.sqlite_only("the reading process reads SQLite first loads")
TRIGGER_SQL = "SELECT sql FROM sqlite_master WHERE name = 'rank_stale_on_intel_item_insert'"
HEADER = "intel_id,received_at,region,grading,summary,notes"


def rows_file(tmp_path: Path, count: int, name: str = "big.csv") -> Path:
    """Over two chunks of rows, with every kind of line the reader meets:
    blank lines, a quoted cell over two lines, bad cells, a key repeated in a
    later chunk, an unknown column."""
    lines = [HEADER]
    for n in range(count):
        lines.append(f"F-{n},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n},")
        if n == 10:
            lines.append("")
        if n == 20:
            lines.append(f'F-x{n},2026-07-01,LSE,,"two\nlines",kept')
        if n == 30:
            lines.append(f"F-bad{n},2026-13-01,Atlantis,9Z Q,,")
    lines.append("F-3,2026-07-02,LSE,,again,")  # repeats line 5, chunks later
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(db) -> tuple[list[tuple], list[tuple]]:
    with db.transaction() as session:
        items = session.execute(
            select(
                IntelItem.intel_id, IntelItem.received_at, IntelItem.region,
                IntelItem.grade_source, IntelItem.summary, IntelItem.extra,
            ).order_by(IntelItem.intel_id)
        ).all()  # fmt: skip
        bad = session.execute(
            select(QuarantinedRow.line_no, QuarantinedRow.reason, QuarantinedRow.raw).order_by(
                QuarantinedRow.line_no
            )
        ).all()
    return [tuple(r) for r in items], [tuple(r) for r in bad]


@pytest.fixture
def forked(monkeypatch):
    """Every file counts as large: read in a forked process."""
    monkeypatch.setattr(importer, "LARGE_IMPORT_BYTES", 0)
    calls = []
    real = reading.Forked.chunks

    def counted(self, validator, prepare, *readers):
        calls.append(self)
        return real(self, validator, prepare, *readers)

    monkeypatch.setattr(reading.Forked, "chunks", counted)
    return calls


def summary(result) -> tuple:
    return (
        result.rows_read, result.inserted, result.quarantined, result.problems,
        result.lines, result.blank_lines, result.multi_line,
    )  # fmt: skip


@pytest.fixture
def other_db(request, tmp_path):
    """A second empty database on the run's backend."""
    if request.config.getoption("backend") == "postgresql":
        location = request.getfixturevalue("new_server_database")()
    else:
        location = request.getfixturevalue("new_database_file")(tmp_path / "other.sqlite")
    database = open_database(location)
    yield database
    database.close()


@FIRST_LOAD_ON_SQLITE
def test_a_forked_read_imports_as_the_reading_thread_does(
    db, other_db, tmp_path, monkeypatch, forked
):
    path = rows_file(tmp_path, 12_000)
    with monkeypatch.context() as thread_only:
        thread_only.setattr(importer, "LARGE_IMPORT_BYTES", 1 << 40)
        on_thread = import_file(db, "intel", path, actor=EVERYONE)
    assert not forked
    in_process = import_file(other_db, "intel", path, actor=EVERYONE)
    assert len(forked) == 1
    assert summary(in_process) == summary(on_thread)
    assert in_process.quarantined == 2 and in_process.multi_line == [(24, 25)]
    assert stored(other_db) == stored(db)
    assert multiprocessing.active_children() == []


@FIRST_LOAD_ON_SQLITE
def test_a_large_update_is_read_on_the_thread(db, tmp_path, forked):
    # Whole chunks would cross the pipe for the writer to compare: measured
    # slower than the reading thread, which an update keeps.
    path = rows_file(tmp_path, 6000)
    first = import_file(db, "intel", path, actor=EVERYONE)
    again = import_file(db, "intel", path, actor=EVERYONE)
    assert len(forked) == 1
    assert (again.inserted, again.unchanged, again.quarantined) == (0, first.inserted, 2)


@FIRST_LOAD_ON_SQLITE
def test_a_forked_read_of_a_workbook(db, tmp_path, forked):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["intel_id", "received_at", "region"])
    for n in range(7000):
        sheet.append([f"W-{n}", "2026-07-01 10:00", "LSE"])
    sheet.append(["W-bad", "not a time", "LSE"])
    path = tmp_path / "big.xlsx"
    book.save(path)
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert len(forked) == 1
    assert (result.inserted, result.quarantined, result.lines) == (7000, 1, 7002)
    assert result.problems[0][0] == 7002


@FIRST_LOAD_ON_SQLITE
def test_an_error_while_reading_changes_nothing_and_ends_the_child(
    db, tmp_path, monkeypatch, forked
):
    monkeypatch.setattr(extracts, "MAX_ROWS", 7000)
    with pytest.raises(UnreadableFile, match="more than 7,000 rows"):
        import_file(db, "intel", rows_file(tmp_path, 12_000), actor=EVERYONE)
    assert len(forked) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IntelItem)) == 0
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    assert multiprocessing.active_children() == []


@FIRST_LOAD_ON_SQLITE
def test_a_cancel_while_the_child_reads_changes_nothing_and_ends_it(db, tmp_path, forked):
    def cancel_after_the_first_chunk(fraction, message):
        job.cancel()

    job = Job(cancel_after_the_first_chunk)
    with pytest.raises(Cancelled):
        import_file(db, "intel", rows_file(tmp_path, 30_000), job=job, actor=EVERYONE)
    assert len(forked) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IntelItem)) == 0
    assert multiprocessing.active_children() == []


@FIRST_LOAD_ON_SQLITE
def test_a_child_that_dies_is_an_error_not_a_partial_import(db, tmp_path, monkeypatch, forked):
    def dies(*_args):
        import os

        os._exit(9)

    monkeypatch.setattr(reading.Forked, "_child", dies)
    with pytest.raises(reading.ReadingFailed, match="reading process stopped"):
        import_file(db, "intel", rows_file(tmp_path, 100), actor=EVERYONE)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_the_ranking_trigger_is_back_and_the_ranking_stale_after_an_import(db, tmp_path):
    def trigger() -> list[str]:
        if db.engine.dialect.name != "sqlite":
            return ["PostgreSQL's trigger runs once per statement: never paused"]
        with db.transaction() as session:
            return list(session.scalars(text(TRIGGER_SQL)))

    before = trigger()
    assert before
    path = rows_file(tmp_path, 50)
    import_file(db, "intel", path, actor=EVERYONE)
    assert trigger() == before
    ranking.ensure_current(db)
    assert ranking.is_current(db)
    import_file(db, "intel", path, actor=EVERYONE)  # every row unchanged: still current
    assert ranking.is_current(db)
    more = tmp_path / "more.csv"
    more.write_text(HEADER + "\nM-1,2026-07-03,LSE,,new,\n", encoding="utf-8")
    import_file(db, "intel", more, actor=EVERYONE)
    assert not ranking.is_current(db)
    assert trigger() == before


@pytest.mark.sqlite_only("the trigger is SQLite's")
def test_a_failed_import_keeps_the_ranking_trigger(db, tmp_path, monkeypatch):
    monkeypatch.setattr(extracts, "MAX_ROWS", 10)
    with pytest.raises(UnreadableFile):
        import_file(db, "intel", rows_file(tmp_path, 50), actor=EVERYONE)
    connection = sqlite3.connect(db.location)
    found = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'rank_stale_on_intel_item_insert'"
    ).fetchone()
    connection.close()
    assert found == (1,)


@pytest.mark.postgresql
def test_a_large_first_load_on_postgresql_is_read_on_the_thread(db, tmp_path, forked):
    result = import_file(db, "intel", rows_file(tmp_path, 6000), actor=EVERYONE)
    assert forked == [] and (result.inserted, result.quarantined) == (6001, 2)


@FIRST_LOAD_ON_SQLITE
def test_a_first_load_stores_the_same_with_few_parameters_a_statement(
    db, other_db, tmp_path, monkeypatch
):
    # The statements bind column by column (?N); a build allowing few
    # parameters gets a few rows a statement and a shorter last one.
    path = rows_file(tmp_path, 100)
    usual = import_file(db, "intel", path, actor=EVERYONE)
    monkeypatch.setattr(importer, "_variable_limit", lambda connection: 100)
    few = import_file(other_db, "intel", path, actor=EVERYONE)
    assert summary(few) == summary(usual)
    assert stored(other_db) == stored(db)


@FIRST_LOAD_ON_SQLITE
def test_a_forked_first_load_of_em_events_checks_their_cases_as_the_thread_does(
    db, other_db, tmp_path, monkeypatch, forked
):
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id\n" + "".join(f"EM-{n}\n" for n in range(100)), encoding="utf-8")
    lines = ["event_id,case_id,event_type,started_at,ended_at"]
    lines += [f"E-{n},EM-{n % 100},battery,2026-11-01T01:00,2026-11-01T02:00" for n in range(6000)]
    lines += [
        "E-x1,EM-404,battery,2026-11-01T01:00,",  # no such case
        "E-x2,EM-1,battery,2026-11-01T03:00,2026-11-01T02:00",  # ends before it starts
        "E-x3,EM-405,battery,2026-11-01T03:00,2026-11-01T02:00",  # both: the case is named
    ]
    events = tmp_path / "events.csv"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def stored_events(database) -> tuple[list[tuple], list[tuple]]:
        with database.transaction() as session:
            rows = session.execute(
                select(EmEvent.event_id, EmEvent.case_id, EmEvent.started_at, EmEvent.ended_at)
                .order_by(EmEvent.event_id)
            ).all()  # fmt: skip
            bad = session.execute(
                select(QuarantinedRow.line_no, QuarantinedRow.reason).order_by(
                    QuarantinedRow.line_no
                )
            ).all()
        return [tuple(r) for r in rows], [tuple(r) for r in bad]

    with monkeypatch.context() as thread_only:
        thread_only.setattr(importer, "LARGE_IMPORT_BYTES", 1 << 40)
        import_file(db, "em-cases", cases, actor=EVERYONE)
        on_thread = import_file(db, "em-events", events, actor=EVERYONE)
    assert not forked
    import_file(other_db, "em-cases", cases, actor=EVERYONE)
    in_child = import_file(other_db, "em-events", events, actor=EVERYONE)
    assert len(forked) == 2  # the cases, then the events
    assert summary(in_child) == summary(on_thread)
    assert (in_child.inserted, in_child.quarantined) == (6000, 3)
    assert dict(in_child.problems) == {
        6002: "case_id: no such EM case",
        6003: "ended_at: before started_at",
        6004: "case_id: no such EM case",
    }
    assert stored_events(other_db) == stored_events(db)


def test_a_chunks_statements_travel_apart_with_marshal_and_come_back_the_same():
    nan = float("nan")
    statements = [("INSERT INTO t (a, b) VALUES (?1, ?), (?1, ?)", (7, "x", nan))]
    chunk = reading.Chunk([], [], [], [], [], statements=list(statements))
    data = reading._marshalled(chunk)
    assert data is not None and chunk.statements is None
    back = reading.marshal.loads(data)
    assert back[0][0] == statements[0][0] and back[0][1][:2] == (7, "x")
    assert back[0][1][2] != back[0][1][2]  # NULL's NaN is still a NaN
    # A value marshal cannot write: the statements stay with the chunk (pickled).
    odd = [("INSERT INTO t (a) VALUES (?)", (object(),))]
    chunk = reading.Chunk([], [], [], [], [], statements=odd)
    assert reading._marshalled(chunk) is None and chunk.statements is odd


@pytest.mark.skipif(not reading.CAN_FORK, reason="the forked reader is Linux's")
def test_the_reading_process_pipe_holds_a_whole_chunk():
    # A chunk's message is about 1 MB: through the default 64 KB the
    # reading process waited on the importer 16 times a chunk.
    import fcntl

    read_end, write_end = os.pipe()
    try:
        private_files.widen_pipe(write_end, reading.PIPE_BYTES)
        allowed = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        size = fcntl.fcntl(write_end, 1032)  # F_GETPIPE_SZ
        assert size == min(reading.PIPE_BYTES, allowed) > 1 << 16
    finally:
        os.close(read_end)
        os.close(write_end)


def test_the_importer_loads_where_there_is_no_fcntl():
    # Windows has no fcntl (nor fork): the pipe is widened only for the
    # forked reader, so the modules must load without it.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['fcntl'] = None  # as on Windows: importing it fails\n"
        "import triage.imports.importer, triage.imports.reading\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def keyed_rows_file(tmp_path: Path) -> Path:
    """Chunks of 10 rows (``small_chunks``) whose keys repeat in every way two
    readers taking alternate chunks could judge wrongly: in one chunk, two
    chunks apart (the same reader's), in the next chunk (the other's), from a
    row that was bad (not a key seen), and on a row that is bad otherwise."""
    lines = [HEADER]
    for n in range(95):
        key = f"F-{n}"
        received = f"2026-07-01T10:{n % 60:02d}"
        if n == 13:
            received = "2026-13-01"  # bad: its key is not one seen
        if n in (4, 8):
            key = "F-2"  # chunk 0 again: a repeat the reader itself sees
        if n == 24:
            key = "F-1"  # chunk 2 repeats chunk 0 (the same reader's)
        if n == 35:
            key = "F-21"  # chunk 3 repeats chunk 2 (the other reader's)
        if n == 47:
            key = "F-13"  # the bad row's key: new here
        if n == 58:
            key, received = "F-5", "not a time"  # bad and repeated: the cell is named
        lines.append(f"{key},{received},LSE,2B P,row {n},")
        if n == 60:
            lines.append("")
        if n == 70:
            lines.append(f'F-x{n},2026-07-01,LSE,,"two\nlines",kept')
    path = tmp_path / "keyed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 10)


def read_all(path: Path, how: str) -> tuple[list[tuple], tuple]:
    """Every chunk as (rows read, good lines and values, bad lines and
    reasons), and the line counts, read on the thread or by forked readers."""
    from triage.imports.columns import KINDS
    from triage.imports.validation import Validator

    extract = extracts.Extract(path)
    validator = Validator(KINDS["intel"], extract.header, extract.header)

    def prepare(chunk):
        return [], chunk

    if how == "thread":
        ahead = reading.on_thread(extract.rows(), validator, prepare)
    else:
        ahead = reading.Forked(extract).chunks(validator, prepare, int(how))
    found = [
        (read, valid.lines, valid.columns, [(bad.line_no, bad.reason) for bad in rejected])
        for read, valid, rejected in ahead
    ]
    return found, (extract.lines, extract.blank_lines, extract.multi_line)


@pytest.fixture
def starts(monkeypatch):
    """Each start of forked readers: (how many, from which chunk)."""
    found = []
    real = reading.Forked._from_children

    def counted(self, validator, prepare, readers, skip, offset):
        found.append((readers, skip))
        return (yield from real(self, validator, prepare, readers, skip, offset))

    monkeypatch.setattr(reading.Forked, "_from_children", counted)
    return found


def test_two_forked_readers_give_the_one_readers_chunks_with_every_repeated_key(
    tmp_path, small_chunks, starts
):
    path = keyed_rows_file(tmp_path)
    on_thread = read_all(path, "thread")
    assert read_all(path, "1") == on_thread
    assert starts == [(1, 0)]
    starts.clear()
    assert read_all(path, "2") == on_thread
    # Chunk 0 has a repeat its reader found itself: one reader from there on.
    assert starts == [(2, 0), (1, 0)]
    reasons = {line: reason for chunk in on_thread[0] for line, reason in chunk[3]}
    assert reasons[6] == reasons[10] == "intel_id repeats line 4"
    assert reasons[26] == "intel_id repeats line 3"
    assert reasons[37] == "intel_id repeats line 23"
    assert 49 not in reasons  # the bad row's key was never seen
    assert reasons[60].startswith("received_at:")
    assert multiprocessing.active_children() == []


def test_two_forked_readers_hand_over_where_a_key_repeats_another_readers(
    tmp_path, small_chunks, starts
):
    # No repeat in the first chunks: both readers share the file until chunk 3
    # repeats a key of chunk 2, which the other reader validated.
    lines = [HEADER] + [f"F-{n},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n}," for n in range(60)]
    lines[36] = lines[36].replace("F-35,", "F-21,")
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    on_thread = read_all(path, "thread")
    assert read_all(path, "2") == on_thread
    assert starts == [(2, 0), (1, 3)]
    assert on_thread[0][3][3] == [(37, "intel_id repeats line 23")]
    starts.clear()
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join([HEADER] + lines[1:36] + lines[37:]) + "\n", encoding="utf-8")
    assert read_all(clean, "2") == read_all(clean, "thread")
    assert starts == [(2, 0)]  # no hand-over without a repeat


def test_two_forked_readers_each_read_the_file_from_its_own_place(tmp_path, monkeypatch):
    # Over the 256K characters the parent reads with the header: each reader
    # goes on reading the file itself, and a fork shares one file position.
    monkeypatch.setattr(reading, "CHUNK", 1000)
    lines = [HEADER] + [
        f"F-{n},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n} {'x' * 80}," for n in range(20_000)
    ]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 4 * extracts._Lines.BLOCK_CHARS
    on_thread = read_all(path, "thread")
    assert read_all(path, "2") == on_thread
    assert sum(read for read, *_ in on_thread[0]) == 20_000


@FIRST_LOAD_ON_SQLITE
def test_forked_reading_needs_no_proc_file_system(db, other_db, tmp_path, monkeypatch, forked):
    # Only two readers need a file position of their own (opened again
    # through /proc/self/fd): one reads on through the one it shares with the
    # importer, which reads nothing meanwhile, as before there were two. Where
    # the file cannot be opened again (no /proc), EM events have one reader.
    real_open = os.open

    def without_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_open(path, *args, **kwargs)

    path = rows_file(tmp_path, 12_000)
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id\n" + "".join(f"EM-{n}\n" for n in range(100)), encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,case_id,event_type,started_at\n"
        + "".join(f"E-{n},EM-{n % 100},battery,2026-11-01T01:00\n" for n in range(12_000))
        + "E-7,EM-1,battery,2026-11-01T02:00\n",  # a repeat: quarantined either way
        encoding="utf-8",
    )
    files = (("intel", path), ("em-cases", cases), ("em-events", events))
    with monkeypatch.context() as thread_only:
        thread_only.setattr(importer, "LARGE_IMPORT_BYTES", 1 << 40)
        on_thread = [import_file(db, kind, file, actor=EVERYONE) for kind, file in files]
    monkeypatch.setattr(os, "open", without_proc)
    in_child = [import_file(other_db, kind, file, actor=EVERYONE) for kind, file in files]
    assert len(forked) == 3
    assert list(map(summary, in_child)) == list(map(summary, on_thread))
    assert in_child[2].problems == [(12_002, "event_id repeats line 9")]
    assert stored(other_db) == stored(db)
    assert multiprocessing.active_children() == []


def test_after_a_hand_over_one_reader_reads_on_past_the_parents_first_read(
    tmp_path, monkeypatch, starts
):
    # Chunk 5 repeats a key of chunk 4 (the other reader's): one reader reads
    # on from chunk 5 through the file position it shares with the importer.
    monkeypatch.setattr(reading, "CHUNK", 1000)
    lines = [HEADER] + [
        f"F-{n},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n} {'x' * 80}," for n in range(20_000)
    ]
    lines[5_500] = lines[5_500].replace("F-5499,", "F-4200,")
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 4 * extracts._Lines.BLOCK_CHARS
    on_thread = read_all(path, "thread")
    assert read_all(path, "2") == on_thread
    assert starts == [(2, 0), (1, 5)]
    assert on_thread[0][5][3] == [(5_501, "intel_id repeats line 4202")]


def test_two_forked_readers_raise_a_reading_error_where_one_reader_does(
    tmp_path, monkeypatch, small_chunks
):
    lines = [HEADER] + [f"F-{n},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n}," for n in range(95)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for limit in (55, 65):  # met in chunk 5 (the second reader's), then chunk 6 (the first's)
        monkeypatch.setattr(extracts, "MAX_ROWS", limit)
        before_error = {}
        for how in ("thread", "2"):
            extract = extracts.Extract(path)
            from triage.imports.columns import KINDS
            from triage.imports.validation import Validator

            validator = Validator(KINDS["intel"], extract.header, extract.header)
            ahead = (
                reading.on_thread(extract.rows(), validator, lambda c: ([], c))
                if how == "thread"
                else reading.Forked(extract).chunks(validator, lambda c: ([], c), 2)
            )
            got = []
            with pytest.raises(UnreadableFile, match=f"more than {limit} rows"):
                for _read, valid, _rejected in ahead:
                    got.append(valid.lines)
            before_error[how] = got
        assert before_error["2"] == before_error["thread"]
        assert len(before_error["2"]) == limit // 10
    assert multiprocessing.active_children() == []


@FIRST_LOAD_ON_SQLITE
def test_a_cancel_while_two_readers_read_em_events_changes_nothing_and_ends_them(
    db, tmp_path, forked, starts
):
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id\n" + "".join(f"EM-{n}\n" for n in range(100)), encoding="utf-8")
    import_file(db, "em-cases", cases, actor=EVERYONE)
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,case_id,event_type,started_at\n"
        + "".join(f"E-{n},EM-{n % 100},battery,2026-11-01T01:00\n" for n in range(30_000)),
        encoding="utf-8",
    )

    def cancel_after_the_first_chunk(fraction, message):
        job.cancel()

    job = Job(cancel_after_the_first_chunk)
    with pytest.raises(Cancelled):
        import_file(db, "em-events", events, job=job, actor=EVERYONE)
    assert starts == [(1, 0), (2, 0)]  # the cases, then the events
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EmEvent)) == 0
    assert multiprocessing.active_children() == []


def test_rows_passed_over_are_counted_not_split_and_the_rest_read_as_ever(tmp_path):
    # What a reading process that validates every other chunk of 100 rows
    # gets (triage.imports.reading._child): the other chunks' rows, where
    # their lines are plain, as PASSED_OVER; everything else as one reader
    # reads it, with the same line counts, whatever kind of line sits where.
    lines = [HEADER]
    for n in range(1_000):
        lines.append(f"F-{n:04d},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n},")
        # Chunks 1 and 3 are passed over, 4 looked at (the others plain).
        if n in (320, 420):
            lines.append("")  # blank lines: not rows
        if n in (330, 440):
            lines.append("   ")
        if n in (180, 410):
            lines.append(f'F-q{n},2026-07-01,LSE,,"two\nlines, quoted",kept')
        if n in (190, 430):
            lines.append(f"F-c{n},2026-07-01,LSE,,bell\x07,")  # rejected, still a row
        if n == 350:
            lines.append("just one cell")  # a row with no comma, not blank
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def read(passed_over):
        extract = extracts.Extract(path)
        extract.passed_over = passed_over
        return list(extract.rows()), (extract.lines, extract.blank_lines, extract.multi_line)

    whole, counts = read(None)
    size = 100
    halved, halved_counts = read(lambda first: (first // size % 2 == 1, size - first % size))
    assert halved_counts == counts
    assert len(halved) == len(whole)
    passed = [k for k, row in enumerate(halved) if row is extracts.PASSED_OVER]
    assert len(passed) > 300  # most of the odd chunks' rows
    assert all(k // size % 2 == 1 for k in passed)
    assert [row for k, row in enumerate(halved) if k not in set(passed)] == [
        row for k, row in enumerate(whole) if k not in set(passed)
    ]


def test_two_readers_of_rising_keys_hand_over_with_every_earlier_key(
    tmp_path, small_chunks, starts
):
    # Keys that rise through the file are only held while each chunk's are
    # above those before. Chunk 4 repeats a key of chunk 2 (its own
    # reader's): one reader from there on, which must know every earlier
    # key, held ones included, with their lines: chunk 6 repeats chunk 3's.
    lines = [HEADER] + [
        f"F-{n:03d},2026-07-01T10:{n % 60:02d},LSE,2B P,row {n}," for n in range(80)
    ]
    lines[46] = lines[46].replace("F-045,", "F-025,")
    lines[66] = lines[66].replace("F-065,", "F-035,")
    path = tmp_path / "rising.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    on_thread = read_all(path, "thread")
    assert read_all(path, "2") == on_thread
    assert starts == [(2, 0), (1, 4)]
    assert on_thread[0][4][3] == [(47, "intel_id repeats line 27")]
    assert on_thread[0][6][3] == [(67, "intel_id repeats line 37")]


def test_earlier_keys_are_looked_up_once_they_stop_rising():
    seen: dict = {}
    earlier = reading._EarlierKeys(seen)
    assert earlier.take(["a", "c"], [1, 2]) and earlier.take(["d", "e"], [3, 4])
    assert seen == {}  # held: each chunk above the one before
    assert earlier.take(["b"], [5])  # not above: every key looked up from now on
    assert seen == {"a": 1, "c": 2, "d": 3, "e": 4, "b": 5}
    assert not earlier.take(["f", "c"], [6, 7])
    assert earlier.take(["z"], [8]) and seen["z"] == 8
    held = reading._EarlierKeys(other := {})
    assert held.take([("x", None)], [1])
    assert held.take([("x", "y")], [2]) is True  # keys that do not compare: looked up
    assert other == {("x", None): 1, ("x", "y"): 2}
    rising = reading._EarlierKeys(filed := {})
    assert rising.take(["a"], [1]) and filed == {}
    rising.file()
    assert filed == {"a": 1}
