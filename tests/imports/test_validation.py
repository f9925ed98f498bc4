"""The validator on its own: column-by-column conversion, problems and keys."""

from __future__ import annotations

from datetime import datetime

import pytest

from triage.imports import validation
from triage.imports.columns import INTEL, OUTCOMES
from triage.imports.validation import Validator

HEADER = ["intel_id", "received_at", "region", "postcode", "persons_estimated", "note"]


def validator(header: list[str] = HEADER, spec=INTEL) -> Validator:
    return Validator(spec, header, header)


def test_cells_are_converted_blank_is_none_and_unknown_columns_are_extra():
    chunk, rejected = validator().validate(
        [
            (2, ["A-1", "2026-07-01T10:00", "lse", "sw1a1aa", "3", "see file"]),
            (3, [" A-2 ", "2026-01-10", "SNI", "  ", "", ""]),
        ]
    )
    assert rejected == []
    rows = chunk.rows()
    assert rows[0] == {
        "intel_id": "A-1",
        "received_at": datetime(2026, 7, 1, 9, 0),
        "region": "LSE",
        "postcode": "SW1A 1AA",
        "persons_estimated": 3,
    }
    assert rows[1]["intel_id"] == "A-2"
    assert rows[1]["postcode"] is None and rows[1]["persons_estimated"] is None
    assert chunk.extras == [{"note": "see file"}, None]
    assert chunk.lines == [2, 3]


def test_every_problem_of_a_row_is_named_in_column_order():
    _chunk, rejected = validator().validate(
        [
            (2, ["", "soon", "Atlantis", "nowhere", "-1", ""]),
            (3, ["B-1", "2026-01-01", "LSE", "", "", ""]),
            (4, ["B-2", "2026-01-01"]),
        ]
    )
    assert [(r.line_no, r.cells[0]) for r in rejected] == [(2, ""), (4, "B-2")]
    reasons = rejected[0].reason.split("; ")
    assert [reason.split(":")[0] for reason in reasons] == [
        "intel_id",
        "received_at",
        "region",
        "postcode",
        "persons_estimated",
    ]
    assert rejected[1].reason == "the row has 2 cells, the header has 6"


def test_a_column_past_the_memo_limit_is_still_checked_cell_by_cell(monkeypatch):
    monkeypatch.setattr(validation, "MEMO_LIMIT", 2)
    check = validator()
    postcodes = ["M1 1AE", "SW1A 1AA", "B1 1AA", "not a postcode", "LS1 1AA"]
    rows = [
        (n + 2, [f"C-{n}", "2026-01-01", "LSE", postcode, "1", ""])
        for n, postcode in enumerate(postcodes)
    ]
    first, _ = check.validate(rows[:2])
    second, rejected = check.validate(rows[2:])
    assert first.column("postcode") == ["M1 1AE", "SW1A 1AA"]
    assert second.column("postcode") == ["B1 1AA", "LS1 1AA"]
    assert [r.line_no for r in rejected] == [5]
    assert "not a UK postcode" in rejected[0].reason


def test_a_repeated_key_is_rejected_in_any_later_chunk():
    check = validator()
    check.validate([(2, ["D-1", "2026-01-01", "LSE", "", "", ""])])
    _chunk, rejected = check.validate([(9, ["D-1", "2026-02-01", "LSE", "", "", ""])])
    assert rejected[0].reason == "intel_id repeats line 2"


def test_outcomes_are_keyed_by_item_and_meeting_date():
    header = ["intel_id", "meeting_date", "decision"]
    check = validator(header, OUTCOMES)
    chunk, rejected = check.validate(
        [
            (2, ["E-1", "2026-03-02", "not_discussed"]),
            (3, ["E-1", "2026-03-09", "accepted"]),
            (4, ["E-1", "2026-03-09", "rejected"]),
        ]
    )
    assert chunk.lines == [2, 3]
    assert [(r.line_no, r.reason) for r in rejected] == [
        (4, "intel_id and meeting_date repeat line 3")
    ]


@pytest.mark.parametrize("keep", [[True, False, True], [False, False, False]])
def test_split_moves_rows_to_rejected_and_keeps_the_rest(keep):
    chunk, _ = validator().validate(
        [(n + 2, [f"F-{n}", "2026-01-01", "LSE", "", str(n), ""]) for n in range(3)]
    )
    problems = {k: "bad" for k, flag in enumerate(keep) if not flag}
    rejected, kept = chunk.split(problems)
    assert [r.line_no for r in rejected] == [k + 2 for k in problems]
    assert kept.column("persons_estimated") == [k for k, flag in enumerate(keep) if flag]
    assert len(kept.cells) == len(kept.extras) == len(kept)
