"""Two people deciding the same agenda item: the first wins, the second is told
who decided it and when, and nothing is overwritten (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from actors import as_user
from meeting_fixtures import REGION, TEAM, standard_items
from sqlalchemy import insert, select

from triage import clock
from triage.meetings import operations as meetings
from triage.meetings.models import MeetingAgendaItem
from triage.meetings.operations import AlreadyDecided
from triage.store.models import IntelItem, TaskingMeeting, TaskingOutcome

DAY = date(2026, 11, 20)


@pytest.fixture
def meeting(db):
    """An open meeting with a few items on its agenda, written directly: the
    test is about deciding, not about making an agenda (which ranks)."""
    standard_items(db, 3)
    with db.transaction() as session:
        items = list(session.scalars(select(IntelItem.id).order_by(IntelItem.id)))
        meeting = TaskingMeeting(region=REGION, team=TEAM, held_on=DAY, status="open",
                                 opened_at=clock.now(), capacity=5)  # fmt: skip
        session.add(meeting)
        session.flush()
        session.execute(
            insert(MeetingAgendaItem),
            [{"meeting_id": meeting.id, "item_id": item, "position": n, "fits": True,
              "stale": False} for n, item in enumerate(items, 1)],
        )  # fmt: skip
        meeting_id = meeting.id
    return db, meeting_id, items[0]


def outcomes(db, item_id):
    with db.sessions() as session:
        rows = session.execute(select(TaskingOutcome).where(TaskingOutcome.item_id == item_id))
        return [(o.decision, o.decided_by) for o in rows.scalars()]


def test_the_second_person_is_told_who_decided_first_and_nothing_changes(meeting):
    db, meeting_id, item = meeting
    meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="accepted",
                    actor=as_user("ana"))  # fmt: skip
    with pytest.raises(AlreadyDecided, match=r"already decided by ana at \d\d:\d\d:\d\d on "):
        meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="rejected",
                        reason="duplicate", actor=as_user("ben"))  # fmt: skip
    assert outcomes(db, item) == [("accepted", "ana")]


def test_one_changes_their_own_decision_unless_it_changed_since_they_saw_it(meeting):
    db, meeting_id, item = meeting
    ana = as_user("ana")
    meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="accepted", actor=ana)
    meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="not_discussed", actor=ana)
    assert outcomes(db, item) == [("not_discussed", "ana")]
    with pytest.raises(AlreadyDecided):  # they saw it undecided: someone decided meanwhile
        meetings.decide(db, meeting_id=meeting_id, item_id=item, decision="accepted",
                        actor=ana, seen=None)  # fmt: skip
    assert outcomes(db, item) == [("not_discussed", "ana")]


def test_two_people_deciding_at_once_one_wins(meeting):
    db, meeting_id, item = meeting
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def decide(name: str, decision: str) -> None:
        start.wait()
        try:
            meetings.decide(db, meeting_id=meeting_id, item_id=item, decision=decision,
                            actor=as_user(name), seen=None)  # fmt: skip
            results[name] = "won"
        except AlreadyDecided as error:
            results[name] = str(error)

    threads = [threading.Thread(target=decide, args=("ana", "accepted")),
               threading.Thread(target=decide, args=("ben", "not_discussed"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = [name for name, result in results.items() if result == "won"]
    assert len(winner) == 1
    loser = "ben" if winner == ["ana"] else "ana"
    assert f"already decided by {winner[0]}" in results[loser]
    assert [who for _d, who in outcomes(db, item)] == winner
