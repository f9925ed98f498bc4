"""A whole tasking meeting from the command line (``triage meeting start /
decide / undo / close``), with the same core operations as the app, and the
close preview both front ends show before closing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from sqlalchemy import func, select

from triage.cli.main import main as cli
from triage.meetings import operations as meetings
from triage.store.models import IntelItem, TaskingMeeting, TaskingOutcome


@pytest.fixture
def path(db) -> str:
    standard_items(db, 20)
    ranked(db)
    return db.location


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def decisions(db, meeting_id: int) -> dict[str, str]:
    with db.sessions() as session:
        found = session.execute(
            select(IntelItem.intel_id, TaskingOutcome.decision)
            .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
            .where(TaskingOutcome.meeting_id == meeting_id)
        ).all()
    return dict(found)


def test_a_whole_meeting_from_the_command_line(db, path, capsys):
    status, out, _ = run(
        capsys, "--db", path, "meeting", "start", "--region", REGION, "--team", TEAM,
        "--date", "2026-11-20", "--capacity", "3", "--attendee", "Ana", "--attendee", "Ben Li",
        "--format", "json",
    )  # fmt: skip
    assert status == 0
    meeting_id = json.loads(out)["meeting_id"]
    with db.sessions() as session:
        stored = session.get(TaskingMeeting, meeting_id)
        assert (stored.region, stored.team, stored.held_on, stored.capacity) == (
            REGION, TEAM, date(2026, 11, 20), 3,
        )  # fmt: skip
        assert stored.attendees.strip(";").split(";") == ["Ana", "Ben Li"]
        agenda = [row.intel_id for row in meetings.agenda(session, meeting_id)]
    first, second, third = agenda[:3]
    base = ["--db", path, "meeting"]
    assert run(capsys, *base, "decide", str(meeting_id), first, "accept")[0] == 0
    status, out, _ = run(
        capsys,
        *base,
        "decide",
        str(meeting_id),
        second,
        "reject",
        "--reason",
        "duplicate",
        "--json",
    )
    assert status == 0 and json.loads(out)["decision"] == "rejected"
    assert run(capsys, *base, "decide", str(meeting_id), third, "not-discussed")[0] == 0
    assert decisions(db, meeting_id) == {
        first: "accepted",
        second: "rejected",
        third: "not_discussed",
    }
    status, out, _ = run(capsys, *base, "undo", str(meeting_id))
    assert status == 0 and third in out
    assert third not in decisions(db, meeting_id)

    # Asked first (--dry-run): the count the app's close dialog shows too.
    undecided = len(agenda) - 2
    status, out, _ = run(capsys, *base, "close", str(meeting_id), "--dry-run")
    assert status == 0
    assert f"{undecided} undecided agenda items will be recorded as not discussed" in out
    with db.sessions() as session:
        assert session.get(TaskingMeeting, meeting_id).status == "open"
    status, out, _ = run(capsys, *base, "close", str(meeting_id), "--format", "json")
    result = json.loads(out)
    assert status == 0 and result["closed"] is True
    assert (result["undecided"], result["carried_over"], result["accepted"]) == (undecided,) * 2 + (
        1,
    )
    with db.sessions() as session:
        assert session.get(TaskingMeeting, meeting_id).status == "closed"
        carried = session.execute(
            select(func.count()).where(IntelItem.carry_over_count == 1)
        ).scalar_one()
    assert carried == undecided

    # Deciding in a closed meeting, or closing it again: exit 2, saying why.
    status, _, err = run(capsys, *base, "decide", str(meeting_id), agenda[4], "accept")
    assert status == 2 and "closed" in err
    assert run(capsys, *base, "close", str(meeting_id))[0] == 2


def test_meeting_commands_refuse_unknown_meetings_items_and_teams(path, capsys):
    base = ["--db", path, "meeting"]
    status, out, _ = run(
        capsys, *base, "start", "--region", REGION, "--date", "2026-11-20", "--capacity", "2"
    )
    meeting_id = out.strip()
    assert status == 0 and meeting_id.isdigit()
    cases = [
        (["decide", "999", "INT-0001", "accept"], "no meeting with id 999"),
        (["decide", meeting_id, "INT-NOPE", "accept"], "no intelligence item 'INT-NOPE'"),
        (["decide", meeting_id, "INT-0001", "reject"], "needs a reason"),
        (["decide", meeting_id, "INT-0001", "reject", "--reason", "vibes"], "unknown reject"),
        (["undo", "999"], "no meeting with id 999"),
        (["close", "999"], "no meeting with id 999"),
        (
            [
                "start",
                "--region",
                REGION,
                "--team",
                "Atlantis",
                "--date",
                "2026-11-20",
                "--capacity",
                "2",
            ],
            "has no team 'Atlantis'",
        ),  # fmt: skip
        (
            ["start", "--region", "Atlantis", "--date", "2026-11-20", "--capacity", "2"],
            "unknown region",
        ),
    ]
    for argv, message in cases:
        status, _, err = run(capsys, *base, *argv)
        assert (status, message in err) == (2, True), argv
    status, out, _ = run(capsys, *base, "undo", meeting_id)
    assert status == 0 and "Nothing to undo" in out
    with pytest.raises(SystemExit) as usage:  # argparse: a date that is not one
        cli([*base, "start", "--region", REGION, "--date", "20/11/2026", "--capacity", "2"])
    assert usage.value.code == 2


def test_close_preview_counts_undecided_and_carried_over_items(db, path):
    meeting_id = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 20),
        capacity=3,
        actor=EVERYONE,
    )
    with db.sessions() as session:
        rows = meetings.agenda(session, meeting_id)
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[0].item_id, decision="accepted", actor=EVERYONE
    )
    meetings.decide(
        db, meeting_id=meeting_id, item_id=rows[1].item_id, decision="not_discussed", actor=EVERYONE
    )
    with db.sessions() as session:
        preview = meetings.close_preview(session, meeting_id)
        # One line re-read after a decision, as the app does.
        (line,) = meetings.agenda(session, meeting_id, item_ids=[rows[1].item_id])
    assert line.decision == "not_discussed" and line.position == rows[1].position
    assert (preview.undecided, preview.carried_over) == (len(rows) - 2, len(rows) - 1)
    assert "including 1 already marked not discussed" in preview.question()
    result = meetings.close_meeting(db, meeting_id=meeting_id, actor=EVERYONE)
    assert result.not_discussed == preview.carried_over
    with db.sessions() as session:
        carried = session.execute(
            select(func.count()).where(IntelItem.carry_over_count == 1)
        ).scalar_one()
        with pytest.raises(meetings.MeetingError, match="closed"):
            meetings.close_preview(session, meeting_id)
    assert carried == preview.carried_over
