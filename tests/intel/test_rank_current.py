"""The stored ranking knows when it is stale, and readers bring it up to date
through ``ranking.ensure_current``: after an import, a decision, a rule-pack or
model change, a new day or a new model weight; and not otherwise."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
from actors import EVERYONE
from meeting_fixtures import REGION, TEAM, add_items, standard_items
from sqlalchemy import event, insert, select, text, update

from triage import clock
from triage.cli.main import main as cli
from triage.intel import ranking
from triage.intel.models import IntelRank
from triage.meetings import operations as meetings
from triage.store.models import IntelItem


def test_nothing_changed_means_no_re_rank_and_one_query(db):
    standard_items(db, 10)
    assert not ranking.is_current(db)
    run = ranking.ensure_current(db)
    assert run is not None and run.items == 11
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert ranking.is_current(db)
    assert len(statements) == 1 and "rank_state" in statements[0]
    assert ranking.ensure_current(db) is None


@pytest.mark.postgresql  # on SQLite the ranking's write lock keeps other writers out
def test_a_change_committed_while_ranking_is_ranked_next_time(db):
    standard_items(db, 10)
    ranking.ensure_current(db)
    changed = []

    def change_an_item_meanwhile(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("DELETE FROM rank_change") and not changed:
            changed.append(True)
            with db.engine.begin() as other:  # another session commits mid-ranking
                other.execute(update(IntelItem).where(IntelItem.id == 1).values(allegation="other"))

    event.listen(db.engine, "before_cursor_execute", change_an_item_meanwhile)
    ranking.refresh(db)
    event.remove(db.engine, "before_cursor_execute", change_an_item_meanwhile)
    assert changed and not ranking.is_current(db)  # its change is still logged
    run = ranking.ensure_current(db)
    assert run is not None and run.items >= 1 and ranking.is_current(db)
    assert ranking.explain(db, 1)["stored"]["same_as_trace"]


@pytest.mark.postgresql  # on SQLite one writer at a time: ids commit in order
def test_an_item_committed_after_a_ranking_of_a_higher_id_is_ranked_next_time(db):
    standard_items(db, 10)
    ranking.ensure_current(db)
    add_items(db, [{"intel_id": "INT-MAKES-STALE"}])  # stale: no lock taken below
    row = {
        "region": REGION,
        "team": TEAM,
        "status": "open",
        "carry_over_count": 0,
        "received_at": clock.now(),
        "created_at": clock.now(),
        "updated_at": clock.now(),
    }
    with db.engine.connect() as slow_import:
        slow_import.execute(insert(IntelItem).values(intel_id="INT-EARLY-ID", **row))
        early_id = slow_import.execute(
            select(IntelItem.id).where(IntelItem.intel_id == "INT-EARLY-ID")
        ).scalar_one()
        (late_id,) = add_items(db, [{"intel_id": "INT-LATE-ID"}])  # commits first
        assert late_id > early_id
        ranking.ensure_current(db)  # ranks the later id
        slow_import.commit()  # the earlier id lands after the ranking
    assert not ranking.is_current(db)
    ranking.ensure_current(db)
    with db.engine.connect() as connection:
        ranked = set(connection.execute(select(IntelRank.item_id)).scalars())
    assert {early_id, late_id} <= ranked


def test_each_change_the_ranking_reads_makes_it_stale(db, monkeypatch):
    standard_items(db, 10)
    ranking.ensure_current(db)

    def stale_then_current(weight: float = 0.0) -> bool:
        stale = not ranking.is_current(db, model_weight=weight)
        ranking.ensure_current(db, model_weight=weight)
        return stale and ranking.is_current(db, model_weight=weight)

    add_items(db, [{"intel_id": "NEW-1", "allegation": "other"}])  # an import
    assert stale_then_current()
    meeting_id = meetings.start_meeting(
        db,
        region=REGION,
        team=TEAM,
        held_on=date(2026, 11, 20),
        capacity=2,
        actor=EVERYONE,
    )
    assert ranking.is_current(db)  # starting a meeting changes no item
    with db.sessions() as session:
        first = meetings.agenda(session, meeting_id)[0]
    meetings.decide(
        db, meeting_id=meeting_id, item_id=first.item_id, decision="accepted", actor=EVERYONE
    )
    assert stale_then_current()
    with db.transaction() as session:  # a harm model registered (or switched on/off)
        session.execute(
            text(
                "INSERT INTO harm_model (id, path, sha256, classifier, manifest, evaluation, "
                "created_by, created_at, active) VALUES ('m1', 'm1.skops', :sha, 'logistic', "
                "'{}', '{}', 'tester', '2026-11-20 09:00:00', false)"
            ),
            {"sha": "0" * 64},
        )
    assert stale_then_current()
    monkeypatch.setenv("TRIAGE_NOW", "2026-11-21T00:30:00")  # the day changed (UK time)
    assert stale_then_current()
    assert stale_then_current(weight=0.5)  # the user's model weight changed
    other_pack = dataclasses.replace(ranking.pack_in_force(), version="another-version")
    assert not ranking.is_current(db, pack=other_pack, model_weight=0.5)
    # Ranked as of another instant, the stored ranks are not today's.
    ranking.refresh(db, as_of=ranking.clock.now().replace(year=2026, month=6))
    assert not ranking.is_current(db)


def test_stats_right_after_an_import_gives_each_item_its_bucket(db, tmp_path, capsys):
    extract = tmp_path / "intel.csv"
    extract.write_text(
        "intel_id,received_at,region,team,allegation,campaign,sector,summary\n"
        "IMP-1,2026-11-02T10:00:00,LSE,London North,illegal_working,NAT-CONSTRUCTION,"
        "construction,one\n"
        "IMP-2,2026-11-03T10:00:00,LSE,London North,other,,,two\n",
        encoding="utf-8",
    )
    path = db.location
    assert cli(["--db", path, "import", "intel", str(extract)]) == 0
    capsys.readouterr()
    argv = ["--db", path, "stats", "tasking", "--from", "2026-11-01", "--to", "2026-11-20"]
    assert cli([*argv, "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["region"] == REGION]
    # Before, both items were "No bucket" (unbucketed) until `rank intel` had run.
    per_group = {r["group"]: r["available"] for r in rows if r["group"] != "bucket"}
    assert per_group == {"high": 1, "low": 1}
    per_bucket = {r["bucket"]: r["available"] for r in rows if r["group"] == "bucket"}
    assert per_bucket[1] == 1 and per_bucket[6] == 1
    assert ranking.is_current(db)
