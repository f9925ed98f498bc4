"""Laptops offline against a PostgreSQL team server (the throwaway test server):
two laptops pull, work offline, the second's push finds the first's decision: a conflict
listed; `db copy` of a server database onto another and into a file, counts and the audit
chain checked. Runs in the PostgreSQL run (./run test --backend postgresql)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from actors import EVERYONE
from em_helpers import add_case
from item_values_helpers import assert_kept_right
from meeting_fixtures import REGION, TEAM, standard_items
from sqlalchemy import func, select, update

from triage.cli.main import main as cli
from triage.em import claims
from triage.imports.importer import import_file
from triage.intel import notes as item_notes
from triage.meetings import operations as meetings
from triage.store.db import open_database
from triage.store.models import AuditEntry, EmCase, IntelItem, QuarantinedRow, TaskingOutcome
from triage.store.schema import metadata
from triage.sync.pull import pull
from triage.sync.push import push
from triage.users import auditing

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg(new_server_database):
    db = open_database(new_server_database())
    standard_items(db, 8)
    with db.transaction() as session:
        add_case(session, "EM-1")
    yield db
    db.close()


def _decide(db, decisions):
    """A meeting on ``db`` (a laptop: the ranking runs there) deciding ``decisions``."""
    meeting = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=EVERYONE
    )
    for intel_id, decision in decisions.items():
        with db.sessions() as session:
            item = session.scalar(select(IntelItem.id).where(IntelItem.intel_id == intel_id))
        reason = "duplicate" if decision == "rejected" else None
        meetings.decide(
            db, meeting_id=meeting, item_id=item, decision=decision, actor=EVERYONE, reason=reason
        )


def _count(db, model, *where):
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_laptops_push_to_a_postgresql_server(pg, tmp_path):
    """Two laptops pull the same team; the first to push wins an item both
    decided, the second is told, and nothing of its decision is written."""
    first_path, second_path = tmp_path / "first.sqlite", tmp_path / "second.sqlite"
    result = pull(pg, first_path, region=REGION, team=TEAM, actor=EVERYONE)
    assert result.counts["items"] == 9 and result.server == pg.location
    pull(pg, second_path, region=REGION, team=TEAM, actor=EVERYONE)
    first, second = open_database(first_path), open_database(second_path)
    try:
        assert assert_kept_right(first) == 9  # the server's kept values come along
        _decide(first, {"INT-0001": "rejected"})
        _decide(second, {"INT-0000": "accepted", "INT-0001": "accepted"})
        claims.claim(second, "EM-1", actor=EVERYONE)
        assert push(first, pg, actor=EVERYONE).applied == {"intel": 1, "em": 0}
        pushed = push(second, pg, actor=EVERYONE)
        assert [c.key for c in pushed.conflicts] == ["INT-0001"]
        assert pushed.conflicts[0].server["decision"] == "rejected"
        assert pushed.applied == {"intel": 1, "em": 1} and pushed.meetings == 1
        assert push(second, pg, actor=EVERYONE).applied == {"intel": 0, "em": 0}
    finally:
        first.close()
        second.close()
    with pg.sessions() as session:
        statuses = dict(session.execute(select(IntelItem.intel_id, IntelItem.status)).all())
        assert statuses["INT-0000"] == "accepted" and statuses["INT-0001"] == "rejected"
        assert session.scalar(select(EmCase.claimed_by).where(EmCase.case_id == "EM-1"))
    assert _count(pg, TaskingOutcome) == 2
    assert _count(pg, AuditEntry, AuditEntry.action == "sync.conflict") == 2  # each push
    assert _count(pg, AuditEntry, AuditEntry.action == "sync.pull") == 2
    assert auditing.verify(pg, actor=EVERYONE).ok


def test_db_copy_onto_postgresql_and_back(pg, tmp_path, new_server_database, capsys):
    first_note = item_notes.add_note(pg, 1, "before the copy", actor=EVERYONE)
    target = new_server_database()
    assert cli(["db", "copy", pg.location, target, "--json"]) == 0
    copied = json.loads(capsys.readouterr().out)
    back = tmp_path / "back.sqlite"
    assert cli(["db", "copy", target, str(back), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["tables"]
    # The same rows, and the first copy's own audit entry on the copy it made.
    assert again == {**copied["tables"], "audit_log": copied["tables"]["audit_log"] + 1}
    file_copy = open_database(back)
    try:
        assert auditing.verify(file_copy, actor=EVERYONE).ok
        with file_copy.engine.connect() as a, pg.engine.connect() as b:
            for name in ("intel_item", "em_case", "app_user"):
                t = metadata.tables[name]
                assert (
                    a.execute(select(t).order_by(t.c.id)).all()
                    == b.execute(select(t).order_by(t.c.id)).all()
                )
    finally:
        file_copy.close()
    server_copy = open_database(target)
    try:  # new rows on the copy continue after the copied ids (the sequences were moved)
        assert item_notes.add_note(server_copy, 1, "after", actor=EVERYONE) == first_note + 1
    finally:
        server_copy.close()


def test_db_copy_onto_postgresql_shows_an_older_quarantined_nul_as_its_symbol(
    tmp_path, new_server_database, capsys
):
    laptop = open_database(tmp_path / "older.sqlite")
    try:
        extract = tmp_path / "intel.csv"
        extract.write_text(
            "intel_id,received_at,region,summary\nN-1,2026-07-01T10:00,LSE,cut\x00short\n"
        )
        assert import_file(laptop, "intel", extract, actor=EVERYONE).quarantined == 1
        with laptop.transaction() as session:  # as the importer stored it before U+2400
            session.execute(
                update(QuarantinedRow).values(
                    raw_text=func.replace(QuarantinedRow.raw_text, "\u2400", "\x00")
                )
            )
        target = new_server_database()
        assert cli(["db", "copy", laptop.location, target, "--json"]) == 0
    finally:
        laptop.close()
    assert json.loads(capsys.readouterr().out)["tables"]["quarantined_row"] == 1
    server = open_database(target)
    try:
        with server.sessions() as session:
            row = session.execute(select(QuarantinedRow.raw_text, QuarantinedRow.raw)).one()
        assert row.raw_text == "N-1,2026-07-01T10:00,LSE,cut\u2400short"
        assert row.raw["summary"] == "cut\x00short"  # the cells keep the NUL itself
    finally:
        server.close()
