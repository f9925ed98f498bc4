"""Writing CSV and XLSX files that are safe to open in a spreadsheet.

Exports are opened in Excel by people who trust them, and their text comes
from extracts anyone could have written: a summary such as
``=HYPERLINK("http://x","Click")`` must arrive as text, never as a live
formula (CSV or formula injection). Every CSV and XLSX the project writes
goes through this module, so a new export path is safe without thinking
about it:

- CSV (``csv_writer``): a text cell beginning with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets a leading apostrophe, as OWASP
  recommends; numbers, and text that is only a number such as ``-1.5``,
  stay as they are. ``unescape_csv_cell`` undoes it on import, so an export
  read back gives the same values.
- XLSX (``workbook``): XlsxWriter told never to turn text into a formula or
  a link, so text is always a string cell.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import xlsxwriter

# What a spreadsheet may read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# After an escaping apostrophe: a formula character, or an apostrophe that was
# itself in the value.
_ESCAPED_STARTS = (*FORMULA_STARTS, "'")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet shows as written, never runs.

    Text that already begins with an apostrophe before a formula character
    or another apostrophe is escaped too, so ``unescape_csv_cell`` gives back
    exactly what was written, whatever it was."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value  # "-1.5" is a number, not a formula
    if value.startswith("'") and value[1:2] and value[1:].startswith(_ESCAPED_STARTS):
        return "'" + value
    return value


def unescape_csv_cell(text: str) -> str:
    """The value ``csv_cell`` wrote ``text`` for (an import reading an export)."""
    if text.startswith("'") and text[1:2] and text[1:].startswith(_ESCAPED_STARTS):
        return text[1:]
    return text


class SafeCsvWriter:
    """``csv.writer`` with every cell passed through ``csv_cell``."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        options.setdefault("lineterminator", "\n")
        self._writer = csv.writer(handle, **options)
        # Python's csv module (3.11) leaves a field holding a carriage return
        # unquoted when the line ends in "\n" alone, which splits the row on
        # reading: such a row is written with every field quoted.
        self._quoted = csv.writer(handle, **{**options, "quoting": csv.QUOTE_ALL})

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [csv_cell(value) for value in row]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (self._quoted if has_cr else self._writer).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **options: Any) -> SafeCsvWriter:
    """The CSV writer every export uses (options as ``csv.writer``'s)."""
    return SafeCsvWriter(handle, **options)


def workbook(path: Path | str) -> xlsxwriter.Workbook:
    """A new XLSX workbook in which written text is always a string cell:
    ``worksheet.write`` never makes a formula, a link or a number of it."""
    return xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )


def close(book: xlsxwriter.Workbook) -> None:
    """Write the workbook out; a file that cannot be made raises the OSError
    XlsxWriter wraps, as the CSV writers raise it."""
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as error:
        raise error.args[0] from None
