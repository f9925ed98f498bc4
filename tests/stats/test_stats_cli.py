"""``triage stats``: JSON contract, CSV, XLSX (sheets, charts, definitions), PDF, errors."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import openpyxl
import pytest
from stats_helpers import item, load, outcome

from triage import settings
from triage.cli.main import main

ARGS = ["--from", "2019-02-01", "--to", "2019-11-30", "--as-of", "2020-01-01"]


@pytest.fixture
def filled(db):
    # Each with what puts it in that bucket under the bundled rules: the
    # command ranks the items first, and the computed bucket is the one counted.
    national = {"campaign": "NAT-CONSTRUCTION", "sector": "construction"}
    business = {"business_name": "Acme Works", "persons_estimated": 8, "postcode": "E1 6AN"}
    rows = [item("SNI", bucket=1, **national) for _ in range(4)]
    rows += [item("SNI", bucket=6, allegation="other") for _ in range(6)]
    rows.append(item("LSE", bucket=3, **business))
    load(
        db,
        rows,
        [
            outcome(rows[0]["id"], "accepted", result="arrest", result_at=date(2019, 7, 1)),
            outcome(rows[1]["id"], "rejected"),
            outcome(rows[4]["id"], "accepted"),
            outcome(rows[5]["id"], "not_discussed"),
        ],
    )
    return db


def run(db, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db.location, "stats", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tasking_json_contract(filled, capsys):
    code, out, _ = run(
        filled,
        capsys,
        "tasking",
        *ARGS,
        "--region",
        "Scotland and Northern Ireland",
        "--format",
        "json",
    )
    assert code == 0
    rows = json.loads(out)
    groups = [r for r in rows if r["group"] in ("high", "low")]
    assert [(r["region"], r["group"]) for r in groups] == [("SNI", "high"), ("SNI", "low")]
    high = groups[0]
    for key in (
        "region",
        "group",
        "received",
        "available",
        "accepted",
        "rejected",
        "not_discussed",
        "accepted_pct",
        "rejected_pct",
        "not_discussed_pct",
    ):
        assert key in high
    assert (
        high["received"],
        high["available"],
        high["accepted"],
        high["rejected"],
        high["not_discussed"],
    ) == (10, 4, 1, 1, 2)
    assert (high["accepted_pct"], high["rejected_pct"], high["not_discussed_pct"]) == (25, 25, 50)
    buckets = [r for r in rows if r["group"] == "bucket"]
    assert [r["bucket"] for r in buckets] == [1, 2, 3, 4, 5, 6]
    assert buckets[5]["accepted"] == 1


def test_every_table_as_json_and_csv(filled, capsys, tmp_path):
    code, out, _ = run(filled, capsys, "tasking", *ARGS, "--format", "json", "--table", "all")
    assert code == 0
    tables = json.loads(out)
    assert {
        "lead_indicators",
        "figure9",
        "outcomes",
        "conversion",
        "age_at_decision",
        "carry_overs",
        "pass_on_48h",
        "not_discussed_pool",
        "rule_feedback",
        "bucket_trend",
        "rejection_reasons",
        "by_team",
        "by_month",
    } <= set(tables)
    code, out, _ = run(filled, capsys, "tasking", *ARGS, "--format", "csv", "--table", "conversion")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("region,group,accepted,")
    assert "SNI,high,1,1,0,1,0,1,100" in lines
    target = tmp_path / "all.csv"
    code, _, _ = run(
        filled, capsys, "em", "--format", "csv", "--table", "all", "--out", str(target)
    )
    assert code == 0
    assert (tmp_path / "all-figure6.csv").exists() and (tmp_path / "all-figure14.csv").exists()


def test_suppression_from_option_and_setting(filled, capsys):
    code, out, _ = run(
        filled, capsys, "tasking", *ARGS, "--format", "json", "--suppress-below", "3"
    )
    sni_high = next(r for r in json.loads(out) if r["region"] == "SNI" and r["group"] == "high")
    assert (sni_high["available"], sni_high["accepted"], sni_high["accepted_pct"]) == (4, "<3", "c")
    saved = settings.load()
    saved.suppress_below = 5
    settings.save(saved)
    code, out, _ = run(filled, capsys, "tasking", *ARGS, "--format", "json")
    sni_high = next(r for r in json.loads(out) if r["region"] == "SNI" and r["group"] == "high")
    assert sni_high["available"] == "<5"


def test_xlsx_has_a_formatted_sheet_and_chart_per_table(filled, capsys, tmp_path):
    target = tmp_path / "stats.xlsx"
    code, _, err = run(filled, capsys, "tasking", *ARGS, "--format", "xlsx", "--out", str(target))
    assert code == 0 and "wrote" in err
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:3] == ["lead_indicators", "figure9", "outcomes"]
    assert book.sheetnames[-1] == "Definitions"
    fig9 = book["figure9"]
    assert fig9["A1"].value.startswith("Intelligence by region")
    header = [c.value for c in fig9[4]]
    assert header[:3] == [
        "Region",
        "Total intelligence received",
        "High (buckets 1-4): pieces available for tasking",
    ]
    sni = [c.value for c in fig9[6]]
    assert sni[:6] == ["Scotland and Northern Ireland", 10, 4, 25, 25, 50]
    assert fig9.cell(6, 4).number_format == '0"%"'
    # A native chart in the sheet (openpyxl keeps charts it reads in _charts).
    with __import__("zipfile").ZipFile(target) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 8
    definitions = [row[0] for row in book["Definitions"].iter_rows(values_only=True)]
    assert "Percentages" in definitions and "Suppression" in definitions


def test_pdf_is_one_page_and_leads_with_lead_indicators(filled, capsys, tmp_path):
    target = tmp_path / "summary.pdf"
    code, _, _ = run(filled, capsys, "tasking", *ARGS, "--format", "pdf", "--out", str(target))
    assert code == 0
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tasking", "--format", "xlsx"], "needs --out"),
        (["tasking", "--from", "2019-13-01"], "--from"),
        (["tasking", "--from", "2020-01-02", "--to", "2020-01-01"], "starts"),
        (["tasking", "--region", "Atlantis"], "unknown region"),
        (["em", "--table", "nope"], "no table 'nope'"),
    ],
)
def test_bad_usage_exits_2_with_a_message(db, capsys, args, message):
    code, _, err = run(db, capsys, *args)
    assert code == 2
    assert message in err


def test_em_table_prints(db, capsys):
    load(db, [item("LSE", received=datetime(2026, 11, 1, 9))], [])
    code, out, _ = run(db, capsys, "em")
    assert code == 0
    assert "EM breaches by type" in out and "Lead indicators" in out
