"""Hostile and damaged files: one clear message or quarantined rows, never a
traceback, a hang or a lost row (issue 14 items 1-3, 10; issue 15.15-17;
issue 19.11)."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from actors import EVERYONE
from hostile_files import HEADER_ROW, cell, intel_rows, row, sheet, xlsx
from sqlalchemy import func, select

from triage.imports import extracts
from triage.imports.extracts import Extract, UnreadableFile
from triage.imports.importer import import_file
from triage.store.models import ImportBatch, IntelItem, QuarantinedRow

HEADER = "intel_id,received_at,region,summary"


def csv_file(tmp_path: Path, *lines: str, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def stored_ids(db) -> set[str]:
    with db.transaction() as session:
        return set(session.scalars(select(IntelItem.intel_id)))


def quarantined(db) -> dict[int, str]:
    with db.transaction() as session:
        return dict(session.execute(select(QuarantinedRow.line_no, QuarantinedRow.reason)).all())


def good(n: int) -> str:
    return f"G-{n},2026-07-01T10:00,LSE,fine"


# -- every line accounted for ------------------------------------------------------


def test_a_stray_quote_does_not_swallow_the_rows_after_it(db, tmp_path):
    path = csv_file(
        tmp_path,
        good(2),
        'B-3,2026-07-01T10:00,LSE,"an unbalanced quote',
        *(good(n) for n in range(4, 12)),
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == {f"G-{n}" for n in (2, *range(4, 12))}
    # The bad line is its own quarantined row, under its own line number.
    assert list(quarantined(db)) == [3] and "not closed" in quarantined(db)[3]
    assert result.rows_read == 10 and result.lines == 11 and result.multi_line == []


def test_a_stray_quote_mid_cell_keeps_the_row(db, tmp_path):
    path = csv_file(tmp_path, 'Q-2,2026-07-01T10:00,LSE,Joe"s cafe', good(3))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (2, 0)
    with db.transaction() as session:
        summary = select(IntelItem.summary).where(IntelItem.intel_id == "Q-2")
        assert session.scalar(summary) == 'Joe"s cafe'


def test_a_quoted_cell_over_several_lines_is_one_row_and_is_reported(db, tmp_path):
    path = csv_file(
        tmp_path, good(2), 'M-3,2026-07-01T10:00,LSE,"line one\nline two\nthree"', good(6)
    )
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (3, 0)
    assert result.multi_line == [(3, 5)] and result.lines == 6
    with db.transaction() as session:
        summary = select(IntelItem.summary).where(IntelItem.intel_id == "M-3")
        assert session.scalar(summary) == "line one\nline two\nthree"


def test_an_unclosed_quote_at_the_end_loses_nothing(db, tmp_path):
    path = csv_file(tmp_path, good(2), 'U-3,2026-07-01T10:00,LSE,"never closed', good(4), good(5))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == {"G-2", "G-4", "G-5"} and list(quarantined(db)) == [3]
    assert result.rows_read == 4


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_quarantine_their_row_with_a_reason(db, tmp_path, control):
    path = csv_file(tmp_path, good(2), f"N-3,2026-07-01T10:00,LSE,cut{control}short", good(4))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == {"G-2", "G-4"}
    assert quarantined(db) == {3: f"column 4: control character U+{ord(control):04X}"}
    assert result.quarantined == 1
    with db.transaction() as session:
        # Kept whole in the quarantine, never cut short.
        assert session.scalar(select(QuarantinedRow.raw))["summary"] == f"cut{control}short"
        # The line's text shows a NUL as U+2400 (PostgreSQL text cannot hold NUL).
        shown = "\u2400" if control == "\x00" else control
        assert (
            session.scalar(select(QuarantinedRow.raw_text))
            == f"N-3,2026-07-01T10:00,LSE,cut{shown}short"
        )


def test_a_cell_over_the_limit_is_quarantined_without_its_text(db, tmp_path):
    long_cell = "x" * (extracts.MAX_CELL_CHARS + 1)
    path = csv_file(tmp_path, good(2), f"L-3,2026-07-01T10:00,LSE,{long_cell}", good(4))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == {"G-2", "G-4"} and result.quarantined == 1
    assert "longer than 32,767 characters" in quarantined(db)[3]


def test_a_line_over_the_row_limit_refuses_the_file(db, tmp_path, monkeypatch):
    monkeypatch.setattr(extracts, "MAX_ROW_CHARS", 1000)
    path = csv_file(tmp_path, good(2), "H-3," + "y" * 2000)
    with pytest.raises(UnreadableFile, match=r"x.csv: line 3 is longer than the 1,000-character"):
        import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == set()


def test_a_header_of_100000_columns_is_refused_quickly(db, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n1\n")
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match=r"the header has 100,000 columns; the limit is 1,000"):
        import_file(db, "intel", path, actor=EVERYONE)
    assert time.monotonic() - started < 10


def test_a_file_of_mostly_bad_rows_is_refused_whole(db, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_text(HEADER + "\n" + "a\n" * 12_000)
    with pytest.raises(UnreadableFile, match=r"12,000 of the first 12,000 rows cannot be imported"):
        import_file(db, "intel", path, actor=EVERYONE)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


# -- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "named"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16"), ("cp1252", "Windows-1252")],
)
def test_each_encoding_is_read_and_named(db, tmp_path, encoding, named):
    path = tmp_path / "e.csv"
    path.write_bytes(f"{HEADER}\nE-1,2026-07-01T10:00,LSE,Café £5 – “quoted”\n".encode(encoding))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.inserted, result.encoding) == (1, named)
    with db.transaction() as session:
        assert session.scalar(select(IntelItem.summary)) == "Café £5 – “quoted”"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003"),
        (b"%PDF-1.7\n" + bytes(range(256)), "a PDF document"),
        (b"\xff\xfe" + b"\x00\xd8" * 4, "not valid UTF-16"),
        ("intel_id,received_at\n".encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
    ],
)
def test_binary_files_get_one_clear_message(db, tmp_path, content, message):
    path = tmp_path / "b.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        import_file(db, "intel", path, actor=EVERYONE)


# -- dates and local times -------------------------------------------------------------


def test_local_times_that_do_not_exist_or_happen_twice_are_quarantined(db, tmp_path):
    path = csv_file(
        tmp_path,
        "T-2,2026-03-29T01:30,LSE,",  # clocks went forward at 01:00: no such time
        "T-3,2026-10-25T01:30,LSE,",  # clocks went back at 02:00: happened twice
        "T-4,2026-10-25T01:30+01:00,LSE,",  # with its offset: exact
        "T-5,2026-10-25T01:30+00:00,LSE,",
        "T-6,2026-03-29T02:30,LSE,",
    )
    import_file(db, "intel", path, actor=EVERYONE)
    reasons = quarantined(db)
    assert sorted(reasons) == [2, 3]
    assert "does not exist" in reasons[2] and "happens twice" in reasons[3]
    with db.transaction() as session:
        stored = dict(session.execute(select(IntelItem.intel_id, IntelItem.received_at)).all())
    assert stored == {
        "T-4": datetime(2026, 10, 25, 0, 30),
        "T-5": datetime(2026, 10, 25, 1, 30),
        "T-6": datetime(2026, 3, 29, 1, 30),
    }


# -- XLSX -----------------------------------------------------------------------------------


def test_a_formula_gives_its_saved_value_and_one_without_is_quarantined(db, tmp_path):
    body = (
        HEADER_ROW
        + row(
            2,
            cell("A2", "F-2"),
            '<c r="B2" t="str"><f>A9</f><v>2026-07-01</v></c>',
            cell("C2", "LSE"),
        )
        + row(3, cell("A3", "F-3"), '<c r="B3" t="str"><f>A9</f></c>', cell("C3", "LSE"))
        + row(
            4,
            cell("A4", "F-4"),
            cell("B4", "2026-07-01"),
            '<c r="C4" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
        )
    )
    path = xlsx(tmp_path / "f.xlsx", sheet(body))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert stored_ids(db) == {"F-2"} and result.quarantined == 2
    assert quarantined(db) == {
        3: "cell B3: formula without a saved value",
        4: "cell C4: the Excel error #DIV/0!",
    }


def test_formulas_saved_by_openpyxl_without_values_are_quarantined(db, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["intel_id", "received_at", "region", "persons_estimated"])
    book.active.append(["O-2", "2026-07-01", "LSE", "=1+2"])
    book.active.append(["O-3", datetime(2026, 7, 1, 9, 30), "LSE", 4])
    book.save(tmp_path / "o.xlsx")
    result = import_file(db, "intel", tmp_path / "o.xlsx", actor=EVERYONE)
    assert stored_ids(db) == {"O-3"} and result.problems == [
        (2, "cell D2: formula without a saved value")
    ]
    with db.transaction() as session:
        assert session.scalar(select(IntelItem.received_at)) == datetime(2026, 7, 1, 8, 30)


def test_an_out_of_date_dimension_loses_no_rows(db, tmp_path):
    path = xlsx(tmp_path / "d.xlsx", sheet(HEADER_ROW + intel_rows(2, 31), dimension="A1:C5"))
    result = import_file(db, "intel", path, actor=EVERYONE)
    assert (result.rows_read, result.inserted) == (30, 30)


def test_a_cell_at_the_last_excel_cell_is_refused_quickly(db, tmp_path):
    body = HEADER_ROW + intel_rows(2, 3) + row(1048576, cell("XFD1048576", "far"))
    path = xlsx(tmp_path / "far.xlsx", sheet(body, dimension="A1:XFD1048576"))
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match=r"cell XFD1048576 is beyond the 1,000-column limit"):
        import_file(db, "intel", path, actor=EVERYONE)
    assert time.monotonic() - started < 10 and stored_ids(db) == set()


def test_a_far_row_of_empty_cells_costs_nothing(db, tmp_path):
    body = HEADER_ROW + intel_rows(2, 3) + row(1048576, '<c r="XFD1048576"/>')
    result = import_file(db, "intel", xlsx(tmp_path / "far.xlsx", sheet(body)), actor=EVERYONE)
    assert (result.rows_read, result.inserted) == (2, 2)


def test_a_zip_bomb_is_refused_by_its_declared_size(db, tmp_path, monkeypatch):
    monkeypatch.setattr(extracts, "MAX_XLSX_PART_BYTES", 1 << 20)
    padding = " " * (2 << 20)  # 2 MB of whitespace that deflates to almost nothing
    path = xlsx(tmp_path / "bomb.xlsx", sheet(HEADER_ROW + padding + intel_rows(2, 3)))
    assert path.stat().st_size < 20_000
    with pytest.raises(UnreadableFile, match=r"unpacks to 2 MB; the limit is 1 MB"):
        import_file(db, "intel", path, actor=EVERYONE)


def test_xml_entities_and_dtds_are_refused(db, tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>&lol2;</t></is></c></row>"
        "</sheetData></worksheet>"
    )
    with pytest.raises(UnreadableFile, match="refused for safety"):
        import_file(db, "intel", xlsx(tmp_path / "dtd.xlsx", bomb), actor=EVERYONE)


def test_every_flipped_byte_of_a_workbook_gives_a_message_or_an_import(db, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["intel_id", "received_at", "region"])
    for n in range(2, 6):
        book.active.append([f"X-{n}", "2026-07-01", "LSE"])
    buffer = io.BytesIO()
    book.save(buffer)
    original = buffer.getvalue()
    path = tmp_path / "flip.xlsx"
    for position in range(0, len(original), max(1, len(original) // 150)):
        damaged = bytearray(original)
        damaged[position] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            result = import_file(db, "intel", path, actor=EVERYONE)
        except UnreadableFile as error:
            assert str(error).startswith("flip.xlsx: ")
        else:
            assert result.rows_read == result.inserted + result.updated + result.unchanged + (
                result.quarantined
            )


def test_a_damaged_zip_names_the_file(db, tmp_path):
    path = tmp_path / "cut.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["intel_id", "received_at", "region"])
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue()[:600])
    with pytest.raises(UnreadableFile, match=r"cut.xlsx: not a readable XLSX workbook"):
        import_file(db, "intel", path, actor=EVERYONE)


def test_shared_strings_and_rich_text_are_read(tmp_path):
    shared = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>intel_id</t></si><si><r><t>rich </t></r><r><t>text</t></r>"
        "<rPh><t>phonetic</t></rPh></si></sst>"
    )
    body = row(1, '<c r="A1" t="s"><v>0</v></c>') + row(2, '<c r="A2" t="s"><v>1</v></c>')
    extract = Extract(xlsx(tmp_path / "s.xlsx", sheet(body), shared=shared))
    assert extract.header == ["intel_id"]
    assert list(extract.rows()) == [(2, ["rich text"])]


def test_a_zip_that_is_not_a_workbook(db, tmp_path):
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFile, match=r"z.xlsx: not a readable XLSX workbook \(no part"):
        import_file(db, "intel", path, actor=EVERYONE)
