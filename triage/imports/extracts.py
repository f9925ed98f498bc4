"""Reading extract files: CSV (UTF-8, with or without BOM) or the first sheet
of an .xlsx, as a header plus rows of text cells with their line numbers.

Anything that makes the whole file unusable (not text, wrong encoding, no
header, repeated column names) raises ``UnreadableFile`` with one message
naming the file and the problem. Problems of single rows are left to the
importer, which quarantines them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a typing-only name (typeshed's), not importable at run time
    from _typeshed import WriteableBuffer

XLSX_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


# One row: its line number in the file and its cells. A plain tuple, as
# a million of them are made per million-row file.
ExtractRow = tuple[int, list[str]]


class _CountingReader(io.RawIOBase):
    """Counts bytes read so that progress can be reported during a CSV read."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n


class Extract:
    """An open extract. Iterate ``rows()`` once; ``fraction_read()`` for progress."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            self.size = self.path.stat().st_size
            with open(self.path, "rb") as handle:
                start = handle.read(4096)
        except OSError as error:
            raise UnreadableFile(f"{self.name}: cannot open ({error.strerror})") from None
        if self.size == 0:
            raise UnreadableFile(f"{self.name}: the file is empty")
        self.is_xlsx = start.startswith(XLSX_MAGIC)
        # Excel's "Unicode Text" and some exports write UTF-16, whose bytes
        # hold zeros: say what to do rather than call the file binary.
        if start.startswith(UTF16_BOMS):
            raise UnreadableFile(
                f"{self.name}: the file is UTF-16 text; save it as CSV UTF-8 "
                "(in Excel: Save As, CSV UTF-8) and import that"
            )
        if not self.is_xlsx and b"\x00" in start:
            raise UnreadableFile(f"{self.name}: not a CSV or XLSX file (binary content)")
        self._rows: Iterator[ExtractRow]
        self._progress: Callable[[], float] = lambda: 0.0
        if self.is_xlsx:
            self.header, self._rows = self._open_xlsx()
        else:
            self.header, self._rows = self._open_csv()
        self._check_header()

    def rows(self) -> Iterator[ExtractRow]:
        return self._rows

    def fraction_read(self) -> float:
        return self._progress()

    def _check_header(self) -> None:
        names = [h.strip().casefold() for h in self.header]
        if not any(names):
            raise UnreadableFile(f"{self.name}: the first row is empty; expected a header row")
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise UnreadableFile(f"{self.name}: column {name!r} appears twice in the header")
            seen.add(name)

    def _open_csv(self) -> tuple[list[str], Iterator[ExtractRow]]:
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the row generator
        counter = _CountingReader(raw)
        buffered = io.BufferedReader(counter, buffer_size=1 << 16)
        # Strict decoding: a file in the wrong encoding fails whole, naming
        # the line, instead of importing mangled names.
        text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="strict", newline="")
        reader = csv.reader(text)
        self._progress = lambda: counter.bytes_read / self.size
        try:
            header = next(reader)
        except StopIteration:
            raw.close()
            raise UnreadableFile(f"{self.name}: the file has no header row") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raw.close()
            raise UnreadableFile(
                f"{self.name}: line {self._bad_line(error, 1)}: {_describe(error)}"
            ) from None

        def generate() -> Iterator[ExtractRow]:
            last_line = reader.line_num
            try:
                for cells in reader:
                    line_no = last_line + 1
                    last_line = reader.line_num
                    if cells:  # a blank line is not a row
                        yield line_no, cells
            except (UnicodeDecodeError, csv.Error) as error:
                raise UnreadableFile(
                    f"{self.name}: line {self._bad_line(error, last_line + 1)}: "
                    f"{_describe(error)}; nothing was imported"
                ) from None
            finally:
                raw.close()

        return header, generate()

    def _bad_line(self, error: Exception, parsed_line: int) -> int:
        """The line holding the first byte that is not UTF-8 (decoding runs
        ahead of parsing in blocks, so the parser's line is not it)."""
        if not isinstance(error, UnicodeDecodeError):
            return parsed_line
        with open(self.path, "rb") as handle:
            for line_no, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return line_no
        return parsed_line

    def _open_xlsx(self) -> tuple[list[str], Iterator[ExtractRow]]:
        import openpyxl  # imported here: only XLSX imports pay its start-up cost

        # A file object, so a workbook is recognised by content, not by name.
        handle = open(self.path, "rb")  # noqa: SIM115 - closed by the row generator
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            handle.close()
            raise UnreadableFile(f"{self.name}: not a readable XLSX workbook ({error})") from None
        sheet = workbook.worksheets[0]
        # Writers need not store the sheet's size: then the row count is unknown
        # (None) and progress stays at or under 1.
        total = sheet.max_row or 1
        values = sheet.iter_rows(values_only=True)
        try:
            header = [cell_text(v) for v in next(values)]
        except StopIteration:
            workbook.close()
            handle.close()
            raise UnreadableFile(f"{self.name}: the first sheet is empty") from None
        while header and header[-1] == "":
            header.pop()
        done = [1]
        self._progress = lambda: min(1.0, done[0] / total)

        def generate() -> Iterator[ExtractRow]:
            try:
                for line_no, row in enumerate(values, start=2):
                    done[0] = line_no
                    cells = [cell_text(v) for v in row]
                    while len(cells) > len(header) and cells[-1] == "":
                        cells.pop()
                    # A sheet need not store trailing empty cells: in XLSX they
                    # are empty values, not a short row as in a CSV.
                    cells += [""] * (len(header) - len(cells))
                    if any(cells):
                        yield line_no, cells
            finally:
                workbook.close()
                handle.close()

        return header, generate()


def wrong_separator(header: list[str]) -> str | None:
    """What to do about a header read as one column because the file is not
    separated by commas (Excel in many locales saves CSV with semicolons;
    "Text" saves tabs), else None."""
    if len(header) != 1:
        return None
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if separator in header[0]:
            return (
                f"its columns are separated by {name}, not commas: "
                "save it as CSV UTF-8 (comma delimited)"
            )
    return None


def cell_text(value: object) -> str:
    """An XLSX cell as the text the CSV contract would carry."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _describe(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return (
            f"not UTF-8 text (byte 0x{error.object[error.start]:02x}); "
            "save the extract as CSV UTF-8 and import it again"
        )
    return f"malformed CSV ({error})"
