"""Demo data is never quarantined, whatever the seed and end date: its local
times read back in the order they were made across the clock changes (15.20)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage import clock
from triage.demo import extracts
from triage.demo import generator as demo
from triage.store.db import open_database


def test_a_time_in_the_spring_gap_is_written_as_the_moment_clocks_changed():
    assert extracts.stamp(datetime(2026, 3, 29, 1, 33)) == "2026-03-29T02:00:00"
    assert extracts.stamp(datetime(2026, 3, 29, 0, 59)) == "2026-03-29T00:59:00"


def test_a_time_in_the_autumn_repeat_carries_its_first_offset():
    assert extracts.stamp(datetime(2026, 10, 25, 1, 20)) == "2026-10-25T01:20:00+01:00"
    # Whatever fold a wall time carries (hypothesis found fold=1 written bare).
    assert extracts.stamp(datetime(2027, 10, 31, 1, 0, fold=1)) == "2027-10-31T01:00:00+01:00"
    assert extracts.stamp(datetime(2026, 10, 25, 2, 20)) == "2026-10-25T02:20:00"


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=50)),
)
def test_stamps_read_back_in_the_order_they_were_made(first, gap):
    earlier = clock.parse_datetime(extracts.stamp(first))
    later = clock.parse_datetime(extracts.stamp(first + gap))
    assert earlier <= later


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    # One database for every seed, to keep the 50 runs quick: a row already
    # there is updated, and every row still goes through every check.
    database = open_database(tmp_path_factory.mktemp("seeds") / "demo.sqlite")
    yield database
    database.close()


@pytest.mark.parametrize("seed", range(50))
def test_no_demo_row_is_quarantined_for_any_seed_and_end_date(shared_db, tmp_path, seed):
    # End dates spread over two years, so each run crosses clock changes at
    # a different distance from its end.
    end = date(2026, 1, 3) + timedelta(days=seed * 14 + seed % 7)
    files = demo.write_demo_files(tmp_path, seed=seed, intel=60, em=12, end=end)
    imported = demo.load_demo_files(shared_db, files)
    assert {kind: r["quarantined"] for kind, r in imported.items()} == {
        "intel": 0,
        "em-cases": 0,
        "em-events": 0,
        "outcomes": 0,
    }
