"""Property tests: any bytes, for every import kind, give a clear refusal or
an import in which every row and every physical line is accounted for."""

from __future__ import annotations

import functools
import io
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from actors import EVERYONE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.imports.columns import KINDS
from triage.imports.extracts import Extract, Rejected, UnreadableFile
from triage.imports.importer import import_file
from triage.store.db import open_database

GOOD_CELLS = {
    "intel_id": ["I-1", "I-2", "I-3"],
    "case_id": ["C-1", "C-2"],
    "event_id": ["E-1", "E-2"],
    "received_at": ["2026-07-01T10:00", "14/07/2026", "2026-03-29T01:30", "2026-10-25T01:30"],
    "started_at": ["2026-07-01T10:00", "2026-07-02"],
    "meeting_date": ["2026-07-08", "15/07/2026"],
    "region": ["LSE", "SNI"],
    "event_type": ["battery", "absence_15min"],
    "decision": ["accepted", "rejected", "not_discussed"],
    # The service-level and process-issue extracts (issue 19.2).
    "measure": ["Equipment re-installation", "Attendance at court"],
    "month": ["2021-10", "2021-11-01"],
    "target_pct": ["95", "85%"],
    "issue_id": ["PI-1", "PI-2"],
    "kind": ["equipment_fault", "incorrect_referral"],
    "occurred_at": ["2021-10-04T10:00", "2021-11-02"],
}
# Text that breaks naive readers: quotes, separators, line ends, control characters.
NASTY = st.text(alphabet=st.sampled_from("a1 ,;\"'\n\r\t\x00\x1b=é€\ufeff"), max_size=12)

settings.register_profile("imports", deadline=None, max_examples=40)


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    database = open_database(tmp_path_factory.mktemp("props") / "p.sqlite")
    yield database
    database.close()


@st.composite
def extract_text(draw, kind: str) -> str:
    columns = [column.name for column in KINDS[kind].columns][: draw(st.integers(1, 6))]
    columns += [c for c in KINDS[kind].required if c not in columns]
    lines = [",".join(columns)]
    for _ in range(draw(st.integers(0, 8))):
        cells = [draw(st.sampled_from(GOOD_CELLS.get(name, ["", "x"])) | NASTY) for name in columns]
        lines.append(",".join(cells))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


def check_import(db, kind: str, path: Path) -> None:
    try:
        result = import_file(db, kind, path, actor=EVERYONE)
    except UnreadableFile as error:
        assert str(error).startswith(f"{path.name}: ")
        return
    assert result.rows_read == (
        result.inserted + result.updated + result.unchanged + result.quarantined
    )


def check_lines(path: Path) -> None:
    """Every physical line is the header, blank, or (part of) one row."""
    try:
        extract = Extract(path)
        rows = list(extract.rows())
    except UnreadableFile:
        return
    if extract.is_xlsx:
        return
    spans = sum(last - first for first, last in extract.multi_line)
    assert extract.lines == extract.header_lines + extract.blank_lines + len(rows) + spans
    numbers = [item.line_no if isinstance(item, Rejected) else item[0] for item in rows]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("kind", list(KINDS))
@settings(
    settings.get_profile("imports"), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_csv_text_is_imported_or_refused_with_every_line_accounted_for(
    shared_db, tmp_path, kind, data
):
    text = data.draw(extract_text(kind))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    check_lines(path)
    check_import(shared_db, kind, path)


@pytest.mark.parametrize("kind", list(KINDS))
@settings(
    settings.get_profile("imports"), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=400))
def test_any_bytes_are_imported_or_refused(shared_db, tmp_path, kind, content):
    path = tmp_path / "any.csv"
    path.write_bytes(content)
    check_lines(path)
    check_import(shared_db, kind, path)


