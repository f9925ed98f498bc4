"""End to end: the demo extracts, imported and ranked, give the published tables exactly."""

from __future__ import annotations

import pytest
from stats_helpers import FIG6, OTHER, TOTALS, assert_figure9_regions

from triage.demo.generator import create_demo_database
from triage.intel import ranking
from triage.stats import em, tasking
from triage.stats.period import Period
from triage.store import dialect
from triage.store.db import open_database


@pytest.fixture(scope="module")
def demo(tmp_path_factory, new_database_file):
    path = new_database_file(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
        patch.setenv("TRIAGE_HOME", str(path.parent / "home"))
        create_demo_database(path)
        db = open_database(path)
        ranking.refresh(db)
        yield db
        db.close()


def test_figure9_from_ranked_demo_data(demo):
    table = tasking.figure9(tasking.compute(demo, Period.resolve()))
    assert_figure9_regions(table.rows[:3])


def test_em_figures_from_demo_data(demo):
    tables = {t.name: t for t in em.tables(demo, Period.resolve())}
    fig6 = tables["figure6"]
    months = [c.key for c in fig6.columns if c.key.startswith("m")]
    busy = [m for m in months if fig6.rows[-1][m]][-6:]
    expected = [*FIG6.values(), OTHER, TOTALS]
    assert [[row[m] for m in busy] for row in fig6.rows] == expected
    fig14 = {r["kind"]: (r["completed"], r["outstanding"]) for r in tables["figure14"].rows}
    # Every cell of ICIBI Figure 14 (1 Sep 2021 - 28 Feb 2022), as completed / outstanding.
    assert fig14 == {
        "EM reviews": (338, 818),
        "EM reviews - ceased/tagging removed/varied": (162, 0),
        "Judicial reviews": (2, 3),
        "Pre-application protocol letters": (16, 3),
        "Representations": (77, 8),
        "TOTAL": (595, 832),
    }
    fig5 = [r["total"] for r in tables["figure5"].rows[:4]]
    assert fig5 == [34, 42, 5, 81]


def test_the_tasking_cube_is_the_same_on_a_sqlite_without_materialized(demo, monkeypatch):
    # SQLite before 3.35 (bullseye's 3.34, in the older-Linux bundle) has no
    # MATERIALIZED keyword: the query runs without the hint, same answer.
    hinted = tasking.compute(demo, Period.resolve())
    monkeypatch.setattr(dialect, "sqlite_version_at_least", lambda _connection, *_version: False)
    with demo.engine.connect() as connection:
        assert dialect.is_postgres(connection) or dialect.materialized(connection) == ""
    plain = tasking.compute(demo, Period.resolve())
    assert plain.cube and plain == hinted
