"""The per-item values kept with an intelligence item (store.item_values,
migration 0016) equal what statistics and harm scoring computed per row in
SQL before, on every path that writes an item."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from actors import EVERYONE
from alembic import command
from em_helpers import add_case
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from item_values_helpers import assert_kept_right, stored
from sqlalchemy import delete, insert, text
from sqlalchemy.exc import IntegrityError

from triage import vocab
from triage.demo import generator
from triage.em import bridge
from triage.imports.importer import import_file
from triage.store import item_values
from triage.store.db import alembic_config, open_database
from triage.store.models import IntelItem
from triage.sync.copy import copy_database

NOW = datetime(2026, 11, 20, 9)


def _item(n: int, received: datetime, **values) -> dict:
    return {
        "intel_id": f"V{n}",
        "received_at": received,
        "region": "LSE",
        "status": "open",
        "carry_over_count": 0,
        "created_at": NOW,
        "updated_at": NOW,
        **values,
    }


# Instants around UK midnight and the clock changes, where the UK day and the
# UTC day differ; pass-on delays around the 48-hour line, to the microsecond.
RECEIVED = st.one_of(
    st.datetimes(datetime(1990, 1, 1), datetime(2040, 12, 31)),
    st.builds(
        lambda day, minute: datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute),
        st.dates(date(2019, 1, 1), date(2027, 12, 31)),
        st.integers(22 * 60, 25 * 60),
    ),
)
DELAY = st.one_of(
    st.timedeltas(timedelta(0), timedelta(days=5)),
    st.sampled_from([timedelta(hours=48) + timedelta(microseconds=d) for d in (-1, 0, 1, 999)]),
)
SECTOR = st.text(alphabet=" aZq_-9é", max_size=30)
FLAGS = st.lists(st.sampled_from(vocab.HARM_FLAGS), unique=True).map(vocab.join_list)
ITEM = st.tuples(RECEIVED, st.none() | DELAY, st.none() | SECTOR, st.none() | FLAGS)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(ITEM, min_size=1, max_size=12))
@example(items=[(datetime(2026, 3, 29, 0, 59, 59, 999999), timedelta(hours=48), " Care ", "")])
@example(items=[(datetime(2026, 10, 24, 23, 0), None, None, ";fno;weapon;")])
def test_an_inserted_item_gets_the_values_computed_the_old_way(db, items):
    """Any insert(IntelItem) that leaves the values out gets them from the
    row's own values (the column defaults): equal to the old SQL's."""
    with db.transaction() as session:
        session.execute(delete(IntelItem))
        for n, (received, delay, sector, flags) in enumerate(items):
            passed = None if delay is None else received + delay
            session.execute(
                insert(IntelItem),
                [_item(n, received, passed_at=passed, sector=sector, harm_flags=flags)],
            )
    assert assert_kept_right(db) == len(items)


def test_received_uk_day_is_the_uk_calendar_day():
    assert item_values.received_uk_day(datetime(1970, 1, 1, 12)) == 0
    # 23:30 UTC in summer is 00:30 the next day in London; in winter it is not.
    assert (
        item_values.received_uk_day(datetime(2026, 7, 1, 23, 30))
        == (date(2026, 7, 2) - date(1970, 1, 1)).days
    )
    assert (
        item_values.received_uk_day(datetime(2026, 1, 1, 23, 30))
        == (date(2026, 1, 1) - date(1970, 1, 1)).days
    )


def _write(path: Path, header: str, *lines: str) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


HEADER = "intel_id,received_at,region,sector,harm_flags,passed_at"


def test_import_writes_and_updates_them(db, tmp_path):
    first = _write(
        tmp_path / "a.csv",
        HEADER,
        # 23:30 UK time in summer is 22:30 UTC; passed on 48 hours later exactly.
        "I-1,2026-07-01T23:30,LSE,Construction ,weapon;fno,2026-07-03T23:30",
        "I-2,2026-01-10T09:00,LSE,,,2026-01-12T09:00:01",
        "I-3,2026-03-29T00:30,SNI,care,,",
    )
    import_file(db, "intel", first, actor=EVERYONE)
    assert assert_kept_right(db) == 3
    with db.engine.connect() as connection:
        assert [tuple(r)[1:] for r in stored(connection)][:2] == [
            ((date(2026, 7, 1) - date(1970, 1, 1)).days, 1, "construction", 0b11),
            ((date(2026, 1, 10) - date(1970, 1, 1)).days, 0, None, None),
        ]
    # Changed values are changed with them.
    changed = _write(
        tmp_path / "b.csv",
        HEADER,
        "I-1,2026-07-02T10:00,LSE,Retail,violence,2026-07-05T10:00",
        "I-2,2026-01-10T09:00,LSE,Care,,2026-01-11T09:00",
        "I-3,2026-03-29T00:30,SNI,care,,",
    )
    import_file(db, "intel", changed, actor=EVERYONE)
    # (An update leaves the harm codes NULL: tests/store/test_harm_codes.py.)
    assert assert_kept_right(db, codes_may_be_null=True) == 3
    # A file without passed_at moves I-2's receipt: its stored pass-on time,
    # now more than 48 hours after, decides; sector and flags stay as they are.
    without = _write(tmp_path / "c.csv", "intel_id,received_at,region", "I-2,2026-01-08T09:00,LSE")
    import_file(db, "intel", without, actor=EVERYONE)
    assert assert_kept_right(db, codes_may_be_null=True) == 3
    with db.engine.connect() as connection:
        assert tuple(stored(connection)[1])[2:] == (0, "care", None)


def test_the_em_bridge_item_gets_them(db):
    with db.transaction() as session:
        add_case(
            session,
            "OC1",
            region="LSE",
            harm_level="high",
            last_contact_at=NOW - timedelta(days=10),
        )
    assert bridge.sync_bridge(db, as_of=NOW).created == 1
    assert assert_kept_right(db) == 1


def test_demo_data_its_copies_and_a_database_copy_keep_them(db, tmp_path):
    generator.fill_database(db, intel=300, em=20, end=date(2026, 11, 19))
    assert assert_kept_right(db) >= 300
    assert generator.copy_items(db, 700) == 700
    assert assert_kept_right(db) == 700
    target = open_database(tmp_path / "copy.sqlite")
    try:
        copy_database(db, target, actor=EVERYONE)
        assert assert_kept_right(target) == 700
    finally:
        target.close()


def test_the_migration_fills_existing_items(db):
    """Items written before 0016 get their values when it runs (downgrade to
    0015, write items without the columns, upgrade)."""
    config = alembic_config(db.engine)
    command.downgrade(config, "0015")
    received = datetime(2026, 6, 30, 23, 15, 0, 250)
    with db.engine.begin() as connection:
        for n, (passed, sector, flags) in enumerate(
            [
                (received + timedelta(hours=48), " Nail_Bar ", ";drugs;fno;"),
                (received + timedelta(hours=48, microseconds=1), None, ""),
                (None, "care", None),
            ]
        ):
            connection.execute(
                text(
                    "INSERT INTO intel_item (intel_id, received_at, passed_at, region, sector, "
                    "harm_flags, status, carry_over_count, created_at, updated_at) VALUES "
                    "(:i, :r, :p, 'LSE', :s, :f, 'open', 0, :now, :now)"
                ),
                {"i": f"M{n}", "r": received, "p": passed, "s": sector, "f": flags, "now": NOW},
            )
    command.upgrade(config, "head")
    assert assert_kept_right(db) == 3
    with db.engine.connect() as connection:
        assert [tuple(r)[2:] for r in stored(connection)] == [
            (1, "nail_bar", 0b10000010),
            (0, None, 0),
            (None, "care", None),
        ]


def _migration_0016():
    path = Path(item_values.__file__).parent / "migrations/versions/0016_item_values.py"
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=200, deadline=None)
@given(item=ITEM)
@example(item=(datetime(1800, 1, 1, 0, 0, 30), None, None, None))
def test_the_migrations_own_copy_is_the_live_computation(item):
    """Migration 0016 fills existing rows with a frozen copy of the
    computation (a later change must not alter what it wrote). While the live
    one is unchanged the two agree; when this fails, the change to
    store.item_values or vocab.HARM_FLAGS needs a migration that refills the
    columns, and this test then holds that migration's copy instead."""
    migration = _migration_0016()
    assert migration.HARM_FLAGS == vocab.HARM_FLAGS
    received, delay, sector, flags = item
    passed = None if delay is None else received + delay
    stored_text = received.isoformat(" ", "microseconds")
    passed_text = None if passed is None else passed.isoformat(" ", "microseconds")
    assert migration.uk_day(stored_text) == item_values.received_uk_day(received)
    assert migration.within_48h(stored_text, passed_text) == item_values.passed_within_48h(
        received, passed
    )
    assert migration.sector_key(sector) == item_values.sector_key(sector)
    assert migration.flag_bits(flags) == item_values.harm_flag_bits(flags)


