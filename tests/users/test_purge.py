"""Retention purge: counts by kind, nothing readable left, statistics unchanged."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE
from item_values_helpers import assert_kept_right
from sqlalchemy import text

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
        # A QA review of its decision, whose reviewer wrote about the subject.
        connection = session.connection()
        connection.exec_driver_sql(
            "INSERT INTO qa_sample (id, period_from, period_to, rate, seed, population, "
            "drawn_at, drawn_by) VALUES (900, '2026-08-01', '2026-08-31', 0.02, 1, 1, "
            "'2026-09-01 09:00:00.000000', 'tester')"
        )
        connection.exec_driver_sql(
            "INSERT INTO qa_sample_decision (id, sample_id, decision_ref, kind, decided_on, "
            "decided_by, item_id, subject, decision) SELECT 900, 900, 'tasking:1', 'tasking', "
            "'2026-08-10', 'ann', id, intel_id, 'rejected' FROM intel_item WHERE intel_id = ?",
            (intel_id,),
        )
        connection.exec_driver_sql(
            "INSERT INTO qa_score (id, sample_decision_id, reviewer, scored_at, points_checked, "
            "outcome, score, feedback) VALUES (900, 900, 'bob', '2026-09-02 09:00:00.000000', "
            "10, 'probably_correct', 1, ?)",
            (MARKER,),
        )
        connection.exec_driver_sql(
            "INSERT INTO qa_error (score_id, severity, note) VALUES (900, 'minor', ?)", (MARKER,)
        )
    before = statistics(db)
    with db.engine.connect() as connection:
        named = connection.exec_driver_sql(
            "SELECT count(*) FROM intel_item WHERE business_name IS NOT NULL"
        ).scalar_one()
    planned = purge.plan(db, actor=EVERYONE, policy=POLICY)
    assert planned["intel"] > 0 and planned["em_cases"] > 0
    assert purge.purge(db, actor=EVERYONE, policy=POLICY) == planned
    assert purge.plan(db, actor=EVERYONE, policy=POLICY) == {k: 0 for k in planned}
    assert statistics(db) == before
    # The harm codes kept with a purged item no longer say a business was named.
    with db.engine.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT count(*) FROM intel_item WHERE business_name IS NOT NULL"
        ).scalar_one()
    assert left < named
    assert assert_kept_right(db) > 0
    with db.engine.connect() as connection:
        subject, score, feedback = connection.exec_driver_sql(
            "SELECT d.subject, s.score, s.feedback FROM qa_sample_decision d "
            "JOIN qa_score s ON s.sample_decision_id = d.id WHERE d.id = 900"
        ).one()
    assert subject.startswith("purged-") and score == 1 and feedback is None
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


def test_purge_empties_the_audit_copies_of_an_outcome_s_extra_cells(db, monkeypatch, tmp_path):
    # A re-imported outcome's changed extra cells (the columns the format
    # does not know) are audited under the outcome ('I-1@2026-01-20'); the
    # purge empties the outcome's extra, and must empty those copies too.
    from triage.imports.importer import import_file

    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    items = tmp_path / "intel.csv"
    items.write_text("intel_id,received_at,region\nI-1,2026-01-10,LSE\nI-2,2026-10-01,LSE\n")
    import_file(db, "intel", items, actor=EVERYONE)
    outcomes = tmp_path / "outcomes.csv"
    for note in ("first note", MARKER):
        outcomes.write_text(
            "intel_id,meeting_date,decision,officer_note\n"
            f"I-1,2026-01-20,accepted,{note}\nI-2,2026-10-05,accepted,{note}\n"
        )
        import_file(db, "outcomes", outcomes, actor=EVERYONE)
    assert purge.purge(db, actor=EVERYONE, policy=POLICY)["intel"] == 1
    assert_only_redacted(db, purged="I-1@2026-01-20", kept="I-2@2026-10-05")


def assert_only_redacted(db, *, purged: str, kept: str) -> None:
    """The re-imports' audit copies of MARKER: the purged record's keeps only
    its digest, the kept record's is as it was; the chain still verifies."""
    values = {
        (e["entity_id"], e["new"])
        for e in auditing.entries(db, actor=EVERYONE)
        if e["action"] == "import_update"
    }
    assert {entity for entity, new in values if MARKER in str(new)} == {kept}
    assert any(entity == purged and str(new).startswith(audit.REDACTED) for entity, new in values)
    assert auditing.verify(db, actor=EVERYONE).ok


def test_purge_empties_the_audit_copies_of_an_em_event_s_notes(db, monkeypatch, tmp_path):
    # A re-imported EM event's changed notes are audited under the event
    # ('em_event', its event id); the purge empties a purged case's event
    # notes, and must empty those copies too.
    from triage.imports.importer import import_file

    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "case_id,region,em_status,fitted_at\nC-1,LSE,ceased,2024-01-10\nC-2,LSE,active,2026-10-01\n"
    )
    import_file(db, "em-cases", cases, actor=EVERYONE)
    events = tmp_path / "events.csv"
    for note in ("first note", MARKER):
        events.write_text(
            "event_id,case_id,event_type,started_at,notes\n"
            f"E-1,C-1,battery,2024-02-01T10:00,{note}\nE-2,C-2,battery,2026-10-05T10:00,{note}\n"
        )
        import_file(db, "em-events", events, actor=EVERYONE)
    assert purge.purge(db, actor=EVERYONE, policy=POLICY)["em_cases"] == 1
    assert_only_redacted(db, purged="E-1", kept="E-2")


def test_purge_removes_a_purged_item_s_notes(db, monkeypatch, tmp_path):
    # Notes on an item are written about its subject: a purged item keeps none.
    from triage.imports.importer import import_file
    from triage.intel.notes import add_note, notes

    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    items = tmp_path / "intel.csv"
    items.write_text("intel_id,received_at,region\nI-1,2026-01-10,LSE\nI-2,2026-10-01,LSE\n")
    import_file(db, "intel", items, actor=EVERYONE)
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        "intel_id,meeting_date,decision\nI-1,2026-01-20,accepted\nI-2,2026-10-05,accepted\n"
    )
    import_file(db, "outcomes", outcomes, actor=EVERYONE)
    with db.transaction() as session:
        ids = dict(session.execute(text("SELECT intel_id, id FROM intel_item")).all())
    for item_id in ids.values():
        add_note(db, item_id, MARKER, actor=EVERYONE)
    assert purge.purge(db, actor=EVERYONE, policy=POLICY)["intel"] == 1
    with db.transaction() as session:
        assert notes(session, ids["I-1"]) == []
        assert [note["text"] for note in notes(session, ids["I-2"])] == [MARKER]
    assert auditing.verify(db, actor=EVERYONE).ok
