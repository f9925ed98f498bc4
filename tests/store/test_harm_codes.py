"""The harm model's codes kept with an intelligence item (``harm_codes``,
store.item_values, migration 0019): equal to the SQL that computes them from
the item's columns on every path that writes them (NULL is still allowed:
the harm score computes the codes itself for a row without them)."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

from actors import EVERYONE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from item_values_helpers import assert_kept_right, harm_codes
from sqlalchemy import delete, insert

from triage import vocab
from triage.imports.importer import import_file
from triage.store import item_values
from triage.store.models import IntelItem

NOW = datetime(2026, 11, 20, 9)

INPUTS = st.fixed_dictionaries(
    {
        "source_type": st.none() | st.sampled_from(vocab.SOURCE_TYPES),
        "whereabouts": st.none() | st.sampled_from(vocab.WHEREABOUTS),
        "allegation": st.none() | st.sampled_from(vocab.ALLEGATIONS),
        # Letters outside the grading's and lower case: "any other value".
        "grade_intel": st.none() | st.sampled_from(["A", "B", "E", "b", "Z", "1"]),
        "grade_handling": st.none() | st.sampled_from(["P", "C", "c", "X"]),
        "subject_named": st.none() | st.booleans(),
        "campaign": st.none() | st.sampled_from(["", " ", "C-1"]),
        "business_name": st.none() | st.sampled_from(["", "  ", " Shop ", "x"]),
        "em_case_id": st.none() | st.just("C-9"),
        "harm_flags": st.none()
        | st.lists(st.sampled_from(vocab.HARM_FLAGS), unique=True).map(vocab.join_list),
        "passed_after": st.none()
        | st.sampled_from([timedelta(hours=1), timedelta(hours=48), timedelta(hours=49)]),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(INPUTS, min_size=1, max_size=10))
def test_an_inserted_item_gets_the_codes_its_columns_give(db, items):
    with db.transaction() as session:
        session.execute(delete(IntelItem))
        for n, values in enumerate(items):
            values = dict(values)
            after = values.pop("passed_after")
            received = datetime(2026, 5, 1, 12) + timedelta(minutes=n)
            session.execute(
                insert(IntelItem),
                [
                    {
                        "intel_id": f"H{n}",
                        "received_at": received,
                        "passed_at": None if after is None else received + after,
                        "region": "LSE",
                        "status": "open",
                        "carry_over_count": 0,
                        "created_at": NOW,
                        "updated_at": NOW,
                        **values,
                    }
                ],
            )
    assert assert_kept_right(db) == len(items)  # none NULL, each the SQL's


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FULL = (
    "intel_id,received_at,region,source_type,grading,subject_named,whereabouts,"
    "allegation,harm_flags,campaign,passed_at"
)


def _codes(db) -> dict[int, int | None]:
    with db.engine.connect() as connection:
        return {item: stored for item, stored, _ in harm_codes(connection)}


def test_import_writes_them_and_an_update_computes_them_from_the_stored_row(db, tmp_path):
    first = _write(
        tmp_path / "a.csv",
        FULL,
        "I-1,2026-07-01T10:00,LSE,police,2B P,yes,known,fno,weapon;fno,C-1,2026-07-02T10:00",
        "I-2,2026-07-01T11:00,LSE,,,no,,,,,",
        "I-3,2026-07-01T12:00,LSE,public,1A C,,last_known,other,,,2026-07-09T10:00",
    )
    assert import_file(db, "intel", first, actor=EVERYONE).inserted == 3
    assert assert_kept_right(db) == 3  # every row new: codes written, none NULL
    # The same file again changes nothing (the codes do not differ from themselves).
    again = import_file(db, "intel", first, actor=EVERYONE)
    assert (again.unchanged, again.updated) == (3, 0)
    before = _codes(db)
    # A file without campaign or grading: a new row still gets exact codes
    # (a column it lacks is NULL in it); an updated row's are its stored
    # columns' (the inputs the file lacks kept as they were).
    partial = _write(
        tmp_path / "b.csv",
        "intel_id,received_at,region,whereabouts",
        "I-1,2026-07-01T10:00,LSE,unknown",
        "I-4,2026-07-01T13:00,LSE,known",
    )
    result = import_file(db, "intel", partial, actor=EVERYONE)
    assert (result.inserted, result.updated) == (1, 1)
    updated = _codes(db)[1]
    assert updated is not None and updated != before[1]
    assert assert_kept_right(db) == 4  # none NULL, each the SQL's
    # The file with every input again updates I-1 back to its first codes.
    import_file(db, "intel", first, actor=EVERYONE)
    assert _codes(db)[1] == before[1]
    assert assert_kept_right(db) == 4


def test_the_migrations_own_copy_is_the_live_sql():
    """Migration 0019 fills existing rows with a frozen copy of the SQL; when
    this fails, the change to store.item_values.HARM_CODES (or the vocabulary
    it codes) needs a migration that refills the column."""
    path = Path(item_values.__file__).parent / "migrations/versions/0019_harm_codes.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HARM_CODES_SQL == item_values.harm_codes_sql()


def test_codes_fit_the_column_and_each_input_has_its_own_bits():
    fields = sorted(item_values.HARM_CODES.values(), key=lambda f: f.shift)
    for before, after in zip(fields, fields[1:], strict=False):
        assert before.shift + before.width == after.shift
    assert fields[-1].shift + fields[-1].width <= 31  # PostgreSQL's integer
    for field in fields:
        if field.values:  # NULL, each value and "any other" all fit
            assert len(field.values) + 1 < 1 << field.width


@settings(max_examples=40, deadline=None)
@given(items=st.lists(INPUTS, min_size=0, max_size=30))
def test_the_importers_column_by_column_codes_are_each_rows(items):
    rows = [
        dict(values, harm_flag_bits=item_values.harm_flag_bits(values["harm_flags"]))
        for values in items
    ]
    columns = {
        name: [row[name] for row in rows]
        for name in item_values.HARM_CODE_INPUTS
        if name not in ("passed_within_48h", "em_case_id")  # a column the file lacks
    }
    assert item_values.harm_codes_column(columns, len(rows)) == [
        item_values.harm_codes({**row, "passed_within_48h": None, "em_case_id": None})
        for row in rows
    ]
