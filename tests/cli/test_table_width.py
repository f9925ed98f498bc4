"""CLI tables fit 100 columns; --wide shows every column in full (issue 15, item 14)."""

from __future__ import annotations

from meeting_fixtures import ranked, standard_items

from triage.cli.common import TABLE_WIDTH, print_table
from triage.cli.main import main as cli

HEADERS = ["id", "summary", "region", "team", "flags", "note", "status", "extra"]
ROW = ["INT-1", "s" * 80, "LSE", "London North", "stale;police", "n" * 40, "open", "x" * 30]


def test_a_wide_table_is_cut_to_fit_and_names_what_it_left_out(capsys):
    print_table(HEADERS, [ROW, ROW])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert max(map(len, lines)) <= TABLE_WIDTH
    assert lines[0].split()[:2] == ["id", "summary"]
    assert "…" in lines[2]  # the summary, cut
    assert "(--wide shows every column)" in captured.err
    left_out = captured.err.split(": ", 1)[1].split(" (")[0].split(", ")
    shown = lines[0].split()
    assert "extra" in left_out and shown + left_out == HEADERS


def test_wide_prints_every_column_in_full(capsys):
    print_table(HEADERS, [ROW], wide=True)
    captured = capsys.readouterr()
    assert "s" * 80 in captured.out and "x" * 30 in captured.out and captured.err == ""


def test_a_narrow_table_is_printed_as_it_is(capsys):
    print_table(["a", "b"], [["1", "2"]])
    assert capsys.readouterr().out.splitlines() == ["a  b", "-  -", "1  2"]


def test_rank_intel_fits_100_columns_unless_wide(db, capsys):
    standard_items(db, 10)
    ranked(db)
    assert cli(["--db", db.location, "rank", "intel"]) == 0
    fitted = capsys.readouterr().out.splitlines()
    assert max(map(len, fitted)) <= TABLE_WIDTH
    assert cli(["--db", db.location, "rank", "intel", "--wide"]) == 0
    wide = capsys.readouterr().out.splitlines()
    assert len(wide) == len(fitted)
    assert len(wide[0].split()) >= len(fitted[0].split())