@functools.cache  # the same bytes on every draw (a saved workbook holds its time)
def small_workbook(kind: str) -> bytes:
    book = openpyxl.Workbook()
    columns = list(KINDS[kind].required)
    book.active.append(columns)
    for n in range(3):
        book.active.append([GOOD_CELLS.get(name, ["x"])[n % 2] for name in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", list(KINDS))
@settings(
    settings.get_profile("imports"), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_damage_to_a_workbook_is_imported_or_refused(shared_db, tmp_path, kind, data):
    content = bytearray(small_workbook(kind))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(bytes(content))
    check_import(shared_db, kind, path)


def read_all(path: Path) -> tuple[list, tuple]:
    extract = Extract(path)
    rows = [
        (r.line_no, r.cells, r.reason) if isinstance(r, Rejected) else r for r in extract.rows()
    ]
    return rows, (extract.lines, extract.blank_lines, extract.header_lines, extract.multi_line)


@settings(settings.get_profile("imports"), max_examples=150)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "a,b,c",
                '1,"x\ny",3',
                '"q",,',
                "",
                " ",
                '"open,1,2',
                'x""y,z,"',
                "'=1,2,3",
                "1,2",
                'a,"b\r\nc",d',
                "\x1b,1,2",
            ]
        )
        | NASTY,
        max_size=30,
    ).map(lambda lines: "h1,h2,h3\n" + "\n".join(lines)),
    ending=st.sampled_from(["", "\n", "\r\n", "\r"]),
    block_chars=st.sampled_from([1, 3, 16, 1 << 18]),
)
def test_the_block_reader_reads_as_the_line_by_line_reader(
    tmp_path_factory, text, ending, block_chars
):
    """Rows taken whole blocks at a time (any block size, lines cut by the
    blocks anywhere, \\r\\n split between two blocks) are the rows, line
    numbers, reasons and counts of reading one record at a time."""
    import triage.imports.extracts as extracts

    path = tmp_path_factory.mktemp("blocks") / "x.csv"
    path.write_bytes((text.replace("\n", ending or "\n") + ending).encode())
    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(extracts._Lines, "BLOCK_CHARS", block_chars)
        fast = read_all(path)
        patch.setattr(extracts.Extract, "_plain_rows", lambda self, lines: iter(()))
        careful = read_all(path)
    except UnreadableFile as error:
        fast = careful = str(error)  # type: ignore[assignment]
    finally:
        patch.undo()
    assert fast == careful


ISO_CELLS = st.builds(
    lambda moment, shape, sep: moment.isoformat(sep=sep)[:shape],
    st.datetimes(),
    st.sampled_from([10, 16, 19, 26]),
    st.sampled_from(["T", " "]),
)


@settings(settings.get_profile("imports"), max_examples=200)
@given(
    cells=st.lists(
        ISO_CELLS
        | st.sampled_from(
            [
                "",
                "  ",
                "2026-03-29T01:30",
                "2026-10-25T01:59:59",
                "2026-02-29",
                "2024-02-29T23:59",
                "2026-13-01",
                "0000-01-01",
                "2026-01-01T24:00",
                "14/07/2026",
                "2026-07-01T10:00Z",
                "2026-07-01x10:00:00",
            ]
        )
        | st.text(alphabet="0123456789-:T /xZ+", max_size=20),
        max_size=40,
    )
)
def test_a_column_of_times_converts_as_each_cell_does(cells):
    from triage import clock
    from triage.store import item_values

    values, problems = clock.parse_datetimes(cells)
    stored: list[str | None] = []
    days: list[int | None] = []
    assert clock.parse_datetimes(cells, stored, days) == (values, problems)
    # The stored form and UK day made together with the values are each value's own.
    assert stored == [None if v is None else v.isoformat(" ", "microseconds") for v in values]
    assert days == [None if v is None else item_values.received_uk_day(v) for v in values]
    for k, cell in enumerate(cells):
        try:
            expected = clock.parse_datetime(cell) if cell.strip() else None
            problem = None
        except ValueError as error:
            expected, problem = None, str(error)
        except OverflowError:
            continue  # a time beyond datetime's range once shifted to UTC
        assert (values[k], problems.get(k)) == (expected, problem), cell


@given(st.dictionaries(st.text(), st.text(), max_size=5))
def test_extra_cells_are_written_as_json_dumps_writes_them(cells):
    import json

    from triage.imports.importer import _cells_json

    assert _cells_json(cells) == json.dumps(cells)


@pytest.mark.parametrize(
    "year",
    # Local mean time to GMT (1847), the first summer time (1916), double summer
    # time (1941-1947), British Standard Time (1968-1971), today, and the ends.
    [1, 1847, 1916, 1941, 1947, 1968, 1971, 2026, 2100, 9999],
)
def test_the_hour_table_gives_each_hours_own_uk_offset(year):
    """clock._hour_offsets (a column's times) agrees with _london_offset (one
    time) on every local hour of the year: the offset, or the same problem."""
    import numpy as np

    from triage import clock

    start = (datetime(year, 1, 1) - datetime(1970, 1, 1)) // timedelta(hours=1)
    count = (datetime(year, 12, 31, 23) - datetime(year, 1, 1)) // timedelta(hours=1) + 1
    hours = np.arange(start, start + count, dtype=np.int64)
    offsets, refused = clock._hour_offsets(hours)
    expected_refused = {}
    for k in range(count):
        moment = datetime(year, 1, 1) + timedelta(hours=k)
        try:
            offset = clock._london_offset(year, moment.month, moment.day, moment.hour)
        except ValueError as error:
            expected_refused[k] = str(error)
        else:
            assert offsets[k] == offset // timedelta(seconds=1), moment
    assert refused == expected_refused
    if year in (1916, 2026):
        assert len(refused) == 2  # the hour skipped and the hour repeated


