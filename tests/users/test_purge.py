"""Retention purge: counts by kind, nothing readable left, statistics unchanged."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE

from triage.cli.main import main as cli
from triage.demo.generator import create_demo_database
from triage.retention import purge
from triage.stats import em, tasking
from triage.stats.period import Period
from triage.store import audit
from triage.store.db import open_database
from triage.users import Actor, NotPermitted, auditing

MARKER = "Purge-Marker-Zx81 lives at 1 Secret Road"
# The small demo spans 2026 only: limits short enough to reach into it.
POLICY = purge.Policy(intel_closed_months=2, em_cases_ended_years=0, quarantine_resolved_months=1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("purge") / "demo.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
        patch.setenv("TRIAGE_HOME", str(path.parent / "home"))
        create_demo_database(path, intel=6000, em=400)
        yield path


def statistics(db) -> list:
    period = Period.resolve()
    tables = [tasking.figure9(tasking.compute(db, period)), *em.tables(db, period)]
    return [(t.name, t.rows) for t in tables]


def test_purge_counts_removes_and_keeps_the_statistics(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    db = open_database(demo)
    with db.transaction() as session:
        # An old closed item with personal text, and the audit's copy of it.
        intel_id = (
            session.connection()
            .exec_driver_sql(
                "SELECT i.intel_id FROM intel_item i JOIN tasking_outcome o "
                "ON o.item_id = i.id WHERE i.status = 'rejected' "
                "AND o.meeting_date < '2026-09-01' LIMIT 1"
            )
            .scalar_one()
        )
        session.connection().exec_driver_sql(
            "UPDATE intel_item SET summary = ? WHERE intel_id = ?", (MARKER, intel_id)
        )
        audit.record(session, "test.note", "intel_item", intel_id, "summary", None, MARKER,
                     who="tester")  # fmt: skip
    before = statistics(db)
    planned = purge.plan(db, actor=EVERYONE, policy=POLICY)
    assert planned["intel"] > 0 and planned["em_cases"] > 0
    assert purge.purge(db, actor=EVERYONE, policy=POLICY) == planned
    assert purge.plan(db, actor=EVERYONE, policy=POLICY) == {k: 0 for k in planned}
    assert statistics(db) == before
    assert auditing.verify(db, actor=EVERYONE).ok
    (entry,) = [e for e in auditing.entries(db, actor=EVERYONE) if e["action"] == "retention.purge"]
    assert entry["new"] == ", ".join(f"{k}={n}" for k, n in planned.items())
    db.close()
    for suffix in ("", "-wal"):
        file = demo.with_name(demo.name + suffix)
        if file.exists():
            assert MARKER.encode() not in file.read_bytes(), file


def test_only_an_admin_may_purge(db):
    officer = Actor("olu", frozenset({"officer"}))
    with pytest.raises(NotPermitted, match=r"olu \(officer\) may not purge data"):
        purge.plan(db, actor=officer)


def test_cli_dry_run_and_a_bad_policy(db, capsys, tmp_path):
    assert cli(["--db", db.location, "purge", "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["counts"] == {"intel": 0, "em_cases": 0, "quarantine": 0}
    bad = tmp_path / "retention.toml"
    bad.write_text("[intel]\nclosed_months = 'soon'\n", encoding="utf-8")
    assert cli(["--db", db.location, "purge", "--policy", str(bad)]) == 2
    assert "[intel] closed_months must be a whole number" in capsys.readouterr().err
