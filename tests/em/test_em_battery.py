"""Accumulated battery breaches: the rolling 12 h / 7 day consolidation."""

from __future__ import annotations

from datetime import datetime, timedelta

from em_helpers import add_case, add_event

from triage.em.battery import battery_saving, consolidate_battery

T0 = datetime(2026, 11, 1, 8, 0)
H = timedelta(hours=1)
D = timedelta(days=1)


def period(start, hours):
    return (start, start + hours * H)


def test_three_periods_inside_seven_days_make_one_report():
    periods = [period(T0, 5), period(T0 + 2 * D, 4), period(T0 + 5 * D, 3)]
    reports = consolidate_battery(periods)
    assert len(reports) == 1
    assert reports[0].periods == (0, 1, 2)
    assert reports[0].hours == 12


def test_last_period_eight_days_after_first_makes_none():
    periods = [period(T0, 5), period(T0 + 2 * D, 4), period(T0 + 8 * D, 3)]
    assert consolidate_battery(periods) == []


def test_just_under_threshold_makes_none():
    periods = [
        period(T0, 5),
        period(T0 + D, 4),
        (T0 + 2 * D, T0 + 2 * D + 3 * H - timedelta(seconds=1)),
    ]
    assert consolidate_battery(periods) == []


def test_consumed_periods_are_not_reused():
    # 12 h then 6 h then 6 h: the first report consumes only the first period.
    periods = [period(T0, 12), period(T0 + D, 6), period(T0 + 2 * D, 6)]
    reports = consolidate_battery(periods)
    assert [r.periods for r in reports] == [(0,), (1, 2)]


def test_window_edge_is_inclusive_of_seven_days():
    # Second period ends exactly 7 days after the first ended (its extent reaches the window).
    periods = [period(T0, 6), (T0 + 7 * D, T0 + 7 * D + 6 * H)]
    assert len(consolidate_battery(periods)) == 1
    periods = [
        period(T0, 6),
        (T0 + 7 * D + timedelta(seconds=1), T0 + 7 * D + 6 * H + timedelta(seconds=1)),
    ]
    assert consolidate_battery(periods) == []


def test_unordered_input_and_open_periods():
    periods = [period(T0 + 5 * D, 3), (T0 + 6 * D, None), period(T0, 5), period(T0 + 2 * D, 4)]
    reports = consolidate_battery(periods)
    assert len(reports) == 1 and set(reports[0].periods) == {0, 2, 3}


def test_saving_counts_every_raw_event(db):
    with db.transaction() as s:
        add_case(s, "C1")
        add_case(s, "C2")
        for n, (start, hours) in enumerate(
            [(T0, 5), (T0 + D, 4), (T0 + 2 * D, 3), (T0 + 20 * D, 2)]
        ):
            add_event(s, f"B1-{n}", "C1", "battery", start, ended_at=start + hours * H)
        add_event(s, "B2-0", "C2", "battery", T0, ended_at=T0 + H)
    with db.transaction() as s:
        saving = battery_saving(s)
    assert (saving.raw_events, saving.consolidated_reports, saving.saved) == (5, 1, 4)
    assert saving.saving_ratio == 0.8


def test_an_episode_counts_by_its_whole_extent_not_its_start():
    # 11 h, then 3 h starting six days after the first ended (over seven days
    # after it started): one consolidated report of 14 h.
    first = period(T0, 11)
    second = period(T0 + 11 * H + 6 * D, 3)
    reports = consolidate_battery([first, second])
    assert len(reports) == 1
    assert reports[0].periods == (0, 1) and reports[0].hours == 14
    # Wholly outside the window: the first episode ended over seven days before.
    late = period(T0 + 11 * H + 7 * D + H, 3)
    assert consolidate_battery([first, late]) == []


def test_duplicate_notifications_count_once(db):
    from triage.em.battery import battery_by_case

    with db.transaction() as s:
        add_case(s, "B1")
        add_event(s, "E1", "B1", "battery", T0, ended_at=T0 + 7 * H)
        add_event(s, "E1-again", "B1", "battery", T0, ended_at=T0 + 7 * H)
        add_event(s, "E2", "B1", "battery", T0 + D, ended_at=T0 + D + 4 * H)
    with db.transaction() as s:
        view = battery_by_case(s)["B1"]
        saving = battery_saving(s)
    # 7 h + 4 h = 11 h: under the threshold once the repeat is counted once.
    assert view.event_ids == ("E1", "E2") and view.duplicates == ("E1-again",)
    assert view.reports == ()
    assert (saving.raw_events, saving.duplicates) == (2, 1)
