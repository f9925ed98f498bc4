"""One statistics report object: built once, released (suppressed) once."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from actors import EVERYONE
from sqlalchemy import select
from stats_helpers import item, load, outcome

from triage.jobs import Cancelled, Job
from triage.stats.period import Period
from triage.stats.report import build_report
from triage.store.models import AuditEntry
from triage.users import Actor, NotPermitted

PERIOD = Period.resolve(date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 20))


@pytest.fixture
def loaded(db):
    rows = [item("SNI", bucket=2, received=datetime(2026, 10, 1, 9)) for _ in range(4)]
    load(db, rows, [outcome(rows[0]["id"], "accepted", date(2026, 10, 8))])
    return db


def figure9_sni(report):
    table = next(t for t in report.tables if t.name == "figure9")
    return next(r for r in table.rows if r["region"] == "Scotland and Northern Ireland")


def test_kinds_pick_the_tables_and_the_lead_comes_first(loaded):
    both = build_report(loaded, PERIOD, title="all", actor=EVERYONE)
    tasking = build_report(loaded, PERIOD, title="tasking", actor=EVERYONE, kind="tasking")
    em = build_report(loaded, PERIOD, title="em", actor=EVERYONE, kind="em")
    # Issue 19.3 and 19.2 added two kinds; every kind's tables, in KINDS order.
    breaches = build_report(loaded, PERIOD, title="b", actor=EVERYONE, kind="breaches")
    levels = build_report(loaded, PERIOD, title="s", actor=EVERYONE, kind="service-levels")
    names = [t.name for t in both.all_tables()]
    assert names[0] == "lead_indicators"
    assert names[1:] == [t.name for r in (tasking, em, breaches, levels) for t in r.tables]
    assert "figure9" in names and "figure6" in names
    with pytest.raises(ValueError, match="unknown statistics kind"):
        build_report(loaded, PERIOD, title="x", actor=EVERYONE, kind="nope")


def test_released_suppresses_small_counts_once_and_says_so(loaded):
    report = build_report(loaded, PERIOD, title="t", actor=EVERYONE, kind="tasking")
    assert figure9_sni(report)["received"] == 4 and report.suppress_below == 0
    released = report.released(10)
    assert released.suppress_below == 10
    assert figure9_sni(released)["received"] == "<10"
    assert figure9_sni(report)["received"] == 4  # the report itself is unchanged


def test_building_reports_progress_and_can_be_cancelled(loaded):
    seen: list[float] = []
    build_report(loaded, PERIOD, title="t", actor=EVERYONE, job=Job(lambda f, _m: seen.append(f)))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled):
        build_report(loaded, PERIOD, title="t", actor=EVERYONE, job=job)


def test_only_roles_that_read_statistics_get_them_and_a_refusal_is_audited(loaded):
    officer = Actor("olive", frozenset({"officer"}))
    with pytest.raises(NotPermitted, match=r"olive \(officer\) may not read the statistics"):
        build_report(loaded, PERIOD, title="t", actor=officer)
    with loaded.sessions() as session:
        refused = session.scalars(
            select(AuditEntry.who).where(AuditEntry.action == "permission.refused")
        ).all()
    assert refused == ["olive"]
    auditor = Actor("aud", frozenset({"auditor"}))
    assert build_report(loaded, PERIOD, title="t", actor=auditor).tables
