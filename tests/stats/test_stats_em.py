"""EM statistics: ICIBI Figure 6 exactly, consolidated battery beside it, Figures 14 and 5."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import insert
from stats_helpers import FIG6, OTHER, TOTALS

from triage.em.models import EmReview
from triage.stats import em
from triage.stats.period import Period
from triage.store.models import EmCase, EmEvent

NOW = datetime(2026, 11, 20, 9)
MONTHS = [(2021, 9), (2021, 10), (2021, 11), (2021, 12), (2022, 1), (2022, 2)]
OTHER_TYPES = ["partial_curfew_missed", "strap_tamper", "ac_power_loss", "location_breach"]
_events = itertools.count(1)


def case(case_id: str, **extra) -> dict:
    return {"case_id": case_id, "created_at": NOW, "updated_at": NOW, **extra}


def event(case_id: str, kind: str, start: datetime, end: datetime | None = None, **extra) -> dict:
    return {
        "event_id": f"E{next(_events)}",
        "case_id": case_id,
        "event_type": kind,
        "started_at": start,
        "ended_at": end,
        "created_at": NOW,
        **extra,
    }


def load(db, cases, events, reviews=()):
    with db.transaction() as session:
        session.execute(insert(EmCase), cases)
        if events:
            session.execute(insert(EmEvent), events)
        if reviews:
            session.execute(insert(EmReview), list(reviews))


FIG6_PERIOD = Period.resolve(date(2021, 9, 1), date(2022, 2, 28), as_of=date(2022, 3, 1))


def build_figure6(db) -> None:
    cases = [case(f"C{n}") for n in range(400)]
    events = []
    for kind, counts in [*FIG6.items(), ("other", OTHER)]:
        for (year, month), count in zip(MONTHS, counts, strict=True):
            for k in range(count):
                start = datetime(year, month, 1 + k % 28, 11, 0) + timedelta(minutes=k % 50)
                chosen = OTHER_TYPES[k % len(OTHER_TYPES)] if kind == "other" else kind
                # Short battery periods, each case's at least a day apart: none consolidate.
                end = start + timedelta(minutes=20) if chosen == "battery" else None
                events.append(event(f"C{k % 400}", chosen, start, end))
    # Case events are not breaches; an event outside the period is not counted.
    events.append(event("C1", "representation_received", datetime(2021, 10, 5, 10)))
    events.append(event("C1", "battery", datetime(2022, 3, 1, 10), datetime(2022, 3, 1, 11)))
    load(db, cases, events)


def test_figure6_reproduced_exactly(db):
    build_figure6(db)
    table = em.tables(db, FIG6_PERIOD)[0]
    months = [f"m{y:04d}-{m:02d}" for y, m in MONTHS]
    assert [c.key for c in table.columns] == ["breach_type", *months, "total", "total_consolidated"]
    by_label = {row["breach_type"]: row for row in table.rows}
    expected = dict(zip([label for _, label in em.FIG6_ROWS], FIG6.values(), strict=True))
    expected[em.OTHER] = OTHER
    expected[em.TOTAL] = TOTALS
    assert list(by_label) == [*expected]
    for label, counts in expected.items():
        assert [by_label[label][m] for m in months] == counts, label
        assert by_label[label]["total"] == sum(counts)
    assert by_label[em.TOTAL]["total"] == 7131
    assert by_label["Battery breach"]["total"] == 4967
    # No battery period here reaches 12 hours in 7 days: nothing consolidates.
    assert by_label["Battery breach"]["total_consolidated"] == 0
    assert by_label[em.TOTAL]["total_consolidated"] == 7131 - 4967


def test_consolidated_battery_beside_the_raw_view(db):
    t0 = datetime(2021, 10, 4, 8)
    load(
        db,
        [case("A"), case("B")],
        [
            # 5 h + 4 h + 3 h within 7 days: one consolidated report.
            event("A", "battery", t0, t0 + timedelta(hours=5)),
            event("A", "battery", t0 + timedelta(days=2), t0 + timedelta(days=2, hours=4)),
            event("A", "battery", t0 + timedelta(days=5), t0 + timedelta(days=5, hours=3)),
            # The same, but the last period 8 days after the first: none.
            event("B", "battery", t0, t0 + timedelta(hours=5)),
            event("B", "battery", t0 + timedelta(days=2), t0 + timedelta(days=2, hours=4)),
            event("B", "battery", t0 + timedelta(days=8), t0 + timedelta(days=8, hours=3)),
        ],
    )
    tables = {t.name: t for t in em.tables(db, FIG6_PERIOD)}
    battery = tables["figure6"].rows[0]
    assert (battery["m2021-10"], battery["total"], battery["total_consolidated"]) == (6, 6, 1)
    monthly = {r["month"]: r for r in tables["battery_consolidated"].rows}
    assert monthly["2021-10"] == {"month": "2021-10", "raw_events": 6, "consolidated_reports": 1}
    assert monthly["Total"]["raw_events"] == 6


def test_figure14_layout_and_cells(db):
    as_of = date(2022, 2, 28)
    period = Period.resolve(date(2021, 9, 1), date(2022, 2, 28), as_of=as_of)
    cases = [
        # Fitted 30 Jun 2021, never reviewed: due 30 Sep 2021, overdue.
        case("R1", em_status="active", fitted_at=datetime(2021, 6, 30, 10)),
        # Reviewed 15 Jan 2022: due 15 Apr 2022, not overdue.
        case(
            "R2",
            em_status="active",
            fitted_at=datetime(2021, 6, 1, 10),
            last_review_at=date(2022, 1, 15),
        ),
        # Due 28 Feb 2022 (30 Nov + 3 months, clamped): due on the as-of day, not overdue.
        case("R3", em_status="active", last_review_at=date(2021, 11, 30)),
        # Ceased cases have no review due.
        case("R4", em_status="ceased", fitted_at=datetime(2020, 1, 1, 10)),
    ]
    reviews = [
        {
            "case_id": "R2",
            "completed_on": date(2022, 1, 15),
            "trigger": "scheduled",
            "outcome": "continue",
            "completed_by": "t",
            "recorded_at": NOW,
        },
        {
            "case_id": "R3",
            "completed_on": date(2021, 11, 30),
            "trigger": "scheduled",
            "outcome": "continue",
            "completed_by": "t",
            "recorded_at": NOW,
        },
        {
            "case_id": "R4",
            "completed_on": date(2021, 12, 1),
            "trigger": "representation",
            "outcome": "ceased",
            "completed_by": "t",
            "recorded_at": NOW,
        },
        {
            "case_id": "R4",
            "completed_on": date(2021, 8, 31),
            "trigger": "scheduled",
            "outcome": "varied",
            "completed_by": "t",
            "recorded_at": NOW,
        },  # before the period
    ]
    day = datetime(2021, 12, 1, 10)
    events = [
        event("R1", "jr_lodged", day, responded_at=day + timedelta(days=3)),
        event("R1", "jr_lodged", day),
        event("R2", "pap_received", day, responded_at=datetime(2022, 3, 5, 10)),  # after as-of
        event("R2", "representation_received", day, responded_at=day + timedelta(days=1)),
        event("R3", "representation_received", datetime(2022, 3, 2, 10)),  # after as-of
    ]
    load(db, cases, events, reviews)
    table = em.figure14(db, period)
    assert [c.title for c in table.columns] == ["", "Completed", "Outstanding"]
    cells = {r["kind"]: (r["completed"], r["outstanding"]) for r in table.rows}
    assert cells == {
        "EM reviews": (2, 1),
        "EM reviews - ceased/tagging removed/varied": (1, 0),
        "Judicial reviews": (1, 1),
        "Pre-application protocol letters": (0, 1),
        "Representations": (1, 0),
        "TOTAL": (5, 3),
    }


def test_figure5_awaiting_device(db):
    cases = [
        case(
            f"W{n}",
            em_status="awaiting_fit",
            held_at="community",
            induction_status=status,
        )
        for n, status in enumerate(
            ["attempted_unsuccessful"] * 3 + ["not_attempted_pending"] * 4 + ["arranged"] * 2
        )
    ]
    cases += [
        case("D1", em_status="awaiting_fit", held_at="irc", bail_type="ij"),
        case("D2", em_status="awaiting_fit", held_at="prison", bail_type="sos"),
        case("D3", em_status="active", held_at="community", induction_status="arranged"),
    ]
    load(db, cases, [])
    rows = [(r["reason"], r["total"]) for r in em.figure5(db).rows]
    assert rows == [
        ("Attempted and unsuccessful", 3),
        ("Not yet attempted - pending", 4),
        ("Pending that have been arranged", 2),
        ("Total requiring a GPS device", 9),
        ("In detention pending fitting (IJ bail)", 1),
        ("In detention pending fitting (SoS bail)", 1),
    ]


def test_region_filter(db):
    load(
        db,
        [case("L1", region="LSE"), case("S1", region="SNI")],
        [
            event("L1", "absence_15min", datetime(2021, 9, 10, 10)),
            event("S1", "absence_15min", datetime(2021, 9, 11, 10)),
            event("S1", "absence_15min", datetime(2021, 9, 12, 10)),
        ],
    )
    table = em.tables(db, FIG6_PERIOD, region="SNI")[0]
    assert table.rows[1]["m2021-09"] == 2
