"""Laptops offline: pull a team's work from a server database, work offline,
push it back; conflicts listed and never written (SQLite server and laptop)."""

from __future__ import annotations

from datetime import date

import pytest
from actors import EVERYONE
from item_values_helpers import assert_kept_right
from meeting_fixtures import REGION, TEAM, standard_items
from sqlalchemy import func, select

from triage.em import casework, claims
from triage.intel import notes as item_notes
from triage.meetings import operations as meetings
from triage.store.db import open_database
from triage.store.models import (
    AuditEntry,
    EmCase,
    EmEvent,
    IntelItem,
    TaskingMeeting,
    TaskingOutcome,
)
from triage.sync.pull import SyncError, pull
from triage.sync.push import pending, push
from triage.users import Actor, NotPermitted


def _pull(server, laptop_path, **kw):
    laptop_path.parent.mkdir(exist_ok=True)
    return pull(server, laptop_path, region=REGION, team=TEAM, actor=EVERYONE, **kw)


def _count(db, model, *where):
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _item_id(db, intel_id):
    with db.sessions() as session:
        return session.scalar(select(IntelItem.id).where(IntelItem.intel_id == intel_id))


def _run_meeting(db, decisions):
    """Start today's meeting on ``db`` and decide ``{intel_id: decision}``."""
    meeting = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=EVERYONE
    )
    for intel_id, decision in decisions.items():
        reason = "duplicate" if decision == "rejected" else None
        meetings.decide(
            db, meeting_id=meeting, item_id=_item_id(db, intel_id), decision=decision,
            actor=EVERYONE, reason=reason,
        )  # fmt: skip
    return meeting


def test_pull_copies_the_team_queue_and_region_caseload(server, laptop_path):
    result = _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    try:
        assert _count(laptop, IntelItem) == 13  # 12 + the stale one; not the other team's
        assert _count(laptop, IntelItem, IntelItem.intel_id == "OTHER-1") == 0
        assert {c for (c,) in laptop.sessions().execute(select(EmCase.case_id))} == {"EM-1", "EM-2"}
        assert _count(laptop, EmEvent) == 1
        assert result.counts["items"] == 13 and result.counts["em_cases"] == 2
        assert pending(laptop).total == 0
        # Audited on both sides.
        for db in (server, laptop):
            assert _count(db, AuditEntry, AuditEntry.action == "sync.pull") == 1
    finally:
        laptop.close()
    assert not laptop_path.with_name("triage.sqlite.pulling").exists()


def test_offline_meeting_notes_and_em_actions_go_back(server, laptop_path):
    _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    try:
        meeting = _run_meeting(laptop, {"INT-0000": "accepted", "INT-0001": "rejected"})
        item_notes.add_note(laptop, _item_id(laptop, "INT-0002"), "seen offline", actor=EVERYONE)
        claims.claim(laptop, "EM-1", actor=EVERYONE)
        casework.mark_breaches_actioned(laptop, "EM-1", actor=EVERYONE)
        casework.complete_review(laptop, "EM-2", outcome="continue", actor=EVERYONE)
        waiting = pending(laptop)
        assert waiting.changed == {"intel": 2, "em": 2} and waiting.notes == 1
        assert waiting.meetings == 1
        result = push(laptop, server, actor=EVERYONE)
        assert result.conflicts == []
        assert result.applied == {"intel": 2, "em": 2}
        assert (result.notes, result.meetings) == (1, 1)
        assert pending(laptop).total == 0
        # A second push sends nothing and duplicates nothing.
        again = push(laptop, server, actor=EVERYONE)
        assert again.applied == {"intel": 0, "em": 0} and again.notes == 0
    finally:
        laptop.close()
    with server.sessions() as session:
        accepted = session.scalar(select(IntelItem).where(IntelItem.intel_id == "INT-0000"))
        assert accepted.status == "accepted"
        outcome = session.scalar(
            select(TaskingOutcome).where(TaskingOutcome.item_id == accepted.id)
        )
        assert outcome.decision == "accepted" and outcome.decided_by == EVERYONE.name
        server_meeting = session.get(TaskingMeeting, outcome.meeting_id)
        assert server_meeting.region == REGION and server_meeting.team == TEAM
        agenda = meetings.agenda(session, server_meeting.id)
        assert {r.intel_id for r in agenda if r.decision} == {"INT-0000", "INT-0001"}
        assert session.scalar(select(EmCase.claimed_by).where(EmCase.case_id == "EM-1")) == (
            EVERYONE.name
        )
        assert session.scalar(select(EmEvent.responded_at).where(EmEvent.event_id == "EV-1"))
        assert session.scalar(select(EmCase.last_review_at).where(EmCase.case_id == "EM-2"))
        notes = item_notes.notes(session, _item_id(server, "INT-0002"))
        assert [n["text"] for n in notes] == ["seen offline"]
    assert _count(server, TaskingOutcome) == 2
    assert (
        _count(server, AuditEntry, AuditEntry.action == "sync.push") == 6
    )  # 4 owners + one summary a push
    assert meeting  # the laptop's own id; the server gave it its own


