"""Re-ranking only what changed gives the ranks a full re-rank gives at the
same instant: new items, items whose inputs changed, deleted items, and the
items sharing a subject or premises with any of them (their corroboration
counts move); a decision alone re-ranks nothing."""

from __future__ import annotations

from datetime import date

import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, add_items
from sqlalchemy import delete, func, select, update

from triage.intel import ranking
from triage.intel.models import IntelRank
from triage.meetings import operations as meetings
from triage.store.db import open_database
from triage.store.models import IntelItem, TaskingOutcome

STORED = (
    IntelRank.item_id,
    IntelRank.bucket,
    IntelRank.bucket_rule,
    IntelRank.score,
    IntelRank.flags,
    IntelRank.stale,
    IntelRank.age_days,
    IntelRank.harm_score,
    IntelRank.queue_key,
    IntelRank.rules_version,
)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory, new_database_file):
    from triage.demo.generator import create_demo_database

    path = tmp_path_factory.mktemp("incremental") / "demo.sqlite"
    create_demo_database(new_database_file(path), intel=400, em=20)
    return path


@pytest.fixture
def demo(demo_file, tmp_path):
    copy = tmp_path / "demo.sqlite"
    copy.write_bytes(demo_file.read_bytes())
    db = open_database(copy)
    ranking.refresh(db)
    yield db
    db.close()


def stored(db) -> list[tuple]:
    with db.transaction() as session:
        return [tuple(row) for row in session.execute(select(*STORED).order_by(IntelRank.item_id))]


def queue(db) -> list[int]:
    with db.transaction() as session:
        return ranking.queue_ids(session, include_decided=True)


def test_changes_re_rank_only_what_they_touch_and_match_a_full_re_rank(demo):
    with demo.transaction() as session:
        subject, postcode, business = session.execute(
            select(IntelItem.subject_ref, IntelItem.postcode, IntelItem.business_name).where(
                IntelItem.subject_ref.is_not(None),
                IntelItem.postcode.is_not(None),
                IntelItem.business_name.is_not(None),
            )
        ).first()
        never_discussed = (
            ~select(TaskingOutcome.id).where(TaskingOutcome.item_id == IntelItem.id).exists()
        )
        # Two subjects of two or more items, one of them never discussed.
        moved, dropped = session.scalars(
            select(func.min(IntelItem.id))
            .where(
                never_discussed,
                IntelItem.subject_ref.is_not(None),
                IntelItem.subject_ref != subject,
            )
            .group_by(IntelItem.subject_ref)
            .having(func.count() > 1)
            .limit(2)
        ).all()
        groups = select(IntelItem.subject_ref).where(IntelItem.id.in_([moved, dropped]))
        # Without postcodes only their subjects link those items.
        session.execute(
            update(IntelItem).where(IntelItem.subject_ref.in_(groups)).values(postcode=None)
        )
    ranking.refresh(demo)
    with demo.transaction() as session:
        # An item's subject changes: its old group loses a corroboration.
        session.execute(update(IntelItem).where(IntelItem.id == moved).values(subject_ref="NEW-S"))
        session.execute(
            update(IntelItem)
            .where(IntelItem.id == moved + 1)
            .values(harm_flags=";weapon;", allegation="fno")
        )
        session.execute(delete(IntelItem).where(IntelItem.id == dropped))
    # New items: one on a known subject, one at a known postcode, one alone.
    add_items(
        demo,
        [
            {"intel_id": "N-1", "subject_ref": subject},
            {"intel_id": "N-2", "postcode": postcode, "business_name": business},
            {"intel_id": "N-3", "allegation": "other"},
        ],
    )
    run = ranking.ensure_current(demo)
    assert run is not None and 3 <= run.items < 100
    assert ranking.is_current(demo)
    incremental, order = stored(demo), queue(demo)
    assert ranking.refresh(demo).items == len(incremental)
    assert stored(demo) == incremental
    assert queue(demo) == order


def test_a_decision_re_ranks_nothing(demo):
    add_items(demo, [{"intel_id": "N-9", "allegation": "other"}])
    ranking.ensure_current(demo)
    meeting_id = meetings.start_meeting(
        demo, region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=2, actor=EVERYONE
    )
    with demo.sessions() as session:
        first = meetings.agenda(session, meeting_id)[0]
    meetings.decide(
        demo, meeting_id=meeting_id, item_id=first.item_id, decision="accepted", actor=EVERYONE
    )
    assert not ranking.is_current(demo)
    run = ranking.ensure_current(demo)
    assert run is not None and run.items == 0
    assert ranking.is_current(demo)


def test_a_new_day_or_weight_ranks_everything(demo, monkeypatch):
    total = len(stored(demo))
    run = ranking.ensure_current(demo, model_weight=0.5)
    assert run is not None and run.items == total
    monkeypatch.setenv("TRIAGE_NOW", "2026-11-21T09:00:00")
    run = ranking.ensure_current(demo, model_weight=0.5)
    assert run is not None and run.items == total
