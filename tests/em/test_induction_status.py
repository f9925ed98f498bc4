"""induction_status (issue 19.7): a canonical EM-case column, checked on
import, moved out of ``extra`` by migration 0010, read by Figure 5."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from actors import EVERYONE
from alembic import command
from sqlalchemy import select

from triage.imports.importer import import_file
from triage.imports.quarantine import quarantined_rows
from triage.stats import em
from triage.store.db import alembic_config, make_engine, open_database
from triage.store.models import EmCase

HEADER = "case_id,em_status,held_at,bail_type,induction_status\n"


def cases_csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "em_cases.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_figure5_reproduces_the_published_table_from_an_imported_extract(db, tmp_path):
    rows = [f"A{n},awaiting_fit,community,ij,attempted_unsuccessful" for n in range(34)]
    rows += [f"B{n},awaiting_fit,,ij,Not_Attempted_Pending" for n in range(42)]
    rows += [f"C{n},awaiting_fit,community,sos,arranged" for n in range(5)]
    rows += [f"D{n},awaiting_fit,irc,ij," for n in range(10)]
    rows += [f"E{n},awaiting_fit,prison,sos," for n in range(5)]
    rows += ["F1,active,community,ij,fitted"]
    result = import_file(db, "em-cases", cases_csv(tmp_path, rows), actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (97, 0)
    table = em.figure5(db)
    assert [(r["reason"], r["total"]) for r in table.rows] == [
        ("Attempted and unsuccessful", 34),
        ("Not yet attempted - pending", 42),
        ("Pending that have been arranged", 5),
        ("Total requiring a GPS device", 81),
        ("In detention pending fitting (IJ bail)", 10),
        ("In detention pending fitting (SoS bail)", 5),
    ]
    with db.transaction() as session:
        stored = dict(session.execute(select(EmCase.case_id, EmCase.induction_status)).all())
        extras = session.scalars(select(EmCase.extra)).all()
    assert stored["B0"] == "not_attempted_pending" and stored["F1"] == "fitted"
    assert stored["D0"] is None
    assert not any(extra and "induction_status" in extra for extra in extras)


def test_an_unknown_induction_status_is_quarantined_with_its_reason(db, tmp_path):
    path = cases_csv(tmp_path, ["G1,awaiting_fit,community,ij,tagged", "G2,active,,,fitted"])
    result = import_file(db, "em-cases", path, actor=EVERYONE)
    assert (result.inserted, result.quarantined) == (1, 1)
    (row,) = quarantined_rows(db)
    assert row.line_no == 2
    assert row.reason == (
        "induction_status: not one of not_attempted_pending, arranged, "
        "attempted_unsuccessful, fitted"
    )
    assert "tagged" not in row.reason  # the cell is not repeated


def test_migration_0010_moves_known_values_out_of_extra(tmp_path):
    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    command.upgrade(alembic_config(engine), "0009")
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO em_case (case_id, extra, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [
                (
                    "M1",
                    '{"induction_status": "Arranged", "legacy": "x"}',
                    "2026-01-01",
                    "2026-01-01",
                ),
                ("M2", '{"Induction_Status": "fitted"}', "2026-01-01", "2026-01-01"),
                ("M3", '{"induction_status": "tagged"}', "2026-01-01", "2026-01-01"),
                ("M4", None, "2026-01-01", "2026-01-01"),
            ],
        )
    connection.close()
    db = open_database(path)
    try:
        with db.transaction() as session:
            stored = {
                case_id: (status, extra)
                for case_id, status, extra in session.execute(
                    select(EmCase.case_id, EmCase.induction_status, EmCase.extra)
                )
            }
    finally:
        db.close()
    assert stored == {
        "M1": ("arranged", {"legacy": "x"}),
        "M2": ("fitted", None),
        # Not an allowed value: left where the importer would have kept it.
        "M3": (None, {"induction_status": "tagged"}),
        "M4": (None, None),
    }
