"""Ranking: buckets, points within a bucket, queues, agenda, replay and the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from triage.cli.main import main
from triage.intel import ranking, replay
from triage.intel.models import IntelRank
from triage.rules.pack import default_folder, load_pack
from triage.store.models import IntelItem, TaskingOutcome

NOW = datetime(2026, 11, 20, 9, 0)  # TRIAGE_NOW in conftest
_ids = count(1)


def add_item(db, **fields: Any) -> int:
    """Insert one item (fields as stored) and return its id."""
    n = next(_ids)
    row = {
        "intel_id": f"T{n:05d}",
        "received_at": NOW - timedelta(days=10),
        "region": "LSE",
        "team": "London North",
        "status": "open",
        "carry_over_count": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(fields)
    with db.transaction() as session:
        return session.execute(insert(IntelItem).returning(IntelItem.id), [row]).scalar_one()


def ranked(db, item_id: int, as_of: datetime = NOW) -> IntelRank:
    ranking.refresh(db, as_of=as_of)
    with db.transaction() as session:
        return session.get(IntelRank, item_id)


BUCKETS = [
    ({"campaign": "NAT-CONSTRUCTION"}, 1, "B1-campaign"),
    (
        {"sector": "catering", "allegation": "illegal_working", "business_name": "Café Uno"},
        1,
        "B1-sector",
    ),
    ({"campaign": "LOC-LSE-CARWASH"}, 2, "B2-campaign"),
    ({"sector": "car_wash", "business_name": "Suds Ltd"}, 2, "B2-sector"),
    ({"business_name": "Box Factory", "persons_estimated": 12}, 3, "B3-business"),
    ({"harm_flags": ";weapon;"}, 4, "B4-threat-flags"),
    ({"harm_flags": ";organised_crime;"}, 4, "B4-threat-flags"),
    ({"allegation": "fno"}, 4, "B4-fno"),
    ({"subject_named": True, "allegation": "sham_marriage"}, 5, "B5-named-priority"),
    ({"summary": "someone said something"}, 6, "B6-rest"),
    # Near misses fall through to the next rule that holds.
    ({"campaign": "LOC-SNI-AGRI"}, 6, "B6-rest"),  # another region's local campaign
    ({"sector": "care", "allegation": "overstayer", "business_name": "Home"}, 6, "B6-rest"),
    ({"business_name": "Shop", "persons_estimated": 4}, 6, "B6-rest"),
    ({"subject_named": False, "allegation": "overstayer"}, 6, "B6-rest"),
    ({"subject_named": True, "allegation": "other"}, 6, "B6-rest"),
    ({"harm_flags": ";exploitation;child_at_risk;"}, 6, "B6-rest"),  # harm *to*: not bucket 4
]


@pytest.mark.parametrize(("fields", "bucket", "rule"), BUCKETS)
def test_each_bucket(db, fields, bucket, rule):
    item = add_item(db, **fields)
    rank = ranked(db, item)
    assert (rank.bucket, rank.bucket_rule) == (bucket, rule)


def test_campaign_outside_its_dates_does_not_count(db, tmp_path):
    folder = tmp_path / "pack"
    shutil.copytree(default_folder(), folder)
    text = (folder / "campaigns.toml").read_text()
    (folder / "campaigns.toml").write_text(
        text.replace("starts = 2019-01-01", "starts = 2027-01-01", 1)
    )
    item = add_item(db, campaign="NAT-CONSTRUCTION")
    ranking.refresh(db, pack=load_pack(folder))
    with db.transaction() as session:
        assert session.get(IntelRank, item).bucket == 6
    ranking.refresh(db, as_of=datetime(2027, 3, 1), pack=load_pack(folder))
    with db.transaction() as session:
        assert session.get(IntelRank, item).bucket == 1


def test_flags(db):
    threat = add_item(db, harm_flags=";fno;", em_case_id="EM-1")
    victim = add_item(db, allegation="modern_slavery")
    late = add_item(db, passed_at=NOW - timedelta(days=10) + timedelta(hours=48, seconds=1))
    on_time = add_item(db, passed_at=NOW - timedelta(days=10) + timedelta(hours=48))
    old = add_item(db, received_at=NOW - timedelta(days=91))
    rechecked = add_item(
        db, received_at=NOW - timedelta(days=91), rechecked_at=NOW - timedelta(days=2)
    )
    ranking.refresh(db)
    with db.transaction() as session:
        flags = {
            i: ranking.rows(session, [i])[0]["flags"]
            for i in (threat, victim, late, on_time, old, rechecked)
        }
        assert session.get(IntelRank, old).stale and not session.get(IntelRank, rechecked).stale
    assert flags[threat] == ["em_bridge", "police_coordination"]
    assert flags[victim] == ["safeguarding"]
    assert flags[late] == ["late_pass"]
    assert flags[on_time] == []
    assert flags[old] == ["stale"]
    assert flags[rechecked] == []


BASE = {
    "subject_named": True,
    "allegation": "overstayer",
    "whereabouts": "unknown",
    "nationality": "ERI",
    "grade_source": 2,
    "grade_intel": "C",
    "harm_flags": ";drugs;",
}

MONOTONE = [
    ("whereabouts known above unknown", {"whereabouts": "known"}, {}),
    ("last known above unknown", {"whereabouts": "last_known"}, {}),
    ("returns arrangement above none", {"nationality": "ALB"}, {}),
    ("limited arrangement above none", {"nationality": "CHN"}, {}),
    ("more harm by above less", {"harm_flags": ";drugs;weapon;"}, {"harm_flags": ";weapon;"}),
    ("harm to the individual above none", {"harm_flags": ";drugs;vulnerable_adult;"}, {}),
    ("fresher above staler", {"received_at": NOW - timedelta(days=3)}, {}),
    ("better source above worse", {"grade_source": 1}, {}),
    ("better assessment above worse", {"grade_intel": "B"}, {}),
]


@pytest.mark.parametrize(("label", "better", "worse"), MONOTONE, ids=[m[0] for m in MONOTONE])
def test_monotonic_all_else_equal(db, label, better, worse):
    high = add_item(db, **{**BASE, **better})
    low = add_item(db, **{**BASE, **worse})
    ranking.refresh(db)
    with db.transaction() as session:
        a, b = session.get(IntelRank, high), session.get(IntelRank, low)
        assert a.bucket == b.bucket
        assert a.score > b.score
        assert ranking.queue_ids(session)[:2] == [high, low]


def test_corroborated_above_single(db):
    corroborated = add_item(db, **BASE, subject_ref="P-7")
    add_item(db, subject_ref="P-7", received_at=NOW - timedelta(days=200))
    single = add_item(db, **BASE, subject_ref="P-8")
    # Premises: same postcode and business name.
    shop = add_item(db, **BASE, postcode="E1 6AN", business_name="Kwik Shop")
    add_item(db, postcode="E1 6AN", business_name="Kwik Shop")
    other_shop = add_item(db, **BASE, postcode="E1 6AN", business_name="Other")
    # Received after the ranking instant: no corroboration yet.
    future = add_item(db, **BASE, subject_ref="P-9")
    add_item(db, subject_ref="P-9", received_at=NOW + timedelta(days=1))
    ranking.refresh(db)
    with db.transaction() as session:
        score = {
            i: session.get(IntelRank, i).score
            for i in (corroborated, single, shop, other_shop, future)
        }
        flags = ranking.rows(session, [corroborated])[0]["flags"]
    assert score[corroborated] > score[single] == score[future]
    assert score[shop] > score[other_shop]
    assert "corroborated" in flags


FULL = {
    **BASE,
    "whereabouts": "known",
    "nationality": "ALB",
    "subject_ref": "P-1",
    "postcode": "E1 6AN",
    "business_name": "Kwik Shop",
    "persons_estimated": 3,
    "sector": "retail",
    "campaign": "NONE",
    "passed_at": NOW - timedelta(days=9),
    "em_case_id": "EM-9",
    "source_type": "public",
    "grade_handling": "P",
}


@pytest.mark.parametrize("name", sorted(set(FULL) - {"passed_at"}))
def test_missing_input_never_raises_rank(db, name):
    complete = add_item(db, **FULL)
    gap = add_item(db, **{**FULL, name: None})
    ranking.refresh(db)
    with db.transaction() as session:
        a, b = session.get(IntelRank, complete), session.get(IntelRank, gap)
    assert (b.bucket, -b.score) >= (a.bucket, -a.score)


def test_queue_filters_and_order(db):
    first = add_item(db, campaign="NAT-CARE", team="London South")
    second = add_item(db, harm_flags=";weapon;", received_at=NOW - timedelta(days=40))
    third = add_item(db, harm_flags=";weapon;", received_at=NOW - timedelta(days=50))
    elsewhere = add_item(db, campaign="NAT-CARE", region="SNI", team="Scotland")
    done = add_item(db, campaign="NAT-CARE", status="accepted")
    ranking.refresh(db)
    with db.transaction() as session:
        assert ranking.queue_ids(session, region="LSE") == [first, second, third]
        assert ranking.queue_ids(session, region="LSE", team="London South") == [first]
        assert ranking.queue_ids(session, buckets=[4]) == [second, third]
        assert ranking.queue_ids(session, max_age_days=45) == [first, elsewhere, second]
        assert ranking.queue_ids(session, statuses=["accepted"]) == [done]
        assert done in ranking.queue_ids(session, include_decided=True)
        assert ranking.queue_ids(session, text="T", limit=2) == [first, elsewhere]
        page = ranking.rows(session, [second, third], first_rank=3)
    assert [(r["rank"], r["item_id"]) for r in page] == [(3, second), (4, third)]


def test_model_weight_orders_within_bucket(db):
    plain = add_item(db, harm_flags=";weapon;", whereabouts="known")
    risky = add_item(db, harm_flags=";weapon;")
    ranking.refresh(db)
    with db.transaction() as session:
        session.execute(update(IntelRank).where(IntelRank.item_id == risky).values(harm_score=0.9))
    with db.transaction() as session:
        assert ranking.queue_ids(session) == [plain, risky]  # weight 0 by default
    with db.transaction() as session:
        assert ranking.queue_ids(session, model_weight=20.0) == [risky, plain]


def test_agenda_capacity_line_and_past_instant(db):
    items = [
        add_item(db, harm_flags=";weapon;", received_at=NOW - timedelta(days=d)) for d in (5, 6, 7)
    ]
    later = add_item(db, campaign="NAT-CARE", received_at=NOW - timedelta(days=1))
    with db.transaction() as session:
        session.execute(
            insert(TaskingOutcome),
            [
                {"item_id": items[0], "meeting_date": date(2026, 11, 18), "decision": "accepted",
                 "decided_at": NOW - timedelta(days=2)},
            ],
        )  # fmt: skip
        session.execute(update(IntelItem).where(IntelItem.id == items[0]).values(status="accepted"))
    with db.transaction() as session:
        now = ranking.agenda(session, region="LSE", team="London North", capacity=2)
        past = ranking.agenda(session, region="LSE", capacity=2, as_of=NOW - timedelta(days=3))
        top = ranking.agenda(session, region="LSE", capacity=2, limit=1)
    assert [(r["item_id"], r["fits"]) for r in now] == [
        (later, True),
        (items[1], True),
        (items[2], False),
    ]
    # Three days earlier: the later item had not arrived and items[0] was still open.
    assert [r["item_id"] for r in past] == items
    assert [r["age_days"] for r in past] == [2, 3, 4]
    assert [r["fits"] for r in past] == [True, True, False]
    assert past[0]["rules_version"] == ranking.pack_in_force().version
    assert [(r["item_id"], r["fits"]) for r in top] == [(later, True)]


def test_refresh_records_version_and_instant(db):
    item = add_item(db)
    run = ranking.refresh(db, as_of=NOW - timedelta(days=5))
    assert run.items == 1 and run.rules_version == load_pack().version
    with db.transaction() as session:
        stored = session.get(IntelRank, item)
    assert (stored.rules_version, stored.as_of, stored.age_days) == (
        run.rules_version,
        run.as_of,
        5,
    )
    assert stored.harm_score is None


def test_rank_intel_cli_json(db, capsys):
    first = add_item(db, campaign="NAT-CARE", intel_id="X-1")
    add_item(db, intel_id="X-2", region="SNI", team="Scotland")
    assert main(["--db", db.location, "rank", "intel", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["intel_id"] for r in out] == ["X-1", "X-2"]
    row = out[0]
    for key in (
        "rank",
        "intel_id",
        "bucket",
        "score",
        "region",
        "age_days",
        "flags",
        "harm_score",
        "rules_version",
    ):
        assert key in row
    assert (row["rank"], row["bucket"], row["region"], row["age_days"], row["flags"]) == (
        1,
        1,
        "LSE",
        10,
        [],
    )
    assert row["harm_score"] is None and row["rules_version"] == load_pack().version
    team = ["--db", db.location, "rank", "intel", "--region", "LSE", "--team", "London North"]
    assert main([*team, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert (row["intel_id"], row["fits"], row["upstream_bucket"]) == ("X-1", True, None)
    assert main([*team[:-1], "Nope"]) == 2
    stored = ranking.refresh(db).as_of
    argv = ["--db", db.location, "rank", "intel", "--region", "Scotland and Northern Ireland"]
    assert main([*argv, "--as-of", "2026-11-15", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # Midnight (UK) on 15 November: X-2 (received 10 Nov 09:00 UTC) was 4.6 days old.
    assert [(r["intel_id"], r["age_days"]) for r in out] == [("X-2", 4)]
    assert main([*argv, "--as-of", "2026-11-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # not received yet
    with db.transaction() as session:  # a past ranking is never stored
        assert {r.as_of for r in session.scalars(select(IntelRank))} == {stored}
    assert first


def test_explain_cli(db, capsys):
    add_item(db, intel_id="X-9", business_name="Mill", persons_estimated=3, harm_flags=";weapon;")
    add_item(db, intel_id="X-8")
    assert main(["--db", db.location, "explain", "intel", "X-9"]) == 0
    text = capsys.readouterr().out
    assert "bucket 4 (B4-threat-flags" in text
    assert "B3-business would need: persons_estimated at least 5 (read persons_estimated=3)" in text
    assert main(["--db", db.location, "explain", "intel", "X-8", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["bucket"], found["why_not_higher"]["bucket"]) == (6, 5)
    assert {c["result"] for c in found["why_not_higher"]["rules"][0]["unmet"]} == {"not evaluated"}
    assert main(["--db", db.location, "explain", "intel", "NOPE"]) == 2


def test_replay_diff(db, tmp_path, capsys):
    care = [
        add_item(db, campaign="NAT-CARE", team="Northern Ireland", region="SNI") for _ in range(4)
    ]
    threats = [
        add_item(db, harm_flags=";weapon;", team="Northern Ireland", region="SNI") for _ in range(3)
    ]
    new = tmp_path / "new"
    shutil.copytree(default_folder(), new)
    text = (new / "campaigns.toml").read_text()
    # End the care campaign: its items drop to bucket 6 and the threats rise above the line.
    (new / "campaigns.toml").write_text(
        text.replace('code = "NAT-CARE"', 'code = "NAT-CARE-OLD"').replace(
            'sectors = ["care"]\nregions = []\nstarts = 2019-01-01\nends = 2030-12-31',
            'sectors = ["care"]\nregions = []\nstarts = 2019-01-01\nends = 2020-12-31',
        )
    )
    result = replay.diff(db, load_pack(), load_pack(new))
    assert result.moved == 4 and result.matrix[1][6] == 4 and result.matrix[4][4] == 3
    line = next(c for c in result.crossings if c.team == "Northern Ireland")
    assert line.capacity == 3
    with db.transaction() as session:
        intel = dict(session.execute(select(IntelItem.id, IntelItem.intel_id)).all())
    assert sorted(line.entered) == sorted(intel[i] for i in threats)
    assert len(line.left) == 3 and set(line.left) <= {intel[i] for i in care}
    assert (
        main(["--db", db.location, "rules", "diff", str(default_folder()), str(new), "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["matrix"]["1"]["6"] == 4 and out["moved"] == 4
    assert out["as_of"].endswith("+00:00")  # UK local time with its offset, as every CLI time


def test_stored_positions_give_the_queue_order(tmp_path, new_database_file):
    from triage.demo.generator import create_demo_database
    from triage.store.db import open_database

    create_demo_database(new_database_file(tmp_path / "demo.sqlite"), intel=400, em=20)
    demo = open_database(tmp_path / "demo.sqlite")
    ranking.refresh(demo)

    def live_order(*conditions):
        return list(
            session.scalars(
                select(IntelRank.item_id)
                .join(IntelItem, IntelItem.id == IntelRank.item_id)
                .where(*conditions)
                .order_by(*ranking._order(0.0))
            )
        )

    with demo.transaction() as session:
        assert ranking.queue_ids(session, include_decided=True) == live_order()
        # Every item has its sort key: minus its score (no model, weight 0).
        keys = session.execute(select(IntelRank.queue_key, IntelRank.score)).all()
        assert keys and all(key == -score for key, score in keys)
        filtered = live_order(
            IntelItem.region == "LSE", IntelRank.bucket.in_([5, 6]), IntelItem.status == "open"
        )
        assert ranking.queue_ids(session, region="LSE", buckets=[5, 6], limit=50) == filtered[:50]
    demo.close()


@pytest.mark.sqlite_only("the plan is SQLite's")
def test_full_refresh_writes_in_item_order_without_sorting(db):
    """The rules' rows come in item id order from the scan: the write sorts
    nothing (a sort of every rank was ~1 s of a 1,000,000-item re-rank), and
    every item is ranked."""
    from sqlalchemy import event

    ids = [add_item(db, received_at=NOW - timedelta(days=n)) for n in range(5)]
    written: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("INSERT INTO intel_rank"):
            written.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        ranking.refresh(db, as_of=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert len(written) == 1
    statement, parameters = written[0]
    with db.engine.connect() as connection:
        connection.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS rank_premises_counts (postcode TEXT, "
            "business_name TEXT, n INTEGER, PRIMARY KEY (postcode, business_name)) WITHOUT ROWID"
        )
        connection.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS rank_subject_counts "
            "(subject_ref TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID"
        )
        plan = [
            row[3]
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    assert "SCAN i" in plan
    assert not [step for step in plan if "TEMP B-TREE" in step], plan
    with db.transaction() as session:
        assert sorted(session.scalars(select(IntelRank.item_id))) == sorted(ids)


@pytest.mark.sqlite_only("an item deleted with SQLite's foreign keys off")
def test_a_full_rerank_drops_the_ranks_of_items_deleted_behind_its_back(db):
    # Only ranks no item has are counted as orphans: with the count off by
    # them, the re-rank deletes them and reports the items it ranked.
    kept, gone = add_item(db), add_item(db)
    assert ranking.refresh(db, as_of=NOW).items == 2
    raw = sqlite3.connect(db.location)  # foreign keys off: nothing cascades
    try:
        with raw:
            raw.execute("DELETE FROM intel_item WHERE id = ?", (gone,))
    finally:
        raw.close()
    assert ranking.refresh(db, as_of=NOW).items == 1
    with db.transaction() as session:
        assert session.scalars(select(IntelRank.item_id)).all() == [kept]
