"""Reading extract files: CSV (UTF-8, UTF-16 with a byte-order mark, or
Windows-1252) or the first sheet of an .xlsx, as a header plus rows of text
cells with their line numbers.

Anything that makes the whole file unusable (not text, a damaged workbook,
no header, repeated column names, a limit exceeded) raises
``UnreadableFile`` with one message naming the file and the problem, never a
cell's value. A problem of one row (a control character, an Excel error, a
formula without a saved value) comes out of ``rows()`` as a ``Rejected`` row
for the importer to quarantine, so the good rows around it still import.

Every physical line is accounted for: it is the header, a blank line, a row
(a quoted cell may run over several lines: ``multi_line`` lists those rows'
first and last lines), or a row quarantined under its own line number. An
unbalanced quote therefore cannot swallow the rows after it: when a quoted
cell that runs on over the following lines does not give a row of the
header's width, its first line is taken as a row of its own and the lines
after it are read again.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, repeat
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from defusedxml import ElementTree as SafeXML

from triage import spreadsheet

if TYPE_CHECKING:  # a typing-only name (typeshed's), not importable at run time
    from _typeshed import WriteableBuffer

# Limits, enforced while reading (docs/formats.md, `triage import --help`).
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_ROW_CHARS = 1_000_000  # one row, over all its lines
MAX_ROW_LINES = 1_000  # lines one quoted cell may run over
MAX_ROWS = 2_000_000
MAX_XLSX_PART_BYTES = 256 * 1024 * 1024  # uncompressed size of any part of a workbook
MAX_SHARED_STRINGS = 4_000_000

XLSX_MAGIC = b"PK\x03\x04"
# The CSV encodings read, by codec, with the name the import summary gives.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}
_BINARY_MAGIC = {
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV UTF-8",
    b"%PDF": "a PDF document, not an extract",
    XLSX_MAGIC: "a zip archive, not an .xlsx workbook",
}
# Control characters a cell must not hold (tab, and line breaks inside a
# quoted cell, are allowed): stored, they would cut text short elsewhere.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_CHARS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))


def _has_control(text: str) -> bool:
    """Whether ``text`` holds one of ``_CONTROL``'s characters: one substring
    search per character, each at memchr speed. Over a 600 KB block of
    intelligence lines 0.62 ms, against 1.29 ms deleting them from the UTF-8
    bytes (``bytes.translate``) and 6.8 ms for the regular expression's
    search (2.2 against 3.0 ms when the block holds non-ASCII text)."""
    return any(map(text.__contains__, _CONTROL_CHARS))


_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]*)$")
# csv's own limit (128 KB) would end the read with an error; rows are held
# to MAX_ROW_CHARS by _Lines instead.
csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_CHARS + 1))


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


@dataclass
class Rejected:
    """A row that cannot be imported as it is, with the reason (no values)."""

    line_no: int
    cells: list[str]
    reason: str


# One row: its line number in the file and its cells. A plain tuple, as
# a million of them are made per million-row file.
ExtractRow = tuple[int, list[str]]

# What ``rows()`` gives in place of a row its reader passes over
# (``Extract.passed_over``): the row was read and counted, its cells not split.
PASSED_OVER: ExtractRow = (0, [])


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
    """An open extract. Iterate ``rows()`` once; ``fraction_read()`` for progress.

    ``encoding`` says how a CSV was read (None for XLSX); ``sha256`` is the
    file's digest, taken in the same pass that checks its encoding.
    """

    def __init__(self, path: Path | str, checked: tuple[str, str] | None = None) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.encoding: str | None = None
        self.lines = 0  # physical lines (CSV) or sheet rows (XLSX) read so far
        self.blank_lines = 0
        self.header_lines = 1
        self.multi_line: list[tuple[int, int]] = []
        try:
            self.size = self.path.stat().st_size
            with open(self.path, "rb") as handle:
                start = handle.read(4096)
        except OSError as error:
            raise UnreadableFile(f"{self.name}: cannot open ({error.strerror})") from None
        if self.size == 0:
            raise UnreadableFile(f"{self.name}: the file is empty")
        self.is_xlsx = start.startswith(XLSX_MAGIC)
        self._rows: Iterator[ExtractRow | Rejected]
        self._file: IO[bytes]  # the open file the rows are read from
        self._progress: Callable[[], float] = lambda: 0.0
        # Set by a reading process that validates only some chunks of the
        # file (triage.imports.reading): for the row numbered ``first`` (from
        # 0, after the header), whether it will be passed over unlooked-at,
        # and how many rows from it on (at least one) are alike. Such rows
        # on plain one-line records are given as PASSED_OVER, without
        # splitting their cells.
        self.passed_over: Callable[[int], tuple[bool, int]] | None = None
        self._rows_given = 0  # rows ``rows()`` has handed out (CSV)
        if self.is_xlsx:
            self.sha256 = checked[1] if checked else self._digest()
            self.header, self._rows = self._open_xlsx()
        else:
            self._codec, self.sha256 = checked or self._check_text(start)
            self.encoding = ENCODING_NAMES[self._codec]
            self.header, self._rows = self._open_csv()
        self._check_header()

    def rows(self) -> Iterator[ExtractRow | Rejected]:
        return self._rows

    def again(self) -> Extract:
        """The file opened again, to read its rows from the start, with the
        encoding and digest found for this one: the whole file is not read
        a second time to check them (0.09 s of CPU for the 65 MB events file)."""
        return Extract(self.path, ("" if self.is_xlsx else self._codec, self.sha256))

    def fraction_read(self) -> float:
        return self._progress()

    def file_offset(self) -> int:
        """Where the open file is at, for ``read_privately``."""
        return os.lseek(self._file.fileno(), 0, os.SEEK_CUR)

    def can_read_privately(self) -> bool:
        """Whether ``read_privately`` can open the file again (not where
        /proc is not mounted, or the file is no longer readable)."""
        try:
            os.close(self._opened_again())
        except OSError:
            return False
        return True

    def read_privately(self, offset: int) -> None:
        """In a forked process, before reading: read on through a file
        position of its own, set to ``offset`` (``file_offset`` before the
        fork). A fork shares the file's position with its parent and its
        other children, so two reading processes would move each other's.
        The same file is opened again (Linux's /proc/self/fd, where fork is
        used), not the path, which may name another file by now."""
        own = self._file.fileno()
        again = self._opened_again()
        try:
            os.lseek(again, offset, os.SEEK_SET)
            os.dup2(again, own)
        finally:
            os.close(again)

    def _opened_again(self) -> int:
        return os.open(f"/proc/self/fd/{self._file.fileno()}", os.O_RDONLY)

    def _check_header(self) -> None:
        if len(self.header) > MAX_COLUMNS:
            raise UnreadableFile(
                f"{self.name}: the header has {len(self.header):,} columns; "
                f"the limit is {MAX_COLUMNS:,}"
            )
        names = [h.strip().casefold() for h in self.header]
        if not any(names):
            raise UnreadableFile(f"{self.name}: the first row is empty; expected a header row")
        for position, name in enumerate(names, start=1):
            if _CONTROL.search(name):
                raise UnreadableFile(
                    f"{self.name}: not a CSV or XLSX file (header column {position} holds "
                    "a control character)"
                )
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise UnreadableFile(f"{self.name}: column {name!r} appears twice in the header")
            seen.add(name)

    # -- CSV ------------------------------------------------------------------------

    def _digest(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def _check_text(self, start: bytes) -> tuple[str, str]:
        """The encoding the whole file decodes in, and its SHA-256, in one pass.

        UTF-8 (with or without a byte-order mark) unless the file starts with
        a UTF-16 byte-order mark; a file that is not UTF-8 is read as
        Windows-1252 (what Excel's plain "CSV" saves on Windows), unless it
        holds bytes no text file has."""
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]
        else:
            for magic, what in _BINARY_MAGIC.items():
                if start.startswith(magic):
                    raise UnreadableFile(f"{self.name}: not a CSV or XLSX file ({what})")
            candidates = ["utf-8-sig", "cp1252"]
            if start.count(b"\x00") > len(start) // 4:
                # Every other byte zero: UTF-16 whose byte-order mark was lost.
                raise UnreadableFile(
                    f"{self.name}: looks like UTF-16 text without a byte-order mark; "
                    "save the extract as CSV UTF-8 and import it again"
                )
        digest = hashlib.sha256()
        bad_line = self._first_bad_line(candidates[0], digest)
        if bad_line is None:
            return candidates[0], digest.hexdigest()
        if candidates[0] == "utf-16":
            raise UnreadableFile(
                f"{self.name}: line {bad_line}: not valid UTF-16 text although the "
                "file starts as UTF-16; save the extract as CSV UTF-8 and import it again"
            )
        if b"\x00" in start:  # zero bytes and not UTF-8: binary, not Windows text
            raise UnreadableFile(f"{self.name}: not a CSV or XLSX file (binary content)")
        if self._first_bad_line("cp1252", None) is None:  # a second pass, only for these
            return "cp1252", digest.hexdigest()
        raise UnreadableFile(
            f"{self.name}: line {bad_line}: not UTF-8 or Windows-1252 text; "
            "save the extract as CSV UTF-8 and import it again"
        )

    def _first_bad_line(self, codec: str, digest: Any) -> int | None:
        """The line of the first byte that does not decode as ``codec`` (None if
        all do), feeding every byte to ``digest`` on the way."""
        decoder = codecs.getincrementaldecoder(codec)("strict")
        bad_line = None
        offset = 0  # of ``chunk`` in the file
        with open(self.path, "rb") as handle:
            while True:
                chunk = handle.read(1 << 20)
                if digest is not None:
                    digest.update(chunk)
                if bad_line is None:
                    try:
                        decoder.decode(chunk, not chunk)
                    except UnicodeDecodeError as error:
                        # The lines before the chunk counted only now: counted
                        # chunk by chunk they were 0.1 s of a 133 MB file's
                        # check, before its reading can start.
                        bad_line = (
                            self._newlines_before(offset) + chunk.count(b"\n", 0, error.start) + 1
                        )
                        if digest is None:
                            return bad_line
                if not chunk:
                    return bad_line
                offset += len(chunk)

    def _newlines_before(self, offset: int) -> int:
        """The newlines in the file's first ``offset`` bytes."""
        newlines = 0
        with open(self.path, "rb") as handle:
            while offset > 0 and (chunk := handle.read(min(1 << 20, offset))):
                newlines += chunk.count(b"\n")
                offset -= len(chunk)
        return newlines

    def _open_csv(self) -> tuple[list[str], Iterator[ExtractRow | Rejected]]:
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the row generator
        self._file = raw
        counter = _CountingReader(raw)
        buffered = io.BufferedReader(counter, buffer_size=1 << 16)
        text = io.TextIOWrapper(buffered, encoding=self._codec, errors="strict", newline="")
        lines = _Lines(text, self.name)
        self._progress = lambda: counter.bytes_read / self.size
        self._width = 0  # the header's, once it is read
        try:
            header: list[str] | None = None
            done = False
            while header is None and not done:
                found, done = self._record(lines)
                for item in found:
                    if isinstance(item, Rejected):
                        raise UnreadableFile(
                            f"{self.name}: not a CSV or XLSX file: its first row, line "
                            f"{item.line_no}: {item.reason}"
                        )
                    # A second byte-order mark (some tools add one) is not part of the name.
                    header = [item[1][0].lstrip("\ufeff"), *item[1][1:]]
        except (UnreadableFile, UnicodeDecodeError):
            raw.close()
            raise
        if header is None:
            raw.close()
            raise UnreadableFile(f"{self.name}: the file has no header row")
        self._width = len(header)
        self.header_lines = lines.number - self.blank_lines

        def generate() -> Iterator[list[ExtractRow | Rejected]]:
            try:
                rows = 0
                for batch in self._records(lines):
                    rows += len(batch)
                    self._rows_given = rows
                    if rows > MAX_ROWS:
                        yield batch[: len(batch) - (rows - MAX_ROWS)]
                        raise UnreadableFile(
                            f"{self.name}: more than {MAX_ROWS:,} rows; split the file"
                        )
                    yield batch
            except UnicodeDecodeError:  # the file changed since it was checked
                raise UnreadableFile(
                    f"{self.name}: line {lines.number}: not {self.encoding} text"
                ) from None
            finally:
                raw.close()

        return header, chain.from_iterable(generate())

    def _records(self, lines: _Lines) -> Iterator[list[ExtractRow | Rejected]]:
        """Batches of rows from the lines, each row with its first line number
        (see module docstring).

        Runs of plain one-line records go through ``_plain_rows`` at C speed;
        whatever it cannot vouch for (a quoted cell over several lines, a
        malformed row, the end of the file) is read one record at a time by
        ``_record``, with every check, before the plain path resumes."""
        while True:
            yield from self._plain_rows(lines)
            found, done = self._record(lines)
            if found:
                yield found
            if done:
                return

    def _took(self, lines: _Lines, block: list[str], number: int, taken: int) -> None:
        """The first ``taken`` lines of ``block`` used, the last of them line
        ``number``; the rest handed back for the next block."""
        lines.number = self.lines = number
        lines.unread(block[taken:])
        lines.adapt(taken)

    def _plain_rows(self, lines: _Lines) -> Iterator[list[ExtractRow | Rejected]]:
        """Blocks of lines as batches of rows while each record is exactly one line.

        ``csv.reader`` numbers the lines it has consumed: a row that did not
        take exactly the next line ran over several, so it and the lines
        after it are handed back to ``_record``. A block's last line is never
        taken here, since a quote opened in it may close in a line not read
        yet. Returns when a block is cut short (or the file ends)."""
        while True:
            over, alike = False, 0
            if self.passed_over is None:
                block = lines.block()
            else:
                # No further than the rows alike: they are all passed over or
                # all looked at (each row is at least one line).
                over, alike = self.passed_over(self._rows_given)
                block = lines.block(most=alike + 1)
            if len(block) < 2:
                lines.unread(block)
                return
            joined = "".join(block)
            last = len(block) - 1
            base = lines.number
            if over and '"' not in joined and all(map(str.__contains__, block[:last], repeat(","))):
                # Rows no one will look at: with no quote each line is one
                # record, and with a comma none is blank, so they are counted,
                # not split or checked (a row's checks make it a row or a
                # rejected one, never more or fewer). Two reading processes
                # each pass over half the events file, whose splitting was
                # most of their parsing.
                self._took(lines, block, base + last, last)
                yield [PASSED_OVER] * last
                continue
            # The usual case, checked once per block at C speed: no control
            # character, no cell over the limit and no escaped cell anywhere.
            plain = (
                max(map(len, block)) <= MAX_CELL_CHARS
                and not _has_control(joined)
                and "'" not in joined
            )
            batch: list[ExtractRow | Rejected]
            if plain and '"' not in joined:
                # No quote at all: every line is one record (a line ends
                # a record unless a quote is open), so the whole block but
                # its last line is parsed at once, with no check per row:
                # each line split at its commas less its line ending, which
                # is what csv.reader makes of a line with no quote, in 0.6
                # of its time (a line here has no \r or \n but its ending).
                records = [line.rstrip("\r\n").split(",") for line in block[:last]]
                if min(map(len, records)) > 1:  # no blank line among them
                    batch = list(zip(range(base + 1, base + last + 1), records, strict=True))
                else:
                    batch = []
                    for number, cells in enumerate(records, start=base + 1):
                        if not cells or (len(cells) == 1 and not cells[0].strip()):
                            self.blank_lines += 1
                        else:
                            batch.append((number, cells))
                self._took(lines, block, base + last, last)
                if batch:
                    yield batch
                continue
            reader = csv.reader(block)
            taken = 0
            batch = []
            try:
                for cells in reader:
                    if reader.line_num != taken + 1 or taken == last:
                        break
                    taken += 1
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        self.blank_lines += 1
                    elif plain:
                        batch.append((base + taken, cells))
                    else:
                        batch.append(self._checked(base + taken, cells))
            except csv.Error:
                pass  # _record says what is wrong with the row
            self._took(lines, block, base + taken, taken)
            if batch:
                yield batch
            if taken < last:
                return

    def _record(self, lines: _Lines) -> tuple[list[ExtractRow | Rejected], bool]:
        """The next record (none for a blank one), with every check, and
        whether the file has ended."""
        reader = csv.reader(lines)
        try:
            for cells in reader:
                ran_out = lines.ran_out  # the quote ran on to the end of the file
                record = lines.take()
                first = lines.number - len(record) + 1
                if len(record) > 1 and (
                    lines.cut or ran_out or (self._width and len(cells) != self._width)
                ):
                    found = list(self._single_line(record[0], first, unbalanced=True))
                    lines.give_back(record[1:])
                    return found, False
                self.lines = lines.number
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    self.blank_lines += len(record)
                    return [], False
                if len(record) > 1:
                    self.multi_line.append((first, lines.number))
                return [self._checked(first, cells)], False
        except csv.Error as error:
            record = lines.take()
            first = lines.number - len(record) + 1
            lines.give_back(record[1:])
            return [Rejected(first, [record[0].rstrip("\r\n")], f"malformed CSV ({error})")], False
        if lines.cut:  # the reader stopped inside a record
            record = lines.take()
            found = list(
                self._single_line(record[0], lines.number - len(record) + 1, unbalanced=True)
            )
            lines.give_back(record[1:])
            return found, False
        self.lines = lines.number
        return [], True

    def _single_line(
        self, line: str, line_no: int, unbalanced: bool
    ) -> Iterator[ExtractRow | Rejected]:
        """One physical line as a row of its own: a quote in it does not run on.
        A line whose quote would have run on is quarantined, saying so."""
        self.lines = line_no
        cells = next(csv.reader([line]), [])
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            self.blank_lines += 1
            return
        if unbalanced:
            yield Rejected(
                line_no,
                [cell.rstrip("\r\n") for cell in cells],
                'a quote (") opened in this line is not closed where a row could end; '
                "the lines after it were read as rows of their own",
            )
            return
        yield self._checked(line_no, cells)

    def _checked(self, line_no: int, cells: list[str]) -> ExtractRow | Rejected:
        """The row, or a Rejected one if a cell is too long or holds a control character."""
        joined = "".join(cells)
        if "'" in joined:
            # Cells an export escaped against formula injection read back as
            # they were (triage.spreadsheet).
            cells = [spreadsheet.unescape_csv_cell(cell) for cell in cells]
        if len(joined) <= MAX_CELL_CHARS and not _has_control(joined):
            return line_no, cells  # the usual case, checked at C speed
        for position, cell in enumerate(cells, start=1):
            if len(cell) > MAX_CELL_CHARS:
                return Rejected(
                    line_no,
                    [],
                    f"column {position}: a cell longer than {MAX_CELL_CHARS:,} characters "
                    "(not kept; shorten it in the file)",
                )
            found = _CONTROL.search(cell)
            if found:
                return Rejected(
                    line_no,
                    cells,
                    f"column {position}: control character U+{ord(found.group()):04X}",
                )
        return line_no, cells

    # -- XLSX -----------------------------------------------------------------------

    def _open_xlsx(self) -> tuple[list[str], Iterator[ExtractRow | Rejected]]:
        handle = open(self.path, "rb")  # noqa: SIM115 - closed by the row generator
        self._file = handle
        try:
            book = _Workbook(handle, self.name)
            rows = book.rows()
            header: list[str] | None = None
            for item in rows:
                if isinstance(item, Rejected):
                    raise UnreadableFile(f"{self.name}: header row: {item.reason}")
                header = item[1]
                break
        except BaseException:
            handle.close()
            raise
        if header is None:
            handle.close()
            raise UnreadableFile(f"{self.name}: the first sheet is empty")
        while header and header[-1] == "":
            header.pop()
        width = len(header)
        self._progress = book.fraction_read

        def generate() -> Iterator[ExtractRow | Rejected]:
            try:
                count = 0
                for item in rows:
                    count += 1
                    if count > MAX_ROWS:
                        raise UnreadableFile(
                            f"{self.name}: more than {MAX_ROWS:,} rows; split the file"
                        )
                    if isinstance(item, Rejected):
                        yield item
                        continue
                    line_no, cells = item
                    while len(cells) > width and cells[-1] == "":
                        cells.pop()
                    # A sheet need not store trailing empty cells: in XLSX they
                    # are empty values, not a short row as in a CSV.
                    cells += [""] * (width - len(cells))
                    self.lines = line_no
                    if any(cells):
                        yield line_no, cells
            finally:
                handle.close()

        return header, generate()


class _Lines:
    """The physical lines of a text file, for ``csv.reader``, with the lines of
    the record being read kept so that they can be given back and read again.
    Stops a record at MAX_ROW_LINES lines or MAX_ROW_CHARS characters (``cut``).

    The text is read in blocks of BLOCK_CHARS and split into lines as
    ``readline`` splits them (at ``\\n``, ``\\r\\n`` or ``\\r``); ``back``
    holds the lines read from the file but not yet handed out."""

    BLOCK_CHARS = 1 << 18

    def __init__(self, text: IO[str], name: str) -> None:
        self.text = text
        self.name = name
        self.back: deque[str] = deque()
        self.partial = ""  # the start of a line whose end is not read yet
        self.too_long: int | None = None  # the line over the limit, once met
        self.eof = False
        self.current: list[str] = []
        self.chars = 0
        self.number = 0  # the number of the last line handed out
        self.cut = False
        self.ran_out = False  # the record being read asked past the end of the file
        self.block_lines = 64  # how many lines ``block`` hands out; adapts

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.current) >= MAX_ROW_LINES or self.chars > MAX_ROW_CHARS:
            self.cut = True
            raise StopIteration
        if not self.back and not self._fill():
            self.ran_out = True
            raise StopIteration
        line = self.back.popleft()
        self.number += 1
        self.current.append(line)
        self.chars += len(line)
        return line

    def _fill(self) -> bool:
        """Read the next block of the file into ``back``; False if nothing was left."""
        if self.too_long is not None:
            raise UnreadableFile(
                f"{self.name}: line {self.too_long} is longer than the "
                f"{MAX_ROW_CHARS:,}-character limit"
            )
        if self.eof:
            return False
        data = self.text.read(self.BLOCK_CHARS)
        if not data:
            self.eof = True
            if self.partial:
                self.back.append(self.partial)
                self.partial = ""
                return True
            return False
        # newline="" splits at \n, \r\n and a lone \r, keeping the endings,
        # as the file object's readline does. The last piece may be a line
        # cut short by the block (even one ending in \r, its \n in the next
        # block): kept back until the next block completes it.
        pieces = io.StringIO(self.partial + data, newline="").readlines()
        self.partial = pieces.pop()
        if len(self.partial) > MAX_ROW_CHARS or (pieces and max(map(len, pieces)) > MAX_ROW_CHARS):
            over = next(
                (k for k, piece in enumerate(pieces) if len(piece) > MAX_ROW_CHARS), len(pieces)
            )
            # The lines before it are still read; the error comes when it is reached.
            self.too_long = self.number + len(self.back) + over + 1
            self.back.extend(pieces[:over])
            self.partial = ""
            return over > 0 or self._fill()
        self.back.extend(pieces)
        # A block inside one long line gives no line yet: read on (at most
        # MAX_ROW_CHARS / BLOCK_CHARS times before the line is over the limit).
        return bool(pieces) or self._fill()

    def block(self, most: int | None = None) -> list[str]:
        """At least ``block_lines`` lines not yet handed out (fewer at the end
        of the file), taken from ``back``, but no more than ``most``
        (``number`` is not advanced: the taker counts what it uses)."""
        wanted = self.block_lines if most is None else min(self.block_lines, most)
        while len(self.back) < wanted and self._fill():
            pass
        lines = list(self.back)
        self.back.clear()
        if most is not None and len(lines) > most:
            self.back.extend(lines[most:])
            del lines[most:]
        return lines

    def unread(self, lines: list[str]) -> None:
        """Lines from ``block`` not used, to be handed out again first."""
        self.back.extendleft(reversed(lines))

    def adapt(self, taken: int) -> None:
        """Larger blocks while they are used whole, smaller when a block is
        cut short at once (a file of rows over several lines), so handing
        lines back costs little either way."""
        if taken:
            self.block_lines = min(4096, self.block_lines * 2)
        else:
            self.block_lines = max(8, self.block_lines // 4)

    def take(self) -> list[str]:
        """The lines of the record just read."""
        record, self.current, self.chars = self.current, [], 0
        self.ran_out = False
        return record

    def give_back(self, lines: list[str]) -> None:
        """Lines to read again, in order, before the rest of the file."""
        self.back.extendleft(reversed(lines))
        self.number -= len(lines)
        self.cut = False


class _Workbook:
    """The first sheet of an .xlsx, read as a stream with defusedxml.

    Only the parts needed are read (workbook, relationships, shared strings,
    styles, the sheet), each refused if its uncompressed size is over
    MAX_XLSX_PART_BYTES. The sheet's declared size (``<dimension>``) is not
    trusted: rows are read as they are. Rows and cells are placed by their
    references, without making the empty ones in between.
    """

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self.name = name
        self.handle = handle
        try:
            self.zip = zipfile.ZipFile(handle)
            self.parts = {info.filename: info for info in self.zip.infolist()}
            sheet, shared, styles, self.date1904 = self._locate()
            self.sheet_size = self.parts[sheet].compress_size
            self.strings = self._shared_strings(shared) if shared else []
            self.date_styles = self._date_styles(styles) if styles else set()
        except UnreadableFile:
            raise
        except Exception as error:  # zip, zlib and XML errors of a damaged workbook
            raise UnreadableFile(_workbook_problem(name, error)) from None
        self.sheet = sheet
        self.handle = handle

    def fraction_read(self) -> float:
        """How far through the sheet's compressed bytes the reading is."""
        if self.handle.closed:
            return 1.0
        done = self.handle.tell() - self.parts[self.sheet].header_offset
        return min(1.0, max(0.0, done / max(1, self.sheet_size)))

    def _open(self, part: str) -> IO[bytes]:
        info = self.parts.get(part)
        if info is None:
            raise UnreadableFile(f"{self.name}: not a readable XLSX workbook (no part {part})")
        if info.file_size > MAX_XLSX_PART_BYTES:
            raise UnreadableFile(
                f"{self.name}: the workbook part {part} unpacks to "
                f"{info.file_size / 2**20:,.0f} MB; the limit is "
                f"{MAX_XLSX_PART_BYTES // 2**20} MB"
            )
        return self.zip.open(info)

    def _parse(self, part: str) -> Any:
        with self._open(part) as stream:
            return SafeXML.parse(stream, forbid_dtd=True).getroot()

    def _locate(self) -> tuple[str, str | None, str | None, bool]:
        """The first sheet's part, the shared strings and styles parts, and
        whether dates count from 1904."""
        workbook = self._parse("xl/workbook.xml")
        rels = self._relationships("xl/_rels/workbook.xml.rels")
        date1904 = False
        for element in workbook.iter():
            if _local(element.tag) == "workbookPr":
                date1904 = element.get("date1904", "").lower() in ("1", "true")
        first = None
        for element in workbook.iter():
            if _local(element.tag) == "sheet":
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
                first = rels.get(rid or "", (None, ""))[1]
                break
        if not first:
            raise UnreadableFile(f"{self.name}: the workbook has no sheet")
        by_type = {kind: target for kind, target in rels.values()}
        shared = by_type.get("sharedStrings") or "xl/sharedStrings.xml"
        styles = by_type.get("styles") or "xl/styles.xml"
        return (
            first,
            shared if shared in self.parts else None,
            styles if styles in self.parts else None,
            date1904,
        )

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, part name)."""
        if part not in self.parts:
            return {}
        found = {}
        for element in self._parse(part).iter():
            if _local(element.tag) != "Relationship":
                continue
            target = element.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            found[element.get("Id", "")] = (element.get("Type", "").rsplit("/", 1)[-1], target)
        return found

    def _shared_strings(self, part: str) -> list[str]:
        strings: list[str] = []
        with self._open(part) as stream:
            events = SafeXML.iterparse(stream, events=("start", "end"), forbid_dtd=True)
            root = None
            for event, element in events:
                if root is None:
                    root = element
                if event != "end" or _local(element.tag) != "si":
                    continue
                strings.append(_text_of(element))
                if len(strings) > MAX_SHARED_STRINGS:
                    raise UnreadableFile(
                        f"{self.name}: more than {MAX_SHARED_STRINGS:,} distinct texts"
                    )
                root.clear()
        return strings

    def _date_styles(self, part: str) -> set[int]:
        """Indexes of the cell styles that show a number as a date or time."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        root = self._parse(part)
        formats = dict(BUILTIN_FORMATS)
        for element in root.iter():
            if _local(element.tag) == "numFmt":
                try:
                    formats[int(element.get("numFmtId", ""))] = element.get("formatCode", "")
                except ValueError:
                    continue
        dates = set()
        for section in root.iter():
            if _local(section.tag) != "cellXfs":
                continue
            for index, xf in enumerate(child for child in section if _local(child.tag) == "xf"):
                try:
                    code = formats.get(int(xf.get("numFmtId", "0")))
                except ValueError:
                    continue
                if code and is_date_format(code):
                    dates.add(index)
        return dates

    def rows(self) -> Iterator[ExtractRow | Rejected]:
        try:
            with self._open(self.sheet) as stream:
                yield from self._sheet_rows(stream)
        except UnreadableFile:
            raise
        except Exception as error:  # zip, zlib and XML errors of a damaged sheet
            raise UnreadableFile(_workbook_problem(self.name, error)) from None

    def _sheet_rows(self, stream: IO[bytes]) -> Iterator[ExtractRow | Rejected]:
        root = None
        next_row = 1
        for event, element in SafeXML.iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if root is None:
                root = element
            if event != "end" or _local(element.tag) != "row":
                continue
            try:
                row_no = int(element.get("r") or next_row)
            except ValueError:
                row_no = next_row
            next_row = row_no + 1
            yield self._row(row_no, element)
            root.clear()

    def _row(self, row_no: int, element: Any) -> ExtractRow | Rejected:
        cells: list[str] = []
        problem = None
        for cell in element:
            if _local(cell.tag) != "c":
                continue
            reference = cell.get("r", "")
            column = len(cells)
            if reference:
                match = _CELL_REF.match(reference)
                if match is None:
                    problem = problem or f"cell reference {reference[:12]!r} is not valid"
                    continue
                column = _column_index(match.group(1))
            if column < len(cells):
                problem = problem or f"cell {reference} is given twice"
                continue
            value, cell_problem = self._value(cell)
            if value and column >= MAX_COLUMNS:
                raise UnreadableFile(
                    f"{self.name}: cell {reference} is beyond the {MAX_COLUMNS:,}-column limit"
                )
            if column >= MAX_COLUMNS:
                continue
            if cell_problem:
                problem = problem or f"cell {reference or _column_name(column)}: {cell_problem}"
            cells += [""] * (column - len(cells))
            cells.append(value)
        if problem:
            return Rejected(row_no, cells, problem)
        return row_no, cells

    def _value(self, cell: Any) -> tuple[str, str | None]:
        """A cell's text and the problem with it, if any."""
        kind = cell.get("t", "n")
        raw = None
        has_formula = False
        inline = None
        for child in cell:
            tag = _local(child.tag)
            if tag == "v":
                raw = child.text
            elif tag == "f":
                has_formula = True
            elif tag == "is":
                inline = _text_of(child)
        if kind == "inlineStr":
            text = inline or ""
        elif raw is None or raw == "":
            return "", "formula without a saved value" if has_formula else None
        elif kind == "s":
            try:
                text = self.strings[int(raw)]
            except (ValueError, IndexError):
                return "", "a shared text that is not in the workbook"
        elif kind in ("str", "d"):
            text = raw
        elif kind == "b":
            text = "true" if raw.strip() in ("1", "true") else "false"
        elif kind == "e":
            return "", f"the Excel error {raw[:16]}"
        else:
            try:
                number = float(raw)
            except ValueError:
                return "", "a number cell that holds no number"
            if int(cell.get("s", "0") or 0) in self.date_styles:
                text = _excel_date(number, self.date1904)
                if not text:
                    return "", "a date cell outside the dates Excel can show"
            elif number.is_integer() and abs(number) < 1e16:
                text = str(int(number))
            else:
                text = repr(number)
        if len(text) > MAX_CELL_CHARS:
            return "", f"longer than {MAX_CELL_CHARS:,} characters (not kept)"
        found = _CONTROL.search(text)
        if found:
            return text.strip(), f"control character U+{ord(found.group()):04X}"
        return text.strip(), None