def test_item_decided_on_the_server_meanwhile_is_a_conflict(server, laptop_path):
    _pull(server, laptop_path)
    # Online, the server's meeting decides INT-0000 first.
    _run_meeting(server, {"INT-0000": "rejected"})
    laptop = open_database(laptop_path)
    try:
        _run_meeting(laptop, {"INT-0000": "accepted", "INT-0003": "accepted"})
        result = push(laptop, server, actor=EVERYONE)
        assert [c.key for c in result.conflicts] == ["INT-0000"]
        conflict = result.conflicts[0]
        assert conflict.server["decision"] == "rejected" and conflict.offline["decision"] == (
            "accepted"
        )
        assert "rejected by tester" in conflict.text()
        assert result.applied["intel"] == 1  # INT-0003
        # Still waiting on the laptop: a second push lists it again, writes nothing.
        assert pending(laptop).changed["intel"] == 1
        assert [c.key for c in push(laptop, server, actor=EVERYONE).conflicts] == ["INT-0000"]
        assert _count(laptop, AuditEntry, AuditEntry.action == "sync.conflict") == 2
    finally:
        laptop.close()
    with server.sessions() as session:
        item = session.scalar(select(IntelItem).where(IntelItem.intel_id == "INT-0000"))
        assert item.status == "rejected"  # never overwritten
        decisions = session.scalars(
            select(TaskingOutcome.decision).where(TaskingOutcome.item_id == item.id)
        ).all()
        assert decisions == ["rejected"]
    assert _count(server, AuditEntry, AuditEntry.action == "sync.conflict") == 2


def test_pull_refuses_to_drop_offline_work(server, laptop_path):
    _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    claims.claim(laptop, "EM-2", actor=EVERYONE)
    laptop.close()
    with pytest.raises(SyncError, match="not yet pushed"):
        _pull(server, laptop_path)
    result = _pull(server, laptop_path, discard=True)
    assert result.replaced_backup is not None and result.replaced_backup.exists()


def test_pull_refuses_a_database_that_is_not_a_laptop_copy(server, tmp_path):
    with pytest.raises(SyncError, match="not a laptop copy"):
        pull(server, server.path, region=REGION, team=TEAM, actor=EVERYONE)


def test_push_to_another_server_is_refused(server, laptop_path, tmp_path, new_database_file):
    _pull(server, laptop_path)
    other = open_database(new_database_file(tmp_path / "other.sqlite"))
    laptop = open_database(laptop_path)
    try:
        with pytest.raises(SyncError, match="not pulled from this server"):
            push(laptop, other, actor=EVERYONE)
    finally:
        laptop.close()
        other.close()