def test_times_spread_one_a_year_over_centuries_keep_little_memory():
    """A column whose times fall one or two a year over many years (a
    hostile or damaged file) is converted as each time alone would be, and
    keeps little in memory: a year's hour table (70 KB) for each of 2,000
    years was 140 MB kept for the life of the process, and 4 s to make."""
    from triage import clock

    clock._YEAR_OFFSETS.clear()
    # Two times a year, one in the hour UK clocks skip where there was one.
    texts = [f"{year:04d}-03-29 01:30" for year in range(100, 2100)]
    texts += [f"{year:04d}-07-01 12:00" for year in range(100, 2100)]
    values, problems = clock.parse_datetimes(texts)
    for k, text_ in enumerate(texts):
        try:
            expected = clock.parse_datetime(text_)
        except ValueError as error:
            assert problems[k] == str(error)
        else:
            assert values[k] == expected
    assert "2026-03-29 01:30" in [texts[k] for k in problems]
    kept = sum(table.nbytes for table, _, _ in clock._YEAR_OFFSETS.values())
    assert kept < 2 * 2**20


def test_the_year_tables_kept_are_bounded():
    """Years with many times each get their tables, the most recently used
    YEAR_TABLES_KEPT of them kept."""
    from triage import clock

    clock._YEAR_OFFSETS.clear()
    years = range(1800, 1800 + clock.YEAR_TABLES_KEPT + 10)
    texts = [
        f"{year:04d}-{1 + hour // 24 // 28:02d}-{1 + hour // 24 % 28:02d} {hour % 24:02d}:00"
        for year in years
        for hour in range(clock.YEAR_TABLE_HOURS)
    ]
    values, problems = clock.parse_datetimes(texts)
    assert problems == {} and None not in values
    assert list(clock._YEAR_OFFSETS) == list(years)[-clock.YEAR_TABLES_KEPT :]


def test_stored_times_are_written_as_numpy_writes_them():
    # The digits of an instant's stored text are computed for a whole column
    # (clock._stored_text_array); numpy's datetime_as_string is the reference, over
    # the years a plain cell can have, their ends, and every day of 1899-2100.
    import numpy as np

    from triage import clock

    epoch = np.datetime64("1970-01-01T00:00:00")
    first = (np.datetime64("0001-01-01T00:00:00") - epoch).astype(np.int64)
    last = (np.datetime64("9999-12-31T23:59:59") - epoch).astype(np.int64)
    spread = np.random.default_rng(17).integers(first, last + 1, 100_000)
    days = np.arange(-25_567, 47_482)  # 1900-01-01 to 2099-12-31
    every_day = days * 86_400 + (days * 7_919) % 86_400
    seconds = np.concatenate([[first, last, -1, 0, 86_399, 86_400], spread, every_day])
    written = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype("<U19")
    expected = [text_.replace("T", " ") + ".000000" for text_ in written.tolist()]
    assert clock._stored_text_array(seconds).tolist() == expected


@given(st.text())
def test_a_control_character_is_found_as_the_regular_expression_finds_it(text_):
    from triage.imports import extracts

    assert extracts._has_control(text_) == bool(extracts._CONTROL.search(text_))


def test_each_character_is_a_control_character_as_the_regular_expression_says():
    from triage.imports import extracts

    # Every one- and two-byte character of UTF-8, the lone surrogates, the last ones.
    codes = [*range(0x800), *range(0xD800, 0xE000), *range(0x10FF00, 0x110000)]
    found = [code for code in codes if extracts._has_control(f"a{chr(code)}\u00e9")]
    assert found == [code for code in codes if extracts._CONTROL.search(chr(code))]
    assert len(found) == 30  # as many as the expression names


def test_a_long_column_with_gaps_converts_as_each_cell_does():
    # Over clock.FEW_TIMES good cells among empty, malformed and refused ones
    # (a skipped and a repeated hour) are put in place over the whole column.
    from datetime import datetime, timedelta

    from triage import clock
    from triage.store import item_values

    start = datetime(2026, 3, 28, 0, 0, 7)
    cells = [(start + timedelta(minutes=17 * k)).strftime("%Y-%m-%dT%H:%M:%S") for k in range(900)]
    for k in range(0, 900, 7):
        cells[k] = ("", "  ", "2026-03-29 01:30", "2026-10-25 01:30", "not a time", "2026-02-30")[
            k % 6
        ]
    stored: list[str | None] = []
    days: list[int | None] = []
    values, problems = clock.parse_datetimes(cells, stored, days)
    assert sum(value is not None for value in values) > clock.FEW_TIMES
    for k, cell in enumerate(cells):
        try:
            expected = clock.parse_datetime(cell) if cell.strip() else None
            problem = None
        except ValueError as error:
            expected, problem = None, str(error)
        assert (values[k], problems.get(k)) == (expected, problem), cell
        assert stored[k] == (None if expected is None else expected.isoformat(" ", "microseconds"))
        assert days[k] == (None if expected is None else item_values.received_uk_day(expected))
    assert {k for k in range(0, 900, 7) if k % 6 >= 2} <= set(problems)
    assert any("does not exist" in p for p in problems.values())
    assert any("happens twice" in p for p in problems.values())