def _local(tag: str) -> str:
    """An XML name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _text_of(element: Any) -> str:
    """The text of a string item: its <t>, or the <t> of each rich-text run
    <r>, leaving out phonetic guides (<rPh>)."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts += [t.text or "" for t in child if _local(t.tag) == "t"]
    return "".join(parts)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _excel_date(serial: float, date1904: bool) -> str:
    """An Excel date serial as ISO text, as the CSV contract carries it."""
    if not -1e7 < serial < 3e6:
        return ""
    if date1904:
        epoch = datetime(1904, 1, 1)
    elif serial < 60:
        epoch = datetime(1899, 12, 31)  # Excel's phantom 29 February 1900
    else:
        epoch = datetime(1899, 12, 30)
    days, fraction = divmod(serial, 1)
    try:
        moment = epoch + timedelta(days=days, milliseconds=round(fraction * 86_400_000))
    except OverflowError:
        return ""
    if 0 <= serial < 1:
        return moment.time().isoformat()
    return moment.isoformat()


def _workbook_problem(name: str, error: Exception) -> str:
    if isinstance(error, zipfile.BadZipFile | zlib.error | EOFError):
        return f"{name}: not a readable XLSX workbook (damaged: {error})"
    if isinstance(error, SafeXML.ParseError):
        return f"{name}: not a readable XLSX workbook (damaged XML: {error})"
    if error.__class__.__module__.startswith("defusedxml"):
        what = error.__class__.__name__
        return f"{name}: the workbook holds XML that is refused for safety ({what})"
    return f"{name}: not a readable XLSX workbook ({error.__class__.__name__})"


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
