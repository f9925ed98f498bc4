"""Contact resumed (issue 19.10): a contact_made event is contact, the
bridge item closes with a reason (and leaves the queue, statistics still
counting it), its texts print UK local time, and migration 0011 adds the
closed state."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import pytest
from alembic import command
from em_helpers import NOW, add_case, add_event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from triage.cli import main as cli
from triage.em import bridge
from triage.em.explain import explain_case
from triage.em.queue import build_queue
from triage.intel import ranking
from triage.stats import tasking
from triage.stats.period import Period
from triage.store.db import alembic_config, make_engine, open_database
from triage.store.models import AuditEntry, IntelItem

SUMMER = datetime(2026, 7, 20, 9, 0)  # UTC; 10:00 BST


def out_of_contact_case(db, case_id="OC1", last=NOW - timedelta(days=10)):
    with db.transaction() as s:
        add_case(s, case_id, region="LSE", harm_level="high", last_contact_at=last)


def test_a_contact_made_event_is_contact_for_explain_queue_and_cli(db, capsys):
    out_of_contact_case(db)
    assert explain_case(db, "OC1", as_of=NOW)["contact"]["out_of_contact"] is True
    with db.transaction() as s:
        add_event(s, "C1", "OC1", "contact_made", NOW - timedelta(days=1))
        # A later contact than the moment asked about is not known then.
        add_event(s, "C2", "OC1", "contact_made", NOW + timedelta(days=3))
    trace = explain_case(db, "OC1", as_of=NOW)
    assert trace["contact"]["out_of_contact"] is False
    assert trace["contact"]["last_contact_at"] == (NOW - timedelta(days=1)).isoformat()
    assert trace["contact"]["recorded_last_contact_at"] == (NOW - timedelta(days=10)).isoformat()
    with db.transaction() as s:
        queue = build_queue(s, as_of=NOW)
    assert not [i for i in queue.items if "out_of_contact" in i.flags]
    assert cli.main(["--db", db.location, "explain", "em", "OC1", "--no-refresh"]) == 0
    text = capsys.readouterr().out
    assert "out of contact" not in text.replace("days or more is out", "")
    assert "(in contact;" in text


def test_the_bridge_item_closes_with_a_reason_when_contact_resumes(db):
    out_of_contact_case(db, last=SUMMER - timedelta(days=9))
    assert bridge.sync_bridge(db, as_of=SUMMER).created == 1
    ranking.refresh(db, as_of=SUMMER)
    with db.transaction() as s:
        item_id = s.scalar(select(IntelItem.id).where(IntelItem.intel_id == "EM-OC1"))
        assert item_id in ranking.queue_ids(s)
        add_event(s, "C1", "OC1", "contact_made", SUMMER + timedelta(hours=2))
    later = SUMMER + timedelta(hours=3)
    run = bridge.sync_bridge(db, as_of=later)
    assert (run.back_in_contact, run.closed) == (1, 1)
    assert bridge.sync_bridge(db, as_of=later).closed == 0  # once
    with db.transaction() as s:
        item = s.get(IntelItem, item_id)
        assert (item.status, item.closed_at) == ("closed", later)
        assert item.closed_reason.startswith("EM case back in contact (last contact ")
        # Texts in UK local time with the zone, never UTC.
        assert "2026-07-20 12:00 BST" in item.closed_reason
        assert item.summary.startswith(
            "EM case OC1 back in contact (last contact 2026-07-20 12:00 BST)"
        )
        assert "out of contact since 2026-07-11 10:00 BST" in item.summary
        assert "UTC" not in item.summary
        assert item_id not in ranking.queue_ids(s)
        audited = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("em.bridge.%"))
        ).all()
    assert audited == ["em.bridge.create", "em.bridge.back_in_contact", "em.bridge.close"]
    # Off the agenda, today's and one made as of a later day; counted as not
    # discussed in the statistics, and the cell's drill-down finds it.
    with db.transaction() as s:
        agenda = ranking.agenda(s, region="LSE", capacity=5, as_of=later + timedelta(days=1))
    assert item_id not in [row["item_id"] for row in agenda]
    period = Period.resolve(date(2026, 7, 1), date(2026, 7, 31), as_of=date(2026, 8, 1))
    stats = tasking.compute(db, period)
    figure = tasking.figure9(stats)
    lse = next(r for r in figure.rows if r.get("region") == "London and South East")
    assert (lse["received"], lse["high_not_discussed"]) == (1, 1)
    drill = tasking.STATUS_FILTERS["not_discussed"]
    with db.transaction() as s:
        assert item_id in ranking.queue_ids(s, **drill)
    # Lost again: the item the bridge closed opens again, no second item.
    again = bridge.sync_bridge(db, as_of=SUMMER + timedelta(days=10))
    assert (again.created, again.lost_again, again.reopened) == (0, 1, 1)
    with db.transaction() as s:
        item = s.get(IntelItem, item_id)
        assert (item.status, item.closed_at, item.closed_reason) == ("open", None, None)


def test_a_decided_bridge_item_keeps_its_decision_when_contact_resumes(db):
    out_of_contact_case(db)
    bridge.sync_bridge(db, as_of=NOW)
    with db.transaction() as s:
        s.execute(IntelItem.__table__.update().values(status="accepted"))
        add_event(s, "C1", "OC1", "contact_made", NOW + timedelta(hours=1))
    run = bridge.sync_bridge(db, as_of=NOW + timedelta(hours=2))
    assert (run.back_in_contact, run.closed) == (1, 0)
    with db.transaction() as s:
        assert s.scalar(select(IntelItem.status)) == "accepted"


def test_migration_0011_adds_the_closed_state(tmp_path):
    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    command.upgrade(alembic_config(engine), "0010")
    engine.dispose()
    row = ("OLD-1", "2026-01-01 00:00:00", "LSE", "open", 0, "2026-01-01", "2026-01-01")
    insert_item = (
        "INSERT INTO intel_item (intel_id, received_at, region, status, carry_over_count,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    with sqlite3.connect(path) as connection:
        connection.execute(insert_item, row)
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(insert_item, ("OLD-2", *row[1:3], "closed", *row[4:]))
    connection.close()
    db = open_database(path)
    try:
        with db.transaction() as s:
            s.execute(
                IntelItem.__table__.update().values(
                    status="closed", closed_at=NOW, closed_reason="test"
                )
            )
        with pytest.raises(IntegrityError), db.transaction() as s:
            s.execute(IntelItem.__table__.update().values(status="bogus"))
        with db.transaction() as s:
            assert s.scalar(select(IntelItem.status)) == "closed"
    finally:
        db.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()


def test_bridge_summaries_print_uk_local_time(db):
    out_of_contact_case(db, last=datetime(2026, 7, 1, 23, 30))  # UTC: 00:30 BST on 2 July
    bridge.sync_bridge(db, as_of=SUMMER)
    with db.transaction() as s:
        summary = s.scalar(select(IntelItem.summary))
    assert "out of contact since 2026-07-02 00:30 BST" in summary
    assert "UTC" not in summary
