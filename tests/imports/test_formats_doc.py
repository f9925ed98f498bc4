"""docs/formats.md lists exactly the columns the importer knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.imports.columns import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
SECTIONS = {
    "intel": "## 1. Intelligence items",
    "em-cases": "## 2. EM cases",
    "em-events": "## 3. EM events",
    "outcomes": "## 4. Tasking outcomes",
    "service-levels": "## 5. EMS service levels",
    "process-issues": "## 6. EM process issues",
}


def documented(kind: str) -> dict[str, bool]:
    """Column -> required, from the kind's table in the document."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(SECTIONS[kind]) :].split("\n## ", 1)[0]
    columns = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and cells[1] in ("yes", "no"):
            columns[cells[0]] = cells[1] == "yes"
    return columns


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_known_column_is_documented_with_its_requiredness(kind):
    known = {column.name: column.required for column in KINDS[kind].columns}
    assert documented(kind) == known