@pytest.mark.parametrize("received", [datetime(2026, 7, 1, 23, 30), datetime(1800, 1, 1, 0, 0, 30)])
def test_the_fast_path_agrees_with_the_time_zone(received):
    """Before 22:00 UTC since 1848 the UK date is the UTC date; otherwise the
    time-zone data decides (London was behind UTC before 1848)."""
    from triage import clock

    expected = (clock.to_local(received).date() - date(1970, 1, 1)).days
    assert item_values.received_uk_day(received) == expected


def test_an_item_without_a_receipt_time_is_refused_by_the_table(db):
    """The defaults do not get in the way of the table's own refusal."""
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(insert(IntelItem), [_item(1, None)])


def test_an_update_moving_both_times_keeps_the_files_own_48_hour_answer(db, tmp_path):
    """Receipt and pass-on time both move and the answer stays 'later than 48
    hours': the file's new pass-on time decides, not the stored one."""
    first = _write(tmp_path / "a.csv", HEADER, "I-1,2026-01-01T09:00,LSE,,,2026-01-04T09:00")
    import_file(db, "intel", first, actor=EVERYONE)
    moved = _write(tmp_path / "b.csv", HEADER, "I-1,2026-01-02T09:00,LSE,,,2026-01-06T13:00")
    import_file(db, "intel", moved, actor=EVERYONE)
    # Received 2 Jan, passed 6 Jan: not within 48 hours (the old pass-on
    # time, 4 Jan, is exactly 48 hours after the new receipt).
    assert assert_kept_right(db, codes_may_be_null=True) == 1
    with db.engine.connect() as connection:
        assert tuple(stored(connection)[0])[2] == 0


def test_the_store_models_do_not_load_numpy():
    # The models import item_values, and every start (the app's launch, any
    # CLI command) imports the models: numpy there cost 60-120 ms a start.
    code = "import sys, triage.store.models; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
