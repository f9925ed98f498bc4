"""The demo generator: deterministic, calibrated to the published figures,
messy where real extracts are, and loadable through the real importer.

Counts are computed here from the CSV rows with an independent reading of
the bucket contract, so these tests do not lean on the ranking or stats code.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from triage.cli.main import main
from triage.demo import calibration, extracts
from triage.demo import generator as demo
from triage.jobs import Job
from triage.store.models import EmCase, EmEvent, IntelItem, QuarantinedRow, TaskingOutcome

END = date(2026, 11, 20)


def wall(text: str) -> datetime:
    """The UK wall-clock time a demo cell gives (one in the hour repeated when
    clocks go back carries its offset, as the importer needs)."""
    return datetime.fromisoformat(text).replace(tzinfo=None)


# NAO Figure 9 canonical integers (shared/domain.md §2.1), typed in again on
# purpose rather than read from triage.demo.
FIG9 = {
    ("LSE", "high"): (302, 42, 121),
    ("LSE", "low"): (2616, 1744, 17441),
    ("NMWSW", "high"): (593, 84, 21),
    ("NMWSW", "low"): (2825, 941, 1772),
    ("SNI", "high"): (45, 23, 62),
    ("SNI", "low"): (365, 154, 292),
}
FIG6 = {
    "battery": [314, 498, 670, 966, 1156, 1363],
    "absence_15min": [191, 190, 127, 128, 155, 124],
    "full_curfew_missed": [133, 81, 70, 76, 26, 7],
    "interference_pid": [25, 43, 54, 59, 91, 75],
    "not_available_for_installation": [41, 41, 47, 58, 67, 67],
    "other": [12, 23, 32, 23, 38, 60],
}
REGION_NAMES = {
    "London and South East": "LSE",
    "North, Midlands, Wales and South West": "NMWSW",
    "Scotland and Northern Ireland": "SNI",
}
LOCAL = {
    "LSE": ("LOC-LSE-CARWASH", "car_wash"),
    "NMWSW": ("LOC-NMWSW-NAILBAR", "nail_bar"),
    "SNI": ("LOC-SNI-AGRI", "agriculture"),
}
PRIORITIES = {
    "illegal_working",
    "overstayer",
    "sham_marriage",
    "document_fraud",
    "modern_slavery",
    "clandestine_entry",
}


def contract_bucket(row: dict[str, str]) -> int:
    """The bucket contract (first match; a missing input never matches)."""
    region = REGION_NAMES.get(row["region"], row["region"])
    campaign, sector, allegation = row["campaign"], row["sector"], row["allegation"]
    business = row["business_name"]
    if campaign in {"NAT-CONSTRUCTION", "NAT-CARE", "NAT-CATERING"} or (
        sector in {"construction", "care", "catering"}
        and allegation == "illegal_working"
        and business
    ):
        return 1
    if campaign == LOCAL[region][0] or (sector == LOCAL[region][1] and business):
        return 2
    if business and row["persons_estimated"] and int(row["persons_estimated"]) >= 5:
        return 3
    flags = set(row["harm_flags"].split(";"))
    if flags & {"weapon", "fno", "violence", "organised_crime"} or allegation == "fno":
        return 4
    if row["subject_named"] == "true" and allegation in PRIORITIES:
        return 5
    return 6


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def latest_decisions(outcomes: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    latest: dict[str, dict[str, str]] = {}
    for row in outcomes:
        if (
            row["intel_id"] not in latest
            or row["meeting_date"] > latest[row["intel_id"]]["meeting_date"]
        ):
            latest[row["intel_id"]] = row
    return latest


def figure9(items, outcomes) -> Counter:
    latest = latest_decisions(outcomes)
    cells: Counter = Counter()
    for row in items:
        region = REGION_NAMES.get(row["region"], row["region"])
        group = "high" if contract_bucket(row) <= 4 else "low"
        decision = latest.get(row["intel_id"], {}).get("decision", "not_discussed")
        if decision == "not_discussed":  # explicit record or none: the same
            decision = "not_discussed"
        cells[(region, group, decision)] += 1
    return cells


@pytest.fixture(scope="module")
def default_files(tmp_path_factory):
    """The default-size extracts, written once (about a second)."""
    folder = tmp_path_factory.mktemp("demo-default")
    files = demo.write_demo_files(folder, seed=7, end=END)
    return {kind: read(path) for kind, path in files.paths.items()}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    first = demo.write_demo_files(tmp_path / "a", seed=11, intel=3000, em=300, end=END)
    again = demo.write_demo_files(tmp_path / "b", seed=11, intel=3000, em=300, end=END)
    other = demo.write_demo_files(tmp_path / "c", seed=12, intel=3000, em=300, end=END)
    for kind in extracts.FILE_NAMES:
        assert first.paths[kind].read_bytes() == again.paths[kind].read_bytes(), kind
        assert first.paths[kind].read_bytes() != other.paths[kind].read_bytes(), kind


def test_end_defaults_to_the_pinned_clock(tmp_path):
    files = demo.write_demo_files(tmp_path, intel=50, em=10)
    assert files.end == date(2026, 11, 20)  # TRIAGE_NOW from conftest


def test_every_item_falls_in_its_intended_bucket(default_files):
    items = default_files["intel"]
    blank = 0
    for row in items:
        if row["bucket"]:
            assert int(row["bucket"]) == contract_bucket(row), row["intel_id"]
        else:
            blank += 1
    assert 0.03 < blank / len(items) < 0.07
    assert set(Counter(contract_bucket(r) for r in items)) == {1, 2, 3, 4, 5, 6}


def test_figure9_latest_decision_counts_are_exact_at_default_size(default_files):
    cells = figure9(default_files["intel"], default_files["outcomes"])
    for (region, group), expected in FIG9.items():
        got = tuple(cells[(region, group, d)] for d in ("accepted", "rejected", "not_discussed"))
        assert got == expected, (region, group)
    assert len(default_files["intel"]) == 29443


def test_not_discussed_is_mixed_and_latest_decision_wins(default_files):
    by_item = defaultdict(list)
    for row in default_files["outcomes"]:
        by_item[row["intel_id"]].append(row)
    decided_after_waiting = sum(
        1
        for rows in by_item.values()
        if len(rows) > 1
        and max(rows, key=lambda r: r["meeting_date"])["decision"] != "not_discussed"
    )
    explicit_only = sum(
        1 for rows in by_item.values() if {r["decision"] for r in rows} == {"not_discussed"}
    )
    undecided_without_record = len(default_files["intel"]) - len(by_item)
    assert decided_after_waiting > 100
    assert explicit_only > 1000
    assert undecided_without_record > 1000


def test_other_sizes_scale_by_largest_remainder(tmp_path):
    files = demo.write_demo_files(tmp_path, intel=5000, em=100, end=END)
    items, outcomes = read(files.paths["intel"]), read(files.paths["outcomes"])
    assert len(items) == 5000
    cells = figure9(items, outcomes)
    for (region, group), counts in FIG9.items():
        for decision, count in zip(("accepted", "rejected", "not_discussed"), counts, strict=True):
            assert abs(cells[(region, group, decision)] - count * 5000 / 29443) < 1, (region, group)
    assert calibration.largest_remainder([1, 1, 1], 10) == [4, 3, 3]
    assert sum(calibration.largest_remainder([5, 3, 2.5], 7)) == 7


def test_history_is_consistent_and_rejections_have_reasons(default_files):
    items = {r["intel_id"]: r for r in default_files["intel"]}
    reasons = Counter()
    for row in default_files["outcomes"]:
        item = items[row["intel_id"]]
        meeting = date.fromisoformat(row["meeting_date"])
        assert meeting > wall(item["received_at"]).date()
        assert meeting < END
        assert row["decided_by"]
        if row["decision"] == "rejected":
            assert row["reason"], row
            reasons[row["reason"]] += 1
        if row["result"]:
            assert row["decision"] == "accepted"
            assert meeting <= date.fromisoformat(row["result_at"]) < END
    assert set(reasons) == {
        "insufficient_detail",
        "stale",
        "out_of_area",
        "duplicate",
        "no_capacity",
        "not_workable",
        "referred_elsewhere",
    }


def test_arrests_and_removals_are_seven_to_ten_percent_of_accepted(default_files):
    latest = latest_decisions(default_files["outcomes"])
    results = Counter(r["result"] for r in latest.values() if r["decision"] == "accepted")
    accepted = sum(results.values())
    share = (results["arrest"] + results["removal"]) / accepted
    assert 0.07 <= share <= 0.10
    assert results[""] > 0  # some accepted tasks are not actioned yet


def test_the_signal_reads_features_but_never_protected_attributes(default_files):
    rows = default_files["intel"][:2000]
    rng = random.Random(3)
    nationalities = [r["nationality"] for r in rows]
    rng.shuffle(nationalities)
    for row, other in zip(rows, nationalities, strict=True):
        before = calibration.harm_probability(row, age_days=10, corroborated=False)
        changed = dict(row, nationality=other, gender="female")
        assert calibration.harm_probability(changed, age_days=10, corroborated=False) == before
    base = {
        "harm_flags": "",
        "allegation": "overstayer",
        "whereabouts": "unknown",
        "grading": "3D P",
        "persons_estimated": "1",
        "subject_named": "false",
    }
    strong = dict(base, harm_flags="weapon", whereabouts="known", grading="1A P")
    assert calibration.harm_probability(
        strong, age_days=5, corroborated=True
    ) > 4 * calibration.harm_probability(base, age_days=90, corroborated=False)


def test_the_signal_is_visible_in_the_results(default_files):
    items = {r["intel_id"]: r for r in default_files["intel"]}
    latest = latest_decisions(default_files["outcomes"])
    shown = defaultdict(lambda: [0, 0])
    for intel_id, row in latest.items():
        if row["decision"] != "accepted" or not row["result"]:
            continue
        where = items[intel_id]["whereabouts"] or "missing"
        shown[where][0] += row["result"] in {"arrest", "removal", "referral"}
        shown[where][1] += 1
    rate = {k: hit / n for k, (hit, n) in shown.items()}
    assert rate["known"] > 1.8 * rate["unknown"]


def test_the_mess_real_extracts_have(default_files):
    items = default_files["intel"]
    late = [
        r
        for r in items
        if r["passed_at"] and wall(r["passed_at"]) - wall(r["received_at"]) > timedelta(hours=48)
    ]
    assert 0.12 < len(late) / len(items) < 0.18
    subjects = Counter(r["subject_ref"] for r in items if r["subject_ref"])
    premises = Counter(
        (r["business_name"], r["postcode"]) for r in items if r["business_name"] and r["postcode"]
    )
    assert sum(1 for n in subjects.values() if n > 1) > 200
    assert sum(1 for n in premises.values() if n > 1) > 50
    for column in ("team", "grading", "whereabouts", "postcode", "source_type", "passed_at"):
        assert any(not r[column] for r in items), column
    assert any(r["region"] == "London and South East" for r in items)  # full names too
    assert {"source_system", "legacy_ref"} <= set(items[0])
    assert all(wall(r["received_at"]).date() < END for r in items)
    oldest = min(wall(r["received_at"]) for r in items)
    assert oldest >= datetime(2026, 1, 20)


def test_em_caseload_matches_figures_1_2_3_5_and_14(default_files):
    cases = default_files["em-cases"]
    statuses = Counter(c["em_status"] for c in cases)
    assert len(cases) == 1732 and statuses["active"] == 1622
    assert {c["device"] for c in cases} <= {"fitted", "none"}  # no non-fitted devices (Fig 11)
    awaiting = Counter(c["induction_status"] for c in cases if c["em_status"] == "awaiting_fit")
    assert awaiting == {"attempted_unsuccessful": 34, "not_attempted_pending": 42, "arranged": 5}
    genders = Counter(c["gender"] for c in cases)
    assert genders["female"] == 31 and genders["male"] == 1621
    nationalities = Counter(c["nationality"] for c in cases)
    assert (
        nationalities["ALB"] == 465 and nationalities["JAM"] == 106 and nationalities["PRT"] == 41
    )
    bail = Counter(c["bail_type"] for c in cases)
    assert 0.75 < bail["ij"] / len(cases) < 0.85

    overdue = 0
    for case in cases:
        if case["em_status"] != "active":
            continue
        fitted = wall(case["fitted_at"]).date()
        base = (
            max(fitted, date.fromisoformat(case["last_review_at"]))
            if case["last_review_at"]
            else fitted
        )
        # 3 calendar months on, clamped to the month's end, written out longhand.
        month = base.month + 3
        year, month = base.year + (month - 1) // 12, (month - 1) % 12 + 1
        last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        due = date(year, month, min(base.day, last_day))
        assert abs((due - END).days) >= 2  # never on the boundary
        overdue += due < END
    assert overdue == 818
    lost = [
        c
        for c in cases
        if c["em_status"] == "active" and wall(c["last_contact_at"]) <= datetime(2026, 11, 13)
    ]
    assert len(lost) == round(1622 * 0.03)


def test_review_due_clamps_to_the_month_end():
    assert calibration.review_due(date(2025, 11, 30), None) == date(2026, 2, 28)
    assert calibration.review_due(date(2025, 11, 30), date(2026, 1, 15)) == date(2026, 4, 15)


def test_em_breaches_reproduce_figure6_per_month(default_files):
    months = [m.isoformat()[:7] for m in calibration.breach_months(END)]
    assert months == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    pivot: Counter = Counter()
    for event in default_files["em-events"]:
        kind = event["event_type"]
        if kind in {"representation_received", "pap_received", "jr_lodged", "contact_made"}:
            continue
        pivot[(kind if kind in FIG6 else "other", event["started_at"][:7])] += 1
    for kind, counts in FIG6.items():
        assert [pivot[(kind, m)] for m in months] == counts, kind
    assert sum(pivot.values()) == 7131


def test_em_events_are_consistent_with_their_cases(default_files):
    cases = {c["case_id"]: c for c in default_files["em-cases"]}
    legal = Counter()
    for event in default_files["em-events"]:
        case = cases[event["case_id"]]
        started = wall(event["started_at"])
        assert started < datetime(2026, 11, 20)
        if event["event_type"] == "battery":
            assert case["fitted_at"] and wall(case["fitted_at"]) <= started
            assert wall(event["ended_at"]) > started
        if event["due_at"]:
            legal[(event["event_type"], bool(event["responded_at"]))] += 1
            if event["responded_at"]:  # answered inside the six months
                assert datetime(2026, 5, 1) <= started
                assert started < wall(event["responded_at"]) < datetime(2026, 11, 1)
        if case["last_contact_at"] and event["event_type"] != "contact_made":
            assert started <= wall(case["last_contact_at"])
    assert legal == {
        ("representation_received", True): 77,
        ("representation_received", False): 8,
        ("pap_received", True): 16,
        ("pap_received", False): 3,
        ("jr_lodged", True): 2,
        ("jr_lodged", False): 3,
    }


def test_battery_accumulation_saves_about_three_quarters(default_files):
    battery = pytest.importorskip("triage.em.battery")
    periods = defaultdict(list)
    for event in default_files["em-events"]:
        if event["event_type"] == "battery":
            periods[event["case_id"]].append(
                (
                    wall(event["started_at"]),
                    wall(event["ended_at"]),
                )
            )
    raw = sum(len(p) for p in periods.values())
    reports = sum(len(battery.consolidate_battery(p)) for p in periods.values())
    assert raw == 4967
    assert 0.70 <= 1 - reports / raw <= 0.80


def test_demo_database_loads_through_the_importer_without_quarantine(tmp_path):
    seen: list[float] = []
    summary = demo.create_demo_database(
        tmp_path / "demo.sqlite", intel=2000, em=150, end=END, job=Job(lambda f, _m: seen.append(f))
    )
    assert all(r["quarantined"] == 0 for r in summary.imported.values())
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 5
    from triage.store.db import open_database

    db = open_database(tmp_path / "demo.sqlite")
    try:
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(IntelItem)) == 2000
            assert session.scalar(select(func.count()).select_from(EmCase)) == 150
            assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
            events = session.scalar(select(func.count()).select_from(EmEvent))
            assert events == summary.imported["em-events"]["inserted"] > 0
            outcomes = session.scalar(select(func.count()).select_from(TaskingOutcome))
            assert outcomes == summary.imported["outcomes"]["inserted"]
            statuses = dict(
                session.execute(
                    select(IntelItem.status, func.count()).group_by(IntelItem.status)
                ).all()
            )
            late = session.scalar(select(func.count()).where(IntelItem.passed_at.is_not(None)))
    finally:
        db.close()
    expected = {d: sum(round_cells) for d, round_cells in _decisions(2000).items()}
    assert statuses == {
        "accepted": expected["accepted"],
        "rejected": expected["rejected"],
        "open": expected["not_discussed"],
    }
    assert late > 1900


def _decisions(n: int) -> dict[str, list[int]]:
    out = defaultdict(list)
    for (_region, _group, decision), count in calibration.fig9_counts(n).items():
        out[decision].append(count)
    return out


def test_cli_demo_writes_files_and_prints_a_summary(tmp_path, capsys):
    code = main(
        [
            "--db",
            str(tmp_path / "cli.sqlite"),
            "demo",
            "--intel",
            "300",
            "--em",
            "40",
            "--end",
            "2026-06-30",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "intel" in printed and "outcomes" in printed and "intel_items.csv" in printed
    header = (tmp_path / "out" / "intel_items.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:19] == [
        "intel_id",
        "received_at",
        "region",
        "team",
        "source_type",
        "grading",
        "subject_named",
        "subject_ref",
        "nationality",
        "whereabouts",
        "postcode",
        "business_name",
        "sector",
        "persons_estimated",
        "allegation",
        "harm_flags",
        "campaign",
        "bucket",
        "summary",
    ]
    assert math.isclose(len(read(tmp_path / "out" / "intel_items.csv")), 300)


def test_tiny_sizes_still_work(tmp_path):
    files = demo.write_demo_files(tmp_path, intel=7, em=3, end=END)
    items, outcomes = read(files.paths["intel"]), read(files.paths["outcomes"])
    assert len(items) == 7
    assert all(date.fromisoformat(o["meeting_date"]) < END for o in outcomes)


def test_the_rules_engine_puts_items_in_their_intended_buckets(tmp_path, new_database_file):
    ranking = pytest.importorskip("triage.intel.ranking")
    from triage.intel.models import IntelRank
    from triage.store.db import open_database

    path = new_database_file(tmp_path / "rank.sqlite")
    demo.create_demo_database(path, intel=3000, em=50, end=END)
    db = open_database(path)
    try:
        ranking.refresh(db)
        with db.transaction() as session:
            pairs = session.execute(
                select(IntelRank.bucket, IntelItem.upstream_bucket).join(
                    IntelItem, IntelItem.id == IntelRank.item_id
                )
            ).all()
            answered = session.scalar(select(func.count()).where(EmEvent.responded_at.is_not(None)))
    finally:
        db.close()
    assert len(pairs) == 3000
    assert all(bucket == upstream for bucket, upstream in pairs if upstream is not None)
    assert answered > 0  # the responded_at extension column is imported
