"""Recommendation, claims, the ICE bridge and the trail-data register."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from actors import EVERYONE, add_users, as_user
from em_helpers import NOW, add_case
from sqlalchemy import func, select

from triage.cli import main as cli
from triage.em import bridge, claims, recommend, trail
from triage.em.pack import default_pack
from triage.store.models import AuditEntry, EmCase, IntelItem

PACK = default_pack()
NFD = dataclasses.replace(PACK, non_fitted_available=True)


def advise(pack=PACK, **fields):
    args = {
        "harm_level": None,
        "deportation_category": None,
        "sentence_months": None,
        "breaches": 0,
        "vulnerabilities": [],
        "existing_cohort": True,  # the ¶5.51 cohort, where the three prongs apply
    }
    args.update(fields)
    return recommend.recommend(pack=pack, **args)


def test_three_prongs_with_non_fitted_available():
    low = advise(NFD, harm_level="low", sentence_months=6)
    assert (low.em, low.device, low.minimum_months) == (False, "none", None)
    assert advise(NFD, harm_level="medium").device == "non_fitted"
    assert advise(NFD, harm_level="low", breaches=3).device == "non_fitted"
    assert advise(NFD, harm_level="very_high").device == "fitted"
    assert advise(NFD, harm_level="low", breaches=10).device == "fitted"
    # A long sentence raises the harm band by one.
    assert advise(NFD, harm_level="medium", sentence_months=48).device == "fitted"
    assert advise(NFD, deportation_category="eea").device == "none"


def test_never_non_fitted_when_unavailable():
    for fields in (
        {"harm_level": "medium"},
        {"harm_level": "low", "breaches": 2},
        {"harm_level": "very_high", "vulnerabilities": ["medical"]},
        {"deportation_category": "dwa", "breaches": 5},
    ):
        advice = advise(PACK, **fields)
        assert advice.device != "non_fitted", fields
    medium = advise(PACK, harm_level="medium")
    assert medium.device == "fitted" and "needs_human_review" in medium.flags
    assert medium.minimum_months == PACK.minimum_months["medium"]


def test_vulnerability_and_unknown_harm_go_to_a_human():
    assert (
        "needs_human_review" in advise(PACK, harm_level="high", vulnerabilities=["medical"]).flags
    )
    assert (
        advise(NFD, harm_level="medium", breaches=10, vulnerabilities=["disability"]).device
        == "non_fitted"
    )
    assert "needs_human_review" in advise(PACK).flags


def test_no_harm_level_is_not_evaluated_and_keeps_em_never_an_exemption():
    # Low compliance risk and nothing else known used to give "exemption, no device".
    for pack in (PACK, NFD):
        for cohort in (True, False, None):
            advice = advise(pack, sentence_months=6, existing_cohort=cohort)
            assert advice.as_json()["outcome"] == "not_evaluated"
            assert (advice.em, advice.device) == (True, "fitted")
            assert "needs_human_review" in advice.flags
            assert any("not evaluated, needs human review" in r for r in advice.reasons)


def test_three_way_rule_only_for_the_existing_bail_cohort():
    existing = advise(NFD, harm_level="low", sentence_months=6)
    assert existing.device == "none" and existing.as_json()["outcome"] == "exemption"
    released = advise(NFD, harm_level="low", sentence_months=6, existing_cohort=False)
    assert (released.em, released.device, released.as_json()["outcome"]) == (True, "fitted", "em")
    assert any("existing-bail cohort only" in r for r in released.reasons)
    assert "needs_human_review" not in released.flags
    unknown = advise(NFD, harm_level="medium", existing_cohort=None)
    assert unknown.device == "fitted" and "needs_human_review" in unknown.flags
    assert any("bail date unknown" in r for r in unknown.reasons)


def test_cohort_read_from_the_stored_bail_date(db):
    with db.transaction() as s:
        add_case(s, "OLD", harm_level="low", bail_granted_at=datetime(2021, 6, 1, 10))
        add_case(s, "NEW", harm_level="low", bail_granted_at=datetime(2021, 8, 31, 10))
    with db.transaction() as s:
        assert recommend.recommend_case(s, "OLD", PACK).device == "none"
        assert recommend.recommend_case(s, "NEW", PACK).device == "fitted"


def test_decision_recorded_separately_and_override_reported(db):
    with db.transaction() as s:
        add_case(s, "D1", harm_level="high")
    rec_id = recommend.record_recommendation(db, "D1", actor=EVERYONE)
    with pytest.raises(ValueError, match="reason"):
        recommend.decide(db, rec_id, em=True, device="fitted", reason=" ", actor=as_user("amy"))
    assert recommend.decide(
        db, rec_id, em=False, device="none", reason="convention rights", actor=as_user("amy")
    )
    with pytest.raises(ValueError, match="already decided"):
        recommend.decide(db, rec_id, em=True, device="fitted", reason="again", actor=as_user("amy"))
    with db.transaction() as s:
        rows = recommend.overrides(s)
    assert [(r["case_id"], r["recommended"]["device"], r["decided"]["device"]) for r in rows] == [
        ("D1", "fitted", "none")
    ]


def test_second_claim_refused_naming_the_holder(db, capsys, monkeypatch):
    with db.transaction() as s:
        add_case(s, "K1")
    add_users(db, "bob", roles=("em-caseworker",))
    monkeypatch.setenv("TRIAGE_PASSWORD", "pw")
    claims.claim(db, "K1", actor=as_user("alice"))
    claims.claim(db, "K1", actor=as_user("alice"))  # again by the holder: no change
    with pytest.raises(claims.ClaimError, match="already claimed by alice"):
        claims.claim(db, "K1", actor=as_user("bob"))
    with pytest.raises(claims.ClaimError, match="claimed by alice, not bob"):
        claims.release(db, "K1", actor=as_user("bob"))
    assert cli.main(["--db", db.location, "--user", "bob", "em", "claim", "K1"]) == 1
    assert "already claimed by alice" in capsys.readouterr().err
    claims.release(db, "K1", actor=as_user("alice"))
    claims.claim(db, "K1", actor=as_user("bob"))
    assert claims.holder(db, "K1")[0] == "bob"


def test_claim_is_atomic_across_connections(db, tmp_path):
    # Two separate Database objects (as two processes would have) race for it.
    from triage.store.db import open_database

    with db.transaction() as s:
        add_case(s, "K2")
    other = open_database(db.location)
    try:
        claims.claim(other, "K2", actor=as_user("carol"))
        with pytest.raises(claims.ClaimError, match="carol"):
            claims.claim(db, "K2", actor=as_user("dan"))
    finally:
        other.close()


def test_claims_at_the_same_moment_from_many_machines_one_wins(db):
    import threading

    from triage.store.db import open_database

    with db.transaction() as s:
        add_case(s, "K3")
    machines = [open_database(db.location) for _ in range(6)]
    start, won, refused = threading.Barrier(len(machines)), [], []

    def claim(n: int) -> None:
        start.wait()
        try:
            claims.claim(machines[n], "K3", actor=as_user(f"worker{n}"))
            won.append(f"worker{n}")
        except claims.ClaimError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(machines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for machine in machines:
        machine.close()
    assert len(won) == 1 and len(refused) == len(machines) - 1
    assert all(f"already claimed by {won[0]}" in message for message in refused)
    assert claims.holder(db, "K3")[0] == won[0]


def test_bridge_creates_exactly_one_item_and_reports_contact(db):
    with db.transaction() as s:
        add_case(
            s, "OUT1", region="NMWSW", person_ref="P1", last_contact_at=NOW - timedelta(days=8)
        )
        add_case(s, "OUT2", region=None, last_contact_at=NOW - timedelta(days=9))
        add_case(s, "IN1", region="LSE", last_contact_at=NOW - timedelta(days=6))
    runs = [bridge.sync_bridge(db, as_of=NOW) for _ in range(3)]
    assert [r.created for r in runs] == [1, 0, 0]
    assert runs[0].without_region == 1
    with db.transaction() as s:
        items = s.execute(select(IntelItem)).scalars().all()
        assert len(items) == 1
        item = items[0]
        assert (item.intel_id, item.em_case_id, item.region) == ("EM-OUT1", "OUT1", "NMWSW")
        assert item.harm_flags == ";fno;" and item.extra["em_bridge"] == "true"
        assert item.extra["em_contact"] == "out_of_contact"
        from triage.store.models import EmCase

        s.execute(
            EmCase.__table__.update()
            .where(EmCase.case_id == "OUT1")
            .values(last_contact_at=NOW - timedelta(hours=1))
        )
    back = bridge.sync_bridge(db, as_of=NOW)
    assert (back.created, back.back_in_contact) == (0, 1)
    assert bridge.sync_bridge(db, as_of=NOW).back_in_contact == 0
    with db.transaction() as s:
        item = s.execute(select(IntelItem)).scalar_one()
        assert item.extra["em_contact"] == "back_in_contact"
        assert "back in contact" in item.summary
        actions = (
            s.execute(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("em.bridge.%"))
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    # Back in contact closes the undecided item (issue 19.10), audited as well.
    assert actions == ["em.bridge.create", "em.bridge.back_in_contact", "em.bridge.close"]
    # Contact lost again a week later: the same item says so, no second item.
    later = NOW + timedelta(days=8)
    again = bridge.sync_bridge(db, as_of=later)
    assert (again.created, again.lost_again) == (1, 1)  # IN1 is now 14 days out
    with db.transaction() as s:
        linked = s.execute(
            select(IntelItem.em_case_id, func.count()).group_by(IntelItem.em_case_id)
        ).all()
    assert sorted(linked) == [("IN1", 1), ("OUT1", 1)]


def test_bridge_run_for_an_earlier_instant_changes_nothing_later(db):
    with db.transaction() as s:
        add_case(s, "OUT1", region="LSE", last_contact_at=NOW - timedelta(days=8))
    bridge.sync_bridge(db, as_of=NOW)
    # A view as of a month ago (rank em --as-of) saw the case in contact then:
    # it must not mark today's item "back in contact", nor flip it again later.
    past = bridge.sync_bridge(db, as_of=NOW - timedelta(days=30))
    assert (past.back_in_contact, past.lost_again) == (0, 0)
    assert bridge.sync_bridge(db, as_of=NOW).lost_again == 0
    with db.transaction() as s:
        item = s.execute(select(IntelItem)).scalar_one()
        assert item.extra["em_contact"] == "out_of_contact"
        assert "back in contact" not in item.summary


def test_bridge_does_not_audit_an_item_it_cannot_create(db, tmp_path):
    from triage.imports.importer import import_file

    extract = tmp_path / "intel.csv"
    extract.write_text("intel_id,received_at,region\nEM-OUT1,2026-11-01,LSE\n")
    import_file(db, "intel", extract, actor=EVERYONE)
    with db.transaction() as s:
        add_case(s, "OUT1", region="LSE", last_contact_at=NOW - timedelta(days=8))
    assert [bridge.sync_bridge(db, as_of=NOW).created for _ in range(2)] == [0, 0]
    with db.transaction() as s:
        created = s.scalar(select(func.count()).where(AuditEntry.action == "em.bridge.create"))
    assert created == 0


def test_trail_register_requires_ground_and_period(db):
    with db.transaction() as s:
        add_case(s, "T1")
    base = {
        "case_id": "T1",
        "requester_org": "police",
        "requester": "DC Smith",
        "kind": "trail_monitoring",
        "ground": "absconding",
        "period_from": NOW - timedelta(days=3),
        "period_to": NOW,
        "actor": as_user("amy"),
    }
    with pytest.raises(trail.TrailRequestError, match="DPIA"):
        trail.register_request(db, **{**base, "ground": "curiosity"})
    with pytest.raises(trail.TrailRequestError, match="specified period"):
        trail.register_request(db, **{**base, "period_to": None})
    with pytest.raises(trail.TrailRequestError, match="after it ends"):
        trail.register_request(db, **{**base, "period_from": NOW + timedelta(days=1)})
    ids = [trail.register_request(db, **base) for _ in range(3)]
    ids.append(
        trail.register_request(db, **{**base, "kind": "attendance", "requester_org": "probation"})
    )
    trail.record_outcome(db, ids[0], "provided", actor=as_user("amy"))
    trail.record_outcome(db, ids[1], "rejected_too_broad", actor=as_user("amy"))
    trail.record_outcome(db, ids[3], "withdrawn", actor=as_user("amy"))
    stats = trail.figure9(db)
    rows = {r["outcome"]: r for r in stats["rows"]}
    assert rows["Data provided"]["trail_monitoring"] == 1
    assert rows["Rejected – too broad in scope"]["total"] == 1
    assert rows["Request withdrawn"]["attendance"] == 1
    assert rows["TOTAL"] == {"outcome": "TOTAL", "attendance": 1, "trail_monitoring": 2, "total": 3}
    assert stats["awaiting_outcome"] == 1 and stats["rejected_in_full"] == 1


def test_figure9_reproduces_the_published_table(db):
    published = {
        ("provided", "attendance"): 2,
        ("provided", "trail_monitoring"): 22,
        ("partial", "trail_monitoring"): 2,
        ("rejected_insufficient_justification", "trail_monitoring"): 1,
        ("rejected_other", "attendance"): 1,
        ("rejected_other", "trail_monitoring"): 5,
        ("rejected_too_broad", "trail_monitoring"): 2,
        ("withdrawn", "attendance"): 1,
    }
    with db.transaction() as s:
        add_case(s, "F9")
    for (outcome, kind), n in published.items():
        for _ in range(n):
            rid = trail.register_request(
                db,
                case_id="F9",
                requester_org="police",
                requester="x",
                kind=kind,
                ground="breach_of_bail_conditions",
                period_from=NOW - timedelta(days=1),
                period_to=NOW,
                actor=as_user("t"),
            )
            trail.record_outcome(db, rid, outcome, actor=as_user("t"))
    rows = trail.figure9(db)["rows"]
    assert [(r["attendance"], r["trail_monitoring"], r["total"]) for r in rows] == [
        (2, 22, 24),
        (0, 2, 2),
        (0, 1, 1),
        (1, 5, 6),
        (0, 2, 2),
        (1, 0, 1),
        (4, 32, 36),
    ]
    assert trail.figure9(db)["rejected_in_full"] == 9  # "25% ... rejected in their entirety"


def test_bridge_summary_names_the_packs_out_of_contact_limit(db):
    ten_days = dataclasses.replace(PACK, out_of_contact_hours=240)
    with db.transaction() as s:
        add_case(s, "OUT1", region="LSE", last_contact_at=NOW - timedelta(days=11))
    assert bridge.sync_bridge(db, as_of=NOW, pack=ten_days).created == 1
    with db.transaction() as s:
        assert "(10 days or more)" in s.execute(select(IntelItem.summary)).scalar_one()


def test_review_ceased_ends_monitoring_and_clears_its_work(db):
    from em_helpers import add_event

    from triage import clock
    from triage.em import casework
    from triage.em.queue import build_queue

    now = clock.now()
    with db.transaction() as s:
        add_case(
            s, "C1", harm_level="high", em_status="active", fitted_at=now - timedelta(days=400)
        )
        add_event(s, "E1", "C1", "absence_15min", now - timedelta(days=2))
    with db.transaction() as s:
        kinds = {item.kind for item in build_queue(s).items if item.case_id == "C1"}
    assert any(kind.startswith("review") for kind in kinds)
    assert len(kinds) == 2  # the overdue review and the breach

    casework.complete_review(db, "C1", outcome="ceased", actor=as_user("amy"))
    with db.transaction() as s:
        case = s.execute(select(EmCase).where(EmCase.case_id == "C1")).scalar_one()
        assert case.em_status == "ceased"
        assert not [item for item in build_queue(s).items if item.case_id == "C1"]
        changes = s.execute(
            select(AuditEntry.field, AuditEntry.new_value).where(AuditEntry.entity_id == "C1")
        ).all()
    assert ("em_status", "ceased") in changes