def test_push_needs_the_roles_of_what_it_sends(server, laptop_path):
    _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    try:
        claims.claim(laptop, "EM-1", actor=EVERYONE)
        officer = Actor("olly", frozenset({"officer"}))
        with pytest.raises(NotPermitted):
            push(laptop, server, actor=officer)
        assert pending(laptop).changed["em"] == 1
    finally:
        laptop.close()
    with server.sessions() as session:
        assert session.scalar(select(EmCase.claimed_by).where(EmCase.case_id == "EM-1")) is None


def _raise_letter(db):
    from triage import clock
    from triage.em.models import EmEscalation

    with db.transaction() as session:
        row = EmEscalation(
            case_id="EM-1", step="warning_letter", breach_count=1, status="open",
            raised_at=clock.now(), rules_version="v",
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_the_same_escalation_raised_on_both_sides_is_one_row(server, laptop_path):
    from triage.em import escalation
    from triage.em.models import EmEscalation

    _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    try:
        offline = _raise_letter(laptop)  # the ladder, run on each side meanwhile
        _raise_letter(server)
        first = push(laptop, server, actor=EVERYONE)
        assert first.conflicts == [] and first.already == 1
        escalation.mark_done(laptop, offline, actor=EVERYONE)  # the letter sent offline
        second = push(laptop, server, actor=EVERYONE)
        assert second.conflicts == [] and second.applied["em"] == 1
    finally:
        laptop.close()
    with server.sessions() as session:
        rows = session.scalars(select(EmEscalation)).all()
        assert [(r.step, r.status) for r in rows] == [("warning_letter", "done")]


def test_a_pulled_laptop_scores_with_the_servers_model(db, tmp_path, monkeypatch):
    """The server (either backend) trained the model; the laptop, another
    machine, gets its bytes with the pull and scores with that same model."""
    import shutil

    from model_history import make_history
    from sqlalchemy import update

    from triage import clock
    from triage.harm import artefact, registry, scoring, training

    make_history(db, n=800)
    standard_items(db, 4)
    trained = training.train(db, n_boot=0, classifier="logistic", activate=True, actor=EVERYONE)
    server_model = scoring.load_model(db)  # as the server loads it, kept in memory
    # The laptop: another data folder, and no file at the registered path.
    shutil.rmtree(trained.path.parent)
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "laptop-home"))
    laptop_path = tmp_path / "laptop" / "triage.sqlite"
    result = _pull(db, laptop_path)
    assert result.model == trained.model_id and result.model_file is True
    laptop = open_database(laptop_path)
    try:
        laptop_scores = scoring.active_scores(laptop)
        assert len(laptop_scores) == result.counts["items"] == 5  # 4 + the stale one
        # The server's model on the laptop's rows (features such as corroboration
        # count the items each database holds, so compare on the same rows).
        with laptop.engine.connect() as connection:
            rows = scoring.rows_for(server_model, connection, as_of=clock.now())
        expected = dict(zip(rows["item_id"], scoring.predict(server_model, rows), strict=True))
        assert laptop_scores == pytest.approx(expected, abs=1e-6)
        assert (artefact.models_dir() / trained.model_id / artefact.MODEL_FILE).is_file()
    finally:
        laptop.close()

    # Bytes the server holds that do not hash right: the pull says so, and the
    # laptop never writes or loads them.
    with db.transaction() as session:
        session.execute(update(registry.HarmModelFile).values(content=b"not the model"))
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "second-laptop-home"))
    again = _pull(db, tmp_path / "second" / "triage.sqlite")
    assert again.model == trained.model_id and again.model_file is False
    second = open_database(again.target)
    try:
        assert scoring.active_scores(second) is None
        assert not (artefact.models_dir() / trained.model_id).exists()
    finally:
        second.close()


def test_pull_carries_the_values_kept_with_each_item(server, laptop_path):
    _pull(server, laptop_path)
    laptop = open_database(laptop_path)
    try:
        assert assert_kept_right(laptop) == 13
    finally:
        laptop.close()
