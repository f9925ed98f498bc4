"""The tasking meeting core: agenda, decisions, undo, re-check, close, results,
exports and the CLI, checked against what is stored."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, add_items, ranked, standard_items
from sqlalchemy import select

from triage.cli.main import main as cli
from triage.intel.linked import linked_items
from triage.meetings import minutes
from triage.meetings import operations as meetings
from triage.meetings.models import MeetingAgendaItem
from triage.store import audit
from triage.store.models import AuditEntry, IntelItem, TaskingMeeting, TaskingOutcome

DAY = date(2026, 11, 20)


@pytest.fixture
def meeting(db):
    standard_items(db, 20)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=DAY,
        attendees=["Ana", "Ben"],
        capacity=5,
        actor=EVERYONE,
    )
    return db, meeting_id


def rows_of(db, meeting_id):
    with db.sessions() as session:
        return meetings.agenda(session, meeting_id)


def outcome(db, item_id):
    with db.sessions() as session:
        return session.execute(
            select(TaskingOutcome).where(TaskingOutcome.item_id == item_id)
        ).scalar_one_or_none()


def audit_actions(db):
    with db.sessions() as session:
        return [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]


def test_agenda_is_the_ranked_queue_past_the_capacity_line(meeting):
    db, meeting_id = meeting
    rows = rows_of(db, meeting_id)
    assert len(rows) == meetings.default_agenda_length(5) == 15
    assert [r.fits for r in rows] == [True] * 5 + [False] * 10
    assert [r.position for r in rows] == list(range(1, 16))
    buckets = [r.bucket for r in rows]
    assert buckets == sorted(buckets)  # bucket order first
    assert buckets[0] == 1
    with db.sessions() as session:
        stored = session.get(TaskingMeeting, meeting_id)
        assert stored.capacity == 5 and stored.status == "open"
        assert stored.attendees == ";Ana;Ben;"
        assert stored.rules_version


def test_capacity_defaults_to_the_team_in_organisation_toml(db):
    standard_items(db, 5)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, region="London and South East", team=TEAM, held_on=DAY, actor=EVERYONE
    )
    with db.sessions() as session:
        assert session.get(TaskingMeeting, meeting_id).capacity == 17


def test_accept_reject_and_not_discussed_are_stored_and_audited(meeting):
    db, meeting_id = meeting
    first, second, third = rows_of(db, meeting_id)[:3]
    meetings.decide(
        db, meeting_id=meeting_id, item_id=first.item_id, decision="accepted", actor=EVERYONE
    )
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=second.item_id,
        decision="rejected",
        reason="no_capacity",
        actor=EVERYONE,
    )
    meetings.decide(
        db, meeting_id=meeting_id, item_id=third.item_id, decision="not_discussed", actor=EVERYONE
    )
    accepted = outcome(db, first.item_id)
    assert (accepted.decision, accepted.meeting_date, accepted.agenda_rank) == ("accepted", DAY, 1)
    assert accepted.decided_by
    assert outcome(db, second.item_id).reason == "no_capacity"
    with db.sessions() as session:
        statuses = {i.id: i.status for i in session.execute(select(IntelItem)).scalars()}
    assert statuses[first.item_id] == "accepted"
    assert statuses[second.item_id] == "rejected"
    assert statuses[third.item_id] == "open"
    assert audit_actions(db).count("meeting.decide") == 3
    with db.sessions() as session:
        info = meetings.summary(session, meeting_id)
    assert (info.accepted, info.rejected, info.not_discussed, info.undecided) == (1, 1, 1, 12)


def test_a_rejection_needs_a_known_reason(meeting):
    db, meeting_id = meeting
    item = rows_of(db, meeting_id)[0].item_id
    with pytest.raises(meetings.MeetingError, match="needs a reason"):
        meetings.decide(
            db, meeting_id=meeting_id, item_id=item, decision="rejected", actor=EVERYONE
        )
    with pytest.raises(meetings.MeetingError, match="unknown reject reason 'bored'"):
        meetings.decide(
            db,
            meeting_id=meeting_id,
            item_id=item,
            decision="rejected",
            reason="bored",
            actor=EVERYONE,
        )
    with pytest.raises(meetings.MeetingError, match="not on the agenda"):
        meetings.decide(
            db, meeting_id=meeting_id, item_id=999999, decision="accepted", actor=EVERYONE
        )
    assert outcome(db, item) is None


def test_a_second_meeting_the_same_day_cannot_take_over_a_decision(meeting):
    db, meeting_id = meeting
    region_wide = meetings.start_meeting(
        db, region=REGION, team=None, held_on=DAY, capacity=5, actor=EVERYONE
    )
    item = rows_of(db, meeting_id)[0].item_id
    assert item in {r.item_id for r in rows_of(db, region_wide)}
    meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="accepted", actor=EVERYONE)
    with pytest.raises(meetings.MeetingError, match=f"at meeting {meeting_id}"):
        meetings.decide(
            db, meeting_id=region_wide, item_id=item, decision="not_discussed", actor=EVERYONE
        )
    assert (outcome(db, item).meeting_id, outcome(db, item).decision) == (meeting_id, "accepted")
    assert meetings.undo(db, meeting_id=region_wide, actor=EVERYONE) is None


def test_undo_restores_the_previous_decision_exactly(meeting):
    db, meeting_id = meeting
    item = rows_of(db, meeting_id)[0].item_id
    meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="accepted", actor=EVERYONE)
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=item,
        decision="rejected",
        reason="duplicate",
        actor=EVERYONE,
    )
    assert meetings.undo(db, meeting_id=meeting_id, actor=EVERYONE) == item
    assert outcome(db, item).decision == "accepted"
    assert meetings.undo(db, meeting_id=meeting_id, actor=EVERYONE) == item
    assert outcome(db, item) is None
    with db.sessions() as session:
        assert session.get(IntelItem, item).status == "open"
    assert meetings.undo(db, meeting_id=meeting_id, actor=EVERYONE) is None
    assert audit_actions(db).count("meeting.undo") == 2


def test_a_stale_item_must_be_rechecked_before_it_is_accepted(meeting):
    db, meeting_id = meeting
    stale = next(r for r in rows_of(db, meeting_id) if r.intel_id == "INT-STALE")
    assert stale.stale and stale.needs_recheck
    with pytest.raises(meetings.StaleItemError, match="re-check"):
        meetings.decide(
            db, meeting_id=meeting_id, item_id=stale.item_id, decision="accepted", actor=EVERYONE
        )
    # Rejecting it as stale needs no re-check.
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=stale.item_id,
        decision="rejected",
        reason="stale",
        actor=EVERYONE,
    )
    meetings.undo(db, meeting_id=meeting_id, actor=EVERYONE)
    meetings.recheck(db, item_id=stale.item_id, actor=EVERYONE)
    assert not next(r for r in rows_of(db, meeting_id) if r.intel_id == "INT-STALE").needs_recheck
    meetings.decide(
        db, meeting_id=meeting_id, item_id=stale.item_id, decision="accepted", actor=EVERYONE
    )
    assert outcome(db, stale.item_id).decision == "accepted"
    assert "item.recheck" in audit_actions(db)


def test_close_records_undecided_as_not_discussed_and_carries_them_over(meeting):
    db, meeting_id = meeting
    rows = rows_of(db, meeting_id)
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[0].item_id, decision="accepted", actor=EVERYONE
    )
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=rows[1].item_id,
        decision="rejected",
        reason="not_workable",
        actor=EVERYONE,
    )
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[2].item_id, decision="not_discussed", actor=EVERYONE
    )
    result = meetings.close_meeting(db, meeting_id=meeting_id, actor=EVERYONE)
    assert (result.accepted, result.rejected, result.not_discussed) == (1, 1, 13)
    with db.sessions() as session:
        carried = {i.id: i.carry_over_count for i in session.execute(select(IntelItem)).scalars()}
        assert session.get(TaskingMeeting, meeting_id).status == "closed"
    on_agenda = {r.item_id for r in rows}
    assert all(carried[i] == 1 for i in on_agenda - {rows[0].item_id, rows[1].item_id})
    assert carried[rows[0].item_id] == carried[rows[1].item_id] == 0
    assert all(n == 0 for i, n in carried.items() if i not in on_agenda)
    assert audit_actions(db).count("meeting.close.carry_over") == 13
    with pytest.raises(meetings.MeetingError, match="closed"):
        meetings.decide(
            db, meeting_id=meeting_id, item_id=rows[3].item_id, decision="accepted", actor=EVERYONE
        )
    # The carried items head the next week's agenda again, with their count.
    next_id = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 27),
        capacity=5,
        actor=EVERYONE,
    )
    following = rows_of(db, next_id)
    assert rows[0].item_id not in {r.item_id for r in following}
    assert any(r.carry_over_count == 1 for r in following)


def test_closing_a_meeting_left_open_keeps_a_later_meetings_decision(meeting):
    db, meeting_id = meeting
    later = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 27),
        capacity=5,
        actor=EVERYONE,
    )
    item = rows_of(db, later)[0].item_id
    assert item in {r.item_id for r in rows_of(db, meeting_id)}
    meetings.decide(
        db, meeting_id=meeting_id, item_id=item, decision="not_discussed", actor=EVERYONE
    )
    meetings.decide(db, meeting_id=later, item_id=item, decision="accepted", actor=EVERYONE)
    with pytest.raises(meetings.MeetingError, match="cannot be undone here"):
        meetings.undo(db, meeting_id=meeting_id, actor=EVERYONE)
    meetings.undo(db, meeting_id=later, actor=EVERYONE)
    meetings.undo(
        db, meeting_id=meeting_id, actor=EVERYONE
    )  # fine again once the later decision is gone
    meetings.decide(db, meeting_id=later, item_id=item, decision="accepted", actor=EVERYONE)
    with pytest.raises(meetings.MeetingError, match="already accepted"):
        meetings.decide(
            db, meeting_id=meeting_id, item_id=item, decision="not_discussed", actor=EVERYONE
        )
    meetings.close_meeting(db, meeting_id=meeting_id, actor=EVERYONE)
    with db.sessions() as session:
        stored = session.get(IntelItem, item)
        assert (stored.status, stored.carry_over_count) == ("accepted", 1)


def test_results_close_the_loop_for_accepted_tasks_only(meeting):
    db, meeting_id = meeting
    rows = rows_of(db, meeting_id)
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[0].item_id, decision="accepted", actor=EVERYONE
    )
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=rows[1].item_id,
        decision="rejected",
        reason="duplicate",
        actor=EVERYONE,
    )
    accepted, rejected = outcome(db, rows[0].item_id), outcome(db, rows[1].item_id)
    meetings.record_result(
        db,
        outcome_id=accepted.id,
        result="arrest",
        result_at=date(2026, 11, 24),
        actor=EVERYONE,
    )
    stored = outcome(db, rows[0].item_id)
    assert (stored.result, stored.result_at) == ("arrest", date(2026, 11, 24))
    with pytest.raises(meetings.MeetingError, match="accepted"):
        meetings.record_result(db, outcome_id=rejected.id, result="arrest", actor=EVERYONE)
    with pytest.raises(meetings.MeetingError, match="before the meeting"):
        meetings.record_result(
            db,
            outcome_id=accepted.id,
            result="removal",
            result_at=date(2026, 11, 1),
            actor=EVERYONE,
        )
    with pytest.raises(meetings.MeetingError, match="unknown result"):
        meetings.record_result(db, outcome_id=accepted.id, result="medal", actor=EVERYONE)
    assert "outcome.result" in audit_actions(db)
    with db.sessions() as session:
        listed = meetings.accepted_awaiting_result(session)
    assert [o["result"] for o in listed] == ["arrest"]


def test_exports_csv_and_pdf_and_presenter_leaves_out_personal_fields(meeting, tmp_path):
    db, meeting_id = meeting
    rows = rows_of(db, meeting_id)
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[0].item_id, decision="accepted", actor=EVERYONE
    )
    agenda_csv = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "a.csv")
    with open(agenda_csv, encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 15 and table[0]["intel_id"] == rows[0].intel_id
    assert "summary" in table[0] and table[0]["fits"] == "yes"
    presenter = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "p.csv", presenter=True)
    header = presenter.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert not set(header) & set(meetings.PERSONAL_FIELDS)
    minutes_csv = minutes.export(db, meeting_id=meeting_id, path=tmp_path / "m.csv", kind="minutes")
    with open(minutes_csv, encoding="utf-8") as handle:
        assert next(csv.DictReader(handle))["decision"] == "accepted"
    with db.sessions() as session:
        head = audit.chain_head(session)
    assert minutes_csv.read_text(encoding="utf-8").splitlines()[-1] == f"audit chain head,{head}"
    for kind in ("agenda", "minutes"):
        pdf = minutes.export(db, meeting_id=meeting_id, path=tmp_path / f"{kind}.pdf", kind=kind)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    with pytest.raises(meetings.MeetingError, match=r"\.csv or \.pdf"):
        minutes.export(db, meeting_id=meeting_id, path=tmp_path / "x.docx")


def test_linked_items_share_a_subject_or_premises(db):
    ids = add_items(
        db,
        [
            {"intel_id": "A", "subject_ref": "S1", "postcode": "E1 1AA", "business_name": "Cafe"},
            {"intel_id": "B", "subject_ref": "S1"},
            {"intel_id": "C", "postcode": "E1 1AA", "business_name": "CAFE"},
            {"intel_id": "D", "postcode": "E1 1AA", "business_name": "Garage"},
            {"intel_id": "E"},
        ],
    )
    with db.sessions() as session:
        linked = linked_items(session, ids[0])
    assert {(o["intel_id"], o["why"]) for o in linked} == {
        ("B", "same subject"),
        ("C", "same premises"),
    }


def test_agenda_snapshot_is_kept_when_the_queue_changes(meeting):
    db, meeting_id = meeting
    before = [r.item_id for r in rows_of(db, meeting_id)]
    add_items(db, [{"intel_id": "NEW-NAT", "campaign": "NAT-CARE", "sector": "care"}])
    ranked(db)
    assert [r.item_id for r in rows_of(db, meeting_id)] == before
    with db.sessions() as session:
        assert (
            session.execute(
                select(MeetingAgendaItem).where(MeetingAgendaItem.meeting_id == meeting_id)
            )
            .scalars()
            .all()
        )


def test_cli_lists_shows_and_exports(meeting, tmp_path, capsys):
    db, meeting_id = meeting
    path = db.location
    assert cli(["--db", path, "meeting", "list", "--format", "csv"]) == 0
    assert f"{meeting_id},2026-11-20,LSE,{TEAM},open" in capsys.readouterr().out
    assert cli(["--db", path, "meeting", "show", str(meeting_id)]) == 0
    assert "accepted 0/5" in capsys.readouterr().out
    target = tmp_path / "agenda.pdf"
    assert cli(["--db", path, "meeting", "export", str(meeting_id), "agenda", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    assert cli(["--db", path, "meeting", "show", "999"]) == 2
    assert cli(["--db", path, "meeting", "list", "--region", "Atlantis"]) == 2
    assert "unknown region 'Atlantis'" in capsys.readouterr().err
    missing = tmp_path / "no-such-folder" / "agenda.csv"
    assert cli(["--db", path, "meeting", "export", str(meeting_id), "agenda", str(missing)]) == 2
    assert "cannot write it" in capsys.readouterr().err


def test_an_imported_meeting_shows_its_decisions(db):
    ids = add_items(db, [{"intel_id": "H-1"}, {"intel_id": "H-2"}])
    ranked(db)
    with db.transaction() as session:
        meeting = TaskingMeeting(
            region=REGION,
            team=TEAM,
            held_on=date(2026, 10, 1),
            status="imported",
            capacity=1,
            opened_at=datetime(2026, 10, 1),
        )
        session.add(meeting)
        session.flush()
        for item_id, decision in zip(ids, ("accepted", "not_discussed"), strict=True):
            session.add(
                TaskingOutcome(
                    item_id=item_id,
                    meeting_id=meeting.id,
                    meeting_date=date(2026, 10, 1),
                    decision=decision,
                    decided_at=datetime(2026, 10, 1),
                )
            )
        meeting_id = meeting.id
    rows = rows_of(db, meeting_id)
    assert sorted((r.intel_id, r.decision) for r in rows) == [
        ("H-1", "accepted"),
        ("H-2", "not_discussed"),
    ]
    assert [r.fits for r in rows] == [True, False]
    with db.sessions() as session:
        listed = meetings.list_meetings(session)
    assert (listed[0]["accepted"], listed[0]["not_discussed"]) == (1, 1)


def test_a_past_agenda_is_replayed_as_it_stood(meeting):
    db, meeting_id = meeting
    first = rows_of(db, meeting_id)[0]
    meetings.decide(
        db, meeting_id=meeting_id, item_id=first.item_id, decision="accepted", actor=EVERYONE
    )
    meetings.close_meeting(db, meeting_id=meeting_id, actor=EVERYONE)
    live = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 27),
        capacity=5,
        actor=EVERYONE,
    )
    assert first.item_id not in {r.item_id for r in rows_of(db, live)}
    # As of the first meeting's morning the item was still open: it is back on top.
    replay = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 20),
        capacity=5,
        as_of=datetime(2026, 11, 20, 8, 0),
        actor=EVERYONE,
    )
    assert rows_of(db, replay)[0].item_id == first.item_id
