"""The EM queue: harm order, workstreams, explanations, escalation ladder."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from actors import EVERYONE, as_user
from em_helpers import NOW, add_case, add_event
from sqlalchemy import func, select

from triage.cli import main as cli
from triage.em import escalation
from triage.em.explain import explain_case
from triage.em.models import EmEscalation
from triage.em.pack import HARM_ORDER, default_pack
from triage.em.queue import build_queue, queue_rows
from triage.store.models import AuditEntry

PACK = default_pack()


def test_harm_order_within_one_kind(db):
    tiers = [
        ("A-eea", {"deportation_category": "eea"}),
        ("B-low", {"harm_level": "low"}),
        ("C-dobreach", {"deportation_category": "do_breach"}),
        ("D-vhigh", {"harm_level": "very_high"}),
        ("E-dwa", {"deportation_category": "dwa"}),
        ("F-medium", {"harm_level": "medium"}),
        ("G-high", {"harm_level": "high"}),
    ]
    with db.transaction() as s:
        for case_id, fields in tiers:
            # Same work for all: an SoS release awaiting a device.
            add_case(
                s,
                case_id,
                em_status="awaiting_fit",
                bail_type="sos",
                bail_granted_at=NOW - timedelta(days=1),
                **fields,
            )
        queue = build_queue(s, as_of=NOW)
    order = [item.harm_tier for item in queue.items]
    assert order == list(HARM_ORDER)
    assert all(item.workstream == "releases" for item in queue.items)
    # Every position below the first is explained against the one above.
    assert queue.items[1].above["why"].startswith("higher priority")


def test_hub_priority_across_workstreams(db):
    with db.transaction() as s:
        add_case(
            s,
            "REL",
            em_status="awaiting_fit",
            bail_type="ij",
            bail_granted_at=NOW - timedelta(hours=80),
            harm_level="low",
        )
        add_case(
            s,
            "OOC",
            harm_level="low",
            fitted_at=NOW - timedelta(days=30),
            last_contact_at=NOW - timedelta(days=7),
        )
        add_case(
            s,
            "BAT",
            harm_level="very_high",
            fitted_at=NOW - timedelta(days=30),
            last_contact_at=NOW,
        )
        add_event(
            s,
            "E1",
            "BAT",
            "battery",
            NOW - timedelta(days=2),
            ended_at=NOW - timedelta(days=2, hours=-1),
        )
        add_case(
            s, "REV", harm_level="high", fitted_at=datetime(2026, 8, 1, 12), last_contact_at=NOW
        )
        add_case(
            s, "JR", harm_level="medium", fitted_at=NOW - timedelta(days=20), last_contact_at=NOW
        )
        add_event(
            s, "E2", "JR", "jr_lodged", NOW - timedelta(days=3), due_at=NOW + timedelta(hours=24)
        )
        queue = build_queue(s, as_of=NOW)
    rows = queue_rows(queue)
    kinds = [(r["case_id"], r["kind"]) for r in rows]
    assert kinds == [
        ("REL", "release_ij"),  # overdue IJ release first: 900 + 30 + 150
        ("OOC", "out_of_contact"),  # exactly 7 x 24 h counts: 850 + 30
        ("JR", "jr_lodged"),  # reply due within 48 h: 760 + 40 + 75
        ("REV", "review"),  # due 1 Nov, overdue
        ("BAT", "battery"),  # low, but never dropped
    ]
    first = rows[0]
    assert first["due_state"] == "overdue" and "overdue" in first["flags"]
    assert first["due_at"] == (NOW - timedelta(hours=8)).isoformat()
    assert set(first) >= {"rank", "case_id", "workstream", "priority", "due_at", "flags"}
    assert [r["rank"] for r in queue_rows(queue, workstream="breaches")] == [1, 2]


def test_out_of_contact_boundary(db):
    with db.transaction() as s:
        add_case(
            s,
            "IN",
            fitted_at=NOW - timedelta(days=30),
            last_contact_at=NOW - timedelta(days=7) + timedelta(seconds=1),
        )
        add_case(
            s, "OUT", fitted_at=NOW - timedelta(days=30), last_contact_at=NOW - timedelta(days=7)
        )
        queue = build_queue(s, as_of=NOW)
    assert [i.case_id for i in queue.items if i.kind == "out_of_contact"] == ["OUT"]


def test_representation_triggers_review_at_once(db):
    with db.transaction() as s:
        add_case(s, "R1", harm_level="low", fitted_at=NOW - timedelta(days=20))
        add_event(
            s,
            "REP",
            "R1",
            "representation_received",
            NOW - timedelta(days=1),
            due_at=NOW + timedelta(days=5),
        )
        queue = build_queue(s, as_of=NOW)
    kinds = {i.kind for i in queue.items}
    assert kinds == {"review_representation", "representation_received"}


def test_escalation_ladder_applied_identically_and_recorded(db):
    with db.transaction() as s:
        add_case(s, "X", harm_level="medium")
        add_case(s, "Y", harm_level="low")
        for n in range(16):
            add_event(s, f"X{n}", "X", "absence_15min", NOW - timedelta(days=40 - n))
        for n in range(4):
            add_event(s, f"Y{n}", "Y", "full_curfew_missed", NOW - timedelta(days=40 - n))
        # 12 h of battery in 7 days counts as one breach for Y: 5 in all.
        for n, hours in enumerate((5, 4, 3)):
            start = NOW - timedelta(days=10 - n)
            add_event(s, f"YB{n}", "Y", "battery", start, ended_at=start + timedelta(hours=hours))
    first = escalation.apply_escalations(db, as_of=NOW)
    again = escalation.apply_escalations(db, as_of=NOW)
    assert (first.warning_letters, first.prosecution_referrals) == (4, 1)  # X: 5,10,15; Y: 5
    assert again.raised == 0
    with db.transaction() as s:
        steps = sorted(
            s.execute(select(EmEscalation.case_id, EmEscalation.step, EmEscalation.breach_count))
        )
        audited = s.execute(
            select(func.count()).where(AuditEntry.action.like("em.escalation.%"))
        ).scalar_one()
        queue = build_queue(s, as_of=NOW)
    assert steps == [
        ("X", "prosecution_referral", 15),
        ("X", "warning_letter", 5),
        ("X", "warning_letter", 10),
        ("X", "warning_letter", 15),
        ("Y", "warning_letter", 5),
    ]
    assert audited == 5
    assert [i.case_id for i in queue.items if i.workstream == "prosecutions"] == ["X"]


def test_ladder_steps_follow_the_pack():
    assert escalation.ladder_steps(4, PACK) == []
    assert escalation.ladder_steps(9, PACK) == [("warning_letter", 5)]
    assert escalation.ladder_steps(15, PACK)[-1] == ("prosecution_referral", 15)


def test_explain_includes_consolidation_and_recommendation(db):
    with db.transaction() as s:
        add_case(
            s,
            "C9",
            harm_level="high",
            sentence_months=30,
            fitted_at=datetime(2026, 9, 1, 10),
            last_review_at=date(2026, 9, 1),
            last_contact_at=NOW,
        )
        for n, hours in enumerate((5, 4, 3, 1)):
            start = NOW - timedelta(days=6 - n)
            add_event(s, f"B{n}", "C9", "battery", start, ended_at=start + timedelta(hours=hours))
    trace = explain_case(db, "C9", as_of=NOW)
    assert trace["battery_events_raw"] == 4
    assert len(trace["consolidated_battery_breaches"]) == 1
    assert trace["consolidated_battery_breaches"][0]["event_ids"] == ["B0", "B1", "B2"]
    assert trace["recommendation"]["device"] == "fitted"
    assert trace["deadlines"]["review_due"] == "2026-12-01"
    kinds = [w["kind"] for w in trace["work"]]
    assert kinds == ["review", "battery_report"]
    assert trace["work"][0]["components"][0]["points"] == PACK.kinds["review"].points


def test_cli_rank_and_explain_json(db, capsys):
    with db.transaction() as s:
        add_case(
            s,
            "K1",
            harm_level="high",
            em_status="awaiting_fit",
            bail_type="ij",
            bail_granted_at=NOW - timedelta(hours=10),
        )
    assert cli.main(["--db", db.location, "rank", "em", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["case_id"] == "K1" and rows[0]["workstream"] == "releases"
    # CLI times are UK local time with their offset (GMT in November).
    assert rows[0]["due_at"] == (NOW + timedelta(hours=62)).isoformat() + "+00:00"
    assert cli.main(["--db", db.location, "explain", "em", "K1", "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    assert "consolidated_battery_breaches" in trace and "recommendation" in trace
    assert trace["as_of"] == NOW.isoformat() + "+00:00"  # with its offset, as every CLI time
    assert cli.main(["--db", db.location, "explain", "em", "NOPE"]) == 2


def test_cli_rank_em_as_of_writes_nothing(db, capsys):
    from triage.store.models import IntelItem

    with db.transaction() as s:
        add_case(s, "L1", region="LSE", harm_level="high", last_contact_at=NOW - timedelta(days=2))
    later = (NOW + timedelta(days=30)).isoformat()
    for command in (["rank", "em", "--as-of", later], ["explain", "em", "L1", "--as-of", later]):
        assert cli.main(["--db", db.location, *command]) == 0
    capsys.readouterr()
    with db.transaction() as s:
        # Out of contact by the later date, but no bridge item received in the future.
        assert s.scalar(select(func.count()).select_from(IntelItem)) == 0


def test_bad_pack_names_file_key_and_problem(tmp_path, db, capsys):
    from triage.em.pack import PackError, load_pack, pack_file

    text = pack_file().read_text(encoding="utf-8")
    broken = tmp_path / "em.toml"
    broken.write_text(text.replace("medium = 40", "medium = 70"), encoding="utf-8")
    try:
        load_pack(broken)
    except PackError as error:
        message = str(error)
    else:
        raise AssertionError("a pack against the harm order was accepted")
    assert str(broken) in message and "priority.harm_points" in message
    missing = tmp_path / "missing.toml"
    missing.write_text(text.replace("ij_release_hours = 72", ""), encoding="utf-8")
    assert cli.main(["--db", db.location, "rank", "em", "--pack", str(missing)]) == 2
    assert "deadlines.ij_release_hours" in capsys.readouterr().err


def test_cli_casework_round_trip(db, capsys):
    with db.transaction() as s:
        # On bail before the EM duty: the three-way rule, so "non-fitted" is advised
        # and, none being available, replaced by a fitted device.
        add_case(
            s,
            "W1",
            harm_level="medium",
            fitted_at=datetime(2026, 8, 1, 12),
            bail_granted_at=datetime(2021, 5, 4, 12),
        )
    base = ["--db", db.location, "em"]
    assert cli.main([*base, "recommend", "W1", "--record"]) == 0
    out = capsys.readouterr().out
    advice = json.loads(out[out.index("{") :])
    assert advice["device"] == "fitted" and "non_fitted_unavailable" in advice["flags"]
    assert (
        cli.main(
            [
                *base,
                "decide",
                "1",
                "--device",
                "fitted",
                "--reason",
                "agree",
            ]
        )
        == 0
    )
    assert "overrides" not in capsys.readouterr().out
    assert cli.main([*base, "review", "W1", "--outcome", "continue", "--on", "2026-11-19"]) == 0
    assert "review of W1 recorded" in capsys.readouterr().out
    with db.transaction() as s:
        queue = build_queue(s, as_of=NOW)
    assert not [i for i in queue.items if i.case_id == "W1" and i.workstream == "reviews"]
    assert cli.main([*base, "deadlines", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["case_id"], r["deadline"], r["state"]) for r in rows] == [
        ("W1", "representation_window", "open")
    ]
    args = [
        "trail",
        "add",
        "W1",
        "--org",
        "police",
        "--requester",
        "DC Lee",
        "--kind",
        "attendance",
        "--ground",
        "absconding",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-08",
    ]
    assert cli.main([*base, *args]) == 0
    assert cli.main([*base, *args[:-4], "--from", "2026-11-09", "--to", "2026-11-08"]) == 2


def test_representation_flagged_against_the_three_day_window(db):
    from triage.em import recommend

    with db.transaction() as s:
        add_case(s, "RW", harm_level="high", fitted_at=NOW - timedelta(days=10))
    rec_id = recommend.record_recommendation(db, "RW", actor=EVERYONE)
    recommend.decide(db, rec_id, em=True, device="fitted", reason="agree", actor=as_user("amy"))
    # decided at NOW; window closes NOW + 3 days
    with db.transaction() as s:
        add_event(s, "IN", "RW", "representation_received", NOW + timedelta(days=3))
        add_event(s, "LATE", "RW", "representation_received", NOW + timedelta(days=3, seconds=1))
        queue = build_queue(s, as_of=NOW + timedelta(days=4))
    flags = {i.ref: i.flags for i in queue.items if i.kind == "representation_received"}
    assert "within_window" in flags["IN"] and "after_window" in flags["LATE"]


def test_csv_rows_write_lists_semicolon_separated(capsys):
    from triage.cli.common import print_rows

    print_rows([{"case_id": "K1", "flags": ["overdue", "strap_tamper"]}], "csv")
    assert capsys.readouterr().out.splitlines() == ["case_id,flags", "K1,overdue;strap_tamper"]


def test_cli_rank_em_ranks_a_new_bridge_item_at_once(db, capsys):
    from triage.intel.models import IntelRank
    from triage.store.models import IntelItem

    with db.transaction() as s:
        add_case(s, "B1", region="SNI", harm_level="high", last_contact_at=NOW - timedelta(days=8))
    assert cli.main(["--db", db.location, "rank", "em", "--format", "json"]) == 0
    capsys.readouterr()
    with db.transaction() as s:
        ranked = s.execute(
            select(IntelItem.intel_id, IntelRank.bucket).join(
                IntelRank, IntelRank.item_id == IntelItem.id
            )
        ).all()
    assert ranked == [("EM-B1", 4)]


def test_cli_rank_em_filters_as_the_app_does(db, capsys):
    from triage.em import claims

    with db.transaction() as s:
        add_case(
            s,
            "K1",
            harm_level="high",
            em_status="awaiting_fit",
            bail_type="ij",
            bail_granted_at=NOW - timedelta(hours=80),
        )
        add_case(s, "K2", harm_level="low", fitted_at=NOW - timedelta(days=200))
    claims.claim(db, "K2", actor=as_user("bob"))
    base = ["--db", db.location, "rank", "em", "--json", "--no-refresh"]

    def cases(*options: str) -> list[tuple[str, int]]:
        assert cli.main([*base, *options]) == 0
        return [(r["case_id"], r["rank"]) for r in json.loads(capsys.readouterr().out)]

    assert cases() == [("K1", 1), ("K2", 2)]
    assert cases("--case", "k2") == [("K2", 2)]  # the rank is kept
    assert cases("--caseworker", "bob") == [("K2", 2)]
    assert cases("--caseworker", "(unclaimed)") == [("K1", 1)]
    assert cases("--harm", "high") == [("K1", 1)]
    assert cases("--due", "overdue") == [("K1", 1), ("K2", 2)]  # release and review overdue
    assert cases("--due", "due_soon") == []
    with pytest.raises(SystemExit) as refused:
        cli.main([*base, "--due", "someday"])
    assert refused.value.code == 2
