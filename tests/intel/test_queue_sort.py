"""Sorting the intelligence queue by a column (``ranking.queue_ids(order_by=...)``):
every sortable key against a sort done here in Python, ties in rank order,
blanks last, the rank of each item in its filtered queue, and only known keys."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from triage.intel import ranking
from triage.intel.models import IntelRank
from triage.store.models import IntelItem

# key -> the stored column the Python reference sorts by
COLUMNS = {
    "bucket": IntelRank.bucket,
    "score": IntelRank.score,
    "age_days": IntelRank.age_days,
    "received_at": IntelItem.received_at,
    "intel_id": IntelItem.intel_id,
    "region": IntelItem.region,
    "team": IntelItem.team,
    "status": IntelItem.status,
    "carry_over_count": IntelItem.carry_over_count,
    "harm_score": IntelRank.harm_score,
}


@pytest.fixture
def demo(tmp_path, new_database_file):
    from triage.demo.generator import create_demo_database
    from triage.store.db import open_database

    create_demo_database(new_database_file(tmp_path / "demo.sqlite"), intel=400, em=20)
    database = open_database(tmp_path / "demo.sqlite")
    ranking.refresh(database)
    # Some harm scores (a model's, as far as the queue can tell), some blank,
    # and two items with the same age: sorts must handle blanks and ties.
    with database.transaction() as session:
        ids = session.scalars(select(IntelRank.item_id).order_by(IntelRank.item_id)).all()
        for n, item_id in enumerate(ids[::3]):
            session.execute(
                update(IntelRank)
                .where(IntelRank.item_id == item_id)
                .values(harm_score=(n * 37 % 100) / 100)
            )
    yield database
    database.close()


def rank_order(session, *conditions, weight: float = 0.0) -> list[int]:
    """The queue in rank order, worked out here rather than by ``queue_ids``."""
    return list(
        session.scalars(
            select(IntelRank.item_id)
            .join(IntelItem, IntelItem.id == IntelRank.item_id)
            .where(*conditions)
            .order_by(*ranking._order(weight))
        )
    )


def sorted_here(session, ranked: list[int], key: str, descending: bool) -> list[int]:
    """``ranked`` sorted by ``key``: Python's sort is stable (reversed too), so
    ties stay in rank order; blanks go last in either direction."""
    values = dict(
        session.execute(
            select(IntelItem.id, COLUMNS[key]).join(IntelRank, IntelRank.item_id == IntelItem.id)
        ).all()
    )
    present = [i for i in ranked if values[i] is not None]
    blank = [i for i in ranked if values[i] is None]
    return sorted(present, key=lambda i: values[i], reverse=descending) + blank


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_every_sort_key_orders_by_its_column_then_by_rank(demo, descending):
    with demo.transaction() as session:
        ranked = rank_order(session)
        assert ranking.queue_ids(session, include_decided=True) == ranked
        for key in COLUMNS:
            expected = sorted_here(session, ranked, key, descending)
            got = ranking.queue_ids(
                session, include_decided=True, order_by=key, descending=descending
            )
            assert got == expected, key
            # A first page is the start of the whole list.
            assert (
                ranking.queue_ids(
                    session, include_decided=True, order_by=key, descending=descending, limit=25
                )
                == expected[:25]
            ), key


def test_ties_keep_the_rank_order(demo):
    with demo.transaction() as session:
        ranked = rank_order(session, IntelItem.status == "open")
        by_age = ranking.queue_ids(session, order_by="age_days", descending=True)
        ages = dict(session.execute(select(IntelRank.item_id, IntelRank.age_days)).all())
    assert sorted(ages[i] for i in by_age) == [ages[i] for i in reversed(by_age)]
    # Within each age the higher-ranked item comes first (and there are ties to test).
    same_age = [[i for i in by_age if ages[i] == age] for age in {ages[i] for i in by_age}]
    assert any(len(group) > 1 for group in same_age)
    for group in same_age:
        assert group == sorted(group, key=ranked.index)


def test_sort_keeps_the_filters_and_ranks_within_the_filtered_queue(demo):
    with demo.transaction() as session:
        filtered = rank_order(
            session, IntelItem.region == "LSE", IntelItem.status == "open", IntelRank.bucket >= 5
        )
        expected = sorted_here(session, filtered, "score", True)
        query = {"region": "LSE", "buckets": [5, 6], "order_by": "score", "descending": True}
        assert ranking.queue_ids(session, **query) == expected
        pairs = ranking.queue_ranks(session, **query)
        assert ranking.queue_ranks(session, **query, limit=10) == pairs[:10]
        # A search keeps the sort too (SQLite's own plan, not the position walk).
        searched = ranking.queue_ids(session, text="LSE", order_by="intel_id")
        assert searched == sorted(searched, key=lambda i: session.get(IntelItem, i).intel_id)
    assert [item_id for item_id, _rank in pairs] == expected
    # The rank is the place in the filtered queue's rank order, not the row.
    assert {item_id: rank for item_id, rank in pairs} == {
        item_id: n for n, item_id in enumerate(filtered, 1)
    }
    assert [rank for _item_id, rank in pairs] != list(range(1, len(pairs) + 1))


def test_rank_key_is_the_rank_order_and_its_reverse(demo):
    with demo.transaction() as session:
        ranked = rank_order(session, IntelItem.status == "open")
        assert ranking.queue_ids(session, order_by="rank") == ranked
        assert ranking.queue_ids(session, order_by="rank", descending=True) == ranked[::-1]
        assert ranking.queue_ranks(session) == [(i, n) for n, i in enumerate(ranked, 1)]


def test_sorting_after_the_model_weight_changed_uses_the_live_order(demo):
    # Stored positions are for weight 0; with another weight the queue sorts live.
    with demo.transaction() as session:
        ranked = rank_order(session, IntelItem.status == "open", weight=20.0)
        assert ranking.queue_ids(session, model_weight=20.0) == ranked
        by_team = ranking.queue_ids(session, order_by="team", model_weight=20.0)
        assert by_team == sorted_here(session, ranked, "team", False)
        assert dict(ranking.queue_ranks(session, order_by="team", model_weight=20.0)) == {
            item_id: n for n, item_id in enumerate(ranked, 1)
        }


@pytest.mark.parametrize("key", ["summary", "flags", "score; DROP TABLE intel_item", ""])
def test_only_known_keys_reach_the_sql(demo, key):
    with demo.transaction() as session, pytest.raises(ValueError, match="cannot sort"):
        ranking.queue_ids(session, order_by=key)
