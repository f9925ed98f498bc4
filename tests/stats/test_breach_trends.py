"""Breach trends (issue 19.3): breaches per case-month by harm level,
vulnerability and protected characteristic, exact Poisson intervals, small
counts suppressed; the characteristics never move a rank or a score."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from actors import EVERYONE
from em_helpers import add_case, add_event
from sqlalchemy import select, update

from triage.cli import main as cli
from triage.em import bridge
from triage.em.pack import default_pack
from triage.em.queue import build_queue
from triage.em.recommend import recommend_case
from triage.harm import features
from triage.imports.importer import import_file
from triage.intel import ranking
from triage.intel.models import IntelRank
from triage.stats import breaches
from triage.stats.period import Period
from triage.stats.report import build_report
from triage.store.models import PROTECTED_CHARACTERISTICS, EmCase

SEPT = Period.resolve(date(2026, 9, 1), date(2026, 9, 30), as_of=date(2026, 10, 1))
FITTED = datetime(2026, 6, 1, 9)
AS_OF = datetime(2026, 10, 1, 9)


def caseload(db) -> None:
    """Four cases monitored all September; 10 breaches for two high-harm
    women, 1 for a low-harm man, none for a case with no harm level."""
    with db.transaction() as s:
        add_case(s, "H1", harm_level="high", gender="female", fitted_at=FITTED,
                 vulnerabilities=";medical;mental_health;", pc_ethnicity="Group A")  # fmt: skip
        add_case(s, "H2", harm_level="high", gender="female", fitted_at=FITTED)
        add_case(s, "L1", harm_level="low", gender="male", fitted_at=FITTED,
                 pc_ethnicity="group a", last_contact_at=AS_OF - timedelta(days=9))  # fmt: skip
        add_case(s, "N1", fitted_at=FITTED, em_status="active")
        add_case(s, "U1")  # never fitted: no exposure
        for n in range(10):
            add_event(s, f"E{n}", f"H{1 + n % 2}", "absence_15min", datetime(2026, 9, 2 + n, 10))
        add_event(s, "E10", "L1", "strap_tamper", datetime(2026, 9, 20, 10))
        add_event(s, "E11", "L1", "strap_tamper", datetime(2026, 8, 20, 10))  # before the period


def rows_by_group(table) -> dict[tuple[str, str], dict]:
    return {(r["characteristic"], r["group"]): r for r in table.rows}


def test_rates_per_case_month_with_exact_poisson_intervals(db):
    caseload(db)
    rates, trend = breaches.tables(db, SEPT)
    rows = rows_by_group(rates)
    high = rows[("Harm level", "high")]
    assert (high["cases"], high["case_months"], high["breaches"], high["rate"]) == (2, 2.0, 10, 5.0)
    # Garwood's exact interval for 10 events: 4.795 to 18.390, over 2 case-months.
    assert (high["ci_low"], high["ci_high"]) == (2.398, 9.195)
    low = rows[("Harm level", "low")]
    assert (low["breaches"], low["rate"], low["ci_low"], low["ci_high"]) == (1, 1.0, 0.025, 5.572)
    unknown = rows[("Harm level", "not recorded")]
    assert (unknown["cases"], unknown["breaches"], unknown["ci_low"]) == (1, 0, 0.0)
    assert unknown["ci_high"] == 3.689  # none seen: the upper bound is still there
    assert [g for c, g in rows if c == "Harm level"] == ["high", "low", "not recorded"]
    # A case with two flags counts in each; the others in "none recorded".
    assert rows[("Vulnerability flag", "medical")]["breaches"] == 5
    assert rows[("Vulnerability flag", "mental health")]["breaches"] == 5
    assert rows[("Vulnerability flag", "none recorded")]["cases"] == 3
    # Protected characteristics where recorded (values folded), the rest not recorded.
    assert rows[("Gender", "female")]["breaches"] == 10
    assert rows[("Ethnicity", "group a")]["cases"] == 2
    assert rows[("Ethnicity", "not recorded")]["cases"] == 2
    assert {r["harm_level"] for r in trend.rows} == {"high", "low", "not recorded"}
    september = [r for r in trend.rows if r["month"] == "2026-09"]
    assert sum(r["breaches"] for r in september) == 11


def test_small_counts_are_suppressed_with_their_rates_on_release(db):
    caseload(db)
    report = build_report(db, SEPT, title="t", kind="breaches", actor=EVERYONE).released(5)
    rows = rows_by_group(next(t for t in report.tables if t.name == "breach_rates"))
    high = rows[("Harm level", "high")]
    assert (high["cases"], high["breaches"], high["rate"], high["case_months"]) == (
        "<5",
        10,
        "c",
        "c",
    )
    low = rows[("Harm level", "low")]
    assert (low["breaches"], low["rate"], low["ci_low"], low["ci_high"]) == ("<5", "c", "c", "c")
    none = rows[("Harm level", "not recorded")]
    assert none["breaches"] == 0  # nothing to disclose: zero stays


def test_protected_characteristics_import_into_their_own_columns(db, tmp_path):
    path = tmp_path / "em_cases.csv"
    path.write_text(
        "case_id,gender,ethnicity,religion,sexual_orientation\nP1,female,Group B,None,\n",
        encoding="utf-8",
    )
    assert import_file(db, "em-cases", path, actor=EVERYONE).inserted == 1
    with db.transaction() as s:
        case = s.execute(select(EmCase)).scalar_one()
    assert (case.pc_ethnicity, case.pc_religion, case.pc_sexual_orientation) == (
        "Group B", "None", None
    )  # fmt: skip
    assert case.extra is None


def test_characteristics_are_never_inputs_to_ranking_or_the_model(db):
    caseload(db)
    pack = default_pack()
    bridge.sync_bridge(db, as_of=AS_OF)  # L1 is out of contact: an ICE item

    def everything() -> tuple:
        ranking.refresh(db, as_of=AS_OF)
        with db.transaction() as s:
            queue = build_queue(s, as_of=AS_OF, pack=pack)
            advice = [recommend_case(s, c, pack).as_json() for c in ("H1", "H2", "L1", "N1")]
            ranks = s.execute(
                select(IntelRank.item_id, IntelRank.bucket, IntelRank.score, IntelRank.queue_key)
            ).all()
        return (
            [(i.case_id, i.kind, i.rank, i.priority, i.detail) for i in queue.items],
            advice,
            ranks,
        )

    before = everything()
    assert before[0] and before[2]  # there is something to compare
    for values in (
        {"gender": "male", "pc_ethnicity": "Group Z", "pc_religion": "R1",
         "pc_sexual_orientation": "S1"},
        {"gender": None, "pc_ethnicity": None, "pc_religion": None,
         "pc_sexual_orientation": None},
    ):  # fmt: skip
        with db.transaction() as s:
            s.execute(update(EmCase).values(**values))
        assert everything() == before
    # The harm model refuses each of them by name, as stored and as imported.
    for column in PROTECTED_CHARACTERISTICS:
        assert features.is_protected(column), column
        assert features.is_protected(column.removeprefix("pc_")), column


@pytest.mark.parametrize("file_format", ["json", "csv", "xlsx", "pdf"])
def test_cli_stats_breaches(db, tmp_path, capsys, file_format):
    caseload(db)
    out = tmp_path / f"breaches.{file_format}"
    args = ["--db", db.location, "stats", "breaches", "--from", "2026-09-01",
            "--to", "2026-09-30", "--as-of", "2026-10-01", "--format", file_format,
            "--suppress-below", "0"]  # fmt: skip
    if file_format in ("xlsx", "pdf"):
        args += ["--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    if file_format == "json":
        rows = json.loads(printed)
        assert {"characteristic": "Harm level", "group": "high"}.items() <= rows[0].items()
        assert rows[0]["rate"] == 5.0
    elif file_format == "csv":
        assert printed.splitlines()[0].startswith("characteristic,group,cases,case_months,breaches")
    else:
        assert out.stat().st_size > 1000
