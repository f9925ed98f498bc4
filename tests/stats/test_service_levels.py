"""EMS service levels (issue 19.2): ICIBI Figure 12 reproduced from its
published figures, below-target cells flagged, the process-issue log
counted by month; CLI and the Statistics screen's tab."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE
from service_level_helpers import BELOW, FIGURE12, PERIOD, figure12_csv, issues_csv

from triage.cli import main as cli
from triage.imports.importer import import_file
from triage.imports.quarantine import quarantined_rows
from triage.stats import service_levels


@pytest.fixture
def loaded(db, tmp_path):
    result = import_file(db, "service-levels", figure12_csv(tmp_path), actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (18, 0)
    return db


def test_figure12_flags_and_averages_reproduce_the_published_table(loaded):
    table = service_levels.service_levels(loaded, PERIOD)
    assert [c.title for c in table.columns] == [
        "Service level", "Target %", "Oct 2021 %", "Nov 2021 %", "Dec 2021 %",
        "Average %", "Below target",
    ]  # fmt: skip
    for n, row in enumerate(table.rows):
        target, oct_, nov, dec, average = FIGURE12[row["measure"]]
        assert (row["target"], row["m2021-10"], row["m2021-11"], row["m2021-12"]) == (
            target, oct_, nov, dec
        )  # fmt: skip
        assert row["average"] == average, row["measure"]
        assert row["below_target"] == BELOW[row["measure"]]
        flagged_months = {key for r, key in table.flagged if r == n and key != "average"}
        assert len(flagged_months) == len(BELOW[row["measure"]].split(", ")) * (
            BELOW[row["measure"]] != "none"
        )
    assert len(table.rows) == 6
    # 100% against a 100% target is met, not below.
    court = next(n for n, r in enumerate(table.rows) if r["measure"] == "Attendance at court")
    assert not {key for r, key in table.flagged if r == court}


def test_reimport_updates_and_bad_rows_are_quarantined(loaded, tmp_path):
    path = tmp_path / "fix.csv"
    path.write_text(
        "measure,month,target_pct,achieved_pct\n"
        "Equipment re-installation,2021-10,95,96\n"
        "Equipment re-installation,2021-13,95,96\n"
        "Attendance at court,2021-10,100,101\n",
        encoding="utf-8",
    )
    result = import_file(loaded, "service-levels", path, actor=EVERYONE)
    assert (result.inserted, result.updated, result.quarantined) == (0, 1, 2)
    reasons = [row.reason for row in quarantined_rows(loaded)]
    assert reasons == [
        "month: not a month (YYYY-MM) or a date",
        "achieved_pct: not between 0 and 100",
    ]
    row = service_levels.service_levels(loaded, PERIOD).rows[0]
    assert (row["m2021-10"], row["below_target"]) == (96.0, "Nov 2021, Dec 2021")


def test_process_issue_log_counts_by_kind_and_month(db, tmp_path):
    result = import_file(db, "process-issues", issues_csv(tmp_path), actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (4, 1)
    table = service_levels.process_issues(db, PERIOD)
    cells = {
        r["kind"]: (r["m2021-10"], r["m2021-11"], r["m2021-12"], r["total"]) for r in table.rows
    }
    assert cells["Incorrect or incomplete referrals"] == (1, 0, 0, 1)
    assert cells["Equipment faults"] == (1, 1, 0, 2)
    assert cells["Supplier failed a request"] == (0, 0, 1, 1)
    assert cells["Total"] == (2, 1, 1, 4)


def test_cli_stats_service_levels(loaded, tmp_path, capsys):
    base = ["--db", loaded.location, "stats", "service-levels", "--from", "2021-10-01",
            "--to", "2021-12-31", "--as-of", "2022-03-31", "--suppress-below", "0"]  # fmt: skip
    assert cli.main([*base, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["measure"]: r["below_target"] for r in rows} == BELOW
    for file_format in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"levels.{file_format}"
        assert cli.main([*base, "--format", file_format, "--out", str(out)]) == 0
        assert out.stat().st_size > 100
    assert "Equipment re-installation" in (tmp_path / "levels.csv").read_text(encoding="utf-8")
