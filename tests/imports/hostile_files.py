"""Hostile and damaged extract files, generated (small, or large only when
written), for the reader and importer tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {REL_NS}>'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def cell(ref: str, value: str) -> str:
    """An inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def intel_rows(first: int, last: int) -> str:
    """Rows of good intel items I-<n>, one per sheet row."""
    return "".join(
        row(n, cell(f"A{n}", f"I-{n}"), cell(f"B{n}", "2026-07-01"), cell(f"C{n}", "LSE"))
        for n in range(first, last + 1)
    )


HEADER_ROW = row(1, cell("A1", "intel_id"), cell("B1", "received_at"), cell("C1", "region"))


def sheet(body: str, dimension: str = "") -> str:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{declared}'
        f"<sheetData>{body}</sheetData></worksheet>"
    )


def xlsx(path: Path, sheet_xml: str, shared: str | None = None) -> Path:
    """A minimal workbook whose first sheet is ``sheet_xml``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", RELS)
        book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            book.writestr("xl/sharedStrings.xml", shared)
    return path
