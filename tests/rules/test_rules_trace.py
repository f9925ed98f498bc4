"""The single-item trace (Python) and the batch evaluator (SQL) always agree."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from triage import vocab
from triage.demo import generator as demo
from triage.intel import ranking
from triage.intel.models import IntelRank
from triage.rules import trace
from triage.store.models import IntelItem

NOW = datetime(2026, 11, 20, 9, 0)


def maybe(strategy):
    return st.none() | strategy


moments = st.integers(-5 * 86400, 400 * 86400).flatmap(
    lambda s: st.integers(0, 999_999).map(lambda us: NOW - timedelta(seconds=s, microseconds=us))
)

items = st.fixed_dictionaries(
    {
        "received_at": moments,
        "pass_hours": maybe(st.sampled_from([0, 47.9, 48, 48.0003, 72])),
        "recheck_days": maybe(st.integers(-3, 200)),
        "region": st.sampled_from(["LSE", "NMWSW", "SNI"]),
        "campaign": maybe(
            st.sampled_from(
                ["NAT-CARE", "LOC-LSE-CARWASH", "LOC-SNI-AGRI", "LOC-NMWSW-NAILBAR", "X"]
            )
        ),
        "sector": maybe(
            st.sampled_from(
                [
                    "construction",
                    "care",
                    "catering",
                    "car_wash",
                    "nail_bar",
                    "agriculture",
                    "retail",
                    "",
                ]
            )
        ),
        "allegation": maybe(st.sampled_from(vocab.ALLEGATIONS)),
        "business_name": maybe(st.sampled_from(["Acme", " acme ", "Zed", "  ", "Ünïcode"])),
        "postcode": maybe(st.sampled_from(["E1 6AN", "SW1A 1AA"])),
        "persons_estimated": maybe(st.integers(0, 12)),
        "harm_flags": maybe(
            st.sets(st.sampled_from(vocab.HARM_FLAGS), max_size=3).map(vocab.join_list)
        ),
        "subject_named": maybe(st.booleans()),
        "subject_ref": maybe(st.sampled_from(["P1", "P2", ""])),
        "whereabouts": maybe(st.sampled_from(vocab.WHEREABOUTS)),
        "nationality": maybe(st.sampled_from(["ALB", "CHN", "ERI", "USA"])),
        "grade_source": maybe(st.integers(1, 3)),
        "grade_intel": maybe(st.sampled_from("ABCDE")),
        "em_case_id": maybe(st.just("EM-1")),
    }
)


def stored_row(n: int, fields: dict) -> dict:
    row = dict(fields)
    hours, days = row.pop("pass_hours"), row.pop("recheck_days")
    row["passed_at"] = None if hours is None else row["received_at"] + timedelta(hours=hours)
    row["rechecked_at"] = None if days is None else NOW - timedelta(days=days)
    row.update(intel_id=f"H{n}", status="open", carry_over_count=0, created_at=NOW, updated_at=NOW)
    return row


def assert_batch_matches_trace(db, as_of: datetime) -> int:
    """Compare every stored rank with the trace of the same item; return how many."""
    pack = ranking.pack_in_force()
    with db.transaction() as session:
        stored = session.scalars(select(IntelRank)).all()
        for rank in stored:
            item = trace.load_item(session, rank.item_id, as_of)
            found = trace.Evaluator(pack, as_of).evaluate(item)
            where = (item["intel_id"], item["received_at"], as_of)
            assert (found["bucket"], found["bucket_rule"]) == (rank.bucket, rank.bucket_rule), where
            assert abs(found["score"] - rank.score) < 1e-9, (found["score"], rank.score, where)
            assert found["flags"] == vocab.split_list(rank.flags)
            assert (found["stale"], found["age_days"]) == (rank.stale, rank.age_days)
    return len(stored)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(items, min_size=1, max_size=10), shift=st.integers(-40, 40))
def test_batch_and_trace_agree_on_generated_items(db, batch, shift):
    with db.transaction() as session:
        session.execute(delete(IntelRank))
        session.execute(delete(IntelItem))
        session.execute(insert(IntelItem), [stored_row(n, f) for n, f in enumerate(batch)])
    as_of = NOW + timedelta(days=shift, hours=shift % 7)
    ranking.refresh(db, as_of=as_of)
    assert assert_batch_matches_trace(db, as_of) == len(batch)


def test_batch_and_trace_agree_on_a_demo_database(db):
    demo.fill_database(db, seed=11, intel=1200, em=30, end=date(2026, 11, 20))
    ranking.refresh(db, as_of=NOW)
    assert assert_batch_matches_trace(db, NOW) >= 1200
    # The demo generator aims items at buckets; the rules put them there.
    with db.transaction() as session:
        pairs = session.execute(
            select(IntelItem.upstream_bucket, IntelRank.bucket)
            .join(IntelRank, IntelRank.item_id == IntelItem.id)
            .where(IntelItem.upstream_bucket.is_not(None))
        ).all()
    assert pairs and all(upstream == computed for upstream, computed in pairs)


def test_explain_agrees_with_stored_rank_and_is_marked_so(db):
    demo.fill_database(db, seed=5, intel=200, em=0, end=date(2026, 11, 20))
    ranking.refresh(db)
    with db.transaction() as session:
        first = ranking.queue_ids(session, limit=1)[0]
    found = ranking.explain(db, first)
    assert found["stored"]["same_as_trace"]
    # Ranked a week ago: explained as of then, unless asked otherwise.
    ranking.refresh(db, as_of=NOW - timedelta(days=7))
    assert ranking.explain(db, first)["as_of"] == NOW - timedelta(days=7)
    later = ranking.explain(db, first, as_of=NOW)
    assert later["as_of"] == NOW and not later["stored"]["same_as_trace"]
    assert sum(f["points"] for f in found["priority"]) == found["score"]
    assert [r["id"] for r in found["bucket_rules"] if r["first_match"]] == [found["bucket_rule"]]


def test_batch_and_trace_agree_at_whole_second_boundaries(db):
    """The SQL compares stored times with whole-second instants (stale age,
    re-check window, late pass-on): each side of each boundary, with and without
    fractions of a second, ranks as the trace says."""
    pack = ranking.pack_in_force()
    limit = next(f.stale_after_days for f in pack.factors if f.type == "freshness")
    hours = next(f.hours for f in pack.factors if f.type == "pass_on")
    as_of = NOW
    oldest_fresh = as_of - timedelta(days=limit + 1) + timedelta(seconds=1)
    near = [timedelta(seconds=s, microseconds=us) for s in (-1, 0, 1) for us in (0, 999_999)]
    base = {"region": "LSE", "allegation": "fno"}
    rows = [dict(base, received_at=oldest_fresh + d) for d in near]
    rows += [  # re-checked at the edges of the window, and just after the ranking instant
        dict(base, received_at=as_of - timedelta(days=200), rechecked_at=moment + d)
        for moment in (oldest_fresh, as_of + timedelta(seconds=1))
        for d in near
    ]
    received = as_of - timedelta(days=3, microseconds=500_000)
    rows += [  # passed on at the edge of the target
        dict(base, received_at=received, passed_at=received + timedelta(hours=hours) + d)
        for d in near + [timedelta(microseconds=500_000)]
    ]
    with db.transaction() as session:
        session.execute(delete(IntelRank))
        session.execute(delete(IntelItem))
        session.execute(
            insert(IntelItem),
            [
                dict(row, intel_id=f"E{n}", status="open", carry_over_count=0)
                | {"created_at": NOW, "updated_at": NOW}
                for n, row in enumerate(rows)
            ],
        )
    ranking.refresh(db, as_of=as_of)
    assert assert_batch_matches_trace(db, as_of) == len(rows)
    with db.transaction() as session:
        found = session.execute(
            select(IntelItem.intel_id, IntelRank.stale, IntelRank.flags).join(IntelRank)
        ).all()
    stale = {intel_id: value for intel_id, value, _ in found}
    flags = {intel_id: value or "" for intel_id, _, value in found}
    # Received in the second before the oldest fresh one: stale; in it or after: not.
    assert [stale[f"E{n}"] for n in range(6)] == [True, True, False, False, False, False]
    # Re-checked from the oldest fresh second up to the ranking instant: not stale.
    assert [stale[f"E{n}"] for n in range(6, 18)] == [True] * 2 + [False] * 6 + [True] * 4
    late = ["late_pass" in flags[f"E{n}"] for n in range(18, 25)]
    # Late when the whole seconds are more than the target apart (received at
    # .5 s: passed on under a second over the target is late when its whole
    # second is the next one).
    assert late == [False] * 3 + [True] * 4


def test_flag_texts_by_combination_and_flag_by_flag_agree(db, monkeypatch):
    """Both ways of writing an item's flags (one CASE over every combination
    of the pack's flags, or one flag at a time for a pack with many) give the
    trace's flags."""
    from triage.rules import engine

    demo.fill_database(db, seed=5, intel=400, em=10, end=date(2026, 11, 20))
    stored = []
    for up_to in (engine.FLAG_TEXTS_UP_TO, 0):
        monkeypatch.setattr(engine, "FLAG_TEXTS_UP_TO", up_to)
        ranking.refresh(db, as_of=NOW)
        assert assert_batch_matches_trace(db, NOW) >= 400
        with db.transaction() as session:
            stored.append(session.execute(select(IntelRank.item_id, IntelRank.flags)).all())
    assert sorted(stored[0]) == sorted(stored[1])
    assert len({flags for _, flags in stored[0]}) > 3  # several combinations, and none
    assert None in {flags for _, flags in stored[0]}
